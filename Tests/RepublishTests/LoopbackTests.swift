import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A UDP relay on loopback that reorders and duplicates: every datagram to its port goes to each
/// destination; every 5th is sent twice, every 7th is held back and sent after the next three.
/// Runs on its own thread until `stop`.
final class ReorderingRelay: @unchecked Sendable {
    let fd: Int32
    let destinations: [UInt16]
    private let stopped = NSCondition()
    private var stopping = false
    private var done = false
    private(set) var forwarded = 0
    private(set) var duplicated = 0
    private(set) var reordered = 0

    init(port: UInt16, to destinations: [UInt16]) {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        self.fd = fd
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_port = port.bigEndian
        a.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        let rc = withUnsafePointer(to: &a) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        precondition(rc == 0, "relay cannot bind port \(port)")
        var tv = timeval(tv_sec: 0, tv_usec: 5000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        self.destinations = destinations
        Thread.detachNewThread { [self] in self.loop() }
    }

    private func send(_ b: [UInt8]) {
        for port in destinations {
            var to = sockaddr_in()
            to.sin_family = sa_family_t(AF_INET)
            to.sin_port = port.bigEndian
            to.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
            _ = b.withUnsafeBytes { p in
                withUnsafePointer(to: &to) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        sendto(fd, p.baseAddress, p.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                    }
                }
            }
        }
    }

    private func loop() {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        var held: [[UInt8]] = []
        var sinceHeld = 0
        var n = 0
        while true {
            stopped.lock()
            let stop = stopping
            stopped.unlock()
            if stop { break }
            let got = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, 65_536, 0) }
            if got < 0 {  // idle: release what is held
                for h in held { send(h) }
                held.removeAll()
                continue
            }
            let d = Array(buffer[0..<got])
            n += 1
            forwarded += 1
            if n % 7 == 0 {
                held.append(d)
                reordered += 1
                sinceHeld = 0
                continue
            }
            send(d)
            if n % 5 == 0 {
                send(d)
                duplicated += 1
            }
            sinceHeld += 1
            if sinceHeld >= 3 {
                for h in held { send(h) }
                held.removeAll()
            }
        }
        close(fd)
        stopped.lock()
        done = true
        stopped.broadcast()
        stopped.unlock()
    }

    func stop() {
        stopped.lock()
        stopping = true
        while !done { stopped.wait() }
        stopped.unlock()
    }
}

/// Sender and receivers on loopback (one host): the relay run of acceptance 1, the restarts of
/// acceptance 3, the request flood of acceptance 5.
@Suite(.serialized) struct LoopbackTests {
    static let itch = "itch50/12302019_SNIPPET.NASDAQ_ITCH50"

    /// `feed --source tickbus+moldudp64:127.0.0.1:PORT,request=…` on `bus`, recorded into `dir`.
    /// `restart`: the bus holds a dead generation, so the feed starts first (a recorder started
    /// before it would attach to the dead one).
    func receiver(
        bus: String,
        dir: String,
        port: UInt16,
        request: UInt16,
        extra: [String] = [],
        restart: Bool = false
    ) throws -> (feed: Child, recorder: Child) {
        func recorder() throws -> Child {
            try Child(["record", "--bus", bus, "--rings", "market", "--dir", dir, "--gating", "--attach-timeout", "30"])
        }
        let early = restart ? nil : try recorder()
        let feed = try Child(
            [
                "feed", "--bus", bus, "--source",
                "tickbus+moldudp64:127.0.0.1:\(port),request=127.0.0.1:\(request),idle=20",
                "--wait-readers", "1", "--wait-timeout", "30",
            ] + extra
        )
        if let early { return (feed, early) }
        #expect(feed.waitFor(timeout: 20) { $0.contains("generation 2") }, "\(feed.stderr)")
        return (feed, try recorder())
    }

    /// The sender: feed of the ITCH sample, a recorder, and republish to `port`.
    func sender(
        bus: String,
        dir: String,
        port: UInt16,
        request: UInt16,
        republishExtra: [String] = []
    )
        throws -> (feed: Child, recorder: Child, republish: Child)
    {
        let data = try TickBusTest.sharedData(Self.itch)
        let recorder = try Child([
            "record", "--bus", bus, "--rings", "market", "--dir", dir, "--gating", "--attach-timeout", "30",
        ])
        let republish = try Child(
            [
                "republish", "--bus", bus, "--group", "127.0.0.1:\(port)", "--retransmit-listen",
                "127.0.0.1:\(request)", "--linger", "2", "--attach-timeout", "30",
            ] + republishExtra
        )
        let feed = try Child([
            "feed", "--bus", bus, "--source", "itch:\(data)", "--wait-readers", "2", "--wait-timeout", "30",
        ])
        return (feed, recorder, republish)
    }

    @Test func throughARelayThatReordersAndDuplicatesBothReceiversGetTheRing() throws {
        let relayPort = TestPorts.take()
        let (pb, pc, request) = (TestPorts.take(), TestPorts.take(), TestPorts.take())
        let dir = TickBusTest.temporaryDirectory("relay").path
        let buses = ["a", "b", "c"].map { TickBusTest.uniqueBus("rl\($0)") }
        defer {
            for b in buses { TickBusTest.removeBus(b) }
            try? FileManager.default.removeItem(atPath: dir)
        }
        let relay = ReorderingRelay(port: relayPort, to: [pb, pc])
        let b = try receiver(bus: buses[1], dir: dir + "/b", port: pb, request: request)
        let c = try receiver(bus: buses[2], dir: dir + "/c", port: pc, request: request)
        let a = try sender(bus: buses[0], dir: dir + "/a", port: relayPort, request: request)
        let f = a.feed.wait(timeout: 60)
        #expect(f.status == 0, "\(f.stderr)")
        let published = publishedCount(f.stdout)
        let r = a.republish.wait(timeout: 60)
        #expect(r.status == 0, "\(r.stderr)")
        _ = a.recorder.wait(timeout: 30)
        var lines: [String] = []
        for x in [b, c] {
            let fr = x.feed.wait(timeout: 60)
            #expect(fr.status == 0 && publishedCount(fr.stdout) == published, "\(fr.stdout) \(fr.stderr)")
            lines.append(
                fr.stderr.split(separator: "\n").first { $0.hasPrefix("tickbus+moldudp64:") }.map(String.init) ?? ""
            )
            _ = x.recorder.wait(timeout: 30)
        }
        relay.stop()
        #expect(relay.duplicated > 0 && relay.reordered > 0)
        for line in lines {
            let kv = keyValues(line)
            #expect(kv["gap_records"] == "0" && kv["malformed"] == "0", "\(line)")
            #expect((Int(kv["duplicates"] ?? "") ?? 0) > 0 && (Int(kv["reordered"] ?? "") ?? 0) > 0, "\(line)")
        }
        let ringA = try journalLines(dir + "/a")
        #expect("\(ringA.count)" == published)
        #expect(try journalLines(dir + "/b") == ringA)
        #expect(try journalLines(dir + "/c") == ringA)
    }
}

/// The messages of a `journal cat` listing without the `seq=N` prefix (receivers' own ring
/// sequences differ when a gap record stands for several messages).
func bodies(_ lines: [Substring]) -> [Substring] {
    lines.map { line in line.firstIndex(of: " ").map { line[line.index(after: $0)...] } ?? line }
}

/// Sends `count` datagrams of `bytes` to 127.0.0.1:`port` (a request flood).
func flood(_ port: UInt16, _ bytes: [UInt8], count: Int) {
    let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
    defer { close(fd) }
    var to = sockaddr_in()
    to.sin_family = sa_family_t(AF_INET)
    to.sin_port = port.bigEndian
    to.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
    for _ in 0..<count {
        _ = bytes.withUnsafeBytes { p in
            withUnsafePointer(to: &to) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, p.baseAddress, p.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
    }
}

extension LoopbackTests {
    /// Acceptance 3 (late receivers) and 5 (a request flood): receivers started after the sender's
    /// feed ended recover everything from the journal when the republisher has it, and otherwise
    /// publish exactly one gap record for what the 256-message window no longer holds.
    @Test func lateReceiversRecoverFromTheJournalOrPublishOneGapRecord() throws {
        let data = try TickBusTest.sharedData(Self.itch)
        let (p1, r1, p2, r2) = (TestPorts.take(), TestPorts.take(), TestPorts.take(), TestPorts.take())
        let dir = TickBusTest.temporaryDirectory("late").path
        let buses = ["a", "b", "c"].map { TickBusTest.uniqueBus("lt\($0)") }
        defer {
            for b in buses { TickBusTest.removeBus(b) }
            try? FileManager.default.removeItem(atPath: dir)
        }
        let recorder = try Child([
            "record", "--bus", buses[0], "--rings", "market", "--dir", dir + "/a", "--gating", "--attach-timeout", "30",
        ])
        let withJournal = try Child([
            "republish", "--bus", buses[0], "--group", "127.0.0.1:\(p1)", "--retransmit-listen", "127.0.0.1:\(r1)",
            "--window", "256", "--journal", dir + "/a", "--linger", "3", "--attach-timeout", "30",
        ])
        let windowOnly = try Child([
            "republish", "--bus", buses[0], "--group", "127.0.0.1:\(p2)", "--retransmit-listen", "127.0.0.1:\(r2)",
            "--window", "256", "--retransmit-rate", "20000", "--linger", "3", "--attach-timeout", "30",
        ])
        let feed = try Child([
            "feed", "--bus", buses[0], "--source", "itch:\(data)", "--wait-readers", "3", "--wait-timeout", "30",
        ])
        let f = feed.wait(timeout: 60)
        let published = Int(publishedCount(f.stdout)) ?? -1
        #expect(f.status == 0 && published > 256, "\(f.stdout) \(f.stderr)")
        _ = recorder.wait(timeout: 30)
        // A flood on the window-only server: well-formed requests (rate-limited), malformed ones,
        // and requests of another session — each counted, none answered wrongly.
        var good = Datagram(session: "TB00000001", sequence: 1, count: 900).bytes
        flood(r2, good, count: 3000)
        good[0] = 0x58  // session XB00000001
        flood(r2, good, count: 100)
        flood(r2, Array(good.prefix(19)), count: 100)
        let b = try receiver(bus: buses[1], dir: dir + "/b", port: p1, request: r1)
        let c = try receiver(bus: buses[2], dir: dir + "/c", port: p2, request: r2)
        let rb = b.feed.wait(timeout: 60)
        let rc = c.feed.wait(timeout: 60)
        _ = b.recorder.wait(timeout: 30)
        _ = c.recorder.wait(timeout: 30)
        let s1 = withJournal.wait(timeout: 30)
        let s2 = windowOnly.wait(timeout: 30)
        #expect(s1.status == 0 && s2.status == 0, "\(s1.stderr) \(s2.stderr)")
        let ringA = try journalLines(dir + "/a")
        #expect(ringA.count == published)
        // From the journal: the whole ring, no gap record.
        let lineB = keyValues(
            rb.stderr.split(separator: "\n").first { $0.hasPrefix("tickbus+moldudp64:") }.map(String.init) ?? ""
        )
        #expect(lineB["gap_records"] == "0", "\(rb.stderr)")
        #expect((Int(keyValues(s1.lastLine)["from_journal"] ?? "") ?? 0) >= published - 256, "\(s1.stdout)")
        #expect(try journalLines(dir + "/b") == ringA)
        // Window only: one gap record for the sequences it no longer has, then the last 256 exactly.
        let lineC = keyValues(
            rc.stderr.split(separator: "\n").first { $0.hasPrefix("tickbus+moldudp64:") }.map(String.init) ?? ""
        )
        let lost = published - 256
        #expect(lineC["gap_records"] == "1" && lineC["unrecovered"] == "\(lost)", "\(rc.stderr)")
        let ringC = try journalLines(dir + "/c")
        #expect(ringC.count == 257)
        #expect(
            ringC.first.map { $0.contains("gap") && $0.contains("from=0") && $0.contains("count=\(lost)") } == true,
            "\(ringC.first ?? "")"
        )
        #expect(bodies(Array(ringC.dropFirst())) == bodies(Array(ringA.suffix(256))))
        let sent = keyValues(s2.lastLine)
        #expect(sent["bad_requests"] == "100" && sent["other_session"] == "100", "\(s2.stdout)")
        #expect((Int(sent["limited"] ?? "") ?? 0) > 0, "the flood must hit the rate limit: \(s2.stdout)")
        #expect(sent["unavailable"].flatMap { Int($0) }.map { $0 >= lost } == true, "\(s2.stdout)")
    }
}

extension LoopbackTests {
    /// Acceptance 3: a receiver killed and restarted rebuilds the ring from sequence 1 (a new ring
    /// generation, the retransmission window holds the session); a sender restarted with a new
    /// ring generation starts a new session, and the receiver, after the old one's silence,
    /// follows it: what it had, one gap record only for what the old session announced and never
    /// delivered, then the new session whole.
    @Test func restartedReceiverAndRestartedSenderBehaveAsDocumented() throws {
        let data = try TickBusTest.sharedData(Self.itch)
        let (pd, rd, pe, re) = (TestPorts.take(), TestPorts.take(), TestPorts.take(), TestPorts.take())
        let dir = TickBusTest.temporaryDirectory("restart").path
        let buses = ["a", "d", "s", "e"].map { TickBusTest.uniqueBus("rs\($0)") }
        defer {
            for b in buses { TickBusTest.removeBus(b) }
            try? FileManager.default.removeItem(atPath: dir)
        }
        // Receiver D, killed while the sender (1,000 msg/s) is half way, then started again.
        let d1 = try receiver(bus: buses[1], dir: dir + "/d1", port: pd, request: rd)
        let recA = try Child([
            "record", "--bus", buses[0], "--rings", "market", "--dir", dir + "/a", "--gating",
            "--attach-timeout", "30",
        ])
        let repA = try Child([
            "republish", "--bus", buses[0], "--group", "127.0.0.1:\(pd)", "--retransmit-listen",
            "127.0.0.1:\(rd)", "--linger", "3", "--attach-timeout", "30",
        ])
        // Sender S, killed half way and restarted (a new generation: a new session); receiver E follows.
        let e = try receiver(bus: buses[3], dir: dir + "/e", port: pe, request: re, extra: ["--session-timeout", "1"])
        let recS1 = try Child([
            "record", "--bus", buses[2], "--rings", "market", "--dir", dir + "/s1", "--gating",
            "--attach-timeout", "30",
        ])
        let repS1 = try Child([
            "republish", "--bus", buses[2], "--group", "127.0.0.1:\(pe)", "--retransmit-listen",
            "127.0.0.1:\(re)", "--attach-timeout", "30",
        ])
        let feedA = try Child([
            "feed", "--bus", buses[0], "--source", "itch:\(data)", "--rate", "1000",
            "--wait-readers", "2", "--wait-timeout", "30",
        ])
        let feedS1 = try Child([
            "feed", "--bus", buses[2], "--source", "itch:\(data)", "--rate", "1000",
            "--wait-readers", "2", "--wait-timeout", "30",
        ])
        usleep(400_000)
        d1.feed.signal(SIGKILL)
        feedS1.signal(SIGKILL)
        repS1.signal(SIGKILL)
        _ = d1.feed.wait(timeout: 10)
        _ = d1.recorder.wait(timeout: 10)
        _ = feedS1.wait(timeout: 10)
        _ = repS1.wait(timeout: 10)
        _ = recS1.wait(timeout: 10)
        let d2 = try receiver(bus: buses[1], dir: dir + "/d2", port: pd, request: rd, restart: true)
        // The new feed first: readers started before it would attach to the dead generation (and
        // a republisher there would end that session).
        let feedS2 = try Child([
            "feed", "--bus", buses[2], "--source", "itch:\(data)", "--wait-readers", "2",
            "--wait-timeout", "30",
        ])
        #expect(feedS2.waitFor(timeout: 20) { $0.contains("generation 2") }, "\(feedS2.stderr)")
        let recS2 = try Child([
            "record", "--bus", buses[2], "--rings", "market", "--dir", dir + "/s2", "--gating",
            "--attach-timeout", "30",
        ])
        let repS2 = try Child([
            "republish", "--bus", buses[2], "--group", "127.0.0.1:\(pe)", "--retransmit-listen",
            "127.0.0.1:\(re)", "--linger", "3", "--attach-timeout", "30",
        ])
        for c in [feedA, feedS2, repA, repS2, recA, recS2] {
            let r = c.wait(timeout: 60)
            #expect(r.status == 0 && !r.timedOut, "\(c.arguments.prefix(3)): \(r.status) \(r.stderr)")
        }
        let rd2 = d2.feed.wait(timeout: 60)
        let re2 = e.feed.wait(timeout: 60)
        _ = d2.recorder.wait(timeout: 30)
        _ = e.recorder.wait(timeout: 30)
        // D: the restarted receiver's ring (a new generation) is the sender's, whole.
        let ringA = try journalLines(dir + "/a")
        #expect(try journalLines(dir + "/d2") == ringA, "\(rd2.stderr)")
        // E: the first session's messages it got, a gap record only for what was announced and
        // never delivered, then the second session whole; counts add up exactly.
        let s1 = bodies(try journalLines(dir + "/s1"))
        let s2 = bodies(try journalLines(dir + "/s2"))
        let ringE = bodies(try journalLines(dir + "/e"))
        let line = keyValues(
            re2.stderr.split(separator: "\n").first { $0.hasPrefix("tickbus+moldudp64:") }.map(String.init) ?? ""
        )
        #expect(line["session_changes"] == "1", "\(re2.stderr)")
        let gapRecords = Int(line["gap_records"] ?? "") ?? -1
        let firstSession = ringE.count - s2.count - gapRecords
        #expect(firstSession > 0 && firstSession < s1.count + 1, "\(ringE.count) \(s1.count) \(s2.count) \(line)")
        #expect(Array(ringE.prefix(firstSession)) == Array(s1.prefix(firstSession)))
        #expect(Array(ringE.suffix(s2.count)) == s2)
        #expect(publishedCount(re2.stdout) == "\(ringE.count)")
        #expect(Int(line["messages"] ?? "") == firstSession + s2.count, "\(line)")
    }
}
