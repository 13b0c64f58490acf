/// The buffered values of one column for the row group being filled: a definition level per row
/// (1 present, 0 null) and the present values, dense, in the array of the column's physical type.
/// Memory is bounded by the row group's rows; the arrays keep their capacity between row groups.
struct ColumnData {
    var defs: [UInt8] = []
    var i32: [Int32] = []
    var i64: [Int64] = []
    var f64: [Double] = []
    var bools: [UInt8] = []
    /// String bytes, back to back; `ends[k]` is the end offset of value k.
    var bytes: [UInt8] = []
    var ends: [Int] = []

    var valueCount: Int {
        max(i32.count, i64.count, f64.count, bools.count, ends.count)
    }

    mutating func clear() {
        defs.removeAll(keepingCapacity: true)
        i32.removeAll(keepingCapacity: true)
        i64.removeAll(keepingCapacity: true)
        f64.removeAll(keepingCapacity: true)
        bools.removeAll(keepingCapacity: true)
        bytes.removeAll(keepingCapacity: true)
        ends.removeAll(keepingCapacity: true)
    }
}
