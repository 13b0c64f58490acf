/// A consistent-enough copy of a latency histogram: the buckets are read one by one, so the
/// snapshot's `count` is the sum of the buckets read (never a figure that disagrees with them).
public struct LatencyHistogram: Sendable, Equatable {
    public var buckets: [UInt64]
    public var count: UInt64
    public var sumNs: UInt64
    public var minNs: UInt64
    public var maxNs: UInt64
    public var overflow: UInt64

    public init(buckets: [UInt64], sumNs: UInt64, minNs: UInt64, maxNs: UInt64, overflow: UInt64) {
        self.buckets = buckets
        self.count = buckets.reduce(0, &+)
        self.sumNs = sumNs
        self.minNs = minNs
        self.maxNs = maxNs
        self.overflow = overflow
    }

    public static var empty: LatencyHistogram {
        LatencyHistogram(buckets: [UInt64](repeating: 0, count: LatencyHistogramLayout.bucketCount), sumNs: 0, minNs: 0, maxNs: 0, overflow: 0)
    }

    /// Records a value (for in-process histograms such as benchmarks).
    public mutating func record(_ ns: UInt64) {
        buckets[LatencyHistogramLayout.index(ns)] &+= 1
        count &+= 1
        sumNs &+= ns
        minNs = count == 1 ? ns : min(minNs, ns)
        maxNs = max(maxNs, ns)
        if ns > LatencyHistogramLayout.highestTrackable { overflow &+= 1 }
    }

    /// The value at a percentile (0...100), HdrHistogram style: the highest value equivalent to the
    /// bucket holding the rank-th smallest value, capped at the exact maximum. 0 when empty.
    public func percentile(_ p: Double) -> UInt64 {
        guard count > 0 else { return 0 }
        let rank = max(1, UInt64((min(100, max(0, p)) / 100 * Double(count)).rounded(.up)))
        var seen: UInt64 = 0
        for (i, c) in buckets.enumerated() where c > 0 {
            seen &+= c
            if seen >= rank { return min(LatencyHistogramLayout.highestValue(i), maxNs) }
        }
        return maxNs
    }

    /// How many values are at most `ns` (counting a bucket when its lowest value is <= ns: exact
    /// below 256 ns, within 1% above).
    public func countAtOrBelow(_ ns: UInt64) -> UInt64 {
        var total: UInt64 = 0
        for (i, c) in buckets.enumerated() where c > 0 {
            if LatencyHistogramLayout.lowestValue(i) > ns { break }
            total &+= c
        }
        return total
    }
}
