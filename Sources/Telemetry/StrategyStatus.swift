import TickBusCore

/// One stats block (a strategy or another process that writes counters) as telemetry shows it.
public struct StrategyStatus: Sendable, Codable, Equatable {
    public var name: String
    public var kind: String
    public var pid: Int32
    public var generation: UInt64
    /// running, closed or dead.
    public var state: String
    public var alive: Bool
    /// Model ids as 16 hex digits (the registry's content address prefix).
    public var modelId: String
    public var shadowModelId: String
    public var messages: UInt64
    public var decisions: UInt64
    public var signals: UInt64
    public var disagreements: UInt64
    public var shadowDecisions: UInt64
    public var gaps: UInt64
    public var lost: UInt64
    public var heartbeatAgeSeconds: Double
    public var decisionsPerSecond: Double?
    /// Tick-to-decision latency.
    public var latency: LatencySummary
    /// The full histogram, for `/metrics` (not in the JSON).
    public var histogram: LatencyHistogram

    enum CodingKeys: String, CodingKey {
        case name, kind, pid, generation, state, alive, modelId, shadowModelId, messages, decisions, signals
        case disagreements, shadowDecisions, gaps, lost, heartbeatAgeSeconds, decisionsPerSecond, latency
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        kind = try c.decode(String.self, forKey: .kind)
        pid = try c.decode(Int32.self, forKey: .pid)
        generation = try c.decode(UInt64.self, forKey: .generation)
        state = try c.decode(String.self, forKey: .state)
        alive = try c.decode(Bool.self, forKey: .alive)
        modelId = try c.decode(String.self, forKey: .modelId)
        shadowModelId = try c.decode(String.self, forKey: .shadowModelId)
        messages = try c.decode(UInt64.self, forKey: .messages)
        decisions = try c.decode(UInt64.self, forKey: .decisions)
        signals = try c.decode(UInt64.self, forKey: .signals)
        disagreements = try c.decode(UInt64.self, forKey: .disagreements)
        shadowDecisions = try c.decode(UInt64.self, forKey: .shadowDecisions)
        gaps = try c.decode(UInt64.self, forKey: .gaps)
        lost = try c.decode(UInt64.self, forKey: .lost)
        heartbeatAgeSeconds = try c.decode(Double.self, forKey: .heartbeatAgeSeconds)
        decisionsPerSecond = try c.decodeIfPresent(Double.self, forKey: .decisionsPerSecond)
        latency = try c.decode(LatencySummary.self, forKey: .latency)
        histogram = .empty
    }

    init(_ s: StatsSnapshot, now: UInt64) {
        name = s.name
        kind = "\(s.kind)"
        pid = s.pid
        generation = s.generation
        switch s.state {
        case .closed: state = "closed"
        case .running, .initializing: state = s.alive ? "running" : "dead"
        }
        alive = s.alive && s.state != .closed
        modelId = hex16(s.modelId)
        shadowModelId = hex16(s.shadowModelId)
        messages = s.counter(.messages)
        decisions = s.counter(.decisions)
        signals = s.counter(.signals)
        disagreements = s.counter(.disagreements)
        shadowDecisions = s.counter(.shadowDecisions)
        gaps = s.counter(.gaps)
        lost = s.counter(.lost)
        heartbeatAgeSeconds = ageSeconds(now: now, then: s.heartbeatNs)
        decisionsPerSecond = nil
        latency = LatencySummary(s.latency)
        histogram = s.latency
    }
}
