#if canImport(Glibc)
import Glibc
#endif

/// How a column is compared with its baseline.
public enum DriftColumnKind: UInt8, Sendable, Equatable {
    /// Bins, PSI, KL, JS, KS, Wasserstein-1.
    case numeric = 0
    /// Category frequencies and chi-squared (the definition's `categorical = true`).
    case categorical = 1
}

/// One column's baseline: what a window of the same column is scored against.
///
/// Everything is derived from the sample (`init(name:kind:sample:)`); the file reader recomputes
/// the derived fields and refuses a file whose stored ones differ.
public struct ColumnBaseline: Sendable, Equatable {
    /// The feature's name, or "prediction".
    public var name: String
    public var kind: DriftColumnKind
    /// The sample's deciles, duplicates removed (`Bins`).
    public var edges: [Double]
    /// Sample values per bin: `edges.count + 1` value bins, then the NaN bin.
    public var binCounts: [UInt64]
    /// The sample's non-NaN values, ascending (KS and Wasserstein-1).
    public private(set) var sortedSample: [Double]
    /// The distinct values of `sortedSample` and the baseline's F at each (count ≤ v / n): what the
    /// window scorer merges with (derived at init; kept beside the sample for speed, not stored).
    public private(set) var distinctValues: [Double]
    public private(set) var cumulativeShare: [Double]
    /// Mean of the non-NaN values (NaN when there is none).
    public var mean: Double
    /// Population standard deviation (ddof 0) of the non-NaN values (NaN when there is none).
    public var std: Double
    /// Categoricals: the distinct non-NaN values, ascending, and how often each occurs.
    public var categoryValues: [Double]
    public var categoryCounts: [UInt64]
    /// Values in the sample, NaN included.
    public var sampleCount: UInt64

    /// NaN values in the sample (the NaN bin).
    public var nanCount: UInt64 { binCounts.last ?? 0 }

    /// Category → frequency (categoricals; empty for numeric columns). NaN is never a category.
    public var categories: [Double: UInt64] {
        var d: [Double: UInt64] = [:]
        for (v, c) in zip(categoryValues, categoryCounts) { d[v] = c }
        return d
    }

    /// The baseline of a sample (any order, NaN allowed).
    public init(name: String, kind: DriftColumnKind, sample: [Double]) {
        let sorted = sample.filter { !$0.isNaN }.sorted()
        self.init(name: name, kind: kind, sorted: sorted, nanCount: UInt64(sample.count - sorted.count))
    }

    /// The baseline of a sample given as its sorted non-NaN values and its NaN count.
    public init(name: String, kind: DriftColumnKind, sorted: [Double], nanCount: UInt64) {
        self.name = name
        self.kind = kind
        sortedSample = sorted
        (distinctValues, cumulativeShare) = sorted.withUnsafeBufferPointer {
            Statistics.empiricalDistribution(sorted: $0)
        }
        sampleCount = UInt64(sorted.count) + nanCount
        edges = Bins.edges(sorted: sorted)
        var counts = [UInt64](repeating: 0, count: edges.count + 2)
        // Sorted values meet the edges in order: one merge instead of a search per value.
        var bin = 0
        for v in sorted {
            while bin < edges.count && edges[bin] < v { bin += 1 }
            counts[bin] += 1
        }
        counts[edges.count + 1] = nanCount
        binCounts = counts
        (mean, std) = Self.moments(sorted)
        categoryValues = []
        categoryCounts = []
        if kind == .categorical {
            for v in sorted {
                if categoryValues.last == v {
                    categoryCounts[categoryCounts.count - 1] += 1
                } else {
                    categoryValues.append(v)
                    categoryCounts.append(1)
                }
            }
        }
    }

    /// Equal fields; the moments compared by their bits, so that two baselines of an all-NaN column
    /// (mean and std NaN) are equal.
    public static func == (a: ColumnBaseline, b: ColumnBaseline) -> Bool {
        a.name == b.name && a.kind == b.kind && a.edges == b.edges && a.binCounts == b.binCounts
            && a.sortedSample == b.sortedSample && a.mean.bitPattern == b.mean.bitPattern
            && a.std.bitPattern == b.std.bitPattern && a.categoryValues == b.categoryValues
            && a.categoryCounts == b.categoryCounts && a.sampleCount == b.sampleCount
    }

    /// Mean and population standard deviation, as numpy computes them: mean = Σx/n, then
    /// √(Σ(x − mean)²/n) (both sums compensated, so the order of summation does not matter).
    static func moments(_ x: [Double]) -> (mean: Double, std: Double) {
        guard !x.isEmpty else { return (.nan, .nan) }
        let n = Double(x.count)
        let mean = compensatedSum(x) { $0 } / n
        let variance = compensatedSum(x) { ($0 - mean) * ($0 - mean) } / n
        return (mean, variance.squareRoot())
    }

    /// Neumaier's compensated sum of f(x).
    static func compensatedSum(_ x: [Double], _ f: (Double) -> Double) -> Double {
        var sum = 0.0
        var c = 0.0
        for v in x {
            let y = f(v)
            let t = sum + y
            if abs(sum) >= abs(y) { c += (sum - t) + y } else { c += (y - t) + sum }
            sum = t
        }
        return sum + c
    }
}
