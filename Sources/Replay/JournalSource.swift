import CTickBus
import Feed
import Journal
import TickBusCore
#if canImport(Glibc)
import Glibc
#endif

/// A journal's market ring as a market source: `replay`, `feed --source journal:DIR`, the offline
/// feature table and the backtest read a recording through it, so they all see the same stream
/// as the live feed did. The recorded end-of-session ends the source (a publisher writes its own);
/// gap records become `gap` messages. With a speed, it paces by exchange time.
public struct JournalSource: MarketSource {
    /// The verifying reader; after the end, its `stopError` says whether the journal ended cleanly.
    public let reader: JournalReader
    /// nil: as fast as the consumer takes them; otherwise exchange-time seconds per wall second.
    public let speed: Double?
    public private(set) var report = FeedReport()
    var firstTime: Int64 = 0
    var lastTime: Int64 = 0
    var startNs: UInt64 = 0
    var started = false

    /// Opens `ring` of the journal in `directory`.
    /// - Throws: `JournalSourceError.journal` when the reader refuses, `.notMarket` when the ring
    ///   is not a market ring.
    public init(directory: String, ring: String = "market", speed: Double? = nil) throws(JournalSourceError) {
        do { reader = try JournalReader(directory: directory, ring: ring) } catch { throw .journal(error) }
        guard reader.schema == .market else { throw .notMarket(directory: directory, ring: ring, schema: reader.schema) }
        self.speed = speed
    }

    public mutating func next() -> MarketMessage? {
        guard let e = reader.next() else { return nil }
        switch e {
        case .record(let p):
            let view = MarketMessageView(p)
            if view.rawKind == MessageKind.endOfSession.rawValue { return nil }
            report.messagesIn += 1
            let t = view.exchangeTime
            if let speed { pace(t, speed) }
            lastTime = t
            return MarketMessage(view)
        case .gap(let from, let count):
            report.messagesIn += 1
            return .gap(exchangeTime: lastTime, from: from, count: count)
        }
    }

    /// Waits until exchange time `t` is due at `speed` (sleeps when far ahead, spins the last 200 µs).
    mutating func pace(_ t: Int64, _ speed: Double) {
        if !started {
            started = true
            firstTime = t
            startNs = tb_monotonic_ns()
            return
        }
        // Times come from the journal: subtract in Double (Int64 could overflow) and clamp before
        // the conversion (a value beyond UInt64 would trap); 1e18 ns is three decades.
        let ahead = (Double(t) - Double(firstTime)) / speed
        let due = startNs &+ UInt64(min(max(0, ahead), 1e18))
        var now = tb_monotonic_ns()
        while now < due {
            if due - now > 200_000 { usleep(UInt32(min((due - now) / 2000, 100_000))) } else { tb_cpu_relax() }
            now = tb_monotonic_ns()
        }
    }
}

/// Why a journal cannot be read as a market source.
public enum JournalSourceError: Error, Equatable, CustomStringConvertible {
    /// The reader refused the directory or the ring's first segment.
    case journal(JournalError)
    /// The ring exists but holds another schema (e.g. decisions).
    case notMarket(directory: String, ring: String, schema: SchemaID)

    public var description: String {
        switch self {
        case .journal(let e): return "\(e)"
        case .notMarket(let directory, let ring, let schema):
            return "\(directory): ring '\(ring)' has schema \(schema); replay publishes a market ring"
        }
    }
}
