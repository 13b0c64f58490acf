import Features
import Registry

#if canImport(Glibc)
import Glibc
#endif

/// Building a baseline from the offline feature table (`tickbus features --out T.csv`: a header
/// `sequence,exchange_time,instrument,<feature names>`, optionally a `prediction` column, `%.17g`
/// numbers, `nan` or an empty field for missing).
extension DriftBaseline {
    /// The default sample size (rows).
    public static let defaultMaxSample = 100_000

    /// Reads the definition file (its bytes are what `definitionHash` hashes) and the table.
    /// - Parameters:
    ///   - table: the feature table CSV.
    ///   - features: the feature definition file the table was computed with.
    ///   - maxSample: rows in the sample at most; a larger table is subsampled uniformly (`BaselineSampler`).
    ///   - seed: the subsample's seed (the same table, seed and size give the same baseline).
    ///   - progress: called with the rows read so far, every 2^20 rows.
    public static func build(
        table: String,
        features: String,
        maxSample: Int = defaultMaxSample,
        seed: UInt64 = 0,
        progress: ((UInt64) -> Void)? = nil
    ) throws(DriftError) -> DriftBaseline {
        let bytes = try BaselineIO.read(features)
        let definition: FeatureDefinition
        do { definition = try FeatureDefinition.parse(String(decoding: bytes, as: UTF8.self)) } catch {
            throw .definition(path: features, error)
        }
        return try build(
            table: table,
            definition: definition,
            definitionHash: Manifest.sha256Hex(bytes),
            maxSample: maxSample,
            seed: seed,
            progress: progress
        )
    }

    /// The baseline of a table for a loaded definition whose file hashes to `definitionHash`.
    public static func build(
        table: String,
        definition: FeatureDefinition,
        definitionHash: String,
        maxSample: Int = defaultMaxSample,
        seed: UInt64 = 0,
        progress: ((UInt64) -> Void)? = nil
    ) throws(DriftError) -> DriftBaseline {
        guard maxSample >= 1 else { throw .invalid("--max-sample must be at least 1 (got \(maxSample))") }
        var reader = try TableReader(path: table)
        let header = try reader.header()
        var wanted: [Int] = []
        for name in definition.names {
            guard let i = header.firstIndex(of: name) else {
                throw .table(
                    path: table,
                    line: 1,
                    column: name,
                    message:
                        "no column for feature '\(name)' of the definition (header: \(header.joined(separator: ",")))"
                )
            }
            wanted.append(i)
        }
        let predictionIndex = header.firstIndex(of: predictionColumn)
        if let p = predictionIndex { wanted.append(p) }
        var sampler = BaselineSampler(seed: seed, capacity: maxSample)
        var sample = [[Double]](repeating: [], count: wanted.count)
        let initial = min(maxSample, 1 << 16)  // grows with the rows read, never from the argument alone
        for c in 0..<sample.count { sample[c].reserveCapacity(initial) }
        var row = [Double](repeating: 0, count: wanted.count)
        var rows: UInt64 = 0
        while try reader.nextRow(columns: wanted, into: &row) {
            switch sampler.slot(forRow: rows) {
            case .append: for c in 0..<row.count { sample[c].append(row[c]) }
            case .replace(let j): for c in 0..<row.count { sample[c][j] = row[c] }
            case .skip: break
            }
            rows += 1
            if rows & 0xF_FFFF == 0 { progress?(rows) }
        }
        guard rows > 0 else { throw .table(path: table, line: 2, column: "", message: "no rows after the header") }
        var columns: [ColumnBaseline] = []
        for (c, spec) in definition.features.enumerated() {
            columns.append(
                ColumnBaseline(name: spec.name, kind: spec.categorical ? .categorical : .numeric, sample: sample[c])
            )
        }
        if predictionIndex != nil {
            columns.append(ColumnBaseline(name: predictionColumn, kind: .numeric, sample: sample[wanted.count - 1]))
        }
        return DriftBaseline(
            columns: columns,
            definitionHash: definitionHash,
            featureNames: definition.names,
            seed: seed,
            maxSample: maxSample,
            tableRows: rows,
            sampleRows: UInt64(sample[0].count)
        )
    }

    /// Refuses this baseline unless it was built from the definition file at `path` (same names in
    /// the same order, same sha256).
    public func check(definitionPath path: String, baselinePath: String = "baseline") throws(DriftError) {
        let bytes = try BaselineIO.read(path)
        let definition: FeatureDefinition
        do { definition = try FeatureDefinition.parse(String(decoding: bytes, as: UTF8.self)) } catch {
            throw .definition(path: path, error)
        }
        try check(featureNames: definition.names, definitionHash: Manifest.sha256Hex(bytes), baselinePath: baselinePath)
    }
}

/// The seeded uniform subsample: reservoir sampling (Vitter's algorithm R). Rows 0..<capacity fill
/// the sample; row i ≥ capacity draws j uniform in 0...i and replaces sample slot j when
/// j < capacity. Every subset of `capacity` rows is equally likely, one pass, memory of the sample
/// only. The draws are SplitMix64 from `seed`, reduced to 0...i without bias by Lemire's method
/// (multiply-high, rejecting the low word below 2^64 mod (i+1)), so a reference can replay them
/// (Tests/DriftTests/baseline_reference.py does).
public struct BaselineSampler: Sendable {
    public enum Slot: Equatable, Sendable {
        case append
        case replace(Int)
        case skip
    }

    var state: UInt64
    let capacity: Int

    public init(seed: UInt64, capacity: Int) {
        state = seed
        self.capacity = capacity
    }

    /// The next SplitMix64 word (the bench's seeded data draws from it too).
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in 0..<n (n ≥ 1), unbiased.
    mutating func below(_ n: UInt64) -> UInt64 {
        var m = next().multipliedFullWidth(by: n)
        if m.low < n {
            let threshold = (0 &- n) % n
            while m.low < threshold { m = next().multipliedFullWidth(by: n) }
        }
        return m.high
    }

    /// Where row `index` (0-based, in table order) goes.
    public mutating func slot(forRow index: UInt64) -> Slot {
        if index < UInt64(capacity) { return .append }
        let j = below(index &+ 1)
        return j < UInt64(capacity) ? .replace(Int(j)) : .skip
    }
}

/// A streaming reader of the feature table: one line at a time (getline), numbers parsed in place
/// (strtod), so a table of any length reads in constant memory beside the sample.
struct TableReader: ~Copyable {
    let path: String
    let file: UnsafeMutablePointer<FILE>
    /// Invariant: the getline buffer (owned, freed in deinit), `capacity` bytes.
    var line: UnsafeMutablePointer<CChar>? = nil
    var capacity = 0
    var lineNumber = 0
    var fieldCount = 0
    var names: [String] = []

    init(path: String) throws(DriftError) {
        guard let f = fopen(path, "rb") else { throw .io(path: path, operation: "open", errno: errno) }
        self.path = path
        file = f
    }

    deinit {
        free(line)
        fclose(file)
    }

    /// The next line's length (without the line break), nil at the end.
    mutating func readLine() throws(DriftError) -> Int? {
        errno = 0
        let n = getline(&line, &capacity, file)
        if n < 0 {
            if ferror(file) != 0 { throw .io(path: path, operation: "read", errno: errno != 0 ? errno : EIO) }
            return nil
        }
        lineNumber += 1
        var length = n
        // Safe: line holds n bytes plus the terminating NUL written by getline.
        while length > 0 && (line![length - 1] == 10 || line![length - 1] == 13) { length -= 1 }
        return length
    }

    /// The header's names (trimmed).
    mutating func header() throws(DriftError) -> [String] {
        guard let n = try readLine() else {
            throw .table(path: path, line: 1, column: "", message: "empty file (expected a header of column names)")
        }
        // Safe: n bytes of the line buffer are the header text.
        let text = String(decoding: UnsafeRawBufferPointer(start: line!, count: n), as: UTF8.self)
        names = text.split(separator: ",", omittingEmptySubsequences: false).map {
            String($0.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
        }
        for (i, name) in names.enumerated() where names[..<i].contains(name) {
            throw .table(path: path, line: 1, column: name, message: "column name appears twice")
        }
        fieldCount = names.count
        return names
    }

    /// Reads the next data row (blank lines skipped) and parses the fields at `columns` into `row`;
    /// false at the end of the file.
    /// - Throws: `DriftError.table` for a row with the wrong number of fields or a field that is
    ///   not a number (its line and column).
    mutating func nextRow(columns: [Int], into row: inout [Double]) throws(DriftError) -> Bool {
        while let n = try readLine() {
            if n == 0 { continue }
            // Safe: the line buffer holds n bytes then NUL; offsets stay below n.
            let base = line!
            var starts: [Int] = []
            starts.reserveCapacity(fieldCount)
            starts.append(0)
            for i in 0..<n where base[i] == 44 { starts.append(i + 1) }  // ','
            guard starts.count == fieldCount else {
                throw .table(
                    path: path,
                    line: lineNumber,
                    column: "",
                    message: "\(starts.count) fields, the header has \(fieldCount)"
                )
            }
            for (k, c) in columns.enumerated() {
                let start = starts[c]
                let end = c + 1 < starts.count ? starts[c + 1] - 1 : n
                guard let v = Self.number(base, start, end) else {
                    let text = String(
                        decoding: UnsafeRawBufferPointer(start: base + start, count: end - start),
                        as: UTF8.self
                    )
                    throw .table(path: path, line: lineNumber, column: names[c], message: "'\(text)' is not a number")
                }
                row[k] = v
            }
            return true
        }
        return false
    }

    /// The number in bytes start..<end (spaces and tabs around it allowed); empty or `nan` is NaN.
    static func number(_ base: UnsafeMutablePointer<CChar>, _ start: Int, _ end: Int) -> Double? {
        var s = start
        var e = end
        while s < e && (base[s] == 32 || base[s] == 9) { s += 1 }
        while e > s && (base[e - 1] == 32 || base[e - 1] == 9) { e -= 1 }
        if s == e { return .nan }
        // strtod stops at the first byte that is not part of a number; it must stop exactly at e.
        let saved = base[e]
        base[e] = 0
        defer { base[e] = saved }
        var stop: UnsafeMutablePointer<CChar>? = nil
        let v = strtod(base + s, &stop)
        guard let stop, stop == base + e else { return nil }
        return v
    }
}

extension DriftBaseline {
    /// The registry's check of a `--baseline` object (`Registry.AddRequest.objectChecks`): the file
    /// must read as a baseline and be of the version's feature definition (names, order, sha256 of
    /// the definition's bytes — the registry's name of that object). nil when it is; else why not.
    @Sendable public static func registryCheck(bytes: [UInt8], definition: [UInt8]) -> String? {
        do {
            let baseline = try DriftBaseline(bytes: bytes, path: "--baseline")
            let parsed: FeatureDefinition
            do { parsed = try FeatureDefinition.parse(String(decoding: definition, as: UTF8.self)) } catch {
                return "the feature definition does not load: \(error)"
            }
            try baseline.check(
                featureNames: parsed.names,
                definitionHash: Manifest.sha256Hex(definition),
                baselinePath: "--baseline"
            )
            return nil
        } catch {
            return error.description
        }
    }
}
