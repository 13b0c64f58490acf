/// One feature of a definition.
public struct FeatureSpec: Sendable, Equatable {
    public var name: String
    public var kind: FeatureKind
    /// Event-count window (`ofi`, `return_events`).
    public var events: Int = 0
    /// Exchange-time window in ns (`return_time`, `trade_count`, `trade_volume`).
    public var windowNs: Int64 = 0
    /// Depth (`depth_imbalance`).
    public var levels: Int = 0
    /// EWMA weight per event (`volatility_events`).
    public var alpha: Double = 0
    /// EWMA half-life in exchange-time ns (`volatility_time`).
    public var halfLifeNs: Int64 = 0
    /// Capacity of the exchange-time window buffers (entries per instrument); older entries beyond it are dropped.
    public var capacity: Int = 4096
    public init(name: String, kind: FeatureKind) {
        self.name = name
        self.kind = kind
    }
}
