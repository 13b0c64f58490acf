/// Parquet's RLE / bit-packing hybrid (Encodings.md, "Run Length Encoding / Bit-Packing Hybrid"),
/// used for definition levels and dictionary indices.
///
/// A run is a varint header: `count << 1` then the value in `ceil(bitWidth / 8)` little-endian
/// bytes (a repeated run), or `groups << 1 | 1` then `groups × 8` values packed `bitWidth` bits
/// each, least significant bit first (a literal run). Literal runs hold a multiple of 8 values, so
/// a repeated run may only start at such a boundary; the last literal run is padded with zeros.
public enum RLEHybrid {
    /// Shortest repeat worth a repeated run (a literal group of 8 costs `bitWidth` bytes).
    static let minRepeat = 8
    /// Groups per literal run header (parquet-cpp's limit; every reader takes it).
    static let maxGroups = 63

    /// The bits needed for values up to `maxValue` (at least 1).
    public static func bitWidth(_ maxValue: UInt32) -> Int { max(1, 32 - maxValue.leadingZeroBitCount) }

    /// Appends the hybrid encoding of `values` (each < 2^bitWidth, 1 ≤ bitWidth ≤ 32) to `out`.
    public static func encode<T: FixedWidthInteger & UnsignedInteger>(
        _ values: UnsafeBufferPointer<T>,
        bitWidth: Int,
        into out: inout [UInt8]
    ) {
        let n = values.count
        var i = 0
        var literalStart = 0
        while i < n {
            let v = values[i]
            var j = i + 1
            while j < n && values[j] == v { j += 1 }
            if j - i >= minRepeat {
                let pending = i - literalStart
                let pad = (8 - pending % 8) % 8
                if j - i - pad >= minRepeat {
                    i += pad
                    literals(values, literalStart..<i, bitWidth, &out)
                    repeated(UInt32(truncatingIfNeeded: v), count: j - i, bitWidth, &out)
                    literalStart = j
                }
            }
            i = j
        }
        literals(values, literalStart..<n, bitWidth, &out)
    }

    static func varint(_ v: UInt64, _ out: inout [UInt8]) {
        var v = v
        while v >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }

    static func repeated(_ v: UInt32, count: Int, _ w: Int, _ out: inout [UInt8]) {
        varint(UInt64(count) << 1, &out)
        for b in 0..<((w + 7) / 8) { out.append(UInt8(truncatingIfNeeded: v >> (8 * UInt32(b)))) }
    }

    static func literals<T: FixedWidthInteger & UnsignedInteger>(
        _ values: UnsafeBufferPointer<T>,
        _ range: Range<Int>,
        _ w: Int,
        _ out: inout [UInt8]
    ) {
        var start = range.lowerBound
        while start < range.upperBound {
            let take = min(range.upperBound - start, maxGroups * 8)
            let groups = (take + 7) / 8
            varint(UInt64(groups) << 1 | 1, &out)
            var acc: UInt64 = 0
            var bits = 0
            for k in 0..<(groups * 8) {
                let v: UInt64 = k < take ? UInt64(truncatingIfNeeded: values[start + k]) : 0
                acc |= v << UInt64(bits)
                bits += w
                while bits >= 8 {
                    out.append(UInt8(truncatingIfNeeded: acc))
                    acc >>= 8
                    bits -= 8
                }
            }
            start += take
        }
    }

    /// Decodes `count` values of `bitWidth` (0…32) bits from `bytes` into `out` (appended).
    /// - Throws: a description of what is wrong when the data ends before `count` values or a run is malformed.
    public static func decode(
        _ bytes: UnsafeRawBufferPointer,
        bitWidth: Int,
        count: Int,
        into out: inout [UInt32]
    ) throws(RLEHybridError) {
        guard bitWidth >= 0 && bitWidth <= 32 else { throw RLEHybridError(why: "bit width \(bitWidth) is not 0…32") }
        var p = 0
        var left = count
        let mask: UInt64 = bitWidth == 32 ? 0xFFFF_FFFF : (1 << UInt64(bitWidth)) - 1
        let valueBytes = (bitWidth + 7) / 8
        while left > 0 {
            var header: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                guard p < bytes.count else { throw RLEHybridError(why: "ends with \(left) of \(count) values left") }
                let b = bytes[p]
                p += 1
                header |= UInt64(b & 0x7F) << shift
                if b & 0x80 == 0 { break }
                shift += 7
                guard shift <= 56 else { throw RLEHybridError(why: "run header varint too long at byte \(p)") }
            }
            if header & 1 == 0 {
                let runCount = header >> 1
                guard runCount > 0 else { throw RLEHybridError(why: "empty repeated run at byte \(p)") }
                guard bytes.count - p >= valueBytes else { throw RLEHybridError(why: "repeated run value cut short") }
                var v: UInt64 = 0
                for b in 0..<valueBytes { v |= UInt64(bytes[p + b]) << (8 * UInt64(b)) }
                p += valueBytes
                guard v <= mask else { throw RLEHybridError(why: "repeated value \(v) wider than \(bitWidth) bits") }
                let take = Int(min(runCount, UInt64(left)))
                out.append(contentsOf: repeatElement(UInt32(v), count: take))
                left -= take
            } else {
                let groups = header >> 1
                guard groups > 0 else { throw RLEHybridError(why: "empty literal run at byte \(p)") }
                let needBytes = groups.multipliedReportingOverflow(by: UInt64(bitWidth))
                guard !needBytes.overflow, needBytes.partialValue <= UInt64(bytes.count - p) else {
                    throw RLEHybridError(
                        why: "literal run of \(groups) groups beyond the data (\(bytes.count - p) bytes left)"
                    )
                }
                let values = Int(min(groups * 8, UInt64(left)))
                var acc: UInt64 = 0
                var bits = 0
                var q = p
                for _ in 0..<values {
                    while bits < bitWidth {
                        acc |= UInt64(bytes[q]) << UInt64(bits)
                        q += 1
                        bits += 8
                    }
                    out.append(UInt32(truncatingIfNeeded: acc & mask))
                    acc = bitWidth == 64 ? 0 : acc >> UInt64(bitWidth)
                    bits -= bitWidth
                }
                p += Int(needBytes.partialValue)
                left -= values
            }
        }
    }
}

/// Why RLE/bit-packed data does not decode.
public struct RLEHybridError: Error, Sendable {
    public var why: String
}
