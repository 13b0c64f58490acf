import Bench
import CMallocCounter
import CTickBus
import Drift
import Foundation

/// `tickbus bench drift`: the time to score one window of every feature against its baseline —
/// all the statistics (PSI, KL, JS, KS and its p-value, W1, W1/std, NaN share) for 100 features, a
/// 100,000-row baseline and a 10,000-row window, on one core — against scipy computing PSI from
/// the same frozen bins, JS, KS (`ks_2samp`) and W1 (`wasserstein_distance`) over the same numbers
/// (`Tools/drift_bench_scipy.py`, a child process pinned to the same CPU), rounds interleaved.
///
/// The data is seeded and synthetic, chosen to exercise every path: per feature one of normal,
/// heavy-tailed (normal / uniform), integer ties, log-normal, and normal with 5% NaN; window k is
/// shifted by 0.05·k standard deviations. Both sides' values are compared (relative 1e-9) before a
/// figure is reported, and the scorer's mallocs are counted for every window after the first.
public enum DriftBench {
    public struct Options: Sendable {
        public var features = 100
        public var baselineRows = 100_000
        public var windowRows = 10_000
        /// Distinct windows (shifts 0, 0.05σ, 0.10σ, …), scored in turn.
        public var windows = 4
        public var rounds = 3
        /// Windows timed per round: ours, and scipy's (about 2.5 s each here).
        public var tickbusWindows = 20
        public var scipyWindows = 2
        /// The CPU both contenders run on (-1: not pinned).
        public var cpu = 1
        public var seed: UInt64 = 14
        public var script = "Tools/drift_bench_scipy.py"
        public init() {}
    }

    /// Per-window milliseconds: nearest-rank percentiles within a round, medians over rounds.
    public struct Stats: Sendable {
        public var p50Ms = 0.0
        public var p99Ms = 0.0
    }

    public struct Outcome: Sendable {
        public var tickbus = Stats()
        public var scipy = Stats()
        public var mallocsPerWindow = 0.0
        public var maxRelativeDifference = 0.0
        public var valuesChecked = 0
        public var scipyVersion = ""
        public var options = Options()
    }

    /// Box–Muller over the baseline sampler's SplitMix64 stream: the bench's data, the same for the same seed.
    struct Generator {
        var stream: BaselineSampler
        init(seed: UInt64) { stream = BaselineSampler(seed: seed, capacity: 1) }
        mutating func next() -> UInt64 { stream.next() }
        mutating func uniform() -> Double { (Double(next() >> 11) + 0.5) / 9_007_199_254_740_992 }
        mutating func normal() -> Double { (-2 * log(uniform())).squareRoot() * cos(2 * Double.pi * uniform()) }
    }

    /// Feature `f`'s values, shifted by `shift` standard deviations.
    static func column(_ f: Int, rows: Int, shift: Double, _ g: inout Generator) -> [Double] {
        let scale = 1 + Double(f % 7)
        let center = Double(f) - 50
        return (0..<rows).map { _ in
            let z = g.normal() + shift
            switch f % 5 {
            case 0: return center + scale * z
            case 1: return center + scale * z / (0.05 + g.uniform())  // heavy tails
            case 2: return (3 * z).rounded()  // ties: integers
            case 3: return exp(0.5 * z)
            default: return g.uniform() < 0.05 ? .nan : center + scale * z
            }
        }
    }

    public static func run(_ o: Options) throws(BenchError) -> Outcome {
        guard o.features >= 1, o.baselineRows >= 10, o.windowRows >= 1, o.windows >= 1, o.rounds >= 1,
            o.tickbusWindows >= 1, o.scipyWindows >= 1
        else {
            throw .invalid("bench drift: every count must be at least 1 (and --baseline-rows at least 10)")
        }
        if o.cpu >= 0 {
            let e = tb_pin_to_cpu(Int32(o.cpu))
            guard e == 0 else { throw .system(call: "sched_setaffinity", path: "cpu \(o.cpu)", errno: e) }
        }
        let script = BenchProcess.resolve(o.script)
        guard FileManager.default.fileExists(atPath: script) else {
            throw .invalid("bench drift: no scipy script at \(o.script) (pass --script)")
        }
        var g = Generator(seed: o.seed)
        let baselineData = (0..<o.features).map { column($0, rows: o.baselineRows, shift: 0, &g) }
        let windows = (0..<o.windows).map { k in
            (0..<o.features).map { column($0, rows: o.windowRows, shift: 0.05 * Double(k), &g) }
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tickbus-bench-drift-\(getpid())").path
        do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch {
            throw .invalid("bench drift: cannot create \(dir): \(error)")
        }
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try write(baselineData, to: dir + "/baseline.f64")
        for (k, w) in windows.enumerated() { try write(w, to: dir + "/window-\(k).f64") }
        let baselines = baselineData.enumerated().map { ColumnBaseline(name: "f\($0)", kind: .numeric, sample: $1) }

        var out = Outcome()
        out.options = o
        var scorer = WindowScorer(capacity: o.windowRows)
        var scores = [ColumnScores](repeating: .numeric(NumericScores()), count: o.features)
        // Our values per window, for the check against scipy's: PSI, JS, KS, W1 per feature.
        var ours = [[[Double]]](repeating: [], count: o.windows)
        var scored = 0
        var mallocs: UInt64 = 0
        var counted = 0
        var tickbusRounds: [Stats] = []
        var scipyRounds: [Stats] = []
        enum Contender: CaseIterable { case tickbus, scipy }
        try InterleavedRounds.run(rounds: o.rounds, Contender.allCases) { (_, c) throws(BenchError) in
            switch c {
            case .tickbus:
                var ns: [UInt64] = []
                for i in 0..<o.tickbusWindows {
                    let k = i % o.windows
                    let m0 = tb_thread_malloc_count()
                    let t0 = tb_monotonic_ns()
                    for f in 0..<o.features {
                        scores[f] = windows[k][f].withUnsafeBufferPointer { scorer.score($0, against: baselines[f]) }
                    }
                    let t1 = tb_monotonic_ns()
                    let m1 = tb_thread_malloc_count()
                    if scored > 0 {  // the first window sizes the scratch
                        mallocs += m1 - m0
                        counted += 1
                    }
                    scored += 1
                    ns.append(t1 - t0)
                    if ours[k].isEmpty { ours[k] = scores.map(Self.checked) }
                }
                ns.sort()
                tickbusRounds.append(
                    Stats(
                        p50Ms: Double(Rank.percentile(sorted: ns, 0.5, empty: 0)) / 1e6,
                        p99Ms: Double(Rank.percentile(sorted: ns, 0.99, empty: 0)) / 1e6
                    )
                )
            case .scipy:
                let result = try scipy(script, dir, o)
                out.scipyVersion = result.version
                var seconds = result.seconds.sorted()
                scipyRounds.append(
                    Stats(
                        p50Ms: Rank.percentile(sorted: seconds, 0.5, empty: 0) * 1e3,
                        p99Ms: Rank.percentile(sorted: seconds, 0.99, empty: 0) * 1e3
                    )
                )
                seconds.removeAll()
                for (k, values) in result.values where !ours[k].isEmpty {
                    for (f, row) in values.enumerated() {
                        for (s, v) in row.enumerated() {
                            let mine = ours[k][f][s]
                            let d = mine == v ? 0 : abs(mine - v) / max(abs(mine), abs(v))
                            out.maxRelativeDifference = max(out.maxRelativeDifference, d.isNaN ? .infinity : d)
                            out.valuesChecked += 1
                        }
                    }
                }
            }
        }
        guard out.valuesChecked > 0 else { throw .check("bench drift: no window was computed by both sides") }
        guard out.maxRelativeDifference <= 1e-9 else {
            throw .check("bench drift: tickbus and scipy differ by \(out.maxRelativeDifference) (relative)")
        }
        out.mallocsPerWindow = counted > 0 ? Double(mallocs) / Double(counted) : 0
        out.tickbus = Stats(
            p50Ms: Rank.median(tickbusRounds.map(\.p50Ms)),
            p99Ms: Rank.median(tickbusRounds.map(\.p99Ms))
        )
        out.scipy = Stats(p50Ms: Rank.median(scipyRounds.map(\.p50Ms)), p99Ms: Rank.median(scipyRounds.map(\.p99Ms)))
        return out
    }

    /// PSI, JS, KS, W1: the four values scipy computes too.
    static func checked(_ s: ColumnScores) -> [Double] {
        guard case .numeric(let n) = s else { return [] }
        return [n.psi ?? .nan, n.js ?? .nan, n.ks ?? .nan, n.w1 ?? .nan]
    }

    /// Feature-major float64, little-endian.
    static func write(_ columns: [[Double]], to path: String) throws(BenchError) {
        var data = Data(capacity: columns.count * (columns.first?.count ?? 0) * 8)
        for c in columns { c.withUnsafeBytes { data.append(contentsOf: $0) } }
        do { try data.write(to: URL(fileURLWithPath: path)) } catch {
            throw .invalid("bench drift: cannot write \(path): \(error)")
        }
    }

    struct ScipyResult {
        var seconds: [Double]
        var values: [(Int, [[Double]])]
        var version: String
    }

    /// One run of the scipy script: `scipyWindows` windows timed (starting at window 0).
    static func scipy(_ script: String, _ dir: String, _ o: Options) throws(BenchError) -> ScipyResult {
        let (status, data) = try BenchProcess.capture(
            "/usr/bin/env",
            [
                "python3", script, dir, "\(o.features)", "\(o.baselineRows)", "\(o.windowRows)", "\(o.windows)",
                "\(o.cpu)", "\(o.scipyWindows)",
            ]
        )
        guard status == 0 else { throw .child("\(script) failed (status \(status))") }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let seconds = object["seconds"] as? [Double], let values = object["values"] as? [[String: Any]]
        else {
            throw .child("\(script): unreadable output \(String(decoding: data.prefix(200), as: UTF8.self))")
        }
        var out = ScipyResult(seconds: seconds, values: [], version: object["scipy"] as? String ?? "")
        for v in values {
            guard let k = v["window"] as? Int, let rows = v["values"] as? [[Double]] else { continue }
            out.values.append((k, rows))
        }
        return out
    }
}
