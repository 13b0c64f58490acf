/// The bin rule (a contract: tests compare with numpy): edges are the baseline sample's deciles,
/// `numpy.unique(numpy.quantile(x, [0.1, 0.2, …, 0.9]))` (method "linear", NaN excluded), and a value
/// falls into bin `numpy.searchsorted(edges, x, side="left")` — the number of edges below it —, so
/// `edges.count + 1` value bins; NaN has a bin of its own, the last.
public enum Bins {
    /// The quantile levels, written as numpy's caller writes them (0.1 … 0.9 as decimal literals).
    public static let levels: [Double] = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]

    /// The deciles of `sorted` (ascending, no NaN), duplicates removed; empty for an empty sample.
    public static func edges(sorted: UnsafeBufferPointer<Double>) -> [Double] {
        let n = sorted.count
        guard n > 0 else { return [] }
        var edges: [Double] = []
        edges.reserveCapacity(levels.count)
        for level in levels {
            edges.append(quantile(sorted: sorted, level))
        }
        // numpy.unique: sorted, equal values once (lerp rounding could in principle reorder two
        // neighbours, so sort rather than assume).
        edges.sort()
        var unique: [Double] = []
        unique.reserveCapacity(edges.count)
        for e in edges where unique.last != e { unique.append(e) }
        return unique
    }

    /// The deciles of an array (sorted, no NaN).
    public static func edges(sorted: [Double]) -> [Double] {
        sorted.withUnsafeBufferPointer { edges(sorted: $0) }
    }

    /// `numpy.quantile(sorted, q, method="linear")`: virtual index h = (n−1)·q, and numpy's `_lerp`
    /// between the neighbours (from below for γ < ½, from above otherwise, as numpy rounds).
    public static func quantile(sorted: UnsafeBufferPointer<Double>, _ q: Double) -> Double {
        let n = sorted.count
        let h = Double(n - 1) * q
        if h >= Double(n - 1) { return sorted[n - 1] }
        if h < 0 { return sorted[0] }
        let lo = Int(h.rounded(.down))
        let gamma = h - Double(lo)
        let a = sorted[lo]
        let b = sorted[lo + 1]
        let diff = b - a
        return gamma >= 0.5 ? b - diff * (1 - gamma) : a + diff * gamma
    }

    /// The bin of `x`: NaN → `edges.count + 1`, else the number of edges strictly below x.
    @inlinable
    public static func index(of x: Double, edges: UnsafeBufferPointer<Double>) -> Int {
        if x.isNaN { return edges.count + 1 }
        var lo = 0
        var hi = edges.count
        while lo < hi {
            let mid = (lo + hi) >> 1
            if edges[mid] < x { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// The bin of `x` against an array of edges.
    public static func index(of x: Double, edges: [Double]) -> Int {
        edges.withUnsafeBufferPointer { index(of: x, edges: $0) }
    }
}
