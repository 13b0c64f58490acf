import Foundation
import TestSupport
import Testing

/// `tickbus export` against the real readers (acceptance 1 of issue 15): the bundled recording's
/// market and decision rings, and a real LOBSTER session — its market ring recorded live from the
/// feed, its strategy ring (decisions, orders, order events, fills) written by `tickbus backtest` in
/// the live format — read back by pyarrow, DuckDB and polars equal `journal cat` row for row and
/// column for column (Tests/ParquetTests/export_check.py); partitioned exports give DuckDB's
/// hive_partitioning the same counts per partition; pyarrow's metadata shows ZSTD and exact statistics.
@Suite(.serialized) struct ExportTests {
    static let root = TickBusTest.repositoryRoot
    static var recording: String { root.appendingPathComponent("Recordings/synthetic-5/session").path }

    /// Exports `ring` of `journal` into `out` and runs the checker; returns the export's stdout.
    @discardableResult
    func exportAndCheck(_ journal: String, _ ring: String, _ out: String, partition: String? = nil) throws -> String {
        var args = ["export", "--journal", journal, "--ring", ring, "--out", out, "--row-group-rows", "2000"]
        if let partition { args += ["--partition", partition] }
        let e = try TickBusTest.run(args, timeout: 120)
        #expect(e.status == 0, "export: \(e.stderr)")
        #expect(e.lastLine.hasPrefix("exported ring=\(ring) records="), "\(e.stdout)")
        var check = [TickBusTest.binary, journal, ring, out]
        if partition != nil { check.append("--partitioned") }
        let r = try pythonScript("export_check.py", check)
        #expect(r.status == 0, "\(ring)\(partition.map { " --partition \($0)" } ?? ""): \(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("export-check ok"), "\(r.stdout)")
        return e.stdout
    }

    @Test("the bundled recording: market and decisions.S, flat and partitioned by date and instrument")
    func bundledRecording() throws {
        let dir = TickBusTest.temporaryDirectory("export-recording")
        defer { removeDirectory(dir) }
        let market = try exportAndCheck(Self.recording, "market", dir.path + "/flat")
        #expect(market.contains("table=market rows=5001"), "\(market)")
        try exportAndCheck(Self.recording, "decisions.S", dir.path + "/flat")
        try exportAndCheck(Self.recording, "market", dir.path + "/parts", partition: "date,instrument")
        try exportAndCheck(Self.recording, "decisions.S", dir.path + "/parts", partition: "date,instrument")
        let files = FileManager.default.enumerator(atPath: dir.path + "/parts/market")!.compactMap { $0 as? String }
        #expect(files.contains { $0.hasPrefix("date=") && $0.contains("/instrument=1/part-0.parquet") }, "\(files)")
    }

    @Test(
        "a real LOBSTER session: its live market journal and the backtest's orders and fills",
        .timeLimit(.minutes(5))
    )
    func lobsterSession() throws {
        // The first hour of the day at 10 levels (28,403 messages): a real session, small enough for the suite.
        let messages = try TickBusTest.sharedData("lobster/GOOG_2012-06-21_34200000_37800000_message_10.csv")
        let book = try TickBusTest.sharedData("lobster/GOOG_2012-06-21_34200000_37800000_orderbook_10.csv")
        let bus = TickBusTest.uniqueBus("export")
        let dir = TickBusTest.temporaryDirectory("export-lobster")
        defer {
            TickBusTest.removeBus(bus)
            removeDirectory(dir)
        }
        let session = dir.path + "/session"
        let recorder = try Child([
            "record", "--bus", bus, "--rings", "market", "--dir", session, "--gating", "--attach-timeout", "30",
        ])
        let feed = try Child([
            "feed", "--bus", bus, "--source", "lobster:\(messages),\(book)", "--wait-readers", "1", "--wait-timeout",
            "30",
        ])
        let f = feed.wait(timeout: 120)
        let r = recorder.wait(timeout: 60)
        #expect(f.status == 0 && !f.timedOut, "feed: \(f.stderr)")
        #expect(r.status == 0 && !r.timedOut, "record: \(r.stderr)")
        let backtest = dir.path + "/backtest"
        let b = try TickBusTest.run(
            [
                "backtest", "--source", "journal:\(session)",
                "--features", Self.root.appendingPathComponent("Recordings/synthetic-5/features.toml").path,
                "--model", Self.root.appendingPathComponent("Recordings/synthetic-5/model.json").path,
                "--execution", Self.root.appendingPathComponent("Tools/backtest/join.toml").path, "--out", backtest,
            ],
            timeout: 180
        )
        #expect(b.status == 0, "backtest: \(b.stderr)")
        let rings = try FileManager.default.contentsOfDirectory(atPath: backtest + "/journal")
        let ring = try #require(rings.first { $0.hasPrefix("decisions.") && $0.hasSuffix(".000000.tbj") })
            .replacingOccurrences(of: ".000000.tbj", with: "")
        // Partitioned (DuckDB's per-partition counts); the flat market table is checked on the bundled recording.
        try exportAndCheck(session, "market", dir.path + "/market", partition: "date,instrument")
        let out = try exportAndCheck(backtest + "/journal", ring, dir.path + "/flat")
        #expect(out.contains("table=fill rows="), "the session has fills: \(out)")
        #expect(out.contains("table=order rows="), "\(out)")
    }

    @Test("bench export: the report's shape (a tiny run; speed is the benchmark's business, not a test's)")
    func benchReport() throws {
        let r = try TickBusTest.run(
            ["bench", "export", "--messages", "20000", "--rounds", "1", "--json"],
            timeout: 120
        )
        #expect(r.status == 0, "\(r.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(r.lastLine.utf8)) as! [String: Any]
        #expect(json["bench"] as? String == "export")
        let export = (json["result"] as! [String: Any])["export"] as! [String: Any]
        let pyarrow = (json["baseline"] as! [String: Any])["pyarrow"] as! [String: Any]
        for s in [export, pyarrow] {
            #expect((s["records_per_s"] as! Int) > 0 && (s["mb_per_s"] as! Double) > 0 && (s["file_bytes"] as! Int) > 0)
        }
        #expect((json["ratio"] as! [String: Any])["export_vs_pyarrow_records_per_s"] is Double)
        #expect((json["config"] as! [String: Any])["records"] as? Int == 20_000)
    }

    @Test("bad arguments and a missing journal: clear errors")
    func badInput() throws {
        let dir = TickBusTest.temporaryDirectory("export-bad")
        defer { removeDirectory(dir) }
        let p = try TickBusTest.run([
            "export", "--journal", Self.recording, "--ring", "market", "--out", dir.path, "--partition", "hour",
        ])
        #expect(
            p.status != 0 && p.stderr.contains("--partition hour: expected date, instrument or date,instrument"),
            "\(p.stderr)"
        )
        let m = try TickBusTest.run(["export", "--journal", dir.path + "/none", "--ring", "market", "--out", dir.path])
        #expect(m.status == 1 && m.stderr.hasPrefix("Error: export: "), "\(m.stderr)")
        #expect(!m.stderr.contains("USAGE"), "no usage banner for a runtime error: \(m.stderr)")
        let r = try TickBusTest.run(["export", "--journal", Self.recording, "--ring", "nope", "--out", dir.path])
        #expect(r.status == 1 && r.stderr.contains("nope"), "\(r.stderr)")
        // A journal cut short: exit 1 naming the file and why, as `journal cat` does; what came before is written.
        let cut = dir.path + "/cut"
        try FileManager.default.createDirectory(atPath: cut, withIntermediateDirectories: true)
        let segment = try Data(contentsOf: URL(fileURLWithPath: Self.recording + "/market.000000.tbj"))
        try segment.prefix(4096 + 262_144 + 1000).write(to: URL(fileURLWithPath: cut + "/market.000000.tbj"))
        let c = try TickBusTest.run(["export", "--journal", cut, "--ring", "market", "--out", dir.path + "/cut-out"])
        #expect(
            c.status == 1 && c.stderr.contains("the journal stopped after") && c.stderr.contains("truncated block"),
            "\(c.stderr)"
        )
        let rows = try pythonScript("export_check.py", [TickBusTest.binary, cut, "market", dir.path + "/cut-out"])
        #expect(rows.status == 0, "the rows before the cut equal journal cat's: \(rows.stdout)")
        #expect(rows.stdout.contains("table=market rows=") && !rows.stdout.contains("rows=0 "), "\(rows.stdout)")
    }
}
