#if canImport(Glibc)
import Glibc
#endif

/// Why a feature definition was refused (what and where).
public enum FeatureError: Error, Equatable, CustomStringConvertible {
    /// The file could not be opened or read: the errno of the failing call, kept as a value.
    case io(path: String, errno: Int32)
    case syntax(line: Int, message: String)
    case invalid(feature: String, message: String)

    public var description: String {
        switch self {
        case .io(let path, let e):
            return "cannot read feature definition \(path): \(String(cString: strerror(e))) (errno \(e))"
        case .syntax(let line, let message): return "feature definition line \(line): \(message)"
        case .invalid(let feature, let message): return "feature '\(feature)': \(message)"
        }
    }
}
