import ArgumentParser
import Bench

/// `tickbus bench control`: tick-to-decision with and without a live swap every 10 ms, and the
/// swap latency, in one process (see `ControlBench`).
struct ControlBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "control",
        abstract: "Tick-to-decision with vs without model swaps every 10 ms, and the swap latency (in-process)."
    )

    @Option(help: "Feature definition.") var features: String = "Tools/strategy/features.toml"
    @Option(help: "Model (both versions are compiled from it, under two runtime ids).") var model: String =
        "Tools/strategy/lightgbm.txt"
    @Option(help: "Seed of the synthetic feed.") var seed: UInt64 = 11
    @Option(help: "Feed rate, messages per second.") var rate: Double = 100_000
    @Option(help: "Messages per round.") var messages: Int = 200_000
    @Option(help: "Rounds per side (alternating).") var rounds: Int = 3
    @Option(name: .customLong("interval-ms"), help: "Milliseconds between two swaps.") var intervalMs: Double = 10
    @Option(name: .customLong("feed-cpu"), help: "CPU of the market and control producers.") var feedCpu: Int = 0
    @Option(name: .customLong("strategy-cpu"), help: "CPU of the strategy loop.") var strategyCpu: Int = 1
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        var o = ControlBench.Options()
        o.features = features
        o.model = model
        o.seed = seed
        o.rate = rate
        o.messages = messages
        o.rounds = rounds
        o.intervalMs = intervalMs
        o.feedCpu = feedCpu
        o.strategyCpu = strategyCpu
        let outcome = try runBenchmark { () throws(BenchError) in try ControlBench.run(o) }
        printBench(outcome.report, text: outcome.text, json: json)
    }
}
