import Foundation

/// The one shape of every benchmark's `--json`: `{"bench", "result", "baseline", "ratio", "config"}`
/// (`config` omitted when a benchmark has none), encoded by `JSONEncoder` with sorted keys — no
/// hand-built JSON. Each benchmark supplies its own `Encodable` parts, whose coding keys are the
/// JSON keys tools read.
public struct BenchReport<Result: Encodable, Baseline: Encodable, Ratio: Encodable, Config: Encodable>: Encodable {
    public var bench: String
    public var result: Result
    public var baseline: Baseline
    public var ratio: Ratio
    public var config: Config?

    public init(bench: String, result: Result, baseline: Baseline, ratio: Ratio, config: Config?) {
        self.bench = bench
        self.result = result
        self.baseline = baseline
        self.ratio = ratio
        self.config = config
    }

    /// One line of JSON, keys sorted. Non-finite numbers (a ratio over an empty side) become the
    /// strings "inf", "-inf" and "nan" rather than failing the whole report.
    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "inf",
            negativeInfinity: "-inf",
            nan: "nan"
        )
        do {
            return String(decoding: try encoder.encode(self), as: UTF8.self)
        } catch {
            // Only non-encodable values can fail, and every part here is numbers and strings.
            return "{\"bench\":\"\(bench)\",\"error\":\"\(error)\"}"
        }
    }
}

/// For benchmarks whose report has no `config` object.
public struct NoConfig: Encodable, Sendable {}

extension BenchReport where Config == NoConfig {
    public init(bench: String, result: Result, baseline: Baseline, ratio: Ratio) {
        self.init(bench: bench, result: result, baseline: baseline, ratio: ratio, config: nil)
    }
}

/// Rounds to `digits` decimals for a report (the shortest decimal JSONEncoder writes then has at
/// most that many), e.g. `rounded(83.4567, 1)` = 83.5.
@inlinable
public func rounded(_ x: Double, _ digits: Int) -> Double {
    guard x.isFinite else { return x }
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    return (x * scale).rounded() / scale
}

/// Text-table helpers shared by the human-readable outputs.
public enum TextTable {
    /// `x` with `digits` decimals.
    public static func fixed(_ x: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", x) }
    /// `s` right-aligned in `n` columns.
    public static func leftPad(_ s: String, _ n: Int) -> String {
        s.count >= n ? s : String(repeating: " ", count: n - s.count) + s
    }
    /// `s` left-aligned in `n` columns.
    public static func rightPad(_ s: String, _ n: Int) -> String { s.padding(toLength: n, withPad: " ", startingAt: 0) }
}
