import ArgumentParser
import Bench
import Feed

/// `tickbus bench export`: the Parquet export rate against pyarrow in the same run (see `ExportBench`).
struct ExportBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Parquet export records/s and MB/s of ring market, against pyarrow writing the same columns."
    )
    @Option(help: "Market source recorded into the bench journal (SOURCE spec).") var source: String = "synthetic:7"
    @Option(help: "Messages of a synthetic source.") var messages: Int = 2_000_000
    @Option(help: "Export this journal instead (its ring market).") var journal: String?
    @Option(help: "Rounds; each runs both contenders, in alternating order.") var rounds: Int = 5
    @Option(help: "Rows per row group (both sides).") var rowGroupRows: Int = 131_072
    @Option(help: "ZSTD level (both sides).") var zstdLevel: Int32 = 1
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        var o = ExportBench.Options()
        do { o.source = try SourceSpec(parsing: source) } catch { throw ValidationError("\(error)") }
        o.messages = messages
        o.journal = journal
        o.rounds = rounds
        o.rowGroupRows = rowGroupRows
        o.zstdLevel = zstdLevel
        let outcome = try runBenchmark { () throws(BenchError) in try ExportBench.run(o) { warn($0) } }
        printBench(outcome.report, text: outcome.text, json: json)
    }
}
