import Feed
import Foundation
import Journal
import TestSupport
import Testing
import TickBusCore

/// Golden tests on the bundled session in Recordings/synthetic-5.
@Suite(.serialized) struct RecordingsTests {
    static let root = TickBusTest.repositoryRoot.appendingPathComponent("Recordings/synthetic-5").path
    static let session = root + "/session"

    @Test func bundledSessionVerifiesAndHoldsTheSyntheticFeed() throws {
        let v = try TickBusTest.run(["journal", "verify", Self.session], timeout: 60)
        #expect(v.status == 0, "\(v.stdout)")
        #expect(v.lastLine == "verified rings=2 records=5633 gaps=0 lost=0 ok=true", "\(v.stdout)")

        // The market ring is exactly what `feed --source synthetic:5 --messages 5000` publishes.
        let reader = try JournalReader(directory: Self.session, ring: "market")
        var source = SyntheticSource(seed: 5)
        var n = 0
        var same = true
        while case .record(let p)? = reader.next() {
            var m = MarketMessage(MarketMessageView(p))
            m.receiveTime = 0
            #expect(p.load(as: UInt64.self) == UInt64(n))
            if n < 5000 {
                same = same && m == source.next()!
            } else {
                #expect(m.kind == .endOfSession && m.payload.0 == 5000)
            }
            n += 1
        }
        #expect(same)
        #expect(n == 5001)
        #expect(reader.stopError == nil && reader.seal?.reason == .endOfSession)
    }

    @Test func bundledSessionReplaysEveryDecision() throws {
        let r = try TickBusTest.run(
            [
                "replay", "--dir", Self.session, "--verify-decisions", "--features", Self.root + "/features.toml",
                "--model", Self.root + "/model.json",
            ],
            timeout: 120
        )
        #expect(r.status == 0, "\(r.stdout) \(r.stderr)")
        #expect(r.lastLine == "verified market=5001 decisions=632 identical=true", "\(r.stdout)")
    }

    @Test func catInfoAndFeedFromTheJournal() throws {
        // cat --from/--to prints exactly that range, in tap --print format with seq=N.
        let c = try TickBusTest.run(
            ["journal", "cat", Self.session, "--ring", "market", "--from", "100", "--to", "104"],
            timeout: 60
        )
        #expect(c.status == 0)
        var source = SyntheticSource(seed: 5)
        var want: [String] = []
        for s in 0..<105 {
            var m = source.next()!
            m.receiveTime = 0
            var bytes = [UInt8](repeating: 0, count: 64)
            bytes.withUnsafeMutableBytes { m.store(to: $0.baseAddress!) }
            if s >= 100 {
                want.append("seq=\(s) " + bytes.withUnsafeBytes { MarketMessageView($0.baseAddress!).description })
            }
        }
        #expect(c.stdout.split(separator: "\n").map(String.init) == want)

        let info = try TickBusTest.run(["journal", "info", Self.session], timeout: 60)
        let market = keyValues(
            info.stdout.split(separator: "\n").first { $0.hasPrefix("ring=market") }.map(String.init) ?? ""
        )
        #expect(
            market["records"] == "5001" && market["sealed"] == "true" && market["schema"] == "market"
                && market["next_sequence"] == "5001"
        )
        let decisions = keyValues(
            info.stdout.split(separator: "\n").first { $0.hasPrefix("ring=decisions.S") }.map(String.init) ?? ""
        )
        #expect(
            decisions["records"] == "632" && decisions["slot_size"] == "256" && decisions["reason"] == "producer-closed"
        )

        // `feed --source journal:DIR` publishes the recorded market ring through the live feed loop.
        let bus = TickBusTest.uniqueBus("jfeed")
        defer { TickBusTest.removeBus(bus) }
        let feed = try Child([
            "feed", "--bus", bus, "--source", "journal:\(Self.session)", "--capacity", "256", "--wait-readers", "1",
            "--wait-timeout", "30",
        ])
        let tap = try Child(["tap", "--bus", bus, "--gating", "--print", "--attach-timeout", "30"])
        let f = feed.wait(timeout: 120)
        let t = tap.wait(timeout: 60)
        #expect(f.status == 0, "\(f.stderr)")
        #expect(keyValues(f.lastLine)["published"] == "5001")
        #expect(keyValues(t.lastLine)["received"] == "5001" && keyValues(t.lastLine)["lost"] == "0")
        let all = try TickBusTest.run(["journal", "cat", Self.session], timeout: 60)
        let recorded = all.stdout.split(separator: "\n").map { line in String(line.drop { $0 != " " }.dropFirst()) }
        let tapped = t.stdout.split(separator: "\n").dropLast().map(String.init)
        let same = tapped == recorded
        #expect(same, "the replayed feed differs from the journal")
    }
}
