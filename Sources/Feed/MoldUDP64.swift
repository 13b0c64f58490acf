import Book
import CTickBus
import TickBusCore

#if canImport(Glibc)
import Glibc
#endif

/// MoldUDP64 framing (NASDAQ): a 20-byte header — session (10 ASCII bytes), sequence number of the
/// first message (u64 big-endian, from 1), message count (u16 big-endian) — then `count` message
/// blocks of a 2-byte big-endian length and the message. Count 0 is a heartbeat (sequence = the
/// next message), 0xFFFF is end of session. A retransmission request sent to the request server
/// is a header alone: session, first sequence wanted, count wanted; the answer is an ordinary
/// packet sent back to the requester.
public enum MoldUDP64 {
    public static let headerSize = 20
    public static let endOfSession: UInt16 = 0xFFFF
    /// Payload budget of one packet (fits a 1,500-byte Ethernet MTU with IP and UDP headers).
    public static let maxPayload = 1400

    /// Parses `ADDR:PORT` into a sockaddr_in.
    public static func address(_ spec: String) throws(FeedError) -> sockaddr_in {
        let parts = spec.split(separator: ":")
        guard parts.count == 2, let port = UInt16(parts[1]) else {
            throw .badArgument("expected ADDR:PORT, got '\(spec)'")
        }
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_port = port.bigEndian
        guard inet_pton(AF_INET, String(parts[0]), &a.sin_addr) == 1 else {
            throw .badArgument("'\(parts[0])' is not an IPv4 address")
        }
        return a
    }

    /// Whether an IPv4 address (network order) is multicast (224.0.0.0/4).
    public static func isMulticast(_ a: sockaddr_in) -> Bool { (UInt32(bigEndian: a.sin_addr.s_addr) >> 28) == 0xE }

    /// A UDP socket with large buffers and SO_REUSEADDR. The caller owns the descriptor.
    public static func udpSocket() throws(FeedError) -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else {
            throw .network(SystemCallError(call: "socket", argument: "AF_INET, SOCK_DGRAM", errno: errno))
        }
        // The kernel clamps the buffer sizes to its limits rather than failing, so a failure here
        // is a bad descriptor or option: report it, and do not leak the socket.
        func set(_ option: Int32, _ name: String, _ value: Int32) throws(FeedError) {
            var v = value
            guard setsockopt(fd, SOL_SOCKET, option, &v, socklen_t(MemoryLayout<Int32>.size)) == 0 else {
                let e = errno  // before close can overwrite it
                Glibc.close(fd)
                throw .network(SystemCallError(call: "setsockopt", argument: name, errno: e))
            }
        }
        try set(SO_RCVBUF, "SO_RCVBUF", 8 << 20)
        try set(SO_SNDBUF, "SO_SNDBUF", 8 << 20)
        try set(SO_REUSEADDR, "SO_REUSEADDR", 1)
        return fd
    }

    /// Binds `fd` to `a`. On failure the descriptor stays open: the caller, who owns it, closes it.
    public static func bind(_ fd: Int32, _ a: sockaddr_in) throws(FeedError) {
        var a = a
        let rc = withUnsafePointer(to: &a) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard rc == 0 else {
            let e = errno  // before describe() builds a string
            throw .network(SystemCallError(call: "bind", argument: describe(a), errno: e))
        }
    }

    public static func send(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int, to a: sockaddr_in) -> Bool {
        var a = a
        return withUnsafePointer(to: &a) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(fd, p, n, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == n
            }
        }
    }

    public static func describe(_ a: sockaddr_in) -> String {
        let ip = UInt32(bigEndian: a.sin_addr.s_addr)
        return "\(ip >> 24).\((ip >> 16) & 0xFF).\((ip >> 8) & 0xFF).\(ip & 0xFF):\(UInt16(bigEndian: a.sin_port))"
    }

    public static func writeHeader(
        _ p: UnsafeMutableRawPointer,
        session: (UInt64, UInt16),
        sequence: UInt64,
        count: UInt16
    ) {
        p.storeBytes(of: session.0, toByteOffset: 0, as: UInt64.self)
        p.storeBytes(of: session.1, toByteOffset: 8, as: UInt16.self)
        p.storeBytes(of: sequence.bigEndian, toByteOffset: 10, as: UInt64.self)
        p.storeBytes(of: count.bigEndian, toByteOffset: 18, as: UInt16.self)
    }

    /// The fields of a packet (or request) header, as decoded from untrusted bytes.
    public struct Header: Sendable, Equatable {
        /// The 10 session bytes: the first 8 as a little-endian word, the last 2 likewise.
        public var session: UInt64
        public var sessionTail: UInt16
        /// Sequence number of the first message (of the next one, for a heartbeat or end of session).
        public var sequence: UInt64
        /// Message count: 0 heartbeat, 0xFFFF end of session.
        public var count: UInt16
        /// The sequence after the packet's last message, or nil when `sequence + count` passes
        /// 2^64 - 1 (no real session gets there: such a packet is malformed).
        public var end: UInt64? { MoldUDP64.endSequence(first: sequence, count: count) }
    }

    /// Decodes the 20-byte header at `p`, or nil when the datagram is shorter than a header.
    public static func decodeHeader(_ p: UnsafeRawPointer, length: Int) -> Header? {
        guard length >= headerSize else { return nil }
        // Safe: the 20 bytes read lie inside the `length >= 20` bytes at p.
        return Header(
            session: p.loadUnaligned(as: UInt64.self),
            sessionTail: p.loadUnaligned(fromByteOffset: 8, as: UInt16.self),
            sequence: UInt64(bigEndian: p.loadUnaligned(fromByteOffset: 10, as: UInt64.self)),
            count: UInt16(bigEndian: p.loadUnaligned(fromByteOffset: 18, as: UInt16.self))
        )
    }

    /// `first + count` (the sequence after a packet's or a request's last message), or nil on
    /// overflow: both numbers come from the network, so the sum is checked, never trapped on.
    @inlinable
    public static func endSequence(first: UInt64, count: UInt16) -> UInt64? {
        let (sum, overflow) = first.addingReportingOverflow(UInt64(count))
        return overflow ? nil : sum
    }

    /// Kinds of malformed packets, counted in the receiver's `FeedReport.malformed`.
    public enum Malformed {
        /// `sequence + count` passes 2^64 - 1.
        public static let sequenceOverflow = "packet sequence overflows"
        /// More message blocks than the header's count.
        public static let extraMessages = "messages beyond the packet count"
    }

    /// A session name as the 10 raw bytes of the header.
    public static func sessionBytes(_ name: String) -> (UInt64, UInt16) {
        var b = Array(name.utf8.prefix(10))
        while b.count < 10 { b.append(0x20) }
        var w: UInt64 = 0
        for i in 0..<8 { w |= UInt64(b[i]) << (8 * UInt64(i)) }
        return (w, UInt16(b[8]) | UInt16(b[9]) << 8)
    }
}

/// The MoldUDP64 publisher of `tickbus moldudp64 serve`: sends an ITCH file's messages in packets to
/// a group (multicast or unicast), drops packets on purpose with probability `drop` (seeded), and
/// answers retransmission requests on the request port (group port + 1 unless given).
public struct MoldUDP64Server {
    public struct Stats: Sendable {
        public var messages: UInt64 = 0
        public var packets: UInt64 = 0
        public var dropped: UInt64 = 0
        public var requests: UInt64 = 0
        public var retransmitted: UInt64 = 0
        /// Zero-length frames in the file (skipped, not served).
        public var zeroLengthFrames: UInt64 = 0
        /// Requests whose first sequence plus count overflows (ignored).
        public var badRequests: UInt64 = 0
    }

    let file: _InputFile
    /// Offset of each message's length prefix; message sequence s (from 1) is offsets[s - 1].
    let offsets: [Int]
    let group: sockaddr_in
    let requestAddress: sockaddr_in
    let session: (UInt64, UInt16)
    public private(set) var stats = Stats()
    /// Offset of a length prefix running past the end of the file: nothing after it was served,
    /// and `moldudp64 serve` exits non-zero (nil when the file ends cleanly).
    public let truncatedTail: Int?

    public init(
        file path: String,
        group: String,
        requestPort: UInt16?,
        session: String = "TICKBUS001"
    ) throws(FeedError) {
        file = try _InputFile(path: path)
        self.group = try MoldUDP64.address(group)
        var r = self.group
        if MoldUDP64.isMulticast(r) { r.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian }
        r.sin_port = (requestPort ?? (UInt16(bigEndian: self.group.sin_port) &+ 1)).bigEndian
        requestAddress = r
        self.session = MoldUDP64.sessionBytes(session)
        var o: [Int] = []
        var at = 0
        var zeroLength: UInt64 = 0
        var tail: Int? = nil
        while at < file.count {
            // Safe: the two length bytes are read only when at + 2 <= count.
            guard at + 2 <= file.count, Int(ITCH.u16(file.base, at)) <= file.count - at - 2 else {
                tail = at
                break
            }
            let n = Int(ITCH.u16(file.base, at))
            if n == 0 { zeroLength += 1 } else { o.append(at) }  // a zero-length frame carries no message
            at += 2 + n
        }
        offsets = o
        truncatedTail = tail
        stats.zeroLengthFrames = zeroLength
    }

    public var messageCount: Int { offsets.count }

    /// Fills `packet` with messages from sequence `first` (at most `limit`); returns bytes and count.
    func fill(_ packet: UnsafeMutableRawPointer, first: UInt64, limit: Int) -> (bytes: Int, count: Int) {
        var size = MoldUDP64.headerSize
        var n = 0
        var s = Int(first)
        while n < limit, s <= offsets.count {
            let at = offsets[s - 1]
            let len = 2 + Int(ITCH.u16(file.base, at))
            if size + len > MoldUDP64.headerSize + MoldUDP64.maxPayload && n > 0 { break }
            (packet + size).copyMemory(from: file.base + at, byteCount: len)
            size += len
            n += 1
            s += 1
        }
        MoldUDP64.writeHeader(packet, session: session, sequence: first, count: UInt16(n))
        return (size, n)
    }

    /// Serves the whole file, then end-of-session every 100 ms while answering requests, until no
    /// request has come for `linger` seconds. `rate` is messages per second (0: as fast as possible).
    public mutating func run(
        rate: Double,
        drop: Double,
        seed: UInt64,
        linger: Double,
        log: (String) -> Void
    ) throws(FeedError) {
        let out = try MoldUDP64.udpSocket()
        defer { close(out) }
        if MoldUDP64.isMulticast(group) {
            var loop: UInt8 = 1
            setsockopt(out, Int32(IPPROTO_IP), IP_MULTICAST_LOOP, &loop, 1)
            var ttl: UInt8 = 1
            setsockopt(out, Int32(IPPROTO_IP), IP_MULTICAST_TTL, &ttl, 1)
        }
        let requests = try MoldUDP64.udpSocket()
        defer { close(requests) }
        try MoldUDP64.bind(requests, requestAddress)
        let flags = fcntl(requests, F_GETFL)
        _ = fcntl(requests, F_SETFL, flags | O_NONBLOCK)
        log(
            "moldudp64 serve: \(offsets.count) messages to \(MoldUDP64.describe(group)), requests on \(MoldUDP64.describe(requestAddress))"
        )

        // A header and one frame of the largest length a file can hold (fill always takes one):
        // 20 + 2 + 65,535 bytes, more than 64 KiB.
        let packet = UnsafeMutableRawPointer.allocate(
            byteCount: MoldUDP64.headerSize + 2 + Int(UInt16.max),
            alignment: 16
        )
        defer { packet.deallocate() }
        let request = UnsafeMutableRawPointer.allocate(byteCount: 65_536, alignment: 16)
        defer { request.deallocate() }
        var rng = SplitMix64(seed: seed)
        let threshold = UInt64(max(0, min(1, drop)) * Double(UInt64.max >> 11)) << 11
        let start = tb_monotonic_ns()
        let interval = rate > 0 ? 1e9 / rate : 0
        var next: UInt64 = 1
        var lastRequest = tb_monotonic_ns()

        func serveRequests() {
            while true {
                var from = sockaddr_in()
                var len = socklen_t(MemoryLayout<sockaddr_in>.size)
                let n = withUnsafeMutablePointer(to: &from) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        recvfrom(requests, request, 65_536, 0, $0, &len)
                    }
                }
                guard let h = MoldUDP64.decodeHeader(request, length: n) else { return }
                stats.requests += 1
                lastRequest = tb_monotonic_ns()
                guard let requestEnd = h.end else {
                    stats.badRequests += 1
                    continue
                }
                var s = h.sequence
                let end = min(UInt64(offsets.count) + 1, requestEnd)
                while s >= 1 && s < end {
                    let (bytes, k) = fill(packet, first: s, limit: Int(end - s))
                    if k == 0 { break }
                    _ = MoldUDP64.send(requests, packet, bytes, to: from)
                    stats.retransmitted += UInt64(k)
                    s += UInt64(k)
                }
            }
        }

        while next <= UInt64(offsets.count) {
            if interval > 0 {
                let due = start &+ UInt64(Double(next - 1) * interval)
                while tb_monotonic_ns() < due {
                    serveRequests()
                    usleep(50)
                }
            }
            let (bytes, k) = fill(packet, first: next, limit: Int.max)
            stats.packets += 1
            stats.messages += UInt64(k)
            if threshold > 0 && rng.next() < threshold {
                stats.dropped += 1
            } else {
                // The socket buffer may be full at full speed: wait a little and retry.
                var tries = 0
                while !MoldUDP64.send(out, packet, bytes, to: group) && tries < 1000 {
                    usleep(100)
                    tries += 1
                }
            }
            next += UInt64(k)
            if stats.packets & 63 == 0 { serveRequests() }
        }
        // End of session, repeated, while requests keep coming.
        lastRequest = tb_monotonic_ns()
        while Double(tb_monotonic_ns() - lastRequest) / 1e9 < linger {
            MoldUDP64.writeHeader(
                packet,
                session: session,
                sequence: UInt64(offsets.count) + 1,
                count: MoldUDP64.endOfSession
            )
            _ = MoldUDP64.send(out, packet, MoldUDP64.headerSize, to: group)
            let until = tb_monotonic_ns() + 100_000_000
            while tb_monotonic_ns() < until {
                serveRequests()
                usleep(1000)
            }
            if tb_stop_requested() != 0 { break }
        }
    }
}

/// How a MoldUDP64 receiver follows sessions (`tickbus feed --session-timeout S --session NAME`).
///
/// A receiver follows one session at a time: the first it hears, or the one pinned by name.
/// Packets of any other session are counted and dropped while the current one is alive. It moves
/// to a new session only after the current one's end-of-session packet, or after the current
/// session has been silent for `sessionTimeoutNs` (monotonic clock: a liveness timeout only, never
/// data), and then publishes a gap record for what the old session left unrecovered. A pinned
/// session is never left.
public struct MoldUDP64Options: Sendable, Equatable {
    /// The default silence after which another session may take over: 5 s.
    public static let defaultSessionTimeoutNs: UInt64 = 5_000_000_000
    /// The longest session name: the 10 bytes of the header.
    public static let sessionLength = 10

    /// Silence of the current session (ns) after which packets of another session start a new one.
    public var sessionTimeoutNs: UInt64
    /// The only session accepted (at most 10 printable ASCII characters, space-padded on the wire
    /// as `moldudp64 serve --session` sends it); nil follows the first session heard.
    public var pinnedSession: String?

    public init(sessionTimeoutNs: UInt64 = MoldUDP64Options.defaultSessionTimeoutNs, pinnedSession: String? = nil) {
        self.sessionTimeoutNs = sessionTimeoutNs
        self.pinnedSession = pinnedSession
    }

    /// What a receiver does with a packet of session `from`.
    public enum SessionDecision: Sendable, Equatable {
        /// The session followed (or the first one heard): take the packet.
        case follow
        /// The current session ended or went silent: move to `from`, then take the packet.
        case change
        /// Another session while the current one lives (or a pinned one): count and drop it.
        case refuse
    }

    /// The one rule both MoldUDP64 receivers follow sessions by: the first session heard (or the
    /// pinned one), another only after the current one's end of session or `sessionTimeoutNs` of
    /// silence, never away from a pinned one.
    public func decide(
        _ from: (UInt64, UInt16),
        current: (UInt64, UInt16)?,
        ended: Bool,
        silentNs: UInt64
    ) -> SessionDecision {
        guard let current, current != from else { return .follow }
        guard pinnedSession == nil, ended || silentNs > sessionTimeoutNs else { return .refuse }
        return .change
    }

    /// Checks the pinned session name (before any socket is opened).
    public func validate() throws(FeedError) {
        if let name = pinnedSession {
            guard !name.isEmpty, name.utf8.count <= Self.sessionLength,
                name.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F })
            else {
                throw .badArgument("session '\(name)': expected 1 to \(Self.sessionLength) printable ASCII characters")
            }
        }
    }
}

/// `--source itch+moldudp64:ADDR:PORT`: receives MoldUDP64 packets (joining the group when it is
/// multicast), detects gaps from the sequence numbers, asks the request server (port + 1) to
/// retransmit, and yields every ITCH message exactly once, in sequence order, through the same
/// decoder as the file source. Packets beyond a gap are dropped and re-requested (go-back-N),
/// so nothing is buffered out of order. Ends at end of session once every message arrived, or
/// when nothing of the current session arrives for `idleTimeout` seconds. Sessions are followed
/// as `MoldUDP64Options` says.
///
/// Owns its socket and packet buffers, which `deinit` releases: the source is `~Copyable`, so
/// exactly one value frees them, once.
public struct MoldUDP64Source: ~Copyable, MarketSource {
    @usableFromInline var itch: ITCHSource
    let fd: Int32
    let server: sockaddr_in
    let packet: UnsafeMutableRawPointer
    let request: UnsafeMutableRawPointer
    @usableFromInline var expected: UInt64 = 1
    var packetLength = 0
    var packetOffset = 0
    var packetSequence: UInt64 = 0
    /// Message blocks of the current packet not yet read (the header's count bounds the walk).
    var packetRemaining = 0
    var session: (UInt64, UInt16)?
    var endSequence: UInt64 = .max
    /// Monotonic time of the last packet of the current session (idle and session liveness).
    var lastArrival: UInt64
    var lastRequest: UInt64 = 0
    var requestedUpTo: UInt64 = 0
    let idleTimeout: Double
    var finished = false
    let options: MoldUDP64Options
    /// The highest next sequence the current session announced (data, heartbeat, end of session).
    var announced: UInt64 = 0
    /// Exchange time of the last message yielded (stamped on a session-change gap record).
    var lastExchangeTime: Int64 = 0
    /// The gap record of a session change, yielded before the new session's first message.
    var pendingGap: MarketMessage?
    /// Gaps detected (a jump in sequence numbers not already being recovered), requests sent, packets received.
    public internal(set) var gaps: UInt64 = 0
    public internal(set) var requests: UInt64 = 0
    public internal(set) var packets: UInt64 = 0
    /// Packets of another session, dropped; and moves to a new session.
    public internal(set) var otherSessionPackets: UInt64 = 0
    public internal(set) var sessionChanges: UInt64 = 0

    public var report: FeedReport {
        var r = itch.report
        r.unknownReferences = itch.unknownReferences
        return r
    }
    public var books: OrderBooks { itch.books }

    public init(
        group spec: String,
        requestPort: UInt16? = nil,
        idleTimeout: Double = 10,
        options: MoldUDP64Options = MoldUDP64Options()
    ) throws(FeedError) {
        try options.validate()
        let group = try MoldUDP64.address(spec)
        let sock = try MoldUDP64.udpSocket()
        // Until `fd` is stored and the init returns, no deinit or close() will run: close the
        // socket on every error path here.
        do throws(FeedError) {
            var local = group
            if MoldUDP64.isMulticast(group) { local.sin_addr.s_addr = INADDR_ANY }
            try MoldUDP64.bind(sock, local)
            if MoldUDP64.isMulticast(group) {
                var m = ip_mreq(imr_multiaddr: group.sin_addr, imr_interface: in_addr(s_addr: INADDR_ANY))
                guard
                    setsockopt(sock, Int32(IPPROTO_IP), IP_ADD_MEMBERSHIP, &m, socklen_t(MemoryLayout<ip_mreq>.size))
                        == 0
                else {
                    throw .network(
                        SystemCallError(call: "setsockopt", argument: "IP_ADD_MEMBERSHIP", errno: errno),
                        context: "cannot join \(spec)"
                    )
                }
            }
            // The receive timeout is what lets `receive` notice idleness and re-ask for gaps.
            var tv = timeval(tv_sec: 0, tv_usec: 20_000)
            guard setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size)) == 0 else {
                throw .network(SystemCallError(call: "setsockopt", argument: "SO_RCVTIMEO", errno: errno))
            }
        } catch {
            Glibc.close(sock)  // the error above holds errno already
            throw error
        }
        var s = group
        if MoldUDP64.isMulticast(s) { s.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian }
        s.sin_port = (requestPort ?? (UInt16(bigEndian: group.sin_port) &+ 1)).bigEndian
        // Nothing below throws: the value is complete, and its deinit closes the socket from here on.
        self.fd = sock
        server = s
        packet = .allocate(byteCount: 65_536, alignment: 16)
        request = .allocate(byteCount: 64, alignment: 16)
        self.idleTimeout = idleTimeout
        self.options = options
        session = options.pinnedSession.map { MoldUDP64.sessionBytes($0) }
        lastArrival = tb_monotonic_ns()
        itch = ITCHSource(unowned: UnsafeRawPointer(packet), count: 0)
    }

    deinit {
        Glibc.close(fd)
        packet.deallocate()
        request.deallocate()
    }

    public mutating func next() -> MarketMessage? {
        if let p = itch.takePending() { return p }
        while true {
            if _slowPath(pendingGap != nil) {
                defer { pendingGap = nil }
                return pendingGap
            }
            // Messages left in the current packet.
            while packetOffset + 2 <= packetLength {
                // Sequence numbers come from the network: reported clamped, never converted with a trap.
                guard packetRemaining > 0 else {
                    itch.report.malformed(MoldUDP64.Malformed.extraMessages, at: Int(clamping: packetSequence))
                    break
                }
                let len = Int(ITCH.u16(packet, packetOffset))
                let at = packetOffset
                packetOffset += 2 + len
                let seq = packetSequence
                // Cannot wrap: the header's sequence + count was checked (receive) and this runs count times.
                packetSequence &+= 1
                packetRemaining -= 1
                guard packetOffset <= packetLength else {
                    itch.report.malformed(ITCH.Malformed.truncated, at: Int(clamping: seq))
                    break
                }
                guard seq == expected else { continue }  // already delivered
                expected &+= 1  // seq == expected < seq + count <= UInt64.max
                if let m = itch.process(packet + at + 2, length: len, at: Int(clamping: seq)) {
                    lastExchangeTime = m.exchangeTime
                    return m
                }
            }
            packetLength = 0
            if finished || expected >= endSequence {
                finished = true
                return nil
            }
            guard receive() else { return nil }
        }
    }

    /// Receives the next packet in sequence into `packet` (returns false on idle timeout).
    mutating func receive() -> Bool {
        while true {
            // A session change left a gap record to yield first.
            if _slowPath(pendingGap != nil) { return true }
            let n = recv(fd, packet, 65_536, 0)
            let now = tb_monotonic_ns()
            if n < MoldUDP64.headerSize {
                if Double(now - lastArrival) / 1e9 > idleTimeout { return false }
                // Nothing arrived: re-ask for an outstanding gap, or for the tail after end of session.
                if requestedUpTo > expected || endSequence != .max, now - lastRequest > 50_000_000 {
                    ask(
                        upTo: max(
                            requestedUpTo,
                            endSequence == .max ? MoldUDP64.endSequence(first: expected, count: 1) ?? .max : endSequence
                        )
                    )
                }
                continue
            }
            packets += 1
            // Safe: n >= headerSize was checked above.
            let header = MoldUDP64.decodeHeader(packet, length: n)!
            let seq = header.sequence
            let count = header.count
            guard
                accept(
                    (packet.load(as: UInt64.self), packet.loadUnaligned(fromByteOffset: 8, as: UInt16.self)),
                    now: now
                )
            else {
                if Double(now &- lastArrival) / 1e9 > idleTimeout { return false }
                continue
            }
            lastArrival = now
            noteAnnounced(seq, count)
            if count == MoldUDP64.endOfSession {
                endSequence = seq
                if expected >= seq { return true }
                if now - lastRequest > 50_000_000 {
                    noteGap(seq)
                    ask(upTo: seq)
                }
                continue
            }
            if count == 0 {  // heartbeat: seq is the next message the server will send
                if seq > expected, now - lastRequest > 50_000_000 {
                    noteGap(seq)
                    ask(upTo: seq)
                }
                continue
            }
            guard let last = header.end else {  // sequence + count overflows: malformed, dropped
                itch.report.malformed(MoldUDP64.Malformed.sequenceOverflow, at: Int(clamping: seq))
                continue
            }
            if last <= expected { continue }  // all duplicates
            if seq > expected {
                noteGap(seq)
                if now - lastRequest > 20_000_000 || requestedUpTo < seq { ask(upTo: last) }
                continue  // go-back-N: the retransmission brings these again, in order
            }
            packetLength = n
            packetOffset = MoldUDP64.headerSize
            packetSequence = seq
            packetRemaining = Int(count)
            return true
        }
    }

    /// Whether a packet of `from` belongs to the session followed; moves to `from` when the
    /// current session has ended or gone silent (never away from a pinned one).
    mutating func accept(_ from: (UInt64, UInt16), now: UInt64) -> Bool {
        let ended = endSequence != .max
        switch options.decide(from, current: session, ended: ended, silentNs: now &- lastArrival) {
        case .follow:
            session = from
            return true
        case .refuse:
            otherSessionPackets &+= 1
            return false
        case .change: break
        }
        // What the old session announced and never delivered becomes one gap record.
        let end = ended ? endSequence : announced
        if end > expected { pendingGap = .gap(exchangeTime: lastExchangeTime, from: expected, count: end - expected) }
        session = from
        sessionChanges &+= 1
        expected = 1
        endSequence = .max
        announced = 0
        requestedUpTo = 0
        lastRequest = 0
        packetLength = 0
        packetOffset = 0
        return true
    }

    /// Records the next sequence a packet of the current session announces.
    mutating func noteAnnounced(_ seq: UInt64, _ count: UInt16) {
        let next: UInt64
        if count == MoldUDP64.endOfSession || count == 0 {
            next = seq
        } else {
            let (sum, overflow) = seq.addingReportingOverflow(UInt64(count))
            next = overflow ? .max : sum
        }
        if next > announced { announced = next }
    }

    mutating func noteGap(_ seq: UInt64) {
        if requestedUpTo <= expected { gaps += 1 }
    }

    mutating func ask(upTo end: UInt64) {
        guard let session, end > expected else { return }
        // At most 2,000 messages per request, so the answer fits the receive buffer.
        let count = UInt16(min(end - expected, 2000))
        MoldUDP64.writeHeader(request, session: session, sequence: expected, count: count)
        _ = MoldUDP64.send(fd, request, MoldUDP64.headerSize, to: server)
        requests += 1
        lastRequest = tb_monotonic_ns()
        requestedUpTo = max(requestedUpTo, expected + UInt64(count))  // count <= end - expected: no overflow
    }
}
