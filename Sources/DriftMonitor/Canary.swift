import Drift
import DriftPolicy
import Features
import TickBusCore

/// One window's share of the paired canary analysis: decisions where both the live and the
/// canary model were evaluated (decision record v2 carries both predictions), each model's own
/// signal (the definition's signal rule over its prediction) judged on the same move.
public struct CanaryWindow: Sendable {
    /// Paired decisions with a known outcome.
    public var pairs = 0
    /// Live hit and canary not (b), canary hit and live not (c): McNemar's discordant pairs.
    public var liveOnly = 0
    public var canaryOnly = 0
    /// Per pair: canary P&L minus live P&L over the horizon, dollars per share
    /// ((canary signal − live signal) × mid move).
    public var differences: [Double] = []
    /// Tick-to-decision latency (receive → publish, ns) of decisions acted on by each model.
    public var canaryLatency: [Int64] = []
    public var liveLatency: [Int64] = []

    public init() {}

    mutating func latency(routedToCanary: Bool, ns: Int64) {
        if routedToCanary { canaryLatency.append(ns) } else { liveLatency.append(ns) }
    }

    mutating func outcome(_ p: PendingOutcome, _ r: OutcomeResult) {
        let move: Int64
        switch r {
        case .hit(let m), .miss(let m): move = m
        case .zeroMove: move = 0
        case .unknown: return
        }
        pairs += 1
        let liveHit = p.liveSignal != 0 && move != 0 && (move > 0) == (p.liveSignal > 0)
        let canaryHit = p.canarySignal != 0 && move != 0 && (move > 0) == (p.canarySignal > 0)
        if liveHit && !canaryHit { liveOnly += 1 }
        if canaryHit && !liveHit { canaryOnly += 1 }
        differences.append(Double(Int(p.canarySignal) - Int(p.liveSignal)) * Double(move) / 10_000)
    }
}

/// A judgement of the canary at the end of a window.
public struct CanaryVerdict: Sendable, Equatable {
    public enum Outcome: String, Sendable { case pass, fail, promote }
    public var outcome: Outcome
    public var canaryModel: UInt64
    public var pairs: Int
    public var liveOnly: Int
    public var canaryOnly: Int
    public var mcnemarPValue: Double?
    public var wilcoxonStatistic: Double?
    public var wilcoxonPValue: Double?
    /// Mean of the per-pair P&L differences (canary − live), dollars per share.
    public var meanDifference: Double?
    public var canaryP99: Int64?
    public var liveP99: Int64?
    /// Windows passed in a row so far.
    public var passes: Int
    /// Why it failed (empty when it did not).
    public var why: String

    var json: String {
        var j = JSONText()
        j.open()
        j.string("canary", outcome.rawValue)
        j.string("model_id", ControlText.hex16(canaryModel))
        j.int("pairs", pairs)
        j.int("live_only_hits", liveOnly)
        j.int("canary_only_hits", canaryOnly)
        j.number("mcnemar_pvalue", mcnemarPValue)
        j.number("wilcoxon_statistic", wilcoxonStatistic)
        j.number("wilcoxon_pvalue", wilcoxonPValue)
        j.number("mean_pnl_difference", meanDifference)
        j.raw("canary_latency_p99_ns", canaryP99.map { "\($0)" } ?? "null")
        j.raw("live_latency_p99_ns", liveP99.map { "\($0)" } ?? "null")
        j.int("passes", passes)
        if !why.isEmpty { j.string("why", why) }
        j.close()
        return j.text
    }

    /// The statistics in the control command's reason (at most 112 bytes, journaled in ring `control`).
    var reason: String {
        let m = mcnemarPValue.map { ActionContext.short($0) } ?? "-"
        let w = wilcoxonPValue.map { ActionContext.short($0) } ?? "-"
        return ControlText.cut(
            "canary \(outcome.rawValue): n=\(pairs) b=\(liveOnly) c=\(canaryOnly) mcnemar p=\(m) wilcoxon p=\(w) \(why)",
            to: 112
        )
    }
}

/// The automatic canary analysis (Docs/DRIFT.md, "Canary"), cumulative from the first window
/// in which a canary model runs: after `minPairs` paired outcomes, each window's end judges
/// McNemar's exact test on the discordant hits (canary worse: more live-only hits, p < alpha),
/// Wilcoxon's signed-rank test on the P&L differences (canary worse: negative mean, p < alpha)
/// and the latency gate; a failure stops the canary, `promoteWindows` passes in a row promote it.
struct CanaryAnalysis {
    let policy: CanaryPolicy?
    var signalRule: SignalRule?
    var model: UInt64 = 0
    var decided = false
    var total = CanaryWindow()
    var passes = 0
    /// The cumulative differences kept for Wilcoxon (a run longer than this judges on the first ones).
    static let maxDifferences = 1_000_000

    init(policy: CanaryPolicy?, signalRule: SignalRule?) {
        self.policy = policy
        self.signalRule = signalRule
    }

    var enabled: Bool { policy != nil && signalRule != nil }

    func signal(_ prediction: Double) -> Int8 { signalRule?.signal(prediction) ?? 0 }

    mutating func observed(_ v: ControlRecordView) {
        if v.applied, v.roles.canaryModelId != model { reset(v.roles.canaryModelId) }
    }

    mutating func reset(_ m: UInt64) {
        model = m
        decided = false
        total = CanaryWindow()
        passes = 0
    }

    mutating func judge(_ w: DriftWindow, liveModel: UInt64, canaryModel: UInt64) -> CanaryVerdict? {
        guard let policy, enabled else { return nil }
        if canaryModel != model { reset(canaryModel) }
        guard model != 0, !decided else { return nil }
        total.pairs += w.canary.pairs
        total.liveOnly += w.canary.liveOnly
        total.canaryOnly += w.canary.canaryOnly
        let room = Self.maxDifferences - total.differences.count
        total.differences += w.canary.differences.prefix(max(0, room))
        total.canaryLatency += w.canary.canaryLatency.prefix(max(0, Self.maxDifferences - total.canaryLatency.count))
        total.liveLatency += w.canary.liveLatency.prefix(max(0, Self.maxDifferences - total.liveLatency.count))
        guard total.pairs >= policy.minPairs else { return nil }

        let b = total.liveOnly
        let c = total.canaryOnly
        let mcnemar: Double? = b + c > 0 ? Statistics.mcnemarExact(b: b, c: c) : nil
        let nonzero = total.differences.filter { $0 != 0 }
        let wilcoxon = nonzero.isEmpty ? nil : Statistics.wilcoxonApprox(total.differences)
        let mean = total.differences.isEmpty ? nil : total.differences.reduce(0, +) / Double(total.differences.count)
        let cp99 = Self.p99(total.canaryLatency)
        let lp99 = Self.p99(total.liveLatency)
        var why: [String] = []
        if let p = mcnemar, p < policy.alpha, b > c { why.append("fewer hits") }
        if let w = wilcoxon, w.pvalue < policy.alpha, let m = mean, m < 0 { why.append("lower P&L") }
        if let ratio = policy.maxLatencyRatio, let cp = cp99, let lp = lp99, Double(cp) > ratio * Double(max(lp, 1)) {
            why.append("latency p99 \(cp) ns > \(ratio) × \(lp) ns")
        }
        var v = CanaryVerdict(
            outcome: .pass,
            canaryModel: model,
            pairs: total.pairs,
            liveOnly: b,
            canaryOnly: c,
            mcnemarPValue: mcnemar,
            wilcoxonStatistic: wilcoxon?.statistic,
            wilcoxonPValue: wilcoxon?.pvalue,
            meanDifference: mean,
            canaryP99: cp99,
            liveP99: lp99,
            passes: passes,
            why: why.joined(separator: ", ")
        )
        if !why.isEmpty {
            v.outcome = .fail
            decided = true
            passes = 0
        } else {
            passes += 1
            v.passes = passes
            if passes >= policy.promoteWindows {
                v.outcome = .promote
                decided = true
            }
        }
        return v
    }

    /// Nearest-rank p99; nil without samples.
    static func p99(_ xs: [Int64]) -> Int64? {
        guard !xs.isEmpty else { return nil }
        let s = xs.sorted()
        let rank = Int((0.99 * Double(s.count)).rounded(.up))
        return s[max(0, min(s.count - 1, rank - 1))]
    }
}

extension ActionRunner {
    /// Carries out a canary verdict: a failure routes no instrument to the canary any more
    /// (`canary 0`) and, when the policy says so, rolls back; a promotion makes it live.
    mutating func canary(
        _ v: CanaryVerdict,
        window: DriftWindow,
        windowEndNs: Int64,
        metrics: inout MonitorMetrics
    ) -> [ActionOutcome] {
        emit(v.json)
        metrics.canaryVerdict(v)
        var out: [ActionOutcome] = []
        switch v.outcome {
        case .pass: break
        case .fail:
            var o = submit(.canary, "canary", window.index, windowEndNs, reason: v.reason, percent: 0)
            o.action = "canary_stop"
            out.append(o)
            if options.policy?.canary?.rollbackOnFail == true {
                var r = submit(.rollback, "canary", window.index, windowEndNs, reason: v.reason)
                r.action = "rollback"
                out.append(r)
            }
        case .promote:
            var o = submit(.promote, "canary", window.index, windowEndNs, reason: v.reason)
            o.action = "promote"
            out.append(o)
        }
        for o in out { metrics.countAction(o.action, status: o.status) }
        return out
    }
}
