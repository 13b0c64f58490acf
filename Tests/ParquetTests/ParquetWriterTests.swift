import Foundation
import Parquet
import TestSupport
import Testing

/// The writer against the real readers: a file with every column type, nulls, dictionary and PLAIN
/// chunks over several row groups reads back equal with pyarrow, DuckDB and polars, pyarrow's
/// metadata shows ZSTD and exact statistics, and TickBus's own reader returns the same values.
@Suite struct ParquetWriterTests {
    /// Deterministic rows: column k of row i is null with probability ~1/5.
    struct Sample {
        var i64: [Int64?] = []
        var u64: [UInt64?] = []
        var i32: [Int32?] = []
        var f64: [Double?] = []
        var flag: [Bool?] = []
        var text: [String?] = []
        var ts: [Int64?] = []
        var words: [String?] = []

        init(rows: Int, seed: UInt64) {
            var r = SplitMix64(seed: seed)
            let vocabulary = ["add", "execute", "cancel", "delete", "replace", "trade", "top", "ünïcode"]
            for i in 0..<rows {
                func maybe<T>(_ v: T) -> T? { r.below(5) == 0 ? nil : v }
                i64.append(maybe(Int64(bitPattern: r.next()) >> Int64(r.below(60))))
                u64.append(maybe(i % 7 == 0 ? UInt64.max - UInt64(r.below(3)) : r.next() >> 40))
                i32.append(maybe(Int32(r.below(40)) - 20))  // low cardinality: a dictionary
                let specials = [Double.nan, -0.0, 0.0, .infinity, -1e300, Double.leastNonzeroMagnitude]
                f64.append(maybe(i % 11 == 0 ? specials[r.below(specials.count)] : Double(Int64(r.next() >> 12)) / 1e4))
                flag.append(maybe(r.below(2) == 0))
                text.append(maybe("sym\(r.below(10_000))"))
                ts.append(maybe(1_340_236_800_000_000_000 + Int64(i) * 1_000_003))
                words.append(maybe(vocabulary[r.below(vocabulary.count)]))
            }
        }

        static let columns: [ParquetColumn] = [
            .int64("i64"), .uint64("u64", dictionary: .auto), .int32("i32"), .double("f64"), .bool("flag"),
            .string("text"), .timestampNanos("ts"), .string("words"),
        ]

        func write(_ path: String, rowGroupRows: Int, compress: Bool = true) throws {
            var o = ParquetWriter.Options()
            o.rowGroupRows = rowGroupRows
            o.compress = compress
            let w = try ParquetWriter(path: path, columns: Self.columns, options: o)
            for k in 0..<i64.count {
                if let v = i64[k] { w.int64(0, v) }
                if let v = u64[k] { w.uint64(1, v) }
                if let v = i32[k] { w.int32(2, v) }
                if let v = f64[k] { w.double(3, v) }
                if let v = flag[k] { w.bool(4, v) }
                if let v = text[k] { w.string(5, v) }
                if let v = ts[k] { w.int64(6, v) }
                if let v = words[k] { w.string(7, v) }
                try w.endRow()
            }
            try w.close(keyValues: [("tickbus.test", "sample"), ("tickbus.rows", "\(i64.count)")])
        }

        /// The expected values as JSON (unsigned values as Python ints, timestamps as ns).
        var json: String {
            func list<T>(_ v: [T?], _ f: (T) -> String) -> String {
                "[" + v.map { $0.map(f) ?? "null" }.joined(separator: ",") + "]"
            }
            return "{"
                + [
                    "\"i64\":" + list(i64) { "\($0)" }, "\"u64\":" + list(u64) { "\($0)" },
                    "\"i32\":" + list(i32) { "\($0)" }, "\"f64\":" + list(f64, jsonNumber),
                    "\"flag\":" + list(flag) { "\($0)" }, "\"text\":" + list(text, jsonString),
                    "\"ts\":" + list(ts) { "\($0)" }, "\"words\":" + list(words, jsonString),
                ].joined(separator: ",") + "}"
        }
    }

    @Test("pyarrow, DuckDB and polars read every column, row for row; metadata shows ZSTD and statistics")
    func realReadersAgree() throws {
        let dir = TickBusTest.temporaryDirectory("parquet-writer")
        defer { removeDirectory(dir) }
        let sample = Sample(rows: 2_500, seed: 15)
        let path = dir.appendingPathComponent("sample.parquet").path
        try sample.write(path, rowGroupRows: 1_000)
        let expected = dir.appendingPathComponent("expected.json")
        try sample.json.write(to: expected, atomically: true, encoding: .utf8)
        let r = try pythonReaders(["expect", path, expected.path])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("pyarrow: ok") && r.stdout.contains("duckdb: ok") && r.stdout.contains("polars: ok"))

        let m = try pythonReaders(["metadata", path])
        #expect(m.status == 0, "\(m.stderr)")
        let meta = try JSONSerialization.jsonObject(with: Data(m.stdout.utf8)) as! [String: Any]
        #expect(meta["rows"] as? Int == 2_500)
        let groups = meta["row_groups"] as! [[String: Any]]
        #expect(groups.map { $0["rows"] as! Int } == [1_000, 1_000, 500])
        #expect((meta["key_value"] as! [String: String])["tickbus.test"] == "sample")
        for (g, group) in groups.enumerated() {
            let range = (g * 1_000)..<min((g + 1) * 1_000, 2_500)
            for col in group["columns"] as! [[String: Any]] {
                let name = col["path"] as! String
                #expect(col["compression"] as? String == "ZSTD", "\(name)")
                #expect(col["has_min_max"] as? Bool == true, "\(name)")
                let nulls = col["null_count"] as? Int
                switch name {
                case "i64":
                    let v = sample.i64[range].compactMap { $0 }
                    #expect(nulls == range.count - v.count)
                    #expect(Int64(col["min"] as! String) == v.min()!)
                    #expect(Int64(col["max"] as! String) == v.max()!)
                case "u64":
                    let v = sample.u64[range].compactMap { $0 }
                    #expect(UInt64(col["min"] as! String) == v.min()!)
                    #expect(UInt64(col["max"] as! String) == v.max()!, "unsigned order")
                case "i32":
                    let v = sample.i32[range].compactMap { $0 }
                    #expect(Int32(col["min"] as! String) == v.min()!)
                    #expect((col["encodings"] as! [String]).contains("RLE_DICTIONARY"), "low cardinality: dictionary")
                case "words":
                    let v = sample.words[range].compactMap { $0 }
                    #expect(col["min"] as? String == v.min()!)
                    #expect(col["max"] as? String == v.max()!, "bytewise order")
                    #expect(col["has_dictionary_page"] as? Bool == true)
                case "f64":
                    let v = sample.f64[range].compactMap { $0 }.filter { !$0.isNaN }
                    #expect(Double(col["max"] as! String) == v.max()!)
                default: break
                }
            }
        }
    }

    @Test("TickBus's reader returns what it wrote: compressed and not, one row group and many")
    func ownRoundTrip() throws {
        let dir = TickBusTest.temporaryDirectory("parquet-roundtrip")
        defer { removeDirectory(dir) }
        let sample = Sample(rows: 3_001, seed: 77)
        for (rows, compress) in [(1, true), (1_000, false), (65_536, true)] {
            let path = dir.appendingPathComponent("s-\(rows)-\(compress).parquet").path
            try sample.write(path, rowGroupRows: rows, compress: compress)
            let f = try ParquetFile(path: path)
            #expect(f.metadata.numRows == 3_001)
            #expect(f.columns.map(\.name) == ParquetWriterTests.Sample.columns.map(\.name))
            func check<T: Equatable>(_ name: String, _ want: [T?], _ get: (ParquetColumnValues.Values) -> [T]?) throws {
                let c = try f.read(column: name)
                var it = (get(c.values) ?? []).makeIterator()
                let got: [T?] = c.present.map { $0 ? it.next() : nil }
                #expect(got == want, "\(name) rows=\(rows)")
            }
            try check("i64", sample.i64) { if case .int64(let v) = $0 { v } else { nil } }
            try check("u64", sample.u64.map { $0.map { Int64(bitPattern: $0) } }) {
                if case .int64(let v) = $0 { v } else { nil }
            }
            try check("i32", sample.i32) { if case .int32(let v) = $0 { v } else { nil } }
            try check("f64", sample.f64.map { $0?.bitPattern }) {
                if case .double(let v) = $0 { v.map(\.bitPattern) } else { nil }
            }
            try check("flag", sample.flag) { if case .boolean(let v) = $0 { v } else { nil } }
            try check("text", sample.text) {
                if case .bytes(let v) = $0 { v.map { String(decoding: $0, as: UTF8.self) } } else { nil }
            }
            try check("words", sample.words) {
                if case .bytes(let v) = $0 { v.map { String(decoding: $0, as: UTF8.self) } } else { nil }
            }
        }
    }
}

/// TickBus's reader on files of an independent writer: pyarrow's, ZSTD and uncompressed, dictionary and PLAIN.
@Suite struct ParquetReaderOfPyarrowTests {
    @Test("pyarrow's files read back to the values pyarrow wrote")
    func readsPyarrow() throws {
        let dir = TickBusTest.temporaryDirectory("parquet-pyarrow")
        defer { removeDirectory(dir) }
        let w = try pythonReaders(["pyarrow-write", dir.path])
        #expect(w.status == 0, "\(w.stderr)")
        let expected =
            try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("expected.json")))
            as! [String: [Any]]
        for name in ["zstd-dict", "zstd-plain", "none-dict", "none-plain"] {
            let f = try ParquetFile(path: dir.appendingPathComponent("\(name).parquet").path)
            #expect(f.metadata.rowGroups.count == 3, "\(name)")
            for (column, want) in expected {
                let c = try f.read(column: column)
                var got: [String] = []
                var k = 0
                for p in c.present {
                    guard p else {
                        got.append("null")
                        continue
                    }
                    switch c.values {
                    case .int64(let v): got.append("\(v[k])")
                    case .int32(let v): got.append("\(v[k])")
                    case .double(let v): got.append("\(v[k])")
                    case .boolean(let v): got.append("\(v[k])")
                    case .bytes(let v): got.append(String(decoding: v[k], as: UTF8.self))
                    }
                    k += 1
                }
                let text: [String] = want.map { v in
                    if v is NSNull { return "null" }
                    if column == "b" { return (v as! NSNumber).boolValue ? "true" : "false" }
                    if column == "d" { return "\((v as! NSNumber).doubleValue)" }
                    if column == "s" { return v as! String }
                    return "\((v as! NSNumber).int64Value)"
                }
                #expect(got == text, "\(name) column \(column)")
            }
        }
    }
}

/// Misuse of the writer is an error naming the column and the row, not a corrupt file.
@Suite struct ParquetWriterMisuseTests {
    @Test("a column set twice in a row is refused when its row group is written")
    func setTwice() throws {
        let dir = TickBusTest.temporaryDirectory("parquet-misuse")
        defer { removeDirectory(dir) }
        let path = dir.appendingPathComponent("m.parquet").path
        let w = try ParquetWriter(path: path, columns: [.int64("a"), .string("b")])
        w.int64(0, 1)
        try w.endRow()
        w.string(1, "x")
        w.string(1, "y")
        try w.endRow()
        #expect(throws: ParquetError.self) { try w.close() }
        do { try w.close() } catch { #expect("\(error)".contains("column b set twice in row 1"), "\(error)") }
        #expect(!FileManager.default.fileExists(atPath: path), "no file is left under the final name")
    }
}
