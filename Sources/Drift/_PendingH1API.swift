// TEMPORARY (h2): the API of h1's statistics and baselines as Docs/DRIFT.md states it, so the
// monitor compiles before h1's branch lands. Deleted when h1 is merged; nothing here is used as
// a result (the tests run against h1's real implementation).
import Features

public enum DriftColumnKind: Sendable { case numeric, categorical }

public struct ColumnBaseline: Sendable {
    public var name: String
    public var kind: DriftColumnKind
    public var edges: [Double]
    public var binCounts: [UInt64]
    public var sortedSample: [Double]
    public var mean: Double
    public var std: Double
    public var categories: [Double: UInt64]
    public var sampleCount: Int
    public var nanCount: Int
}

public struct DriftBaseline: Sendable {
    public var columns: [ColumnBaseline]
    public var definitionHash: String
    public var featureNames: [String]
    public init(contentsOf path: String) throws(DriftError) { throw .invalid("pending h1: \(path)") }
    public func column(named: String) -> ColumnBaseline? { columns.first { $0.name == named } }
    public func check(featureNames: [String], definitionHash: String) throws(DriftError) {}
}

public enum DriftError: Error, CustomStringConvertible {
    case invalid(String)
    case definitionMismatch(baseline: String, message: String)
    public var description: String { "\(self)" }
}

public struct NumericScores: Sendable {
    public var psi: Double?
    public var kl: Double?
    public var js: Double?
    public var ks: Double?
    public var ksPValue: Double?
    public var w1: Double?
    public var w1Norm: Double?
    public var nanShare: Double?
}

public struct CategoricalScores: Sendable {
    public var chi2: Double?
    public var chi2PValue: Double?
    public var newShare: Double?
    public var nanShare: Double?
}

public enum ColumnScores: Sendable {
    case numeric(NumericScores)
    case categorical(CategoricalScores)
}

public struct WindowScorer {
    public init(capacity: Int) {}
    public mutating func score(_ x: UnsafeBufferPointer<Double>, against: ColumnBaseline) -> ColumnScores {
        .numeric(NumericScores())
    }
}

public enum Statistics {
    public static func binomTestLess(k: Int, n: Int, p: Double) -> Double { .nan }
    public static func mcnemarExact(b: Int, c: Int) -> Double { .nan }
    public static func wilcoxonApprox(_ d: [Double]) -> (statistic: Double, pvalue: Double) { (.nan, .nan) }
}
