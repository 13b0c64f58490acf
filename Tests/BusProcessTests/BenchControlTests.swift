import Foundation
import TestSupport
import Testing

/// `tickbus bench control` runs both sides, swaps in the swap rounds only, and the swaps cost the
/// strategy no decision: both sides make the same decisions on the same feed. (Figures are not
/// checked: tests never judge wall-clock time.)
@Suite(.serialized) struct BenchControlTests {
    @Test func benchControlSwapsWithoutLosingADecision() throws {
        let r = try TickBusTest.run(
            [
                "bench", "control", "--messages", "20000", "--rate", "40000", "--rounds", "1", "--interval-ms", "5",
                "--json",
            ],
            timeout: 120
        )
        #expect(r.status == 0, "\(r.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(r.lastLine.utf8)) as? [String: Any]
        let result = object?["result"] as? [String: Any] ?? [:]
        let baseline = object?["baseline"] as? [String: Any] ?? [:]
        #expect(object?["bench"] as? String == "control", "\(r.stdout)")
        // 0.5 s of feed at one command per 5 ms, less the warm-up's: dozens of applied swaps.
        #expect((result["swaps"] as? Int ?? 0) >= 20, "\(r.stdout)")
        #expect((result["swap_p50_ns"] as? Double ?? 0) > 0)
        let decisions = result["decisions"] as? Int ?? 0
        #expect(decisions > 1000)
        #expect(decisions == baseline["decisions"] as? Int, "\(r.stdout)")
    }
}
