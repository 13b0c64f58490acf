/// A feature definition: loaded once from a TOML file, then compiled into a `FeatureEngine`.
///
/// ```toml
/// instrument = 1            # only this instrument (omit: all)
/// decide_on = "every"       # or "top_change"
/// max_instruments = 16      # per-instrument state slots, preallocated
///
/// [signal]                  # signal +1 above buy_above, -1 below sell_below, else 0
/// buy_above = 0.6
/// sell_below = 0.4
///
/// [[feature]]
/// name = "imb"
/// kind = "imbalance"
///
/// [[feature]]
/// name = "ret_1s"
/// kind = "return_time"
/// window_ns = 1_000_000_000
/// ```
public struct FeatureDefinition: Sendable, Equatable {
    public var features: [FeatureSpec]
    public var instrument: UInt32?
    public var trigger: DecisionTrigger = .every
    public var maxInstruments: Int = 16
    public var buyAbove: Double = .infinity
    public var sellBelow: Double = -.infinity

    public init(features: [FeatureSpec], instrument: UInt32? = nil) {
        self.features = features
        self.instrument = instrument
    }

    public var names: [String] { features.map(\.name) }

    /// +1, −1 or 0 from the thresholds.
    @inlinable public func signal(_ prediction: Double) -> Int8 {
        signalRule.signal(prediction)
    }

    /// The thresholds as a plain value, for a hot loop that must not copy the whole definition.
    public var signalRule: SignalRule { SignalRule(buyAbove: buyAbove, sellBelow: sellBelow) }
}
