import Features
import Models

/// Why a registry command was refused. Each case names the file, version or alias concerned and
/// keeps the underlying cause.
public enum RegistryError: Error, CustomStringConvertible {
    /// The registry directory does not exist (only `add` creates one).
    case noRegistry(path: String)
    /// A file could not be read, written or listed; `reason` is the system's message.
    case io(path: String, operation: String, reason: String)
    /// A registry file (manifest, log entry, head, policy, approval, examples) is not what it must be.
    case malformed(what: String, reason: String)
    /// A registry file that is not JSON at all: the parser's error (line, column, what) kept.
    case syntax(what: String, ModelError)
    /// The model file does not load.
    case model(path: String, ModelError)
    /// The feature definition does not load.
    case features(path: String, FeatureError)
    /// No version has this id or prefix.
    case unknownVersion(String)
    /// A prefix that more than one version starts with.
    case ambiguousPrefix(String, matches: [String])
    /// A reference that is neither a hex id (at least 12 digits) nor NAME@ALIAS.
    case badReference(String, reason: String)
    /// An argument out of its domain (a tag, a time, a name).
    case invalidArgument(String)
    /// The alias has never been set.
    case noSuchAlias(String)
    /// The move was refused: every gate that failed, with its reason.
    case refused(alias: String, version: String, failures: [GateResult])
    /// A key file that does not hold an Ed25519 private key, or a signature that could not be made.
    case key(path: String, reason: String)

    public var description: String {
        switch self {
        case .noRegistry(let p): return "registry directory \(p) does not exist (create it with `tickbus registry add`)"
        case .io(let p, let op, let r): return "cannot \(op) \(p): \(r)"
        case .malformed(let w, let r): return "\(w): \(r)"
        case .syntax(let w, let e): return "\(w): \(e)"
        case .model(let p, let e): return "model \(p) does not load: \(e)"
        case .features(let p, let e): return "feature definition \(p) does not load: \(e)"
        case .unknownVersion(let r): return "no version matches \(r)"
        case .ambiguousPrefix(let p, let m):
            return
                "prefix \(p) is ambiguous: \(m.count) versions match (\(m.prefix(4).joined(separator: ", "))); give more digits"
        case .badReference(let r, let why): return "bad version reference '\(r)': \(why)"
        case .invalidArgument(let m): return m
        case .noSuchAlias(let a): return "alias \(a) has never been set"
        case .refused(let alias, let version, let failures):
            return "move of \(alias) to \(version) refused by \(failures.count) gate(s): "
                + failures.map { "\($0.gate): \($0.detail)" }.joined(separator: "; ")
        case .key(let p, let r): return "key \(p): \(r)"
        }
    }
}
