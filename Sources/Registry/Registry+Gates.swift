import Bench
import CTickBus
import Features
import Models

extension Registry {
    /// The relative tolerance of the prediction gate for a model format: what the model tests use
    /// against each library (LightGBM and linear exact to 1e-12; XGBoost and ONNX float32 paths 1e-6).
    public static func tolerance(format: String) -> Double {
        format == "xgboost" || format == "onnx-mlp" ? 1e-6 : 1e-12
    }

    /// Runs every gate `rule` names for moving NAME@ALIAS to `version`; results in the rule's order.
    public func gates(_ version: Version, alias: String, rule: Policy.AliasRule, policy: Policy) -> [GateResult] {
        let m = version.manifest
        var loaded: Model?
        var loadError = ""
        do { loaded = try Model.load(bytes: try objects.get(m.model)) } catch { loadError = "\(error)" }
        var results: [GateResult] = []
        for gate in rule.gates {
            switch gate {
            case "features": results.append(featureGate(m, loaded, loadError))
            case "predictions": results.append(predictionGate(m, loaded, loadError))
            case "latency": results.append(latencyGate(m, loaded, loadError, budget: rule.latencyP99Ns))
            case "backtest": results.append(backtestGate(m, rule.backtest))
            case "approvals":
                results.append(approvalGate(version.id, alias: alias, roles: rule.approvals, policy: policy))
            default: results.append(GateResult(gate: gate, passed: false, detail: "unknown gate"))
            }
        }
        return results
    }

    func featureGate(_ m: Manifest, _ model: Model?, _ loadError: String) -> GateResult {
        guard let model else {
            return GateResult(gate: "features", passed: false, detail: "model does not load: \(loadError)")
        }
        let definition: FeatureDefinition
        do {
            definition = try FeatureDefinition.parse(String(decoding: try objects.get(m.definition), as: UTF8.self))
        } catch {
            return GateResult(gate: "features", passed: false, detail: "feature definition does not load: \(error)")
        }
        let names = model.featureNames
        if !names.isEmpty {
            guard names == definition.names else {
                return GateResult(
                    gate: "features",
                    passed: false,
                    detail: "model's features \(names) differ from the definition's \(definition.names)"
                )
            }
            return GateResult(gate: "features", passed: true, detail: "\(names.count) features by name")
        }
        guard model.numFeatures == definition.names.count else {
            return GateResult(
                gate: "features",
                passed: false,
                detail:
                    "model expects \(model.numFeatures) features (no names), the definition has \(definition.names.count)"
            )
        }
        return GateResult(
            gate: "features",
            passed: true,
            detail: "\(model.numFeatures) features by count (the model has no names)"
        )
    }

    func exampleRows(_ m: Manifest) throws(RegistryError) -> ExampleRows? {
        guard let h = m.objects["examples"] else { return nil }
        return try ExampleRows(bytes: try objects.get(h), what: "examples object \(h)")
    }

    func predictionGate(_ m: Manifest, _ model: Model?, _ loadError: String) -> GateResult {
        guard let model else {
            return GateResult(gate: "predictions", passed: false, detail: "model does not load: \(loadError)")
        }
        let rows: ExampleRows
        do {
            guard let r = try exampleRows(m) else {
                return GateResult(
                    gate: "predictions",
                    passed: false,
                    detail: "no example rows stored with the version (add --examples)"
                )
            }
            rows = r
        } catch { return GateResult(gate: "predictions", passed: false, detail: "\(error)") }
        guard rows.inputNames.count == model.numFeatures, rows.outputs[0].count == model.numOutputs else {
            return GateResult(
                gate: "predictions",
                passed: false,
                detail: "examples have \(rows.inputNames.count) inputs and "
                    + "\(rows.outputs[0].count) outputs, the model \(model.numFeatures) and \(model.numOutputs)"
            )
        }
        let tolerance = Self.tolerance(format: m.modelFormat)
        var out = [Double](repeating: 0, count: model.numOutputs)
        var worst = 0.0
        var worstRow = 0
        for (i, x) in rows.inputs.enumerated() {
            // Safe: x has numFeatures values and out numOutputs (both checked above); neither is empty.
            x.withUnsafeBufferPointer { xp in
                out.withUnsafeMutableBufferPointer { op in model.predict(xp.baseAddress!, into: op.baseAddress!) }
            }
            for (a, b) in zip(out, rows.outputs[i]) where a != b {
                let e = a.isNaN || b.isNaN ? .infinity : abs(a - b) / max(abs(b), 1e-300)
                if e > worst { (worst, worstRow) = (e, i) }
            }
        }
        guard worst <= tolerance else {
            return GateResult(
                gate: "predictions",
                passed: false,
                detail:
                    "max relative error \(worst) at example row \(worstRow + 1) exceeds \(tolerance) (\(rows.inputs.count) rows)"
            )
        }
        return GateResult(
            gate: "predictions",
            passed: true,
            detail: "\(rows.inputs.count) rows, max relative error \(worst) <= \(tolerance)"
        )
    }

    /// Single-row latency as `bench model` measures it: each call timed alone, nearest-rank
    /// percentiles per round, the median over rounds (round 0 warms up and is dropped).
    func latencyGate(_ m: Manifest, _ model: Model?, _ loadError: String, budget: Int) -> GateResult {
        guard let model else {
            return GateResult(gate: "latency", passed: false, detail: "model does not load: \(loadError)")
        }
        let f = model.numFeatures
        var rows = ((try? exampleRows(m)) ?? nil)?.inputs.filter { $0.count == f } ?? []
        if rows.isEmpty { rows = [[Double](repeating: 0, count: f)] }
        let flat = rows.flatMap { $0 }
        let calls = 1000
        let n = rows.count
        var samples = [UInt64](repeating: 0, count: calls)
        var out = [Double](repeating: 0, count: max(model.numOutputs, 1))
        var rounds: [Percentiles] = []
        InterleavedRounds.run(rounds: 11, [true]) { round, _ in
            flat.withUnsafeBufferPointer { r in
                out.withUnsafeMutableBufferPointer { o in
                    samples.withUnsafeMutableBufferPointer { s in
                        for c in 0..<calls {
                            // Safe: (c % n) < n rows of f values each.
                            let x = r.baseAddress! + (c % n) * f
                            let t0 = tb_monotonic_ns()
                            model.predict(x, into: o.baseAddress!)
                            s[c] = tb_monotonic_ns() &- t0
                        }
                    }
                }
            }
            if round > 0 { rounds.append(Percentiles(sorting: &samples)) }
        }
        let p = Percentiles.median(rounds)
        let detail = "p50 \(Int(p.p50)) ns, p99 \(Int(p.p99)) ns, budget p99 < \(budget) ns"
        return GateResult(
            gate: "latency",
            passed: p.p99 < Double(budget),
            detail: p.p99 < Double(budget) ? detail : "over budget: " + detail
        )
    }

    func approvalGate(_ version: String, alias: String, roles: [String], policy: Policy) -> GateResult {
        var reasons: [String] = []
        var used: [String] = []
        let found = (try? approvals(of: version)) ?? []
        for role in roles {
            var why: [String] = []
            var ok = false
            for (hash, approval) in found {
                guard let approval else {
                    why.append("approval \(hash.prefix(12)) unreadable or altered")
                    continue
                }
                if approval.role != role { continue }
                if let p = approval.problem(version: version, alias: alias, policy: policy, role: role) {
                    why.append("approval \(hash.prefix(12)): \(p)")
                } else {
                    ok = true
                    used.append(hash)
                    break
                }
            }
            if !ok { reasons.append("role \(role): " + (why.isEmpty ? "no approval" : why.joined(separator: ", "))) }
        }
        if roles.isEmpty { return GateResult(gate: "approvals", passed: true, detail: "no roles required") }
        guard reasons.isEmpty else {
            return GateResult(gate: "approvals", passed: false, detail: reasons.joined(separator: "; "))
        }
        return GateResult(
            gate: "approvals",
            passed: true,
            detail: "approved by \(roles.joined(separator: ", "))",
            approvals: used
        )
    }
}
