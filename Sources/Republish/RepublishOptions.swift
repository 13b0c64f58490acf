import Feed
import TickBusCore

/// What goes in the message blocks.
public enum RepublishFormat: String, Sendable, CaseIterable {
    /// The 64-byte normalised market slots, sequence word included (block sequence − 1): the
    /// receiver rebuilds the ring exactly (`tickbus+moldudp64:`).
    case tickbus
    /// Market messages re-encoded as ITCH 5.0 (`ITCHWriter`) for third-party feed handlers; top of
    /// book, gap and end-of-session messages have no ITCH form and are not sent.
    case itch
}

/// `tickbus republish` options (the command's flags, checked before any socket or ring is opened).
public struct RepublishOptions: Sendable {
    public var bus: String
    public var ring = "market"
    /// `ADDR:PORT`: a multicast group, or a unicast destination.
    public var group: String
    /// Outgoing interface for multicast, by name (nil: the routing table's choice).
    public var interface: String?
    /// The MoldUDP64 session (≤ 10 characters); nil: derived from the ring's generation
    /// (`TB` + 8 digits), so a restarted republisher of the same ring continues the same session
    /// and a new feed generation starts a new one.
    public var session: String?
    /// Where the request server listens; nil: 0.0.0.0:PORT+1.
    public var retransmitListen: String?
    public var format = RepublishFormat.tickbus
    /// The largest UDP payload (header and blocks), at most 65,507; default fits a 1,500-byte MTU.
    public var maxPacket = 1472
    public var ttl: UInt8 = 1
    public var loopback = true
    /// Messages kept for retransmission (a power of two): `window × 66` bytes of memory.
    public var window = 1 << 18
    /// A journal directory of the ring (the recorder's `--dir`): retransmissions older than the window.
    public var journal: String?
    /// Retransmitted messages per second (token bucket; a request costs at least 16 messages).
    public var retransmitRate: Double = 500_000
    /// Messages answered per request at most (the receiver asks again for the rest).
    public var maxPerRequest = 4096
    /// Heartbeat after this many ns without a packet.
    public var heartbeatNs: UInt64 = 250_000_000
    /// After end of session: keep answering requests (and repeating end of session every 100 ms)
    /// until none came for this many seconds.
    public var lingerSeconds: Double = 2
    /// Seconds to wait for the ring to exist.
    public var attachTimeout: Double = 10
    /// How the reader waits when the ring is empty (backoff by default; `spinThenYield` for the
    /// lowest latency on a core of its own).
    public var idle = IdleStrategy.backoff
    /// Where the reader starts (`start`: all the ring still holds).
    public var from = StartPosition.start

    public init(bus: String, group: String) {
        self.bus = bus
        self.group = group
    }

    /// Checks every option; the error names the flag.
    public func validate() throws(RepublishError) {
        do { _ = try MoldUDP64.address(group) } catch { throw .badOption("--group", error.description) }
        if let r = retransmitListen {
            do { _ = try MoldUDP64.address(r) } catch { throw .badOption("--retransmit-listen", error.description) }
        }
        if let s = session {
            do { try MoldUDP64Options(pinnedSession: s).validate() } catch {
                throw .badOption("--session", error.description)
            }
        }
        let block = format == .tickbus ? MoldUDP64.tickbusBlock : 50
        guard maxPacket >= MoldUDP64.headerSize + 2 + block, maxPacket <= 65_507 else {
            throw .badOption(
                "--max-packet",
                "\(maxPacket): between \(MoldUDP64.headerSize + 2 + block) and 65507 bytes"
            )
        }
        guard window >= 64, window <= 1 << 26, window & (window - 1) == 0 else {
            throw .badOption("--window", "\(window): a power of two from 64 to 2^26")
        }
        guard retransmitRate > 0, retransmitRate.isFinite else {
            throw .badOption("--retransmit-rate", "\(retransmitRate): a positive number of messages per second")
        }
        guard lingerSeconds >= 0, lingerSeconds < 3600 else { throw .badOption("--linger", "\(lingerSeconds) s") }
        if journal != nil && format == .itch {
            throw .badOption("--journal", "retransmission from the journal needs --format tickbus")
        }
    }
}
