import ArgumentParser
import Bench

/// `tickbus bench feed`: ITCH parse-only and parse+book ns/message against a C loop, and
/// messages/s to a ring (see `FeedBench`).
struct FeedBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "feed",
        abstract: "ITCH parse-only and parse+book ns/message against a C loop, and messages/s to a ring."
    )
    @Option(help: "Messages in the generated ITCH file (at least 10 million for the reported figures).") var messages:
        UInt64 = 10_000_000
    @Option(help: "Use this ITCH file instead of generating one into /tmp.") var file: String?
    @Option(help: "Seed of the generated file.") var seed: UInt64 = 42
    @Option(help: "Rounds; each runs every contender once, in alternating order.") var rounds: Int = 5
    @Option(help: "Run only these contenders, comma-separated: c, parse, book, ring (for profiling).") var only: String?
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        var o = FeedBench.Options()
        o.messages = messages
        o.file = file
        o.seed = seed
        o.rounds = rounds
        o.only = only.map { $0.split(separator: ",").map(String.init) }
        let outcome = try runBenchmark { () throws(BenchError) in try FeedBench.run(o) }
        printBench(outcome.report, text: outcome.text, json: json)
    }
}
