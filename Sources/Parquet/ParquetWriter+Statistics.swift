// Column chunk statistics: `min_value` / `max_value` PLAIN-encoded in the column's sort order
// (signed or unsigned integers by the logical type, doubles without NaN, strings bytewise unsigned,
// false < true), and the null count. Readers trust them to skip row groups, so they are exact.

extension ParquetWriter {
    func statistics(_ column: ParquetColumn, _ d: ColumnData, into s: inout Statistics) {
        switch column.physical {
        case .int32:
            guard !d.i32.isEmpty else { return }
            if column.unsigned {
                let v = d.i32.lazy.map { UInt32(bitPattern: $0) }
                set(&s, Int32(bitPattern: v.min()!), Int32(bitPattern: v.max()!))
            } else {
                set(&s, d.i32.min()!, d.i32.max()!)
            }
        case .int64:
            guard !d.i64.isEmpty else { return }
            if column.unsigned {
                var lo = UInt64.max
                var hi = UInt64.min
                for x in d.i64 {
                    let u = UInt64(bitPattern: x)
                    lo = min(lo, u)
                    hi = max(hi, u)
                }
                set(&s, Int64(bitPattern: lo), Int64(bitPattern: hi))
            } else {
                var lo = Int64.max
                var hi = Int64.min
                for x in d.i64 {
                    lo = min(lo, x)
                    hi = max(hi, x)
                }
                set(&s, lo, hi)
            }
        case .double:
            var lo = Double.infinity
            var hi = -Double.infinity
            var any = false
            for x in d.f64 where !x.isNaN {
                any = true
                lo = min(lo, x)
                hi = max(hi, x)
            }
            guard any else { return }  // only NaNs: no min/max (the spec's rule)
            // Zeros: min is written as -0.0 and max as +0.0 so either sign is covered.
            if lo == 0 { lo = -0.0 }
            if hi == 0 { hi = 0.0 }
            set(&s, lo.bitPattern, hi.bitPattern)
        case .boolean:
            guard !d.bools.isEmpty else { return }
            s.minValue = [d.bools.min()!]
            s.maxValue = [d.bools.max()!]
        default:
            guard !d.ends.isEmpty else { return }
            var lo = 0..<0
            var hi = 0..<0
            var start = 0
            for (k, e) in d.ends.enumerated() {
                let r = start..<e
                if k == 0 || d.bytes[r].lexicographicallyPrecedes(d.bytes[lo]) { lo = r }
                if k == 0 || d.bytes[hi].lexicographicallyPrecedes(d.bytes[r]) { hi = r }
                start = e
            }
            s.minValue = Array(d.bytes[lo])
            s.maxValue = Array(d.bytes[hi])
        }
    }

    func set<T: FixedWidthInteger>(_ s: inout Statistics, _ lo: T, _ hi: T) {
        s.minValue = withUnsafeBytes(of: lo.littleEndian) { Array($0) }
        s.maxValue = withUnsafeBytes(of: hi.littleEndian) { Array($0) }
    }

    /// Statistics over a PLAIN-encoded dictionary of `count` entries.
    func plainStatistics(_ column: ParquetColumn, _ plain: [UInt8], count: Int, into s: inout Statistics) {
        var d = ColumnData()
        switch column.physical {
        case .int32:
            d.i32 = (0..<count).map { k in
                plain.withUnsafeBytes { Int32(littleEndian: $0.loadUnaligned(fromByteOffset: 4 * k, as: Int32.self)) }
            }
        case .int64:
            d.i64 = (0..<count).map { k in
                plain.withUnsafeBytes { Int64(littleEndian: $0.loadUnaligned(fromByteOffset: 8 * k, as: Int64.self)) }
            }
        default:
            var p = 0
            for _ in 0..<count {
                let n = plain.withUnsafeBytes {
                    Int(UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: p, as: UInt32.self)))
                }
                d.bytes.append(contentsOf: plain[(p + 4)..<(p + 4 + n)])
                d.ends.append(d.bytes.count)
                p += 4 + n
            }
        }
        statistics(column, d, into: &s)
    }
}
