/// Nearest-rank percentiles (see `Rank`) of a set of nanosecond samples. Held as `Double` because
/// the medians over rounds of chunked per-message figures are fractional; a percentile of integer
/// samples is one of the samples, exact below 2⁵³ ns.
public struct Percentiles: Sendable, Equatable {
    public var p50: Double, p90: Double, p99: Double, p999: Double, max: Double

    public init(p50: Double, p90: Double, p99: Double, p999: Double, max: Double) {
        self.p50 = p50
        self.p90 = p90
        self.p99 = p99
        self.p999 = p999
        self.max = max
    }

    /// Nearest-rank percentiles of `samples` (sorted in place).
    public init(sorting samples: inout [UInt64]) {
        samples.sort()
        self.init(sorted: samples)
    }

    /// Nearest-rank percentiles of samples already sorted ascending.
    public init(sorted samples: [UInt64]) {
        func at(_ q: Double) -> Double { Double(Rank.percentile(sorted: samples, q, empty: 0)) }
        self.init(p50: at(0.50), p90: at(0.90), p99: at(0.99), p999: at(0.999), max: Double(samples.last ?? 0))
    }

    /// Nearest-rank percentiles of fractional samples (sorted in place).
    public init(sorting samples: inout [Double]) {
        samples.sort()
        func at(_ q: Double) -> Double { Rank.percentile(sorted: samples, q, empty: 0) }
        self.init(p50: at(0.50), p90: at(0.90), p99: at(0.99), p999: at(0.999), max: samples.last ?? 0)
    }

    /// Each percentile's median over rounds.
    public static func median(_ xs: [Percentiles]) -> Percentiles {
        func med(_ k: KeyPath<Percentiles, Double>) -> Double { Rank.median(xs.map { $0[keyPath: k] }) }
        return Percentiles(p50: med(\.p50), p90: med(\.p90), p99: med(\.p99), p999: med(\.p999), max: med(\.max))
    }
}
