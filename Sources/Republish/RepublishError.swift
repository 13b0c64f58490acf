import Feed
import TickBusCore

/// Why `tickbus republish` could not run; each keeps its cause and names what it was about.
public enum RepublishError: Error, CustomStringConvertible {
    /// A flag's value is wrong (the flag, then why).
    case badOption(String, String)
    /// The ring could not be attached.
    case ring(bus: String, ring: String, cause: SegmentError)
    /// A socket could not be made, bound or joined.
    case network(FeedError, what: String)

    public var description: String {
        switch self {
        case .badOption(let flag, let why): return "\(flag): \(why)"
        case .ring(let bus, let ring, let cause): return "cannot read ring \(ring) of bus \(bus): \(cause)"
        case .network(let e, let what): return "\(what): \(e)"
        }
    }
}
