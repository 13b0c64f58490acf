import Execution
import TickBusCore

/// The `[risk]` table of an execution file; a limit left out (nil) is not enforced.
public struct RiskSettings: Sendable, Equatable {
    /// Shares per instrument, absolute, counting every working order of the side as filled.
    public var maxPosition: Int64?
    /// New orders in any rolling second of exchange time.
    public var maxOrdersPerSecond: Int?
    /// Dollars: a loss (cash + positions marked to mid, after fees) reaching it pauses trading.
    public var maxLoss: Double?
    public init(maxPosition: Int64? = nil, maxOrdersPerSecond: Int? = nil, maxLoss: Double? = nil) {
        self.maxPosition = maxPosition
        self.maxOrdersPerSecond = maxOrdersPerSecond
        self.maxLoss = maxLoss
    }
}

/// A risk check's verdict on an order, or a pause: what was checked and against what limit (the
/// risk record, kind 105).
public struct RiskEvent: Sendable, Equatable {
    public var code: RiskEventCode
    /// The position the order would reach, the orders already in the last second, or the loss.
    public var value: Double
    public var limit: Double
    @inlinable public init(code: RiskEventCode, value: Double, limit: Double) {
        self.code = code
        self.value = value
        self.limit = limit
    }
}

/// The risk limits, checked before any new order leaves (cancels always may). Deterministic:
/// exchange time and what the strategy has seen only.
///
/// - Maximum position: a buy of q is refused when position + working buys + q > max (a sell
///   when −(position − working sells − q) > max): the worst case, every working order filled.
/// - Maximum orders per second: a fixed ring of the send times of the last `max` new orders
///   let through; a new order at t is refused when the oldest of them is later than t − 1 s
///   (`max` orders already in (t − 1 s, t]). Refused orders do not count.
/// - Maximum loss: `checkLoss` pauses trading when −P&L reaches the limit; while paused every
///   new order is refused, until `resume` (a `resume` control command). A resume with the loss
///   still at the limit pauses again at the next check.
///
/// Order of the checks: paused, position, rate. Invariant: `times` holds `capacity` entries,
/// the first `min(count, capacity)` written; allocated once in `init`.
public struct RiskLimits: ~Copyable {
    public let settings: RiskSettings
    @usableFromInline let times: UnsafeMutablePointer<Int64>
    let capacity: Int
    /// Where the next accepted send time goes; when full, the oldest of the ring.
    var next = 0
    var count = 0
    /// Paused by a breach of the loss limit.
    public private(set) var paused = false
    /// The loss at the last check (dollars).
    public private(set) var loss = 0.0

    /// One second of exchange time, the rate limit's window.
    public static let windowNs: Int64 = 1_000_000_000

    public init(settings: RiskSettings) {
        self.settings = settings
        capacity = max(settings.maxOrdersPerSecond ?? 1, 1)
        times = .allocate(capacity: capacity)
        times.initialize(repeating: 0, count: capacity)
    }
    deinit { times.deallocate() }

    /// Checks a new order; when it may go, its send time is counted in the rate window.
    /// - Parameters:
    ///   - exposure: what the strategy knows of the instrument (position and working shares).
    ///   - time: the send time (exchange ns).
    /// - Returns: nil when the order may go, else the refusal.
    public mutating func check(
        side: Side,
        quantity: UInt32,
        exposure: InstrumentExposure,
        time: Int64
    ) -> RiskEvent? {
        if paused { return RiskEvent(code: .refusedPaused, value: loss, limit: settings.maxLoss ?? 0) }
        if let limit = settings.maxPosition {
            let q = Int64(quantity)
            let worst =
                side == .buy
                ? exposure.position &+ exposure.workingBuy &+ q
                : exposure.position &- exposure.workingSell &- q
            let magnitude = worst < 0 ? 0 &- worst : worst
            if magnitude > limit {
                return RiskEvent(code: .refusedMaxPosition, value: Double(worst), limit: Double(limit))
            }
        }
        if let limit = settings.maxOrdersPerSecond {
            // Safe: next < capacity.
            if count >= capacity, times[next] > time &- Self.windowNs {
                return RiskEvent(code: .refusedMaxOrders, value: Double(count), limit: Double(limit))
            }
            times[next] = time
            next = next + 1 == capacity ? 0 : next + 1
            if count < capacity { count += 1 }
        }
        return nil
    }

    /// Checks the loss against the limit; a breach pauses trading.
    /// - Parameter pnl: cash + positions marked to mid, after fees (dollars).
    /// - Returns: the pause event when this check breached the limit, else nil (also while
    ///   already paused).
    public mutating func checkLoss(pnl: Double) -> RiskEvent? {
        loss = -pnl
        guard let limit = settings.maxLoss, !paused, loss >= limit else { return nil }
        paused = true
        return RiskEvent(code: .pausedMaxLoss, value: loss, limit: limit)
    }

    /// Ends a pause of the loss limit (a `resume` command).
    /// - Returns: the resume event, nil when not paused by the limit.
    public mutating func resume() -> RiskEvent? {
        guard paused else { return nil }
        paused = false
        return RiskEvent(code: .resumed, value: loss, limit: settings.maxLoss ?? 0)
    }
}
