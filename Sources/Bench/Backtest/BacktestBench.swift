import Book
import CMallocCounter
import CTickBus
import Feed
import Replay
import Strategy
import TickBusCore

#if canImport(Glibc)
import Glibc
#endif

/// `tickbus bench backtest`: market messages per second of `Backtest` (strategy loop, order
/// policy, risk checks, simulator, decision journal) over messages decoded in memory, against the
/// market source alone (the same messages handed out one by one), rounds interleaved:
/// - `quote`: the quoting policy, no model to speak of (one feature, a constant linear model, a
///   decision only when the best changes): one lot at the best bid and ask, requoted;
/// - `model`: the bundled session's features and linear model, a decision on every message, the
///   join policy.
/// With `--memory`, the peak resident memory (VmHWM) of the model backtest over the day and over
/// the day played ten times in a row (times shifted by a day each pass).
public enum BacktestBench {
    public struct Contender: Sendable {
        public var name: String
        public var features: String
        public var model: String
        public var execution: String
        public init(name: String, features: String, model: String, execution: String) {
            self.name = name
            self.features = features
            self.model = model
            self.execution = execution
        }
    }

    public struct Options: Sendable {
        public var source = SourceSpec.synthetic(seed: 7)
        public var rounds = 3
        public var messages = 10_000_000
        public var contenders: [Contender] = []
        public var memory = false
        public init() {}
    }

    public struct Figures: Sendable {
        public var msgsPerS = 0.0
        public var mallocsPerMessage = 0.0
        public var decisions: UInt64 = 0
        public var orders: UInt64 = 0
        public var fills: UInt64 = 0
    }

    public struct Outcome: Sendable {
        public var source = Figures()
        public var contenders: [(String, Figures)] = []
        public var messages = 0, rounds = 0
        public var sourceName = ""
        /// VmHWM in kB: the day once, the day ten times (with --memory).
        public var peakKB: (one: Int, ten: Int)?
    }

    public static func run(_ o: Options) throws(BenchError) -> Outcome {
        let decoded = try SimBench.decode(o.source, limit: o.messages)
        defer { decoded.release() }
        var out = Outcome()
        out.messages = decoded.count
        out.rounds = o.rounds
        out.sourceName = "\(o.source.kind):\(o.source.argument)"
        var strategies: [LoadedStrategy] = []
        for c in o.contenders {
            do {
                var s = try LoadedStrategy.load(features: c.features, model: c.model, shadow: nil)
                s.execution = try ExecutionSettings.load(path: c.execution)
                strategies.append(s)
            } catch { throw .invalid("\(c.name): \(error)") }
        }
        var sourceRates: [Double] = []
        var rates = [[Double]](repeating: [], count: o.contenders.count)
        var figures = [Figures](repeating: Figures(), count: o.contenders.count)
        let indices = [-1] + Array(o.contenders.indices)
        try InterleavedRounds.run(rounds: o.rounds, indices) { (_, k) throws(BenchError) in
            if k < 0 {
                var source = DecodedSource(decoded, passes: 1)
                var checksum: UInt64 = 0
                let t0 = tb_monotonic_ns()
                while let m = source.next() { checksum &+= m.payload.0 }
                let ns = tb_monotonic_ns() - t0
                sourceRates.append(Double(decoded.count) / (Double(ns) / 1e9) + Double(checksum & 1) * 0)
                return
            }
            let f = try once(strategies[k], decoded, passes: 1, name: o.contenders[k].name)
            rates[k].append(f.msgsPerS)
            figures[k] = f
            figures[k].mallocsPerMessage = max(figures[k].mallocsPerMessage, f.mallocsPerMessage)
        }
        out.source.msgsPerS = Rank.median(sourceRates)
        for k in o.contenders.indices {
            figures[k].msgsPerS = Rank.median(rates[k])
            out.contenders.append((o.contenders[k].name, figures[k]))
        }
        if o.memory, let k = o.contenders.indices.last {
            _ = try once(strategies[k], decoded, passes: 1, name: "memory")
            let one = try peakAfterReset { () throws(BenchError) in
                _ = try once(strategies[k], decoded, passes: 1, name: "memory")
            }
            let ten = try peakAfterReset { () throws(BenchError) in
                _ = try once(strategies[k], decoded, passes: 10, name: "memory")
            }
            out.peakKB = (one, ten)
        }
        return out
    }

    /// One backtest over the decoded messages (`passes` times in a row), its journal in /tmp.
    static func once(
        _ strategy: LoadedStrategy,
        _ decoded: DecodedMessages,
        passes: Int,
        name: String
    )
        throws(BenchError) -> Figures
    {
        let dir = "/tmp/tickbus-bench-backtest-\(getpid())-\(name)"
        defer { removeTree(dir) }
        let loop: StrategyLoop
        do { loop = try strategy.makeLoop(slotSize: DecisionLayout.defaultSlotSize) } catch {
            throw .invalid("\(error)")
        }
        var source = DecodedSource(decoded, passes: passes)
        let observer = CountingObserver(warmAfter: UInt64(decoded.count / 10))
        var bo = Backtest.Options(source: .synthetic(seed: 0), journal: dir)
        bo.name = "bench"
        let t0 = tb_monotonic_ns()
        let summary: Backtest.Summary
        do { summary = try Backtest.run(bo, source: &source, loop: loop, observer: observer) } catch {
            throw .invalid("\(error)")
        }
        let ns = tb_monotonic_ns() - t0
        var f = Figures()
        f.msgsPerS = Double(summary.messages) / (Double(ns) / 1e9)
        let counted = summary.messages - min(summary.messages, observer.warmAfter)
        f.mallocsPerMessage = counted > 0 ? Double(observer.mallocsAfterWarm) / Double(counted) : 0
        f.decisions = summary.decisions
        f.orders = summary.orders
        f.fills = summary.fills
        return f
    }

    /// VmHWM (kB) of `body`: the peak is reset first (`/proc/self/clear_refs` ← 5).
    static func peakAfterReset(_ body: () throws(BenchError) -> Void) throws(BenchError) -> Int {
        let fd = open("/proc/self/clear_refs", O_WRONLY)
        guard fd >= 0 else { throw .invalid("cannot reset the peak memory (/proc/self/clear_refs)") }
        _ = write(fd, "5", 1)
        close(fd)
        try body()
        return vmHWM()
    }

    static func vmHWM() -> Int {
        guard let f = fopen("/proc/self/status", "r") else { return 0 }
        defer { fclose(f) }
        var buf = [CChar](repeating: 0, count: 256)
        while fgets(&buf, 256, f) != nil {
            let line = String(cString: buf)
            if line.hasPrefix("VmHWM:") {
                return Int(line.dropFirst(6).filter { $0.isNumber }) ?? 0
            }
        }
        return 0
    }

    static func removeTree(_ dir: String) {
        guard let d = opendir(dir) else { return }
        while let e = readdir(d) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { unlink(dir + "/" + name) }
        }
        closedir(d)
        rmdir(dir)
    }
}

/// Counts mallocs on this thread from the warm-up point on (market messages are the clock).
final class CountingObserver: Backtest.Observer {
    let warmAfter: UInt64
    var seen: UInt64 = 0
    var start: UInt64 = 0
    var mallocsAfterWarm: UInt64 { seen > warmAfter ? tb_thread_malloc_count() - start : 0 }
    init(warmAfter: UInt64) { self.warmAfter = warmAfter }
    func market(_ m: MarketMessageView, books: OrderBooks) {
        seen &+= 1
        if seen == warmAfter { start = tb_thread_malloc_count() }
    }
    func record(_ p: UnsafeRawPointer) {}
    func progress(_ s: Backtest.Summary) {}
}

/// Decoded messages as a market source, `passes` times in a row (each pass shifted by a day of
/// exchange time so time keeps increasing).
struct DecodedSource: MarketSource {
    let decoded: DecodedMessages
    let passes: Int
    var pass = 0
    var i = 0
    var report = FeedReport()
    init(_ decoded: DecodedMessages, passes: Int) {
        self.decoded = decoded
        self.passes = passes
    }
    mutating func next() -> MarketMessage? {
        if i == decoded.count {
            pass += 1
            i = 0
        }
        guard pass < passes else { return nil }
        var m = MarketMessage(decoded.view(i))
        i += 1
        if m.kind == .endOfSession { return next() }
        m.exchangeTime &+= Int64(pass) * 86_400_000_000_000
        report.messagesIn &+= 1
        return m
    }
}
