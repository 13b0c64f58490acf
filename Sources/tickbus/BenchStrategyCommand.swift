import ArgumentParser
import Bench
import Feed

/// `tickbus bench strategy`: tick-to-decision latency across processes, against a pass-through
/// strategy in alternating rounds (see `StrategyBench`).
struct StrategyBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "strategy",
        abstract: "Tick-to-decision latency across processes (feed → strategy → decision), vs a pass-through strategy."
    )

    @Option(help: "Feature definition.") var features: String = "Tools/strategy/features.toml"
    @Option(help: "Model.") var model: String = "Tools/strategy/lightgbm.txt"
    @Option(help: "Market data source of the feed.") var source: String = "synthetic:11"
    @Option(help: "Feed rate, messages per second.") var rate: Double = 100_000
    @Option(help: "Messages per round.") var messages: Int = 200_000
    @Option(help: "Rounds per subject (alternating).") var rounds: Int = 3
    @Option(name: .customLong("feed-cpu"), help: "CPU of the feed.") var feedCpu: Int = 0
    @Option(name: .customLong("strategy-cpu"), help: "CPU of the strategy.") var strategyCpu: Int = 1
    @Option(
        name: .customLong("instruction-messages"),
        help: "Messages of the one-thread loop counted under callgrind (instructions per decision); 0 skips."
    ) var instructionMessages: Int = 50_000
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        var o = StrategyBench.Options()
        o.features = features
        o.model = model
        o.source = source
        o.rate = rate
        o.messages = messages
        o.rounds = rounds
        o.feedCpu = feedCpu
        o.strategyCpu = strategyCpu
        o.instructionMessages = instructionMessages
        let outcome = try runBenchmark { () throws(BenchError) in try StrategyBench.run(o) }
        printBench(outcome.report, text: outcome.text, json: json)
    }
}

/// The strategy loop in one thread over decoded messages, for callgrind (`bench strategy` runs it).
struct StrategyInstructionsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "strategy-instructions",
        abstract: "The strategy loop in one thread, for callgrind.",
        shouldDisplay: false
    )
    @Option var features: String = "Tools/strategy/features.toml"
    @Option var model: String = "Tools/strategy/lightgbm.txt"
    @Option var source: String = "synthetic:11"
    @Option var messages: Int = 50_000

    func run() throws {
        let spec: SourceSpec
        do { spec = try SourceSpec(parsing: source) } catch { throw ValidationError("\(error)") }
        let c = try runBenchmark { () throws(BenchError) in
            try StrategyInstructions.run(features: features, model: model, source: spec, messages: messages)
        }
        print("messages=\(c.messages) decisions=\(c.decisions)")
    }
}
