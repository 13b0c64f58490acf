import TickBusCore

#if canImport(Glibc)
import Glibc
#endif

/// Writes one Parquet file (Apache Parquet format, parquet-format's parquet.thrift and Encodings.md)
/// of flat, optional columns: rows are appended column by column, buffered per row group, and each
/// full row group is encoded and written, so memory is bounded by `Options.rowGroupRows`, not by the
/// file.
///
/// Layout: `PAR1`, then per row group and column a column chunk — an optional dictionary page (PLAIN
/// values) and one data page V1 (definition levels in the RLE/bit-packed hybrid with their 4-byte
/// length, then the values PLAIN or as RLE_DICTIONARY indices), each page ZSTD-compressed with its
/// Thrift compact page header in front — then the `FileMetaData` footer (schema with logical types,
/// row groups, column statistics with `min_value`/`max_value`/`null_count`, `TYPE_ORDER` column
/// orders, key-value metadata), its 4-byte length and `PAR1`.
///
/// The file is written under `path + ".tmp"` and renamed to `path` by `close()`: a reader never sees
/// half a file. No descriptor stays open between row groups (the file is opened for appending at each
/// flush), so an export can hold one writer per partition, thousands of them.
public final class ParquetWriter {
    public struct Options: Sendable {
        /// Rows per row group (and per data page).
        public var rowGroupRows = 131_072
        /// ZSTD level (1: fastest, Arrow's default).
        public var zstdLevel: Int32 = 1
        /// Compress pages (ZSTD) or not (UNCOMPRESSED, for tests).
        public var compress = true
        /// Most distinct values a dictionary-encoded chunk may have.
        public var maxDictionary = 65_536
        public init() {}
    }

    public let path: String
    public let columns: [ParquetColumn]
    public let options: Options
    /// One `RawColumn` per column. Invariant: `columns.count` initialized values, allocated in
    /// `init`, each column's buffers and the array freed once in `deinit`.
    let raw: UnsafeMutablePointer<RawColumn>
    var rows = 0
    var totalRows: Int64 = 0
    /// Bytes of the file so far (written and buffered).
    var offset: Int64 = 0
    var out: [UInt8] = []
    var rowGroups: [RowGroup] = []
    let zstd: ZstdCompressor
    var page: [UInt8] = []
    var compressed: [UInt8] = []
    var closed = false
    static let magic: [UInt8] = Array("PAR1".utf8)
    static let flushBytes = 1 << 20

    /// Creates `path + ".tmp"` (replacing it) and writes the magic.
    /// - Throws: `ParquetError.system` when the file cannot be created, `.misuse` for a bad schema.
    public init(path: String, columns: [ParquetColumn], options: Options = Options()) throws(ParquetError) {
        guard !columns.isEmpty else { throw .misuse("a Parquet file needs at least one column") }
        guard options.rowGroupRows >= 1 && options.rowGroupRows <= 1 << 22 else {
            throw .misuse("rows per row group must be 1…4194304, not \(options.rowGroupRows)")
        }
        for c in columns where ![.boolean, .int32, .int64, .double, .byteArray].contains(c.physical) {
            throw .misuse("column \(c.name): physical type \(c.physical) is not written")
        }
        self.path = path
        self.columns = columns
        self.options = options
        zstd = try ZstdCompressor(level: options.zstdLevel)
        raw = .allocate(capacity: columns.count)
        for (c, column) in columns.enumerated() {
            (raw + c).initialize(to: RawColumn(strings: column.physical == .byteArray))  // Safe: c < count.
        }
        let f = open(path + ".tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard f >= 0 else {
            throw .system(path: path + ".tmp", SystemCallError(call: "open", argument: path, errno: errno))
        }
        Glibc.close(f)
        append(Self.magic)
    }

    deinit {
        if !closed { unlink(path + ".tmp") }
        for c in 0..<columns.count { raw[c].deallocate() }  // Safe: c < count, each freed once.
        raw.deinitialize(count: columns.count)
        raw.deallocate()
    }

    /// Rows buffered for the row group being filled.
    public var bufferedRows: Int { rows }

    /// Rows written so far, including the row group being filled.
    public var rowCount: Int64 { totalRows + Int64(rows) }

    // MARK: Appending (one value per column per row; a column not set in a row is null)

    // Each setter is a store into the column's own buffer (`RawColumn`); `c` must be a column index
    // of the schema (checked in debug builds).

    /// Sets column `c` (INT64) of the current row.
    @inline(__always) public func int64(_ c: Int, _ v: Int64) {
        assert(c >= 0 && c < columns.count)
        raw[c].append(v, row: Int32(truncatingIfNeeded: rows))  // Safe: c is a column index.
    }

    /// Sets column `c` (INT64, UINT_64) of the current row.
    @inline(__always) public func uint64(_ c: Int, _ v: UInt64) { int64(c, Int64(bitPattern: v)) }

    /// Sets column `c` (INT32) of the current row.
    @inline(__always) public func int32(_ c: Int, _ v: Int32) {
        assert(c >= 0 && c < columns.count)
        raw[c].append(v, row: Int32(truncatingIfNeeded: rows))  // Safe: c is a column index.
    }

    /// Sets column `c` (INT32, UINT_32) of the current row.
    @inline(__always) public func uint32(_ c: Int, _ v: UInt32) { int32(c, Int32(bitPattern: v)) }

    /// Sets column `c` (DOUBLE) of the current row.
    @inline(__always) public func double(_ c: Int, _ v: Double) {
        assert(c >= 0 && c < columns.count)
        raw[c].append(v.bitPattern, row: Int32(truncatingIfNeeded: rows))  // Safe: c is a column index.
    }

    /// Sets column `c` (BOOLEAN) of the current row.
    @inline(__always) public func bool(_ c: Int, _ v: Bool) {
        assert(c >= 0 && c < columns.count)
        raw[c].append(UInt8(v ? 1 : 0), row: Int32(truncatingIfNeeded: rows))  // Safe: c is a column index.
    }

    /// Sets column `c` (BYTE_ARRAY) of the current row to UTF-8 bytes.
    @inline(__always) public func bytes(_ c: Int, _ v: UnsafeRawBufferPointer) {
        assert(c >= 0 && c < columns.count)
        raw[c].append(bytes: v, row: Int32(truncatingIfNeeded: rows))  // Safe: c is a column index.
    }

    /// Sets column `c` (BYTE_ARRAY STRING) of the current row.
    public func string(_ c: Int, _ v: String) {
        var v = v
        v.withUTF8 { bytes(c, UnsafeRawBufferPointer($0)) }
    }

    /// Sets column `c` (BYTE_ARRAY STRING) of the current row to a static string (no copy to a String).
    @inline(__always) public func string(_ c: Int, _ v: StaticString) {
        // Safe: a StaticString's UTF-8 bytes live for the program.
        bytes(c, UnsafeRawBufferPointer(start: v.utf8Start, count: v.utf8CodeUnitCount))
    }

    /// Ends the current row: columns not set are null. Writes the row group once it is full.
    /// - Throws: write and compression errors; `.misuse` (at the row group's end) when a column was
    ///   set twice in a row.
    public func endRow() throws(ParquetError) {
        rows += 1
        if rows >= options.rowGroupRows { try flushRowGroup() }
    }

    /// Writes the buffered rows as a row group now (a smaller one), e.g. when several writers share a memory budget.
    public func flushRowGroup() throws(ParquetError) {
        guard rows > 0 else { return }
        let start = offset
        var chunks: [ColumnChunk] = []
        chunks.reserveCapacity(columns.count)
        var uncompressedTotal: Int64 = 0
        for c in 0..<columns.count where raw[c].setTwice >= 0 {
            throw .misuse("column \(columns[c].name) set twice in row \(totalRows + Int64(raw[c].setTwice))")
        }
        for c in 0..<columns.count {
            let chunk = try writeChunk(c, raw[c].columnData(rowCount: rows, physical: columns[c].physical))
            uncompressedTotal += chunk.meta!.totalUncompressedSize
            chunks.append(chunk)
            raw[c].clear()
        }
        rowGroups.append(
            RowGroup(
                columns: chunks,
                totalByteSize: uncompressedTotal,
                numRows: Int64(rows),
                fileOffset: start,
                totalCompressedSize: offset - start,
                ordinal: rowGroups.count < Int(Int16.max) ? Int16(rowGroups.count) : nil
            )
        )
        totalRows += Int64(rows)
        rows = 0
        try flush(all: true)
    }

    /// Writes the last row group and the footer, closes the file and renames it into place.
    /// - Parameter keyValues: the file's key-value metadata (written in this order).
    public func close(keyValues: [(key: String, value: String)] = []) throws(ParquetError) {
        guard !closed else { throw .misuse("\(path) is already closed") }
        try flushRowGroup()
        var meta = FileMetaData()
        var root = SchemaElement(name: "schema")
        root.numChildren = Int32(columns.count)
        meta.schema = [root] + columns.map(Self.schemaElement)
        meta.numRows = totalRows
        meta.rowGroups = rowGroups
        meta.keyValues = keyValues.map { ($0.key, $0.value) }
        meta.createdBy = "tickbus (Sources/Parquet)"
        meta.typeDefinedOrders = columns.count
        let footer = meta.encode()
        append(footer)
        var len = UInt32(footer.count).littleEndian
        withUnsafeBytes(of: &len) { out.append(contentsOf: $0) }
        append(Self.magic)
        try flush(all: true)
        closed = true
        if rename(path + ".tmp", path) != 0 {
            let e = errno
            unlink(path + ".tmp")
            throw .system(path: path, SystemCallError(call: "rename", argument: path, errno: e))
        }
    }

    static func schemaElement(_ c: ParquetColumn) -> SchemaElement {
        var e = SchemaElement(name: c.name)
        e.type = c.physical.rawValue
        e.repetition = Repetition.optional.rawValue
        e.logical = c.logical
        e.convertedType = c.logical?.convertedType
        if case .decimal(let scale, let precision) = c.logical {
            e.scale = scale
            e.precision = precision
        }
        return e
    }

    // MARK: Output

    func append(_ b: [UInt8]) {
        out.append(contentsOf: b)
        offset += Int64(b.count)
    }

    func append(_ b: UnsafeRawBufferPointer) {
        out.append(contentsOf: b)
        offset += Int64(b.count)
    }

    func flush(all: Bool = false) throws(ParquetError) {
        guard all || out.count >= Self.flushBytes, !out.isEmpty else { return }
        let tmp = path + ".tmp"
        let fd = open(tmp, O_WRONLY | O_APPEND | O_CLOEXEC)
        guard fd >= 0 else { throw .system(path: tmp, SystemCallError(call: "open", argument: tmp, errno: errno)) }
        defer { Glibc.close(fd) }
        var done = 0
        let total = out.count
        while done < total {
            let n: Int
            do {
                n = try out.withBytes { (b) throws(SystemCallError) in
                    // Safe: done < total = b.count.
                    try retryingEINTR("write", tmp) { write(fd, b.baseAddress! + done, total - done) }
                }
            } catch { throw .system(path: tmp, error) }
            done += n
        }
        out.removeAll(keepingCapacity: true)
    }
}
