import Book
import Feed
import Foundation
import TestSupport
import Testing
import TickBusCore

/// The descriptions (`tap --print` lines) of every message a source yields, plus end-of-session.
func expectedLines<S: MarketSource>(_ source: inout S) -> [String] {
    let slot = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 64)
    defer { slot.deallocate() }
    var lines: [String] = []
    var last: Int64 = 0
    while let m = source.next() {
        m.store(to: slot)
        lines.append(MarketMessageView(UnsafeRawPointer(slot)).description)
        last = m.exchangeTime
    }
    MarketMessage.endOfSession(exchangeTime: last, messages: UInt64(lines.count)).store(to: slot)
    lines.append(MarketMessageView(UnsafeRawPointer(slot)).description)
    return lines
}

/// `tickbus feed --source itch:|lobster:` publishes exactly what the source yields, in order.
@Suite("feed sources through the ring", .serialized)
struct FeedProcessTests {
    func publishAndTap(source: String, expected: [String]) throws {
        let bus = TickBusTest.uniqueBus("feedsrc")
        defer { TickBusTest.removeBus(bus) }
        let tap = try Child(["tap", "--bus", bus, "--gating", "--print", "--attach-timeout", "20"])
        let feed = try Child(["feed", "--bus", bus, "--source", source, "--wait-readers", "1", "--wait-timeout", "20"])
        let f = feed.wait(timeout: 120)
        let t = tap.wait(timeout: 60)
        #expect(!f.timedOut && !t.timedOut)
        #expect(f.status == 0, "feed: \(f.stderr.suffix(400))")
        let lines = t.stdout.split(separator: "\n").map(String.init).filter { !$0.hasPrefix("received=") }
        #expect(lines.count == expected.count)
        let firstDifference = zip(lines, expected).enumerated().first { $0.element.0 != $0.element.1 }
        #expect(
            firstDifference == nil,
            "first difference at \(firstDifference?.offset ?? -1): \(String(describing: firstDifference?.element))"
        )
    }

    @Test func itchFile() throws {
        let path = try TickBusTest.sharedData(ITCHTests.snippet)
        var source = try ITCHSource(path: path)
        let expected = expectedLines(&source)
        #expect(expected.count > 900)  // 1,000 messages less unknown references, plus tops
        try publishAndTap(source: "itch:\(path)", expected: expected)
    }

    @Test func lobsterPair() throws {
        let m = try TickBusTest.sharedData("lobster/\(LOBSTERTests.cut)_message_10.csv")
        let o = try TickBusTest.sharedData("lobster/\(LOBSTERTests.cut)_orderbook_10.csv")
        var source = try LOBSTERSource(messages: m, orderbook: o, levels: 10)
        let expected = expectedLines(&source)
        #expect(expected.count > 28_403)
        try publishAndTap(source: "lobster:\(m),\(o)", expected: expected)
    }
}
