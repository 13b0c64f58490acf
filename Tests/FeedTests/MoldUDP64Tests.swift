import Book
import Feed
import Foundation
import TestSupport
import Testing
import TickBusCore

/// MoldUDP64 over loopback: packets dropped on purpose by the publisher are detected as gaps by the
/// receiver, recovered through the retransmission server, and every message is published exactly
/// once, in order — the same ring messages as reading the file directly.
@Suite("MoldUDP64 over loopback", .serialized)
struct MoldUDP64Tests {
    @Test func dropsAreRecoveredAndEveryMessageArrivesOnceInOrder() throws {
        let dir = TickBusTest.temporaryDirectory("mold")
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("flow.itch").path
        let s = try TickBusTest.run(["synth", "itch", "--seed", "11", "--messages", "30000", "--out", file])
        #expect(s.status == 0)
        var direct = try ITCHSource(path: file)
        let expected = expectedLines(&direct)

        let bus = TickBusTest.uniqueBus("mold")
        defer { TickBusTest.removeBus(bus) }
        let port = 20_000 + Int(getpid() % 20_000) * 2
        let group = "127.0.0.1:\(port)"
        let tap = try Child(["tap", "--bus", bus, "--gating", "--print", "--attach-timeout", "20"])
        let feed = try Child(["feed", "--bus", bus, "--source", "itch+moldudp64:\(group)", "--wait-readers", "1", "--wait-timeout", "20"])
        usleep(300_000)
        let serve = try Child(["moldudp64", "serve", "--file", file, "--group", group, "--rate", "300000", "--drop", "0.05",
                               "--seed", "3", "--linger", "3"])
        let f = feed.wait(timeout: 120)
        let t = tap.wait(timeout: 30)
        let v = serve.wait(timeout: 60)
        #expect(!f.timedOut && !t.timedOut && !v.timedOut)
        #expect(f.status == 0, "feed: \(f.stderr.suffix(500))")
        #expect(v.status == 0, "serve: \(v.stderr.suffix(500))")
        let served = keyValues(v.lastLine)
        #expect(served["messages"] == "30000")
        #expect(Int(served["dropped"] ?? "0")! > 0)
        #expect(Int(served["requests"] ?? "0")! > 0)
        #expect(Int(served["retransmitted"] ?? "0")! > 0)
        let receiver = keyValues(f.stderr.split(separator: "\n").first { $0.hasPrefix("moldudp64:") }.map(String.init) ?? "")
        #expect(Int(receiver["gaps"] ?? "0")! >= 1, "feed: \(f.stderr.suffix(300))")
        let lines = t.stdout.split(separator: "\n").map(String.init).filter { !$0.hasPrefix("received=") }
        #expect(lines.count == expected.count)
        let firstDifference = zip(lines, expected).enumerated().first { $0.element.0 != $0.element.1 }
        #expect(firstDifference == nil, "first difference at \(firstDifference?.offset ?? -1): \(String(describing: firstDifference?.element))")
    }

    /// Sends one datagram to 127.0.0.1:port.
    static func send(_ bytes: [UInt8], port: Int) {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_port = UInt16(port).bigEndian
        a.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        _ = bytes.withUnsafeBytes { b in
            withUnsafePointer(to: &a) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, b.baseAddress, b.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        }
    }

    /// A MoldUDP64 packet: session, sequence, count, then the message blocks.
    static func packet(sequence: UInt64, count: UInt16, messages: [[UInt8]]) -> [UInt8] {
        var p = Array("TICKBUS001".utf8)
        for k in (0..<8).reversed() { p.append(UInt8(truncatingIfNeeded: sequence >> (8 * UInt64(k)))) }
        p += [UInt8(count >> 8), UInt8(count & 0xFF)]
        for m in messages { p += [UInt8(m.count >> 8), UInt8(m.count & 0xFF)] + m }
        return p
    }

    /// An ITCH system event ('S', 12 bytes): start of messages.
    static let systemEvent: [UInt8] = [UInt8(ascii: "S"), 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, UInt8(ascii: "O")]

    @Test func headerArithmeticIsChecked() {
        #expect(MoldUDP64.endSequence(first: 1, count: 3) == 4)
        #expect(MoldUDP64.endSequence(first: .max - 3, count: 3) == .max)
        #expect(MoldUDP64.endSequence(first: .max - 1, count: 3) == nil)
        #expect(MoldUDP64.endSequence(first: .max, count: 1) == nil)
        let bytes = Self.packet(sequence: .max - 1, count: 3, messages: [])
        let h = bytes.withUnsafeBytes { MoldUDP64.decodeHeader($0.baseAddress!, length: $0.count) }
        #expect(h?.sequence == .max - 1 && h?.count == 3 && h?.end == nil)
        let short = bytes.withUnsafeBytes { MoldUDP64.decodeHeader($0.baseAddress!, length: 19) }
        #expect(short == nil)
    }

    /// A packet whose sequence + count passes 2^64 is counted and dropped (it trapped the receiver),
    /// and message blocks beyond a packet's count are counted, not delivered with made-up sequences.
    @Test func hostileSequenceNumbersAreCountedNotTrapped() throws {
        let bus = TickBusTest.uniqueBus("moldseq")
        defer { TickBusTest.removeBus(bus) }
        let port = 21_000 + Int(getpid() % 20_000) * 2
        let feed = try Child(["feed", "--bus", bus, "--source", "itch+moldudp64:127.0.0.1:\(port)"])
        usleep(500_000)
        Self.send(Self.packet(sequence: .max - 1, count: 3, messages: Array(repeating: Self.systemEvent, count: 3)), port: port)
        Self.send(Self.packet(sequence: 1, count: 1, messages: [Self.systemEvent, Self.systemEvent]), port: port)
        usleep(100_000)
        Self.send(Self.packet(sequence: 2, count: MoldUDP64.endOfSession, messages: []), port: port)
        let f = feed.wait(timeout: 30)
        #expect(!f.timedOut)
        #expect(f.status == 0, "feed: \(f.stderr.suffix(500))")
        let lines = f.stdout.split(separator: "\n").map(String.init)
        #expect(keyValues(lines.first ?? "")["published"] == "2", "\(f.stdout)")  // the one event and end-of-session
        #expect(f.stdout.contains("packet sequence overflows=1"), "\(f.stdout)")
        #expect(f.stdout.contains("messages beyond the packet count=1"), "\(f.stdout)")
    }

    /// `moldudp64 serve` serves every message past a zero-length frame, exits 1 on a truncated tail,
    /// and ignores a retransmission request whose sequence + count overflows (it trapped).
    @Test func serveSkipsZeroLengthFramesAndFailsOnATruncatedTail() throws {
        let (bytes, _, _) = try ITCHTests.withZeroLengthFrames(after: [10, 600])
        let dir = TickBusTest.temporaryDirectory("mold-serve")
        defer { try? FileManager.default.removeItem(at: dir) }
        let good = dir.appendingPathComponent("zero.itch"), cut = dir.appendingPathComponent("cut.itch")
        try Data(bytes).write(to: good)
        try Data(bytes + [0, 40, UInt8(ascii: "A")]).write(to: cut)
        let port = 41_000 + Int(getpid() % 10_000) * 2
        let serve = try Child(["moldudp64", "serve", "--file", good.path, "--group", "127.0.0.1:\(port)", "--linger", "1.5"])
        usleep(600_000)
        Self.send(Self.packet(sequence: .max - 1, count: 100, messages: []), port: port + 1)  // a hostile request
        let g = serve.wait(timeout: 30)
        #expect(!g.timedOut)
        #expect(g.status == 0, "serve: \(g.stderr.suffix(400))")
        let kv = keyValues(g.lastLine)
        #expect(kv["messages"] == "1000", "\(g.stdout)")
        #expect(kv["requests"] == "1", "\(g.stdout)")
        #expect(kv["retransmitted"] == "0")
        #expect(g.stderr.contains("skipped 2 zero-length frames"))

        // A frame of the largest length (65,535 bytes) went into a 64 KiB packet buffer past its end.
        let big = dir.appendingPathComponent("big.itch")
        try Data(bytes + [0xFF, 0xFF] + [UInt8](repeating: UInt8(ascii: "z"), count: 65_535) + bytes.prefix(21)).write(to: big)
        let b = try TickBusTest.run(["moldudp64", "serve", "--file", big.path, "--group", "127.0.0.1:\(port)", "--linger", "0.2"])
        #expect(b.status == 0, "serve: \(b.stderr.suffix(400))")
        #expect(keyValues(b.lastLine)["messages"] == "1002", "\(b.stdout)")

        let c = try TickBusTest.run(["moldudp64", "serve", "--file", cut.path, "--group", "127.0.0.1:\(port)", "--linger", "0.2"])
        #expect(c.status == 1, "serve: \(c.stderr.suffix(400))")
        #expect(keyValues(c.lastLine)["messages"] == "1000")
        #expect(c.stderr.contains("truncated tail"))
    }
}
