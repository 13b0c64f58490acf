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
        guard parts.count == 2, let port = UInt16(parts[1]) else { throw .badArgument("expected ADDR:PORT, got '\(spec)'") }
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_port = port.bigEndian
        guard inet_pton(AF_INET, String(parts[0]), &a.sin_addr) == 1 else { throw .badArgument("'\(parts[0])' is not an IPv4 address") }
        return a
    }

    /// Whether an IPv4 address (network order) is multicast (224.0.0.0/4).
    static func isMulticast(_ a: sockaddr_in) -> Bool { (UInt32(bigEndian: a.sin_addr.s_addr) >> 28) == 0xE }

    /// A UDP socket with large buffers and SO_REUSEADDR. The caller owns the descriptor.
    static func udpSocket() throws(FeedError) -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw .network(SystemCallError(call: "socket", argument: "AF_INET, SOCK_DGRAM", errno: errno)) }
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
    static func bind(_ fd: Int32, _ a: sockaddr_in) throws(FeedError) {
        var a = a
        let rc = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard rc == 0 else {
            let e = errno  // before describe() builds a string
            throw .network(SystemCallError(call: "bind", argument: describe(a), errno: e))
        }
    }

    static func send(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int, to a: sockaddr_in) -> Bool {
        var a = a
        return withUnsafePointer(to: &a) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, p, n, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == n }
        }
    }

    static func describe(_ a: sockaddr_in) -> String {
        let ip = UInt32(bigEndian: a.sin_addr.s_addr)
        return "\(ip >> 24).\((ip >> 16) & 0xFF).\((ip >> 8) & 0xFF).\(ip & 0xFF):\(UInt16(bigEndian: a.sin_port))"
    }

    static func writeHeader(_ p: UnsafeMutableRawPointer, session: (UInt64, UInt16), sequence: UInt64, count: UInt16) {
        p.storeBytes(of: session.0, toByteOffset: 0, as: UInt64.self)
        p.storeBytes(of: session.1, toByteOffset: 8, as: UInt16.self)
        p.storeBytes(of: sequence.bigEndian, toByteOffset: 10, as: UInt64.self)
        p.storeBytes(of: count.bigEndian, toByteOffset: 18, as: UInt16.self)
    }

    /// A session name as the 10 raw bytes of the header.
    static func sessionBytes(_ name: String) -> (UInt64, UInt16) {
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
    }

    let file: _InputFile
    /// Offset of each message's length prefix; message sequence s (from 1) is offsets[s - 1].
    let offsets: [Int]
    let group: sockaddr_in
    let requestAddress: sockaddr_in
    let session: (UInt64, UInt16)
    public private(set) var stats = Stats()

    public init(file path: String, group: String, requestPort: UInt16?, session: String = "TICKBUS001") throws(FeedError) {
        file = try _InputFile(path: path)
        self.group = try MoldUDP64.address(group)
        var r = self.group
        if MoldUDP64.isMulticast(r) { r.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian }
        r.sin_port = (requestPort ?? (UInt16(bigEndian: self.group.sin_port) &+ 1)).bigEndian
        requestAddress = r
        self.session = MoldUDP64.sessionBytes(session)
        var o: [Int] = []
        var at = 0
        while at + 2 <= file.count {
            let n = Int(ITCH.u16(file.base, at))
            guard at + 2 + n <= file.count, n > 0 else { break }
            o.append(at)
            at += 2 + n
        }
        offsets = o
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
    public mutating func run(rate: Double, drop: Double, seed: UInt64, linger: Double, log: (String) -> Void) throws(FeedError) {
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
        log("moldudp64 serve: \(offsets.count) messages to \(MoldUDP64.describe(group)), requests on \(MoldUDP64.describe(requestAddress))")

        let packet = UnsafeMutableRawPointer.allocate(byteCount: 65_536, alignment: 16)
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
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(requests, request, 65_536, 0, $0, &len) }
                }
                guard n >= MoldUDP64.headerSize else { return }
                stats.requests += 1
                lastRequest = tb_monotonic_ns()
                let first = UInt64(bigEndian: request.loadUnaligned(fromByteOffset: 10, as: UInt64.self))
                let count = Int(UInt16(bigEndian: request.loadUnaligned(fromByteOffset: 18, as: UInt16.self)))
                var s = first
                let end = min(UInt64(offsets.count) + 1, first + UInt64(count))
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
                while !MoldUDP64.send(out, packet, bytes, to: group) && tries < 1000 { usleep(100); tries += 1 }
            }
            next += UInt64(k)
            if stats.packets & 63 == 0 { serveRequests() }
        }
        // End of session, repeated, while requests keep coming.
        lastRequest = tb_monotonic_ns()
        while Double(tb_monotonic_ns() - lastRequest) / 1e9 < linger {
            MoldUDP64.writeHeader(packet, session: session, sequence: UInt64(offsets.count) + 1, count: MoldUDP64.endOfSession)
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

/// `--source itch+moldudp64:ADDR:PORT`: receives MoldUDP64 packets (joining the group when it is
/// multicast), detects gaps from the sequence numbers, asks the request server (port + 1) to
/// retransmit, and yields every ITCH message exactly once, in sequence order, through the same
/// decoder as the file source. Packets beyond a gap are dropped and re-requested (go-back-N),
/// so nothing is buffered out of order. Ends at end of session once every message arrived, or
/// when nothing arrives for `idleTimeout` seconds.
public struct MoldUDP64Source: MarketSource {
    @usableFromInline var itch: ITCHSource
    let fd: Int32
    let server: sockaddr_in
    let packet: UnsafeMutableRawPointer
    let request: UnsafeMutableRawPointer
    @usableFromInline var expected: UInt64 = 1
    var packetLength = 0
    var packetOffset = 0
    var packetSequence: UInt64 = 0
    var session: (UInt64, UInt16)?
    var endSequence: UInt64 = .max
    var lastArrival: UInt64
    var lastRequest: UInt64 = 0
    var requestedUpTo: UInt64 = 0
    let idleTimeout: Double
    var finished = false
    /// Gaps detected (a jump in sequence numbers not already being recovered), requests sent, packets received.
    public private(set) var gaps: UInt64 = 0
    public private(set) var requests: UInt64 = 0
    public private(set) var packets: UInt64 = 0

    public var report: FeedReport {
        var r = itch.report
        r.unknownReferences = itch.unknownReferences
        return r
    }
    public var books: OrderBooks { itch.books }

    public init(group spec: String, requestPort: UInt16? = nil, idleTimeout: Double = 10) throws(FeedError) {
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
                guard setsockopt(sock, Int32(IPPROTO_IP), IP_ADD_MEMBERSHIP, &m, socklen_t(MemoryLayout<ip_mreq>.size)) == 0 else {
                    throw .network(SystemCallError(call: "setsockopt", argument: "IP_ADD_MEMBERSHIP", errno: errno), context: "cannot join \(spec)")
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
        fd = sock
        var s = group
        if MoldUDP64.isMulticast(s) { s.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian }
        s.sin_port = (requestPort ?? (UInt16(bigEndian: group.sin_port) &+ 1)).bigEndian
        server = s
        packet = .allocate(byteCount: 65_536, alignment: 16)
        request = .allocate(byteCount: 64, alignment: 16)
        self.idleTimeout = idleTimeout
        lastArrival = tb_monotonic_ns()
        itch = ITCHSource(unowned: UnsafeRawPointer(packet), count: 0)
    }

    /// Closes the socket and frees the buffers (a source is used once, by one publish loop).
    public func close() {
        Glibc.close(fd)
        packet.deallocate()
        request.deallocate()
    }

    public mutating func next() -> MarketMessage? {
        if let p = itch.takePending() { return p }
        while true {
            // Messages left in the current packet.
            while packetOffset + 2 <= packetLength {
                let len = Int(ITCH.u16(packet, packetOffset))
                let at = packetOffset
                packetOffset += 2 + len
                let seq = packetSequence
                packetSequence += 1
                guard packetOffset <= packetLength else {
                    itch.report.malformed(ITCH.Malformed.truncated, at: Int(seq))
                    break
                }
                guard seq == expected else { continue }  // already delivered
                expected += 1
                if let m = itch.process(packet + at + 2, length: len, at: Int(seq)) { return m }
            }
            packetLength = 0
            if finished || expected >= endSequence { finished = true; return nil }
            guard receive() else { return nil }
        }
    }

    /// Receives the next packet in sequence into `packet` (returns false on idle timeout).
    mutating func receive() -> Bool {
        while true {
            let n = recv(fd, packet, 65_536, 0)
            let now = tb_monotonic_ns()
            if n < MoldUDP64.headerSize {
                if Double(now - lastArrival) / 1e9 > idleTimeout { return false }
                // Nothing arrived: re-ask for an outstanding gap, or for the tail after end of session.
                if requestedUpTo > expected || endSequence != .max, now - lastRequest > 50_000_000 {
                    ask(upTo: max(requestedUpTo, endSequence == .max ? expected + 1 : endSequence))
                }
                continue
            }
            lastArrival = now
            packets += 1
            let seq = UInt64(bigEndian: packet.loadUnaligned(fromByteOffset: 10, as: UInt64.self))
            let count = UInt16(bigEndian: packet.loadUnaligned(fromByteOffset: 18, as: UInt16.self))
            if session == nil { session = (packet.load(as: UInt64.self), packet.loadUnaligned(fromByteOffset: 8, as: UInt16.self)) }
            if count == MoldUDP64.endOfSession {
                endSequence = seq
                if expected >= seq { return true }
                if now - lastRequest > 50_000_000 { noteGap(seq); ask(upTo: seq) }
                continue
            }
            if count == 0 {  // heartbeat: seq is the next message the server will send
                if seq > expected, now - lastRequest > 50_000_000 { noteGap(seq); ask(upTo: seq) }
                continue
            }
            let last = seq + UInt64(count)
            if last <= expected { continue }  // all duplicates
            if seq > expected {
                noteGap(seq)
                if now - lastRequest > 20_000_000 || requestedUpTo < seq { ask(upTo: last) }
                continue  // go-back-N: the retransmission brings these again, in order
            }
            packetLength = n
            packetOffset = MoldUDP64.headerSize
            packetSequence = seq
            return true
        }
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
        requestedUpTo = max(requestedUpTo, expected + UInt64(count))
    }
}
