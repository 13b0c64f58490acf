import Feed
import Foundation
import Journal
import Testing
import TestSupport
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
            if n < 5000 { same = same && m == source.next()! } else {
                #expect(m.kind == .endOfSession && m.payload.0 == 5000)
            }
            n += 1
        }
        #expect(same)
        #expect(n == 5001)
        #expect(reader.stopError == nil && reader.seal?.reason == .endOfSession)
    }

    @Test func bundledSessionReplaysEveryDecision() throws {
        let r = try TickBusTest.run(["replay", "--dir", Self.session, "--verify-decisions", "--features", Self.root + "/features.toml",
                                     "--model", Self.root + "/model.json"], timeout: 120)
        #expect(r.status == 0, "\(r.stdout) \(r.stderr)")
        #expect(r.lastLine == "verified market=5001 decisions=632 identical=true", "\(r.stdout)")
    }
}
