#if canImport(Glibc)
import Glibc
#endif

/// The hit-rate and canary tests: scipy's binomial test (one-sided and McNemar's exact two-sided)
/// and the Wilcoxon signed-rank test's normal approximation.
extension Statistics {
    /// `scipy.stats.binomtest(k, n, p, alternative="less").pvalue` = P(X ≤ k), X ~ Bin(n, p).
    /// NaN when n < 1, k is outside 0...n or p outside [0, 1] (scipy raises).
    public static func binomTestLess(k: Int, n: Int, p: Double) -> Double {
        guard n >= 1, k >= 0, k <= n, p >= 0, p <= 1 else { return .nan }
        return binomialCDF(k, n, p)
    }

    /// McNemar's exact test on the discordant pairs: `scipy.stats.binomtest(b, b + c, 0.5).pvalue`
    /// (two-sided). NaN without discordant pairs (scipy refuses n = 0).
    public static func mcnemarExact(b: Int, c: Int) -> Double {
        guard b >= 0, c >= 0, b <= Int.max - c, b + c >= 1 else { return .nan }
        return binomTestTwoSided(k: b, n: b + c, p: 0.5)
    }

    /// `scipy.stats.binomtest(k, n, p).pvalue` (two-sided): the probability of every outcome at
    /// most as likely as k (within scipy's relative 1e-7), found as scipy finds it, by a binary search
    /// of the pmf on the other side of the mode.
    public static func binomTestTwoSided(k: Int, n: Int, p: Double) -> Double {
        guard n >= 1, k >= 0, k <= n, p >= 0, p <= 1 else { return .nan }
        let d = binomialPMF(k, n, p)
        let rerr = 1 + 1e-7
        let pn = p * Double(n)
        let dk = Double(k)
        let pvalue: Double
        if dk == pn {
            return 1
        } else if dk < pn {
            let ix = searchPMF(lo: Int(pn.rounded(.up)), hi: n, d: -d * rerr) { -binomialPMF($0, n, p) }
            let y = n - ix + (d * rerr == binomialPMF(ix, n, p) ? 1 : 0)
            pvalue = binomialCDF(k, n, p) + binomialSF(n - y, n, p)
        } else {
            let ix = searchPMF(lo: 0, hi: Int(pn.rounded(.down)), d: d * rerr) { binomialPMF($0, n, p) }
            let y = ix + 1
            pvalue = binomialCDF(y - 1, n, p) + binomialSF(k - 1, n, p)
        }
        return min(1, pvalue)
    }

    /// scipy's `_binary_search_for_binom_tst`: the i in lo...hi with a(i) ≤ d < a(i+1), a ascending.
    static func searchPMF(lo: Int, hi: Int, d: Double, _ a: (Int) -> Double) -> Int {
        var lo = lo
        var hi = hi
        while lo < hi {
            let mid = lo + (hi - lo) / 2
            let v = a(mid)
            if v < d {
                lo = mid + 1
            } else if v > d {
                hi = mid - 1
            } else {
                return mid
            }
        }
        return a(lo) <= d ? lo : lo - 1
    }

    /// `scipy.stats.wilcoxon(d, zero_method="wilcox", correction=False, method="approx")`:
    /// zeros dropped, average ranks of |d| (ties), T = min(R+, R−), z = (R+ − n(n+1)/4)/σ with
    /// σ² = (n(n+1)(2n+1) − Σ(t³−t)/2)/24, two-sided p = 2·Φ(−|z|). NaN for an empty input, one
    /// containing NaN (scipy propagates it), or no non-zero difference (σ = 0).
    public static func wilcoxonApprox(_ d: [Double]) -> (statistic: Double, pvalue: Double) {
        if d.isEmpty || d.contains(where: \.isNaN) { return (.nan, .nan) }
        var nonzero = d.filter { $0 != 0 }
        nonzero.sort { abs($0) < abs($1) }
        let n = nonzero.count
        var rPlus = 0.0
        var rMinus = 0.0
        var tieTerm = 0.0
        var i = 0
        while i < n {
            var j = i + 1
            while j < n && abs(nonzero[j]) == abs(nonzero[i]) { j += 1 }
            // Ranks i+1 ... j share their average (i + 1 + j)/2.
            let rank = Double(i + 1 + j) / 2
            let t = Double(j - i)
            tieTerm += t * t * t - t
            for v in nonzero[i..<j] {
                if v > 0 { rPlus += rank } else { rMinus += rank }
            }
            i = j
        }
        let count = Double(n)
        let mean = count * (count + 1) * 0.25
        let se = ((count * (count + 1) * (2 * count + 1) - tieTerm / 2) / 24).squareRoot()
        let z = (rPlus - mean) / se
        return (min(rPlus, rMinus), 2 * normalSF(abs(z)))
    }
}
