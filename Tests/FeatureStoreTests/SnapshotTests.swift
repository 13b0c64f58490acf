import FeatureStore
import Foundation
import Journal
import Registry
import TestSupport
import Testing
import TickBusCore

/// A LOBSTER session cut to its first `lines` messages (and book lines), written to `dir`: a real
/// day, small enough for the suite. `change` may rewrite one message line (index, line).
func lobsterSubset(_ dir: URL, lines: Int, change: ((Int, String) -> String)? = nil) throws -> String {
    let messages = try TickBusTest.sharedData("lobster/GOOG_2012-06-21_34200000_37800000_message_10.csv")
    let book = try TickBusTest.sharedData("lobster/GOOG_2012-06-21_34200000_37800000_orderbook_10.csv")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    var m = try String(contentsOfFile: messages, encoding: .utf8).split(separator: "\n").prefix(lines).map(String.init)
    if let change { for i in m.indices { m[i] = change(i, m[i]) } }
    let b = try String(contentsOfFile: book, encoding: .utf8).split(separator: "\n").prefix(lines)
    // The names keep LOBSTER's TICKER_DATE_… form: the session date comes from it.
    let mp = dir.appendingPathComponent("GOOG_2012-06-21_34200000_37800000_message_10.csv").path
    let bp = dir.appendingPathComponent("GOOG_2012-06-21_34200000_37800000_orderbook_10.csv").path
    try (m.joined(separator: "\n") + "\n").write(toFile: mp, atomically: true, encoding: .utf8)
    try (b.joined(separator: "\n") + "\n").write(toFile: bp, atomically: true, encoding: .utf8)
    return "lobster:\(mp),\(bp)"
}

let featuresToml = TickBusTest.repositoryRoot.appendingPathComponent("Tools/strategy/features.toml").path

/// Runs `tickbus features snapshot` and returns the id it printed.
func snapshot(_ source: String, _ out: String, latency: Int64 = 250_000) throws -> String {
    let r = try TickBusTest.run(
        [
            "features", "snapshot", "--source", source, "--features", featuresToml, "--out", out,
            "--latency-ns", String(latency),
        ],
        timeout: 120
    )
    #expect(r.status == 0, "snapshot: \(r.stderr)")
    let kv = keyValues(r.lastLine)
    return kv["id"] ?? ""
}

/// Snapshots (acceptance 3 and 6 of issue 15): content addressing, the data equal to the offline
/// table `tickbus features` prints, and a manifest that does not match its data refused.
@Suite(.serialized) struct SnapshotTests {
    @Test("the same inputs give the same id; one record changed gives another")
    func contentAddressed() throws {
        let dir = TickBusTest.temporaryDirectory("snapshot-hash")
        defer { try? FileManager.default.removeItem(at: dir) }
        let source = try lobsterSubset(dir.appendingPathComponent("in"), lines: 3000)
        let a = try snapshot(source, dir.path + "/a")
        let b = try snapshot(source, dir.path + "/b")
        #expect(SnapshotManifest.isDigest(a), "id \(a)")
        #expect(a == b)
        // hashlib, json and pyarrow agree: canonical manifest, data hash, columns, UTC ns times, latency.
        let script = TickBusTest.repositoryRoot.appendingPathComponent("Tests/FeatureStoreTests/snapshot_check.py").path
        let check = try Child(["python3", script, dir.path + "/a", a], executable: "/usr/bin/env").wait(timeout: 120)
        #expect(check.status == 0 && check.stdout.contains("snapshot-check ok"), "\(check.stdout)\(check.stderr)")
        let manifest = try [UInt8](Data(contentsOf: dir.appendingPathComponent("a/manifest.json")))
        #expect(Manifest.sha256Hex(manifest) == a, "the id is the sha256 of the manifest")
        // One record changed: the size of message 1000 (field 4 of time,type,id,size,price,direction).
        let changed = try lobsterSubset(dir.appendingPathComponent("changed"), lines: 3000) { i, line in
            guard i == 1000 else { return line }
            var f = line.split(separator: ",").map(String.init)
            f[3] = String(Int(f[3])! + 1)
            return f.joined(separator: ",")
        }
        let c = try snapshot(changed, dir.path + "/c")
        #expect(SnapshotManifest.isDigest(c) && c != a)
        // Another declared latency is another snapshot (its knowledge times differ).
        #expect(try snapshot(source, dir.path + "/d", latency: 1) != a)
        let t = try SnapshotTable(directory: dir.path + "/a")
        #expect(t.id == a && t.manifest.sessionDate == "2012-06-21" && t.manifest.latencyNs == 250_000)
        #expect(t.manifest.inputs.count == 2 && t.manifest.sourceKind == "lobster")
    }

    @Test("the rows equal tickbus features' table, with event and knowledge times")
    func rowsEqualOfflineTable() throws {
        let dir = TickBusTest.temporaryDirectory("snapshot-rows")
        defer { try? FileManager.default.removeItem(at: dir) }
        let source = try lobsterSubset(dir.appendingPathComponent("in"), lines: 3000)
        _ = try snapshot(source, dir.path + "/s", latency: 777)
        let csv = try TickBusTest.run(["features", "--source", source, "--features", featuresToml, "--out", "-"])
        #expect(csv.status == 0, "\(csv.stderr)")
        let lines = csv.stdout.split(separator: "\n").dropFirst()
        let t = try SnapshotTable(directory: dir.path + "/s")
        #expect(t.count == lines.count && t.count > 100, "\(t.count) rows against \(lines.count)")
        let midnight = SnapshotManifest.midnightNs("2012-06-21")!
        for (r, line) in lines.enumerated() where r < t.count {
            let f = line.split(separator: ",", omittingEmptySubsequences: false)
            let time = Int64(f[1])!
            #expect(t.sequence[r] == UInt64(f[0])! && t.instrument[r] == UInt32(f[2])!, "row \(r)")
            #expect(t.eventTime[r] == midnight + time && t.knowledgeTime[r] == midnight + time + 777, "row \(r)")
            for c in 0..<t.manifest.features.count {
                let expected = f[3 + c] == "nan" ? Double.nan : Double(f[3 + c])!
                let v = t.features[c][r]
                #expect(v == expected || (v.isNaN && expected.isNaN), "row \(r) \(t.manifest.features[c])")
            }
        }
    }

    @Test("a manifest that does not match its data is refused, naming the file")
    func mismatchRefused() throws {
        let dir = TickBusTest.temporaryDirectory("snapshot-mismatch")
        defer { try? FileManager.default.removeItem(at: dir) }
        let source = try lobsterSubset(dir.appendingPathComponent("in"), lines: 1500)
        let s = dir.path + "/s"
        _ = try snapshot(source, s)
        let data = s + "/features.parquet"
        let original = try Data(contentsOf: URL(fileURLWithPath: data))
        // One byte of the data changed.
        var bytes = [UInt8](original)
        bytes[bytes.count / 2] ^= 0x01
        try Data(bytes).write(to: URL(fileURLWithPath: data))
        #expect(throws: SnapshotError.self) { try SnapshotTable(directory: s) }
        let r = try TickBusTest.run(["features", "asof", "--snapshot", s, "--at", "0"])
        #expect(
            r.status == 1 && r.stderr.contains("features.parquet") && r.stderr.contains("does not match the manifest")
        )
        #expect(!r.stderr.contains("USAGE"), "\(r.stderr)")
        try original.write(to: URL(fileURLWithPath: data))
        _ = try SnapshotTable(directory: s)
        // The manifest edited (canonical still, another row count): refused against the data.
        let mpath = s + "/manifest.json"
        let manifest = try String(contentsOfFile: mpath, encoding: .utf8)
        let rows = try SnapshotTable(directory: s).count
        try manifest.replacingOccurrences(of: "\"rows\":\(rows)", with: "\"rows\":\(rows + 1)")
            .write(toFile: mpath, atomically: true, encoding: .utf8)
        let e = try TickBusTest.run(["features", "asof", "--snapshot", s, "--at", "0"])
        #expect(e.status == 1 && e.stderr.contains("rows, the manifest says \(rows + 1)"), "\(e.stderr)")
        // Not canonical (whitespace added): refused by the reader, naming the manifest.
        try manifest.replacingOccurrences(of: ",", with: ", ").write(toFile: mpath, atomically: true, encoding: .utf8)
        let n = try TickBusTest.run(["features", "asof", "--snapshot", s, "--at", "0"])
        #expect(n.status == 1 && n.stderr.contains("manifest.json") && n.stderr.contains("canonical"), "\(n.stderr)")
    }
}

/// Journal sources (acceptance 3 of issue 15 on a journal): the bundled recording's market ring
/// copied record for record, once unchanged and once with one record's exchange time moved by 1 ns.
@Suite(.serialized) struct JournalSnapshotTests {
    /// Copies the bundled market ring into `dir`, the first record of instrument 1 (the definition's)
    /// at or after position `changed` (if any) with its exchange time + 1 ns.
    static func copyMarket(into dir: String, changed: Int?) throws {
        let source = TickBusTest.repositoryRoot.appendingPathComponent("Recordings/synthetic-5/session").path
        let r = try JournalReader(directory: source, ring: "market")
        var w = try JournalWriter.create(
            directory: dir,
            ring: "market",
            bus: "test",
            schema: r.schema,
            slotSize: r.slotSize,
            generation: 1,
            firstSequence: 0
        )
        var i = 0
        var done = false
        let copy = UnsafeMutableRawPointer.allocate(byteCount: r.slotSize, alignment: 64)
        defer { copy.deallocate() }
        while let e = r.next() {
            guard case .record(let p) = e else { continue }
            copy.copyMemory(from: p, byteCount: r.slotSize)
            if let changed, i >= changed, !done, MarketMessageView(UnsafeRawPointer(copy)).instrument == 1 {
                done = true
                let t = copy.load(fromByteOffset: MarketLayout.exchangeTime, as: Int64.self)
                copy.storeBytes(of: t + 1, toByteOffset: MarketLayout.exchangeTime, as: Int64.self)
            }
            try w.append(UnsafeRawPointer(copy))
            i += 1
        }
        try w.seal(reason: .endOfSession)
    }

    @Test("a journal: the same journal twice gives one id; a copy with one record changed gives other data")
    func journalHashes() throws {
        let dir = TickBusTest.temporaryDirectory("snapshot-journal")
        defer { try? FileManager.default.removeItem(at: dir) }
        let toml = TickBusTest.repositoryRoot.appendingPathComponent("Recordings/synthetic-5/features.toml").path
        func build(_ journal: String, _ out: String) throws -> (id: String, data: String) {
            let r = try TickBusTest.run(
                [
                    "features", "snapshot", "--source", "journal:" + journal, "--features", toml, "--out", out,
                    "--session-date", "2026-12-03",
                ],
                timeout: 120
            )
            #expect(r.status == 0, "\(r.stderr)")
            let t = try SnapshotTable(directory: out)
            #expect(t.id == keyValues(r.lastLine)["id"])
            return (t.id, t.manifest.data[0].sha256)
        }
        let same = dir.path + "/same"
        let changed = dir.path + "/changed"
        try Self.copyMarket(into: same, changed: nil)
        try Self.copyMarket(into: changed, changed: 2_000)
        let a = try build(same, dir.path + "/a")
        let b = try build(same, dir.path + "/b")
        #expect(a == b)
        let c = try build(changed, dir.path + "/c")
        #expect(c.id != a.id && c.data != a.data, "one record changed must change the data and the id")
        // The bundled journal itself: the same rows as the unchanged copy (other files, so another id).
        let o = try build(
            TickBusTest.repositoryRoot.appendingPathComponent("Recordings/synthetic-5/session").path,
            dir.path + "/o"
        )
        #expect(o.data == a.data && o.id != a.id)
    }
}
