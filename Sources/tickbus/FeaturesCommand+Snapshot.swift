import ArgumentParser
import FeatureStore
import Feed

/// `tickbus features snapshot`: the offline feature table as a content-addressed snapshot (Docs/FEATURESTORE.md).
struct FeaturesSnapshotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot",
        abstract: "Write the offline feature table as a snapshot: DIR/features.parquet and DIR/manifest.json.",
        discussion: """
            Every row: sequence, instrument, exchange_time, event_time (session date + exchange time, UTC epoch ns), \
            knowledge_time (event time + --latency-ns), then the features. Last line on stdout: \
            snapshot id=SHA256 rows=N features=K session_date=D out=DIR (the id is the sha256 of the manifest).
            """
    )

    @Option(help: "synthetic:SEED | lobster:MESSAGES.csv,ORDERBOOK.csv | itch:FILE | journal:DIR") var source: String
    @Option(help: "Feature definition (TOML).") var features: String
    @Option(help: "Snapshot directory (created).") var out: String
    @Option(name: .customLong("latency-ns"), help: "Declared latency: knowledge time = event time + this.")
    var latencyNs: Int64 = 0
    @Option(help: "Session date YYYY-MM-DD (default: the journal header's day, or the date in the file name).")
    var sessionDate: String?
    @Option(help: "Read at most this many source messages (a synthetic source never ends).") var messages: UInt64?

    func validate() throws {
        do { _ = try SourceSpec(parsing: source) } catch { throw ValidationError(error.description) }
        guard latencyNs >= 0 else { throw ValidationError("--latency-ns must be ≥ 0, got \(latencyNs)") }
    }

    func run() throws {
        let spec = try SourceSpec(parsing: source)
        let built: FeatureSnapshot.Built
        do {
            built = try FeatureSnapshot.build(
                spec,
                definitionPath: features,
                out: out,
                latencyNs: latencyNs,
                sessionDate: sessionDate,
                limit: messages,
                log: warn
            )
        } catch {
            throw RuntimeFailure("features snapshot: \(error)", status: ExitStatus.error)
        }
        let m = built.manifest
        print(
            "snapshot id=\(built.id) rows=\(m.data.map(\.rows).reduce(0, +)) features=\(m.features.count) "
                + "session_date=\(m.sessionDate) out=\(out)"
        )
        if built.stoppedEarly {
            warn("features snapshot: the source stopped early at a truncated tail; the rest of the input was not read")
            throw ExitCode(1)
        }
    }
}

/// `tickbus features asof`: point-in-time lookup in a snapshot, as CSV.
struct FeaturesAsOfCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "asof",
        abstract: "For each query time, the latest snapshot row known at or before it (CSV on stdout).",
        discussion: """
            Columns: query_time,instrument,status,sequence,event_time,knowledge_time,<features>. Status ok; stale \
            when the row's event time is more than --ttl ns before the query; missing when no row was known (its \
            fields empty). Ties in knowledge time go to the highest sequence.
            """
    )

    @Option(help: "Snapshot directory.") var snapshot: String
    @Option(help: "Query times, comma-separated: epoch ns or UTC YYYY-MM-DDTHH:MM:SS[.f]Z.") var at: String
    @Option(help: "Only this instrument (default: every instrument of the snapshot).") var instrument: UInt32?
    @Option(help: "Only these features, comma-separated (default: all).") var feature: String?
    @Option(help: "Time to live in ns: older event times are stale.") var ttl: Int64?

    func times() throws -> [Int64] {
        var out: [Int64] = []
        for part in at.split(separator: ",", omittingEmptySubsequences: false) {
            guard let t = QueryTime.parse(String(part)) else {
                throw ValidationError("--at: '\(part)' is neither epoch ns nor YYYY-MM-DDTHH:MM:SS[.f]Z")
            }
            out.append(t)
        }
        return out
    }

    func validate() throws {
        _ = try times()
        if let ttl, ttl < 0 { throw ValidationError("--ttl must be ≥ 0, got \(ttl)") }
    }

    func run() throws {
        let text = try TextOut("-")
        do {
            let table = try SnapshotTable(directory: snapshot)
            try AsOfQuery.run(
                table,
                at: try times(),
                instrument: instrument,
                features: feature.map { $0.split(separator: ",").map(String.init) },
                ttl: ttl
            ) { text.write($0 + "\n") }
        } catch let error as SnapshotError {
            text.close()
            throw RuntimeFailure("features asof: \(error)", status: ExitStatus.error)
        }
        text.close()
    }
}
