/// The values one column receives while a row group fills, in memory this type owns: the present
/// values back to back (`width` bytes each, or a string's bytes with its end offset), and the row of
/// each. Appending is a bounds check and a store — no array uniqueness check, no retain — because
/// it runs once per field of every exported record. At flush the buffers become a `ColumnData`.
///
/// Invariant: `values` holds `byteCapacity` allocated bytes of which `byteCount` are written;
/// `rows` (and, for strings, `ends`) hold `rowCapacity` slots of which `count` are written; all are
/// nil while their capacity is 0; only `deallocate()` frees them, once, when the owner goes away.
struct RawColumn {
    var values: UnsafeMutableRawPointer?
    var byteCount = 0
    var byteCapacity = 0
    var rows: UnsafeMutablePointer<Int32>?
    var ends: UnsafeMutablePointer<Int>?
    var count = 0
    var rowCapacity = 0
    /// The row of the last value (a second value in the same row is a misuse, reported at flush).
    var lastRow: Int32 = -1
    var setTwice: Int32 = -1
    let strings: Bool

    init(strings: Bool) { self.strings = strings }

    @inline(__always)
    mutating func noteRow(_ row: Int32) {
        if row == lastRow { setTwice = row }
        lastRow = row
        if count == rowCapacity { growRows() }
        // Safe: count < rowCapacity after growRows.
        rows.unsafelyUnwrapped[count] = row
    }

    /// Appends a fixed-width value for `row`.
    @inline(__always)
    mutating func append<T: FixedWidthInteger>(_ v: T, row: Int32) {
        noteRow(row)
        let w = MemoryLayout<T>.size
        if byteCount + w > byteCapacity { growBytes(byteCount + w) }
        // Safe: byteCount + w <= byteCapacity.
        values.unsafelyUnwrapped.storeBytes(of: v.littleEndian, toByteOffset: byteCount, as: T.self)
        byteCount += w
        count += 1
    }

    /// Appends a string's bytes for `row`.
    @inline(__always)
    mutating func append(bytes v: UnsafeRawBufferPointer, row: Int32) {
        noteRow(row)
        if byteCount + v.count > byteCapacity { growBytes(byteCount + v.count) }
        if let b = v.baseAddress {
            // Safe: byteCount + v.count <= byteCapacity.
            (values.unsafelyUnwrapped + byteCount).copyMemory(from: b, byteCount: v.count)
        }
        byteCount += v.count
        // Safe: count < rowCapacity (noteRow grew both rows and ends).
        ends.unsafelyUnwrapped[count] = byteCount
        count += 1
    }

    mutating func growRows() {
        let cap = max(1024, rowCapacity * 2)
        let r = UnsafeMutablePointer<Int32>.allocate(capacity: cap)
        if let old = rows {
            r.update(from: old, count: count)  // Safe: the first `count` slots are written.
            old.deallocate()
        }
        rows = r
        if strings {
            let e = UnsafeMutablePointer<Int>.allocate(capacity: cap)
            if let old = ends {
                e.update(from: old, count: count)  // Safe: as above.
                old.deallocate()
            }
            ends = e
        }
        rowCapacity = cap
    }

    mutating func growBytes(_ need: Int) {
        var cap = max(8192, byteCapacity * 2)
        while cap < need { cap *= 2 }
        let b = UnsafeMutableRawPointer.allocate(byteCount: cap, alignment: 16)
        if let old = values {
            b.copyMemory(from: old, byteCount: byteCount)  // Safe: the first byteCount bytes are written.
            old.deallocate()
        }
        values = b
        byteCapacity = cap
    }

    /// The row group's values for the encoder: definition levels for `rowCount` rows and the values.
    func columnData(rowCount: Int, physical: PhysicalType) -> ColumnData {
        var d = ColumnData()
        d.defs = [UInt8](repeating: 0, count: rowCount)
        if let rows {
            for k in 0..<count { d.defs[Int(rows[k])] = 1 }  // Safe: k < count.
        }
        let bytes = UnsafeRawBufferPointer(start: values, count: byteCount)
        switch physical {
        case .int32: d.i32 = Array(bytes.bindMemory(to: Int32.self))
        case .int64: d.i64 = Array(bytes.bindMemory(to: Int64.self))
        case .double:
            d.f64 = bytes.withMemoryRebound(to: UInt64.self) { $0.map { Double(bitPattern: $0) } }
        case .boolean: d.bools = Array(bytes)
        default:
            d.bytes = Array(bytes)
            d.ends = Array(UnsafeBufferPointer(start: ends, count: count))
        }
        return d
    }

    /// Forgets the row group's values, keeping the memory.
    mutating func clear() {
        byteCount = 0
        count = 0
        lastRow = -1
        setTwice = -1
    }

    func deallocate() {
        values?.deallocate()
        rows?.deallocate()
        ends?.deallocate()
    }
}
