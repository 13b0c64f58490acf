import CTickBus
import TickBusCore

/// A source of normalised market messages: synthetic, ITCH file, MoldUDP64, LOBSTER, journal.
/// Sources are used through generics (`FeedPublisher.run`), never as existentials, so each
/// source's `next` is specialised and inlined into the publish loop. A source that owns memory or a
/// descriptor is `~Copyable` and frees it in `deinit`.
public protocol MarketSource: ~Copyable {
    /// The next message, or nil at the end of the data. Receive time is stamped by the publisher.
    mutating func next() -> MarketMessage?
    /// Counts of what the source read, skipped and why; printed at the end of a feed.
    var report: FeedReport { get }
    /// Whether the source yielded an end-of-session message of its own (a republished ring carries
    /// its sender's): the publisher then adds none.
    var endOfSessionYielded: Bool { get }
}

extension MarketSource where Self: ~Copyable {
    /// Sources that read exchange data never yield the ring's end-of-session themselves.
    @inlinable public var endOfSessionYielded: Bool { false }
}

/// What a source read and what it skipped (malformed input is counted by kind, never fatal).
public struct FeedReport: Sendable, Equatable {
    public var messagesIn: UInt64 = 0
    public var malformed: [String: UInt64] = [:]
    /// The first offsets of malformed input, with their kind ("offset 1234: truncated tail").
    public var malformedSamples: [String] = []
    public var unknownReferences: UInt64 = 0
    /// The source stopped before the end of its data (a truncated tail: a length running past
    /// the end), so whatever followed was never read; a command that ran it exits non-zero.
    public var stoppedEarly = false
    public init() {}

    public mutating func malformed(_ kind: String, at offset: Int) {
        malformed[kind, default: 0] += 1
        if malformedSamples.count < 20 { malformedSamples.append("offset \(offset): \(kind)") }
    }

    public var malformedTotal: UInt64 { malformed.values.reduce(0, +) }
}

/// How fast to publish.
public enum FeedPace: Sendable, Equatable {
    /// As fast as the ring takes them.
    case max
    /// A steady rate in messages per second (spins on the monotonic clock; sleeps when far ahead).
    case rate(Double)
}

/// Publishes a source into a ring: stamps receive time, publishes, keeps the producer's
/// heartbeat and reader table fresh every 4096 messages, and ends with end-of-session.
public enum FeedPublisher {
    public struct Summary: Sendable {
        public var published: UInt64
        public var seconds: Double
        public var report: FeedReport
        @inlinable public init(published: UInt64, seconds: Double, report: FeedReport) {
            self.published = published
            self.seconds = seconds
            self.report = report
        }
    }

    @inlinable
    public static func run<Source: MarketSource & ~Copyable>(
        _ source: inout Source,
        into producer: inout RingProducer,
        pace: FeedPace = .max,
        limit: UInt64 = .max,
        endOfSession: Bool = true,
        stop: () -> Bool = { false }
    ) -> Summary {
        let start = tb_monotonic_ns()
        let interval: Double
        switch pace {
        case .max: interval = 0
        case .rate(let r): interval = r > 0 ? 1e9 / r : 0
        }
        var count: UInt64 = 0
        var lastExchangeTime: Int64 = 0
        while count < limit, var message = source.next() {
            if interval > 0 {
                let due = start &+ UInt64(Double(count) * interval)
                var now = tb_monotonic_ns()
                if due > now &+ 2_000_000 { producer.housekeeping(now: now) }
                // Sleep when more than 20 µs ahead (the due times are absolute, so a late wake-up
                // is caught up with a short burst and the average rate holds); spin only for the
                // last few microseconds of fast rates.
                while now < due {
                    if due - now > 20_000 { _sleepMicros(UInt32((due - now) / 1000 / 2)) } else { tb_cpu_relax() }
                    now = tb_monotonic_ns()
                }
            }
            message.receiveTime = Int64(bitPattern: tb_monotonic_ns())
            lastExchangeTime = message.exchangeTime
            _ = producer.publish(message)
            count &+= 1
            if count & 4095 == 0 {
                producer.housekeeping()
                if stop() { break }
            }
        }
        if endOfSession && !source.endOfSessionYielded {
            var eos = MarketMessage.endOfSession(exchangeTime: lastExchangeTime, messages: count)
            eos.receiveTime = Int64(bitPattern: tb_monotonic_ns())
            _ = producer.publish(eos)
        }
        producer.heartbeat()
        let seconds = Double(tb_monotonic_ns() - start) / 1e9
        return Summary(published: producer.published, seconds: seconds, report: source.report)
    }
}

#if canImport(Glibc)
import Glibc
@usableFromInline func _sleepMicros(_ us: UInt32) { usleep(us) }
#endif
