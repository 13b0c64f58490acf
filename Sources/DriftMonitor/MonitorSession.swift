import Drift
import DriftPolicy
import Features
import Registry
import Telemetry
import TickBusCore

#if canImport(Glibc)
import Glibc
#endif

/// `tickbus drift` (the monitor) as one call: loads the baseline, the policy and the definition,
/// serves `/metrics` when asked, runs over a journal or a bus, and prints the summary.
public enum MonitorSession {
    public enum Input: Sendable {
        case journal(String)
        case bus(String, from: StartPosition, attachTimeout: Double)
    }

    public struct Request: Sendable {
        public var input: Input
        public var baselinePath: String
        public var policyPath: String?
        public var definitionPath: String?
        /// `HOST:PORT` for `/metrics` (port 0: any free one; the line `listening=HOST:PORT` says which).
        public var listen: String?
        public var options: MonitorOptions

        public init(
            input: Input,
            baselinePath: String,
            policyPath: String?,
            definitionPath: String?,
            listen: String?,
            options: MonitorOptions
        ) {
            self.input = input
            self.baselinePath = baselinePath
            self.policyPath = policyPath
            self.definitionPath = definitionPath
            self.listen = listen
            self.options = options
        }
    }

    /// Runs the monitor; every output line goes to `emit` (stdout), diagnostics to `warn` (stderr).
    /// - Throws: `MonitorError` for what prevents the run (the baseline, the policy, the definition,
    ///   a ring or journal, another schema or definition, the metrics port).
    public static func run(
        _ r: Request,
        emit: @escaping (String) -> Void,
        warn: @escaping (String) -> Void,
        stop: () -> Bool
    ) throws(MonitorError) -> MonitorRun.Summary {
        var options = r.options
        try options.validate()
        let baseline: DriftBaseline
        do { baseline = try DriftBaseline(contentsOf: r.baselinePath) } catch {
            throw .baseline(path: r.baselinePath, error)
        }
        if let p = r.policyPath {
            do { options.policy = try DriftPolicy.load(path: p) } catch { throw .policy("\(error)") }
        }
        if let d = r.definitionPath {
            do {
                options.definition = try FeatureDefinition.load(path: d)
                options.definitionHash = Manifest.sha256Hex(Array(try TOMLLine.readFile(path: d).utf8))
            } catch { throw .invalid("feature definition \(d): \(error)") }
        }
        if case .bus(let bus, _, _) = r.input, options.controlBus == nil { options.controlBus = bus }
        let source: String
        switch r.input {
        case .journal(let d): source = "journal \(d)"
        case .bus(let b, _, _): source = "bus \(b), ring decisions.\(options.strategy)"
        }
        let monitor = try Monitor(
            baseline: baseline,
            baselinePath: r.baselinePath,
            options: options,
            source: source,
            emit: emit
        )
        var server: MetricsServer?
        let text = MetricsText()
        let busName: String? = if case .bus(let b, _, _) = r.input { b } else { nil }
        text.set(monitor.metrics.render(bus: busName))
        if let listen = r.listen {
            guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]),
                (0...65535).contains(port)
            else { throw .invalid("--listen \(listen) must be HOST:PORT") }
            let host = String(listen[..<colon])
            do {
                server = try MetricsServer.start(
                    host: host,
                    port: port,
                    text: text,
                    about: "tickbus drift monitor of strategy \(options.strategy)"
                )
            } catch { throw .invalid("--listen \(listen): \(error)") }
            emit("listening=\(host):\(server!.port)")
        }
        defer { server?.shutdown() }
        monitor.onReport = { m in text.set(m.metrics.render(bus: busName)) }
        let summary: MonitorRun.Summary
        switch r.input {
        case .journal(let d): summary = try MonitorRun.journal(d, monitor)
        case .bus(let b, let from, let timeout):
            summary = try MonitorRun.bus(b, monitor, from: from, attachTimeout: timeout, stop: stop)
        }
        text.set(monitor.metrics.render(bus: busName))
        let m = monitor.metrics
        if let s = summary.journalStop { warn("drift: the journal stopped early: \(s)") }
        if m.malformed > 0 { warn("drift: \(m.malformed) malformed records skipped") }
        let actions = m.actions.values.reduce(0, +)
        warn(
            "drift: done windows=\(m.windows) records=\(m.records) market=\(summary.marketMessages) "
                + "decisions_lost=\(m.decisionsLost) market_lost=\(m.marketLost) signals=\(m.signals) hits=\(m.hits) "
                + "actions=\(actions) unknown_outcomes_overflow=\(monitor.tracker.overflow)"
        )
        return summary
    }
}
