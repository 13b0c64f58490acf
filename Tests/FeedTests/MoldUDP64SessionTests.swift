import Feed
import Foundation
import TestSupport
import Testing
import TickBusCore

#if canImport(Glibc)
import Glibc
#endif

/// Sends hand-built MoldUDP64 packets over loopback, so each test decides which session says what.
final class MoldSender {
    let fd: Int32
    var to = sockaddr_in()

    init(port: UInt16) {
        fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        to.sin_family = sa_family_t(AF_INET)
        to.sin_port = port.bigEndian
        to.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
    }

    deinit { close(fd) }

    /// A packet of `session` (space-padded to 10 bytes) from `sequence` with one system event per
    /// time in `times` (the time tells the test which message it got), or a heartbeat / end of session.
    func send(_ session: String, sequence: UInt64, times: [Int64] = [], count: UInt16? = nil) {
        var bytes = Array(session.utf8.prefix(10))
        while bytes.count < 10 { bytes.append(0x20) }
        for i in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: sequence >> UInt64(i))) }
        let n = count ?? UInt16(times.count)
        bytes.append(UInt8(n >> 8))
        bytes.append(UInt8(n & 0xFF))
        var writer = ITCHWriter()
        for t in times { writer.systemEvent(0x4F, time: t) }
        bytes += writer.take()
        let sent = bytes.withUnsafeBytes { b in
            withUnsafePointer(to: &to) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, b.baseAddress, b.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        }
        #expect(sent == bytes.count)
    }

    func endOfSession(_ session: String, sequence: UInt64) { send(session, sequence: sequence, count: MoldUDP64.endOfSession) }
    func heartbeat(_ session: String, sequence: UInt64) { send(session, sequence: sequence, count: 0) }
}

/// What a receiver yielded: system events by their time, gap records by range.
enum Yield: Equatable, CustomStringConvertible {
    case event(Int64)
    case gap(from: UInt64, count: UInt64)
    var description: String {
        switch self {
        case .event(let t): return "event(\(t))"
        case .gap(let f, let c): return "gap(\(f), \(c))"
        }
    }
}

struct Drained: Sendable {
    var yields: [Yield] = []
    var otherSession: UInt64 = 0
    var sessionChanges: UInt64 = 0
}

/// Reads a source to its end.
func drain(_ source: inout MoldUDP64Source) -> Drained {
    var out = Drained()
    while let m = source.next() {
        switch m.kind {
        case .gap: out.yields.append(.gap(from: m.payload.0, count: m.payload.1))
        case .status: out.yields.append(.event(m.exchangeTime))
        default: break
        }
    }
    out.otherSession = source.otherSessionPackets
    out.sessionChanges = source.sessionChanges
    return out
}

/// Binds a receiver on a free loopback port (the request port, one above, is never answered) and
/// hands it to `body` with its port.
func withReceiver<R>(
    idleTimeout: Double = 1, options: MoldUDP64Options = MoldUDP64Options(), _ body: (inout MoldUDP64Source, UInt16) throws -> R
) throws -> R {
    var lastError: FeedError?
    for attempt in 0..<50 {
        let port = UInt16(40_000 + (Int(getpid()) &* 7 &+ attempt &* 101 &+ Int.random(in: 0..<500)) % 20_000)
        var source: MoldUDP64Source
        do {
            source = try MoldUDP64Source(group: "127.0.0.1:\(port)", idleTimeout: idleTimeout, options: options)
        } catch {
            lastError = error
            continue
        }
        return try body(&source, port)
    }
    throw lastError!
}

@Suite("MoldUDP64 sessions over loopback", .serialized)
struct MoldUDP64SessionTests {
    @Test("packets of another session are counted and dropped while the current session is alive")
    func otherSessionDropped() throws {
        try withReceiver { source, port in
            let tx = MoldSender(port: port)
            // B's sequences line up with what A is expected to send next: only the session tells them apart.
            tx.send("SESSIONA", sequence: 1, times: [101, 102])
            tx.send("SESSIONB", sequence: 3, times: [203])
            tx.send("SESSIONA", sequence: 3, times: [103])
            tx.send("SESSIONB", sequence: 4, times: [204])
            tx.endOfSession("SESSIONA", sequence: 4)
            let d = drain(&source)
            #expect(d.yields == [.event(101), .event(102), .event(103)])
            #expect(d.otherSession == 2)
            #expect(d.sessionChanges == 0)
            #expect(source.gaps == 0)
        }
    }

    @Test("after end of session, a new session takes over with a gap record for what the old one left unrecovered")
    func newSessionAfterEnd() throws {
        try withReceiver { source, port in
            let tx = MoldSender(port: port)
            tx.send("SESSIONA", sequence: 1, times: [101, 102])
            tx.endOfSession("SESSIONA", sequence: 5)  // 3 and 4 never arrive (nobody answers requests)
            tx.send("SESSIONB", sequence: 1, times: [201, 202])
            tx.endOfSession("SESSIONB", sequence: 3)
            let d = drain(&source)
            #expect(d.yields == [.event(101), .event(102), .gap(from: 3, count: 2), .event(201), .event(202)])
            #expect(d.sessionChanges == 1)
            #expect(d.otherSession == 0)
        }
    }

    @Test("after the session timeout of silence, a new session takes over; before it, it is dropped")
    func newSessionAfterSilence() throws {
        let box = ResultBox()
        // The receiver runs on its own thread, so that the silence between packets is real time.
        let thread = Thread {
            do {
                try withReceiver(idleTimeout: 10, options: MoldUDP64Options(sessionTimeoutNs: 1_000_000_000)) { source, port in
                    box.setPort(port)
                    box.set(drain(&source))
                }
            } catch {
                box.setPort(0)
            }
        }
        thread.start()
        let port = try #require(box.waitForPort(timeout: 10))
        #expect(port != 0)
        let tx = MoldSender(port: port)
        tx.send("SESSIONA", sequence: 1, times: [101])
        tx.heartbeat("SESSIONA", sequence: 3)  // announces message 2, which never arrives
        usleep(100_000)
        tx.send("SESSIONB", sequence: 1, times: [201])  // A is still alive: dropped
        usleep(2_200_000)
        tx.send("SESSIONB", sequence: 1, times: [201, 202])  // A silent for > 1 s: B takes over
        tx.endOfSession("SESSIONB", sequence: 3)
        let d = try #require(box.waitForResult(timeout: 30))
        #expect(d.yields == [.event(101), .gap(from: 2, count: 1), .event(201), .event(202)])
        #expect(d.otherSession == 1)
        #expect(d.sessionChanges == 1)
    }

    @Test("a pinned session is the only one accepted, even when another comes first and ends")
    func pinned() throws {
        try withReceiver(options: MoldUDP64Options(pinnedSession: "SESSIONB")) { source, port in
            let tx = MoldSender(port: port)
            tx.send("SESSIONA", sequence: 1, times: [101])
            tx.endOfSession("SESSIONA", sequence: 2)
            tx.send("SESSIONB", sequence: 1, times: [201, 202])
            tx.send("SESSIONA", sequence: 1, times: [101])
            tx.endOfSession("SESSIONB", sequence: 3)
            let d = drain(&source)
            #expect(d.yields == [.event(201), .event(202)])
            #expect(d.otherSession == 3)
            #expect(d.sessionChanges == 0)
        }
    }

    @Test("a pinned session name longer than the header's 10 bytes is refused before any socket is opened")
    func badPinnedName() {
        #expect(throws: FeedError.self) {
            _ = try MoldUDP64Source(group: "127.0.0.1:1", options: MoldUDP64Options(pinnedSession: "ELEVENCHARS"))
        }
        #expect(throws: FeedError.self) { try MoldUDP64Options(pinnedSession: "").validate() }
    }

    @Test("feed --session and --session-timeout: checked, and a matching pinned session is received in full")
    func commandLine() throws {
        let bad = try TickBusTest.run(["feed", "--bus", "x", "--source", "itch+moldudp64:127.0.0.1:1", "--session-timeout", "0"], timeout: 20)
        #expect(bad.status != 0 && bad.stderr.contains("--session-timeout"), "\(bad.stderr)")
        let long = try TickBusTest.run(["feed", "--bus", "x", "--source", "itch+moldudp64:127.0.0.1:1", "--session", "ELEVENCHARS"], timeout: 20)
        #expect(long.status != 0 && long.stderr.contains("ELEVENCHARS"), "\(long.stderr)")

        let dir = TickBusTest.temporaryDirectory("moldsession")
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("flow.itch").path
        #expect(try TickBusTest.run(["synth", "itch", "--seed", "5", "--messages", "3000", "--out", file]).status == 0)
        let bus = TickBusTest.uniqueBus("moldsession")
        defer { TickBusTest.removeBus(bus) }
        let port = 20_001 + Int(getpid() % 20_000) * 2
        let feed = try Child(["feed", "--bus", bus, "--source", "itch+moldudp64:127.0.0.1:\(port)", "--session", "DAY2", "--session-timeout", "2"])
        #expect(feed.waitFor(timeout: 30) { $0.contains("feed: ring market") })
        usleep(200_000)
        let serve = try Child(["moldudp64", "serve", "--file", file, "--group", "127.0.0.1:\(port)", "--session", "DAY2", "--linger", "1"])
        let f = feed.wait(timeout: 60)
        let v = serve.wait(timeout: 60)
        #expect(f.status == 0 && v.status == 0, "feed: \(f.stderr.suffix(400)) serve: \(v.stderr.suffix(400))")
        let line = f.stderr.split(separator: "\n").first { $0.hasPrefix("moldudp64:") }.map(String.init) ?? ""
        let kv = keyValues(line)
        #expect(kv["messages"] == "3000", "\(line)")
        #expect(kv["other_session"] == "0" && kv["session_changes"] == "0", "\(line)")
    }
}

final class ResultBox: @unchecked Sendable {
    let lock = NSLock()
    var port: UInt16?
    var value: Drained?
    func setPort(_ p: UInt16) { lock.lock(); port = p; lock.unlock() }
    func set(_ v: Drained) { lock.lock(); value = v; lock.unlock() }
    func waitForPort(timeout: Double) -> UInt16? { poll(timeout) { $0.port } }
    func waitForResult(timeout: Double) -> Drained? { poll(timeout) { $0.value } }
    func poll<T>(_ timeout: Double, _ read: (ResultBox) -> T?) -> T? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            lock.lock()
            let v = read(self)
            lock.unlock()
            if let v { return v }
            usleep(5000)
        }
        return nil
    }
}
