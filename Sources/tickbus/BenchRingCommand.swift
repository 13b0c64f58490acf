import ArgumentParser
import Bench

/// `tickbus bench ring`: producer here, reader in a child process pinned to another CPU; the
/// TickBus ring and a minimal C ring, interleaved round by round (see `RingBench`).
struct RingBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ring",
        abstract: "Ring throughput (clock-free and clocked) and one-way latency across two processes, against a C ring."
    )

    @Option(help: "Messages per clocked throughput round.") var messages: UInt64 = 5_000_000
    @Option(name: .customLong("clock-free-messages"), help: "Messages per clock-free throughput round.")
    var clockFreeMessages: UInt64 = 50_000_000
    @Option(name: .customLong("latency-messages"), help: "Messages per latency round.") var latencyMessages: UInt64 =
        200_000
    @Option(name: .customLong("interval-ns"), help: "Spacing of latency messages.") var intervalNs: UInt64 = 2_000
    @Option(help: "Rounds; each runs both rings in alternating order.") var rounds: Int = 5
    @Option(name: .customLong("producer-cpu")) var producerCPU: Int32 = 0
    @Option(name: .customLong("reader-cpu")) var readerCPU: Int32 = 1
    @Flag(help: "Print one JSON object.") var json: Bool = false

    func run() throws {
        var o = RingBench.Options()
        o.messages = messages
        o.clockFreeMessages = clockFreeMessages
        o.latencyMessages = latencyMessages
        o.intervalNs = intervalNs
        o.rounds = rounds
        o.producerCPU = producerCPU
        o.readerCPU = readerCPU
        let outcome = try runBenchmark { () throws(BenchError) in try RingBench.run(o) }
        printBench(outcome.report, text: outcome.text, json: json)
    }
}

/// The reader half of `bench ring`, run as a child process.
struct RingBenchChild: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ring-child",
        abstract: "Reader process of `bench ring`.",
        shouldDisplay: false
    )
    @Option var bus: String
    @Option var impl: String
    @Option var phase: String
    @Option var messages: UInt64
    @Option var cpu: Int32

    func run() throws {
        guard let impl = RingBench.Implementation(rawValue: impl) else { throw ValidationError("--impl: swift or c") }
        guard let phase = RingBench.Phase(rawValue: phase) else {
            throw ValidationError("--phase: throughput, throughput-clocked or latency")
        }
        let r = try runBenchmark { () throws(BenchError) in
            try RingBench.runReader(bus: bus, impl: impl, phase: phase, messages: messages, cpu: cpu)
        }
        print(r.line)
    }
}

/// Both rings in one thread, publish then poll, for `Tools/callgrind-ring`.
struct RingInstructionsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ring-instructions",
        abstract: "Single-thread ring loops for callgrind.",
        shouldDisplay: false
    )
    @Option var messages: UInt64 = 1_000_000

    func run() throws {
        let (a, b) = try runBenchmark { () throws(BenchError) in try RingBench.runInstructions(messages: messages) }
        print("messages=\(messages) check_swift=\(a) check_c=\(b)")
        if a != b { throw ExitCode(1) }
    }
}
