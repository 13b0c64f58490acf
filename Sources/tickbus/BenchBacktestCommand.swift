import ArgumentParser
import Bench
import Feed

/// `tickbus bench backtest`: market messages/s of the backtest (quoting policy; bundled model)
/// against the market source alone, and with `--memory` its peak memory over one and ten days.
struct BacktestBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backtest",
        abstract: "Messages/s of the backtest (quoting policy, bundled model) against the market source alone."
    )
    @Option(help: "Market source (SOURCE spec). Default: the real LOBSTER level-5 day.") var source: String?
    @Option(help: "Rounds; each runs every contender once, in alternating order.") var rounds: Int = 3
    @Flag(help: "Also measure the peak memory (VmHWM) over the day and over ten days in a row.") var memory = false
    @Option(help: "Run only these contenders, comma-separated: quote, model (for profiling).") var only: String?
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        var o = BacktestBench.Options()
        o.rounds = rounds
        o.memory = memory
        if let source {
            do { o.source = try SourceSpec(parsing: source) } catch { throw ValidationError("\(error)") }
        }
        let explicit = source != nil
        let outcome = try runBenchmark { () throws(BenchError) in
            var o = o
            if !explicit { o.source = try SimBench.defaultSource() }
            // The bundled session's model (Recordings/synthetic-5): instrument 1, as LOBSTER's.
            guard let root = BenchProcess.repositoryRoot(containing: "setup") else {
                throw BenchError.invalid("cannot find the repository (Tools/setup) for Recordings/synthetic-5")
            }
            o.contenders = [
                .init(
                    name: "quote",
                    features: BenchProcess.resolve("Tools/backtest/quote-features.toml"),
                    model: BenchProcess.resolve("Tools/backtest/quote-model.json"),
                    execution: BenchProcess.resolve("Tools/backtest/quote.toml")
                ),
                .init(
                    name: "model",
                    features: root + "/Recordings/synthetic-5/features.toml",
                    model: root + "/Recordings/synthetic-5/model.json",
                    execution: BenchProcess.resolve("Tools/backtest/join.toml")
                ),
            ]
            if let only {
                let names = only.split(separator: ",").map(String.init)
                o.contenders = o.contenders.filter { names.contains($0.name) }
            }
            return try BacktestBench.run(o)
        }
        printBench(outcome.report, text: outcome.text, json: json)
    }
}
