import TickBusCore

#if canImport(Glibc)
import Glibc
#endif

/// The parts of the MoldUDP64 wire shared by `tickbus republish` (the sender and its request
/// server, in `Republish`) and the `tickbus+moldudp64:` receiver: whole-packet validation, the
/// request decoder, and the one extension TickBus adds for its own 64-byte payload (the
/// "unavailable" block). Every number read here comes from the network: sums are checked, lengths
/// compared before they are used, and a bad packet is refused whole with the reason, never trapped on.
extension MoldUDP64 {
    /// Size of one `--format tickbus` message block: the 64-byte market slot (sequence word = the
    /// sender's ring sequence, which is the block's MoldUDP64 sequence − 1).
    public static let tickbusBlock = MarketLayout.slotSize
    /// Flag bit of a tickbus gap block that answers a request for messages the sender no longer
    /// has (its window and journal): payload (first ring sequence, count). Never in a ring.
    public static let unavailableFlag: UInt16 = 0x8000

    /// Writes at `p` (64 bytes) the tickbus block that answers a request for sequences
    /// `seq ..< seq + count` the sender no longer has: a gap with `unavailableFlag`, payload
    /// (first ring sequence, count), sequence word `seq − 1` like every tickbus block.
    public static func writeUnavailableBlock(_ p: UnsafeMutableRawPointer, sequence seq: UInt64, count: UInt64) {
        let m = MarketMessage(
            kind: .gap,
            flags: unavailableFlag,
            instrument: 0,
            exchangeTime: 0,
            payload: (seq &- 1, count, 0, 0)
        )
        p.storeBytes(of: (seq &- 1).littleEndian, as: UInt64.self)
        m.store(to: p)
    }

    /// Why a datagram was refused (counted by the receiver under `description`).
    public enum PacketError: Error, Equatable, Sendable, CustomStringConvertible {
        /// Shorter than the 20-byte header.
        case short(length: Int)
        /// `sequence + count` passes 2^64 − 1.
        case sequenceOverflow(sequence: UInt64, count: UInt16)
        /// Sequence 0 (MoldUDP64 numbers messages from 1).
        case sequenceZero
        /// Block `index`'s length runs past the end of the datagram (`offset`: its length prefix).
        case truncatedBlock(index: Int, offset: Int)
        /// The header's count announces more blocks than the datagram holds (`blocks` are there).
        case countOverrunsPacket(count: UInt16, blocks: Int)
        /// Bytes left after the `count` blocks the header announced.
        case extraBytes(count: UInt16, bytes: Int)

        /// The kind, as the receiver counts it.
        public var kind: String {
            switch self {
            case .short: return "packet shorter than its header"
            case .sequenceOverflow: return Malformed.sequenceOverflow
            case .sequenceZero: return "packet sequence 0"
            case .truncatedBlock: return "truncated block"
            case .countOverrunsPacket: return "count overruns the packet"
            case .extraBytes: return Malformed.extraMessages
            }
        }

        public var description: String {
            switch self {
            case .short(let n): return "datagram of \(n) bytes is shorter than the 20-byte header"
            case .sequenceOverflow(let s, let c): return "sequence \(s) + count \(c) passes 2^64 - 1"
            case .sequenceZero: return "sequence 0 (messages are numbered from 1)"
            case .truncatedBlock(let i, let o): return "block \(i) at offset \(o) runs past the datagram"
            case .countOverrunsPacket(let c, let b): return "count \(c) but only \(b) blocks in the datagram"
            case .extraBytes(let c, let x): return "\(x) bytes after the \(c) blocks the header announced"
            }
        }
    }

    /// Checks a whole datagram before any of it is used: the header, then every block's length
    /// against the bytes left, and that the blocks fill the datagram exactly. Heartbeats and end of
    /// session must be a header alone.
    public static func validatePacket(_ p: UnsafeRawPointer, length: Int) -> Result<Header, PacketError> {
        guard let h = decodeHeader(p, length: length) else { return .failure(.short(length: length)) }
        if h.count == 0 || h.count == endOfSession {
            guard length == headerSize else {
                return .failure(.extraBytes(count: h.count, bytes: length - headerSize))
            }
            return .success(h)
        }
        guard h.sequence != 0 else { return .failure(.sequenceZero) }
        guard h.end != nil else { return .failure(.sequenceOverflow(sequence: h.sequence, count: h.count)) }
        var at = headerSize
        var i = 0
        while i < Int(h.count) {
            if at == length { return .failure(.countOverrunsPacket(count: h.count, blocks: i)) }
            guard length - at >= 2 else { return .failure(.truncatedBlock(index: i, offset: at)) }
            // Safe: at + 2 <= length.
            let n = Int(UInt16(bigEndian: p.loadUnaligned(fromByteOffset: at, as: UInt16.self)))
            guard n <= length - at - 2 else { return .failure(.truncatedBlock(index: i, offset: at)) }
            at += 2 + n
            i += 1
        }
        guard at == length else { return .failure(.extraBytes(count: h.count, bytes: length - at)) }
        return .success(h)
    }

    /// A retransmission request: session, first sequence wanted, how many.
    public struct Request: Sendable, Equatable {
        public var session: UInt64
        public var sessionTail: UInt16
        public var sequence: UInt64
        public var count: UInt16
        /// The sequence after the last one asked for (checked not to overflow by `decodeRequest`).
        public var end: UInt64 { sequence + UInt64(count) }
    }

    /// Why a request was refused (the request server counts it as a bad request).
    public enum RequestError: Error, Equatable, Sendable, CustomStringConvertible {
        /// A request is exactly the 20-byte header.
        case wrongLength(Int)
        /// Sequence 0, or a count of 0 or 0xFFFF (not a number of messages).
        case badRange(sequence: UInt64, count: UInt16)
        /// `sequence + count` passes 2^64 − 1.
        case sequenceOverflow(sequence: UInt64, count: UInt16)

        public var description: String {
            switch self {
            case .wrongLength(let n): return "request of \(n) bytes (a request is the 20-byte header)"
            case .badRange(let s, let c): return "request for \(c) messages from sequence \(s)"
            case .sequenceOverflow(let s, let c): return "request sequence \(s) + count \(c) passes 2^64 - 1"
            }
        }
    }

    /// Decodes a request datagram (untrusted): exactly a header, a sequence from 1, a count of
    /// 1...0xFFFE whose end does not overflow.
    public static func decodeRequest(_ p: UnsafeRawPointer, length: Int) -> Result<Request, RequestError> {
        guard length == headerSize, let h = decodeHeader(p, length: length) else {
            return .failure(.wrongLength(length))
        }
        guard h.sequence != 0, h.count != 0, h.count != endOfSession else {
            return .failure(.badRange(sequence: h.sequence, count: h.count))
        }
        guard h.end != nil else { return .failure(.sequenceOverflow(sequence: h.sequence, count: h.count)) }
        return .success(Request(session: h.session, sessionTail: h.sessionTail, sequence: h.sequence, count: h.count))
    }

    /// The index of a network interface by name (`--interface IF`), for multicast.
    public static func interfaceIndex(_ name: String) throws(FeedError) -> Int32 {
        let index = if_nametoindex(name)
        guard index != 0 else {
            throw .network(
                SystemCallError(call: "if_nametoindex", argument: name, errno: errno),
                context: "no interface '\(name)'"
            )
        }
        return Int32(index)
    }

    /// Joins the multicast group of `group` on `fd`, on interface `index` (0: the kernel's choice).
    static func join(_ fd: Int32, _ group: sockaddr_in, interface index: Int32) throws(FeedError) {
        var m = ip_mreqn(imr_multiaddr: group.sin_addr, imr_address: in_addr(s_addr: INADDR_ANY), imr_ifindex: index)
        guard setsockopt(fd, Int32(IPPROTO_IP), IP_ADD_MEMBERSHIP, &m, socklen_t(MemoryLayout<ip_mreqn>.size)) == 0
        else {
            throw .network(
                SystemCallError(call: "setsockopt", argument: "IP_ADD_MEMBERSHIP", errno: errno),
                context: "cannot join \(describe(group))"
            )
        }
    }

    /// A UDP socket for sending to `group`: TTL, loopback and the outgoing interface set when it is
    /// multicast. The caller owns the descriptor.
    public static func senderSocket(
        to group: sockaddr_in,
        interface index: Int32,
        ttl: UInt8,
        loopback: Bool
    ) throws(FeedError) -> Int32 {
        let fd = try udpSocket()
        guard isMulticast(group) else { return fd }
        func set(_ name: String, _ option: Int32, _ value: UnsafeRawPointer, _ size: Int) throws(FeedError) {
            guard setsockopt(fd, Int32(IPPROTO_IP), option, value, socklen_t(size)) == 0 else {
                let e = errno
                Glibc.close(fd)
                throw .network(SystemCallError(call: "setsockopt", argument: name, errno: e))
            }
        }
        var t = ttl
        try set("IP_MULTICAST_TTL", IP_MULTICAST_TTL, &t, 1)
        var loop = UInt8(loopback ? 1 : 0)
        try set("IP_MULTICAST_LOOP", IP_MULTICAST_LOOP, &loop, 1)
        if index != 0 {
            var m = ip_mreqn(
                imr_multiaddr: in_addr(s_addr: 0),
                imr_address: in_addr(s_addr: INADDR_ANY),
                imr_ifindex: index
            )
            try set("IP_MULTICAST_IF", IP_MULTICAST_IF, &m, MemoryLayout<ip_mreqn>.size)
        }
        return fd
    }
}
