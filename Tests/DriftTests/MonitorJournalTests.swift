import Drift
import DriftMonitor
import Foundation
import Journal
import TestSupport
import Testing
import TickBusCore

/// `tickbus drift --journal` over the bundled session (Recordings/synthetic-5): the window lines'
/// contract, the outcomes against the backtest's ledger (an independent implementation of the
/// same rule), the statistics against the scorer over windows cut from the journal here, the hit
/// p-value against scipy, the refusals (another definition, another layout) and the policy's
/// actions in a journal run.
@Suite("Drift monitor over a journal", .serialized)
struct MonitorJournalTests {
    static let recording = TickBusTest.repositoryRoot.appendingPathComponent("Recordings/synthetic-5").path
    static var session: String { recording + "/session" }
    static var features: String { recording + "/features.toml" }
    static var model: String { recording + "/model.json" }

    /// The session's feature table with the model's predictions, and its baseline.
    static func baseline(in dir: String, definition: String = features) throws -> String {
        let plain = dir + "/plain.csv"
        let f = try TickBusTest.run(
            ["features", "--source", "journal:\(session)", "--features", definition, "--out", plain],
            timeout: 60
        )
        try #require(f.status == 0, "features: \(f.stderr)")
        let p = try TickBusTest.run(["model", "predict", "--model", model, "--input", plain], timeout: 60)
        try #require(p.status == 0, "predict: \(p.stderr)")
        let lines = try String(contentsOfFile: plain, encoding: .utf8).split(separator: "\n")
        let predictions = p.stdout.split(separator: "\n")
        var table = String(lines[0]) + ",prediction\n"
        for (l, x) in zip(lines.dropFirst(), predictions) { table += l + "," + x + "\n" }
        try table.write(toFile: dir + "/table.csv", atomically: true, encoding: .utf8)
        let out = dir + "/b.tbbaseline"
        let b = try TickBusTest.run(
            ["drift", "baseline", "--table", dir + "/table.csv", "--features", definition, "--out", out],
            timeout: 60
        )
        try #require(b.status == 0, "baseline: \(b.stderr)")
        return out
    }

    /// A JSON number (Foundation's parser may be off in the last bits) against a statistic; null against nil.
    static func same(_ json: Any?, _ v: Double?) -> Bool {
        guard let v else { return json is NSNull }
        guard let x = json as? Double else { return false }
        return abs(x - v) <= 1e-12 * max(abs(v), 1e-300)
    }

    static func lines(_ stdout: String) -> [[String: Any]] {
        stdout.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }

    @Test("windows, outcomes and statistics", .timeLimit(.minutes(3)))
    func windows() throws {
        let dir = TickBusTest.temporaryDirectory("drift-journal").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let baseline = try Self.baseline(in: dir)
        let horizon = "1000000"
        let r = try TickBusTest.run(
            [
                "drift", "--journal", Self.session, "--strategy", "S", "--baseline", baseline, "--window", "150",
                "--horizon-ns", horizon, "--expected-hit-rate", "0.6", "--features", Self.features,
            ],
            timeout: 60
        )
        try #require(r.status == 0, "drift: \(r.stderr)")
        let windows = Self.lines(r.stdout).filter { $0["window"] != nil }
        // 632 decision records: four full windows of 150 and the partial last one with its count.
        #expect(windows.map { $0["records"] as? Int } == [150, 150, 150, 150, 32])
        #expect(windows.map { $0["window"] as? Int } == [0, 1, 2, 3, 4])
        #expect(windows.map { $0["first_sequence"] as? Int } == [0, 150, 300, 450, 600])
        #expect(windows.map { $0["last_sequence"] as? Int } == [149, 299, 449, 599, 631])
        let keys: Set = [
            "window", "first_sequence", "last_sequence", "records", "features", "prediction", "hit_rate", "hits",
            "signals", "hit_pvalue", "level", "actions",
        ]
        for w in windows {
            #expect(Set(w.keys) == keys)
            #expect(w["level"] as? String == "none")
            let f = try #require(w["features"] as? [String: [String: Any]])
            #expect(Set(f.keys) == ["mid", "spread", "imb", "ofi50", "ret1s", "vol_ev"])
            for (_, s) in f {
                #expect(Set(s.keys) == ["psi", "kl", "js", "ks", "ks_pvalue", "w1", "w1_norm", "nan_share"])
            }
            // ret1s is NaN throughout this short session: a reported condition, not a failure.
            #expect(f["ret1s"]?["nan_share"] as? Double == 1)
            #expect(f["ret1s"]?["ks"] is NSNull && f["ret1s"]?["w1"] is NSNull)
        }

        // Outcomes: the backtest's ledger implements the same rule separately; totals must agree.
        let bt = try TickBusTest.run(
            [
                "backtest", "--source", "journal:\(Self.session)", "--features", Self.features, "--model", Self.model,
                "--execution", TickBusTest.repositoryRoot.appendingPathComponent("Tools/backtest/join.toml").path,
                "--out", dir + "/bt", "--horizon-ns", horizon,
            ],
            timeout: 60
        )
        try #require(bt.status == 0, "backtest: \(bt.stderr)")
        let report = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/bt/report.json")))
                as? [String: Any]
        )
        let hits = windows.map { $0["hits"] as! Int }.reduce(0, +)
        let signals = windows.map { $0["signals"] as! Int }.reduce(0, +)
        #expect(hits == report["hits"] as? Int && signals == report["signals"] as? Int, "\(hits)/\(signals)")
        #expect(signals > 300)

        // hit_pvalue = scipy.stats.binomtest(k, n, 0.6, alternative="less").pvalue
        let pairs = windows.compactMap { w -> String? in
            guard let n = w["signals"] as? Int, n > 0 else { return nil }
            return "(\(w["hits"] as! Int),\(n))"
        }
        let py = try Child(
            [
                "python3", "-c",
                "from scipy.stats import binomtest\nfor k,n in [\(pairs.joined(separator: ","))]: "
                    + "print(repr(float(binomtest(k,n,0.6,alternative='less').pvalue)))",
            ],
            executable: "/usr/bin/env"
        ).wait(timeout: 60)
        try #require(py.status == 0, "scipy: \(py.stderr)")
        let scipy = py.stdout.split(separator: "\n").compactMap { Double($0) }
        let ours = windows.compactMap { ($0["signals"] as? Int ?? 0) > 0 ? $0["hit_pvalue"] as? Double : nil }
        #expect(ours.count == scipy.count)
        for (a, b) in zip(ours, scipy) { #expect(abs(a - b) <= 1e-9 * max(abs(b), 1e-300), "\(a) vs \(b)") }

        // Statistics: the scorer over each window's values cut from the journal here.
        let base = try DriftBaseline(contentsOf: baseline)
        let reader = try JournalReader(directory: Self.session, ring: "decisions.S")
        var columns = [[Double]](repeating: [], count: 7)
        var windowIndex = 0
        var scorer = WindowScorer(capacity: 150)
        func check() {
            let w = windows[windowIndex]
            let f = w["features"] as! [String: [String: Any]]
            for c in 0..<7 {
                guard case .numeric(let s) = scorer.score(columns[c], against: base.columns[c]) else {
                    Issue.record("numeric column \(c)")
                    continue
                }
                let json = c < 6 ? f[base.featureNames[c]]! : w["prediction"] as! [String: Any]
                for (key, v) in [
                    ("psi", s.psi), ("kl", s.kl), ("js", s.js), ("ks", s.ks), ("ks_pvalue", s.ksPValue), ("w1", s.w1),
                    ("w1_norm", s.w1Norm), ("nan_share", s.nanShare),
                ] {
                    #expect(
                        Self.same(json[key], v),
                        "window \(windowIndex) column \(c) \(key): \(json[key]!) vs \(String(describing: v))"
                    )
                }
            }
            windowIndex += 1
            columns = [[Double]](repeating: [], count: 7)
        }
        reader.readToEnd { e in
            guard case .record(let p) = e else { return }
            let d = DecisionRecordView(p)
            guard d.isDecision else { return }
            for c in 0..<6 { columns[c].append(d.feature(c)) }
            columns[6].append(d.livePrediction)
            if columns[0].count == 150 { check() }
        }
        if !columns[0].isEmpty { check() }
        #expect(windowIndex == 5)
    }

    @Test("windows whose outcomes never come are printed in order, at most 64 held open", .timeLimit(.minutes(2)))
    func boundedWindows() throws {
        let dir = TickBusTest.temporaryDirectory("drift-bounded").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let baseline = try Self.baseline(in: dir)
        // A horizon of a day: no outcome is known before the end; 632 records in windows of 5.
        let r = try TickBusTest.run(
            [
                "drift", "--journal", Self.session, "--strategy", "S", "--baseline", baseline, "--window", "5",
                "--horizon-ns", "86400000000000",
            ],
            timeout: 60
        )
        try #require(r.status == 0, "\(r.stderr)")
        let windows = Self.lines(r.stdout).filter { $0["window"] != nil }
        #expect(windows.map { $0["window"] as? Int } == Array(0..<127))
        #expect(windows.map { $0["records"] as! Int }.reduce(0, +) == 632)
        #expect(windows.allSatisfy { $0["signals"] as? Int == 0 && $0["hit_rate"] is NSNull })
    }

    @Test("a baseline of another definition, or decisions of another layout, is refused", .timeLimit(.minutes(2)))
    func refusals() throws {
        let dir = TickBusTest.temporaryDirectory("drift-refuse").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // The same features in another order.
        let text = try String(contentsOfFile: Self.features, encoding: .utf8)
        let parts = text.components(separatedBy: "[[feature]]")
        let swapped =
            parts[0] + "[[feature]]" + parts[2] + "[[feature]]" + parts[1]
            + parts[3...].map { "[[feature]]" + $0 }.joined()
        let other = dir + "/other.toml"
        try swapped.write(toFile: other, atomically: true, encoding: .utf8)
        let baseline = try Self.baseline(in: dir)
        let r = try TickBusTest.run(
            [
                "drift", "--journal", Self.session, "--strategy", "S", "--baseline", baseline, "--features", other,
            ],
            timeout: 60
        )
        #expect(r.status == 1 && r.stdout.isEmpty, "\(r.stdout)")
        #expect(r.stderr.contains("is of another feature definition"), "\(r.stderr)")
        #expect(r.stderr.contains("[\"spread\", \"mid\""), "\(r.stderr)")
        #expect(!r.stderr.contains("USAGE"), "a runtime refusal prints no usage banner")

        // Decisions with another feature count than the baseline's (a five-feature baseline).
        let five = dir + "/five"
        try FileManager.default.createDirectory(atPath: five, withIntermediateDirectories: true)
        let fiveDef = five + "/f.toml"
        try (parts[0...5].joined(separator: "[[feature]]")).write(toFile: fiveDef, atomically: true, encoding: .utf8)
        let plain = five + "/plain.csv"
        let f = try TickBusTest.run(
            ["features", "--source", "journal:\(Self.session)", "--features", fiveDef, "--out", plain],
            timeout: 60
        )
        try #require(f.status == 0, "\(f.stderr)")
        let fiveBaseline = five + "/b.tbbaseline"
        let b = try TickBusTest.run(
            ["drift", "baseline", "--table", plain, "--features", fiveDef, "--out", fiveBaseline],
            timeout: 60
        )
        try #require(b.status == 0, "\(b.stderr)")
        let r2 = try TickBusTest.run(
            ["drift", "--journal", Self.session, "--strategy", "S", "--baseline", fiveBaseline],
            timeout: 60
        )
        #expect(r2.status == 1 && r2.stderr.contains("the decisions carry 6 features, the baseline 5"), "\(r2.stderr)")

        // A journal whose decisions.S is the market ring's (renamed): refused before any record.
        let fake = dir + "/fake"
        try FileManager.default.createDirectory(atPath: fake, withIntermediateDirectories: true)
        for (from, to) in [("market.000000.tbj", "decisions.S.000000.tbj"), ("market.index", "decisions.S.index")] {
            try FileManager.default.copyItem(atPath: Self.session + "/" + from, toPath: fake + "/" + to)
        }
        let r3 = try TickBusTest.run(
            ["drift", "--journal", fake, "--strategy", "S", "--baseline", baseline],
            timeout: 60
        )
        #expect(r3.status == 2 && r3.stderr.contains("decisions.S"), "\(r3.stderr)")
    }

    @Test(
        "the policy's levels and actions in a journal run: alert line and file, retrain request",
        .timeLimit(.minutes(2))
    )
    func policy() throws {
        let dir = TickBusTest.temporaryDirectory("drift-policy").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let baseline = try Self.baseline(in: dir)
        let policy = dir + "/p.toml"
        try """
        [policy]
        alerts_file = "\(dir)/alerts.jsonl"
        retrain_dir = "\(dir)"
        [level.minor]
        psi = 0.05
        consecutive = 2
        actions = ["alert", "retrain"]
        [level.major]
        psi = 100
        actions = ["rollback"]
        """.write(toFile: policy, atomically: true, encoding: .utf8)
        let r = try TickBusTest.run(
            [
                "drift", "--journal", Self.session, "--strategy", "S", "--baseline", baseline, "--window", "150",
                "--policy", policy,
            ],
            timeout: 60
        )
        try #require(r.status == 0, "\(r.stderr)")
        let all = Self.lines(r.stdout)
        let windows = all.filter { $0["window"] != nil && $0["alert"] == nil }
        // Every window of this short session is far from the whole-session baseline in some column.
        #expect(windows.map { $0["level"] as? String } == ["none", "minor", "minor", "minor", "minor"])
        let actions = windows[1]["actions"] as? [[String: Any]] ?? []
        #expect(actions.map { $0["action"] as? String } == ["alert", "retrain"])
        #expect(actions.allSatisfy { $0["status"] as? String == "done" }, "\(actions)")
        #expect(windows[2]["actions"] as? [Any] == nil || (windows[2]["actions"] as! [Any]).isEmpty)
        let alerts = all.filter { $0["alert"] != nil }
        #expect(alerts.count == 1 && alerts[0]["alert"] as? String == "minor" && alerts[0]["window"] as? Int == 1)
        let file = try String(contentsOfFile: dir + "/alerts.jsonl", encoding: .utf8)
        #expect(file.split(separator: "\n").count == 1 && file.contains("{\"alert\": \"minor\", "))
        let request = try #require(
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: URL(fileURLWithPath: dir + "/retrain-S-window-1.json"))
            ) as? [String: Any]
        )
        #expect(request["request"] as? String == "retrain" && request["window"] as? Int == 1)
        #expect(request["model_id"] as? String == "f2f24f6570a3b9c0")
        #expect((request["statistics"] as? [String: Any])?["features"] != nil)
        #expect((request["breaches"] as? [[String: Any]])?.isEmpty == false)
    }
}
