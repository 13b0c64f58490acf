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

    public func counter(_ c: StatsCounter) -> UInt64 { counters[c.rawValue] }
}
