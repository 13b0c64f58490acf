#if canImport(Glibc)
import Glibc
#endif

/// The drift statistics and significance tests, each defined as scipy defines it (the function
/// named in each comment is the reference the tests compare with at 1e-9 relative).
///
/// Functions over samples take them sorted ascending and without NaN (the window scorer sorts once
/// and hands the same buffer to every statistic). An undefined value (an empty sample, zero
/// degrees of freedom) is NaN here, as scipy returns it; `WindowScorer` turns NaN into nil.
public enum Statistics {
    /// Two-sample Kolmogorov–Smirnov: D = sup |F_a − F_b| (`scipy.stats.ks_2samp(a, b).statistic`)
    /// and the asymptotic p-value `kstwobign.sf(D·√(m·n/(m+n)))`.
    @inlinable
    public static func ksTwoSample(
        _ a: UnsafeBufferPointer<Double>,
        _ b: UnsafeBufferPointer<Double>
    ) -> (d: Double, pvalue: Double) {
        let d = empiricalDistances(a, b).ks
        if d.isNaN { return (.nan, .nan) }
        let en = Double(a.count * b.count) / Double(a.count + b.count)
        return (d, kolmogorovSF(d * en.squareRoot()))
    }

    /// `scipy.stats.ks_2samp` on arrays (sorted, no NaN).
    public static func ksTwoSample(_ a: [Double], _ b: [Double]) -> (d: Double, pvalue: Double) {
        a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in ksTwoSample(pa, pb) } }
    }

    /// Wasserstein-1 between two empirical distributions, ∫|F_a − F_b| dx
    /// (`scipy.stats.wasserstein_distance(a, b)`); inputs sorted, no NaN.
    public static func wasserstein1(_ a: [Double], _ b: [Double]) -> Double {
        a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in empiricalDistances(pa, pb).w1 } }
    }

    /// KS statistic and Wasserstein-1 of two sorted samples (no NaN): `b` is turned into its
    /// distinct values and their F_b first (allocates; the window scorer passes its baseline's).
    @inlinable
    public static func empiricalDistances(
        _ a: UnsafeBufferPointer<Double>,
        _ b: UnsafeBufferPointer<Double>
    ) -> (ks: Double, w1: Double) {
        let (values, cumulative) = empiricalDistribution(sorted: b)
        return values.withUnsafeBufferPointer { v in
            cumulative.withUnsafeBufferPointer { c in empiricalDistances(a, distinct: v, cumulative: c) }
        }
    }

    /// The distinct values of a sorted sample and F at each, count(≤ v)/n divided as scipy divides.
    public static func empiricalDistribution(sorted b: UnsafeBufferPointer<Double>) -> ([Double], [Double]) {
        var values: [Double] = []
        var cumulative: [Double] = []
        let n = Double(b.count)
        var j = 0
        while j < b.count {
            let v = b[j]
            repeat { j += 1 } while j < b.count && b[j] <= v
            values.append(v)
            cumulative.append(Double(j) / n)
        }
        return (values, cumulative)
    }

    /// KS statistic and Wasserstein-1 in one merge of a sorted sample `a` with a distribution given
    /// as its distinct values (ascending) and F at each.
    ///
    /// At each distinct value x of the union (ascending), F_a(x) = i/m for the i values ≤ x and F_b
    /// is the cumulative share of the last distinct value ≤ x — the same divisions scipy makes, so D
    /// is bit for bit scipy's —, and W1 sums |F_a − F_b|·(x′ − x) over the gaps to the next value x′
    /// (positive terms: the order of summation changes the last bits only).
    @inlinable
    public static func empiricalDistances(
        _ a: UnsafeBufferPointer<Double>,
        distinct b: UnsafeBufferPointer<Double>,
        cumulative cb: UnsafeBufferPointer<Double>
    ) -> (ks: Double, w1: Double) {
        let m = a.count
        let n = b.count
        if m == 0 || n == 0 { return (.nan, .nan) }
        let dm = Double(m)
        var i = 0
        var j = 0
        var fa = 0.0  // i/m, recomputed only when i moves
        var fb = 0.0
        var ks = 0.0
        var w1 = 0.0
        // Safe: every read is guarded by i < m or j < n (cb has n entries, as b).
        var x = min(a[0], b[0])
        while true {
            if i < m && a[i] <= x {
                repeat { i += 1 } while i < m && a[i] <= x
                fa = Double(i) / dm
            }
            if j < n && b[j] <= x {  // distinct values: at most one
                fb = cb[j]
                j += 1
            }
            var diff = abs(fa - fb)
            if diff > ks { ks = diff }
            if i == m && j == n { break }
            let nextA = i < m ? a[i] : .infinity
            // The baseline is the larger sample: its values strictly below the window's next one
            // move only j (the same points and additions as the general step, fewer tests).
            while j < n && b[j] < nextA {
                let next = b[j]
                w1 += diff * (next - x)
                x = next
                fb = cb[j]
                j += 1
                diff = abs(fa - fb)
                if diff > ks { ks = diff }
            }
            if i == m && j == n { break }
            let next = min(nextA, j < n ? b[j] : .infinity)
            w1 += diff * (next - x)
            x = next
        }
        return (ks, w1)
    }

    /// Jensen–Shannon distance, base 2 (`scipy.spatial.distance.jensenshannon(p, q, base=2)`):
    /// p and q are normalised by their sums first, as scipy does; √(½(KL(p‖m) + KL(q‖m))/ln 2).
    @inlinable
    public static func jensenShannon(_ p: UnsafeBufferPointer<Double>, _ q: UnsafeBufferPointer<Double>) -> Double {
        var sp = 0.0
        var sq = 0.0
        for i in 0..<p.count {
            sp += p[i]
            sq += q[i]
        }
        var left = 0.0
        var right = 0.0
        for i in 0..<p.count {
            let pi = p[i] / sp
            let qi = q[i] / sq
            let mi = (pi + qi) / 2
            left += relativeEntropy(pi, mi)
            right += relativeEntropy(qi, mi)
        }
        // A sum of two divergences rounds to −1e-17 at worst for equal inputs: 0, not NaN.
        let js = (left + right) / 0.693_147_180_559_945_309_42
        return js.isNaN ? .nan : (max(0, js) / 2).squareRoot()
    }

    /// `scipy.spatial.distance.jensenshannon` on arrays.
    public static func jensenShannon(_ p: [Double], _ q: [Double]) -> Double {
        precondition(p.count == q.count, "jensenShannon: p and q differ in length")
        return p.withUnsafeBufferPointer { pp in q.withUnsafeBufferPointer { pq in jensenShannon(pp, pq) } }
    }

    /// `scipy.special.rel_entr(x, y)`: x·ln(x/y), 0 for x = 0, ∞ where y = 0 < x.
    @inlinable static func relativeEntropy(_ x: Double, _ y: Double) -> Double {
        if x.isNaN || y.isNaN { return .nan }
        if x > 0 && y > 0 { return x * log(x / y) }
        if x == 0 && y >= 0 { return 0 }
        return .infinity
    }

    /// Population stability index and KL(a ‖ e) of two bin proportion vectors, each proportion
    /// floored at `floor` (1e-4) and not renormalised: PSI = Σ (a−e)·ln(a/e), KL = Σ a·ln(a/e).
    @inlinable
    public static func psiAndKL(
        _ a: UnsafeBufferPointer<Double>,
        _ e: UnsafeBufferPointer<Double>,
        floor: Double = 1e-4
    ) -> (psi: Double, kl: Double) {
        var psi = 0.0
        var kl = 0.0
        for i in 0..<a.count {
            let ai = max(a[i], floor)
            let ei = max(e[i], floor)
            let l = log(ai / ei)
            psi += (ai - ei) * l
            kl += ai * l
        }
        return (psi, kl)
    }

    /// Pearson's chi-squared goodness of fit (`scipy.stats.chisquare(observed, expected)`):
    /// Σ (o−e)²/e and `chi2.sf(statistic, k − 1)`. The expected counts must sum as the observed do
    /// (scipy refuses otherwise; this does not check).
    public static func chiSquare(observed: [Double], expected: [Double]) -> (statistic: Double, pvalue: Double) {
        precondition(observed.count == expected.count, "chiSquare: observed and expected differ in length")
        var statistic = 0.0
        for i in 0..<observed.count {
            let d = observed[i] - expected[i]
            statistic += d * d / expected[i]
        }
        return (statistic, chi2SF(statistic, dof: Double(observed.count - 1)))
    }
}
