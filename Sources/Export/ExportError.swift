import Journal
import Parquet
import TickBusCore

/// Why `tickbus export` could not write a ring, keeping the cause.
public enum ExportError: Error, CustomStringConvertible {
    /// The journal directory or ring does not open.
    case journal(JournalError)
    /// The ring's schema is one export does not write (ring `control`).
    case unsupportedSchema(ring: String, schema: SchemaID)
    /// `--partition` names something other than `date` and `instrument`, or one twice.
    case badPartition(String)
    /// The output folder cannot be created.
    case output(path: String, SystemCallError)
    /// Writing a Parquet file failed.
    case parquet(ParquetError)
    /// The journal stopped before its end (corrupt or cut short): the rows before it were written.
    case journalStopped(records: UInt64, JournalError)

    public var description: String {
        switch self {
        case .journal(let e): return "\(e)"
        case .unsupportedSchema(let ring, let schema):
            return
                "ring \(ring) has schema \(schema) (\(schema.rawValue)): export writes market (1) and decisions (2) rings"
        case .badPartition(let p):
            return "--partition \(p): expected date, instrument or date,instrument"
        case .output(let path, let e): return "\(path): \(e)"
        case .parquet(let e): return "\(e)"
        case .journalStopped(let n, let e): return "the journal stopped after \(n) records: \(e)"
        }
    }
}
