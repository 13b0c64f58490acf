import ArgumentParser
import Bench
import Execution
import Feed

/// `tickbus bench sim`: market messages/s through the execution simulator with resting own
/// orders, against the market source alone (see `SimBench`).
struct SimBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sim",
        abstract: "Messages/s through the execution simulator with resting own orders, against the source alone."
    )
    @Option(help: "Market source (SOURCE spec; journals: use the feed kinds). Default: the real LOBSTER level-5 day.")
    var source: String?
    @Option(help: "Own orders kept resting (half bids, half asks).") var orders: Int = 100
    @Option(help: "Rounds; each runs both contenders, in alternating order.") var rounds: Int = 5
    @Option(help: "Passes over the messages per round.") var passes: Int = 4
    @Option(help: "Order latency in ns.") var latency: Int64 = 20_000
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        var o = SimBench.Options()
        o.orders = orders
        o.rounds = rounds
        o.passes = passes
        o.latency = ExecutionLatency(orderNs: latency, responseNs: latency)
        if let source {
            do { o.source = try SourceSpec(parsing: source) } catch { throw ValidationError("\(error)") }
        }
        let explicit = source != nil
        let outcome = try runBenchmark { () throws(BenchError) in
            var o = o
            if !explicit { o.source = try SimBench.defaultSource() }
            return try SimBench.run(o)
        }
        printBench(outcome.report, text: outcome.text, json: json)
    }
}
