/// What telemetry reads from a stats block.
public struct StatsSnapshot: Sendable, Equatable {
    public var path: String
    public var name: String
    public var kind: StatsKind
    public var pid: Int32
    public var state: ProducerState
    public var generation: UInt64
    public var createdRealtimeNs: UInt64
    public var modelId: UInt64
    public var shadowModelId: UInt64
    public var heartbeatNs: UInt64
    public var counters: [UInt64]
    public var latency: LatencyHistogram
    public var alive: Bool
    /// The roles in force (after the last control command); nil when the block's roles could not
    /// be read as one state (`StatsBlock.rolesAndLastSwap`).
    public var roles: RoleState?
    /// When the last applied control command took effect, ns since the Unix epoch; 0 if none.
    public var lastSwapRealtimeNs: Int64
    /// Command publish to first decision under the new state, per applied swap.
    public var swapLatency: LatencyHistogram
    /// The last swap latency recorded (ns); 0 if none.
    public var lastSwapLatencyNs: UInt64
    /// Orders, order events, fills, position, P&L, fees and risk events (version 3).
    public var execution = ExecutionStats()

    public func counter(_ c: StatsCounter) -> UInt64 { counters[c.rawValue] }
}
