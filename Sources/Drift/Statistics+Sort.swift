/// An allocation-free sort for the window scorer: least-significant-digit radix sort of the
/// doubles' bit patterns mapped to unsigned keys that order as the numbers do (sign bit flipped for
/// positives, all bits for negatives), 8 bits a pass, skipping passes where every key shares the
/// byte. O(n), deterministic, and the scratch comes from the caller.
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

    /// Sorts `values` (no NaN) ascending in place.
    /// - Parameters:
    ///   - keys, temp: at least `values.count` words each.
    ///   - counts: at least 8 × 256 entries.
    @inlinable
    public static func radixSort(
        _ values: UnsafeMutableBufferPointer<Double>,
        keys: UnsafeMutableBufferPointer<UInt64>,
        temp: UnsafeMutableBufferPointer<UInt64>,
        counts: UnsafeMutableBufferPointer<Int>
    ) {
        let n = values.count
        if n < 2 { return }
        precondition(keys.count >= n && temp.count >= n && counts.count >= 2048, "radixSort: scratch too small")
        for i in 0..<2048 { counts[i] = 0 }
        for i in 0..<n {
            let k = sortKey(values[i])
            keys[i] = k
            for pass in 0..<8 { counts[pass << 8 | Int(truncatingIfNeeded: k >> (pass * 8)) & 0xFF] += 1 }
        }
        var source = keys
        var target = temp
        for pass in 0..<8 {
            let base = pass << 8
            let firstByte = Int(truncatingIfNeeded: source[0] >> (pass * 8)) & 0xFF
            if counts[base + firstByte] == n { continue }  // every key shares this byte
            var offset = 0
            for b in 0..<256 {
                let c = counts[base + b]
                counts[base + b] = offset
                offset += c
            }
            for i in 0..<n {
                let k = source[i]
                let b = base + Int(truncatingIfNeeded: k >> (pass * 8)) & 0xFF
                target[counts[b]] = k
                counts[b] += 1
            }
            swap(&source, &target)
        }
        for i in 0..<n { values[i] = value(ofSortKey: source[i]) }
    }
}
