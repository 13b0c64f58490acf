import CMallocCounter
import CTickBus
import Features
import Feed
import Foundation
import Models
import Strategy
import TickBusCore

/// `tickbus bench control`: what model swaps cost a running strategy. In one process, three
/// threads on a bus of their own: a market producer publishing the synthetic feed at a steady
/// rate (`FeedPublisher.run`, the live feed loop), the strategy loop pinned to its CPU and reading
/// `market` and `control` (`StrategyLoop.run` with a `ControlPort`), and a control producer that
/// every 10 ms publishes `load X --role live`, alternating between two versions prepared before the
/// run (so model compile is excluded and each load is a swap). Rounds with swaps alternate with
/// rounds in which the control thread wakes on the same schedule but publishes nothing
/// (`InterleavedRounds`). Figures: tick-to-decision (market publish → decision publish) p50/p99
/// with and without swaps and their ratio, and the swap latency: the command's publish time (the
/// control producer's clock just before it publishes) to the strategy's control record publish.
public enum ControlBench {
    public struct Options: Sendable {
        /// Relative paths under `Tools/` are found in the repository when absent from the working directory.
        public var features = "Tools/strategy/features.toml"
        public var model = "Tools/strategy/lightgbm.txt"
        public var seed: UInt64 = 11
        public var rate = 100_000.0
        public var messages = 200_000
        public var rounds = 3
        /// Milliseconds between two commands.
        public var intervalMs = 10.0
        public var feedCpu = 0
        public var strategyCpu = 1
        public init() {}
    }

    /// One side's medians over its rounds.
    public struct Side: Sendable {
        public var tickToDecision: Percentiles
        public var decisions: UInt64
        /// Mallocs on the strategy thread during the loop (warm-up included).
        public var mallocs: UInt64
    }

    public struct Outcome: Sendable {
        public var swaps: Side
        public var baseline: Side
        /// Command publish → control record publish, over every swap of every round (after warm-up).
        public var swapLatency: Percentiles
        public var swapCount: Int
        public var options: Options
    }

    /// The two versions' registry ids (the bench makes no registry: any two distinct ids do).
    static let versionA = VersionDigest(words: (0xa, 0, 0, 0))
    static let versionB = VersionDigest(words: (0xb, 0, 0, 0))

    public static func run(_ o: Options) throws(BenchError) -> Outcome {
        var o = o
        o.features = BenchProcess.resolve(o.features)
        o.model = BenchProcess.resolve(o.model)
        guard o.rate > 0, o.messages >= 1000, o.rounds >= 1, o.intervalMs > 0 else {
            throw .invalid("bench control: --rate and --interval-ms must be > 0, --messages >= 1000, --rounds >= 1")
        }
        var withSwaps: [RoundResult] = []
        var without: [RoundResult] = []
        try InterleavedRounds.run(rounds: o.rounds, [true, false]) { (round, swapping) throws(BenchError) in
            let r = try Self.round(o, round: round, swaps: swapping)
            if swapping { withSwaps.append(r) } else { without.append(r) }
        }
        var swapSamples = withSwaps.flatMap(\.swapLatencies)
        guard !swapSamples.isEmpty else { throw .check("bench control: no command was applied in the swap rounds") }
        func side(_ rs: [RoundResult]) -> Side {
            Side(
                tickToDecision: .median(rs.map(\.tickToDecision)),
                decisions: rs.last?.decisions ?? 0,
                mallocs: rs.last?.mallocs ?? 0
            )
        }
        return Outcome(
            swaps: side(withSwaps),
            baseline: side(without),
            swapLatency: Percentiles(sorting: &swapSamples),
            swapCount: swapSamples.count,
            options: o
        )
    }

    struct RoundResult: Sendable {
        var tickToDecision: Percentiles
        var swapLatencies: [UInt64]
        var decisions: UInt64
        var mallocs: UInt64
    }

    /// What the strategy and control threads hand back. Written by each thread before it sets its
    /// done flag (release) and read by the round only after seeing the flag (acquire).
    final class Shared: @unchecked Sendable {
        /// Flags: 0 control ring created, 1 strategy attached and ready, 2 market done,
        /// 3 strategy done, 4 control done, 5 abort.
        let flags = UnsafeMutablePointer<UInt64>.allocate(capacity: 6)
        var strategyError: String?
        var controlError: String?
        var latencies: [UInt64] = []
        var swapLatencies: [UInt64] = []
        var rejected: [String] = []
        var decisions: UInt64 = 0
        var mallocs: UInt64 = 0
        var commands: UInt64 = 0
        /// Control records of applied commands (warm-up included).
        var applied: UInt64 = 0
        /// The two versions' runtime model ids (set by the strategy thread before flag 1).
        var runtimeIdA: UInt64 = 0
        var runtimeIdB: UInt64 = 0

        init() { flags.initialize(repeating: 0, count: 6) }
        deinit { flags.deallocate() }

        func set(_ i: Int) { tb_store_release_u64(flags + i, 1) }
        func isSet(_ i: Int) -> Bool { tb_load_acquire_u64(flags + i) != 0 }
        /// Waits for flag `i` (sleeping 100 µs at a time); false at the deadline or on abort.
        func wait(_ i: Int, seconds: Double) -> Bool {
            let deadline = tb_monotonic_ns() &+ UInt64(seconds * 1e9)
            while !isSet(i) {
                if isSet(5) || tb_monotonic_ns() > deadline { return false }
                usleep(100)
            }
            return true
        }
    }

    /// One round on its own bus: control thread, strategy thread, and the market published from
    /// this thread. Every wait has a deadline; a failure on any thread aborts the others.
    static func round(_ o: Options, round: Int, swaps: Bool) throws(BenchError) -> RoundResult {
        let bus = "benchctl-\(getpid())-\(round)\(swaps ? "s" : "b")"
        defer { _ = try? Segment.removeBus(bus) }
        let marketCapacity = 1 << Int(log2(Double(o.messages + 16)).rounded(.up))
        var market = try segment { () throws(SegmentError) in
            try RingProducer(bus: bus, ring: "market", schema: .market, capacity: marketCapacity)
        }
        let shared = Shared()
        let seconds = Double(o.messages) / o.rate
        let patience = 30 + 3 * seconds

        let control = Thread {
            defer { shared.set(4) }
            _ = tb_pin_to_cpu(Int32(o.feedCpu))
            controlThread(o, bus: bus, swaps: swaps, shared: shared, patience: patience)
        }
        control.name = "bench-control"
        control.start()
        let strategy = Thread {
            defer { shared.set(3) }
            strategyThread(o, bus: bus, capacity: marketCapacity, shared: shared, patience: patience)
        }
        strategy.name = "bench-strategy"
        strategy.start()

        guard shared.wait(1, seconds: patience) else {
            shared.set(5)
            _ = shared.wait(3, seconds: 10)
            _ = shared.wait(4, seconds: 10)
            throw .check(
                "bench control: the strategy did not start: \(shared.strategyError ?? shared.controlError ?? "timed out")"
            )
        }
        _ = tb_pin_to_cpu(Int32(o.feedCpu))
        var source = SyntheticSource(seed: o.seed)
        _ = FeedPublisher.run(&source, into: &market, pace: .rate(o.rate), limit: UInt64(o.messages))
        shared.set(2)
        let finished = shared.wait(3, seconds: patience)
        if !finished { shared.set(5) }
        _ = shared.wait(4, seconds: patience)
        market.close()
        let errors = [shared.controlError, shared.strategyError].compactMap { $0 }
        if !errors.isEmpty { throw .check("bench control: " + errors.joined(separator: "; ")) }
        guard finished else { throw .check("bench control: the strategy did not reach the end of the session") }
        guard shared.rejected.isEmpty else {
            throw .check(
                "bench control: the strategy rejected \(shared.rejected.count) commands: \(shared.rejected[0])"
            )
        }
        // Every command but those published after the strategy read its last market message.
        if shared.applied + 2 < shared.commands {
            throw .check("bench control: \(shared.commands) commands published, \(shared.applied) applied")
        }
        var latencies = shared.latencies
        return RoundResult(
            tickToDecision: Percentiles(sorting: &latencies),
            swapLatencies: shared.swapLatencies,
            decisions: shared.decisions,
            mallocs: shared.mallocs
        )
    }

    /// Creates ring `control`, then every `intervalMs` (absolute due times) publishes a load of
    /// the other version into live — or, in a baseline round, wakes and publishes nothing.
    static func controlThread(_ o: Options, bus: String, swaps: Bool, shared: Shared, patience: Double) {
        var producer: RingProducer
        do {
            producer = try RingProducer(bus: bus, ring: "control", schema: .control, slotSize: 256, capacity: 1024)
        } catch {
            shared.controlError = "control ring: \(error)"
            shared.set(5)
            return
        }
        shared.set(0)
        guard shared.wait(1, seconds: patience) else { return }
        let interval = UInt64(o.intervalMs * 1e6)
        var due = tb_monotonic_ns() &+ interval
        var n: UInt64 = 0
        var command = ControlCommand(
            verb: .load,
            role: .live,
            commandId: 1,
            version: versionB,
            runtimeId: shared.runtimeIdB,
            strategy: "bench",
            issuer: "bench",
            reason: "bench control swap"
        )
        while !shared.isSet(2) && !shared.isSet(5) {
            var now = tb_monotonic_ns()
            while now < due {
                usleep(UInt32(min(1000, (due - now) / 1000 + 1)))
                now = tb_monotonic_ns()
            }
            due &+= interval
            guard swaps else { continue }
            n += 1
            let toB = n % 2 == 1
            command.commandId = n
            command.version = toB ? versionB : versionA
            command.runtimeId = toB ? shared.runtimeIdB : shared.runtimeIdA
            command.publishTime = Int64(bitPattern: tb_monotonic_ns())
            let c = command
            _ = producer.publish { c.encode(into: $0) }
        }
        shared.commands = n
        // The ring stays up until the strategy is done, so its reader never sees the producer go.
        _ = shared.wait(3, seconds: patience)
        producer.close()
    }
}
