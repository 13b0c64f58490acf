import Book
import Execution
import TickBusCore

/// The `[orders]` table of an execution file: how signals become own orders.
public struct OrderPolicySettings: Sendable, Equatable {
    /// How a decision becomes orders.
    public enum Mode: String, Sendable, CaseIterable {
        /// Rest one DAY order at the own best on the signal's side (the best bid for a buy), moved
        /// to the new best when that best changes at a later decision.
        case join
        /// Take: one IOC at the opposite best (the best ask for a buy) while the signal holds and
        /// no earlier IOC of that side is still unanswered.
        case cross
        /// Quote both sides whatever the signal: one DAY order at the best bid and one at the best
        /// ask, requoted (cancel and new) when the best changes.
        case quote
    }
    public var mode: Mode = .join
    /// Shares per order.
    public var size: UInt32 = 100
    /// `join`: a flat signal cancels the instrument's resting orders.
    public var cancelOnFlat = true
    /// `join`: a signal cancels the resting orders of the other side.
    public var cancelOnOpposite = true
    /// A resting order is cancelled this long (exchange ns) after it was sent; 0: never.
    public var lifetimeNs: Int64 = 0
    public init() {}
}

/// One own action the policy wants sent, and why (the order record's policy reason).
public struct PlannedAction: Sendable, Equatable {
    public var action: OwnAction
    public var reason: OrderPolicyReason
    @inlinable public init(_ action: OwnAction, _ reason: OrderPolicyReason) {
        self.action = action
        self.reason = reason
    }
}

/// The actions one call of the policy plans, in a fixed buffer allocated once (no allocation per
/// decision). Invariant: `base` holds `capacity` entries, the first `count` initialised.
public struct PlannedActions: ~Copyable {
    @usableFromInline let base: UnsafeMutablePointer<PlannedAction>
    public let capacity: Int
    public private(set) var count = 0

    public init(capacity: Int) {
        self.capacity = max(capacity, 1)
        base = .allocate(capacity: self.capacity)
    }
    deinit { base.deallocate() }

    /// Safe: `i < count` is checked.
    @inlinable public subscript(i: Int) -> PlannedAction {
        precondition(i >= 0 && i < count, "planned action index out of range")
        return base[i]
    }
    /// False (and nothing stored) when full.
    @discardableResult
    mutating func append(_ a: PlannedAction) -> Bool {
        guard count < capacity else { return false }
        // Safe: count < capacity.
        (base + count).initialize(to: a)
        count += 1
        return true
    }
    public mutating func removeAll() { count = 0 }
}

/// An own order as the strategy knows it: sent, not yet known to be finished.
@usableFromInline
struct _WorkingOrder {
    var id: UInt64
    var instrument: UInt32
    var slot: Int32
    var side: Side
    var tif: TimeInForce
    /// A cancel was sent (its answer not seen yet).
    var cancelSent: Bool
    var price: Int64
    /// Shares not known to be filled or cancelled.
    var remaining: UInt32
    var sentTime: Int64
}

/// What the strategy knows of one instrument: its position (from the fills seen), the shares of
/// its working orders per side, and the last mid.
public struct InstrumentExposure: Sendable, Equatable {
    public var instrument: UInt32
    public var position: Int64 = 0
    /// Shares of working buy (sell) orders: sent, not known to be filled or cancelled.
    public var workingBuy: Int64 = 0
    public var workingSell: Int64 = 0
    /// The last mid seen (1e-4), NaN before the book had both sides.
    public var mid: Double = .nan
    @inlinable init(instrument: UInt32) { self.instrument = instrument }
}

/// The order policy (`[orders]`): turns a decision's signal into own actions, tracks the own
/// orders it sent, and books the fills and order events it sees (`response_latency_ns` after they
/// happen: the caller delivers them late). Deterministic: reads only the signal, the book's
/// prices and sizes and exchange times.
///
/// Everything is allocated in `init` (the working-order table, the instrument table); a decision,
/// a fill or an event allocates nothing, takes no lock and calls nothing dynamic.
///
/// Invariants: `orders` holds `maxWorking` entries, the first `workingCount` initialised;
/// `exposures` holds `maxInstruments` entries, the first `instrumentCount` initialised;
/// `slotOf[i]` is 0 or the slot + 1 of instrument `i` (ids `0..<65536`, the book's range).
public struct OrderPolicy: ~Copyable {
    public let settings: OrderPolicySettings
    public let maxWorking: Int
    public let maxInstruments: Int
    @usableFromInline let orders: UnsafeMutablePointer<_WorkingOrder>
    public private(set) var workingCount = 0
    @usableFromInline let exposures: UnsafeMutablePointer<InstrumentExposure>
    public private(set) var instrumentCount = 0
    @usableFromInline let slotOf: UnsafeMutablePointer<UInt32>
    /// The next own order id (from 1, in send order: deterministic).
    public private(set) var nextId: UInt64 = 1
    /// Dollars: −Σ side × price × quantity / 1e4 over the fills seen, minus every fee seen.
    public private(set) var cash = 0.0
    /// Dollars of fees seen (fills and orders; a rebate is negative).
    public private(set) var fees = 0.0
    /// Decisions that wanted an order but found the working-order or instrument table full.
    public private(set) var tableFull: UInt64 = 0
    /// No non-cancelled DAY order expires before this exchange time (a lower bound: a scan
    /// below it would find nothing).
    var nextExpiry: Int64 = .max

    /// The book's instrument range: ids at or above it are never traded.
    public static let instrumentIds = 65_536

    /// - Parameters:
    ///   - maxWorking: own orders working at once (sent, not known finished).
    ///   - maxInstruments: instruments traded in a session.
    public init(settings: OrderPolicySettings, maxWorking: Int = 1024, maxInstruments: Int = 64) {
        self.settings = settings
        self.maxWorking = max(maxWorking, 1)
        self.maxInstruments = max(min(maxInstruments, Self.instrumentIds), 1)
        orders = .allocate(capacity: self.maxWorking)
        exposures = .allocate(capacity: self.maxInstruments)
        slotOf = .allocate(capacity: Self.instrumentIds)
        slotOf.initialize(repeating: 0, count: Self.instrumentIds)
    }

    deinit {
        orders.deallocate()
        exposures.deallocate()
        slotOf.deallocate()
    }

    // MARK: What the strategy knows

    /// The instrument's exposure, nil before its first order.
    public func exposure(_ instrument: UInt32) -> InstrumentExposure? {
        guard Int(instrument) < Self.instrumentIds else { return nil }
        let s = slotOf[Int(instrument)]
        return s == 0 ? nil : exposures[Int(s) - 1]
    }

    /// The working order with this id: (side, price, remaining, cancel sent), nil when none.
    public func working(_ id: UInt64) -> (side: Side, price: Int64, remaining: UInt32, cancelSent: Bool)? {
        guard let i = index(of: id) else { return nil }
        let o = orders[i]
        return (o.side, o.price, o.remaining, o.cancelSent)
    }

    /// Mark-to-mid P&L in dollars: cash (after fees) + Σ position × mid / 1e4 over the
    /// instruments traded (an instrument with no mid yet counts at its last fill price).
    public var pnl: Double {
        var total = cash
        var i = 0
        while i < instrumentCount {
            let e = exposures[i]  // Safe: i < instrumentCount.
            if e.position != 0 { total += Double(e.position) * e.mid / 10_000 }
            i &+= 1
        }
        return total
    }

    /// The sum of the positions of every instrument traded (telemetry).
    public var netPosition: Int64 {
        var total: Int64 = 0
        for i in 0..<instrumentCount { total &+= exposures[i].position }
        return total
    }

    /// Notes the instrument's book (after a message changed it): the mid P&L marks at.
    public mutating func mark(_ instrument: UInt32, top: TopOfBook) {
        guard Int(instrument) < Self.instrumentIds else { return }
        let s = slotOf[Int(instrument)]
        guard s != 0, top.bid.shares > 0, top.ask.shares > 0 else { return }
        exposures[Int(s) - 1].mid = Double(top.bid.price + top.ask.price) / 2
    }

    // MARK: Planning

    /// The orders a decision leads to (appended to `out`): see `OrderPolicySettings.Mode`; while
    /// `paused`, only cancels of the instrument's working orders.
    /// - Parameters:
    ///   - instrument: the decision's instrument.
    ///   - signal: +1 buy, −1 sell, 0 flat (the acting model's).
    ///   - top: the instrument's best bid and ask after the decision's message.
    ///   - time: the decision's exchange time (the actions' sent time).
    public mutating func plan(
        instrument: UInt32,
        signal: Int8,
        top: TopOfBook,
        time: Int64,
        paused: Bool,
        into out: inout PlannedActions
    ) {
        guard Int(instrument) < Self.instrumentIds else { return }
        if paused {
            cancelAll(instrument: instrument, side: nil, reason: .paused, time: time, into: &out)
            return
        }
        switch settings.mode {
        case .quote:
            requote(instrument, .buy, top.bid, reason: .quote, time: time, into: &out)
            requote(instrument, .sell, top.ask, reason: .quote, time: time, into: &out)
        case .join:
            if signal == 0 {
                if settings.cancelOnFlat {
                    cancelAll(instrument: instrument, side: nil, reason: .flat, time: time, into: &out)
                }
                return
            }
            let side: Side = signal > 0 ? .buy : .sell
            if settings.cancelOnOpposite {
                cancelAll(
                    instrument: instrument,
                    side: side == .buy ? .sell : .buy,
                    reason: .opposite,
                    time: time,
                    into: &out
                )
            }
            requote(instrument, side, side == .buy ? top.bid : top.ask, reason: .join, time: time, into: &out)
        case .cross:
            guard signal != 0 else { return }
            let side: Side = signal > 0 ? .buy : .sell
            let level = side == .buy ? top.ask : top.bid
            guard level.shares > 0, !hasWorking(instrument, side, price: nil) else { return }
            newOrder(instrument, side, price: level.price, tif: .ioc, reason: .cross, time: time, into: &out)
        }
    }

    /// Cancels of the DAY orders that rested `lifetime_ns` by `time` (appended to `out`).
    public mutating func expire(time: Int64, into out: inout PlannedActions) {
        let life = settings.lifetimeNs
        guard life > 0, time >= nextExpiry else { return }
        var next = Int64.max
        var i = 0
        while i < workingCount {
            let o = orders[i]  // Safe: i < workingCount.
            if !o.cancelSent, o.tif == .day {
                let due = o.sentTime &+ life
                if due <= time {
                    if !out.append(PlannedAction(cancelAction(o, time: time), .lifetime)) { next = time }
                } else if due < next {
                    next = due
                }
            }
            i &+= 1
        }
        nextExpiry = next
    }

    /// Rests one order of `side` at `level`'s price: cancels working orders of that side at
    /// another price, sends a new one unless one already works at that price.
    mutating func requote(
        _ instrument: UInt32,
        _ side: Side,
        _ level: PriceLevel,
        reason: OrderPolicyReason,
        time: Int64,
        into out: inout PlannedActions
    ) {
        guard level.shares > 0 else { return }
        var i = 0
        while i < workingCount {
            let o = orders[i]  // Safe: i < workingCount.
            if o.instrument == instrument, o.side == side, !o.cancelSent, o.price != level.price {
                out.append(PlannedAction(cancelAction(o, time: time), reason))
            }
            i &+= 1
        }
        if !hasWorking(instrument, side, price: level.price) {
            newOrder(instrument, side, price: level.price, tif: .day, reason: reason, time: time, into: &out)
        }
    }

    /// Plans cancels of the instrument's working DAY orders (of one side, or both when nil).
    mutating func cancelAll(
        instrument: UInt32,
        side: Side?,
        reason: OrderPolicyReason,
        time: Int64,
        into out: inout PlannedActions
    ) {
        var i = 0
        while i < workingCount {
            let o = orders[i]  // Safe: i < workingCount.
            if o.instrument == instrument, !o.cancelSent, o.tif == .day, side == nil || o.side == side {
                out.append(PlannedAction(cancelAction(o, time: time), reason))
            }
            i &+= 1
        }
    }

    /// Plans a cancel of every working DAY order, all instruments (a breached loss limit).
    public mutating func cancelEverything(reason: OrderPolicyReason, time: Int64, into out: inout PlannedActions) {
        var i = 0
        while i < workingCount {
            let o = orders[i]  // Safe: i < workingCount.
            if !o.cancelSent, o.tif == .day { out.append(PlannedAction(cancelAction(o, time: time), reason)) }
            i &+= 1
        }
    }

    func cancelAction(_ o: _WorkingOrder, time: Int64) -> OwnAction {
        OwnAction(
            kind: .cancel,
            orderId: o.id,
            sentTime: time,
            instrument: o.instrument,
            side: o.side,
            price: o.price,
            quantity: o.remaining,
            tif: o.tif
        )
    }

    mutating func newOrder(
        _ instrument: UInt32,
        _ side: Side,
        price: Int64,
        tif: TimeInForce,
        reason: OrderPolicyReason,
        time: Int64,
        into out: inout PlannedActions
    ) {
        // An order the tables could not track is never sent (its fills would be lost to the risk checks).
        guard workingCount < maxWorking, slotOf[Int(instrument)] != 0 || instrumentCount < maxInstruments,
            out.count < out.capacity
        else {
            tableFull &+= 1
            return
        }
        let a = OwnAction.new(
            id: nextId,
            at: time,
            instrument: instrument,
            side: side,
            price: price,
            quantity: settings.size,
            tif: tif
        )
        nextId &+= 1
        out.append(PlannedAction(a, reason))
    }

    /// Whether a working order (not being cancelled) of this side exists, at `price` when given.
    func hasWorking(_ instrument: UInt32, _ side: Side, price: Int64?) -> Bool {
        var i = 0
        while i < workingCount {
            let o = orders[i]  // Safe: i < workingCount.
            if o.instrument == instrument, o.side == side, !o.cancelSent, price == nil || o.price == price {
                return true
            }
            i &+= 1
        }
        return false
    }

    // MARK: What was sent and what came back

    /// The instrument's exposure, for the risk checks before an action is sent (a zero exposure
    /// for an instrument not traded yet).
    public func exposureForCheck(_ instrument: UInt32) -> InstrumentExposure {
        exposure(instrument) ?? InstrumentExposure(instrument: instrument)
    }

    /// Notes an action as sent (after the risk checks let it go): a new order starts working, a
    /// cancel marks its order. A new order the tables cannot hold is refused (false); `plan`
    /// never plans one.
    @discardableResult
    public mutating func sent(_ a: OwnAction) -> Bool {
        switch a.kind {
        case .cancel:
            if let i = index(of: a.orderId) { orders[i].cancelSent = true }
            return true
        case .new:
            guard workingCount < maxWorking, let s = slot(a.instrument, create: true) else { return false }
            (orders + workingCount).initialize(
                to: _WorkingOrder(
                    id: a.orderId,
                    instrument: a.instrument,
                    slot: Int32(s),
                    side: a.side,
                    tif: a.tif,
                    cancelSent: false,
                    price: a.price,
                    remaining: a.quantity,
                    sentTime: a.sentTime
                )
            )
            workingCount += 1
            if a.side == .buy {
                exposures[s].workingBuy += Int64(a.quantity)
            } else {
                exposures[s].workingSell += Int64(a.quantity)
            }
            if a.tif == .day, settings.lifetimeNs > 0 {
                nextExpiry = min(nextExpiry, a.sentTime &+ settings.lifetimeNs)
            }
            if nextId <= a.orderId { nextId = a.orderId &+ 1 }
            return true
        }
    }

    /// Books a fill seen: the position, the cash (price × quantity and the fee), the order's rest.
    /// - Returns: the instrument's position after it.
    @discardableResult
    public mutating func seen(fill f: Fill) -> Int64 {
        guard let s = slot(f.instrument, create: true) else { return 0 }
        let signed = Int64(f.quantity)
        if f.side == .buy {
            exposures[s].position += signed
            cash -= Double(f.price) * Double(f.quantity) / 10_000
        } else {
            exposures[s].position -= signed
            cash += Double(f.price) * Double(f.quantity) / 10_000
        }
        cash -= f.fee
        fees += f.fee
        if exposures[s].mid.isNaN { exposures[s].mid = Double(f.price) }
        if let i = index(of: f.orderId) {
            let filled = min(orders[i].remaining, f.quantity)
            reduce(i, by: filled)
            // The simulator's count of what is left is the truth (a cancel's quantity may be in flight).
            if f.remaining == 0 { remove(i) }
        }
        return exposures[s].position
    }

    /// Books an order event seen: a per-order fee on an ack; the order leaves the table when
    /// rejected or cancelled.
    public mutating func seen(event e: OrderEvent) {
        cash -= e.fee
        fees += e.fee
        guard let i = index(of: e.orderId) else { return }
        switch e.kind {
        case .ack: break
        // The order is still tracked (a fill would have removed it): it may be cancelled again.
        case .cancelRejected: orders[i].cancelSent = false
        case .reject, .cancelled: remove(i)
        }
    }

    mutating func reduce(_ i: Int, by shares: UInt32) {
        let o = orders[i]
        orders[i].remaining = o.remaining - shares
        if o.side == .buy {
            exposures[Int(o.slot)].workingBuy -= Int64(shares)
        } else {
            exposures[Int(o.slot)].workingSell -= Int64(shares)
        }
    }

    /// Removes working order `i` (the last one takes its place: the table's order follows from
    /// the same sends and answers in the same order, so a re-run plans the same actions).
    mutating func remove(_ i: Int) {
        reduce(i, by: orders[i].remaining)
        workingCount -= 1
        if i != workingCount { orders[i] = orders[workingCount] }
        (orders + workingCount).deinitialize(count: 1)
    }

    func index(of id: UInt64) -> Int? {
        var i = 0
        while i < workingCount {
            if orders[i].id == id { return i }  // Safe: i < workingCount.
            i &+= 1
        }
        return nil
    }

    /// The instrument's slot, created on first use when `create`; nil when the table is full or
    /// the id is outside the book's range.
    mutating func slot(_ instrument: UInt32, create: Bool) -> Int? {
        guard Int(instrument) < Self.instrumentIds else { return nil }
        let s = slotOf[Int(instrument)]
        if s != 0 { return Int(s) - 1 }
        guard create, instrumentCount < maxInstruments else { return nil }
        (exposures + instrumentCount).initialize(to: InstrumentExposure(instrument: instrument))
        instrumentCount += 1
        slotOf[Int(instrument)] = UInt32(instrumentCount)
        return instrumentCount - 1
    }
}
