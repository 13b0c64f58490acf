import Features
import Feed
import Journal
import Models
import Strategy
import TickBusCore

/// Why a benchmark could not run or produced no trustworthy figure; the cause is kept as a value.
public enum BenchError: Error, CustomStringConvertible {
    /// A bad argument or input (names the option or file and what was wrong).
    case invalid(String)
    /// A segment could not be created or attached.
    case segment(SegmentError)
    /// A stats block could not be created.
    case stats(StatsError)
    /// An input file (ITCH) could not be read or written.
    case feed(FeedError)
    /// A journal could not be written.
    case journal(JournalError)
    /// A model could not be loaded.
    case model(path: String, ModelError)
    /// A feature definition could not be loaded.
    case features(FeatureError)
    /// A strategy loop could not be set up (placement, models against the definition).
    case strategy(StrategyError)
    /// A system call failed.
    case system(call: String, path: String, errno: Int32)
    /// A child process (reader, strategy, feed, trainer) failed or misbehaved.
    case child(String)
    /// The run finished but its figures cannot be trusted (e.g. predictions differ, messages lost).
    case check(String)

    public var description: String {
        switch self {
        case .invalid(let s): return s
        case .segment(let e): return "\(e)"
        case .stats(let e): return "\(e)"
        case .feed(let e): return "\(e)"
        case .journal(let e): return "\(e)"
        case .model(let path, let e): return "\(path): \(e)"
        case .features(let e): return "\(e)"
        case .strategy(let e): return "\(e)"
        case .system(let call, let path, let errno):
            return "\(call) \(path): \(String(cString: strerror(errno))) (errno \(errno))"
        case .child(let s): return s
        case .check(let s): return s
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif

/// Creates or attaches a segment (a ring, a stats block), its error kept as `BenchError.segment`.
func segment<T: ~Copyable>(_ body: () throws(SegmentError) -> T) throws(BenchError) -> T {
    do { return try body() } catch { throw .segment(error) }
}
