import ArgumentParser
import CMallocCounter
import CTickBus
import Strategy
import TickBusCore

#if canImport(Glibc)
import Glibc
#endif

struct StrategyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "strategy",
        abstract: "Poll ring market, update features, evaluate the model, publish decisions into decisions.<name>."
    )

    @Option(help: "Bus name.") var bus: String
    @Option(help: "Feature definition (TOML).") var features: String?
    @Option(help: "Live model (LightGBM text, XGBoost JSON, linear JSON, ONNX).") var model: String?
    @Option(
        help:
            "Shadow model, evaluated on the same features and recorded beside the live one (with --registry: a version)."
    ) var shadow: String?
    @Option(help: "Model registry directory: load --live (and --shadow) versions from it instead of files.")
    var registry: String?
    @Option(help: "Live version, with --registry: full id, unique prefix of 12+ hex digits, or NAME@ALIAS.")
    var live: String?
    @Option(help: "Canary model at start (with --registry: a version), acting for --canary-percent of instruments.")
    var canary: String?
    @Option(name: .customLong("canary-percent"), help: "Percent of instruments routed to the canary (0...100).")
    var canaryPercent: UInt8 = 0
    @Option(help: "With --registry: a version prepared at start, so a later load of it is a swap (repeatable).")
    var preload: [String] = []
    @Option(
        help:
            "Execution file (E.toml): paper trading — the order policy, risk limits and simulator after each decision; orders, fills and risk events go into decisions.<name>."
    ) var execution: String?
    @Flag(name: .customLong("no-control"), help: "Ignore ring control (keep the roles given at start).")
    var noControl = false
    @Option(help: "Strategy name: publishes ring decisions.<name>.") var name: String
    @Option(help: "CPU to pin to (sched_setaffinity).") var cpu: Int32
    @Option(name: .customLong("numa-node"), help: "NUMA node for memory (default: the CPU's node).") var numaNode:
        Int32?
    @Option(help: "Decisions ring capacity in slots (a power of two).") var capacity: Int = 1 << 16
    @Flag(help: "Read market as a gating reader (the feed waits for this strategy: lossless).") var gating = false
    @Option(help: "Idle strategy: spin | yield | backoff.") var idle: String = "backoff"
    @Option(name: .customLong("attach-timeout"), help: "Seconds to wait for ring market to exist.") var attachTimeout:
        Double = 10
    @Flag(
        name: .customLong("pass-through"),
        help: "Publish a bare record per market message (no features, no model): the bench baseline."
    )
    var passThrough = false

    var selection: StrategySelection {
        StrategySelection(
            features: features,
            model: model,
            shadow: shadow,
            registry: registry,
            live: live,
            canary: canary,
            canaryPercent: canaryPercent,
            preload: preload,
            execution: execution
        )
    }

    func validate() throws {
        try selection.validate()
        if execution != nil, passThrough { throw ValidationError("--execution needs decisions (not --pass-through)") }
    }

    func run() throws {
        // A parent may spawn us with SIGINT/SIGTERM blocked (the mask is inherited); we must hear them.
        installStopSignalsUnblocked()
        guard let idleStrategy = IdleStrategy(name: idle) else {
            throw ValidationError("--idle must be spin, yield or backoff")
        }
        let placement: Placement.Report
        do { placement = try Placement.apply(cpu: cpu, node: numaNode) } catch { throw RuntimeFailure(error) }
        // Contract line: where the strategy actually runs.
        print(
            "strategy \(name): placement cpu=\(placement.cpu) node=\(placement.node) requested_cpu=\(cpu) requested_node=\(numaNode.map(String.init) ?? "auto")"
        )
        flushOut()
        guard placement.cpu == cpu else { throw RuntimeFailure("running on CPU \(placement.cpu), not \(cpu)") }

        let strategy = try selection.load { warn("strategy \(name): \($0)") }
        // Telemetry: this strategy's stats block (stats.<name>), read by `tickbus metrics` and `stat`.
        let stats: StatsWriter?
        do {
            stats = try StatsWriter(
                bus: bus,
                name: name,
                kind: .strategy,
                modelId: strategy.live.id,
                shadowModelId: strategy.shadow?.id ?? 0
            )
        } catch {
            warn("strategy \(name): no telemetry: \(error)")
            stats = nil
        }
        var loop: StrategyLoop
        do { loop = try strategy.makeLoop(slotSize: DecisionLayout.defaultSlotSize, stats: stats) } catch {
            throw RuntimeFailure(error)
        }
        stats?.setRoles(loop.roles)
        var producer = try RingProducer(
            bus: bus,
            ring: "decisions.\(name)",
            schema: .decisions,
            slotSize: DecisionLayout.defaultSlotSize,
            capacity: capacity
        )
        var reader: RingReader
        do {
            reader = try RingReader.attach(
                bus: bus,
                ring: "market",
                name: "strategy-\(name)",
                mode: gating ? .gating : .live,
                idle: idleStrategy,
                expecting: .market,
                timeout: attachTimeout,
                stop: stopRequested
            )
        } catch {
            producer.close()
            throw RuntimeFailure(error)
        }
        // Ring control, attached now if it exists (else when it appears); its commands change the roles.
        var control = noControl ? ControlPort.disabled(strategy: name) : ControlPort(bus: bus, strategy: name)
        warn(
            "strategy \(name): \(strategy.modelsDescription), \(loop.engine.count) features, decisions.\(name), "
                + (execution.map { "paper trading (\($0)), " } ?? "")
                + (noControl ? "control ignored" : control.attached ? "control attached" : "control not there yet")
        )
        let mallocsBefore = tb_thread_malloc_count()
        let summary = loop.run(
            reader: &reader,
            producer: &producer,
            control: &control,
            idle: idleStrategy,
            passThrough: passThrough,
            log: { warn("strategy \(name): \($0)") },
            stop: stopRequested
        )
        // Allocations in the loop: the order book's level arrays grow (by doubling) while it warms up; nothing else allocates.
        let mallocs = tb_thread_malloc_count() &- mallocsBefore
        producer.heartbeat()
        producer.close()
        stats?.close()
        print(
            "strategy \(name): messages=\(summary.messages) decisions=\(summary.decisions) lost=\(summary.lost) gaps=\(summary.gaps) eos=\(summary.endOfSession) commands=\(summary.commands) rejected=\(summary.rejected) mallocs=\(mallocs)"
        )
        if let e = summary.execution {
            // Contract line of paper trading (Docs/EXECUTION.md).
            print(
                "strategy \(name): orders=\(e.sent - e.cancels) cancels=\(e.cancels) refused=\(e.refused) fills=\(e.fills) filled_shares=\(e.filledShares) events=\(e.events) pauses=\(e.pauses)"
            )
        }
        flushOut()
    }
}
