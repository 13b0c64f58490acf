import Drift
import Foundation
import TestSupport
import Testing

/// Every drift statistic against scipy: `statistics_reference.py` computes each one with numpy and
/// scipy (from the issue's definitions, not from the Swift code) over random and adversarial samples
/// — ties, all-equal, NaN, one-element and empty windows, heavy tails (Cauchy, Pareto), tiny and
/// huge scales, −0.0, 100,000-value baselines, binomials with n = 10⁶, far tails of every p-value —
/// into a fixture written at test time; the Swift values must agree to 1e-9 relative (p-values
/// where scipy's is above 1e-300; below it both must be under 1e-290), undefined exactly where
/// scipy's is (None / NaN ↔ nil).
@Suite struct StatisticsTests {
    struct Case {
        var kind: String
        var name: String
        var inputs: [String: [Double]] = [:]
        var outputs: [String: Double?] = [:]
        func input(_ key: String) -> [Double] { inputs[key] ?? [] }
        func scalar(_ key: String) -> Double { inputs[key]?.first ?? .nan }
    }

    static let reference = TickBusTest.repositoryRoot.appendingPathComponent("Tests/DriftTests/statistics_reference.py")
        .path

    /// Runs the reference script into a scratch file and reads the fixture back.
    static func fixture() throws -> [Case] {
        let dir = TickBusTest.temporaryDirectory("drift-stats")
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("fixture.txt").path
        let run = try Child(["python3", reference, out], executable: "/usr/bin/env").wait(timeout: 120)
        try #require(run.status == 0 && !run.timedOut, "statistics_reference.py: \(run.stderr)")
        var cases: [Case] = []
        var current: Case?
        func number(_ s: Substring) -> Double? { s == "-" ? nil : UInt64(s, radix: 16).map(Double.init(bitPattern:)) }
        for line in try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n") {
            let t = line.split(separator: " ")
            switch t[0] {
            case "case": current = Case(kind: String(t[1]), name: String(t[2]))
            case "in": current?.inputs[String(t[1])] = t.dropFirst(2).map { number($0) ?? .nan }
            case "out": current?.outputs[String(t[1])] = number(t[2])
            case "end": if let c = current { cases.append(c) }
            default: Issue.record("fixture: unknown line \(line.prefix(40))")
            }
        }
        return cases
    }

    /// Relative 1e-9, nil against nil; values scipy gives below 1e-300 need only be below 1e-290.
    static func agree(_ got: Double?, _ want: Double?) -> Bool {
        switch (got, want) {
        case (nil, nil): return true
        case (let g?, let w?):
            if g.isNaN || w.isNaN { return g.isNaN && w.isNaN }
            if g == w { return true }
            if abs(w) < 1e-300 { return abs(g) < 1e-290 }
            return abs(g - w) <= 1e-9 * max(abs(g), abs(w))
        default: return false
        }
    }

    static func expect(_ c: Case, _ key: String, _ got: Double?, _ location: SourceLocation = #_sourceLocation) {
        guard let want = c.outputs[key] else {
            Issue.record("\(c.kind) \(c.name): the fixture has no \(key)", sourceLocation: location)
            return
        }
        #expect(
            agree(got, want),
            "\(c.kind) \(c.name) \(key): Swift \(String(describing: got)), scipy \(String(describing: want))",
            sourceLocation: location
        )
    }

    static func defined(_ x: Double) -> Double? { x.isNaN ? nil : x }

    @Test func everyStatisticEqualsScipy() throws {
        let cases = try Self.fixture()
        var seen: [String: Int] = [:]
        for c in cases {
            seen[c.kind, default: 0] += 1
            switch c.kind {
            case "kolmogorov": Self.expect(c, "sf", Statistics.kolmogorovSF(c.scalar("x")))
            case "chi2sf": Self.expect(c, "sf", Statistics.chi2SF(c.scalar("x"), dof: c.scalar("dof")))
            case "normal": Self.expect(c, "sf", Statistics.normalSF(c.scalar("x")))
            case "binom":
                let (k, n, p) = (Int(c.scalar("k")), Int(c.scalar("n")), c.scalar("p"))
                Self.expect(c, "pmf", Statistics.binomialPMF(k, n, p))
                Self.expect(c, "cdf", Statistics.binomialCDF(k, n, p))
                Self.expect(c, "sf", Statistics.binomialSF(k, n, p))
                Self.expect(c, "less", Statistics.binomTestLess(k: k, n: n, p: p))
                Self.expect(c, "two", Statistics.binomTestTwoSided(k: k, n: n, p: p))
            case "mcnemar": Self.expect(c, "p", Statistics.mcnemarExact(b: Int(c.scalar("b")), c: Int(c.scalar("c"))))
            case "wilcoxon":
                let r = Statistics.wilcoxonApprox(c.input("d"))
                Self.expect(c, "statistic", Self.defined(r.statistic))
                Self.expect(c, "pvalue", Self.defined(r.pvalue))
            case "chisquare":
                let r = Statistics.chiSquare(observed: c.input("observed"), expected: c.input("expected"))
                Self.expect(c, "statistic", Self.defined(r.statistic))
                Self.expect(c, "pvalue", Self.defined(r.pvalue))
            case "js": Self.expect(c, "js", Self.defined(Statistics.jensenShannon(c.input("p"), c.input("q"))))
            case "numeric":
                let baseline = ColumnBaseline(name: c.name, kind: .numeric, sample: c.input("base"))
                var scorer = WindowScorer(capacity: 8)  // smaller than most windows: grows
                guard case .numeric(let s) = scorer.score(c.input("window"), against: baseline) else {
                    Issue.record("\(c.name): not numeric scores")
                    continue
                }
                Self.expect(c, "psi", s.psi)
                Self.expect(c, "kl", s.kl)
                Self.expect(c, "js", s.js)
                Self.expect(c, "ks", s.ks)
                Self.expect(c, "ks_pvalue", s.ksPValue)
                Self.expect(c, "w1", s.w1)
                Self.expect(c, "w1_norm", s.w1Norm)
                Self.expect(c, "nan_share", s.nanShare)
                // The sample functions on the same values agree with the scorer's one merge.
                let w = c.input("window").filter { !$0.isNaN }.sorted()
                if !w.isEmpty && !baseline.sortedSample.isEmpty {
                    Self.expect(c, "ks", Statistics.ksTwoSample(w, baseline.sortedSample).d)
                    Self.expect(c, "ks_pvalue", Statistics.ksTwoSample(w, baseline.sortedSample).pvalue)
                    Self.expect(c, "w1", Statistics.wasserstein1(w, baseline.sortedSample))
                }
            case "categorical":
                let baseline = ColumnBaseline(name: c.name, kind: .categorical, sample: c.input("base"))
                var scorer = WindowScorer(capacity: 8)
                guard case .categorical(let s) = scorer.score(c.input("window"), against: baseline) else {
                    Issue.record("\(c.name): not categorical scores")
                    continue
                }
                Self.expect(c, "chi2", s.chi2)
                Self.expect(c, "chi2_pvalue", s.chi2PValue)
                Self.expect(c, "new_share", s.newShare)
                Self.expect(c, "nan_share", s.nanShare)
            case "bins":
                let baseline = ColumnBaseline(name: c.name, kind: .numeric, sample: c.input("base"))
                #expect(baseline.edges.map(\.bitPattern) == c.input("edges").map(\.bitPattern), "bins \(c.name): edges")
                let bins = c.input("probes").map { Double(Bins.index(of: $0, edges: baseline.edges)) }
                #expect(bins == c.input("bins"), "bins \(c.name): bin of each probe")
                #expect(baseline.binCounts.map { Double($0) } == c.input("counts"), "bins \(c.name): counts")
            default: Issue.record("fixture: unknown case kind \(c.kind)")
            }
        }
        // The fixture holds what the script says it does (a script that stops writing a kind fails here).
        for (kind, least) in [
            ("kolmogorov", 20), ("chi2sf", 20), ("binom", 15), ("mcnemar", 10), ("normal", 10), ("wilcoxon", 7),
            ("chisquare", 5), ("js", 5), ("numeric", 22), ("categorical", 9), ("bins", 8),
        ] {
            #expect(
                seen[kind, default: 0] >= least,
                "fixture: \(seen[kind, default: 0]) \(kind) cases, expected \(least)"
            )
        }
    }

    /// The same window scored twice by one scorer, and by a fresh one, gives the same scores (the
    /// scratch carries nothing from one window to the next), and a scorer reused across columns of
    /// different bin counts and kinds stays correct.
    @Test func scorerIsReusable() {
        var rng = SplitMix64(seed: 7)
        func normal() -> Double {
            let u = (Double(rng.next() >> 11) + 0.5) / 9_007_199_254_740_992
            let v = Double(rng.next() >> 11) / 9_007_199_254_740_992
            return (-2 * log(u)).squareRoot() * cos(2 * .pi * v)
        }
        let a = ColumnBaseline(name: "a", kind: .numeric, sample: (0..<3000).map { _ in normal() })
        let b = ColumnBaseline(name: "b", kind: .numeric, sample: [0, 0, 0, 1, 1, 2, .nan])
        let c = ColumnBaseline(name: "c", kind: .categorical, sample: [1, 2, 2, 3, 3, 3])
        let wa = (0..<500).map { _ in normal() + 0.1 }
        let wb: [Double] = [0, 1, 1, .nan, 5]
        let wc: [Double] = [1, 3, 4, .nan]
        var shared = WindowScorer(capacity: 500)
        let first = [shared.score(wa, against: a), shared.score(wb, against: b), shared.score(wc, against: c)]
        let again = [shared.score(wa, against: a), shared.score(wb, against: b), shared.score(wc, against: c)]
        var fa = WindowScorer(capacity: 1)
        var fb = WindowScorer(capacity: 1)
        var fc = WindowScorer(capacity: 1)
        let fresh = [fa.score(wa, against: a), fb.score(wb, against: b), fc.score(wc, against: c)]
        #expect(first == again)
        #expect(first == fresh)
    }

    /// The radix sort orders like the standard sort, −0.0 and 0.0 as equals, infinities at the ends.
    @Test(arguments: [0, 1, 2, 3, 17, 1000]) func radixSortOrders(count: Int) {
        var rng = SplitMix64(seed: UInt64(count) + 1)
        var values: [Double] = (0..<count).map { i in
            switch rng.below(6) {
            case 0: return -0.0
            case 1: return 0.0
            case 2: return Double(Int(rng.below(5)) - 2)
            case 3: return i % 2 == 0 ? .infinity : -.infinity
            default:
                let d = Double(bitPattern: rng.next())
                return d.isNaN ? 1.5 : d
            }
        }
        let expected = values.sorted()
        var keys = [UInt64](repeating: 0, count: count)
        var temp = [UInt64](repeating: 0, count: count)
        var counts = [Int](repeating: 0, count: Statistics.radixCountsSize)
        values.withUnsafeMutableBufferPointer { v in
            keys.withUnsafeMutableBufferPointer { k in
                temp.withUnsafeMutableBufferPointer { t in
                    counts.withUnsafeMutableBufferPointer { Statistics.radixSort(v, keys: k, temp: t, counts: $0) }
                }
            }
        }
        #expect(values == expected)
    }
}
