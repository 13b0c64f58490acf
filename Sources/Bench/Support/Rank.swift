/// The one percentile rule of every benchmark: **nearest rank**. The q-th percentile of n sorted
/// samples is the sample at rank ⌈q·n⌉ (1-based), so it is always one of the samples — an exact
/// integer for integer nanoseconds — and the median is the 50th percentile: the middle sample for
/// odd n, the lower of the two middle samples for even n (no averaging, so no rounding).
public enum Rank {
    /// The nearest-rank percentile `q` (0…1) of samples already sorted ascending; `zero` when empty.
    @inlinable
    public static func percentile<T: Comparable>(sorted: UnsafeBufferPointer<T>, _ q: Double, empty zero: T) -> T {
        guard sorted.count > 0 else { return zero }
        let rank = Int((q * Double(sorted.count)).rounded(.up)) - 1
        return sorted[Swift.min(Swift.max(rank, 0), sorted.count - 1)]
    }

    /// The nearest-rank percentile `q` (0…1) of samples already sorted ascending; `zero` when empty.
    @inlinable
    public static func percentile<T: Comparable>(sorted: [T], _ q: Double, empty zero: T) -> T {
        sorted.withUnsafeBufferPointer { percentile(sorted: $0, q, empty: zero) }
    }

    /// The median (nearest-rank 50th percentile) of unsorted values.
    public static func median(_ xs: [Double]) -> Double { percentile(sorted: xs.sorted(), 0.5, empty: 0) }

    /// The median (nearest-rank 50th percentile) of unsorted integers: exact, never through a Double.
    public static func median(_ xs: [UInt64]) -> UInt64 { percentile(sorted: xs.sorted(), 0.5, empty: 0) }
}
