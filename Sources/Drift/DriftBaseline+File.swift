#if canImport(Glibc)
import Glibc
#endif

/// The baseline file (`.tbbaseline`), version 1: little-endian, a 128-byte header, then one
/// record per column (layout in Docs/DRIFT.md, "Baseline file"). The reader checks every field
/// before it uses it — sizes against the bytes that are there (so no count drives an allocation
/// beyond the file), then the values — and recomputes everything derived from the sample (edges,
/// bin counts, moments, categories), refusing a file whose stored values differ. A refusal names
/// the field and its byte offset.
extension DriftBaseline {
    /// "TBDRIFTB".
    public static let magic: [UInt8] = Array("TBDRIFTB".utf8)
    public static let formatVersion: UInt32 = 1
    public static let headerSize = 128
    /// Fixed part of a column record, before its name.
    static let columnFixedSize = 56
    /// The longest column name (bytes).
    public static let maxNameLength = 1024

    /// Reads and checks a baseline file.
    /// - Throws: `DriftError.io` (cannot read), `.format` (the field, its offset, what is wrong).
    public init(contentsOf path: String) throws(DriftError) {
        try self.init(bytes: try BaselineIO.read(path), path: path)
    }

    /// Checks and decodes a baseline file's bytes; `path` names the source in errors.
    public init(bytes: [UInt8], path: String) throws(DriftError) {
        let r = BaselineReader(bytes: bytes, path: path)
        guard bytes.count >= Self.headerSize else {
            throw r.error("header", 0, "the file has \(bytes.count) bytes, a header needs \(Self.headerSize)")
        }
        guard Array(bytes[0..<8]) == Self.magic else { throw r.error("magic", 0, "not a TickBus drift baseline") }
        let version = r.u32(8)
        guard version == Self.formatVersion else {
            throw r.error("version", 8, "version \(version), this reader reads \(Self.formatVersion)")
        }
        guard r.u32(12) == UInt32(Self.headerSize) else {
            throw r.error("header_size", 12, "\(r.u32(12)), expected \(Self.headerSize)")
        }
        guard r.u64(16) == UInt64(bytes.count) else {
            throw r.error("file_size", 16, "the header says \(r.u64(16)) bytes, the file has \(bytes.count)")
        }
        let columnCount = Int(r.u32(24))
        let featureCount = Int(r.u32(28))
        guard featureCount >= 1 else { throw r.error("feature_count", 28, "no feature") }
        guard columnCount == featureCount || columnCount == featureCount + 1 else {
            throw r.error(
                "column_count",
                24,
                "\(columnCount) columns for \(featureCount) features (features [+ prediction])"
            )
        }
        let seed = r.u64(32)
        let maxSample = r.u64(40)
        guard maxSample >= 1, maxSample <= UInt64(Int.max) else {
            throw r.error("max_sample", 40, "\(maxSample) is not a sample size")
        }
        let tableRows = r.u64(48)
        let sampleRows = r.u64(56)
        guard sampleRows >= 1, sampleRows == min(tableRows, maxSample) else {
            throw r.error(
                "sample_rows",
                56,
                "\(sampleRows) rows in the sample of a table of \(tableRows) rows limited to \(maxSample)"
            )
        }
        let hash = bytes[64..<96].map { byte in
            let digits = Array("0123456789abcdef".utf8)
            return String(decoding: [digits[Int(byte >> 4)], digits[Int(byte & 15)]], as: UTF8.self)
        }.joined()
        for i in 96..<128 where bytes[i] != 0 { throw r.error("reserved", i, "must be zero") }

        var columns: [ColumnBaseline] = []
        var names: [String] = []
        var offset = Self.headerSize
        for index in 0..<columnCount {
            let column = try r.column(at: &offset, index: index, sampleRows: sampleRows)
            if names.contains(column.name) {
                throw r.error("column \(index) name", offset, "'\(column.name)' appears twice")
            }
            if index == featureCount && column.name != Self.predictionColumn {
                throw r.error(
                    "column \(index) name",
                    offset,
                    "the column after the \(featureCount) features must be '\(Self.predictionColumn)', not '\(column.name)'"
                )
            }
            if index == featureCount && column.kind != .numeric {
                throw r.error("column \(index) kind", offset, "the prediction is numeric")
            }
            names.append(column.name)
            columns.append(column)
        }
        guard offset == bytes.count else {
            throw r.error("end", offset, "\(bytes.count - offset) bytes after the last column")
        }
        self.init(
            columns: columns,
            definitionHash: hash,
            featureNames: Array(names.prefix(featureCount)),
            seed: seed,
            maxSample: Int(maxSample),
            tableRows: tableRows,
            sampleRows: sampleRows
        )
    }

    /// The file's bytes.
    /// - Throws: `DriftError.invalid` when the baseline cannot be written as a valid file (a hash
    ///   that is not 64 hex digits, a name too long, columns that do not match the feature names).
    public func encoded() throws(DriftError) -> [UInt8] {
        let hashBytes = try BaselineIO.hexBytes(definitionHash)
        guard !featureNames.isEmpty,
            columns.count == featureNames.count || columns.count == featureNames.count + 1,
            zip(columns, featureNames).allSatisfy({ $0.name == $1 })
        else {
            throw .invalid("drift baseline: the columns do not start with the \(featureNames.count) feature names")
        }
        var w = BaselineWriter()
        w.bytes.append(contentsOf: Self.magic)
        w.u32(Self.formatVersion)
        w.u32(UInt32(Self.headerSize))
        w.u64(0)  // file size, set below
        w.u32(UInt32(columns.count))
        w.u32(UInt32(featureNames.count))
        w.u64(seed)
        w.u64(UInt64(maxSample))
        w.u64(tableRows)
        w.u64(sampleRows)
        w.bytes.append(contentsOf: hashBytes)
        w.bytes.append(contentsOf: [UInt8](repeating: 0, count: 32))
        for c in columns {
            let name = Array(c.name.utf8)
            guard !name.isEmpty, name.count <= Self.maxNameLength else {
                throw .invalid("drift baseline: column name '\(c.name)' must have 1...\(Self.maxNameLength) bytes")
            }
            let padded = (name.count + 7) & ~7
            let size =
                Self.columnFixedSize + padded + 8 * c.edges.count + 8 * c.binCounts.count + 16
                * c.categoryValues.count + 8 * c.sortedSample.count
            w.u64(UInt64(size))
            w.bytes.append(c.kind.rawValue)
            w.bytes.append(contentsOf: [0, 0, 0])
            w.u32(UInt32(name.count))
            w.u32(UInt32(c.edges.count))
            w.u32(UInt32(c.categoryValues.count))
            w.u64(UInt64(c.sortedSample.count))
            w.u64(c.nanCount)
            w.f64(c.mean)
            w.f64(c.std)
            w.bytes.append(contentsOf: name)
            w.bytes.append(contentsOf: [UInt8](repeating: 0, count: padded - name.count))
            for e in c.edges { w.f64(e) }
            for b in c.binCounts { w.u64(b) }
            for (v, n) in zip(c.categoryValues, c.categoryCounts) {
                w.f64(v)
                w.u64(n)
            }
            for v in c.sortedSample { w.f64(v) }
        }
        w.set(u64: UInt64(w.bytes.count), at: 16)
        return w.bytes
    }

    /// Writes the file (a temporary file beside it, then a rename: a reader sees the old file or
    /// the new one, never part of it).
    public func write(to path: String) throws(DriftError) {
        try BaselineIO.writeAtomically(try encoded(), to: path)
    }
}

/// Bounds-checked little-endian reads of a baseline file's bytes, and its column records.
struct BaselineReader {
    let bytes: [UInt8]
    let path: String

    func error(_ field: String, _ offset: Int, _ message: String) -> DriftError {
        .format(path: path, field: field, offset: offset, message: message)
    }

    /// The caller has checked `offset + 8 <= bytes.count`.
    func u64(_ offset: Int) -> UInt64 {
        var v: UInt64 = 0
        for i in 0..<8 { v |= UInt64(bytes[offset + i]) << (8 * i) }
        return v
    }

    func u32(_ offset: Int) -> UInt32 {
        var v: UInt32 = 0
        for i in 0..<4 { v |= UInt32(bytes[offset + i]) << (8 * i) }
        return v
    }

    func f64(_ offset: Int) -> Double { Double(bitPattern: u64(offset)) }

    /// `count` 8-byte words from `offset` (checked to be inside the record by the caller).
    func words(_ offset: Int, _ count: Int) -> [UInt64] {
        var out = [UInt64](repeating: 0, count: count)
        for i in 0..<count { out[i] = u64(offset + 8 * i) }
        return out
    }

    /// Reads and checks the column record at `offset`, moving it past the record.
    func column(at offset: inout Int, index: Int, sampleRows: UInt64) throws(DriftError) -> ColumnBaseline {
        let start = offset
        let field = "column \(index)"
        let remaining = bytes.count - start
        guard remaining >= DriftBaseline.columnFixedSize else {
            throw error("\(field) record", start, "\(remaining) bytes left, a column record needs at least 56")
        }
        let recordSize = u64(start)
        guard recordSize <= UInt64(remaining), recordSize >= UInt64(DriftBaseline.columnFixedSize),
            recordSize % 8 == 0
        else {
            throw error("\(field) record_size", start, "\(recordSize) (\(remaining) bytes left, a multiple of 8 ≥ 56)")
        }
        guard let kind = DriftColumnKind(rawValue: bytes[start + 8]) else {
            throw error("\(field) kind", start + 8, "\(bytes[start + 8]) (0 numeric, 1 categorical)")
        }
        for i in 9..<12 where bytes[start + i] != 0 { throw error("\(field) reserved", start + i, "must be zero") }
        let nameLength = Int(u32(start + 12))
        guard nameLength >= 1, nameLength <= DriftBaseline.maxNameLength else {
            throw error("\(field) name_length", start + 12, "\(nameLength) (1...\(DriftBaseline.maxNameLength))")
        }
        let edgeCount = Int(u32(start + 16))
        guard edgeCount <= Bins.levels.count else {
            throw error(
                "\(field) edge_count",
                start + 16,
                "\(edgeCount) edges, deciles give at most \(Bins.levels.count)"
            )
        }
        let categoryCount = u32(start + 20)
        let valueCount = u64(start + 24)
        let nanCount = u64(start + 32)
        guard valueCount <= sampleRows, nanCount == sampleRows - valueCount else {
            throw error(
                "\(field) value_count",
                start + 24,
                "\(valueCount) values and \(nanCount) NaN in a sample of \(sampleRows) rows"
            )
        }
        guard kind == .categorical || categoryCount == 0 else {
            throw error("\(field) category_count", start + 20, "\(categoryCount) categories in a numeric column")
        }
        guard UInt64(categoryCount) <= valueCount else {
            throw error("\(field) category_count", start + 20, "\(categoryCount) categories for \(valueCount) values")
        }
        // Every count is now bounded by the sample, itself bounded below by the record size.
        let padded = (nameLength + 7) & ~7
        let (samples, overflow) = valueCount.multipliedReportingOverflow(by: 8)
        let fixed =
            UInt64(DriftBaseline.columnFixedSize + padded + 8 * edgeCount + 8 * (edgeCount + 2))
            + 16 * UInt64(categoryCount)
        guard !overflow, samples <= recordSize, fixed + samples == recordSize else {
            throw error(
                "\(field) record_size",
                start,
                "\(recordSize) bytes, the counts (\(edgeCount) edges, \(categoryCount) categories, \(valueCount) values) "
                    + "need \(overflow ? "more than 2^64" : String(fixed &+ samples))"
            )
        }
        let nameStart = start + DriftBaseline.columnFixedSize
        guard let name = String(validating: bytes[nameStart..<(nameStart + nameLength)], as: UTF8.self) else {
            throw error("\(field) name", nameStart, "not UTF-8")
        }
        for i in (nameStart + nameLength)..<(nameStart + padded) where bytes[i] != 0 {
            throw error("\(field) name padding", i, "must be zero")
        }
        let edgesAt = nameStart + padded
        let binsAt = edgesAt + 8 * edgeCount
        let categoriesAt = binsAt + 8 * (edgeCount + 2)
        let sampleAt = categoriesAt + 16 * Int(categoryCount)
        let n = Int(valueCount)
        var sorted = [Double](repeating: 0, count: n)
        for i in 0..<n {
            let v = f64(sampleAt + 8 * i)
            guard !v.isNaN else { throw error("\(field) '\(name)' sample", sampleAt + 8 * i, "NaN in the values") }
            guard i == 0 || sorted[i - 1] <= v else {
                throw error("\(field) '\(name)' sample", sampleAt + 8 * i, "values not ascending")
            }
            sorted[i] = v
        }
        // Everything else is derived from the sample: recompute and compare.
        let derived = ColumnBaseline(name: name, kind: kind, sorted: sorted, nanCount: nanCount)
        let edges = words(edgesAt, edgeCount)
        guard edges == derived.edges.map(\.bitPattern) else {
            throw error("\(field) '\(name)' edges", edgesAt, "not the deciles of the sample")
        }
        guard words(binsAt, edgeCount + 2) == derived.binCounts else {
            throw error("\(field) '\(name)' bin_counts", binsAt, "not the sample's counts per bin")
        }
        guard u64(start + 40) == derived.mean.bitPattern else {
            throw error("\(field) '\(name)' mean", start + 40, "\(f64(start + 40)), the sample's is \(derived.mean)")
        }
        guard u64(start + 48) == derived.std.bitPattern else {
            throw error("\(field) '\(name)' std", start + 48, "\(f64(start + 48)), the sample's is \(derived.std)")
        }
        let pairs = words(categoriesAt, 2 * Int(categoryCount))
        let stored = stride(from: 0, to: pairs.count, by: 2).map { (pairs[$0], pairs[$0 + 1]) }
        let expected = zip(derived.categoryValues.map(\.bitPattern), derived.categoryCounts).map { ($0, $1) }
        guard stored.elementsEqual(expected, by: { $0.0 == $1.0 && $0.1 == $1.1 }) else {
            throw error("\(field) '\(name)' categories", categoriesAt, "not the sample's categories and counts")
        }
        offset = start + Int(recordSize)
        return derived
    }
}

/// Little-endian appends.
struct BaselineWriter {
    var bytes: [UInt8] = []
    mutating func u32(_ v: UInt32) { for i in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * i))) } }
    mutating func u64(_ v: UInt64) { for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * i))) } }
    mutating func f64(_ v: Double) { u64(v.bitPattern) }
    mutating func set(u64 v: UInt64, at offset: Int) {
        for i in 0..<8 { bytes[offset + i] = UInt8(truncatingIfNeeded: v >> (8 * i)) }
    }
}

/// Whole-file reads and atomic writes (POSIX, no Foundation), and the hash's hex form.
enum BaselineIO {
    static func read(_ path: String) throws(DriftError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .io(path: path, operation: "open", errno: errno) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw .io(path: path, operation: "stat", errno: errno) }
        guard st.st_mode & S_IFMT == S_IFREG else { throw .io(path: path, operation: "read", errno: EISDIR) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Int(st.st_size))
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .io(path: path, operation: "read", errno: errno)
            }
            if n == 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
        }
        return bytes
    }

    static func writeAtomically(_ bytes: [UInt8], to path: String) throws(DriftError) {
        let temporary = path + ".tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .io(path: temporary, operation: "create", errno: errno) }
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + written, $0.count - written) }
            if n < 0 {
                if errno == EINTR { continue }
                let e = errno
                close(fd)
                unlink(temporary)
                throw .io(path: temporary, operation: "write", errno: e)
            }
            written += n
        }
        if close(fd) != 0 {
            let e = errno
            unlink(temporary)
            throw .io(path: temporary, operation: "close", errno: e)
        }
        if rename(temporary, path) != 0 {
            let e = errno
            unlink(temporary)
            throw .io(path: path, operation: "rename into", errno: e)
        }
    }

    /// 64 lowercase hex digits → 32 bytes.
    static func hexBytes(_ hex: String) throws(DriftError) -> [UInt8] {
        let digits = Array(hex.utf8)
        func value(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
            default: return nil
            }
        }
        guard digits.count == 64 else { throw .invalid("definition hash '\(hex)' is not 64 hex digits") }
        var out: [UInt8] = []
        for i in stride(from: 0, to: 64, by: 2) {
            guard let hi = value(digits[i]), let lo = value(digits[i + 1]) else {
                throw .invalid("definition hash '\(hex)' is not 64 lowercase hex digits")
            }
            out.append(hi << 4 | lo)
        }
        return out
    }
}
