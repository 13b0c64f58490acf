import Foundation
import TestSupport
import Testing

/// `tickbus bench drift` at a small size: the report has its keys, both sides computed the same
/// numbers (the bench refuses to report otherwise), and no window after the first allocated.
/// Correctness only; the timings are the benchmark's business.
@Suite(.serialized) struct StatisticsBenchTests {
    @Test func benchDriftReports() throws {
        let r = try TickBusTest.run(
            [
                "bench", "drift", "--features", "6", "--baseline-rows", "3000", "--window-rows", "400", "--rounds", "2",
                "--windows", "3", "--scipy-windows", "1", "--cpu=-1", "--json",
            ],
            timeout: 120
        )
        try #require(r.status == 0 && !r.timedOut, "\(r.stderr)")
        let json = try #require(
            try JSONSerialization.jsonObject(with: Data(r.lastLine.utf8)) as? [String: Any],
            "\(r.stdout)"
        )
        #expect(json["bench"] as? String == "drift")
        let result = try #require(json["result"] as? [String: Any])
        let baseline = try #require(json["baseline"] as? [String: Any])
        #expect(result["mallocs_per_window"] as? Double == 0, "\(result)")
        #expect(
            (result["values_checked"] as? Int ?? 0) == 2 * 6 * 4,
            "two scipy windows (one per round), 6 features, 4 values"
        )
        #expect((result["max_relative_difference_vs_scipy"] as? Double ?? 1) <= 1e-9)
        #expect((result["window_ms_p50"] as? Double ?? 0) > 0 && (baseline["scipy_window_ms_p50"] as? Double ?? 0) > 0)
        #expect(baseline["scipy_version"] as? String == "1.17.1")
        #expect(json["ratio"] is [String: Any] && json["config"] is [String: Any])
    }
}
