/// Why a feature definition was refused (what and where).
public enum FeatureError: Error, Equatable, CustomStringConvertible {
    case io(path: String, reason: String)
    case syntax(line: Int, message: String)
    case invalid(feature: String, message: String)

    public var description: String {
        switch self {
        case .io(let path, let reason): return "cannot read feature definition \(path): \(reason)"
        case .syntax(let line, let message): return "feature definition line \(line): \(message)"
        case .invalid(let feature, let message): return "feature '\(feature)': \(message)"
        }
    }
}
