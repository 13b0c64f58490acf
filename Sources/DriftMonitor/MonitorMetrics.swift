import Drift

/// What the monitor exposes on `/metrics` (`tickbus drift --listen`): drift scores per column,
/// levels, actions, windows, outcomes and losses, rendered in the Prometheus text format after
/// every window (Docs/DRIFT.md, "Operations").
public struct MonitorMetrics: Sendable {
    public let strategy: String
    /// The window line's columns: the features, then `prediction`.
    public let columns: [String]
    public var levelNames: [String] = []
    public var windows: UInt64 = 0
    public var records: UInt64 = 0
    public var malformed: UInt64 = 0
    /// Windows printed before all their outcomes were known (`Monitor.maxOpenWindows`).
    public var forcedWindows: UInt64 = 0
    public var decisionsLost: UInt64 = 0
    public var marketLost: UInt64 = 0
    public var hits: UInt64 = 0
    public var signals: UInt64 = 0
    /// 0: none; i: the policy's level i - 1.
    public var level = 0
    public var activeLevels: [Bool] = []
    /// Per column, the last window's statistics (name → value; undefined ones absent).
    public var scores: [[String: Double]]
    public var hitRate: Double?
    public var hitPValue: Double?
    /// (action, status) → count.
    public var actions: [String: UInt64] = [:]
    public var applied: [String: UInt64] = [:]
    public var lastActionLatencyNs: Int64?
    public var actionLatencies: [Int64] = []
    public var canaryPasses = 0
    public var canaryVerdicts: [String: UInt64] = [:]
    public var canaryMcnemar: Double?
    public var canaryWilcoxon: Double?

    public init(strategy: String, columns: [String]) {
        self.strategy = strategy
        self.columns = columns
        scores = Array(repeating: [:], count: columns.count)
    }

    mutating func countAction(_ action: String, status: String) { actions["\(action)\u{0}\(status)", default: 0] += 1 }

    mutating func actionApplied(verb: String, applied ok: Bool, latencyNs: Int64) {
        applied["\(verb)\u{0}\(ok ? "applied" : "rejected")", default: 0] += 1
        lastActionLatencyNs = latencyNs
        if actionLatencies.count < 100_000 { actionLatencies.append(latencyNs) }
    }

    mutating func canaryVerdict(_ v: CanaryVerdict) {
        canaryVerdicts[v.outcome.rawValue, default: 0] += 1
        canaryPasses = v.passes
        canaryMcnemar = v.mcnemarPValue
        canaryWilcoxon = v.wilcoxonPValue
    }

    mutating func windowDone(_ w: DriftWindow, scores s: [ColumnScores], hitPValue: Double?) {
        windows += 1
        hits += UInt64(w.hits)
        signals += UInt64(w.hits + w.misses)
        hitRate = w.hitRate
        self.hitPValue = hitPValue
        for (c, score) in s.enumerated() {
            var m: [String: Double] = [:]
            for (k, v) in score.policyValues { m[k.rawValue] = v }
            scores[c] = m
        }
    }

    /// Statistic families, each a gauge with a `feature` label (the prediction is `feature="prediction"`).
    static let statistics = [
        "psi", "kl", "js", "ks", "ks_pvalue", "w1", "w1_norm", "nan_share", "chi2", "chi2_pvalue", "new_share",
    ]

    /// The exposition text (Prometheus 0.0.4).
    public func render(bus: String?) -> String {
        var out = ""
        let base = "strategy=\"\(Self.escape(strategy))\"" + (bus.map { ",bus=\"\(Self.escape($0))\"" } ?? "")
        func family(_ name: String, _ type: String, _ help: String, _ lines: [(String, String)]) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for (labels, value) in lines {
                out += "\(name){\(base)\(labels.isEmpty ? "" : "," + labels)} \(value)\n"
            }
        }
        family("tickbus_drift_windows_total", "counter", "Windows scored and printed.", [("", "\(windows)")])
        family("tickbus_drift_records_total", "counter", "Decision records windowed.", [("", "\(records)")])
        family(
            "tickbus_drift_malformed_records_total",
            "counter",
            "Records skipped as malformed (too short, another layout).",
            [("", "\(malformed)")]
        )
        family(
            "tickbus_drift_forced_windows_total",
            "counter",
            "Windows printed before all their outcomes were known (too many windows open).",
            [("", "\(forcedWindows)")]
        )
        family(
            "tickbus_drift_lost_messages_total",
            "counter",
            "Messages the monitor's live readers lost to laps (or a journal's gaps), by ring.",
            [("ring=\"decisions\"", "\(decisionsLost)"), ("ring=\"market\"", "\(marketLost)")]
        )
        for stat in Self.statistics {
            var lines: [(String, String)] = []
            for (c, name) in columns.enumerated() {
                if let v = scores[c][stat] { lines.append(("feature=\"\(Self.escape(name))\"", Self.num(v))) }
            }
            family(
                "tickbus_drift_feature_\(stat)",
                "gauge",
                "The last window's \(stat) per feature (and the prediction) against the baseline.",
                lines
            )
        }
        family("tickbus_drift_hits_total", "counter", "Signals whose outcome had the signal's sign.", [("", "\(hits)")])
        family(
            "tickbus_drift_signals_total",
            "counter",
            "Signals with a known, non-zero outcome.",
            [("", "\(signals)")]
        )
        family(
            "tickbus_drift_hit_rate",
            "gauge",
            "The last window's hit rate (NaN when undefined).",
            [("", Self.num(hitRate ?? .nan))]
        )
        family(
            "tickbus_drift_hit_pvalue",
            "gauge",
            "The last window's one-sided binomial p-value against the expected hit rate (NaN when undefined).",
            [("", Self.num(hitPValue ?? .nan))]
        )
        family(
            "tickbus_drift_level",
            "gauge",
            "The most severe active level: 0 none, i the policy's i-th level.",
            [("", "\(level)")]
        )
        family(
            "tickbus_drift_level_active",
            "gauge",
            "1 while a level is active.",
            levelNames.enumerated().map { (i, n) in
                ("level=\"\(Self.escape(n))\"", i < activeLevels.count && activeLevels[i] ? "1" : "0")
            }
        )
        var actionLines: [(String, String)] = []
        for action in ["alert", "retrain", "shadow", "rollback", "canary_stop", "promote"] {
            for status in ["done", "accepted", "refused", "failed", "not_sent"] {
                let n = actions["\(action)\u{0}\(status)"] ?? 0
                if n > 0 || status == "done" || status == "accepted" {
                    actionLines.append(("action=\"\(action)\",status=\"\(status)\"", "\(n)"))
                }
            }
        }
        family("tickbus_drift_actions_total", "counter", "Actions taken, by action and outcome.", actionLines)
        var appliedLines: [(String, String)] = []
        for verb in ["demote", "rollback", "canary", "promote"] {
            for s in ["applied", "rejected"] {
                appliedLines.append(("verb=\"\(verb)\",status=\"\(s)\"", "\(applied["\(verb)\u{0}\(s)"] ?? 0)"))
            }
        }
        family(
            "tickbus_drift_commands_answered_total",
            "counter",
            "The monitor's control commands the strategy applied or rejected (its control records).",
            appliedLines
        )
        family(
            "tickbus_drift_action_latency_seconds",
            "gauge",
            "The last command's latency: window end to the strategy's control record (NaN before any).",
            [("", Self.num(lastActionLatencyNs.map { Double($0) / 1e9 } ?? .nan))]
        )
        family(
            "tickbus_drift_canary_verdicts_total",
            "counter",
            "Canary verdicts, by outcome.",
            ["pass", "fail", "promote"].map { ("outcome=\"\($0)\"", "\(canaryVerdicts[$0] ?? 0)") }
        )
        family(
            "tickbus_drift_canary_mcnemar_pvalue",
            "gauge",
            "The last canary verdict's McNemar p-value (NaN when undefined).",
            [("", Self.num(canaryMcnemar ?? .nan))]
        )
        family(
            "tickbus_drift_canary_wilcoxon_pvalue",
            "gauge",
            "The last canary verdict's Wilcoxon p-value (NaN when undefined).",
            [("", Self.num(canaryWilcoxon ?? .nan))]
        )
        return out
    }

    static func escape(_ s: String) -> String {
        var o = ""
        for ch in s {
            switch ch {
            case "\\": o += "\\\\"
            case "\"": o += "\\\""
            case "\n": o += "\\n"
            default: o.append(ch)
            }
        }
        return o
    }

    static func num(_ x: Double) -> String {
        if x.isNaN { return "NaN" }
        if x == .infinity { return "+Inf" }
        if x == -.infinity { return "-Inf" }
        return "\(x)"
    }
}
