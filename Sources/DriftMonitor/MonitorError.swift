import Drift
import Journal
import Registry
import TickBusCore

/// Why the drift monitor could not start or stopped: what was wrong and where, with the cause.
public enum MonitorError: Error, CustomStringConvertible {
    /// The baseline file could not be read.
    case baseline(path: String, DriftError)
    /// The baseline was made from another feature definition than the decisions' (names, order,
    /// count or the definition's hash differ).
    case definitionMismatch(baseline: String, message: String)
    /// The decisions are not of the layout this monitor reads (another ring schema, another
    /// decision record version, a slot too small for its features).
    case schema(source: String, message: String)
    /// A ring could not be attached.
    case ring(bus: String, ring: String, SegmentError)
    /// A journal could not be opened or read.
    case journal(directory: String, ring: String, JournalError)
    /// The registry (for the expected hit rate and the definition check) could not be read.
    case registry(RegistryError)
    /// The policy file was refused.
    case policy(String)
    /// An argument out of its domain (window size, horizon, expected hit rate).
    case invalid(String)

    public var description: String {
        switch self {
        case .baseline(let path, let e): return "baseline \(path): \(e)"
        case .definitionMismatch(let b, let m): return "baseline \(b) is of another feature definition: \(m)"
        case .schema(let s, let m): return "\(s): \(m)"
        case .ring(let bus, let ring, let e): return "bus \(bus), ring \(ring): \(e)"
        case .journal(let d, let r, let e): return "journal \(d), ring \(r): \(e)"
        case .registry(let e): return "registry: \(e)"
        case .policy(let m): return "policy: \(m)"
        case .invalid(let m): return m
        }
    }
}
