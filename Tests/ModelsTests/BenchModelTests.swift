import Bench
import Foundation
import TestSupport
import Testing

/// `tickbus bench model` on a user's model: run from a directory that is not the repository, on a
/// model the bench script did not train (the regression fixture, 6 features), with rows written
/// here as float64. Figures are wall clock and not checked; that the run happens, that both sides
/// are measured and that the report parses are.
@Suite struct BenchModelTests {
    /// Runs `tickbus ARGS` in `directory` with a deadline (the child is killed at it).
    static func run(
        _ arguments: [String],
        in directory: URL,
        timeout: TimeInterval = 180
    ) throws -> (status: Int32, stdout: String, stderr: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: TickBusTest.binary)
        p.arguments = arguments
        p.currentDirectoryURL = directory
        let out = directory.appendingPathComponent("stdout")
        let err = directory.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        p.standardOutput = try FileHandle(forWritingTo: out)
        p.standardError = try FileHandle(forWritingTo: err)
        try p.run()
        let deadline = Date().addingTimeInterval(timeout)
        while p.isRunning && Date() < deadline { usleep(10_000) }
        if p.isRunning { kill(p.processIdentifier, SIGKILL) }
        p.waitUntilExit()
        return (
            p.terminationStatus, (try? String(contentsOf: out, encoding: .utf8)) ?? "",
            (try? String(contentsOf: err, encoding: .utf8)) ?? ""
        )
    }

    /// The fixture's input rows as float64, row-major (an empty field is NaN).
    static func writeRows(_ to: URL) throws -> Int {
        let rows = try Fixtures.csv("lgb_regression.input.csv", header: true)
        var flat: [Double] = rows.flatMap { $0 }
        let data = flat.withUnsafeMutableBytes { Data($0) }
        try data.write(to: to)
        return rows.count
    }

    @Test func benchModelRunsAnyModelFromAnyDirectory() throws {
        let dir = TickBusTest.temporaryDirectory("bench-model")
        defer { try? FileManager.default.removeItem(at: dir) }
        let rows = dir.appendingPathComponent("rows.f64")
        let n = try Self.writeRows(rows)
        let r = try Self.run(
            [
                "bench", "model", "--model", Fixtures.path("lgb_regression.txt"), "--rows", rows.path,
                "--rounds", "3", "--calls", "200", "--json",
            ],
            in: dir
        )
        #expect(r.status == 0, "bench model: \(r.stderr)")
        let line = r.stdout.split(separator: "\n").last.map(String.init) ?? ""
        let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        #expect(object?["bench"] as? String == "model")
        let result = object?["result"] as? [String: Any]
        let baseline = object?["baseline"] as? [String: Any]
        #expect(result?["features"] as? Int == 6 && result?["rows"] as? Int == n)
        // JSONEncoder writes whole numbers without a fraction: read every figure as NSNumber.
        func number(_ v: Any?) -> Double? { (v as? NSNumber)?.doubleValue }
        #expect((number(result?["p50_ns"]) ?? 0) > 0, "ours measured: \(line)")
        #expect((number(baseline?["p50_ns"]) ?? 0) > 0, "LightGBM measured: \(line)")
        #expect(baseline?["name"] as? String == "LGBM_BoosterPredictForMatSingleRowFast")
        #expect((number(result?["max_relative_error"]) ?? 1) <= 1e-12)
        #expect((number((object?["ratio"] as? [String: Any])?["speedup_p50"]) ?? 0) > 0)
    }

    /// A row file that is not a whole number of rows is refused with both sizes named, as a
    /// runtime error (exit 1, no usage banner).
    @Test func benchModelRefusesPartialRows() throws {
        let dir = TickBusTest.temporaryDirectory("bench-model-bad")
        defer { try? FileManager.default.removeItem(at: dir) }
        let rows = dir.appendingPathComponent("rows.f64")
        try Data(repeating: 0, count: 8 * 6 + 7).write(to: rows)
        let r = try Self.run(
            [
                "bench", "model", "--model", Fixtures.path("lgb_regression.txt"), "--rows", rows.path, "--rounds", "2",
                "--calls", "1",
            ],
            in: dir,
            timeout: 60
        )
        #expect(r.status == 1)
        #expect(r.stderr.contains("55 bytes") && r.stderr.contains("48 bytes each"), "\(r.stderr)")
        #expect(!r.stderr.contains("USAGE"), "\(r.stderr)")
    }
}

/// The one percentile rule: nearest rank, exact on integers.
@Suite struct BenchRankTests {
    @Test func medianOfIntegersIsOneOfTheSamples() {
        #expect(Rank.median([UInt64]([7])) == 7)
        // Even count: the lower middle sample, never an average through a Double.
        #expect(Rank.median([UInt64]([4, 1, 3, 2])) == 2)
        #expect(Rank.median([UInt64.max - 1, UInt64.max]) == UInt64.max - 1)
        #expect(Rank.median([Double]([1, 2])) == 1)
        #expect(Rank.median([UInt64]()) == 0)
    }

    @Test func percentilesAreNearestRank() {
        var xs: [UInt64] = Array(1...1000).map { UInt64($0) }.reversed()
        let p = Percentiles(sorting: &xs)
        #expect(p.p50 == 500 && p.p90 == 900 && p.p99 == 990 && p.p999 == 999 && p.max == 1000)
        #expect(Rank.percentile(sorted: [UInt64](arrayLiteral: 10, 20, 30), 0.5, empty: 0) == 20)
    }

    @Test func roundsAlternateOrder() {
        var seen: [String] = []
        InterleavedRounds.run(rounds: 3, ["a", "b"]) { (round, c) in seen.append("\(round)\(c)") }
        #expect(seen == ["0a", "0b", "1b", "1a", "2a", "2b"])
    }

    @Test func reportKeysAreSortedAndConfigOptional() {
        struct Side: Encodable {
            var zeta = 1
            var alpha = 2.5
        }
        let r = BenchReport(bench: "x", result: Side(), baseline: Side(), ratio: ["r": 1.0])
        #expect(
            r.json
                == #"{"baseline":{"alpha":2.5,"zeta":1},"bench":"x","ratio":{"r":1},"result":{"alpha":2.5,"zeta":1}}"#
        )
    }
}
