/// The kinds of feature. Prices are in currency units (the ring's 1e-4 fixed point / 1e4),
/// times in seconds; windows are counted in events (messages of the instrument) or exchange-time ns.
public enum FeatureKind: String, Sendable, CaseIterable {
    /// (best bid + best ask) / 2.
    case mid
    /// best ask − best bid.
    case spread
    /// Level-1 imbalance (bid size − ask size) / (bid size + ask size).
    case imbalance
    /// Depth-weighted imbalance over `levels` levels, level i weighted 1/(i+1).
    case depthImbalance = "depth_imbalance"
    /// (bid × ask size + ask × bid size) / (bid size + ask size).
    case microprice
    /// Order-flow imbalance (Cont, Kukanov, Stoikov) summed over the last `events` top-of-book updates.
    case ofi
    /// log(mid / mid `events` events ago).
    case returnEvents = "return_events"
    /// log(mid / last mid at or before exchange time − `window_ns`).
    case returnTime = "return_time"
    /// sqrt of the EWMA (per event, weight `alpha`) of squared log mid returns.
    case volatilityEvents = "volatility_events"
    /// sqrt of the EWMA of squared log mid returns, decayed over exchange time with `halflife_ns`.
    case volatilityTime = "volatility_time"
    /// Trades (trade and execute messages) in the last `window_ns` of exchange time.
    case tradeCount = "trade_count"
    /// Shares traded in the last `window_ns` of exchange time.
    case tradeVolume = "trade_volume"
    /// Seconds of exchange time since the last trade (NaN before the first).
    case timeSinceTrade = "time_since_trade"
}
