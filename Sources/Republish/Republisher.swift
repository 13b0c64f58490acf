import CTickBus
import Feed
import TickBusCore

#if canImport(Glibc)
import Glibc
#endif

/// `tickbus republish`: a live reader of a ring (it never slows the producer; its lag and loss
/// are in its reader-table entry `republish` and its stats block `stats.republish`) that sends
/// every message in MoldUDP64 packets to a group, and answers retransmission requests.
///
/// Sequence numbers: with `--format tickbus`, the block of ring sequence `s` has MoldUDP64
/// sequence `s + 1`, always — a lapped range is simply not sent (its sequences are skipped), and a
/// request for it is answered from the journal or with an unavailable block. So the receiver's
/// ring is the sender's, and a restarted republisher of the same ring generation continues the
/// same session. With `--format itch`, sequences count the ITCH messages sent.
///
/// Packets: messages are batched while the ring has more (up to `maxPacket` bytes); a partial
/// packet is sent as soon as the ring is drained, so batching never adds latency. A heartbeat
/// (count 0, the next sequence) goes out after `heartbeatNs` without a packet. The ring's
/// end-of-session message (or its producer closing or dying) ends the session: end-of-session
/// packets (count 0xFFFF) every 100 ms while requests keep coming, until `lingerSeconds` pass
/// without one. A stop (SIGINT/SIGTERM) sends no end of session: receivers keep waiting, and a
/// restart continues.
///
/// Invariant: `packet` and `answer` (65,536 bytes each) are allocated here and owned by this
/// value (freed in `deinit`); `packetLength` ≤ `maxPacket` ≤ 65,507.
public struct Republisher: ~Copyable {
    /// What was sent and served; printed as `Stats.line`.
    public struct Stats: Sendable, Equatable {
        /// Ring messages read, and sent in blocks (itch: those with an ITCH form).
        public var read: UInt64 = 0
        public var messages: UInt64 = 0
        public var packets: UInt64 = 0
        public var heartbeats: UInt64 = 0
        public var endOfSessionPackets: UInt64 = 0
        /// Ring messages lost to laps (the reader fell a ring behind), in `gaps` laps.
        public var lost: UInt64 = 0
        public var gaps: UInt64 = 0
        /// Requests received; refused by the rate limit; malformed; of another session.
        public var requests: UInt64 = 0
        public var limited: UInt64 = 0
        public var badRequests: UInt64 = 0
        public var otherSessionRequests: UInt64 = 0
        /// Messages retransmitted (from the window, from the journal), and answered as unavailable.
        public var retransmitted: UInt64 = 0
        public var fromJournal: UInt64 = 0
        public var unavailable: UInt64 = 0
        /// Datagrams the kernel did not take after retries.
        public var sendFailures: UInt64 = 0

        public init() {}

        public var line: String {
            "republished=\(messages) read=\(read) packets=\(packets) heartbeats=\(heartbeats) "
                + "end_of_session=\(endOfSessionPackets) lost=\(lost) gaps=\(gaps) requests=\(requests) "
                + "limited=\(limited) bad_requests=\(badRequests) other_session=\(otherSessionRequests) "
                + "retransmitted=\(retransmitted) from_journal=\(fromJournal) unavailable=\(unavailable) "
                + "send_failures=\(sendFailures)"
        }
    }

    public let options: RepublishOptions
    public internal(set) var stats = Stats()
    /// The session's 10 bytes, and its name.
    public let sessionName: String
    let session: (UInt64, UInt16)
    let group: sockaddr_in
    let out: Int32
    let requestSocket: Int32
    var reader: RingReader
    var window: RetransmitWindow
    let packet: UnsafeMutableRawPointer
    let answer: UnsafeMutableRawPointer
    var packetLength = MoldUDP64.headerSize
    var packetCount = 0
    /// Sequence of the first block in `packet`, and of the next block to send.
    var packetFirst: UInt64 = 1
    var nextSequence: UInt64 = 1
    var lastSend: UInt64 = 0
    var itch = ITCHWriter()
    var bucket: TokenBucket
    let telemetry: StatsWriter?

    /// Attaches to the ring and opens the sockets.
    public init(_ options: RepublishOptions, stop: () -> Bool) throws(RepublishError) {
        try options.validate()
        // Everything that can fail happens into locals first: a noncopyable value with a deinit is
        // assigned only once nothing below can throw.
        let group: sockaddr_in
        let out: Int32
        do {
            group = try MoldUDP64.address(options.group)
            let index = try options.interface.map { n throws(FeedError) in try MoldUDP64.interfaceIndex(n) } ?? 0
            out = try MoldUDP64.senderSocket(to: group, interface: index, ttl: options.ttl, loopback: options.loopback)
        } catch { throw .network(error, what: "--group \(options.group)") }
        var listen = group
        listen.sin_addr.s_addr = INADDR_ANY
        listen.sin_port = (UInt16(bigEndian: group.sin_port) &+ 1).bigEndian
        let requestSocket: Int32
        do throws(FeedError) {
            if let r = options.retransmitListen { listen = try MoldUDP64.address(r) }
            requestSocket = try MoldUDP64.udpSocket()
        } catch {
            Glibc.close(out)
            throw .network(error, what: "--retransmit-listen")
        }
        do throws(FeedError) {
            try MoldUDP64.bind(requestSocket, listen)
        } catch {
            Glibc.close(out)
            Glibc.close(requestSocket)
            throw .network(error, what: "--retransmit-listen \(MoldUDP64.describe(listen))")
        }
        _ = fcntl(requestSocket, F_SETFL, fcntl(requestSocket, F_GETFL) | O_NONBLOCK)
        let reader: RingReader
        do {
            reader = try RingReader.attach(
                bus: options.bus,
                ring: options.ring,
                name: "republish",
                mode: .live,
                from: options.from,
                idle: .backoff,
                expecting: .market,
                timeout: options.attachTimeout,
                stop: stop
            )
        } catch {
            Glibc.close(out)
            Glibc.close(requestSocket)
            throw .ring(bus: options.bus, ring: options.ring, cause: error)
        }
        let generation = reader.header.generation
        let name =
            options.session
            ?? ((options.format == .tickbus ? "TB" : "TI") + String(generation % 100_000_000).leftPadded(8))
        let first = options.format == .tickbus ? reader.nextSequence &+ 1 : 1
        self.options = options
        sessionName = name
        session = MoldUDP64.sessionBytes(name)
        nextSequence = first
        packetFirst = first
        self.group = group
        self.out = out
        self.requestSocket = requestSocket
        self.reader = reader
        window = RetransmitWindow(capacity: options.window)
        packet = .allocate(byteCount: 65_536, alignment: 16)
        answer = .allocate(byteCount: 65_536, alignment: 16)
        bucket = TokenBucket(rate: options.retransmitRate, burst: max(options.retransmitRate / 10, 4096))
        telemetry = try? StatsWriter(bus: options.bus, name: "republish", kind: .other)
        itch.reserve(1024)
    }

    deinit {
        Glibc.close(out)
        Glibc.close(requestSocket)
        packet.deallocate()
        answer.deallocate()
        telemetry?.close()
    }

    /// The request server's address as bound (tests bind port 0).
    public var requestPort: UInt16 {
        var a = sockaddr_in()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &a) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(requestSocket, $0, &len) }
        }
        return UInt16(bigEndian: a.sin_port)
    }

    /// Runs until the ring's session ends (then lingers) or `stop` says so.
    public mutating func run(log: (String) -> Void, stop: () -> Bool) -> Stats {
        log(
            "republish: ring \(options.ring) of bus \(options.bus) (generation \(reader.header.generation)) to "
                + "\(MoldUDP64.describe(group)) as session '\(sessionName)', format \(options.format), "
                + "requests on port \(requestPort), window \(options.window)"
        )
        var idler = Idler(options.idle, maxSleepMicros: 200)
        var lastCheck = tb_monotonic_ns()
        var ended = false
        lastSend = lastCheck
        loop: while true {
            switch reader.poll() {
            case .message(let bytes):
                idler.reset()
                stats.read &+= 1
                if add(bytes) {
                    ended = true
                    break loop
                }
                if stats.read & 255 == 0 {
                    serveRequests()
                    if stats.read & 4095 == 0 {
                        reader.heartbeat()
                        telemetry?.heartbeat()
                        if stop() { break loop }
                    }
                }
            case .gap(let from, let count):
                // Lapped: those sequences are skipped (tickbus) and answered from the journal or
                // as unavailable when asked for.
                flush()
                stats.lost &+= count
                stats.gaps &+= 1
                telemetry?.count(.gaps)
                telemetry?.count(.lost, by: count)
                if options.format == .tickbus {
                    nextSequence = from &+ count &+ 1
                    packetFirst = nextSequence
                }
                log("republish: lapped: lost ring sequences \(from)..<\(from &+ count)")
            case .empty:
                flush()
                serveRequests()
                let now = tb_monotonic_ns()
                if now &- lastSend > options.heartbeatNs { sendControl(count: 0) }
                if now &- lastCheck > 50_000_000 {
                    lastCheck = now
                    reader.heartbeat(now: now)
                    telemetry?.heartbeat(now: now)
                    if stop() { break loop }
                    switch reader.producerStatus() {
                    case .running: break
                    case .closed, .dead, .replaced:
                        if reader.caughtUp {
                            ended = true
                            break loop
                        }
                    }
                }
                idler.idle()
            }
        }
        flush()
        if ended { linger(stop: stop) }
        return stats
    }

    /// Adds one ring message to the packet; true at the ring's end-of-session.
    @inline(__always)
    mutating func add(_ bytes: SlotBytes) -> Bool {
        let view = bytes.market
        let end = view.kind == .endOfSession
        switch options.format {
        case .tickbus:
            append(bytes.base, length: MoldUDP64.tickbusBlock)
        case .itch:
            itch.clear()
            if itch.append(MarketMessage(view)) {
                itch.withBytes { p, n in
                    // The writer frames each message with its 2-byte length, as MoldUDP64 does.
                    append(p + 2, length: n - 2)
                }
            }
        }
        if end { flush() }
        return end
    }

    /// Appends one block (its `length` bytes at `p`) to the packet, sending the packet first when
    /// it would pass `maxPacket`.
    @inline(never)  // one symbol, so Tools/hot-path-check can read its machine code
    mutating func append(_ p: UnsafeRawPointer, length: Int) {
        if packetLength + 2 + length > options.maxPacket || packetCount == 0xFFFE { flush() }
        // Safe: packetLength + 2 + length <= maxPacket <= 65,507 < 65,536.
        packet.storeBytes(of: UInt16(length).bigEndian, toByteOffset: packetLength, as: UInt16.self)
        (packet + packetLength + 2).copyMemory(from: p, byteCount: length)
        window.store(nextSequence, p, length: length)
        packetLength += 2 + length
        packetCount += 1
        nextSequence &+= 1
        stats.messages &+= 1
    }

    /// Sends the packet being built, if it holds any block.
    mutating func flush() {
        guard packetCount > 0 else { return }
        MoldUDP64.writeHeader(packet, session: session, sequence: packetFirst, count: UInt16(packetCount))
        sendLive(packet, packetLength)
        stats.packets &+= 1
        telemetry?.count(.messages, by: UInt64(packetCount))
        packetLength = MoldUDP64.headerSize
        packetCount = 0
        packetFirst = nextSequence
    }

    /// A heartbeat (count 0) or end of session (0xFFFF) for the next sequence.
    mutating func sendControl(count: UInt16) {
        var h = (UInt64(0), UInt64(0), UInt32(0))
        withUnsafeMutableBytes(of: &h) { b in
            // Safe: 24 bytes of stack, 20 written.
            MoldUDP64.writeHeader(b.baseAddress!, session: session, sequence: nextSequence, count: count)
            sendLive(UnsafeRawPointer(b.baseAddress!), MoldUDP64.headerSize)
        }
        if count == 0 { stats.heartbeats &+= 1 } else { stats.endOfSessionPackets &+= 1 }
    }

    mutating func sendLive(_ p: UnsafeRawPointer, _ n: Int) {
        lastSend = tb_monotonic_ns()
        if !Self.send(out, p, n, to: group) { stats.sendFailures &+= 1 }
    }

    /// Sends one datagram, retrying a full socket buffer (ENOBUFS/EAGAIN) for up to ~10 ms.
    static func send(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int, to a: sockaddr_in) -> Bool {
        var tries = 0
        while !MoldUDP64.send(fd, p, n, to: a) {
            tries += 1
            if tries > 200 { return false }
            usleep(50)
        }
        return true
    }

    /// End of session every 100 ms, answering requests, until none came for `lingerSeconds`.
    mutating func linger(stop: () -> Bool) {
        var lastRequests = stats.requests
        var quietSince = tb_monotonic_ns()
        while true {
            sendControl(count: MoldUDP64.endOfSession)
            let until = tb_monotonic_ns() &+ 100_000_000
            while tb_monotonic_ns() < until {
                serveRequests()
                usleep(500)
            }
            if stats.requests != lastRequests {
                lastRequests = stats.requests
                quietSince = tb_monotonic_ns()
            }
            if Double(tb_monotonic_ns() &- quietSince) / 1e9 >= options.lingerSeconds || stop() { return }
        }
    }
}

extension String {
    /// Left-padded with zeros to `width` characters.
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
