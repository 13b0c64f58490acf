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
}
