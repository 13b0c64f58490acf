import ArgumentParser
import Bench

/// `tickbus bench record`: recorder throughput against a pwrite loop of the same data, and
/// publish latency with and without the recorder (see `RecordBench`).
struct RecordBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "record",
        abstract: "Recorder throughput vs a pwrite loop of the same data; publish p99 with and without the recorder."
    )
    @Option(help: "Messages per round.") var messages: Int = 4_000_000
    @Option(help: "Rounds (baseline and subject interleaved).") var rounds: Int = 5
    @Option(help: "Directory for the files written (a real file system, not tmpfs, for a fair figure).") var dir:
        String = "/tmp"
    @Option(help: "Ring capacity in slots.") var capacity: Int = 1 << 18
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        var o = RecordBench.Options()
        o.messages = messages
        o.rounds = rounds
        o.dir = dir
        o.capacity = capacity
        let outcome = try runBenchmark { () throws(BenchError) in try RecordBench.run(o) }
        printBench(outcome.report, text: outcome.text, json: json)
    }
}
