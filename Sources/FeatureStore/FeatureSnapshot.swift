import Export
import Features
import Feed
import Journal
import Parquet
import Registry
import Replay

#if canImport(Glibc)
import Glibc
#endif

/// A content-addressed feature snapshot (`tickbus features snapshot`): the offline feature table
/// (`OfflineTable`, the same `FeatureEngine` as the live strategy) as `features.parquet`, beside a
/// manifest whose sha256 is the snapshot id. Every row carries `sequence`, `instrument`,
/// `exchange_time` (ns since the session's midnight), `event_time` (session midnight + exchange
/// time, UTC epoch ns) and `knowledge_time` (event time + the declared latency), then one DOUBLE
/// column per feature (NaN where the engine has no value yet).
public enum FeatureSnapshot {
    /// The data file's name inside the snapshot directory.
    public static let dataFile = "features.parquet"
    /// The manifest's name inside the snapshot directory.
    public static let manifestFile = "manifest.json"
    /// The columns before the features.
    public static let keyColumns = ["sequence", "instrument", "exchange_time", "event_time", "knowledge_time"]

    /// What a build wrote.
    public struct Built: Sendable {
        public var id: String
        public var manifest: SnapshotManifest
        public var stoppedEarly: Bool
    }

    /// Builds the snapshot of `spec` under `definitionPath` into directory `out` (created).
    /// - Parameters:
    ///   - limit: read at most this many source messages (a synthetic source never ends); recorded
    ///     in the manifest's `source.argument` as `messages=N`.
    ///   - sessionDate: `YYYY-MM-DD`; nil takes the journal header's day, or the date in a LOBSTER
    ///     or ITCH file name, else 1970-01-01.
    public static func build(
        _ spec: SourceSpec,
        definitionPath: String,
        out: String,
        latencyNs: Int64,
        sessionDate: String?,
        limit: UInt64? = nil,
        log: (String) -> Void = { _ in }
    ) throws(SnapshotError) -> Built {
        guard latencyNs >= 0 else { throw .input("--latency-ns must be ≥ 0, not \(latencyNs)") }
        let definition: FeatureDefinition
        do { definition = try FeatureDefinition.load(path: definitionPath) } catch { throw .input("\(error)") }
        guard let definitionHash = InputHashes.sha256(path: definitionPath) else {
            throw .unreadable(path: definitionPath, reason: "cannot be read")
        }
        let date: String
        if let sessionDate { date = sessionDate } else { date = try defaultDate(spec) }
        guard let midnight = SnapshotManifest.midnightNs(date) else {
            throw .input("session date '\(date)' is not YYYY-MM-DD (1970…2261)")
        }
        var (argument, inputs) = try inputHashes(spec)
        if let limit { argument += (argument.isEmpty ? "" : " ") + "messages=\(limit)" }
        if mkdir(out, 0o755) != 0 && errno != EEXIST { throw .unreadable(path: out, reason: "cannot be created") }
        let names = definition.names
        let columns: [ParquetColumn] =
            [
                .uint64("sequence"), .uint32("instrument"), .int64("exchange_time"), .timestampNanos("event_time"),
                .timestampNanos("knowledge_time"),
            ] + names.map { .double($0) }
        let dataPath = out + "/" + dataFile
        let writer: ParquetWriter
        do { writer = try ParquetWriter(path: dataPath, columns: columns) } catch { throw .parquet(error) }
        let engine = FeatureEngine(definition: definition)
        var failure: ParquetError?
        let report: FeedReport
        do {
            report = try OfflineTable.run(spec, engine: engine, limit: limit ?? .max, log: log) {
                sequence,
                time,
                instrument in
                guard failure == nil else { return }
                // Untrusted exchange times: saturate rather than trap (a time beyond 2262 is nonsense
                // either way, and stays visibly so).
                let (event, o1) = midnight.addingReportingOverflow(time)
                let e = o1 ? (time < 0 ? Int64.min : Int64.max) : event
                let (known, o2) = e.addingReportingOverflow(latencyNs)
                writer.uint64(0, sequence)
                writer.uint32(1, instrument)
                writer.int64(2, time)
                writer.int64(3, e)
                writer.int64(4, o2 ? Int64.max : known)
                for i in 0..<engine.count { writer.double(5 + i, engine.values[i]) }
                do throws(ParquetError) { try writer.endRow() } catch { failure = error }
            }
        } catch {
            throw .input("\(error)")
        }
        if let failure { throw .parquet(failure) }
        let rows = Int(writer.rowCount)
        do { try writer.close() } catch { throw .parquet(error) }
        guard let dataHash = InputHashes.sha256(path: dataPath) else {
            throw .unreadable(path: dataPath, reason: "cannot be read back")
        }
        let manifest = SnapshotManifest(
            sourceKind: spec.kind,
            sourceArgument: argument,
            inputs: inputs,
            features: names,
            definition: definitionHash,
            data: [.init(path: dataFile, rows: rows, sha256: dataHash)],
            latencyNs: latencyNs,
            sessionDate: date
        )
        let bytes = manifest.bytes
        try SnapshotFiles.write(out + "/" + manifestFile, bytes)
        return Built(id: Manifest.sha256Hex(bytes), manifest: manifest, stoppedEarly: report.stoppedEarly)
    }

    /// The source's argument (a synthetic seed) and the sha256 of each of its files by name.
    static func inputHashes(_ spec: SourceSpec) throws(SnapshotError) -> (String, [String: String]) {
        func hash(_ path: String) throws(SnapshotError) -> String {
            guard let h = InputHashes.sha256(path: path) else {
                throw .unreadable(path: path, reason: "cannot be read")
            }
            return h
        }
        func base(_ path: String) -> String { String(path.split(separator: "/").last ?? Substring(path)) }
        switch spec {
        case .synthetic(let seed): return ("seed=\(seed)", [:])
        case .itchMoldUDP64(let group): return (group, [:])
        case .tickbusMoldUDP64(let endpoint): return (endpoint.text, [:])  // a live feed: nothing to hash
        case .itch(let path): return ("", [base(path): try hash(path)])
        case .lobster(let messages, let orderbook):
            return ("", [base(messages): try hash(messages), base(orderbook): try hash(orderbook)])
        case .journal(let dir):
            var out: [String: String] = [:]
            // The market ring's files (segments and index): what the table is computed from.
            for name in try listing(dir) where name.hasPrefix("market.") { out[name] = try hash(dir + "/" + name) }
            return ("", out)
        }
    }

    static func listing(_ dir: String) throws(SnapshotError) -> [String] {
        guard let d = opendir(dir) else { throw .unreadable(path: dir, reason: "cannot be listed") }
        defer { closedir(d) }
        var names: [String] = []
        while let e = readdir(d) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    /// The session date a source implies: a journal's header day; a `YYYY-MM-DD` in a LOBSTER file
    /// name (LOBSTER names files TICKER_DATE_…); an ITCH file named MMDDYYYY.…; else 1970-01-01.
    static func defaultDate(_ spec: SourceSpec) throws(SnapshotError) -> String {
        switch spec {
        case .journal(let dir):
            do {
                let reader = try JournalReader(directory: dir, ring: "market")
                return SessionDate(epochNs: reader.header.createdRealtimeNs).text
            } catch { throw .input("journal \(dir): \(error)") }
        case .lobster(let messages, _):
            let name = Array((messages.split(separator: "/").last ?? "").utf8)
            var i = 0
            while i + 10 <= name.count {
                let s = String(decoding: name[i..<i + 10], as: UTF8.self)
                if SnapshotManifest.midnightNs(s) != nil { return s }
                i += 1
            }
            return "1970-01-01"
        case .itch(let path):
            let name = Array((path.split(separator: "/").last ?? "").utf8)
            if name.count >= 8 {
                let d =
                    String(decoding: name[4..<8], as: UTF8.self) + "-" + String(decoding: name[0..<2], as: UTF8.self)
                    + "-" + String(decoding: name[2..<4], as: UTF8.self)
                if SnapshotManifest.midnightNs(d) != nil { return d }
            }
            return "1970-01-01"
        case .synthetic, .itchMoldUDP64, .tickbusMoldUDP64: return "1970-01-01"
        }
    }
}
