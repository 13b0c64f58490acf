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
    /// The filled roles (live, shadow, canary, in that order) with their version and model ids.
    /// Empty when the roles could not be read as one state (`rolesAvailable` false).
    public var roles: [RoleStatus]
    /// False when the writer was changing the roles through every attempt to read them.
    public var rolesAvailable: Bool
    public var canaryPercent: UInt8
    public var paused: Bool
    /// Control commands applied and rejected, and control ring slots that did not decode.
    public var controlApplied: UInt64
    public var controlRejected: UInt64
    public var controlMalformed: UInt64
    /// When the last applied command took effect, ns since the Unix epoch; 0 if none.
    public var lastSwapNs: Int64
    /// The last swap latency (command publish to first decision under the new state), ns.
    public var lastSwapLatencyNs: UInt64
    /// Swap latency over every recorded swap.
    public var swapLatency: LatencySummary
    /// The full swap latency histogram, for `/metrics` (not in the JSON).
    public var swapHistogram: LatencyHistogram
    /// Orders, order events, fills, position, P&L, fees and risk events (stats block version 3).
    public var execution: ExecutionStatus

    enum CodingKeys: String, CodingKey {
        case name, kind, pid, generation, state, alive, modelId, shadowModelId, messages, decisions, signals
        case disagreements, shadowDecisions, gaps, lost, heartbeatAgeSeconds, decisionsPerSecond, latency
        case roles, rolesAvailable, canaryPercent, paused, controlApplied, controlRejected, controlMalformed
        case lastSwapNs, lastSwapLatencyNs, swapLatency, execution
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
        // Added with stats block version 2: absent from older JSON.
        roles = try c.decodeIfPresent([RoleStatus].self, forKey: .roles) ?? []
        rolesAvailable = try c.decodeIfPresent(Bool.self, forKey: .rolesAvailable) ?? true
        canaryPercent = try c.decodeIfPresent(UInt8.self, forKey: .canaryPercent) ?? 0
        paused = try c.decodeIfPresent(Bool.self, forKey: .paused) ?? false
        controlApplied = try c.decodeIfPresent(UInt64.self, forKey: .controlApplied) ?? 0
        controlRejected = try c.decodeIfPresent(UInt64.self, forKey: .controlRejected) ?? 0
        controlMalformed = try c.decodeIfPresent(UInt64.self, forKey: .controlMalformed) ?? 0
        lastSwapNs = try c.decodeIfPresent(Int64.self, forKey: .lastSwapNs) ?? 0
        lastSwapLatencyNs = try c.decodeIfPresent(UInt64.self, forKey: .lastSwapLatencyNs) ?? 0
        swapLatency = try c.decodeIfPresent(LatencySummary.self, forKey: .swapLatency) ?? LatencySummary(.empty)
        swapHistogram = .empty
        // Added with stats block version 3.
        execution = try c.decodeIfPresent(ExecutionStatus.self, forKey: .execution) ?? ExecutionStatus(ExecutionStats())
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
        roles = s.roles.map(RoleStatus.filled) ?? []
        rolesAvailable = s.roles != nil
        canaryPercent = s.roles?.canaryPercent ?? 0
        paused = s.roles?.paused ?? false
        controlApplied = s.counter(.controlApplied)
        controlRejected = s.counter(.controlRejected)
        controlMalformed = s.counter(.controlMalformed)
        lastSwapNs = s.lastSwapRealtimeNs
        lastSwapLatencyNs = s.lastSwapLatencyNs
        swapLatency = LatencySummary(s.swapLatency)
        swapHistogram = s.swapLatency
        execution = ExecutionStatus(s.execution)
    }
}

/// A strategy's execution figures (paper trading or a backtest on the bus), as `stat --json`,
/// the `stat` execution table and `/metrics` show them. Money in dollars.
public struct ExecutionStatus: Sendable, Codable, Equatable {
    /// Own order actions sent (new orders and cancels).
    public var ordersSent: UInt64
    public var acks: UInt64
    public var rejects: UInt64
    public var cancelled: UInt64
    public var cancelRejects: UInt64
    public var fills: UInt64
    public var filledShares: UInt64
    public var orderedShares: UInt64
    /// Filled shares / ordered shares; nil before any share was ordered.
    public var fillRate: Double?
    /// Shares (all instruments).
    public var position: Int64
    /// Realised + marked to the mid, after fees.
    public var pnlDollars: Double
    /// Every fee charged (fills and orders); a rebate is negative.
    public var feesDollars: Double
    /// The fills' fees alone.
    public var fillFeesDollars: Double
    /// Risk events by code, in code order: every `RiskEventCode` ("refused:max_position", …,
    /// "resumed"), then "code6", "code7" and "other" (codes this build does not name) when not zero.
    public var riskEvents: [RiskEventCount]
    /// Whether the strategy sent an order or saw a risk event (the `stat` table shows only those).
    public var hasOrders: Bool

    public init(_ e: ExecutionStats) {
        ordersSent = e.ordersSent
        acks = e.acks
        rejects = e.rejects
        cancelled = e.cancelled
        cancelRejects = e.cancelRejects
        fills = e.fills
        filledShares = e.filledShares
        orderedShares = e.orderedShares
        fillRate = e.fillRate
        position = e.position
        pnlDollars = Double(e.pnlMicros) / 1e6
        feesDollars = Double(e.feesMicros) / 1e6
        fillFeesDollars = Double(e.fillFeesMicros) / 1e6
        var risk = RiskEventCode.allCases.map { RiskEventCount(code: "\($0)", count: e.riskEvents[Int($0.rawValue)]) }
        for i in 1..<e.riskEvents.count where RiskEventCode(rawValue: UInt8(i)) == nil && e.riskEvents[i] != 0 {
            risk.append(RiskEventCount(code: "code\(i)", count: e.riskEvents[i]))
        }
        if e.riskEvents[0] != 0 { risk.append(RiskEventCount(code: "other", count: e.riskEvents[0])) }
        riskEvents = risk
        hasOrders = e.hasOrders
    }
}

/// One filled model role of a strategy.
public struct RoleStatus: Sendable, Codable, Equatable {
    /// live, shadow or canary.
    public var role: String
    /// The registry version id, 64 hex digits; empty when the model was not loaded from a registry.
    public var version: String
    /// The runtime model id decision records carry, as 16 hex digits.
    public var modelId: String

    public init(role: String, version: String, modelId: String) {
        self.role = role
        self.version = version
        self.modelId = modelId
    }

    /// The roles that hold a model (a model id or a version id), live, shadow, canary.
    static func filled(_ r: RoleState) -> [RoleStatus] {
        let all: [(ModelRole, VersionDigest, UInt64)] = [
            (.live, r.liveVersion, r.liveModelId), (.shadow, r.shadowVersion, r.shadowModelId),
            (.canary, r.canaryVersion, r.canaryModelId),
        ]
        return all.filter { !$0.1.isZero || $0.2 != 0 }.map {
            RoleStatus(role: "\($0.0)", version: $0.1.isZero ? "" : $0.1.hex, modelId: hex16($0.2))
        }
    }
}

/// How many risk events of one code a strategy recorded.
public struct RiskEventCount: Sendable, Codable, Equatable {
    /// The code's name, as the journal's risk lines print it (`RiskEventCode`).
    public var code: String
    public var count: UInt64
    public init(code: String, count: UInt64) {
        self.code = code
        self.count = count
    }
}
