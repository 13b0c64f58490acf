import Bench
import Foundation

extension DriftBench {
    public struct ResultJSON: Encodable, Sendable {
        var p50: Double, p99: Double, mallocs: Double, difference: Double, checked: Int
        enum CodingKeys: String, CodingKey {
            case p50 = "window_ms_p50"
            case p99 = "window_ms_p99"
            case mallocs = "mallocs_per_window"
            case difference = "max_relative_difference_vs_scipy"
            case checked = "values_checked"
        }
    }
    public struct BaselineJSON: Encodable, Sendable {
        var p50: Double, p99: Double, version: String
        enum CodingKeys: String, CodingKey {
            case p50 = "scipy_window_ms_p50"
            case p99 = "scipy_window_ms_p99"
            case version = "scipy_version"
        }
    }
    public struct RatioJSON: Encodable, Sendable {
        var p50: Double, p99: Double
        enum CodingKeys: String, CodingKey {
            case p50 = "scipy_vs_tickbus_p50"
            case p99 = "scipy_vs_tickbus_p99"
        }
    }
    public struct ConfigJSON: Encodable, Sendable {
        var features: Int, baselineRows: Int, windowRows: Int, windows: Int, rounds: Int
        var tickbusWindows: Int, scipyWindows: Int, cpu: Int, seed: UInt64
        enum CodingKeys: String, CodingKey {
            case features
            case baselineRows = "baseline_rows"
            case windowRows = "window_rows"
            case windows = "distinct_windows"
            case rounds
            case tickbusWindows = "tickbus_windows_per_round"
            case scipyWindows = "scipy_windows_per_round"
            case cpu, seed
        }
    }
}

extension DriftBench.Outcome {
    public var report:
        BenchReport<DriftBench.ResultJSON, DriftBench.BaselineJSON, DriftBench.RatioJSON, DriftBench.ConfigJSON>
    {
        let o = options
        return BenchReport(
            bench: "drift",
            result: .init(
                p50: rounded(tickbus.p50Ms, 3),
                p99: rounded(tickbus.p99Ms, 3),
                mallocs: mallocsPerWindow,
                difference: maxRelativeDifference,
                checked: valuesChecked
            ),
            baseline: .init(p50: rounded(scipy.p50Ms, 1), p99: rounded(scipy.p99Ms, 1), version: scipyVersion),
            ratio: .init(p50: rounded(scipy.p50Ms / tickbus.p50Ms, 1), p99: rounded(scipy.p99Ms / tickbus.p99Ms, 1)),
            config: .init(
                features: o.features,
                baselineRows: o.baselineRows,
                windowRows: o.windowRows,
                windows: o.windows,
                rounds: o.rounds,
                tickbusWindows: o.tickbusWindows,
                scipyWindows: o.scipyWindows,
                cpu: o.cpu,
                seed: o.seed
            )
        )
    }

    public var text: String {
        let o = options
        func f(_ x: Double, _ d: Int) -> String { TextTable.fixed(x, d) }
        func row(_ name: String, _ s: DriftBench.Stats) -> String {
            "  " + TextTable.rightPad(name, 52) + TextTable.leftPad(f(s.p50Ms, 2), 10)
                + TextTable.leftPad(f(s.p99Ms, 2), 10)
        }
        return [
            "bench drift: \(o.features) features, baseline \(o.baselineRows) rows, window \(o.windowRows) rows, "
                + "CPU \(o.cpu), \(o.rounds) rounds interleaved",
            "  contender                                           window ms p50       p99",
            row("tickbus WindowScorer (PSI KL JS KS+p W1 W1/std NaN)", tickbus),
            row("scipy \(scipyVersion) (PSI from the bins, JS, ks_2samp, W1)", scipy),
            "  ratio scipy / tickbus p50: \(f(scipy.p50Ms / tickbus.p50Ms, 1))",
            "  mallocs per window after the first: \(mallocsPerWindow); \(valuesChecked) values checked against scipy, "
                + "max relative difference \(maxRelativeDifference)",
        ].joined(separator: "\n")
    }
}
