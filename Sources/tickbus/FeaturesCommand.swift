import ArgumentParser
import Features
import Feed
import Foundation
import Replay

/// Buffered text output to a file or stdout ("-").
final class TextOut {
    let file: UnsafeMutablePointer<FILE>
    let owned: Bool
    var buffer = ""
    init(_ path: String) throws {
        if path == "-" {
            file = fdopen(1, "w")
            owned = false
        } else {
            guard let f = fopen(path, "w") else { throw RuntimeFailure("cannot write \(path)") }
            file = f
            owned = true
        }
        buffer.reserveCapacity(1 << 20)
    }
    func write(_ s: String) {
        buffer += s
        if buffer.utf8.count >= 1 << 20 { flush() }
    }
    func flush() {
        fputs(buffer, file)
        buffer.removeAll(keepingCapacity: true)
    }
    func close() {
        flush()
        if owned { fclose(file) } else { fflush(file) }
    }
}

/// A number as the table prints it: `%.17g`, `nan` for missing.
func tableNumber(_ v: Double) -> String { v.isNaN ? "nan" : g17(v) }

/// `tickbus features`: the offline table (the default: `tickbus features --source …` as before),
/// `snapshot` and `asof` (Docs/FEATURESTORE.md). A group, so that each command owns its options.
struct FeaturesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "features",
        abstract: "The offline feature table (default), feature snapshots and point-in-time lookup.",
        subcommands: [FeaturesTableCommand.self, FeaturesSnapshotCommand.self, FeaturesAsOfCommand.self],
        defaultSubcommand: FeaturesTableCommand.self
    )
}

struct FeaturesTableCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "table",
        abstract:
            "Compute the offline feature table: one row per decision point, with the market sequence and exchange time."
    )

    @Option(help: "synthetic:SEED | lobster:MESSAGES.csv,ORDERBOOK.csv | itch:FILE | journal:DIR") var source: String
    @Option(help: "Feature definition (TOML).") var features: String
    @Option(help: "Output CSV ('-' for stdout).") var out: String
    @Option(help: "Read at most this many source messages.") var messages: UInt64?

    func validate() throws { _ = try parsedSource() }

    func parsedSource() throws -> SourceSpec {
        do { return try SourceSpec(parsing: source) } catch { throw ValidationError(error.description) }
    }

    func run() throws {
        let spec = try parsedSource()
        let definition: FeatureDefinition
        do { definition = try FeatureDefinition.load(path: features) } catch { throw RuntimeFailure(error) }
        let engine = FeatureEngine(definition: definition)
        let text = try TextOut(out)
        text.write((["sequence", "exchange_time", "instrument"] + definition.names).joined(separator: ",") + "\n")
        var rows = 0
        let report: FeedReport
        do {
            report = try OfflineTable.run(spec, engine: engine, limit: messages ?? .max, log: warn) {
                sequence,
                time,
                instrument in
                var line = "\(sequence),\(time),\(instrument)"
                for i in 0..<engine.count {
                    line += ","
                    line += tableNumber(engine.values[i])
                }
                line += "\n"
                text.write(line)
                rows += 1
            }
        } catch {
            throw sourceFailure(error)
        }
        text.close()
        warn("features: \(rows) rows, \(engine.count) features")
        if report.stoppedEarly {  // a truncated tail: the rows after it are missing from the table
            warn("features: the source stopped early at a truncated tail; the rest of the input was not read")
            throw ExitCode(1)
        }
    }
}
