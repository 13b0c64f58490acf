import Registry

/// A feature snapshot's manifest (`DIR/manifest.json`): canonical JSON (the registry's
/// `CanonicalJSON`) holding only deterministic content, so the same inputs give the same bytes; the
/// snapshot id is the sha256 of these bytes. Schema in Docs/FEATURESTORE.md. Kept free of
/// swift-crypto and Foundation: the fuzz harness builds this reader alone (Docs/FUZZING.md).
public struct SnapshotManifest: Equatable, Sendable {
    /// The manifest format this source writes and reads.
    public static let formatVersion = 1
    /// The version of the code that computes the table (features, times, Parquet layout): part of
    /// the id, bumped whenever the same inputs would give different data.
    public static let tickbusVersion = "tickbus-snapshot-1"

    /// One data file of the snapshot, relative to its directory.
    public struct DataFile: Equatable, Sendable {
        public var path: String
        public var rows: Int
        public var sha256: String
        public init(path: String, rows: Int, sha256: String) {
            self.path = path
            self.rows = rows
            self.sha256 = sha256
        }
    }

    public var tickbus: String
    /// The source spec's kind (`lobster`, `itch`, `journal`, `synthetic`).
    public var sourceKind: String
    /// The source's argument where it is not a file (a synthetic seed); empty otherwise.
    public var sourceArgument: String
    /// sha256 of every input file, by its name (a journal: each file of its directory).
    public var inputs: [String: String]
    /// The feature definition's names, in column order.
    public var features: [String]
    /// sha256 of the feature definition (TOML).
    public var definition: String
    public var data: [DataFile]
    /// Knowledge time = event time + this (file sources).
    public var latencyNs: Int64
    /// `YYYY-MM-DD`: event time = this day's UTC midnight + exchange time.
    public var sessionDate: String

    public init(
        sourceKind: String,
        sourceArgument: String,
        inputs: [String: String],
        features: [String],
        definition: String,
        data: [DataFile],
        latencyNs: Int64,
        sessionDate: String
    ) {
        tickbus = Self.tickbusVersion
        self.sourceKind = sourceKind
        self.sourceArgument = sourceArgument
        self.inputs = inputs
        self.features = features
        self.definition = definition
        self.data = data
        self.latencyNs = latencyNs
        self.sessionDate = sessionDate
    }

    /// The manifest as a JSON value (integers below 2^53 only: the latency is a decimal string).
    public var json: CanonicalJSON {
        .object([
            "format": .integer(Self.formatVersion),
            "tickbus": .string(tickbus),
            "source": .object([
                "kind": .string(sourceKind), "argument": .string(sourceArgument),
                "inputs": .object(inputs.mapValues { .string($0) }),
            ]),
            "features": .object(["names": .array(features.map { .string($0) }), "sha256": .string(definition)]),
            "data": .array(
                data.map {
                    .object(["path": .string($0.path), "rows": .integer($0.rows), "sha256": .string($0.sha256)])
                }
            ),
            "latency_ns": .string(String(latencyNs)),
            "session_date": .string(sessionDate),
        ])
    }

    /// The canonical bytes whose sha256 is the snapshot id.
    public var bytes: [UInt8] { json.bytes }

    /// Reads a manifest, refusing anything this source would not have written (the id is the
    /// sha256 of the bytes: content outside what is read would change the id without meaning).
    /// - Parameter what: the file, for messages.
    public init(bytes: [UInt8], what: String) throws(SnapshotError) {
        let j: CanonicalJSON
        do { j = try CanonicalJSON.parseCanonical(bytes, what: what) } catch { throw .manifest(what: what, error) }
        func fail(_ reason: String) -> SnapshotError { .malformed(what: what, reason: reason) }
        func members(
            _ v: CanonicalJSON?,
            _ name: String,
            _ keys: Set<String>
        ) throws(SnapshotError) -> [String:
            CanonicalJSON]
        {
            guard let o = v?.object else { throw fail("'\(name)' is missing or not an object") }
            guard Set(o.keys) == keys else {
                throw fail("'\(name)' has members \(o.keys.sorted()), expected \(keys.sorted())")
            }
            return o
        }
        func str(_ v: CanonicalJSON?, _ name: String) throws(SnapshotError) -> String {
            guard let s = v?.string else { throw fail("'\(name)' is missing or not a string") }
            return s
        }
        func digest(_ v: CanonicalJSON?, _ name: String) throws(SnapshotError) -> String {
            let s = try str(v, name)
            guard Self.isDigest(s) else { throw fail("'\(name)' is not a sha256 (64 lowercase hex digits): '\(s)'") }
            return s
        }
        let top = try members(
            j,
            "$",
            ["format", "tickbus", "source", "features", "data", "latency_ns", "session_date"]
        )
        guard top["format"]?.integer == Self.formatVersion else {
            throw fail("format is not \(Self.formatVersion) (written by another version of tickbus)")
        }
        tickbus = try str(top["tickbus"], "tickbus")
        let source = try members(top["source"], "source", ["kind", "argument", "inputs"])
        sourceKind = try str(source["kind"], "source.kind")
        sourceArgument = try str(source["argument"], "source.argument")
        guard let ins = source["inputs"]?.object else { throw fail("'source.inputs' is not an object") }
        var inputs: [String: String] = [:]
        for (k, v) in ins { inputs[k] = try digest(v, "source.inputs.\(k)") }
        self.inputs = inputs
        let f = try members(top["features"], "features", ["names", "sha256"])
        guard let names = f["names"]?.array else { throw fail("'features.names' is not an array") }
        var features: [String] = []
        for (i, n) in names.enumerated() { features.append(try str(n, "features.names[\(i)]")) }
        guard Set(features).count == features.count else { throw fail("'features.names' repeats a name") }
        self.features = features
        definition = try digest(f["sha256"], "features.sha256")
        guard let files = top["data"]?.array, !files.isEmpty else { throw fail("'data' is not a non-empty array") }
        var data: [DataFile] = []
        for (i, file) in files.enumerated() {
            let o = try members(file, "data[\(i)]", ["path", "rows", "sha256"])
            let path = try str(o["path"], "data[\(i)].path")
            // Relative, inside the snapshot directory: a manifest cannot point the reader elsewhere.
            guard !path.isEmpty, !path.hasPrefix("/"), !path.split(separator: "/").contains("..") else {
                throw fail("'data[\(i)].path' is not a path inside the snapshot: '\(path)'")
            }
            guard let rows = o["rows"]?.integer else { throw fail("'data[\(i)].rows' is not an integer") }
            data.append(DataFile(path: path, rows: rows, sha256: try digest(o["sha256"], "data[\(i)].sha256")))
        }
        self.data = data
        let latency = try str(top["latency_ns"], "latency_ns")
        guard let ns = Int64(latency), ns >= 0, String(ns) == latency else {
            throw fail("'latency_ns' is not a non-negative decimal integer of ns: '\(latency)'")
        }
        latencyNs = ns
        sessionDate = try str(top["session_date"], "session_date")
        guard Self.midnightNs(sessionDate) != nil else {
            throw fail("'session_date' is not a date YYYY-MM-DD (1970…2261): '\(sessionDate)'")
        }
    }

    /// True for 64 lowercase hex digits (how sha256 is spelled here and in the registry).
    public static func isDigest(_ s: String) -> Bool {
        s.utf8.count == 64 && s.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }
    }

    /// The decimal digits `u[r]` (at most 18 of them) as a number; nil if any is not a digit.
    public static func decimal(_ u: [UInt8], _ r: Range<Int>) -> Int64? {
        guard r.count <= 18, r.lowerBound >= 0, r.upperBound <= u.count else { return nil }
        var v: Int64 = 0
        for i in r {
            guard u[i] >= 48 && u[i] <= 57 else { return nil }
            v = v * 10 + Int64(u[i] - 48)
        }
        return v
    }

    /// Epoch ns of 00:00 UTC of `YYYY-MM-DD` (1970-01-01 … 2261-12-31: the dates whose every ns fits in Int64), nil otherwise.
    public static func midnightNs(_ date: String) -> Int64? {
        let u = Array(date.utf8)
        guard u.count == 10, u[4] == UInt8(ascii: "-"), u[7] == UInt8(ascii: "-") else { return nil }
        guard let y = decimal(u, 0..<4), let m = decimal(u, 5..<7), let d = decimal(u, 8..<10), y >= 1970, y <= 2261,
            m >= 1,
            m <= 12, d >= 1
        else {
            return nil
        }
        let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
        let lengths: [Int64] = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        guard d <= lengths[Int(m - 1)] else { return nil }
        // Howard Hinnant's days_from_civil.
        let yy = m <= 2 ? y - 1 : y
        let era = yy / 400
        let yoe = yy - era * 400
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return (era * 146_097 + doe - 719_468) * 86_400_000_000_000
    }
}
