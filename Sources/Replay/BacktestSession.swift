import BacktestReport
import CTickBus
import Feed
import Strategy
import TickBusCore

#if canImport(Glibc)
import Glibc
#endif

/// A whole `tickbus backtest --out DIR` run: the loop with paper trading built from the strategy
/// and the execution file, the driver (`Backtest`), the outputs (`BacktestOutputs`), progress.
///
/// `DIR/journal` holds ring `decisions.<name>` in the live format (`journal cat`, `replay
/// --verify-decisions` and the drift monitor read it as they read a live session's).
public enum BacktestSession {
    public struct Options: Sendable {
        public var source: SourceSpec
        public var out: String
        public var name: String
        public var settings: ExecutionSettings
        public var horizonNs: Int64 = 1_000_000_000
        public var slotSize = DecisionLayout.defaultSlotSize
        /// sha256 of every input, by name (report.json `inputs`).
        public var inputs: [String: String] = [:]
        /// Progress every this many market messages.
        public var progressEvery: UInt64 = 1 << 20
        public init(source: SourceSpec, out: String, name: String, settings: ExecutionSettings) {
            self.source = source
            self.out = out
            self.name = name
            self.settings = settings
        }
    }

    public struct Result: Sendable {
        public var summary: Backtest.Summary
        public var report: BacktestReport
        public var html: String
        /// The last line `tickbus backtest` prints (a contract: key=value pairs).
        public var line: String {
            "messages=\(summary.messages) decisions=\(summary.decisions) orders=\(report.orders) "
                + "fills=\(report.fills) filled_shares=\(report.filledShares) pnl=\(Self.money(report.pnl)) "
                + "fees=\(Self.money(report.fees)) max_drawdown=\(Self.money(report.maxDrawdown)) "
                + "seconds=\(Self.fixed3(summary.seconds)) report=\(html)"
        }
        static func money(_ x: Double) -> String {
            let cents = (x * 100).rounded()
            let sign = cents < 0 ? "-" : ""
            let a = Int64(abs(cents))
            let c = a % 100
            return "\(sign)\(a / 100).\(c < 10 ? "0" : "")\(c)"
        }
        static func fixed3(_ x: Double) -> String {
            let m = Int64((x * 1000).rounded())
            let r = m % 1000
            return "\(m / 1000)." + String(repeating: "0", count: r < 10 ? 2 : r < 100 ? 1 : 0) + "\(r)"
        }
    }

    /// Runs it. `log` gets progress lines (every `progressEvery` messages) and warnings.
    public static func run(
        _ o: Options,
        strategy: LoadedStrategy,
        stop: @escaping () -> Bool = { false },
        log: @escaping (String) -> Void = { _ in }
    ) throws(BacktestSessionError) -> Result {
        if mkdir(o.out, 0o755) != 0 && errno != EEXIST { throw .output(path: o.out, errno: errno) }
        let journal = o.out + "/journal"
        var strategy = strategy
        strategy.execution = o.settings
        let loop: StrategyLoop
        do { loop = try strategy.makeLoop(slotSize: o.slotSize) } catch {
            throw .strategy("\(error)")
        }
        let outputs: BacktestOutputs
        let started = tb_monotonic_ns()
        do {
            outputs = try BacktestOutputs(directory: o.out, options: .init(horizonNs: o.horizonNs)) { s in
                let secs = Double(tb_monotonic_ns() - started) / 1e9
                let rate = secs > 0 ? Int(Double(s.messages) / secs) : 0
                log(
                    "backtest: \(s.messages) messages, \(s.decisions) decisions, \(s.orders) orders, \(s.fills) fills (\(rate) msgs/s)"
                )
            }
        } catch { throw .report(error) }
        var bo = Backtest.Options(source: o.source, journal: journal)
        bo.name = o.name
        bo.slotSize = o.slotSize
        bo.progressEvery = o.progressEvery
        let summary: Backtest.Summary
        do { summary = try Backtest.run(bo, loop: loop, observer: outputs, stop: stop) } catch { throw .run(error) }
        let report: BacktestReport
        do { report = try outputs.finish(directory: o.out, inputs: o.inputs, summary: summary) } catch {
            throw .report(error)
        }
        return Result(summary: summary, report: report, html: o.out + "/report.html")
    }
}

/// Why a backtest session failed, with its cause.
public enum BacktestSessionError: Error, CustomStringConvertible {
    case output(path: String, errno: Int32)
    case strategy(String)
    case run(BacktestError)
    case report(BacktestReportError)

    public var description: String {
        switch self {
        case .output(let path, let e): return "backtest: cannot create \(path): \(String(cString: strerror(e)))"
        case .strategy(let s): return "backtest: the strategy: \(s)"
        case .run(let e): return "\(e)"
        case .report(let e): return "backtest: the report: \(e)"
        }
    }
}
