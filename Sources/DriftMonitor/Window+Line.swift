import Drift

/// The window's JSON line (a contract, Docs/DRIFT.md "Monitor"):
///
/// ```
/// {"window": K, "first_sequence": S0, "last_sequence": S1, "records": N,
///  "features": {NAME: {"psi": …, "kl": …, "js": …, "ks": …, "ks_pvalue": …, "w1": …, "w1_norm": …,
///  "nan_share": …}, …}, "prediction": {same keys}, "hit_rate": …, "hits": k, "signals": n,
///  "hit_pvalue": …, "level": "none"|LEVEL, "actions": […]}
/// ```
///
/// Categorical features carry `chi2`, `chi2_pvalue`, `new_share`, `nan_share`; `null` stands for an
/// undefined statistic (and for `prediction` when the baseline has no prediction column).
struct WindowLine {
    var window: DriftWindow
    var scores: [ColumnScores]
    var hitPValue: Double?
    var level: String?
    var actions: [ActionOutcome] = []
    var canary: CanaryVerdict?

    init(window: DriftWindow, scores: [ColumnScores], hitPValue: Double?) {
        self.window = window
        self.scores = scores
        self.hitPValue = hitPValue
    }

    func json(names: [String]) -> String {
        var j = JSONText()
        j.open()
        j.int("window", window.index)
        j.int("first_sequence", window.firstSequence)
        j.int("last_sequence", window.lastSequence)
        j.int("records", window.records)
        j.object("features")
        let featureCount = names.last == "prediction" ? names.count - 1 : names.count
        for c in 0..<featureCount {
            j.key(names[c])
            Self.scores(scores[c], into: &j)
        }
        j.close()
        if featureCount < scores.count {
            j.key("prediction")
            Self.scores(scores[featureCount], into: &j)
        } else {
            j.raw("prediction", "null")
        }
        j.number("hit_rate", window.hitRate)
        j.int("hits", window.hits)
        j.int("signals", window.hits + window.misses)
        j.number("hit_pvalue", hitPValue)
        j.string("level", level ?? "none")
        j.array("actions")
        for a in actions { j.element(a.json) }
        j.close("]")
        j.close()
        return j.text
    }

    /// The statistics alone (`{"features": {…}, "prediction": …}`), for a retrain request.
    func statisticsJSON(names: [String]) -> String {
        var j = JSONText()
        j.open()
        let featureCount = names.last == "prediction" ? names.count - 1 : names.count
        j.object("features")
        for c in 0..<featureCount {
            j.key(names[c])
            Self.scores(scores[c], into: &j)
        }
        j.close()
        if featureCount < scores.count {
            j.key("prediction")
            Self.scores(scores[featureCount], into: &j)
        }
        j.number("hit_rate", window.hitRate)
        j.int("hits", window.hits)
        j.int("signals", window.hits + window.misses)
        j.number("hit_pvalue", hitPValue)
        j.close()
        return j.text
    }

    static func scores(_ s: ColumnScores, into j: inout JSONText) {
        j.open()
        switch s {
        case .numeric(let n):
            j.number("psi", n.psi)
            j.number("kl", n.kl)
            j.number("js", n.js)
            j.number("ks", n.ks)
            j.number("ks_pvalue", n.ksPValue)
            j.number("w1", n.w1)
            j.number("w1_norm", n.w1Norm)
            j.number("nan_share", n.nanShare)
        case .categorical(let c):
            j.number("chi2", c.chi2)
            j.number("chi2_pvalue", c.chi2PValue)
            j.number("new_share", c.newShare)
            j.number("nan_share", c.nanShare)
        }
        j.close()
    }
}
