/// HdrHistogram's log-linear bucketing with 2 significant decimal digits, in nanoseconds:
/// 256 sub-buckets per power of two (relative error below 1/128), values 1 ns .. 10 s, larger
/// values counted in the last bucket (and in `overflow`). Index math is HdrHistogram's
/// (unit magnitude 0, sub-bucket half-count magnitude 7).
public enum LatencyHistogramLayout {
    public static let subBucketHalfCountMagnitude = 7
    public static let subBucketHalfCount = 128
    public static let subBucketMask: UInt64 = 255
    /// Highest value tracked exactly to 2 significant digits: 10 s.
    public static let highestTrackable: UInt64 = 10_000_000_000
    /// Lowest value of interest (for documentation and the Prometheus buckets): 10 ns.
    public static let lowestOfInterest: UInt64 = 10
    /// Buckets needed to cover `highestTrackable`: (26 + 1 + 1) x 128.
    public static let bucketCount = 3584

    /// The bucket of a value (ns). Values above 10 s go to the bucket of 10 s.
    @inlinable @inline(__always)
    public static func index(_ value: UInt64) -> Int {
        let v = value > highestTrackable ? highestTrackable : value
        // Safe: v | 255 is non-zero, so leadingZeroBitCount <= 56 and bucket >= 0.
        let bucket = 56 &- (v | subBucketMask).leadingZeroBitCount
        let sub = Int(truncatingIfNeeded: v >> UInt64(bucket))
        return ((bucket &+ 1) << subBucketHalfCountMagnitude) &+ (sub &- subBucketHalfCount)
    }

    /// The lowest value (ns) counted in bucket `index`.
    @inlinable public static func lowestValue(_ index: Int) -> UInt64 {
        var bucket = (index >> subBucketHalfCountMagnitude) - 1
        var sub = (index & (subBucketHalfCount - 1)) + subBucketHalfCount
        if bucket < 0 {
            sub -= subBucketHalfCount
            bucket = 0
        }
        return UInt64(sub) << UInt64(bucket)
    }

    /// The highest value (ns) counted in bucket `index`.
    @inlinable public static func highestValue(_ index: Int) -> UInt64 {
        let bucket = max(0, (index >> subBucketHalfCountMagnitude) - 1)
        return lowestValue(index) + (UInt64(1) << UInt64(bucket)) - 1
    }
}
