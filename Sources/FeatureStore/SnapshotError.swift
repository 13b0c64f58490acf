import Parquet
import Registry

/// What is wrong with a snapshot or a point-in-time query, and where: the file or the name given.
public enum SnapshotError: Error, CustomStringConvertible, Sendable {
    /// The manifest at `what` is not canonical JSON or lacks a field: the registry reader's reason.
    case manifest(what: String, RegistryError)
    /// The manifest at `what` holds a value the snapshot writer would not write.
    case malformed(what: String, reason: String)
    /// A data file's bytes do not hash to what the manifest says: the snapshot was changed after it was written.
    case dataMismatch(path: String, expected: String, actual: String)
    /// A file of the snapshot cannot be read.
    case unreadable(path: String, reason: String)
    /// The Parquet data is not what the manifest describes, or does not read.
    case parquet(ParquetError)
    /// The data file's columns or rows disagree with the manifest.
    case schema(path: String, reason: String)
    /// A query names an instrument that has no row in the snapshot.
    case unknownInstrument(UInt32, snapshot: String, known: [UInt32])
    /// A query names a feature the snapshot does not hold.
    case unknownFeature(String, snapshot: String, known: [String])
    /// The source or the definition could not be read while building.
    case input(String)

    public var description: String {
        switch self {
        case .manifest(_, let e): return "\(e)"
        case .malformed(let what, let reason): return "\(what): \(reason)"
        case .dataMismatch(let path, let expected, let actual):
            return
                "\(path): sha256 \(actual) does not match the manifest's \(expected) (the data was changed after the snapshot was written)"
        case .unreadable(let path, let reason): return "\(path): \(reason)"
        case .parquet(let e): return "\(e)"
        case .schema(let path, let reason): return "\(path): \(reason)"
        case .unknownInstrument(let i, let s, let known):
            return
                "instrument \(i) has no row in snapshot \(s) (instruments: \(known.map(String.init).joined(separator: ",")))"
        case .unknownFeature(let f, let s, let known):
            return "feature '\(f)' is not in snapshot \(s) (features: \(known.joined(separator: ",")))"
        case .input(let why): return why
        }
    }
}
