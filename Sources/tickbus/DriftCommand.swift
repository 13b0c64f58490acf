import ArgumentParser
import Drift
import DriftMonitor
import TickBusCore

/// `tickbus drift`: the drift monitor (the default) and its baselines (`drift baseline`).
struct DriftCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drift",
        abstract: "Drift monitor: windows of a strategy's decisions against a baseline, outcomes, the layered policy.",
        subcommands: [DriftMonitorCommand.self, DriftBaselineCommand.self],
        defaultSubcommand: DriftMonitorCommand.self
    )
}

/// `tickbus drift [monitor] --journal DIR | --bus B --strategy S --baseline B.tbbaseline …`
struct DriftMonitorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "monitor",
        abstract: "Score windows of decisions.S against a baseline; print one JSON line per window (Docs/DRIFT.md)."
    )

    @Option(help: "A journal directory (rings decisions.S and market).") var journal: String?
    @Option(help: "A bus: read decisions.S and market live, send actions to its control server.") var bus: String?
    @Option(help: "The strategy name (ring decisions.S).") var strategy: String
    @Option(help: "The baseline (tickbus drift baseline).") var baseline: String
    @Option(help: "The layered policy (P.toml); without it, statistics only.") var policy: String?
    @Option(help: "Decision records per window.") var window: Int = 5000
    @Option(name: .customLong("horizon-ns"), help: "The outcome's horizon, exchange-time ns.")
    var horizonNs: Int64 = 1_000_000_000
    @Option(name: .customLong("expected-hit-rate"), help: "The hit rate of the binomial test (else the backtest's).")
    var expectedHitRate: Double?
    @Option(help: "A registry: the live version's definition, backtest hit rate and signal rule.") var registry: String?
    @Option(help: "The strategy's feature definition (checked against the baseline; the canary's signal rule).")
    var features: String?
    @Option(help: "Serve /metrics on HOST:PORT (port 0: any; prints listening=HOST:PORT).") var listen: String?
    @Option(help: "Where the decisions start on a bus: start | now.") var from: String = "start"
    @Option(name: .customLong("attach-timeout"), help: "Seconds to wait for the rings.") var attachTimeout: Double = 10
    @Option(name: .customLong("control-timeout"), help: "Seconds a control submission may take.")
    var controlTimeout: Double = 5

    func validate() throws {
        guard (journal == nil) != (bus == nil) else { throw ValidationError("give exactly one of --journal and --bus") }
        _ = try startPosition(from)
    }

    func run() throws {
        installStopSignalsUnblocked()
        let input: MonitorSession.Input =
            if let journal { .journal(journal) } else {
                .bus(bus!, from: try startPosition(from), attachTimeout: attachTimeout)
            }
        let request = MonitorSession.Request(
            input: input,
            baselinePath: baseline,
            policyPath: policy,
            definitionPath: features,
            listen: listen,
            options: MonitorOptions(
                strategy: strategy,
                window: window,
                horizonNs: horizonNs,
                expectedHitRate: expectedHitRate,
                registry: registry,
                controlTimeout: controlTimeout
            )
        )
        do {
            _ = try MonitorSession.run(
                request,
                emit: { line in
                    print(line)
                    flushOut()
                },
                warn: { warn($0) },
                stop: { stopRequested() }
            )
        } catch {
            switch error {
            case .invalid: throw RuntimeFailure(error)
            case .ring(_, _, .notFound), .journal: throw RuntimeFailure(error, status: 2)
            default: throw RuntimeFailure(error, status: ExitStatus.error)
            }
        }
    }
}
