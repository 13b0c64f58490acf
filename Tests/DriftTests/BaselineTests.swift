import Drift
import Features
import Foundation
import TestSupport
import Testing

/// `tickbus drift baseline` and the baseline file: a real feature table (the LOBSTER GOOG sample
/// through `tickbus features`, the bundled linear model's predictions as the `prediction` column)
/// checked by `baseline_reference.py`, which reads the file with its own reader of the documented
/// layout and recomputes the subsample, deciles, bin counts, moments, categories and the
/// definition's sha256 with numpy and hashlib; determinism; the subsample's uniformity; refusal of a
/// baseline of another definition; refusal of every malformed field with its name and offset; bad
/// tables named by line and column.
@Suite(.serialized) struct BaselineTests {
    static let reference = TickBusTest.repositoryRoot.appendingPathComponent("Tests/DriftTests/baseline_reference.py")
        .path
    static let model = TickBusTest.repositoryRoot.appendingPathComponent("Recordings/synthetic-5/model.json").path

    /// The bundled model's six features, a trade count declared categorical, and a feature that is
    /// NaN until the first trade.
    static let definition = """
        decide_on = "every"

        [[feature]]
        name = "mid"
        kind = "mid"
        [[feature]]
        name = "spread"
        kind = "spread"
        [[feature]]
        name = "imb"
        kind = "imbalance"
        [[feature]]
        name = "ofi50"
        kind = "ofi"
        events = 50
        [[feature]]
        name = "ret1s"
        kind = "return_time"
        window_ns = 1_000_000_000
        [[feature]]
        name = "vol_ev"
        kind = "volatility_events"
        alpha = 0.05
        [[feature]]
        name = "trades"
        kind = "trade_count"
        window_ns = 2_000_000_000
        categorical = true
        [[feature]]
        name = "since_trade"
        kind = "time_since_trade"

        """

    static func write(_ text: String, _ path: String) throws {
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// The LOBSTER table with the model's prediction appended as column `prediction`.
    static func realTable(in dir: String) throws -> (table: String, features: String, rows: Int) {
        let messages = try TickBusTest.sharedData("lobster/GOOG_2012-06-21_34200000_57600000_message_1.csv")
        let book = try TickBusTest.sharedData("lobster/GOOG_2012-06-21_34200000_57600000_orderbook_1.csv")
        let features = dir + "/features.toml"
        try write(definition, features)
        let plain = dir + "/plain.csv"
        let f = try TickBusTest.run(
            [
                "features", "--source", "lobster:\(messages),\(book)", "--features", features, "--out", plain,
                "--messages", "20000",
            ],
            timeout: 120
        )
        try #require(f.status == 0 && !f.timedOut, "features: \(f.stderr)")
        let p = try TickBusTest.run(["model", "predict", "--model", model, "--input", plain], timeout: 120)
        try #require(p.status == 0 && !p.timedOut, "model predict: \(p.stderr)")
        let lines = try String(contentsOfFile: plain, encoding: .utf8).split(separator: "\n")
        let predictions = p.stdout.split(separator: "\n")
        try #require(lines.count == predictions.count + 1 && lines.count > 1000, "\(lines.count) rows")
        var out = String(lines[0]) + ",prediction\n"
        for (line, prediction) in zip(lines.dropFirst(), predictions) { out += line + "," + prediction + "\n" }
        let table = dir + "/table.csv"
        try write(out, table)
        return (table, features, predictions.count)
    }

    static func reference(
        _ table: String,
        _ features: String,
        _ baseline: String,
        _ maxSample: Int,
        _ seed: UInt64
    )
        throws -> Child.Result
    {
        try Child(
            ["python3", reference, table, features, baseline, "\(maxSample)", "\(seed)", "trades"],
            executable: "/usr/bin/env"
        ).wait(timeout: 120)
    }

    @Test func realTableAgainstReference() throws {
        let dir = TickBusTest.temporaryDirectory("drift-baseline").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (table, features, rows) = try Self.realTable(in: dir)
        for (maxSample, seed) in [(5000, UInt64(1)), (1_000_000, UInt64(0))] {
            let out = dir + "/b-\(maxSample).tbbaseline"
            let r = try TickBusTest.run(
                [
                    "drift", "baseline", "--table", table, "--features", features, "--out", out, "--max-sample",
                    "\(maxSample)", "--seed", "\(seed)",
                ],
                timeout: 120
            )
            try #require(r.status == 0 && !r.timedOut, "drift baseline: \(r.stderr)")
            #expect(
                r.lastLine.hasPrefix("drift baseline: columns=9 features=8 prediction=true table_rows=\(rows) ")
                    && r.lastLine.contains(" sample_rows=\(min(rows, maxSample)) seed=\(seed) "),
                "\(r.stdout)"
            )
            let check = try Self.reference(table, features, out, maxSample, seed)
            #expect(check.status == 0 && check.stdout.contains("ok columns=9"), "\(check.stdout) \(check.stderr)")
            let b = try DriftBaseline(contentsOf: out)
            #expect(
                b.columns.map(\.name) == [
                    "mid", "spread", "imb", "ofi50", "ret1s", "vol_ev", "trades", "since_trade", "prediction",
                ]
            )
            #expect(b.column(named: "trades")?.kind == .categorical && b.prediction?.name == "prediction")
            // The same inputs give the same bytes; another seed another sample (when subsampled).
            let again = dir + "/again.tbbaseline"
            let r2 = try TickBusTest.run(
                [
                    "drift", "baseline", "--table", table, "--features", features, "--out", again, "--max-sample",
                    "\(maxSample)", "--seed", "\(seed)",
                ]
            )
            #expect(r2.status == 0)
            #expect(FileManager.default.contents(atPath: out) == FileManager.default.contents(atPath: again))
            if maxSample < rows {
                let other = try DriftBaseline.build(
                    table: table,
                    features: features,
                    maxSample: maxSample,
                    seed: seed + 1
                )
                #expect(other.columns[0].sortedSample != b.columns[0].sortedSample)
            }
        }
    }

    /// A small table written here: `a` = row index, `b` = 2a, `c` a category, `n` all NaN.
    static func smallTable(in dir: String, rows: Int) throws -> (table: String, features: String) {
        let features = dir + "/small.toml"
        try write(
            """
            [[feature]]
            name = "a"
            kind = "mid"
            [[feature]]
            name = "b"
            kind = "spread"
            [[feature]]
            name = "c"
            kind = "trade_count"
            window_ns = 1
            categorical = true
            [[feature]]
            name = "n"
            kind = "imbalance"

            """,
            features
        )
        var text = "sequence,exchange_time,instrument,a,b,c,n\n"
        for i in 0..<rows { text += "\(i),\(i),1,\(i),\(2 * i),\(i % 3),nan\n" }
        let table = dir + "/small.csv"
        try write(text, table)
        return (table, features)
    }

    /// Reservoir sampling keeps rows whole (b = 2a in the sample too) and is uniform over the rows:
    /// the sampled indices against all indices, KS p-value not small (fixed seed, so no flakiness).
    @Test func subsampleKeepsRowsAndIsUniform() throws {
        let dir = TickBusTest.temporaryDirectory("drift-uniform").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (table, features) = try Self.smallTable(in: dir, rows: 20000)
        let b = try DriftBaseline.build(table: table, features: features, maxSample: 2000, seed: 3)
        #expect(b.sampleRows == 2000 && b.tableRows == 20000)
        let a = b.columns[0].sortedSample
        #expect(b.columns[1].sortedSample == a.map { 2 * $0 })
        #expect(Set(a).count == 2000, "a row is sampled at most once")
        let all = (0..<20000).map(Double.init)
        let ks = Statistics.ksTwoSample(a, all)
        #expect(ks.pvalue > 0.01, "sample vs rows: D=\(ks.d) p=\(ks.pvalue)")
        #expect(b.columns[2].kind == .categorical && b.columns[2].categoryValues == [0, 1, 2])
        #expect(b.columns[2].categoryCounts.reduce(0, +) == 2000)
        // The all-NaN column: no edges, every value in the NaN bin; a window scores what is defined.
        let n = b.columns[3]
        #expect(n.edges.isEmpty && n.binCounts == [0, 2000] && n.sortedSample.isEmpty && n.std.isNaN)
        var scorer = WindowScorer(capacity: 10)
        guard case .numeric(let s) = scorer.score([0.5, .nan], against: n) else {
            Issue.record("not numeric")
            return
        }
        #expect(s.ks == nil && s.w1 == nil && s.w1Norm == nil && s.nanShare == 0.5 && s.psi != nil)
        // A table smaller than the limit is taken whole.
        let whole = try DriftBaseline.build(table: table, features: features, maxSample: 100_000, seed: 3)
        #expect(whole.columns[0].sortedSample == all)
    }

    @Test func writeReadRoundTrip() throws {
        let dir = TickBusTest.temporaryDirectory("drift-roundtrip").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (table, features) = try Self.smallTable(in: dir, rows: 300)
        let b = try DriftBaseline.build(table: table, features: features, maxSample: 100, seed: 9)
        let path = dir + "/b.tbbaseline"
        try b.write(to: path)
        let read = try DriftBaseline(contentsOf: path)
        #expect(read == b)
        #expect(try read.encoded() == Array(FileManager.default.contents(atPath: path)!))
        #expect(b.definitionHash.count == 64)
    }

    /// A baseline of another definition is refused: names in another order, other names, or the
    /// same names from another file (sha256).
    @Test func anotherDefinitionIsRefused() throws {
        let dir = TickBusTest.temporaryDirectory("drift-definition").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (table, features) = try Self.smallTable(in: dir, rows: 50)
        let b = try DriftBaseline.build(table: table, features: features, maxSample: 100, seed: 0)
        try b.check(definitionPath: features)
        let text = try String(contentsOfFile: features, encoding: .utf8)
        let blocks = text.components(separatedBy: "[[feature]]").dropFirst().map { "[[feature]]" + $0 }
        let cases: [(String, String)] = [
            (
                [blocks[1], blocks[0], blocks[2], blocks[3]].joined(),
                "another order (position 0: 'a' in the baseline, 'b' in use)"
            ),
            (text.replacingOccurrences(of: "name = \"c\"", with: "name = \"c2\""), "not in the baseline: c2"),
            ("# a comment changes the file\n" + text, "definition sha256"),
        ]
        for (i, (other, message)) in cases.enumerated() {
            let path = dir + "/other-\(i).toml"
            try Self.write(other, path)
            #expect(throws: DriftError.self) { try b.check(definitionPath: path, baselinePath: "B.tbbaseline") }
            do {
                try b.check(definitionPath: path, baselinePath: "B.tbbaseline")
            } catch {
                #expect(
                    error.description.contains("drift baseline B.tbbaseline is of another feature definition")
                        && error.description.contains(message),
                    "\(error)"
                )
            }
        }
    }

    /// One malformed field at a time in a valid file; each refusal names the field and its offset.
    @Test func malformedFilesAreRefused() throws {
        let dir = TickBusTest.temporaryDirectory("drift-malformed").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (table, features) = try Self.smallTable(in: dir, rows: 40)
        let good = try DriftBaseline.build(table: table, features: features, maxSample: 100, seed: 0).encoded()
        _ = try DriftBaseline(bytes: good, path: "good")
        // Layout (Docs/DRIFT.md): header 128 bytes; column 0 ("a", 40 values 0...39, 9 edges) at 128:
        // fixed 56, name padded to 8, edges 72, bins 88, no categories, sample 320.
        let c0 = 128
        let edges0 = c0 + 64
        let bins0 = edges0 + 72
        let sample0 = bins0 + 88
        func u64(_ v: UInt64, at o: Int) -> ([UInt8]) -> [UInt8] {
            { b in
                var b = b
                for i in 0..<8 { b[o + i] = UInt8(truncatingIfNeeded: v >> (8 * i)) }
                return b
            }
        }
        func byte(_ v: UInt8, at o: Int) -> ([UInt8]) -> [UInt8] {
            { b in
                var b = b
                b[o] = v
                return b
            }
        }
        let nan = Double.nan.bitPattern
        let cases: [(String, ([UInt8]) -> [UInt8], String, Int)] = [
            ("truncated header", { Array($0.prefix(100)) }, "header", 0),
            ("magic", byte(0x58, at: 3), "magic", 0),
            ("version", byte(2, at: 8), "version", 8),
            ("file size", u64(12, at: 16), "file_size", 16),
            ("column count", byte(9, at: 24), "column_count", 24),
            ("max sample", u64(0, at: 40), "max_sample", 40),
            ("sample rows", u64(39, at: 56), "sample_rows", 56),
            ("reserved", byte(1, at: 100), "reserved", 100),
            ("record size", u64(1 << 62, at: c0), "column 0 record_size", c0),
            ("kind", byte(7, at: c0 + 8), "column 0 kind", c0 + 8),
            ("name length", u64(0, at: c0 + 12), "column 0 name_length", c0 + 12),
            ("edge count", byte(10, at: c0 + 16), "column 0 edge_count", c0 + 16),
            ("value count", u64(1 << 61, at: c0 + 24), "column 0 value_count", c0 + 24),
            ("categories in a numeric column", byte(1, at: c0 + 20), "column 0 category_count", c0 + 20),
            ("name not UTF-8", byte(0xFF, at: c0 + 56), "column 0 name", c0 + 56),
            ("name padding", byte(1, at: c0 + 57), "column 0 name padding", c0 + 57),
            ("edges", u64(Double(4.5).bitPattern, at: edges0), "column 0 'a' edges", edges0),
            ("bin counts", u64(5, at: bins0), "column 0 'a' bin_counts", bins0),
            ("mean", u64(Double(1).bitPattern, at: c0 + 40), "column 0 'a' mean", c0 + 40),
            ("std", u64(Double(1).bitPattern, at: c0 + 48), "column 0 'a' std", c0 + 48),
            ("NaN in the sample", u64(nan, at: sample0 + 80), "column 0 'a' sample", sample0 + 80),
            ("sample not ascending", u64(Double(50).bitPattern, at: sample0 + 8), "column 0 'a' sample", sample0 + 16),
            (
                "trailing bytes",
                { b in u64(UInt64(b.count + 8), at: 16)(b + [UInt8](repeating: 0, count: 8)) }, "end", good.count
            ),
        ]
        for (what, mutate, field, offset) in cases {
            let bad = mutate(good)
            do {
                _ = try DriftBaseline(bytes: bad, path: "B.tbbaseline")
                Issue.record("\(what): accepted")
            } catch {
                guard case .format(let path, let f, let o, _) = error else {
                    Issue.record("\(what): \(error)")
                    continue
                }
                #expect(path == "B.tbbaseline" && f == field && o == offset, "\(what): \(error)")
                #expect(error.description.hasPrefix("drift baseline B.tbbaseline: \(field) at byte \(offset): "))
            }
        }
        // Every prefix of the file is refused (never a trap, never a partial baseline).
        for n in stride(from: 0, to: good.count, by: 7) {
            #expect(throws: DriftError.self) { try DriftBaseline(bytes: Array(good.prefix(n)), path: "cut") }
        }
    }

    /// Bad tables and arguments: named by line and column, through the CLI without a usage banner.
    @Test func badTablesAreNamed() throws {
        let dir = TickBusTest.temporaryDirectory("drift-badtable").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (_, features) = try Self.smallTable(in: dir, rows: 1)
        let header = "sequence,exchange_time,instrument,a,b,c,n\n"
        let cases: [(String, String)] = [
            ("sequence,a,b,c\n1,2,3,4\n", "feature table T line 1, column n: no column for feature 'n'"),
            (header + "0,0,1,1,2,0,nan\n1,1,1,x1,2,0,nan\n", "feature table T line 3, column a: 'x1' is not a number"),
            (header + "0,0,1,1,2,0\n", "feature table T line 2: 6 fields, the header has 7"),
            (header, "feature table T line 2: no rows after the header"),
            ("", "feature table T line 1: empty file"),
            ("a,a,b,c,n\n", "feature table T line 1, column a: column name appears twice"),
        ]
        for (text, message) in cases {
            let table = dir + "/T"
            try Self.write(text, table)
            do {
                _ = try DriftBaseline.build(table: table, features: features)
                Issue.record("accepted: \(text)")
            } catch {
                #expect(error.description.replacingOccurrences(of: table, with: "T").hasPrefix(message), "\(error)")
            }
        }
        let missing = try TickBusTest.run(
            ["drift", "baseline", "--table", dir + "/none.csv", "--features", features, "--out", dir + "/o"]
        )
        #expect(missing.status != 0 && missing.stderr.contains("cannot open \(dir)/none.csv: No such file"))
        #expect(!missing.stderr.contains("USAGE") && !FileManager.default.fileExists(atPath: dir + "/o"))
        let zero = try TickBusTest.run(
            [
                "drift", "baseline", "--table", dir + "/T", "--features", features, "--out", dir + "/o", "--max-sample",
                "0",
            ]
        )
        #expect(zero.status != 0 && zero.stderr.contains("--max-sample must be at least 1"), "\(zero.stderr)")
    }

    /// `registry add --baseline` stores the baseline as a content-addressed object named in the
    /// manifest, and refuses one of another definition or a malformed one (nothing stored).
    @Test func registryStoresTheBaseline() throws {
        let dir = TickBusTest.temporaryDirectory("drift-registry").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let features = TickBusTest.repositoryRoot.appendingPathComponent("Recordings/synthetic-5/features.toml").path
        var text = "sequence,exchange_time,instrument,mid,spread,imb,ofi50,ret1s,vol_ev,prediction\n"
        for i in 0..<200 {
            text += "\(i),\(i),1,\(100 + i % 7),0.01,\(Double(i % 11) / 10 - 0.5),\(i % 5),0,0.001,0.1\n"
        }
        try Self.write(text, dir + "/t.csv")
        let good = dir + "/good.tbbaseline"
        try DriftBaseline.build(table: dir + "/t.csv", features: features).write(to: good)
        let registry = dir + "/registry"
        let add = [
            "registry", "add", "--registry", registry, "--name", "m", "--model", Self.model, "--features", features,
        ]
        let ok = try TickBusTest.run(add + ["--baseline", good])
        try #require(ok.status == 0, "\(ok.stderr)")
        let hash = try #require(try InputHashesForTest.sha256(good))
        let show = try TickBusTest.run(["registry", "show", "--registry", registry, ok.lastLine, "--json"])
        #expect(show.stdout.contains("\"baseline\":\"\(hash)\""), "\(show.stdout)")
        let stored = registry + "/objects/sha256/" + hash
        #expect(FileManager.default.contents(atPath: stored) == FileManager.default.contents(atPath: good))
        #expect(try DriftBaseline(contentsOf: stored).definitionHash == InputHashesForTest.sha256(features))

        let (table, small) = try Self.smallTable(in: dir, rows: 20)
        let other = dir + "/other.tbbaseline"
        try DriftBaseline.build(table: table, features: small).write(to: other)
        let refused = try TickBusTest.run(add + ["--baseline", other])
        #expect(refused.status != 0 && refused.stderr.contains("is of another feature definition"), "\(refused.stderr)")
        var corrupt = Array(FileManager.default.contents(atPath: good)!)
        corrupt[0] = 0
        try Data(corrupt).write(to: URL(fileURLWithPath: dir + "/corrupt.tbbaseline"))
        let bad = try TickBusTest.run(add + ["--baseline", dir + "/corrupt.tbbaseline"])
        #expect(bad.status != 0 && bad.stderr.contains("drift baseline --baseline: magic at byte 0"), "\(bad.stderr)")
        #expect(!bad.stderr.contains("USAGE"))
    }

    /// sha256 of a file by `sha256sum` (an independent hash).
    enum InputHashesForTest {
        static func sha256(_ path: String) throws -> String? {
            let r = try Child(["sha256sum", path], executable: "/usr/bin/env").wait(timeout: 30)
            return r.stdout.split(separator: " ").first.map(String.init)
        }
    }

    @Test func categoricalKeyInDefinitions() throws {
        let def = try FeatureDefinition.parse("[[feature]]\nname = \"t\"\nkind = \"spread\"\ncategorical = true\n")
        #expect(def.features[0].categorical)
        #expect(try !FeatureDefinition.parse("[[feature]]\nname = \"t\"\nkind = \"spread\"\n").features[0].categorical)
        #expect(throws: FeatureError.syntax(line: 4, message: "categorical must be true or false")) {
            try FeatureDefinition.parse("[[feature]]\nname = \"t\"\nkind = \"spread\"\ncategorical = 1\n")
        }
    }
}
