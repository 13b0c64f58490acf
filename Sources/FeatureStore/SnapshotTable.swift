import Parquet
import Registry

/// A snapshot opened for reading: the manifest checked against the data (every data file's sha256
/// and row count, the columns against the feature names), then the rows loaded column by column.
public struct SnapshotTable: Sendable {
    /// The snapshot directory.
    public let directory: String
    /// The sha256 of the manifest's bytes: the snapshot id.
    public let id: String
    public let manifest: SnapshotManifest
    public var sequence: [UInt64] = []
    public var instrument: [UInt32] = []
    public var eventTime: [Int64] = []
    public var knowledgeTime: [Int64] = []
    /// One array per feature (manifest order), one value per row.
    public var features: [[Double]] = []

    /// Opens `directory`, refusing a manifest that does not match its data.
    public init(directory: String) throws(SnapshotError) {
        self.directory = directory
        let what = directory + "/" + FeatureSnapshot.manifestFile
        let bytes = try SnapshotFiles.read(what)
        manifest = try SnapshotManifest(bytes: bytes, what: what)
        id = Manifest.sha256Hex(bytes)
        features = Array(repeating: [], count: manifest.features.count)
        for file in manifest.data {
            let path = directory + "/" + file.path
            let data = try SnapshotFiles.read(path)
            let actual = Manifest.sha256Hex(data)
            guard actual == file.sha256 else { throw .dataMismatch(path: path, expected: file.sha256, actual: actual) }
            let parquet: ParquetFile
            do { parquet = try ParquetFile(bytes: data, path: path) } catch { throw .parquet(error) }
            try load(parquet, rows: file.rows)
        }
    }

    /// Rows.
    public var count: Int { sequence.count }

    mutating func load(_ file: ParquetFile, rows: Int) throws(SnapshotError) {
        guard file.metadata.numRows == Int64(rows) else {
            throw .schema(path: file.path, reason: "\(file.metadata.numRows) rows, the manifest says \(rows)")
        }
        let expected = FeatureSnapshot.keyColumns + manifest.features
        let names = file.columns.map(\.name)
        guard names == expected else {
            throw .schema(path: file.path, reason: "columns \(names), the manifest implies \(expected)")
        }
        // Every column is complete (no nulls: NaN stands for a missing feature value) and of its type.
        func column<T>(
            _ name: String,
            _ type: String,
            _ cast: (ParquetColumnValues.Values) -> [T]?
        )
            throws(SnapshotError) -> [T]
        {
            let c: ParquetColumnValues
            do { c = try file.read(column: name) } catch { throw .parquet(error) }
            guard let v = cast(c.values), v.count == rows, c.present.count == rows else {
                throw .schema(path: file.path, reason: "column \(name) is not \(rows) \(type) values")
            }
            return v
        }
        func int64(_ name: String) throws(SnapshotError) -> [Int64] {
            try column(name, "INT64") { if case .int64(let v) = $0 { v } else { nil } }
        }
        sequence += try int64("sequence").map { UInt64(bitPattern: $0) }
        instrument += try column("instrument", "INT32") { if case .int32(let v) = $0 { v } else { nil } }
            .map { UInt32(bitPattern: $0) }
        eventTime += try int64("event_time")
        knowledgeTime += try int64("knowledge_time")
        for (i, name) in manifest.features.enumerated() {
            features[i] += try column(name, "DOUBLE") { if case .double(let v) = $0 { v } else { nil } }
        }
    }
}
