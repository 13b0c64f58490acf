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
    /// A categorical feature (`categorical = true`): the drift monitor compares its category
    /// frequencies (chi-squared) instead of its bins. The engine computes it like any other.
    public var categorical: Bool = false
    /// Capacity of the exchange-time window buffers (entries per instrument); older entries beyond it are dropped.
    public var capacity: Int = 4096

    /// The largest `events` (an event-count window) a definition may give. `FeatureEngine`
    /// preallocates every window for every instrument slot, so a window near `Int.max` would
    /// overflow its size arithmetic or exhaust memory; a million events is far past any real window.
    public static let maxEvents = 1 << 20
    /// The largest exchange-time window `capacity` (entries per instrument), for the same reason.
    public static let maxCapacity = 1 << 20
    /// Depth levels are walked on every update: past the book's depth they only cost time.
    public static let maxLevels = 1024
    /// Window state of one definition, summed over features and instrument slots (8-byte words:
    /// 2^25 is 256 MiB), checked once the definition is read.
    public static let maxStateWords = 1 << 25

    public init(name: String, kind: FeatureKind) {
        self.name = name
        self.kind = kind
    }
}
