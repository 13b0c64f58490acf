/// One column chunk's values as the encoder takes them (built from the column's `RawColumn` when its
/// row group is written): a definition level per row (1 present, 0 null) and the present values,
/// dense, in the array of the column's physical type.
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
}
