// Decoding the metadata structs from untrusted Thrift compact bytes: unknown fields are skipped
// (newer writers add them), required fields that are missing and values of the wrong type are errors.

extension ThriftCompactReader {
    mutating func list<T>(
        _ type: UInt8,
        _ field: String,
        element: (inout ThriftCompactReader) throws(ThriftError) -> T
    ) throws(ThriftError) -> [T] {
        try expect(type, .list, field)
        let (_, n) = try listHeader()
        var out: [T] = []
        // n <= bytes left (listHeader), so this reservation is bounded by the buffer.
        out.reserveCapacity(n)
        for _ in 0..<n { out.append(try element(&self)) }
        return out
    }

    mutating func required<T>(_ v: T?, _ what: String) throws(ThriftError) -> T {
        guard let v else { throw fail("required field \(what) is missing") }
        return v
    }
}

extension LogicalType {
    static func decode(_ r: inout ThriftCompactReader) throws(ThriftError) -> LogicalType? {
        var out: LogicalType?
        try r.readStruct { (r, id, t) throws(ThriftError) in
            switch id {
            case 1:
                try r.skip(t)
                out = .string
            case 5:
                var scale: Int32 = 0
                var precision: Int32 = 0
                try r.readStruct { (r, id, t) throws(ThriftError) in
                    if id == 1 {
                        scale = try r.i32()
                    } else if id == 2 {
                        precision = try r.i32()
                    } else {
                        try r.skip(t)
                    }
                }
                out = .decimal(scale: scale, precision: precision)
            case 8:
                var utc = false
                var unit = TimeUnit.nanos
                try r.readStruct { (r, id, t) throws(ThriftError) in
                    if id == 1 {
                        utc = t == 1
                    } else if id == 2 {
                        try r.readStruct { (r, id, t) throws(ThriftError) in
                            if let u = TimeUnit(rawValue: id) { unit = u }
                            try r.skip(t)
                        }
                    } else {
                        try r.skip(t)
                    }
                }
                out = .timestamp(unit: unit, utc: utc)
            case 10:
                var bits: Int8 = 0
                var signed = true
                try r.readStruct { (r, id, t) throws(ThriftError) in
                    if id == 1 {
                        bits = Int8(bitPattern: try r.byte())
                    } else if id == 2 {
                        signed = t == 1
                    } else {
                        try r.skip(t)
                    }
                }
                out = .integer(bitWidth: bits, signed: signed)
            default:
                try r.skip(t)  // a logical type this reader does not interpret
            }
        }
        return out
    }
}

extension SchemaElement {
    static func decode(_ r: inout ThriftCompactReader) throws(ThriftError) -> SchemaElement {
        var e = SchemaElement(name: "")
        var name: String?
        try r.readStruct { (r, id, t) throws(ThriftError) in
            switch id {
            case 1: e.type = try r.i32()
            case 2: e.typeLength = try r.i32()
            case 3: e.repetition = try r.i32()
            case 4: name = try r.string()
            case 5: e.numChildren = try r.i32()
            case 6: e.convertedType = try r.i32()
            case 7: e.scale = try r.i32()
            case 8: e.precision = try r.i32()
            case 10:
                try r.expect(t, .struct, "SchemaElement.logicalType")
                e.logical = try LogicalType.decode(&r)
            default: try r.skip(t)
            }
        }
        e.name = try r.required(name, "SchemaElement.name")
        return e
    }
}

extension Statistics {
    static func decode(_ r: inout ThriftCompactReader) throws(ThriftError) -> Statistics {
        var s = Statistics()
        try r.readStruct { (r, id, t) throws(ThriftError) in
            switch id {
            case 3: s.nullCount = try r.i64()
            case 4: s.distinctCount = try r.i64()
            case 5: s.maxValue = try r.binary()
            case 6: s.minValue = try r.binary()
            default: try r.skip(t)
            }
        }
        return s
    }
}

extension ColumnMetaData {
    static func decode(_ r: inout ThriftCompactReader) throws(ThriftError) -> ColumnMetaData {
        var type: Int32?
        var encodings: [Int32] = []
        var path: [String]?
        var codec: Int32?
        var numValues: Int64?
        var uncompressed: Int64?
        var compressed: Int64?
        var dataPage: Int64?
        var dictPage: Int64?
        var stats: Statistics?
        try r.readStruct { (r, id, t) throws(ThriftError) in
            switch id {
            case 1: type = try r.i32()
            case 2: encodings = try r.list(t, "ColumnMetaData.encodings") { (r) throws(ThriftError) in try r.i32() }
            case 3: path = try r.list(t, "ColumnMetaData.path_in_schema") { (r) throws(ThriftError) in try r.string() }
            case 4: codec = try r.i32()
            case 5: numValues = try r.i64()
            case 6: uncompressed = try r.i64()
            case 7: compressed = try r.i64()
            case 9: dataPage = try r.i64()
            case 11: dictPage = try r.i64()
            case 12:
                try r.expect(t, .struct, "ColumnMetaData.statistics")
                stats = try Statistics.decode(&r)
            default: try r.skip(t)
            }
        }
        return ColumnMetaData(
            type: try r.required(type, "ColumnMetaData.type"),
            encodings: encodings,
            path: try r.required(path, "ColumnMetaData.path_in_schema"),
            codec: try r.required(codec, "ColumnMetaData.codec"),
            numValues: try r.required(numValues, "ColumnMetaData.num_values"),
            totalUncompressedSize: try r.required(uncompressed, "ColumnMetaData.total_uncompressed_size"),
            totalCompressedSize: try r.required(compressed, "ColumnMetaData.total_compressed_size"),
            dataPageOffset: try r.required(dataPage, "ColumnMetaData.data_page_offset"),
            dictionaryPageOffset: dictPage,
            statistics: stats
        )
    }
}

extension RowGroup {
    static func decode(_ r: inout ThriftCompactReader) throws(ThriftError) -> RowGroup {
        var columns: [ColumnChunk]?
        var total: Int64?
        var rows: Int64?
        var g = RowGroup(columns: [], totalByteSize: 0, numRows: 0)
        try r.readStruct { (r, id, t) throws(ThriftError) in
            switch id {
            case 1:
                columns = try r.list(t, "RowGroup.columns") { (r) throws(ThriftError) in
                    var offset: Int64?
                    var meta: ColumnMetaData?
                    try r.readStruct { (r, id, t) throws(ThriftError) in
                        switch id {
                        case 2: offset = try r.i64()
                        case 3:
                            try r.expect(t, .struct, "ColumnChunk.meta_data")
                            meta = try ColumnMetaData.decode(&r)
                        default: try r.skip(t)
                        }
                    }
                    return ColumnChunk(fileOffset: try r.required(offset, "ColumnChunk.file_offset"), meta: meta)
                }
            case 2: total = try r.i64()
            case 3: rows = try r.i64()
            case 5: g.fileOffset = try r.i64()
            case 6: g.totalCompressedSize = try r.i64()
            case 7: g.ordinal = try r.i16()
            default: try r.skip(t)
            }
        }
        g.columns = try r.required(columns, "RowGroup.columns")
        g.totalByteSize = try r.required(total, "RowGroup.total_byte_size")
        g.numRows = try r.required(rows, "RowGroup.num_rows")
        return g
    }
}

extension FileMetaData {
    /// Decodes a footer.
    public static func decode(_ r: inout ThriftCompactReader) throws(ThriftError) -> FileMetaData {
        var m = FileMetaData()
        var version: Int32?
        var schema: [SchemaElement]?
        var rows: Int64?
        var groups: [RowGroup]?
        try r.readStruct { (r, id, t) throws(ThriftError) in
            switch id {
            case 1: version = try r.i32()
            case 2:
                schema = try r.list(t, "FileMetaData.schema") { (r) throws(ThriftError) in try SchemaElement.decode(&r)
                }
            case 3: rows = try r.i64()
            case 4:
                groups = try r.list(t, "FileMetaData.row_groups") { (r) throws(ThriftError) in try RowGroup.decode(&r) }
            case 5:
                m.keyValues = try r.list(t, "FileMetaData.key_value_metadata") {
                    (r) throws(ThriftError) -> (key: String, value: String?) in
                    var key: String?
                    var value: String?
                    try r.readStruct { (r, id, t) throws(ThriftError) in
                        if id == 1 {
                            key = try r.string()
                        } else if id == 2 {
                            value = try r.string()
                        } else {
                            try r.skip(t)
                        }
                    }
                    return (try r.required(key, "KeyValue.key"), value)
                }
            case 6: m.createdBy = try r.string()
            case 7:
                let orders: [Void] = try r.list(t, "FileMetaData.column_orders") { (r) throws(ThriftError) in
                    try r.skip(12)
                }
                m.typeDefinedOrders = orders.count
            default: try r.skip(t)
            }
        }
        m.version = try r.required(version, "FileMetaData.version")
        m.schema = try r.required(schema, "FileMetaData.schema")
        m.numRows = try r.required(rows, "FileMetaData.num_rows")
        m.rowGroups = try r.required(groups, "FileMetaData.row_groups")
        return m
    }
}

extension PageHeader {
    /// Decodes a page header.
    public static func decode(_ r: inout ThriftCompactReader) throws(ThriftError) -> PageHeader {
        var type: Int32?
        var uncompressed: Int32?
        var compressed: Int32?
        var data: DataPageHeader?
        var dict: DictionaryPageHeader?
        var v2: DataPageHeaderV2?
        try r.readStruct { (r, id, t) throws(ThriftError) in
            switch id {
            case 1: type = try r.i32()
            case 2: uncompressed = try r.i32()
            case 3: compressed = try r.i32()
            case 5:
                try r.expect(t, .struct, "PageHeader.data_page_header")
                var f: [Int32?] = [nil, nil, nil, nil]
                try r.readStruct { (r, id, t) throws(ThriftError) in
                    if id >= 1 && id <= 4 { f[Int(id) - 1] = try r.i32() } else { try r.skip(t) }
                }
                data = DataPageHeader(
                    numValues: try r.required(f[0], "DataPageHeader.num_values"),
                    encoding: try r.required(f[1], "DataPageHeader.encoding"),
                    definitionLevelEncoding: try r.required(f[2], "DataPageHeader.definition_level_encoding"),
                    repetitionLevelEncoding: try r.required(f[3], "DataPageHeader.repetition_level_encoding")
                )
            case 7:
                try r.expect(t, .struct, "PageHeader.dictionary_page_header")
                var n: Int32?
                var e: Int32?
                try r.readStruct { (r, id, t) throws(ThriftError) in
                    if id == 1 { n = try r.i32() } else if id == 2 { e = try r.i32() } else { try r.skip(t) }
                }
                dict = DictionaryPageHeader(
                    numValues: try r.required(n, "DictionaryPageHeader.num_values"),
                    encoding: try r.required(e, "DictionaryPageHeader.encoding")
                )
            case 8:
                try r.expect(t, .struct, "PageHeader.data_page_header_v2")
                var f: [Int32?] = [nil, nil, nil, nil, nil, nil]
                var compressedFlag = true
                try r.readStruct { (r, id, t) throws(ThriftError) in
                    if id >= 1 && id <= 6 {
                        f[Int(id) - 1] = try r.i32()
                    } else if id == 7 {
                        compressedFlag = t == 1
                    } else {
                        try r.skip(t)
                    }
                }
                v2 = DataPageHeaderV2(
                    numValues: try r.required(f[0], "DataPageHeaderV2.num_values"),
                    numNulls: try r.required(f[1], "DataPageHeaderV2.num_nulls"),
                    numRows: try r.required(f[2], "DataPageHeaderV2.num_rows"),
                    encoding: try r.required(f[3], "DataPageHeaderV2.encoding"),
                    definitionLevelsByteLength: try r.required(f[4], "DataPageHeaderV2.definition_levels_byte_length"),
                    repetitionLevelsByteLength: try r.required(f[5], "DataPageHeaderV2.repetition_levels_byte_length"),
                    isCompressed: compressedFlag
                )
            default: try r.skip(t)
            }
        }
        return PageHeader(
            type: try r.required(type, "PageHeader.type"),
            uncompressedPageSize: try r.required(uncompressed, "PageHeader.uncompressed_page_size"),
            compressedPageSize: try r.required(compressed, "PageHeader.compressed_page_size"),
            dataPage: data,
            dictionaryPage: dict,
            dataPageV2: v2
        )
    }
}
