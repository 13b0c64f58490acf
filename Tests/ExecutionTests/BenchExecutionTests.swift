import Foundation
import TestSupport
import Testing

/// `bench sim` and `bench backtest` run, report their contract JSON and allocate nothing per message
/// after warm-up (the figures themselves are measurements, never checked here).
@Suite struct BenchExecutionTests {
    func json(_ args: [String]) throws -> [String: Any] {
        let r = try TickBusTest.run(args + ["--json"], timeout: 300)
        #expect(r.status == 0, "\(r.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(r.lastLine.utf8))
        return object as? [String: Any] ?? [:]
    }

    func lobster() throws -> String {
        let m = try TickBusTest.sharedData("lobster/GOOG_2012-06-21_34200000_57600000_message_1.csv")
        let o = try TickBusTest.sharedData("lobster/GOOG_2012-06-21_34200000_57600000_orderbook_1.csv")
        return "lobster:\(m),\(o)"
    }

    @Test func benchSimKeepsItsOrdersRestingWithoutAllocating() throws {
        let j = try json(["bench", "sim", "--source", try lobster(), "--rounds", "1", "--passes", "1"])
        #expect(j["bench"] as? String == "sim")
        let result = j["result"] as? [String: Any] ?? [:]
        #expect(result["mallocs_per_msg"] as? Double == 0)
        #expect(result["resting_at_end"] as? Int == 100)
        #expect((result["fills"] as? Int ?? 0) > 0)
        let baseline = (j["baseline"] as? [String: Any])?["market"] as? [String: Any] ?? [:]
        #expect((baseline["msgs_per_s"] as? Int ?? 0) > 0)
        #expect((j["ratio"] as? [String: Any])?["sim_vs_market_msgs_per_s"] != nil)
    }

    @Test func benchBacktestReportsTheQuotingPolicy() throws {
        let j = try json(["bench", "backtest", "--source", try lobster(), "--rounds", "1", "--only", "quote"])
        #expect(j["bench"] as? String == "backtest")
        let quote =
            ((j["result"] as? [String: Any])?["contenders"] as? [String: Any])?["quote"] as? [String: Any] ?? [:]
        #expect((quote["decisions"] as? Int ?? 0) > 0)
        #expect((quote["orders"] as? Int ?? 0) > 0)
        #expect((quote["msgs_per_s"] as? Int ?? 0) > 0)
        #expect(((j["baseline"] as? [String: Any])?["source_msgs_per_s"] as? Int ?? 0) > 0)
    }
}
