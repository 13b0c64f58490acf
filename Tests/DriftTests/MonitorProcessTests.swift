import Foundation
import Journal
import Registry
import TestSupport
import Testing
import TickBusCore

#if canImport(Glibc)
import Glibc
#endif

/// Issue 14's acceptance 2, in separate processes: `control serve`, a gating strategy with version
/// A live (the `champion` alias went V0 → A, so a rollback has a target), a gating recorder, the
/// drift monitor as a live reader, and a feed of the seeded synthetic flow (ITCH 5.0) whose order
/// sizes grow eightfold from message 30,000 on (`shift_itch.py`): order-flow imbalance changes
/// distribution at that known point. The monitor must raise `minor`, then `major`, roll back to V0
/// through the control server; the strategy's decision records must switch models exactly at the
/// control record; the journal must replay bit for bit. The same session without the shift (other
/// seeds) must raise nothing.
@Suite("Drift monitor in a live session", .serialized)
struct MonitorProcessTests {
    static let definition = """
        decide_on = "every"
        max_instruments = 16
        [signal]
        buy_above = 0.05
        sell_below = -0.05
        [[feature]]
        name = "ofi50"
        kind = "ofi"
        events = 50

        """

    static let policy = """
        [level.minor]
        scope = "features"
        psi = 0.6
        actions = ["alert", "retrain"]
        [level.major]
        scope = "features"
        psi = 1.0
        consecutive = 2
        actions = ["alert", "rollback"]

        """

    static var shift: String {
        TickBusTest.repositoryRoot.appendingPathComponent("Tests/DriftTests/shift_itch.py").path
    }

    /// A registry with V0 and A (linear models on ofi50), `m@champion` moved V0 → A, the feature
    /// definition, and a baseline from seed 1's unshifted flow with A's predictions.
    struct Setup {
        let dir: String
        var registry: String { dir + "/registry" }
        var features: String { dir + "/features.toml" }
        var baseline: String { dir + "/b.tbbaseline" }
        var v0 = "", a = ""
        /// Canaries: the opposite of A's signal (worse), and A with another intercept (as good).
        var worse = "", same = ""
        var runtime: [String: UInt64] = [:]

        init(_ prefix: String) throws {
            dir = TickBusTest.temporaryDirectory("drift-live-\(prefix)").path
            let reg = try Registry.create(root: dir + "/registry")
            try MonitorProcessTests.definition.write(toFile: dir + "/features.toml", atomically: true, encoding: .utf8)
            let gated = "gates = [\"features\"]\nlatency_p99_ns = 100000000\n"
            try "[alias.champion]\n\(gated)\n[alias.canary]\n\(gated)\n"
                .write(toFile: reg.root + "/policy.toml", atomically: true, encoding: .utf8)
            var ids: [String] = []
            for (i, (c, b)) in [(0.0005, 0.0), (0.001, 0.01), (-0.001, -0.01), (0.001, 0.011)].enumerated() {
                let model = dir + "/m\(i).json"
                try """
                {"type": "linear", "feature_names": ["ofi50"], "coefficients": [\(c)], "intercept": \(b)}
                """.write(toFile: model, atomically: true, encoding: .utf8)
                ids.append(try reg.add(Registry.AddRequest(name: "m", model: model, features: dir + "/features.toml")))
            }
            (v0, a, worse, same) = (ids[0], ids[1], ids[2], ids[3])
            _ = try reg.setAlias("m@champion", to: v0, reason: "first validated")
            _ = try reg.setAlias("m@champion", to: a, reason: "better")
            for id in ids { runtime[id] = try reg.resolve(id).manifest.runtimeId }

            // The baseline: seed 1's flow through the definition, with A's predictions.
            let itch = dir + "/base.itch"
            try MonitorProcessTests.ok(["synth", "itch", "--seed", "1", "--messages", "60000", "--out", itch])
            let plain = dir + "/plain.csv"
            try MonitorProcessTests.ok(["features", "--source", "itch:\(itch)", "--features", features, "--out", plain])
            let p = try TickBusTest.run(
                ["model", "predict", "--model", dir + "/m1.json", "--input", plain],
                timeout: 60
            )
            try #require(p.status == 0, "\(p.stderr)")
            let lines = try String(contentsOfFile: plain, encoding: .utf8).split(separator: "\n")
            var table = String(lines[0]) + ",prediction\n"
            for (l, x) in zip(lines.dropFirst(), p.stdout.split(separator: "\n")) { table += l + "," + x + "\n" }
            try table.write(toFile: dir + "/table.csv", atomically: true, encoding: .utf8)
            try MonitorProcessTests.ok([
                "drift", "baseline", "--table", dir + "/table.csv", "--features", features, "--out", baseline,
            ])
            try (MonitorProcessTests.policy + "[policy]\nretrain_dir = \"\(dir)\"\n")
                .write(toFile: dir + "/policy.toml", atomically: true, encoding: .utf8)
        }

        func remove() { try? FileManager.default.removeItem(atPath: dir) }
    }

    static func ok(_ args: [String]) throws {
        let r = try TickBusTest.run(args, timeout: 120)
        try #require(r.status == 0 && !r.timedOut, "\(args.prefix(2)): \(r.stderr)")
    }

    /// The session's ITCH file: seed `seed`, shifted ×8 from message 30,000 when `shifted`.
    static func feedFile(_ s: Setup, seed: Int, shifted: Bool) throws -> String {
        let plain = s.dir + "/s\(seed).itch"
        try ok(["synth", "itch", "--seed", "\(seed)", "--messages", "60000", "--out", plain])
        guard shifted else { return plain }
        let out = s.dir + "/s\(seed)-shifted.itch"
        let r = try Child(["python3", shift, plain, out, "30000", "8"], executable: "/usr/bin/env").wait(timeout: 60)
        try #require(r.status == 0, "shift_itch: \(r.stderr)")
        return out
    }

    struct Session {
        var drift: Child.Result
        var journal: String
        var lines: [[String: Any]]
        var strategy: Child.Result
        /// The window lines (alert lines name their window too).
        var windows: [[String: Any]] { lines.filter { $0["window"] != nil && $0["alert"] == nil } }
    }

    /// One session: control serve, strategy (A live), recorder, drift monitor, feed of `itch`.
    static func session(
        _ s: Setup,
        itch: String,
        name: String,
        canary: String? = nil,
        policy: String? = nil
    ) throws -> Session {
        let bus = TickBusTest.uniqueBus("drift-\(name)")
        defer { TickBusTest.removeBus(bus) }
        let journal = s.dir + "/journal-\(name)"
        let server = try Child(["control", "serve", "--bus", bus, "--registry", s.registry])
        defer { _ = server.signal(SIGTERM) }
        #expect(server.waitFor(timeout: 30) { $0.contains("control serve: bus=") }, "\(server.stderr)")
        let strategy = try Child(
            [
                "strategy", "--bus", bus, "--registry", s.registry, "--live", s.a, "--preload", s.v0, "--name", "S",
                "--cpu", "0", "--gating", "--attach-timeout", "30", "--capacity", "262144",
            ] + (canary.map { ["--canary", $0, "--canary-percent", "50"] } ?? [])
        )
        defer { strategy.signal(SIGKILL) }
        let recorder = try Child([
            "record", "--bus", bus, "--rings", "market,decisions.S,control", "--dir", journal, "--gating",
            "--attach-timeout", "30",
        ])
        defer { recorder.signal(SIGKILL) }
        #expect(
            strategy.waitFor(timeout: 30) { _ in
                FileManager.default.fileExists(atPath: "/dev/shm/tickbus/\(bus)/decisions.S")
            }
        )
        let drift = try Child([
            "drift", "--bus", bus, "--strategy", "S", "--baseline", s.baseline, "--policy",
            policy ?? s.dir + "/policy.toml",
            "--registry", s.registry, "--expected-hit-rate", "0.5", "--attach-timeout", "30",
            // A window's line waits for its outcomes; the session spans 1.5 s of exchange time.
            "--horizon-ns", "1000000",
        ])
        defer { drift.signal(SIGKILL) }
        let feed = try Child([
            "feed", "--bus", bus, "--source", "itch:\(itch)", "--rate", "40000", "--capacity", "262144",
            "--wait-readers", "3", "--wait-timeout", "30",
        ])
        defer { feed.signal(SIGKILL) }
        let f = feed.wait(timeout: 120)
        let st = strategy.wait(timeout: 60)
        let d = drift.wait(timeout: 60)
        // The recorder ends when every ring it records is closed: ring control closes with its server.
        server.signal(SIGTERM)
        let r = recorder.wait(timeout: 60)
        #expect(f.status == 0 && !f.timedOut, "feed: \(f.stderr)")
        #expect(st.status == 0 && !st.timedOut, "strategy: \(st.stderr)")
        #expect(d.status == 0 && !d.timedOut, "drift: \(d.stderr)")
        #expect(r.status == 0 && !r.timedOut, "recorder: \(r.stderr)")
        #expect(keyValues(st.lastLine)["lost"] == "0", "\(st.stdout)")
        let lines = d.stdout.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        return Session(drift: d, journal: journal, lines: lines, strategy: st)
    }

    @Test(
        "a regime shift: minor, then major, rollback through the control ring, replay bit for bit",
        .timeLimit(.minutes(5))
    )
    func shiftRollsBack() throws {
        let s = try Setup("shift")
        defer { s.remove() }
        let itch = try Self.feedFile(s, seed: 2, shifted: true)
        let run = try Self.session(s, itch: itch, name: "shift")
        let windows = run.windows
        let levels = windows.map { $0["level"] as? String ?? "?" }
        // Windows of 5,000 decisions; message 30,000 is about decision 36,600 (window 7).
        #expect(windows.count >= 14, "\(levels)")
        #expect(levels.prefix(7).allSatisfy { $0 == "none" }, "before the shift: \(levels)")
        let firstMinor = levels.firstIndex(of: "minor")
        let firstMajor = levels.firstIndex(of: "major")
        #expect(firstMinor != nil && firstMajor != nil && firstMinor! < firstMajor!, "\(levels)")
        if let m = firstMajor { #expect(m <= 10, "major within three windows of the shift: \(levels)") }

        // The actions: the rollback accepted by the server, then applied by the strategy.
        let actions = windows.flatMap { ($0["actions"] as? [[String: Any]]) ?? [] }
        let rollbacks = actions.filter { $0["action"] as? String == "rollback" }
        #expect(rollbacks.count == 1 && rollbacks.first?["status"] as? String == "accepted", "\(rollbacks)")
        let retrain = actions.first { $0["action"] as? String == "retrain" }
        #expect(retrain?["status"] as? String == "done", "\(String(describing: retrain))")
        #expect((retrain?["detail"] as? String ?? "").hasPrefix(s.dir + "/retrain-S-window-"))
        let applied = run.lines.filter { $0["applied"] as? String == "rollback" }
        #expect(applied.count == 1, "\(run.drift.stdout.suffix(2000))")
        let latency = applied.first?["latency_ns"] as? Int ?? -1
        #expect(latency > 0, "window end → control record: \(latency) ns")

        // The journal: A until the rollback's first market sequence, V0 from it.
        let reader = try JournalReader(directory: run.journal, ring: "decisions.S")
        var live = s.runtime[s.a]!
        var switchAt: UInt64?
        var before = 0
        var after = 0
        while let e = reader.next() {
            guard case .record(let p) = e else {
                Issue.record("gap in decisions.S")
                continue
            }
            if p.load(fromByteOffset: RecordHeader.kind, as: UInt16.self) == RecordKind.control.rawValue {
                let c = ControlRecordView(p)
                #expect(c.applied && c.verb == .rollback, "\(String(describing: c.verb)) \(c.message)")
                #expect(c.roles.liveVersion.hex == s.v0 && c.roles.liveModelId == s.runtime[s.v0])
                live = c.roles.liveModelId
                switchAt = c.firstMarketSequence
                continue
            }
            let d = DecisionRecordView(p)
            guard d.isDecision else { continue }
            #expect(d.modelId == live, "decision at \(d.marketSequence)")
            if switchAt == nil { before += 1 } else { after += 1 }
        }
        #expect(
            switchAt != nil && before > 30_000 && after > 5_000,
            "switch at \(String(describing: switchAt)): \(before)/\(after)"
        )

        // The control ring's journal keeps the command with the monitor's reason.
        let control = try JournalReader(directory: run.journal, ring: "control")
        var reasons: [String] = []
        control.readToEnd { e in
            guard case .record(let p) = e, let c = try? ControlCommand.decode(p, size: ControlCommandLayout.slotSize)
            else {
                return
            }
            reasons.append("\(c.issuer): \(c.reason)")
        }
        #expect(
            reasons.count == 1 && reasons[0].hasPrefix("drift: drift w") && reasons[0].contains("major rollback"),
            "\(reasons)"
        )

        let replay = try TickBusTest.run(
            ["replay", "--dir", run.journal, "--verify-decisions", "--registry", s.registry, "--live", s.a],
            timeout: 120
        )
        #expect(replay.status == 0, "\(replay.stdout)\(replay.stderr)")
        #expect(keyValues(replay.lastLine)["identical"] == "true", "\(replay.stdout)\(replay.stderr)")
    }

    @Test("the same flow without a shift raises nothing", .timeLimit(.minutes(5)))
    func noShiftNoAlarm() throws {
        let s = try Setup("calm")
        defer { s.remove() }
        for seed in [3, 5] {
            let itch = try Self.feedFile(s, seed: seed, shifted: false)
            let run = try Self.session(s, itch: itch, name: "calm\(seed)")
            let levels = run.windows.map { $0["level"] as? String ?? "?" }
            #expect(levels.count >= 14 && levels.allSatisfy { $0 == "none" }, "seed \(seed): \(levels)")
            #expect(run.lines.allSatisfy { $0["alert"] == nil && $0["applied"] == nil })
        }
    }
}
