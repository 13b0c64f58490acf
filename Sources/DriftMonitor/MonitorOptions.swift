import Drift
import DriftPolicy
import Features

/// What `tickbus drift` was asked to do (Docs/DRIFT.md, "Monitor").
public struct MonitorOptions: Sendable {
    /// The strategy whose ring `decisions.<strategy>` is read.
    public var strategy: String
    /// Decision records per window (default 5,000).
    public var window: Int
    /// The outcome's horizon in exchange-time ns (default 1 s).
    public var horizonNs: Int64
    /// The hit rate the binomial test compares against; nil: the version's backtest report
    /// (with a registry), else no test (`hit_pvalue` null).
    public var expectedHitRate: Double?
    /// The layered policy; nil: statistics only, no level, no action.
    public var policy: DriftPolicy?
    /// The bus whose control server takes the actions (shadow, rollback, canary); nil: those
    /// actions are reported as not sent.
    public var controlBus: String?
    /// A registry: the live version's features, definition hash, backtest hit rate and signal rule.
    public var registry: String?
    /// The feature definition the strategy runs (checked against the baseline; its signal rule
    /// gives each model's own signal in the canary analysis).
    public var definition: FeatureDefinition?
    public var definitionHash: String?
    /// Seconds a control submission may take.
    public var controlTimeout: Double

    public init(
        strategy: String,
        window: Int = 5000,
        horizonNs: Int64 = 1_000_000_000,
        expectedHitRate: Double? = nil,
        policy: DriftPolicy? = nil,
        controlBus: String? = nil,
        registry: String? = nil,
        definition: FeatureDefinition? = nil,
        definitionHash: String? = nil,
        controlTimeout: Double = 5
    ) {
        self.strategy = strategy
        self.window = window
        self.horizonNs = horizonNs
        self.expectedHitRate = expectedHitRate
        self.policy = policy
        self.controlBus = controlBus
        self.registry = registry
        self.definition = definition
        self.definitionHash = definitionHash
        self.controlTimeout = controlTimeout
    }

    /// Windows above this many records are refused (the window's columns are one allocation).
    public static let maxWindow = 10_000_000

    public func validate() throws(MonitorError) {
        guard window >= 1, window <= Self.maxWindow else {
            throw .invalid("--window \(window) must be in 1...\(Self.maxWindow)")
        }
        guard horizonNs >= 1, horizonNs <= 86_400_000_000_000 else {
            throw .invalid("--horizon-ns \(horizonNs) must be in 1...86400000000000 (a day)")
        }
        if let p = expectedHitRate, !(p > 0 && p < 1) {
            throw .invalid("--expected-hit-rate \(p) must be in (0, 1)")
        }
    }
}
