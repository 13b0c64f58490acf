import CTickBus
import TickBusCore

#if canImport(Glibc)
import Glibc
#endif

/// Where and how a `tickbus+moldudp64:` source listens (the spec's argument).
public struct TickBusMoldUDP64Endpoint: Sendable, Equatable {
    /// `ADDR:PORT`: the multicast group (joined) or the local unicast address (bound).
    public var group: String
    /// The republisher's request server; default 127.0.0.1:PORT+1.
    public var request: String?
    /// Interface that joins the group (by name); nil: the kernel's choice.
    public var interface: String?
    /// Seconds without a packet of the current session before the source ends.
    public var idleSeconds: Double
    /// Reorder window in messages (a power of two).
    public var window = TickBusMoldUDP64Source.defaultWindow

    public static let defaultIdleSeconds = 10.0

    public init(group: String, request: String? = nil, interface: String? = nil, idleSeconds: Double = 10) {
        self.group = group
        self.request = request
        self.interface = interface
        self.idleSeconds = idleSeconds
    }

    /// Parses `ADDR:PORT[,request=ADDR:PORT][,interface=IF][,idle=SECONDS][,window=N]`.
    public init(parsing argument: String) throws(FeedError) {
        let parts = argument.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        guard let first = parts.first, !first.isEmpty else {
            throw .badArgument("expected ADDR:PORT, got '\(argument)'")
        }
        self.init(group: first)
        _ = try MoldUDP64.address(first)
        for option in parts.dropFirst() {
            guard let eq = option.firstIndex(of: "=") else {
                throw .badArgument("'\(option)': expected request=ADDR:PORT, interface=IF or idle=SECONDS")
            }
            let key = String(option[..<eq])
            let value = String(option[option.index(after: eq)...])
            switch key {
            case "request":
                _ = try MoldUDP64.address(value)
                request = value
            case "interface":
                guard !value.isEmpty, value.utf8.count < 16 else {
                    throw .badArgument("interface '\(value)': 1 to 15 bytes")
                }
                interface = value
            case "idle":
                guard let s = Double(value), s.isFinite, s > 0, s < 1e6 else {
                    throw .badArgument("idle=\(value): expected a positive number of seconds")
                }
                idleSeconds = s
            case "window":
                guard let n = Int(value), n >= 64, n <= 1 << 24, n & (n - 1) == 0 else {
                    throw .badArgument("window=\(value): a power of two from 64 to 2^24 messages")
                }
                window = n
            default:
                throw .badArgument("unknown option '\(key)' (request, interface, idle, window)")
            }
        }
    }

    /// The spec's argument again.
    public var text: String {
        var s = group
        if let request { s += ",request=\(request)" }
        if let interface { s += ",interface=\(interface)" }
        if idleSeconds != Self.defaultIdleSeconds { s += ",idle=\(idleSeconds)" }
        if window != TickBusMoldUDP64Source.defaultWindow { s += ",window=\(window)" }
        return s
    }
}

/// What a `tickbus+moldudp64:` receiver saw, exactly: every datagram is counted once under one
/// of packets-accepted, duplicate, other-session or malformed; every sequence of the session is
/// either delivered or inside a gap record.
public struct TickBusMoldUDP64Counts: Sendable, Equatable {
    /// Datagrams received (all of them).
    public var datagrams: UInt64 = 0
    /// Messages delivered from the session (gap records not included).
    public var messages: UInt64 = 0
    /// Blocks received again (already delivered or already held), ignored.
    public var duplicates: UInt64 = 0
    /// Blocks that arrived ahead of a missing one and waited in the reorder window.
    public var reordered: UInt64 = 0
    /// Blocks too far ahead of the next expected sequence for the reorder window (re-requested later).
    public var beyondWindow: UInt64 = 0
    /// Times a missing sequence was first noticed, and retransmission requests sent.
    public var gaps: UInt64 = 0
    public var requests: UInt64 = 0
    /// Gap records published, and the sequences they cover (gone from every source).
    public var gapRecords: UInt64 = 0
    public var unrecovered: UInt64 = 0
    /// Datagrams of another session, dropped; moves to a new session.
    public var otherSession: UInt64 = 0
    public var sessionChanges: UInt64 = 0
    /// Heartbeats and end-of-session packets.
    public var heartbeats: UInt64 = 0
    public var endOfSessionPackets: UInt64 = 0

    /// `tickbus+moldudp64: datagrams=… messages=… …` (stderr of `feed`).
    public func line(malformed: UInt64) -> String {
        "tickbus+moldudp64: datagrams=\(datagrams) messages=\(messages) duplicates=\(duplicates) "
            + "reordered=\(reordered) beyond_window=\(beyondWindow) gaps=\(gaps) requests=\(requests) "
            + "gap_records=\(gapRecords) unrecovered=\(unrecovered) malformed=\(malformed) "
            + "other_session=\(otherSession) session_changes=\(sessionChanges) heartbeats=\(heartbeats) "
            + "end_of_session=\(endOfSessionPackets)"
    }
}

/// `--source tickbus+moldudp64:ADDR:PORT[,request=ADDR:PORT]`: receives the 64-byte messages
/// `tickbus republish --format tickbus` sends and yields exactly the sending ring's sequence.
///
/// Blocks are placed by sequence number in a reorder window (`windowSize` slots), so packets that
/// arrive out of order or twice cost nothing; the next expected sequence is delivered as soon as
/// it is there. A missing sequence is asked for at once and again every 50 ms while missing,
/// from the next expected one, at most `requestLimit` per request. A gap record is published only
/// when the republisher answers that the messages are gone from its window and its journal (the
/// unavailable block), or when a session ends with sequences it never delivered. Sessions are
/// followed as `MoldUDP64Options` says for `itch+moldudp64:`. The source ends after the sending
/// ring's end-of-session message, after an end-of-session packet once all is delivered, or after
/// `idleSeconds` without a packet of the current session.
///
/// Invariant: `packet` (65,536 bytes), `window` (`windowSize` × 64 bytes) and `tags`
/// (`windowSize` words) are allocated here, owned by this value and freed in `deinit`; slot `i`
/// holds sequence `tags[i]` (0: empty), and only sequences in `expected ..< expected + windowSize`
/// are stored, so `seq & mask` never maps two live sequences to one slot.
public struct TickBusMoldUDP64Source: ~Copyable, MarketSource {
    /// The default reorder window: 2^17 messages (8 MiB), 44 ms of a flat-out loopback stream of
    /// 3 M msg/s — longer than a retransmission's round trip on a loaded host.
    public static let defaultWindow = 1 << 17
    let windowSize: Int
    public static let requestLimit: UInt16 = 2000
    static let retryNs: UInt64 = 50_000_000

    let fd: Int32
    let server: sockaddr_in
    let packet: UnsafeMutableRawPointer
    let window: UnsafeMutableRawPointer
    let tags: UnsafeMutablePointer<UInt64>
    let mask: UInt64
    let idleNs: UInt64
    let options: MoldUDP64Options

    var expected: UInt64 = 1
    /// The sequence after the highest one the session announced (data, heartbeat, end of session).
    var announced: UInt64 = 1
    var endSequence: UInt64 = .max
    var session: (UInt64, UInt16)?
    var lastArrival: UInt64
    var lastRequest: UInt64 = 0
    var requestedUpTo: UInt64 = 0
    var lastExchangeTime: Int64 = 0
    var pendingGap: MarketMessage?
    var finished = false
    /// The sending ring's end-of-session was yielded (the publisher then adds none of its own).
    public private(set) var endOfSessionYielded = false
    public private(set) var counts = TickBusMoldUDP64Counts()
    public private(set) var report = FeedReport()

    public init(_ endpoint: TickBusMoldUDP64Endpoint, options: MoldUDP64Options = MoldUDP64Options()) throws(FeedError)
    {
        try options.validate()
        let group = try MoldUDP64.address(endpoint.group)
        let index = try endpoint.interface.map { name throws(FeedError) in try MoldUDP64.interfaceIndex(name) } ?? 0
        var s = group
        if let r = endpoint.request {
            s = try MoldUDP64.address(r)
        } else {
            s.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
            s.sin_port = (UInt16(bigEndian: group.sin_port) &+ 1).bigEndian
        }
        let sock = try MoldUDP64.udpSocket()
        do throws(FeedError) {
            var local = group
            if MoldUDP64.isMulticast(group) { local.sin_addr.s_addr = INADDR_ANY }
            try MoldUDP64.bind(sock, local)
            if MoldUDP64.isMulticast(group) { try MoldUDP64.join(sock, group, interface: index) }
            // The receive timeout lets the loop re-ask for gaps and notice idleness.
            var tv = timeval(tv_sec: 0, tv_usec: 10_000)
            guard setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size)) == 0 else {
                throw .network(SystemCallError(call: "setsockopt", argument: "SO_RCVTIMEO", errno: errno))
            }
        } catch {
            Glibc.close(sock)
            throw error
        }
        fd = sock
        server = s
        packet = .allocate(byteCount: 65_536, alignment: 16)
        windowSize = endpoint.window
        window = .allocate(byteCount: windowSize * MoldUDP64.tickbusBlock, alignment: 64)
        tags = .allocate(capacity: windowSize)
        tags.initialize(repeating: 0, count: windowSize)
        mask = UInt64(windowSize - 1)
        idleNs = UInt64(endpoint.idleSeconds * 1e9)
        self.options = options
        session = options.pinnedSession.map { MoldUDP64.sessionBytes($0) }
        lastArrival = tb_monotonic_ns()
    }

    deinit {
        Glibc.close(fd)
        packet.deallocate()
        window.deallocate()
        tags.deallocate()
    }

    /// The local port the socket is bound to (tests bind port 0).
    public var localPort: UInt16 {
        var a = sockaddr_in()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &a) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        return UInt16(bigEndian: a.sin_port)
    }

    public mutating func next() -> MarketMessage? {
        while true {
            if let g = pendingGap {
                pendingGap = nil
                return g
            }
            if endOfSessionYielded || finished { return nil }
            if let m = deliver() { return m }
            if expected >= endSequence {
                finished = true
                continue
            }
            if !receive() { endIdle() }
        }
    }

    /// The session went silent (or a stop was asked): what it announced and never delivered
    /// becomes one gap record, so the accounting stays exact.
    mutating func endIdle() {
        finished = true
        if announced > expected {
            pendingGap = .gap(exchangeTime: lastExchangeTime, from: expected - 1, count: announced - expected)
            counts.gapRecords &+= 1
            counts.unrecovered &+= announced - expected
        }
    }

    /// The next expected sequence from the window, if it is there.
    mutating func deliver() -> MarketMessage? {
        let slot = Int(truncatingIfNeeded: expected & mask)
        guard tags[slot] == expected else { return nil }
        tags[slot] = 0
        // Safe: slot < windowSize, so the 64 bytes lie inside `window`.
        let view = MarketMessageView(UnsafeRawPointer(window + slot * MoldUDP64.tickbusBlock))
        if view.flags & MoldUDP64.unavailableFlag != 0 {
            // Sequences expected ..< expected + count are gone from the sender: one gap record.
            let count = max(1, view.word(40))
            let gone = MarketMessage.gap(exchangeTime: lastExchangeTime, from: expected - 1, count: count)
            counts.gapRecords &+= 1
            counts.unrecovered &+= count
            let (next, overflow) = expected.addingReportingOverflow(count)
            expected = overflow ? .max : next
            return gone
        }
        expected &+= 1  // expected < announced <= UInt64.max
        let m = MarketMessage(view)
        lastExchangeTime = m.exchangeTime
        counts.messages &+= 1
        report.messagesIn &+= 1
        if m.kind == .endOfSession { endOfSessionYielded = true }
        return m
    }

    /// Receives one datagram (or times out) and files its blocks; false when the session went idle.
    mutating func receive() -> Bool {
        let n = recv(fd, packet, 65_536, 0)
        let now = tb_monotonic_ns()
        if n < 0 {
            if now &- lastArrival > idleNs || tb_stop_requested() != 0 { return false }
            askIfMissing(now: now)
            return true
        }
        counts.datagrams &+= 1
        let header: MoldUDP64.Header
        switch MoldUDP64.validatePacket(UnsafeRawPointer(packet), length: n) {
        case .success(let h): header = h
        case .failure(let e):
            report.malformed(e.kind, at: Int(counts.datagrams))
            return true
        }
        guard accept((header.session, header.sessionTail), now: now) else {
            return now &- lastArrival <= idleNs
        }
        lastArrival = now
        switch header.count {
        case MoldUDP64.endOfSession:
            counts.endOfSessionPackets &+= 1
            endSequence = header.sequence
            announce(header.sequence)
        case 0:
            counts.heartbeats &+= 1
            announce(header.sequence)
        default:
            file(header, length: n)
        }
        askIfMissing(now: now)
        return true
    }

    /// Puts a validated data packet's blocks into the window.
    mutating func file(_ header: MoldUDP64.Header, length: Int) {
        // Safe from overflow: validatePacket checked sequence + count.
        var seq = header.sequence
        var at = MoldUDP64.headerSize
        for _ in 0..<Int(header.count) {
            let n = Int(UInt16(bigEndian: packet.loadUnaligned(fromByteOffset: at, as: UInt16.self)))
            let block = UnsafeRawPointer(packet + at + 2)
            at += 2 + n
            defer { seq &+= 1 }
            guard n == MoldUDP64.tickbusBlock else {
                report.malformed("block not 64 bytes", at: Int(clamping: seq))
                continue
            }
            // Safe: the block is 64 bytes inside the datagram (validated).
            let ringSequence = UInt64(littleEndian: block.loadUnaligned(as: UInt64.self))
            let kind = UInt16(littleEndian: block.loadUnaligned(fromByteOffset: MarketLayout.kind, as: UInt16.self))
            guard ringSequence == seq &- 1, MessageKind(rawValue: kind) != nil else {
                report.malformed("block disagrees with its sequence or kind", at: Int(clamping: seq))
                continue
            }
            announce(seq &+ 1)
            let flags = UInt16(littleEndian: block.loadUnaligned(fromByteOffset: MarketLayout.flags, as: UInt16.self))
            if flags & MoldUDP64.unavailableFlag != 0 {
                let count = UInt64(littleEndian: block.loadUnaligned(fromByteOffset: 40, as: UInt64.self))
                let (end, overflow) = seq.addingReportingOverflow(count)
                guard kind == MessageKind.gap.rawValue, count > 0, !overflow else {
                    report.malformed("bad unavailable block", at: Int(clamping: seq))
                    continue
                }
                // An answer for a range that started before what is delivered: keep the rest.
                guard end > expected else {
                    counts.duplicates &+= 1
                    continue
                }
                announce(end)
                storeUnavailable(at: max(seq, expected), count: end - max(seq, expected))
                continue
            }
            if seq < expected || tags[Int(truncatingIfNeeded: seq & mask)] == seq {
                counts.duplicates &+= 1
                continue
            }
            guard seq - expected < UInt64(windowSize) else {
                counts.beyondWindow &+= 1
                continue
            }
            // Held behind a missing sequence (the next expected one is not there).
            if seq > expected && tags[Int(truncatingIfNeeded: expected & mask)] != expected { counts.reordered &+= 1 }
            let slot = Int(truncatingIfNeeded: seq & mask)
            // Safe: slot < windowSize; 64 bytes copied from the validated block.
            (window + slot * MoldUDP64.tickbusBlock).copyMemory(from: block, byteCount: MoldUDP64.tickbusBlock)
            tags[slot] = seq
        }
    }

    mutating func storeUnavailable(at seq: UInt64, count: UInt64) {
        guard seq - expected < UInt64(windowSize) else {
            counts.beyondWindow &+= 1
            return
        }
        let slot = Int(truncatingIfNeeded: seq & mask)
        // Safe: slot < windowSize, so the 64 bytes lie inside `window`.
        MoldUDP64.writeUnavailableBlock(window + slot * MoldUDP64.tickbusBlock, sequence: seq, count: count)
        tags[slot] = seq
    }

    mutating func announce(_ next: UInt64) {
        if next > announced { announced = next }
    }

    /// Asks the request server for what is missing from `expected`: at once when a new gap shows,
    /// again every 50 ms while it stays missing.
    mutating func askIfMissing(now: UInt64) {
        guard let session, announced > expected else { return }
        let slot = Int(truncatingIfNeeded: expected & mask)
        if tags[slot] == expected { return }  // deliverable: nothing is missing yet
        let fresh = requestedUpTo <= expected
        guard fresh || now &- lastRequest > Self.retryNs else { return }
        if fresh { counts.gaps &+= 1 }
        // Ask up to the first sequence already held (or what was announced), at most requestLimit.
        var end = expected &+ 1
        let limit = min(announced, expected &+ UInt64(Self.requestLimit))
        while end < limit, tags[Int(truncatingIfNeeded: end & mask)] != end { end &+= 1 }
        var request = (UInt64(0), UInt64(0), UInt32(0))  // 20 bytes on the stack
        withUnsafeMutableBytes(of: &request) { b in
            // Safe: 24 bytes of stack, 20 written.
            MoldUDP64.writeHeader(b.baseAddress!, session: session, sequence: expected, count: UInt16(end - expected))
            _ = MoldUDP64.send(fd, b.baseAddress!, MoldUDP64.headerSize, to: server)
        }
        counts.requests &+= 1
        lastRequest = now
        requestedUpTo = end
    }

    /// Whether a datagram of `from` belongs to the session followed; moves to `from` when the
    /// current one ended or went silent (never away from a pinned one), leaving one gap record for
    /// what the old session announced and never delivered.
    mutating func accept(_ from: (UInt64, UInt16), now: UInt64) -> Bool {
        let ended = endSequence != .max
        switch options.decide(from, current: session, ended: ended, silentNs: now &- lastArrival) {
        case .follow:
            session = from
            return true
        case .refuse:
            counts.otherSession &+= 1
            return false
        case .change: break
        }
        let end = ended ? max(endSequence, announced) : announced
        if end > expected {
            pendingGap = .gap(exchangeTime: lastExchangeTime, from: expected - 1, count: end - expected)
            counts.gapRecords &+= 1
            counts.unrecovered &+= end - expected
        }
        session = from
        counts.sessionChanges &+= 1
        expected = 1
        announced = 1
        endSequence = .max
        requestedUpTo = 0
        lastRequest = 0
        tags.update(repeating: 0, count: windowSize)
        return true
    }
}
