import Foundation
import Journal
import TestSupport
import Testing
import TickBusCore

/// `tickbus backtest` against the live code: a live paper-trading session (feed → `strategy
/// --execution` → recorder) on the real LOBSTER day is re-run by the backtest from the LOBSTER
/// files; every record equals the live one, `--reconcile` finds no difference, and the report's
/// P&L is recomputed independently (Python, from fills.csv and LOBSTER's own order-book file).
@Suite(.serialized) struct BacktestTests {
    static let root = TickBusTest.repositoryRoot
    static var features: String { root.appendingPathComponent("Recordings/synthetic-5/features.toml").path }
    static var model: String { root.appendingPathComponent("Recordings/synthetic-5/model.json").path }
    static var execution: String { root.appendingPathComponent("Tools/backtest/join.toml").path }

    /// The records of `ring` in `dir` (copies), in ring order.
    static func records(_ dir: String, _ ring: String) throws -> (slot: Int, records: [[UInt8]]) {
        let reader = try JournalReader(directory: dir, ring: ring)
        var out: [[UInt8]] = []
        while case .record(let q)? = reader.next() {
            out.append(Array(UnsafeRawBufferPointer(start: q, count: reader.slotSize)))
        }
        return (reader.slotSize, out)
    }

    /// The bytes a re-run reproduces: all but the receive and publish times (40..<56), which are
    /// clock readings of the run.
    static func deterministic(_ r: [UInt8], keepSequence: Bool = true) -> [UInt8] {
        Array(r[(keepSequence ? 0 : 8)..<40]) + Array(r[56...])
    }

    static func kind(_ r: [UInt8]) -> UInt16 { UInt16(r[8]) | UInt16(r[9]) << 8 }

    @Test(
        "a live paper session on the LOBSTER day: the backtest's records equal it, --reconcile agrees, P&L recomputed"
    )
    func backtestEqualsLivePaperSession() throws {
        let messages = try TickBusTest.sharedData("lobster/GOOG_2012-06-21_34200000_57600000_message_1.csv")
        let book = try TickBusTest.sharedData("lobster/GOOG_2012-06-21_34200000_57600000_orderbook_1.csv")
        let bus = TickBusTest.uniqueBus("backtest")
        let dir = temporaryDirectory("backtest")
        defer {
            TickBusTest.removeBus(bus)
            removeDirectory(dir)
        }
        let session = dir + "/session"
        let recorder = try Child([
            "record", "--bus", bus, "--rings", "market,decisions.S", "--dir", session, "--gating",
            "--attach-timeout", "30",
        ])
        let strategy = try Child([
            "strategy", "--bus", bus, "--features", Self.features, "--model", Self.model, "--execution",
            Self.execution, "--name", "S", "--cpu", "0", "--gating", "--attach-timeout", "30",
        ])
        let feed = try Child([
            "feed", "--bus", bus, "--source", "lobster:\(messages),\(book)", "--wait-readers", "2", "--wait-timeout",
            "30",
        ])
        let f = feed.wait(timeout: 240)
        let s = strategy.wait(timeout: 120)
        let r = recorder.wait(timeout: 120)
        #expect(f.status == 0 && !f.timedOut, "feed: \(f.stderr)")
        #expect(s.status == 0 && !s.timedOut, "strategy: \(s.stderr)")
        #expect(r.status == 0 && !r.timedOut, "recorder: \(r.stderr)")

        let out = dir + "/bt"
        let bt = try TickBusTest.run(
            [
                "backtest", "--source", "lobster:\(messages),\(book)", "--features", Self.features, "--model",
                Self.model, "--execution", Self.execution, "--out", out, "--name", "S", "--quiet",
            ],
            timeout: 240
        )
        #expect(bt.status == 0, "\(bt.stderr)")
        let line = keyValues(bt.lastLine)
        #expect((Int(line["fills"] ?? "") ?? 0) > 0, "\(bt.stdout)")
        for file in ["orders.csv", "fills.csv", "pnl.csv", "report.json", "report.html"] {
            #expect(FileManager.default.fileExists(atPath: out + "/" + file), "\(file) missing")
        }
        let html = (try? String(contentsOfFile: out + "/report.html", encoding: .utf8)) ?? ""
        // Self-contained: inline SVG, nothing fetched (the SVG namespace URI is a name, not a request).
        #expect(html.contains("<svg") && !html.contains("src=\"http") && !html.contains("href=\"http"))

        // Every record of the live ring, in the same order, equals the backtest's.
        let live = try Self.records(session, "decisions.S")
        let mine = try Self.records(out + "/journal", "decisions.S")
        #expect(live.slot == mine.slot)
        #expect(live.records.count == mine.records.count, "live \(live.records.count) backtest \(mine.records.count)")
        var kinds: Set<UInt16> = []
        var firstDifference: String?
        for (i, (a, b)) in zip(live.records, mine.records).enumerated() where firstDifference == nil {
            kinds.insert(Self.kind(a))
            if Self.deterministic(a) != Self.deterministic(b) { firstDifference = "record \(i) kind \(Self.kind(a))" }
        }
        #expect(firstDifference == nil, "\(firstDifference ?? "")")
        #expect(kinds.isSuperset(of: [100, 102, 103, 104]), "\(kinds)")

        // --reconcile re-runs the recorded session's market ring.
        let rec = try TickBusTest.run(
            [
                "backtest", "--reconcile", session, "--features", Self.features, "--model", Self.model, "--execution",
                Self.execution, "--name", "S",
            ],
            timeout: 240
        )
        #expect(rec.status == 0, "\(rec.stdout) \(rec.stderr)")
        #expect(rec.lastLine.contains("identical=true"), "\(rec.stdout)")

        // The report's P&L from the fills and LOBSTER's last mid, in Python.
        let script = Self.root.appendingPathComponent("Tests/JournalTests/backtest_pnl_check.py").path
        let py = try Child(["python3", script, out, book], executable: "/usr/bin/env").wait(timeout: 120)
        #expect(py.status == 0, "\(py.stdout) \(py.stderr)")
    }

    @Test("the bundled recording: the backtest's decisions equal the live ones")
    func bundledRecordingDecisionsEqual() throws {
        let session = Self.root.appendingPathComponent("Recordings/synthetic-5/session").path
        let dir = temporaryDirectory("backtest-bundled")
        defer { removeDirectory(dir) }
        let bt = try TickBusTest.run(
            [
                "backtest", "--source", "journal:\(session)", "--features", Self.features, "--model", Self.model,
                "--execution", Self.execution, "--out", dir + "/bt", "--name", "S", "--quiet",
            ],
            timeout: 120
        )
        #expect(bt.status == 0, "\(bt.stderr)")
        let live = try Self.records(session, "decisions.S").records.filter { Self.kind($0) == 100 }
        let mine = try Self.records(dir + "/bt/journal", "decisions.S").records.filter { Self.kind($0) == 100 }
        #expect(live.count == 632 && mine.count == live.count)
        // The sequence differs (the backtest's ring holds its orders too); all else is the live decision.
        let differing = zip(live, mine).filter {
            Self.deterministic($0.0, keepSequence: false) != Self.deterministic($0.1, keepSequence: false)
        }.count
        #expect(differing == 0)
    }
}
