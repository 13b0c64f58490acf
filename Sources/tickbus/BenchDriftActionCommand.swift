import ArgumentParser
import Bench

/// `tickbus bench drift-action`: window end → the strategy applying the monitor's rollback, p50/p99,
/// in child processes (see `DriftActionBench`).
struct DriftActionBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drift-action",
        abstract: "Latency from the end of a breaching window to the strategy applying the monitor's rollback."
    )

    @Option(help: "Sessions (each a fresh bus).") var rounds: Int = 3
    @Option(help: "Decision records per window (a rollback after each).") var window: Int = 500
    @Option(help: "ITCH messages per session.") var messages: Int = 60_000
    @Option(help: "Feed rate, messages per second.") var rate: Double = 40_000
    @Option(name: .customLong("strategy-idle"), help: "The strategy's idle strategy: backoff | yield | spin.")
    var strategyIdle: String = "backoff"
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        var o = DriftActionBench.Options()
        o.rounds = rounds
        o.window = window
        o.messages = messages
        o.rate = rate
        o.strategyIdle = strategyIdle
        let outcome = try runBenchmark { () throws(BenchError) in
            try DriftActionBench.run(o) { warn("bench drift-action: \($0)") }
        }
        printBench(outcome.report, text: outcome.text, json: json)
    }
}
