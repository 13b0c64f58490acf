// fuzz-modules: TickBusCore Parquet
// A Parquet file through `ParquetFile` (footer length and magic, the Thrift compact footer, schema
// and row-group checks) and every column read back (page headers, ZSTD frames, definition levels,
// PLAIN values, dictionary pages and indices), as `tickbus export`'s tests and later `asof` read them.
//
// Input: the file's bytes (the exact buffer, so ASan sees any read past the end).
import Parquet

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzParquet(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = FuzzInput.bytes(data, size)
    guard let file = try? ParquetFile(bytes: bytes, path: "fuzz.parquet") else { return 0 }
    var sink = Int(file.metadata.numRows & 0xFF)
    for c in 0..<file.columns.count {
        guard let v = try? file.read(column: c) else { continue }
        // What was read is consistent: one presence flag per row, one value per present row.
        let present = v.present.reduce(0) { $0 + ($1 ? 1 : 0) }
        let values: Int
        switch v.values {
        case .boolean(let a): values = a.count
        case .int32(let a): values = a.count
        case .int64(let a): values = a.count
        case .double(let a): values = a.count
        case .bytes(let a): values = a.count
        }
        if present != values || Int64(v.count) != file.metadata.numRows {
            fatalError("column \(c): \(present) present, \(values) values")
        }
        sink &+= values
    }
    return sink == -1 ? 1 : 0
}
