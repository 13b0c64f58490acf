/// Why Thrift compact bytes do not decode, and at which offset of the buffer.
public struct ThriftError: Error, Sendable {
    public var offset: Int
    public var why: String
}

/// The Thrift compact protocol's decoder over untrusted bytes (the inverse of `ThriftCompactWriter`).
///
/// Every read is bounds-checked against the buffer; varints longer than 10 bytes, lengths and list
/// sizes beyond the bytes left (each element takes at least one byte), type codes outside the
/// protocol and nesting deeper than `maxDepth` are errors, never traps or allocations.
/// Invariant: `base` points at `count` readable bytes for the reader's lifetime; `position <= count`.
public struct ThriftCompactReader {
    let base: UnsafeRawPointer
    let count: Int
    /// Offset of the next byte to read.
    public private(set) var position: Int
    var depth = 0
    /// Deepest nesting of structs and lists accepted (Parquet's metadata nests 5 deep).
    public static let maxDepth = 32

    /// - Parameters:
    ///   - buffer: the bytes; must stay valid while the reader is used.
    ///   - position: where to start.
    public init(_ buffer: UnsafeRawBufferPointer, position: Int = 0) {
        // Safe: an empty buffer has no base address; a 1-byte dummy is never read (count is 0).
        base = buffer.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!
        count = buffer.count
        self.position = min(max(position, 0), buffer.count)
    }

    func fail(_ why: String) -> ThriftError { ThriftError(offset: position, why: why) }

    public mutating func byte() throws(ThriftError) -> UInt8 {
        guard position < count else { throw fail("ends inside a value") }
        // Safe: position < count.
        let b = base.load(fromByteOffset: position, as: UInt8.self)
        position += 1
        return b
    }

    public mutating func varint() throws(ThriftError) -> UInt64 {
        var v: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let b = try byte()
            if shift == 63 && b > 1 { throw fail("varint overflows 64 bits") }
            v |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { return v }
            shift += 7
            if shift > 63 { throw fail("varint longer than 10 bytes") }
        }
    }

    public mutating func zigzag() throws(ThriftError) -> Int64 {
        let u = try varint()
        return Int64(bitPattern: u >> 1) ^ -Int64(bitPattern: u & 1)
    }

    public mutating func i32() throws(ThriftError) -> Int32 {
        let v = try zigzag()
        guard let r = Int32(exactly: v) else { throw fail("i32 value \(v) out of range") }
        return r
    }

    public mutating func i16() throws(ThriftError) -> Int16 {
        let v = try zigzag()
        guard let r = Int16(exactly: v) else { throw fail("i16 value \(v) out of range") }
        return r
    }

    public mutating func i64() throws(ThriftError) -> Int64 { try zigzag() }

    public mutating func double() throws(ThriftError) -> Double {
        guard count - position >= 8 else { throw fail("ends inside a double") }
        // Safe: 8 bytes remain at position.
        let bits = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: position, as: UInt64.self))
        position += 8
        return Double(bitPattern: bits)
    }

    /// A binary (or string) value: at most the bytes left in the buffer.
    public mutating func binary() throws(ThriftError) -> [UInt8] {
        let n = try varint()
        guard n <= UInt64(count - position) else {
            throw fail("binary of \(n) bytes, only \(count - position) left")
        }
        let len = Int(n)
        // Safe: position + len <= count.
        let out = [UInt8](UnsafeRawBufferPointer(start: base + position, count: len))
        position += len
        return out
    }

    public mutating func string() throws(ThriftError) -> String {
        let b = try binary()
        return String(decoding: b, as: UTF8.self)
    }

    /// A list header: the element type and a size no larger than the bytes left.
    public mutating func listHeader() throws(ThriftError) -> (type: UInt8, count: Int) {
        let h = try byte()
        var n = UInt64(h >> 4)
        if n == 15 { n = try varint() }
        let type = h & 0x0F
        // Every element takes at least one byte except booleans in some writers; bound by bytes left anyway.
        guard n <= UInt64(count - position) else {
            throw fail("list of \(n) elements, only \(count - position) bytes left")
        }
        return (type, Int(n))
    }

    /// Reads a struct's fields, calling `body(id, type)` for each; `body` reads the value (or calls
    /// `skip(type)`). Booleans: the type code is the value (1 true, 2 false).
    public mutating func readStruct(
        _ body: (inout ThriftCompactReader, Int16, UInt8) throws(ThriftError) -> Void
    ) throws(ThriftError) {
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maxDepth else { throw fail("nested deeper than \(Self.maxDepth)") }
        var last: Int16 = 0
        while true {
            let h = try byte()
            if h == 0 { return }
            let type = h & 0x0F
            let delta = h >> 4
            let id: Int16
            if delta == 0 {
                id = try i16()
            } else {
                let (sum, overflow) = last.addingReportingOverflow(Int16(delta))
                guard !overflow else { throw fail("field id overflows") }
                id = sum
            }
            last = id
            guard type >= 1 && type <= 12 else { throw fail("field \(id): unknown type code \(type)") }
            try body(&self, id, type)
        }
    }

    /// Skips a value of compact type `type` (unknown fields of newer writers).
    public mutating func skip(_ type: UInt8) throws(ThriftError) {
        switch type {
        case 1, 2: return  // a field's boolean lives in its type code
        case 3: _ = try byte()
        case 4, 5, 6: _ = try varint()
        case 7: _ = try double()
        case 8:
            let n = try varint()
            guard n <= UInt64(count - position) else {
                throw fail("binary of \(n) bytes, only \(count - position) left")
            }
            position += Int(n)
        case 9, 10:
            let (t, n) = try listHeader()
            depth += 1
            defer { depth -= 1 }
            guard depth <= Self.maxDepth else { throw fail("nested deeper than \(Self.maxDepth)") }
            for _ in 0..<n {
                if t == 1 || t == 2 { _ = try byte() } else { try skip(t) }
            }
        case 11:
            let n = try varint()
            guard n <= UInt64(count - position) else {
                throw fail("map of \(n) entries, only \(count - position) bytes left")
            }
            if n == 0 { return }
            let kv = try byte()
            depth += 1
            defer { depth -= 1 }
            guard depth <= Self.maxDepth else { throw fail("nested deeper than \(Self.maxDepth)") }
            for _ in 0..<n {
                try skipElement(kv >> 4)
                try skipElement(kv & 0x0F)
            }
        case 12: try readStruct { (r, _, t) throws(ThriftError) in try r.skip(t) }
        default: throw fail("unknown type code \(type)")
        }
    }

    mutating func skipElement(_ t: UInt8) throws(ThriftError) {
        if t == 1 || t == 2 { _ = try byte() } else { try skip(t) }
    }

    /// Checks that a field has the expected compact type.
    public func expect(_ type: UInt8, _ want: ThriftCompactWriter.TypeCode, _ field: String) throws(ThriftError) {
        let ok =
            want == .boolTrue ? (type == 1 || type == 2) : type == want.rawValue
        guard ok else { throw fail("field \(field): type code \(type), expected \(want.rawValue)") }
    }
}
