import TickBusCore

#if canImport(Glibc)
import Glibc
#endif

/// The values of one column read back: a presence flag per row and the present values, dense.
public struct ParquetColumnValues: Sendable {
    public enum Values: Sendable {
        case boolean([Bool])
        case int32([Int32])
        case int64([Int64])
        case double([Double])
        case bytes([[UInt8]])
    }
    /// One flag per row: false where the value is null.
    public var present: [Bool]
    /// The non-null values in row order.
    public var values: Values

    /// Rows (present or null).
    public var count: Int { present.count }
}

/// A Parquet file read from untrusted bytes: the footer decoded and checked against the file, and
/// columns decoded on request (flat schemas; PLAIN, RLE/bit-packed levels, PLAIN_DICTIONARY and
/// RLE_DICTIONARY; UNCOMPRESSED and ZSTD; data page V1) — what `ParquetWriter` writes, and the same
/// subset as pyarrow writes by default.
///
/// Nothing here traps on a value from the file: offsets, sizes and counts are checked against the
/// bytes that exist before they are used, and no allocation is sized by an unchecked count.
public struct ParquetFile: Sendable {
    /// The file's name, for errors.
    public let path: String
    let bytes: [UInt8]
    /// The decoded footer.
    public let metadata: FileMetaData
    /// The leaf columns (schema elements after the root).
    public let columns: [SchemaElement]
    /// Offset of the footer (the end of the last column chunk).
    public let footerOffset: Int
    /// Largest page (uncompressed) this reader accepts: 256 MiB.
    public static let maxPageBytes = 256 << 20

    /// Reads and checks the file at `path`.
    public init(path: String) throws(ParquetError) {
        try self.init(bytes: try Self.readFile(path), path: path)
    }

    /// Checks `bytes` as a Parquet file named `path`.
    /// - Throws: `cutShort`, `badMagic`, `missingEndMagic`, `badFooterLength`, `corruptMetadata`,
    ///   `badField` or `unsupported`, naming the offset or field.
    public init(bytes: [UInt8], path: String) throws(ParquetError) {
        self.path = path
        self.bytes = bytes
        let size = bytes.count
        guard size >= 12 else { throw .cutShort(path: path, size: size, needed: 12) }
        guard bytes[0..<4].elementsEqual(ParquetWriter.magic) else { throw .badMagic(path: path, offset: 0) }
        guard bytes[(size - 4)...].elementsEqual(ParquetWriter.magic) else {
            throw .missingEndMagic(path: path, size: size)
        }
        let length =
            UInt32(bytes[size - 8]) | UInt32(bytes[size - 7]) << 8 | UInt32(bytes[size - 6]) << 16
            | UInt32(bytes[size - 5]) << 24
        guard Int(length) <= size - 12 else { throw .badFooterLength(path: path, length: length, fileSize: size) }
        let footerStart = size - 8 - Int(length)
        footerOffset = footerStart
        var meta: FileMetaData
        do {
            meta = try bytes.withBytes { (all) throws(ThriftError) in
                // Safe: footerStart..<size-8 lies inside the file (checked above).
                var r = ThriftCompactReader(UnsafeRawBufferPointer(rebasing: all[footerStart..<(size - 8)]))
                return try FileMetaData.decode(&r)
            }
        } catch {
            throw .corruptMetadata(path: path, what: "footer", offset: footerStart + error.offset, why: error.why)
        }
        metadata = meta
        columns = try Self.checkSchema(meta, path: path)
        try Self.checkRowGroups(meta, columns: columns, footerStart: footerStart, path: path)
    }

    static func readFile(_ path: String) throws(ParquetError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .system(path: path, SystemCallError(call: "open", argument: path, errno: errno)) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            throw .system(path: path, SystemCallError(call: "fstat", argument: path, errno: errno))
        }
        let size = Int(st.st_size)
        var out = [UInt8](repeating: 0, count: size)
        var done = 0
        while done < size {
            let n: Int
            do {
                n = try out.withMutableBytes { (b) throws(SystemCallError) in
                    // Safe: done < size = b.count.
                    try retryingEINTR("pread", path) { pread(fd, b.baseAddress! + done, size - done, off_t(done)) }
                }
            } catch { throw .system(path: path, error) }
            if n == 0 { break }  // the file shrank while being read
            done += n
        }
        if done < size { out.removeSubrange(done...) }
        return out
    }

    /// The flat leaf columns, or why the schema is not one this reader takes.
    static func checkSchema(_ meta: FileMetaData, path: String) throws(ParquetError) -> [SchemaElement] {
        guard let root = meta.schema.first else {
            throw .badField(path: path, what: "FileMetaData.schema", value: 0, why: "empty schema")
        }
        let leaves = Array(meta.schema.dropFirst())
        guard Int(root.numChildren ?? -1) == leaves.count else {
            throw .unsupported(
                path: path,
                what:
                    "schema root with \(root.numChildren.map(String.init) ?? "no") children and \(leaves.count) elements (nested schemas)"
            )
        }
        for e in leaves {
            guard (e.numChildren ?? 0) == 0, let t = e.type, PhysicalType(rawValue: t) != nil else {
                throw .unsupported(path: path, what: "column \(e.name): nested or untyped")
            }
            guard
                e.repetition == nil || e.repetition == Repetition.optional.rawValue
                    || e.repetition == Repetition.required.rawValue
            else { throw .unsupported(path: path, what: "column \(e.name): repetition \(e.repetition!)") }
        }
        guard meta.numRows >= 0 else {
            throw .badField(path: path, what: "FileMetaData.num_rows", value: meta.numRows, why: "negative")
        }
        return leaves
    }

    static func checkRowGroups(
        _ meta: FileMetaData,
        columns: [SchemaElement],
        footerStart: Int,
        path: String
    ) throws(ParquetError) {
        var rows: Int64 = 0
        for (g, group) in meta.rowGroups.enumerated() {
            guard group.numRows >= 0 else {
                throw .badField(path: path, what: "row group \(g) num_rows", value: group.numRows, why: "negative")
            }
            guard group.columns.count == columns.count else {
                throw .badField(
                    path: path,
                    what: "row group \(g) columns",
                    value: Int64(group.columns.count),
                    why: "the schema has \(columns.count)"
                )
            }
            let (sum, overflow) = rows.addingReportingOverflow(group.numRows)
            guard !overflow else {
                throw .badField(path: path, what: "row group \(g) num_rows", value: group.numRows, why: "overflows")
            }
            rows = sum
            for (c, chunk) in group.columns.enumerated() {
                let name = columns[c].name
                guard let m = chunk.meta else {
                    throw .unsupported(path: path, what: "row group \(g) column \(name): metadata in another file")
                }
                guard m.type == columns[c].type else {
                    throw .badField(
                        path: path,
                        what: "row group \(g) column \(name) type",
                        value: Int64(m.type),
                        why: "the schema says \(columns[c].type!)"
                    )
                }
                guard m.codec == ParquetCodec.uncompressed.rawValue || m.codec == ParquetCodec.zstd.rawValue else {
                    throw .unsupported(
                        path: path,
                        what: "column \(name): codec \(ParquetCodec(rawValue: m.codec)?.description ?? "\(m.codec)")"
                    )
                }
                guard m.numValues == group.numRows else {
                    throw .badField(
                        path: path,
                        what: "row group \(g) column \(name) num_values",
                        value: m.numValues,
                        why: "the row group has \(group.numRows) rows (flat columns have one value per row)"
                    )
                }
                let start = m.dictionaryPageOffset ?? m.dataPageOffset
                guard start >= 4, start < Int64(footerStart), m.dataPageOffset >= start,
                    m.dataPageOffset < Int64(footerStart)
                else {
                    throw .badField(
                        path: path,
                        what: "row group \(g) column \(name) page offset",
                        value: start,
                        why: "outside the column data 4..<\(footerStart)"
                    )
                }
                guard m.totalCompressedSize > 0, m.totalCompressedSize <= Int64(footerStart) - start else {
                    throw .badField(
                        path: path,
                        what: "row group \(g) column \(name) total_compressed_size",
                        value: m.totalCompressedSize,
                        why: "the chunk at \(start) would end beyond the column data (\(footerStart))"
                    )
                }
            }
        }
        guard rows == meta.numRows else {
            throw .badField(
                path: path,
                what: "FileMetaData.num_rows",
                value: meta.numRows,
                why: "the row groups hold \(rows)"
            )
        }
    }

    /// The index of the column named `name`.
    public func columnIndex(_ name: String) throws(ParquetError) -> Int {
        guard let i = columns.firstIndex(where: { $0.name == name }) else {
            throw .noSuchColumn(path: path, name: name)
        }
        return i
    }

    /// Column `index` of every row group, concatenated.
    public func read(column index: Int) throws(ParquetError) -> ParquetColumnValues {
        guard index >= 0 && index < columns.count else { throw .noSuchColumn(path: path, name: "#\(index)") }
        var acc = ColumnAccumulator(PhysicalType(rawValue: columns[index].type!)!)
        for g in 0..<metadata.rowGroups.count { try readChunk(group: g, column: index, into: &acc) }
        return acc.result
    }

    /// The column named `name`, every row group concatenated.
    public func read(column name: String) throws(ParquetError) -> ParquetColumnValues {
        try read(column: try columnIndex(name))
    }
}
