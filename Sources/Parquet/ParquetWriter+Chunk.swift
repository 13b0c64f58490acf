// Encoding one column chunk: statistics, the optional dictionary page, the data page.

extension ParquetWriter {
    /// A dictionary chosen for a chunk: its PLAIN-encoded entries, their count and each value's index.
    struct ChosenDictionary {
        var plain: [UInt8]
        var count: Int
        var indices: [UInt32]
    }

    func writeChunk(_ c: Int, _ d: ColumnData) throws(ParquetError) -> ColumnChunk {
        let column = columns[c]
        let values = d.valueCount
        var stats = Statistics()
        stats.nullCount = Int64(rows - values)
        let dictionary = column.dictionary == .auto && values > 0 ? chooseDictionary(column, d) : nil
        if let dictionary {
            // Statistics over the dictionary's entries: the same extremes, fewer comparisons.
            plainStatistics(column, dictionary.plain, count: dictionary.count, into: &stats)
        } else {
            statistics(column, d, into: &stats)
        }
        var chunkStart: Int64 = offset
        var dictionaryOffset: Int64?
        var uncompressedTotal: Int64 = 0
        var encodings: [Int32] = [ParquetEncoding.rle.rawValue]

        if let dictionary {
            dictionaryOffset = offset
            let (_, u) = try writePage(
                column,
                body: dictionary.plain,
                header: { size, csize in
                    PageHeader(
                        type: PageType.dictionaryPage.rawValue,
                        uncompressedPageSize: size,
                        compressedPageSize: csize,
                        dictionaryPage: DictionaryPageHeader(
                            numValues: Int32(dictionary.count),
                            encoding: ParquetEncoding.plain.rawValue
                        )
                    )
                }
            )
            uncompressedTotal += u
            encodings.append(ParquetEncoding.plain.rawValue)
        }
        chunkStart = dictionaryOffset ?? offset

        // The data page: definition levels (4-byte length, hybrid, bit width 1), then the values.
        page.removeAll(keepingCapacity: true)
        page.append(contentsOf: [0, 0, 0, 0])
        d.defs.withUnsafeBufferPointer { RLEHybrid.encode($0, bitWidth: 1, into: &page) }
        let levelBytes = UInt32(page.count - 4)
        for k in 0..<4 { page[k] = UInt8(truncatingIfNeeded: levelBytes >> (8 * UInt32(k))) }
        let valueEncoding: ParquetEncoding
        if let dictionary {
            let width = RLEHybrid.bitWidth(UInt32(max(dictionary.count - 1, 0)))
            page.append(UInt8(width))
            dictionary.indices.withUnsafeBufferPointer { RLEHybrid.encode($0, bitWidth: width, into: &page) }
            valueEncoding = .rleDictionary
        } else {
            appendPlain(column, d, into: &page)
            valueEncoding = .plain
        }
        encodings.append(valueEncoding.rawValue)
        let dataOffset = offset
        let rowsInPage = Int32(rows)
        let body = page
        let (_, u) = try writePage(
            column,
            body: body,
            header: { size, csize in
                PageHeader(
                    type: PageType.dataPage.rawValue,
                    uncompressedPageSize: size,
                    compressedPageSize: csize,
                    dataPage: DataPageHeader(
                        numValues: rowsInPage,
                        encoding: valueEncoding.rawValue,
                        definitionLevelEncoding: ParquetEncoding.rle.rawValue,
                        repetitionLevelEncoding: ParquetEncoding.rle.rawValue
                    )
                )
            }
        )
        uncompressedTotal += u
        let meta = ColumnMetaData(
            type: column.physical.rawValue,
            encodings: encodings,
            path: [column.name],
            codec: options.compress ? ParquetCodec.zstd.rawValue : ParquetCodec.uncompressed.rawValue,
            numValues: Int64(rows),
            totalUncompressedSize: uncompressedTotal,
            totalCompressedSize: offset - chunkStart,
            dataPageOffset: dataOffset,
            dictionaryPageOffset: dictionaryOffset,
            statistics: stats
        )
        return ColumnChunk(fileOffset: chunkStart, meta: meta)
    }

    /// Compresses `body`, writes its header and the compressed bytes.
    /// - Returns: the bytes written and the uncompressed size (header included), as the metadata counts them.
    func writePage(
        _ column: ParquetColumn,
        body: [UInt8],
        header: (Int32, Int32) -> PageHeader
    ) throws(ParquetError) -> (Int64, Int64) {
        guard body.count < Int(Int32.max) else {
            throw .misuse("column \(column.name): a page of \(body.count) bytes; use smaller row groups")
        }
        let start = offset
        if options.compress {
            try body.withBytes { (b) throws(ParquetError) in try zstd.compress(b, into: &compressed) }
            let h = header(Int32(body.count), Int32(compressed.count)).encode()
            append(h)
            compressed.withUnsafeBytes { append($0) }
            return (offset - start, Int64(h.count + body.count))
        }
        let h = header(Int32(body.count), Int32(body.count)).encode()
        append(h)
        append(body)
        return (offset - start, Int64(h.count + body.count))
    }

    /// A dictionary for the chunk when it has few distinct values, else nil.
    func chooseDictionary(_ column: ParquetColumn, _ d: ColumnData) -> ChosenDictionary? {
        let limit = min(options.maxDictionary, max(16, d.valueCount / 8))
        switch column.physical {
        case .int32:
            guard let (dict, idx) = DictionaryBuilder.integers(d.i32, limit: limit) else { return nil }
            var plain: [UInt8] = []
            plain.reserveCapacity(dict.count * 4)
            for v in dict { withUnsafeBytes(of: v.littleEndian) { plain.append(contentsOf: $0) } }
            return ChosenDictionary(plain: plain, count: dict.count, indices: idx)
        case .int64:
            guard let (dict, idx) = DictionaryBuilder.integers(d.i64, limit: limit) else { return nil }
            var plain: [UInt8] = []
            plain.reserveCapacity(dict.count * 8)
            for v in dict { withUnsafeBytes(of: v.littleEndian) { plain.append(contentsOf: $0) } }
            return ChosenDictionary(plain: plain, count: dict.count, indices: idx)
        case .byteArray:
            guard let (firsts, idx) = DictionaryBuilder.strings(bytes: d.bytes, ends: d.ends, limit: limit) else {
                return nil
            }
            var plain: [UInt8] = []
            for f in firsts {
                let s = f == 0 ? 0 : d.ends[f - 1]
                let e = d.ends[f]
                withUnsafeBytes(of: UInt32(e - s).littleEndian) { plain.append(contentsOf: $0) }
                plain.append(contentsOf: d.bytes[s..<e])
            }
            return ChosenDictionary(plain: plain, count: firsts.count, indices: idx)
        default:
            return nil
        }
    }

    /// Appends the PLAIN encoding of the chunk's values.
    func appendPlain(_ column: ParquetColumn, _ d: ColumnData, into page: inout [UInt8]) {
        switch column.physical {
        case .int32: d.i32.withUnsafeBytes { page.append(contentsOf: $0) }  // little-endian host
        case .int64: d.i64.withUnsafeBytes { page.append(contentsOf: $0) }
        case .double: d.f64.withUnsafeBytes { page.append(contentsOf: $0) }
        case .boolean:
            // PLAIN booleans: one bit each, least significant first.
            var acc: UInt8 = 0
            for (k, b) in d.bools.enumerated() {
                acc |= b << UInt8(k & 7)
                if k & 7 == 7 {
                    page.append(acc)
                    acc = 0
                }
            }
            if d.bools.count & 7 != 0 { page.append(acc) }
        default:
            var s = 0
            for e in d.ends {
                withUnsafeBytes(of: UInt32(e - s).littleEndian) { page.append(contentsOf: $0) }
                page.append(contentsOf: d.bytes[s..<e])
                s = e
            }
        }
    }
}
