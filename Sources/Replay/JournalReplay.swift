import Feed
import Journal
import TickBusCore
#if canImport(Glibc)
import Glibc
#endif

/// `tickbus replay`: publishes a journal's market ring into ring `market` of a bus through the
/// live feed loop (`FeedPublisher.run` over a `JournalSource`), optionally lossless (waiting for
/// gating readers first, so the ring then waits for them) and paced by exchange time.
public enum JournalReplay {
    /// How fast to replay.
    public enum Speed: Sendable, Equatable {
        /// As fast as the ring (and its gating readers) take the messages.
        case max
        /// Exchange-time seconds per wall second (1: real time).
        case factor(Double)

        /// Parses `max`, `realtime` or `xN` (N times real time, N > 0); nil for anything else.
        public init?(parsing text: String) {
            switch text {
            case "max": self = .max
            case "realtime": self = .factor(1)
            default:
                guard text.hasPrefix("x"), let f = Double(text.dropFirst()), f > 0 else { return nil }
                self = .factor(f)
            }
        }
    }

    public struct Options: Sendable {
        public var directory: String
        public var bus: String
        /// The journal's ring to replay.
        public var ring = "market"
        public var speed = Speed.max
        /// Count only gating readers when waiting (and wait for one when `waitReaders` is nil).
        public var gating = false
        public var waitReaders: Int?
        public var waitTimeout: Double = 30
        /// Ring capacity in slots (a power of two).
        public var capacity = 1 << 16

        public init(directory: String, bus: String) {
            self.directory = directory
            self.bus = bus
        }
    }

    /// What a replay published.
    public struct Summary: Sendable {
        /// Journal entries read (records and gaps, end-of-session excluded).
        public var replayed: UInt64
        public var published: UInt64
        public var seconds: Double
        public var journalGaps: UInt64
        /// Why the journal stopped before a clean seal, nil when it ended cleanly.
        public var stopError: JournalError?
    }

    /// Runs a replay to the end of the journal (or a stop).
    /// - Parameters:
    ///   - stop: polled while waiting and every 4,096 messages.
    ///   - log: progress and warnings (where it publishes, a journal that stops early).
    /// - Throws: `ReplayError` when the journal, the ring or the readers are not there.
    public static func run(_ o: Options, stop: @escaping () -> Bool, log: (String) -> Void = { _ in }) throws(ReplayError) -> Summary {
        var source: JournalSource
        do {
            let pace: Double? = if case .factor(let f) = o.speed { f } else { nil }
            source = try JournalSource(directory: o.directory, ring: o.ring, speed: pace)
        } catch { throw .source(error) }
        var producer: RingProducer
        do {
            producer = try RingProducer(bus: o.bus, ring: "market", schema: .market, slotSize: MarketLayout.slotSize, capacity: o.capacity)
        } catch { throw .ring(error) }
        log("replay: \(o.directory) into ring market on bus \(o.bus), generation \(producer.header.generation), pid \(getpid())")
        let wanted = o.waitReaders ?? (o.gating ? 1 : 0)
        if wanted > 0 {
            switch FeedPublisher.waitForReaders(&producer, count: wanted, gatingOnly: o.gating, timeout: o.waitTimeout, stop: stop) {
            case .ready: break
            case .stopped: throw .stopped
            case .timedOut:
                producer.close()
                throw .readersMissing(wanted: wanted, gating: o.gating, timeout: o.waitTimeout)
            }
        }
        let summary = FeedPublisher.run(&source, into: &producer, pace: .max, stop: stop)
        producer.close()
        if let e = source.reader.stopError { log("replay: the journal stops early: \(e)") }
        return Summary(replayed: source.report.messagesIn, published: summary.published, seconds: summary.seconds,
                       journalGaps: source.reader.gapRecords, stopError: source.reader.stopError)
    }
}

/// Why a replay could not run.
public enum ReplayError: Error, CustomStringConvertible {
    /// The journal's ring cannot be read as a market source.
    case source(JournalSourceError)
    /// Ring `market` could not be created on the bus.
    case ring(SegmentError)
    /// A stop was requested while waiting for readers.
    case stopped
    /// Fewer readers than wanted attached before the timeout.
    case readersMissing(wanted: Int, gating: Bool, timeout: Double)

    public var description: String {
        switch self {
        case .source(let e): return "\(e)"
        case .ring(let e): return "\(e)"
        case .stopped: return "stopped while waiting for readers"
        case .readersMissing(let wanted, let gating, let timeout):
            return "replay: fewer than \(wanted) \(gating ? "gating " : "")readers attached after \(timeout) s"
        }
    }
}
