// Reading a column chunk: page headers, decompression, definition levels, PLAIN and dictionary values.

/// Collects a column's rows across pages and row groups.
struct ColumnAccumulator {
    var present: [Bool] = []
    var values: ParquetColumnValues.Values

    init(_ physical: PhysicalType) {
        switch physical {
        case .boolean: values = .boolean([])
        case .int32: values = .int32([])
        case .int64: values = .int64([])
        case .double: values = .double([])
        default: values = .bytes([])
        }
    }

    var result: ParquetColumnValues { ParquetColumnValues(present: present, values: values) }
}

/// Bounds-checked reads over a page's bytes. Invariant: `0 <= position <= bytes.count`.
struct PageCursor {
    let bytes: [UInt8]
    var position = 0
    var left: Int { bytes.count - position }
}

extension ParquetFile {
    func readChunk(group: Int, column c: Int, into acc: inout ColumnAccumulator) throws(ParquetError) {
        let meta = metadata.rowGroups[group].columns[c].meta!  // checked by checkRowGroups
        let name = columns[c].name
        let physical = PhysicalType(rawValue: meta.type)!
        let optional = columns[c].repetition != Repetition.required.rawValue
        let start = Int(meta.dictionaryPageOffset ?? meta.dataPageOffset)
        let end = start + Int(meta.totalCompressedSize)  // <= footerOffset (checked)
        var position = start
        var remaining = meta.numValues
        var dictionary: ParquetColumnValues.Values?
        var dictionaryCount = 0
        while remaining > 0 {
            guard position < end else {
                throw .corruptPage(
                    path: path,
                    column: name,
                    offset: position,
                    why: "the chunk ends with \(remaining) of \(meta.numValues) values unread"
                )
            }
            let header: PageHeader
            let bodyStart: Int
            do {
                (header, bodyStart) = try bytes.withBytes { (all) throws(ThriftError) in
                    // Safe: position..<end lies inside the file.
                    var r = ThriftCompactReader(UnsafeRawBufferPointer(rebasing: all[position..<end]))
                    let h = try PageHeader.decode(&r)
                    return (h, position + r.position)
                }
            } catch {
                throw .corruptMetadata(
                    path: path,
                    what: "page header of column \(name)",
                    offset: position + error.offset,
                    why: error.why
                )
            }
            let csize = Int(header.compressedPageSize)
            let usize = Int(header.uncompressedPageSize)
            guard csize >= 0, csize <= end - bodyStart else {
                throw .pageBeyondFile(path: path, column: name, offset: position, size: csize, fileSize: bytes.count)
            }
            guard usize >= 0, usize <= Self.maxPageBytes else {
                throw .badField(
                    path: path,
                    what: "column \(name) page at \(position) uncompressed_page_size",
                    value: Int64(usize),
                    why: "not 0…\(Self.maxPageBytes)"
                )
            }
            let body = try pageBody(meta.codec, bodyStart, csize, usize, name, position)
            switch header.type {
            case PageType.dictionaryPage.rawValue:
                guard let d = header.dictionaryPage else {
                    throw .corruptPage(
                        path: path,
                        column: name,
                        offset: position,
                        why: "dictionary page without its header"
                    )
                }
                guard dictionary == nil else {
                    throw .corruptPage(path: path, column: name, offset: position, why: "a second dictionary page")
                }
                guard
                    d.encoding == ParquetEncoding.plain.rawValue
                        || d.encoding == ParquetEncoding.plainDictionary.rawValue
                else { throw .unsupported(path: path, what: "column \(name): dictionary encoding \(d.encoding)") }
                guard d.numValues >= 0 else {
                    throw .badField(
                        path: path,
                        what: "column \(name) dictionary num_values",
                        value: Int64(d.numValues),
                        why: "negative"
                    )
                }
                var cursor = PageCursor(bytes: body)
                dictionary = try plain(physical, count: Int(d.numValues), &cursor, name, position)
                dictionaryCount = Int(d.numValues)
            case PageType.dataPage.rawValue:
                guard let d = header.dataPage else {
                    throw .corruptPage(path: path, column: name, offset: position, why: "data page without its header")
                }
                guard d.numValues >= 0, Int64(d.numValues) <= remaining else {
                    throw .badField(
                        path: path,
                        what: "column \(name) page at \(position) num_values",
                        value: Int64(d.numValues),
                        why: "\(remaining) values of the chunk are left"
                    )
                }
                let n = Int(d.numValues)
                var cursor = PageCursor(bytes: body)
                var presentCount = n
                if optional {
                    guard d.definitionLevelEncoding == ParquetEncoding.rle.rawValue else {
                        throw .unsupported(
                            path: path,
                            what: "column \(name): definition levels encoded \(d.definitionLevelEncoding)"
                        )
                    }
                    let levels = try hybrid(&cursor, lengthPrefixed: true, bitWidth: 1, count: n, name, position)
                    presentCount = 0
                    acc.present.reserveCapacity(acc.present.count + n)
                    for l in levels {
                        acc.present.append(l == 1)
                        if l == 1 { presentCount += 1 }
                    }
                } else {
                    acc.present.append(contentsOf: repeatElement(true, count: n))
                }
                switch d.encoding {
                case ParquetEncoding.plain.rawValue:
                    append(try plain(physical, count: presentCount, &cursor, name, position), to: &acc)
                case ParquetEncoding.rleDictionary.rawValue, ParquetEncoding.plainDictionary.rawValue:
                    guard let dictionary else {
                        throw .corruptPage(
                            path: path,
                            column: name,
                            offset: position,
                            why: "dictionary indices without a dictionary page"
                        )
                    }
                    guard cursor.left >= 1 else {
                        throw .corruptPage(
                            path: path,
                            column: name,
                            offset: position,
                            why: "no bit width for the indices"
                        )
                    }
                    let width = Int(cursor.bytes[cursor.position])
                    cursor.position += 1
                    let idx = try hybrid(
                        &cursor,
                        lengthPrefixed: false,
                        bitWidth: width,
                        count: presentCount,
                        name,
                        position
                    )
                    for i in idx where Int(i) >= dictionaryCount {
                        throw .corruptPage(
                            path: path,
                            column: name,
                            offset: position,
                            why: "dictionary index \(i) beyond the \(dictionaryCount) entries"
                        )
                    }
                    append(gather(dictionary, idx), to: &acc)
                default:
                    throw .unsupported(path: path, what: "column \(name): value encoding \(d.encoding)")
                }
                remaining -= Int64(n)
            case PageType.dataPageV2.rawValue:
                throw .unsupported(path: path, what: "column \(name): data page V2")
            default:
                break  // index pages and unknown kinds are skipped
            }
            position = bodyStart + csize
        }
    }

    /// The page's bytes, decompressed when the chunk is ZSTD.
    func pageBody(
        _ codec: Int32,
        _ start: Int,
        _ csize: Int,
        _ usize: Int,
        _ name: String,
        _ at: Int
    ) throws(ParquetError) -> [UInt8] {
        if codec == ParquetCodec.uncompressed.rawValue {
            guard usize == csize else {
                throw .decompressedSizeMismatch(path: path, column: name, offset: at, expected: usize, actual: csize)
            }
            return Array(bytes[start..<(start + csize)])
        }
        let r = bytes.withUnsafeBytes { all in
            // Safe: start..<start+csize lies inside the chunk (checked by the caller).
            ZstdDecompressor.decompress(UnsafeRawBufferPointer(rebasing: all[start..<(start + csize)]), expected: usize)
        }
        switch r {
        case .success(let b): return b
        case .failure(.size(let actual)):
            throw .decompressedSizeMismatch(path: path, column: name, offset: at, expected: usize, actual: actual)
        case .failure(.corrupt(let why)): throw .decompression(path: path, column: name, offset: at, why: why)
        }
    }

    func hybrid(
        _ cursor: inout PageCursor,
        lengthPrefixed: Bool,
        bitWidth: Int,
        count: Int,
        _ name: String,
        _ at: Int
    ) throws(ParquetError) -> [UInt32] {
        var length = cursor.left
        if lengthPrefixed {
            guard cursor.left >= 4 else {
                throw .corruptPage(path: path, column: name, offset: at, why: "no length for the definition levels")
            }
            let p = cursor.position
            let b = cursor.bytes
            length = Int(UInt32(b[p]) | UInt32(b[p + 1]) << 8 | UInt32(b[p + 2]) << 16 | UInt32(b[p + 3]) << 24)
            cursor.position += 4
            guard length <= cursor.left else {
                throw .corruptPage(
                    path: path,
                    column: name,
                    offset: at,
                    why: "definition levels of \(length) bytes, the page has \(cursor.left) left"
                )
            }
        }
        var out: [UInt32] = []
        // count is bounded by the page's num_values and the chunk's, both checked against the metadata.
        do {
            try cursor.bytes.withBytes { (all) throws(RLEHybridError) in
                let p = cursor.position
                // Safe: p + length <= bytes.count.
                try RLEHybrid.decode(
                    UnsafeRawBufferPointer(rebasing: all[p..<(p + length)]),
                    bitWidth: bitWidth,
                    count: count,
                    into: &out
                )
            }
        } catch {
            throw .corruptPage(
                path: path,
                column: name,
                offset: at,
                why: (lengthPrefixed ? "definition levels: " : "dictionary indices: ") + error.why
            )
        }
        cursor.position += length
        return out
    }

    /// `count` PLAIN values of `physical` from the cursor.
    func plain(
        _ physical: PhysicalType,
        count: Int,
        _ c: inout PageCursor,
        _ name: String,
        _ at: Int
    ) throws(ParquetError) -> ParquetColumnValues.Values {
        func need(_ bytes: Int) throws(ParquetError) {
            guard bytes <= c.left else {
                throw .corruptPage(
                    path: path,
                    column: name,
                    offset: at,
                    why: "\(count) values need \(bytes) bytes, the page has \(c.left)"
                )
            }
        }
        let p = c.position
        switch physical {
        case .boolean:
            try need((count + 7) / 8)
            let out = (0..<count).map { k in c.bytes[p + k / 8] >> UInt8(k % 8) & 1 == 1 }
            c.position += (count + 7) / 8
            return .boolean(out)
        case .int32:
            try need(count.multipliedReportingOverflow(by: 4).overflow ? Int.max : count * 4)
            let out = c.bytes.withUnsafeBytes { b in
                (0..<count).map { k in Int32(littleEndian: b.loadUnaligned(fromByteOffset: p + 4 * k, as: Int32.self)) }
            }
            c.position += count * 4
            return .int32(out)
        case .int64, .double:
            try need(count.multipliedReportingOverflow(by: 8).overflow ? Int.max : count * 8)
            let out = c.bytes.withUnsafeBytes { b in
                (0..<count).map { k in Int64(littleEndian: b.loadUnaligned(fromByteOffset: p + 8 * k, as: Int64.self)) }
            }
            c.position += count * 8
            return physical == .int64 ? .int64(out) : .double(out.map { Double(bitPattern: UInt64(bitPattern: $0)) })
        case .byteArray:
            // Each value has a 4-byte length: count values need at least 4 × count bytes.
            try need(count.multipliedReportingOverflow(by: 4).overflow ? Int.max : count * 4)
            var out: [[UInt8]] = []
            out.reserveCapacity(count)
            for _ in 0..<count {
                try need(4)
                let q = c.position
                let n = Int(
                    UInt32(c.bytes[q]) | UInt32(c.bytes[q + 1]) << 8 | UInt32(c.bytes[q + 2]) << 16 | UInt32(
                        c.bytes[q + 3]
                    ) << 24
                )
                c.position += 4
                guard n <= c.left else {
                    throw .corruptPage(
                        path: path,
                        column: name,
                        offset: at,
                        why: "a byte array of \(n) bytes, the page has \(c.left) left"
                    )
                }
                out.append(Array(c.bytes[c.position..<(c.position + n)]))
                c.position += n
            }
            return .bytes(out)
        default:
            throw .unsupported(path: path, what: "column \(name): physical type \(physical)")
        }
    }

    func gather(_ dictionary: ParquetColumnValues.Values, _ idx: [UInt32]) -> ParquetColumnValues.Values {
        switch dictionary {
        case .boolean(let d): return .boolean(idx.map { d[Int($0)] })
        case .int32(let d): return .int32(idx.map { d[Int($0)] })
        case .int64(let d): return .int64(idx.map { d[Int($0)] })
        case .double(let d): return .double(idx.map { d[Int($0)] })
        case .bytes(let d): return .bytes(idx.map { d[Int($0)] })
        }
    }

    func append(_ v: ParquetColumnValues.Values, to acc: inout ColumnAccumulator) {
        switch (acc.values, v) {
        case (.boolean(var a), .boolean(let b)):
            a.append(contentsOf: b)
            acc.values = .boolean(a)
        case (.int32(var a), .int32(let b)):
            a.append(contentsOf: b)
            acc.values = .int32(a)
        case (.int64(var a), .int64(let b)):
            a.append(contentsOf: b)
            acc.values = .int64(a)
        case (.double(var a), .double(let b)):
            a.append(contentsOf: b)
            acc.values = .double(a)
        case (.bytes(var a), .bytes(let b)):
            a.append(contentsOf: b)
            acc.values = .bytes(a)
        default: break  // the same physical type on both sides (one column)
        }
    }
}
