import Feed
import Foundation
import Journal
import Replay
import Strategy
import Testing
import TestSupport
import TickBusCore

/// The Replay library in-process, on the bundled session in Recordings/synthetic-5 (the market
/// ring of `feed --source synthetic:5 --messages 5000` and the decisions of its strategy).
@Suite struct ReplayLibraryTests {
    static let root = TickBusTest.repositoryRoot.appendingPathComponent("Recordings/synthetic-5").path
    static let session = root + "/session"

    /// Collects the first messages of any source, with receive time cleared.
    struct Collect: MarketSourceVisitor {
        var limit: Int
        mutating func visit<Source: MarketSource & ~Copyable>(_ source: inout Source) -> [MarketMessage] {
            var out: [MarketMessage] = []
            while out.count < limit, var m = source.next() {
                m.receiveTime = 0
                out.append(m)
            }
            return out
        }
    }

    @Test("journal:DIR opens through the same dispatch as the feed's sources and yields the recorded stream")
    func journalSpecReplaysTheSyntheticFeed() throws {
        var visitor = Collect(limit: 10_000)
        let replayed = try MarketSources.open(try SourceSpec(parsing: "journal:\(Self.session)"), &visitor)
        var synthetic = Collect(limit: 5000)
        let live = try MarketSources.open(.synthetic(seed: 5), &synthetic)
        // The recorded end-of-session ends the source; everything before it is the synthetic flow.
        #expect(replayed.count == 5000)
        #expect(replayed == live)
    }

    @Test("a ring of another schema is refused as a market source, naming the ring and its schema")
    func decisionsRingIsNotAMarketSource() {
        do {
            _ = try JournalSource(directory: Self.session, ring: "decisions.S")
            Issue.record("opened a decisions ring as a market source")
        } catch {
            #expect(error == .notMarket(directory: Self.session, ring: "decisions.S", schema: .decisions))
            #expect(error.description.contains("ring 'decisions.S' has schema decisions"))
        }
        do {
            var visitor = Collect(limit: 1)
            _ = try MarketSources.open(.journal(directory: "/nonexistent-journal"), &visitor)
            Issue.record("opened a missing journal")
        } catch {
            guard case .journal(.journal) = error else { Issue.record("\(error)"); return }
        }
    }

    @Test("the decision verifier reproduces every recorded decision in-process, and names the first difference of another model")
    func verifierInProcess() throws {
        let strategy = try LoadedStrategy.load(features: Self.root + "/features.toml", model: Self.root + "/model.json", shadow: nil)
        let ok = try DecisionVerifier.run(directory: Self.session, decisions: nil, strategy: strategy)
        #expect(ok.firstDifference == nil, "\(ok.firstDifference ?? "")")
        #expect(ok.decisions > 100)
        #expect(ok.line == "verified market=\(ok.market) decisions=\(ok.decisions) identical=true")
        // A decisions ring that is not in the journal: the reader's own error, as a value.
        do {
            _ = try DecisionVerifier.run(directory: Self.session, decisions: "decisions.nosuch", strategy: strategy)
            Issue.record("verified against a missing ring")
        } catch {
            guard case .journal(.ringNotFound(_, "decisions.nosuch")) = error else { Issue.record("\(error)"); return }
        }
    }
}
