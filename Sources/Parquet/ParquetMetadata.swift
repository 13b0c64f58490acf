// The Thrift structs of a Parquet file's metadata (parquet.thrift), each with its field ids, as
// TickBus writes them (`encode`) and reads them back (`ParquetMetadata+Decode.swift`).

/// `SchemaElement`: the root (with `numChildren`) or one flat column.
public struct SchemaElement: Sendable {
    public var type: Int32?
    public var typeLength: Int32?
    public var repetition: Int32?
    public var name: String
    public var numChildren: Int32?
    public var convertedType: Int32?
    public var scale: Int32?
    public var precision: Int32?
    public var logical: LogicalType?

    public init(name: String) { self.name = name }

    func encode(_ w: inout ThriftCompactWriter) {
        if let type { w.field(1, i32: type) }
        if let typeLength { w.field(2, i32: typeLength) }
        if let repetition { w.field(3, i32: repetition) }
        w.field(4, string: name)
        if let numChildren { w.field(5, i32: numChildren) }
        if let convertedType { w.field(6, i32: convertedType) }
        if let scale { w.field(7, i32: scale) }
        if let precision { w.field(8, i32: precision) }
        if let logical {
            w.beginStruct(10)
            switch logical {
            case .string:
                w.beginStruct(1)
                w.endStruct()
            case .integer(let bits, let signed):
                w.beginStruct(10)
                w.field(1, i8: bits)
                w.field(2, bool: signed)
                w.endStruct()
            case .timestamp(let unit, let utc):
                w.beginStruct(8)
                w.field(1, bool: utc)
                w.beginStruct(2)
                w.beginStruct(unit.rawValue)
                w.endStruct()
                w.endStruct()
                w.endStruct()
            case .decimal(let scale, let precision):
                w.beginStruct(5)
                w.field(1, i32: scale)
                w.field(2, i32: precision)
                w.endStruct()
            }
            w.endStruct()
        }
    }
}

/// `Statistics` of a column chunk: plain-encoded min and max (the non-deprecated `min_value` and
/// `max_value`, fields 6 and 5) and the null count.
public struct Statistics: Sendable {
    public var nullCount: Int64?
    public var distinctCount: Int64?
    public var minValue: [UInt8]?
    public var maxValue: [UInt8]?

    public init() {}

    func encode(_ w: inout ThriftCompactWriter) {
        if let nullCount { w.field(3, i64: nullCount) }
        if let distinctCount { w.field(4, i64: distinctCount) }
        if let maxValue { w.field(5, binary: maxValue) }
        if let minValue { w.field(6, binary: minValue) }
    }
}

/// `ColumnMetaData` of one column chunk.
public struct ColumnMetaData: Sendable {
    public var type: Int32
    public var encodings: [Int32]
    public var path: [String]
    public var codec: Int32
    public var numValues: Int64
    public var totalUncompressedSize: Int64
    public var totalCompressedSize: Int64
    public var dataPageOffset: Int64
    public var dictionaryPageOffset: Int64?
    public var statistics: Statistics?

    func encode(_ w: inout ThriftCompactWriter) {
        w.field(1, i32: type)
        w.beginList(2, .i32, count: encodings.count)
        for e in encodings { w.element(i32: e) }
        w.beginList(3, .binary, count: path.count)
        for p in path { w.element(binary: Array(p.utf8)) }
        w.field(4, i32: codec)
        w.field(5, i64: numValues)
        w.field(6, i64: totalUncompressedSize)
        w.field(7, i64: totalCompressedSize)
        w.field(9, i64: dataPageOffset)
        if let dictionaryPageOffset { w.field(11, i64: dictionaryPageOffset) }
        if let statistics {
            w.beginStruct(12)
            statistics.encode(&w)
            w.endStruct()
        }
    }
}

/// `ColumnChunk`: where a chunk starts and its metadata.
public struct ColumnChunk: Sendable {
    public var fileOffset: Int64
    public var meta: ColumnMetaData?

    func encode(_ w: inout ThriftCompactWriter) {
        w.field(2, i64: fileOffset)
        if let meta {
            w.beginStruct(3)
            meta.encode(&w)
            w.endStruct()
        }
    }
}

/// `RowGroup`.
public struct RowGroup: Sendable {
    public var columns: [ColumnChunk]
    public var totalByteSize: Int64
    public var numRows: Int64
    public var fileOffset: Int64?
    public var totalCompressedSize: Int64?
    public var ordinal: Int16?

    func encode(_ w: inout ThriftCompactWriter) {
        w.beginList(1, .struct, count: columns.count)
        for c in columns {
            w.beginListStruct()
            c.encode(&w)
            w.endStruct()
        }
        w.field(2, i64: totalByteSize)
        w.field(3, i64: numRows)
        if let fileOffset { w.field(5, i64: fileOffset) }
        if let totalCompressedSize { w.field(6, i64: totalCompressedSize) }
        if let ordinal {
            w.fieldHeader(7, .i16)
            w.varint(w.zigzag(Int64(ordinal)))
        }
    }
}

/// `FileMetaData`: the footer.
public struct FileMetaData: Sendable {
    public var version: Int32 = 2
    public var schema: [SchemaElement] = []
    public var numRows: Int64 = 0
    public var rowGroups: [RowGroup] = []
    public var keyValues: [(key: String, value: String?)] = []
    public var createdBy: String?
    /// Number of `TYPE_ORDER` column orders (one per leaf column): tells readers that `min_value`
    /// and `max_value` follow each type's defined sort order.
    public var typeDefinedOrders = 0

    public init() {}

    /// The footer's Thrift compact bytes.
    public func encode() -> [UInt8] {
        var w = ThriftCompactWriter()
        w.field(1, i32: version)
        w.beginList(2, .struct, count: schema.count)
        for s in schema {
            w.beginListStruct()
            s.encode(&w)
            w.endStruct()
        }
        w.field(3, i64: numRows)
        w.beginList(4, .struct, count: rowGroups.count)
        for g in rowGroups {
            w.beginListStruct()
            g.encode(&w)
            w.endStruct()
        }
        if !keyValues.isEmpty {
            w.beginList(5, .struct, count: keyValues.count)
            for kv in keyValues {
                w.beginListStruct()
                w.field(1, string: kv.key)
                if let v = kv.value { w.field(2, string: v) }
                w.endStruct()
            }
        }
        if let createdBy { w.field(6, string: createdBy) }
        if typeDefinedOrders > 0 {
            w.beginList(7, .struct, count: typeDefinedOrders)
            for _ in 0..<typeDefinedOrders {
                w.beginListStruct()
                w.beginStruct(1)
                w.endStruct()
                w.endStruct()
            }
        }
        w.finish()
        return w.bytes
    }
}

/// `DataPageHeader` (V1).
public struct DataPageHeader: Sendable {
    public var numValues: Int32
    public var encoding: Int32
    public var definitionLevelEncoding: Int32
    public var repetitionLevelEncoding: Int32
}

/// `DataPageHeaderV2` (read only).
public struct DataPageHeaderV2: Sendable {
    public var numValues: Int32
    public var numNulls: Int32
    public var numRows: Int32
    public var encoding: Int32
    public var definitionLevelsByteLength: Int32
    public var repetitionLevelsByteLength: Int32
    public var isCompressed: Bool
}

/// `DictionaryPageHeader`.
public struct DictionaryPageHeader: Sendable {
    public var numValues: Int32
    public var encoding: Int32
}

/// `PageHeader`.
public struct PageHeader: Sendable {
    public var type: Int32
    public var uncompressedPageSize: Int32
    public var compressedPageSize: Int32
    public var dataPage: DataPageHeader?
    public var dictionaryPage: DictionaryPageHeader?
    public var dataPageV2: DataPageHeaderV2?

    /// The header's Thrift compact bytes.
    public func encode() -> [UInt8] {
        var w = ThriftCompactWriter()
        w.field(1, i32: type)
        w.field(2, i32: uncompressedPageSize)
        w.field(3, i32: compressedPageSize)
        if let d = dataPage {
            w.beginStruct(5)
            w.field(1, i32: d.numValues)
            w.field(2, i32: d.encoding)
            w.field(3, i32: d.definitionLevelEncoding)
            w.field(4, i32: d.repetitionLevelEncoding)
            w.endStruct()
        }
        if let d = dictionaryPage {
            w.beginStruct(7)
            w.field(1, i32: d.numValues)
            w.field(2, i32: d.encoding)
            w.endStruct()
        }
        w.finish()
        return w.bytes
    }
}
