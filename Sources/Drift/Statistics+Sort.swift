/// An allocation-free sort for the window scorer: least-significant-digit radix sort of the
/// doubles' bit patterns mapped to unsigned keys that order as the numbers do (sign bit flipped for
/// positives, all bits for negatives), 11 bits a pass (6 passes for 64 bits), skipping passes where
/// every key shares the digit. O(n), deterministic, and the scratch comes from the caller.
extension Statistics {
    /// The order-preserving key of a non-NaN double (−0 sorts just before +0; they compare equal).
    @inlinable static func sortKey(_ x: Double) -> UInt64 {
        let b = x.bitPattern
        return b >> 63 == 1 ? ~b : b | (1 << 63)
    }

    /// The double of a key.
    @inlinable static func value(ofSortKey k: UInt64) -> Double {
        Double(bitPattern: k >> 63 == 1 ? k & ~(1 << 63) : ~k)
    }

    /// Bits per pass, passes, and the histogram entries the caller provides.
    public static let radixBits = 11
    public static let radixPasses = 6
    public static let radixCountsSize = 6 << 11

    /// Sorts `values` (no NaN) ascending in place.
    /// - Parameters:
    ///   - keys, temp: at least `values.count` words each.
    ///   - counts: at least `radixCountsSize` entries.
    @inlinable
    public static func radixSort(
        _ values: UnsafeMutableBufferPointer<Double>,
        keys: UnsafeMutableBufferPointer<UInt64>,
        temp: UnsafeMutableBufferPointer<UInt64>,
        counts: UnsafeMutableBufferPointer<Int>
    ) {
        let n = values.count
        if n < 2 { return }
        precondition(
            keys.count >= n && temp.count >= n && counts.count >= radixCountsSize,
            "radixSort: scratch too small"
        )
        let digits = 1 << radixBits
        let mask = UInt64(digits - 1)
        for i in 0..<radixCountsSize { counts[i] = 0 }
        // One histogram pass for all six digits (wrapping adds: a count is at most n).
        for i in 0..<n {
            let k = sortKey(values[i])
            keys[i] = k
            counts[Int(truncatingIfNeeded: k & mask)] &+= 1
            counts[digits &+ Int(truncatingIfNeeded: (k >> 11) & mask)] &+= 1
            counts[2 &* digits &+ Int(truncatingIfNeeded: (k >> 22) & mask)] &+= 1
            counts[3 &* digits &+ Int(truncatingIfNeeded: (k >> 33) & mask)] &+= 1
            counts[4 &* digits &+ Int(truncatingIfNeeded: (k >> 44) & mask)] &+= 1
            counts[5 &* digits &+ Int(truncatingIfNeeded: k >> 55)] &+= 1
        }
        var source = keys
        var target = temp
        for pass in 0..<radixPasses {
            let base = pass * digits
            let shift = UInt64(pass * radixBits)
            let first = Int(truncatingIfNeeded: (source[0] >> shift) & mask)
            if counts[base + first] == n { continue }  // every key shares this digit
            var offset = 0
            for d in 0..<digits {
                let c = counts[base + d]
                counts[base + d] = offset
                offset &+= c
            }
            for i in 0..<n {
                let k = source[i]
                let d = base &+ Int(truncatingIfNeeded: (k >> shift) & mask)
                target[counts[d]] = k
                counts[d] &+= 1
            }
            swap(&source, &target)
        }
        for i in 0..<n { values[i] = value(ofSortKey: source[i]) }
    }
}
