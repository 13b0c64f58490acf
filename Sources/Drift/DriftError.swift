import Features

#if canImport(Glibc)
import Glibc
#endif

/// Why a drift baseline (or a drift input) was refused: each case names the file and where in it,
/// and keeps the underlying cause as a value.
public enum DriftError: Error, Equatable, CustomStringConvertible {
    /// A system call on `path` failed: what was being done and the errno it returned.
    case io(path: String, operation: String, errno: Int32)
    /// A baseline file is not what the format says: the field, its byte offset and what was wrong.
    case format(path: String, field: String, offset: Int, message: String)
    /// The feature table: the line (1 = the header) and column concerned.
    case table(path: String, line: Int, column: String, message: String)
    /// The feature definition does not load.
    case definition(path: String, FeatureError)
    /// A baseline of another feature definition: its names, order or hash differ from the one in use.
    case definitionMismatch(baseline: String, message: String)
    /// An argument out of its domain.
    case invalid(String)

    public var description: String {
        switch self {
        case .io(let path, let operation, let e):
            return "cannot \(operation) \(path): \(String(cString: strerror(e))) (errno \(e))"
        case .format(let path, let field, let offset, let message):
            return "drift baseline \(path): \(field) at byte \(offset): \(message)"
        case .table(let path, let line, let column, let message):
            return column.isEmpty
                ? "feature table \(path) line \(line): \(message)"
                : "feature table \(path) line \(line), column \(column): \(message)"
        case .definition(let path, let e): return "feature definition \(path) does not load: \(e)"
        case .definitionMismatch(let baseline, let message):
            return "drift baseline \(baseline) is of another feature definition: \(message)"
        case .invalid(let message): return message
        }
    }
}
