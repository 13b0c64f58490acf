import DriftPolicy
import Testing

/// The policy file (Docs/DRIFT.md, "Policy"): the example reads, unknown keys and impossible
/// thresholds are refused with their line, and the levels' hysteresis and cool-down hold.
@Suite("Drift policy")
struct PolicyTests {
    static let example = """
        # drift policy
        [policy]
        alerts_file = "alerts.jsonl"
        retrain_dir = "retrain"
        issuer = "drift-monitor"

        [level.minor]
        psi = 0.1
        ks_pvalue = 0.001          # a p-value breaches below
        consecutive = 2
        actions = ["alert", "retrain"]   # what it does

        [level.major]
        psi = 0.25
        hit_pvalue = 0.01
        consecutive = 3
        clear_windows = 2
        cooldown_windows = 10
        actions = ["alert", "rollback"]

        [canary]
        min_pairs = 300
        alpha = 0.01
        promote_windows = 2
        max_latency_ratio = 1.5
        """

    @Test("the documented example reads as written")
    func example() throws {
        let p = try DriftPolicy.parse(Self.example)
        #expect(p.alertsFile == "alerts.jsonl" && p.retrainDirectory == "retrain" && p.issuer == "drift-monitor")
        #expect(p.levels.map(\.name) == ["minor", "major"])
        #expect(p.levels[0].thresholds == [PolicyThreshold(.psi, 0.1), PolicyThreshold(.ksPValue, 0.001)])
        #expect(p.levels[0].consecutive == 2 && p.levels[0].actions == [.alert, .retrain])
        #expect(p.levels[1].clearWindows == 2 && p.levels[1].cooldownWindows == 10)
        #expect(p.levels[1].actions == [.alert, .rollback])
        #expect(p.canary == CanaryPolicy(minPairs: 300, alpha: 0.01, promoteWindows: 2, maxLatencyRatio: 1.5))
    }

    func refusal(_ text: String) -> PolicyError? {
        do {
            _ = try DriftPolicy.parse(text)
            return nil
        } catch { return error }
    }

    @Test("unknown keys and tables are refused with the key and the line")
    func unknown() {
        let e = refusal("[level.minor]\npsi = 0.1\n\npsii = 0.2\n")
        #expect(e == .unknownKey(line: 4, table: "level.minor", key: "psii"))
        #expect("\(e!)" == "line 4: unknown key 'psii' in [level.minor]")
        #expect(refusal("[levels.minor]\npsi = 0.1\n") == .unknownTable(line: 1, header: "[levels.minor]"))
        #expect(refusal("[level.Minor]\npsi = 0.1\n") == .unknownTable(line: 1, header: "[level.Minor]"))
        #expect(refusal("[level.none]\npsi = 0.1\n") == .unknownTable(line: 1, header: "[level.none]"))
        #expect(refusal("psi = 0.1\n") == .outsideTable(line: 1, key: "psi"))
        #expect(refusal("[policy]\ncolour = \"red\"\n") == .unknownKey(line: 2, table: "policy", key: "colour"))
        #expect(refusal("[canary]\nbeta = 0.1\n") == .unknownKey(line: 2, table: "canary", key: "beta"))
        #expect(
            refusal("[level.a]\npsi = 0.1\npsi = 0.2\n")
                == .duplicateKey(line: 3, table: "level.a", key: "psi", firstLine: 2)
        )
        #expect(
            refusal("[level.a]\npsi = 0.1\n[level.a]\n") == .duplicateTable(line: 3, header: "[level.a]", firstLine: 1)
        )
        if case .invalid(let line, _, let key, _, _)? = refusal("[level.a]\npsi = 0.1\nactions = [\"page\"]\n") {
            #expect(line == 3 && key == "actions")
        } else {
            Issue.record("an unknown action is refused")
        }
    }

    @Test("impossible thresholds are refused: they could never breach, or always would")
    func impossible() {
        for (key, value) in [
            ("psi", "-0.1"), ("ks", "1"), ("ks", "1.5"), ("js", "1.0"), ("nan_share", "1"), ("ks_pvalue", "0"),
            ("ks_pvalue", "1.5"), ("hit_pvalue", "-1"), ("w1", "nan"), ("psi", "inf"), ("kl", "\"high\""),
        ] {
            let e = refusal("[level.a]\n\(key) = \(value)\n")
            guard case .invalid(let line, let table, let k, let message, _)? = e else {
                Issue.record("\(key) = \(value) was not refused: \(String(describing: e))")
                continue
            }
            #expect(line == 2 && table == "level.a" && k == key, "\(message)")
        }
        #expect(refusal("[level.a]\nconsecutive = 0\npsi = 0.1\n") != nil)
        #expect(
            refusal("[level.a]\nconsecutive = 2\n")
                == .invalidTable(line: 1, header: "[level.a]", message: "a level needs at least one threshold")
        )
        #expect(refusal("[canary]\nalpha = 1\n") != nil)
        #expect(refusal("[canary]\nmax_latency_ratio = 0.5\n") != nil)
        #expect(refusal("[level.a]\npsi = 0.1\nactions = [\"shadow\", \"rollback\"]\n") != nil)
        #expect(
            refusal("[level.a]\npsi = 0.1\nactions = [\"alert\"] x\n")
                == .syntax(line: 3, message: "text after the list: 'x'")
        )
        // Thresholds at the edge that can still both breach and not: accepted.
        #expect(refusal("[level.a]\nks = 0\nks_pvalue = 1\njs = 0.999\npsi = 0\n") == nil)
    }

    /// A plain model of the rules in Docs/DRIFT.md, written out per window, against `PolicyState`.
    @Test("consecutive windows, hysteresis and cool-down")
    func state() throws {
        let p = try DriftPolicy.parse(
            """
            [level.minor]
            psi = 0.1
            consecutive = 2
            actions = ["alert"]
            [level.major]
            psi = 0.25
            consecutive = 1
            clear_windows = 2
            cooldown_windows = 3
            max_firings = 2
            actions = ["rollback"]
            """
        )
        var s = PolicyState(policy: p)
        // psi per window, and what must happen: (level after, levels fired).
        let script: [(Double, Int?, [Int])] = [
            (0.05, nil, []),
            (0.15, nil, []),  // minor: one breach, needs two
            (0.15, 0, [0]),  // minor active, fires
            (0.15, 0, []),  // stays active, no cool-down: no repeat
            (0.30, 1, [1]),  // major at once (consecutive 1)
            (0.30, 1, []),
            (0.30, 1, []),
            (0.30, 1, [1]),  // cool-down of 3 windows passed: fires again (second and last firing)
            (0.05, 1, []),  // one clear window: major holds (clear_windows 2); minor clears at once
            (0.05, nil, []),  // cleared
            (0.30, 1, []),  // active again but max_firings reached: no firing
        ]
        for (i, (psi, level, fired)) in script.enumerated() {
            let (breached, _) = p.evaluate(PolicyInput(columns: [(true, [.psi: psi])]))
            let step = s.step(breached: breached)
            #expect(step.level == level, "window \(i): level \(String(describing: step.level))")
            #expect(step.fired == fired, "window \(i): fired \(step.fired)")
        }
        #expect(s.firings(1) == 2)
    }

    @Test("scope, match all, p-values below and undefined statistics")
    func evaluate() throws {
        let p = try DriftPolicy.parse(
            """
            [level.f]
            scope = "features"
            ks_pvalue = 0.01
            [level.both]
            match = "all"
            psi = 0.2
            hit_pvalue = 0.05
            """
        )
        let columns: [(isFeature: Bool, values: [PolicyStatistic: Double])] = [
            (true, [.ksPValue: 0.5, .psi: 0.3]), (false, [.ksPValue: 1e-9]),
        ]
        let (b1, breaches) = p.evaluate(PolicyInput(columns: columns, hitPValue: 0.2))
        #expect(b1 == [false, false], "the prediction's p-value is out of scope; hit_pvalue does not breach")
        #expect(breaches.map(\.statistic) == [.psi])
        let (b2, _) = p.evaluate(PolicyInput(columns: columns, hitPValue: 0.01))
        #expect(b2 == [false, true])
        let (b3, _) = p.evaluate(PolicyInput(columns: [(true, [:])], hitPValue: nil))
        #expect(b3 == [false, false], "an undefined statistic never breaches")
    }
}
