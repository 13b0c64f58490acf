import Foundation
import TestSupport
import Testing

/// `bench strategy` reports the loop's instructions per decision under callgrind beside its
/// wall-clock percentiles (the figure itself is a measurement, never checked here).
@Suite("bench strategy instructions", .serialized)
struct BenchStrategyInstructionsTests {
    @Test("the one-thread loop decides on the decoded messages, the same count every run")
    func instructionLoopIsRepeatable() throws {
        let args = ["bench", "strategy-instructions", "--messages", "3000"]
        let a = try TickBusTest.run(args, timeout: 120)
        let b = try TickBusTest.run(args, timeout: 120)
        #expect(a.status == 0 && b.status == 0, "\(a.stderr)\(b.stderr)")
        let kv = keyValues(a.lastLine)
        #expect(kv["messages"] == "2700", "\(a.stdout)")  // 3000 decoded, the first tenth warms up
        #expect((kv["decisions"].flatMap { Int($0) } ?? 0) > 0, "\(a.stdout)")
        #expect(a.lastLine == b.lastLine)
    }

    @Test("bench strategy --json carries instructions_per_decision from callgrind")
    func benchStrategyReportsInstructions() throws {
        let r = try TickBusTest.run(
            [
                "bench", "strategy", "--rounds", "1", "--messages", "2000", "--rate", "50000",
                "--instruction-messages", "2000", "--json",
            ],
            timeout: 300
        )
        #expect(r.status == 0, "\(r.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(r.lastLine.utf8)) as? [String: Any] ?? [:]
        let result = object["result"] as? [String: Any] ?? [:]
        #expect((result["instructions_per_decision"] as? Double ?? 0) > 0, "\(r.stdout)")
        #expect((result["instructions_per_message"] as? Double ?? 0) > 0, "\(r.stdout)")
    }
}
