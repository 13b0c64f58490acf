import Foundation

extension ModelBench {
    public struct ResultJSON: Encodable, Sendable {
        var p50Ns: Double, p99Ns: Double, mallocsPerEval: Double, maxRelativeError: Double, trees: Int, features: Int,
            rows: Int
        enum CodingKeys: String, CodingKey {
            case p50Ns = "p50_ns"
            case p99Ns = "p99_ns"
            case mallocsPerEval = "mallocs_per_eval"
            case maxRelativeError = "max_relative_error"
            case trees, features, rows
        }
    }
    public struct BaselineJSON: Encodable, Sendable {
        var name = "LGBM_BoosterPredictForMatSingleRowFast"
        var p50Ns: Double, p99Ns: Double
        enum CodingKeys: String, CodingKey {
            case name
            case p50Ns = "p50_ns"
            case p99Ns = "p99_ns"
        }
    }
    public struct RatioJSON: Encodable, Sendable {
        var speedupP50: Double, speedupP99: Double
        enum CodingKeys: String, CodingKey {
            case speedupP50 = "speedup_p50"
            case speedupP99 = "speedup_p99"
        }
    }
    public struct ConfigJSON: Encodable, Sendable {
        var model: String, rounds: Int, calls: Int
    }
}

extension ModelBench.Outcome {
    public var report:
        BenchReport<ModelBench.ResultJSON, ModelBench.BaselineJSON, ModelBench.RatioJSON, ModelBench.ConfigJSON>
    {
        BenchReport(
            bench: "model",
            result: .init(
                p50Ns: rounded(ours.p50, 1),
                p99Ns: rounded(ours.p99, 1),
                mallocsPerEval: rounded(mallocsPerEval, 3),
                maxRelativeError: maxRelativeError,
                trees: trees,
                features: features,
                rows: rows
            ),
            baseline: .init(p50Ns: rounded(baseline.p50, 1), p99Ns: rounded(baseline.p99, 1)),
            ratio: .init(
                speedupP50: rounded(baseline.p50 / ours.p50, 3),
                speedupP99: rounded(baseline.p99 / ours.p99, 3)
            ),
            config: .init(model: modelPath, rounds: options.rounds, calls: options.calls)
        )
    }

    public var text: String {
        let python = maxRelativeErrorPython.map { ", \($0) vs Python" } ?? ""
        var lines = [
            "bench model: LightGBM \(modelPath), \(trees) trees, \(features) features; \(options.rounds - 1) rounds x \(options.calls) calls, a different row per call",
            "  predictions equal LightGBM's on all \(rows) rows (max relative error \(maxRelativeError) vs C API\(python))",
            "  medians over rounds (ns)         p50        p90        p99      p99.9",
        ]
        func row(_ name: String, _ p: Percentiles) {
            lines.append(
                "  " + TextTable.rightPad(name, 28)
                    + [p.p50, p.p90, p.p99, p.p999].map { TextTable.leftPad(TextTable.fixed($0, 1), 11) }.joined()
            )
        }
        row("tickbus (Models)", ours)
        row("LightGBM C API (fast single row)", baseline)
        lines.append(
            "  speedup: p50 \(TextTable.fixed(baseline.p50 / ours.p50, 3))x, p99 \(TextTable.fixed(baseline.p99 / ours.p99, 3))x; "
                + "mallocs per evaluation \(TextTable.fixed(mallocsPerEval, 3))"
        )
        return lines.joined(separator: "\n")
    }
}
