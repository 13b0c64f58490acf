#if canImport(Glibc)
import Glibc
#endif

/// The special functions under the tests' p-values, each computed the numerically sound way
/// (series, continued fractions, log space) and tested against scipy at 1e-9 relative where the
/// value is above 1e-300 (Tests/DriftTests, "Statistics against scipy").
extension Statistics {
    /// `scipy.stats.kstwobign.sf(x)` (= `scipy.special.kolmogorov(x)`): the survival function of
    /// the Kolmogorov distribution, Q(x) = 2 Σ_{k≥1} (−1)^(k−1) e^(−2k²x²).
    ///
    /// Two series of the same Jacobi theta function, as cephes does: at or below 0.82 (about the
    /// median) the cdf's fast series `√(2π)/x Σ e^(−(2k−1)²π²/(8x²))` and Q = 1 − cdf; above it the
    /// alternating series for Q itself, so the small tail is never a difference of near-equal values.
    public static func kolmogorovSF(_ x: Double) -> Double {
        if x.isNaN { return .nan }
        // Below π/√(8·746) every term of the cdf's series underflows: cdf = 0.
        if x <= 0.040_611_972_203_751_713 { return 1 }
        if x <= 0.82 {
            let w = (2 * Double.pi).squareRoot() / x
            let logU8 = -Double.pi * Double.pi / (x * x)  // log(u^8), u = e^(−π²/(8x²))
            let u = exp(logU8 / 8)
            if u == 0 { return 1 - exp(logU8 / 8 + log(w)) }
            // cdf = w·u·Σ_{k≥1} u^((2k−1)² − 1); the exponents 0, 8, 24, 48, … grow fast.
            var sum = 1.0
            var k = 2.0
            while k < 40 {
                let term = exp(logU8 / 8 * ((2 * k - 1) * (2 * k - 1) - 1))
                sum += term
                if term < Double.ulpOfOne * sum { break }
                k += 1
            }
            return 1 - w * u * sum
        }
        // Q = 2(v − v⁴ + v⁹ − …), v = e^(−2x²) < 0.26 here: terms fall as v^(k²).
        let logV = -2 * x * x
        var sum = 0.0
        var k = 1.0
        var sign = 1.0
        while k < 40 {
            let term = exp(logV * k * k)
            sum += sign * term
            if term <= Double.ulpOfOne * abs(sum) || term == 0 { break }
            sign = -sign
            k += 1
        }
        return max(0, 2 * sum)
    }

    /// `scipy.stats.chi2.sf(x, dof)`: the regularized upper incomplete gamma Q(dof/2, x/2).
    public static func chi2SF(_ x: Double, dof: Double) -> Double {
        if x.isNaN || dof.isNaN || !(dof > 0) { return .nan }
        if x <= 0 { return 1 }
        return upperGamma(dof / 2, x / 2)
    }

    /// `scipy.special.gammaincc(a, x)`: Q(a, x) = Γ(a, x)/Γ(a) for a > 0, x ≥ 0.
    ///
    /// Below x = a + 1 the series of P = 1 − Q (Q is not small there), above it Legendre's
    /// continued fraction for Q (modified Lentz); the common factor xᵃe⁻ˣ/Γ(a) is Loader's
    /// saddle-point form (Stirling's error and the deviance `bd0`), accurate where the naive
    /// exp(a·ln x − x − lnΓ(a)) loses digits to cancellation for large a.
    public static func upperGamma(_ a: Double, _ x: Double) -> Double {
        if a.isNaN || x.isNaN || !(a > 0) || x < 0 { return .nan }
        if x == 0 { return 1 }
        if x == .infinity { return 0 }
        let prefix = gammaPrefix(a, x)  // xᵃe⁻ˣ/Γ(a)
        if x < a + 1 {
            // P = xᵃe⁻ˣ/Γ(a+1) · Σ_{n≥0} xⁿ/((a+1)…(a+n))
            var term = 1.0
            var sum = 1.0
            var ap = a
            for _ in 0..<1_000_000 {
                ap += 1
                term *= x / ap
                sum += term
                if term < sum * Double.ulpOfOne { break }
            }
            return max(0, 1 - prefix / a * sum)
        }
        let tiny = 1e-300
        var b = x + 1 - a
        var c = 1 / tiny
        var d = 1 / b
        var h = d
        var i = 1.0
        while i < 1_000_000 {
            let an = -i * (i - a)
            b += 2
            d = an * d + b
            if abs(d) < tiny { d = tiny }
            c = b + an / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            h *= delta
            if abs(delta - 1) < Double.ulpOfOne { break }
            i += 1
        }
        return prefix * h
    }

    /// xᵃe⁻ˣ/Γ(a) = √(a/2π)·e^(−stirlerr(a) − bd0(a, x)).
    @usableFromInline static func gammaPrefix(_ a: Double, _ x: Double) -> Double {
        (a / (2 * Double.pi)).squareRoot() * exp(-stirlingError(a) - deviance(a, x))
    }

    /// `scipy.stats.binom.pmf(k, n, p)`, Loader's saddle-point algorithm (R's `dbinom_raw`).
    public static func binomialPMF(_ k: Int, _ n: Int, _ p: Double) -> Double {
        if n < 0 || p.isNaN || p < 0 || p > 1 { return .nan }
        if k < 0 || k > n { return 0 }
        let q = 1 - p
        if p == 0 { return k == 0 ? 1 : 0 }
        if q == 0 { return k == n ? 1 : 0 }
        let dn = Double(n)
        if k == 0 {
            return exp(p < 0.1 ? -deviance(dn, dn * q) - dn * p : dn * log(q))
        }
        if k == n {
            return exp(q < 0.1 ? -deviance(dn, dn * p) - dn * q : dn * log(p))
        }
        let dk = Double(k)
        let lc =
            stirlingError(dn) - stirlingError(dk) - stirlingError(dn - dk) - deviance(dk, dn * p)
            - deviance(dn - dk, dn * q)
        let lf = log(2 * Double.pi) + log(dk) + log1p(-dk / dn)
        return exp(lc - 0.5 * lf)
    }

    /// `scipy.stats.binom.cdf(k, n, p)`: P(X ≤ k) = I_q(n−k, k+1), the regularized incomplete beta,
    /// by its continued fraction on the side where it converges; the front factor of I is a
    /// binomial probability (pmf(k)·p, or pmf(k+1)·q for the complement), so no lnΓ cancels.
    public static func binomialCDF(_ k: Int, _ n: Int, _ p: Double) -> Double {
        if n < 0 || p.isNaN || p < 0 || p > 1 { return .nan }
        if k < 0 { return 0 }
        if k >= n { return 1 }
        if p == 0 { return 1 }
        if p == 1 { return 0 }
        return binomialBeta(
            a: Double(n - k),
            b: Double(k + 1),
            x: 1 - p,
            complement: p,
            front: { binomialPMF(k, n, p) * p },
            back: { binomialPMF(k + 1, n, p) * (1 - p) }
        )
    }

    /// `scipy.stats.binom.sf(k, n, p)`: P(X > k) = I_p(k+1, n−k), computed directly (not 1 − cdf).
    public static func binomialSF(_ k: Int, _ n: Int, _ p: Double) -> Double {
        if n < 0 || p.isNaN || p < 0 || p > 1 { return .nan }
        if k < 0 { return 1 }
        if k >= n { return 0 }
        if p == 0 { return 0 }
        if p == 1 { return 1 }
        return binomialBeta(
            a: Double(k + 1),
            b: Double(n - k),
            x: p,
            complement: 1 - p,
            front: { binomialPMF(k + 1, n, p) * (1 - p) },
            back: { binomialPMF(k, n, p) * p }
        )
    }

    /// I_x(a, b) by the continued fraction on the side where it converges: front·cf(a, b, x) below
    /// x = (a+1)/(a+b+2), else 1 − back·cf(b, a, 1−x); `front` and `back` are the factors
    /// xᵃ(1−x)ᵇ/(a·B(a, b)) and xᵃ(1−x)ᵇ/(b·B(a, b)), binomial probabilities for integer a and b.
    static func binomialBeta(
        a: Double,
        b: Double,
        x: Double,
        complement: Double,
        front: () -> Double,
        back: () -> Double
    ) -> Double {
        if x < (a + 1) / (a + b + 2) { return min(1, front() * betaFraction(a, b, x)) }
        return max(0, 1 - back() * betaFraction(b, a, complement))
    }

    /// `scipy.special.ndtr(−x)`: the standard normal survival function (cephes' split between
    /// erf near zero and erfc in the tails).
    public static func normalSF(_ x: Double) -> Double {
        let t = -x * 0.707_106_781_186_547_524_40
        let z = abs(t)
        if z < 0.707_106_781_186_547_524_40 { return 0.5 + 0.5 * erf(t) }
        let y = 0.5 * erfc(z)
        return t > 0 ? 1 - y : y
    }

    /// The continued fraction of I_x(a, b) (modified Lentz), such that
    /// I_x(a, b) = xᵃ(1−x)ᵇ/(a·B(a, b)) · betaFraction(a, b, x); converges fast for x < (a+1)/(a+b+2).
    @usableFromInline static func betaFraction(_ a: Double, _ b: Double, _ x: Double) -> Double {
        let tiny = 1e-300
        let qab = a + b
        let qap = a + 1
        let qam = a - 1
        var c = 1.0
        var d = 1 - qab * x / qap
        if abs(d) < tiny { d = tiny }
        d = 1 / d
        var h = d
        var m = 1.0
        while m < 1_000_000 {
            let m2 = 2 * m
            var aa = m * (b - m) * x / ((qam + m2) * (a + m2))
            d = 1 + aa * d
            if abs(d) < tiny { d = tiny }
            c = 1 + aa / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            h *= d * c
            aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
            d = 1 + aa * d
            if abs(d) < tiny { d = tiny }
            c = 1 + aa / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            h *= delta
            if abs(delta - 1) < Double.ulpOfOne { break }
            m += 1
        }
        return h
    }

    /// Stirling's error ln Γ(n+1) − (n+½)ln n + n − ln√(2π) (Loader): the series in 1/n above 15,
    /// lnΓ below (its cancellation costs ~1e-14 absolute, and the value only enters an exponent).
    @usableFromInline static func stirlingError(_ n: Double) -> Double {
        if n <= 15 {
            return lgamma(n + 1) - (n + 0.5) * log(n) + n - 0.918_938_533_204_672_741_78
        }
        let s0 = 1.0 / 12
        let s1 = 1.0 / 360
        let s2 = 1.0 / 1260
        let s3 = 1.0 / 1680
        let s4 = 1.0 / 1188
        let nn = n * n
        if n > 500 { return (s0 - s1 / nn) / n }
        if n > 80 { return (s0 - (s1 - s2 / nn) / nn) / n }
        if n > 35 { return (s0 - (s1 - (s2 - s3 / nn) / nn) / nn) / n }
        return (s0 - (s1 - (s2 - (s3 - s4 / nn) / nn) / nn) / nn) / n
    }

    /// The deviance term bd0(x, m) = x·ln(x/m) + m − x, by its series in v = (x−m)/(x+m) when x is
    /// near m (where the direct form cancels).
    @usableFromInline static func deviance(_ x: Double, _ m: Double) -> Double {
        if abs(x - m) < 0.1 * (x + m) {
            var v = (x - m) / (x + m)
            var s = (x - m) * v
            var ej = 2 * x * v
            v *= v
            var j = 1.0
            while j < 1000 {
                ej *= v
                let s1 = s + ej / (2 * j + 1)
                if s1 == s { return s1 }
                s = s1
                j += 1
            }
            return s
        }
        return x * log(x / m) + m - x
    }
}
