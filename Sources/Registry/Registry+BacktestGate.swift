import BacktestReport

extension Registry {
    /// The `backtest` gate: the version's stored report.json (`add --backtest`) reads as a report
    /// (Docs/EXECUTION.md, "report.json"), was made with this version's model and feature
    /// definition (its `inputs.model` and `inputs.features` are their sha256), decided at least
    /// once, and meets every threshold the policy sets. Every failing check is named.
    func backtestGate(_ m: Manifest, _ limits: Policy.BacktestThresholds) -> GateResult {
        func fail(_ why: String) -> GateResult { GateResult(gate: "backtest", passed: false, detail: why) }
        guard let hash = m.objects["backtest"] else {
            return fail("no backtest report stored with the version (registry add --backtest DIR/report.json)")
        }
        let report: BacktestReport
        do {
            report = try BacktestReport.decode(try objects.get(hash), what: "backtest object \(hash)")
        } catch { return fail("\(error)") }
        var problems: [String] = []
        for (input, want) in [("model", m.model), ("features", m.definition)] {
            switch report.inputs[input] {
            case nil:
                problems.append("the report names no '\(input)' input (its inputs: \(report.inputs.keys.sorted()))")
            case want?: break
            case let other?:
                problems.append(
                    "the report's \(input) is \(other.prefix(12)), the version's \(want.prefix(12)) (another \(input))"
                )
            }
        }
        if report.decisions == 0 { problems.append("the backtest made no decision") }
        func figure(_ key: String) -> Double? {
            switch key {
            case "min_sharpe": return report.sharpe
            case "max_drawdown": return report.maxDrawdown
            case "min_fill_rate": return report.fillRate
            case "min_pnl": return report.pnl
            default: return report.hitRate
            }
        }
        var checked: [String] = []
        for key in Policy.BacktestThresholds.keys {
            guard let limit = limits[key] else { continue }
            let name = String(key.dropFirst(4))  // min_/max_
            guard let value = figure(key) else {
                problems.append("\(name) is undefined in the report (null), \(key) is \(limit)")
                continue
            }
            let ok = key.hasPrefix("max_") ? value <= limit : value >= limit
            if ok {
                checked.append("\(name) \(value) \(key.hasPrefix("max_") ? "<=" : ">=") \(limit)")
            } else {
                problems.append("\(name) \(value) \(key.hasPrefix("max_") ? "above" : "below") \(key) \(limit)")
            }
        }
        guard problems.isEmpty else { return fail(problems.joined(separator: "; ")) }
        var detail = "report \(hash.prefix(12)): \(report.decisions) decisions, pnl \(report.pnl), "
        detail += "max drawdown \(report.maxDrawdown), sharpe \(report.sharpe.map { "\($0)" } ?? "null"), "
        detail += "fill rate \(report.fillRate.map { "\($0)" } ?? "null")"
        detail += checked.isEmpty ? "; no thresholds set" : "; " + checked.joined(separator: ", ")
        return GateResult(gate: "backtest", passed: true, detail: detail)
    }
}
