import Book
import CTickBus
import Execution
import TickBusCore

/// What paper trading did in a run.
public struct PaperTradingSummary: Sendable, Equatable {
    /// Own actions sent (new orders and cancels) and new orders refused by a risk limit.
    public var sent: UInt64 = 0
    public var cancels: UInt64 = 0
    public var refused: UInt64 = 0
    /// Fills and order events the strategy saw, and the shares filled.
    public var fills: UInt64 = 0
    public var filledShares: UInt64 = 0
    public var events: UInt64 = 0
    /// Times the loss limit paused trading.
    public var pauses: UInt64 = 0
    public init() {}
}

/// Paper trading: the order policy, the risk limits and the execution simulator around a
/// strategy loop, the same code live (`tickbus strategy --execution E.toml`) and in the backtest.
/// `StrategyLoop.step` drives it; anyone driving a loop message by message calls `step` too.
///
/// Per market message m (`StrategyLoop.step`):
/// 1. `onMarket(m)`, before the feature engine applies m (the book still shows the state
///    before m): the simulator processes the own actions due and m's effect on resting own
///    orders; the answers (fills, order events) due by m's exchange time are delivered to the
///    policy and the risk checks and published (104, 103); orders that rested `lifetime_ns` are
///    cancelled.
/// 2. the engine applies m; at a decision point the loop publishes its decision.
/// 3. `afterUpdate(m)`: the instrument is marked to its mid and the loss checked (a breach
///    publishes a risk record, cancels every order and pauses the loop: a control record); at a
///    decision point the policy turns the signal into own actions, each new order checked by the
///    risk limits (refused: a risk record) and sent (an order record, 102).
///
/// The answers reach the policy `response_latency_ns` after they happened at the simulated
/// exchange: they wait in a FIFO queue (`_ResponseQueue`) until a market message at or after
/// that time. Records carry the market message being processed when they were written.
///
/// Allocates nothing per message after warm-up (the response queue grows by doubling when more
/// answers are in flight than ever before); no lock, no syscall but the monotonic clock (vDSO)
/// for publish times, no existential: the simulator is called through an unretained reference.
public struct PaperTrading: ~Copyable {
    public let settings: ExecutionSettings
    /// Owns the simulator `sim` points at (alive as long as this value).
    let simulator: ExecutionSimulator
    @usableFromInline let sim: Unmanaged<ExecutionSimulator>
    public var policy: OrderPolicy
    public var risk: RiskLimits
    var responses: _ResponseQueue
    var planned: PlannedActions
    let slotSize: Int
    let stats: StatsWriter?
    public private(set) var summary = PaperTradingSummary()
    /// The market message being processed (the header of the records written for it).
    var sequence: UInt64 = 0
    var exchangeTime: Int64 = 0
    var receiveTime: Int64 = 0
    /// Own actions go to the simulator in non-decreasing sent time.
    var lastSent: Int64 = .min

    /// - Parameters:
    ///   - settings: the execution file.
    ///   - slotSize: the decisions ring's slot size (every record fits 256 bytes).
    ///   - stats: the strategy's telemetry block (orders, fills, risk events, P&L), or nil.
    ///   - maxInstruments: instruments traded in a session.
    ///   - maxOrders: own orders resting at once in the simulator, and working in the policy.
    ///   - watch: the one instrument traded (the simulator tracks the queues of that one only);
    ///     nil: every instrument's queues are tracked from the first message.
    public init(
        settings: ExecutionSettings,
        slotSize: Int,
        stats: StatsWriter? = nil,
        maxInstruments: Int = 64,
        maxOrders: Int = 4096,
        watch: UInt32? = nil
    ) {
        self.settings = settings
        simulator = ExecutionSimulator(
            latency: settings.latency,
            fees: settings.fees,
            maxOrders: maxOrders,
            watchAll: watch == nil
        )
        if let watch { simulator.watch(instrument: watch) }
        sim = .passUnretained(simulator)
        policy = OrderPolicy(settings: settings.orders, maxWorking: maxOrders, maxInstruments: maxInstruments)
        risk = RiskLimits(settings: settings.risk)
        responses = _ResponseQueue(responseNs: settings.latency.responseNs, capacity: 4096)
        planned = PlannedActions(capacity: maxOrders + 8)
        self.slotSize = slotSize
        self.stats = stats
    }

    deinit { responses.release() }

    /// Step 1, before the engine applies `m`: the simulator's view of `m`, the answers due, the
    /// lifetime cancels.
    public mutating func onMarket(_ m: MarketMessageView, books: OrderBooks, into producer: inout RingProducer) {
        sequence = m.sequence
        exchangeTime = m.exchangeTime
        receiveTime = m.receiveTime
        // Safe: `simulator` keeps the object alive.
        sim._withUnsafeGuaranteedRef { $0.market(m, books: books, sink: &responses) }
        if responses.count > 0 { deliver(upTo: m.exchangeTime, into: &producer) }
        policy.expire(time: m.exchangeTime, into: &planned)
        if planned.count > 0 { send(actingModel: 0, into: &producer) }
    }

    /// Step 3, after the engine applied `m`: marks, the loss check, and at a decision point the
    /// policy's orders.
    /// - Parameters:
    ///   - decision: the decision made at `m` (nil when `m` was not a decision point).
    ///   - paused: the loop is paused (a command or an earlier breach): only cancels go out.
    /// - Returns: true when the loss limit was breached now: the caller pauses the loop and
    ///   publishes the control record that says so.
    public mutating func afterUpdate(
        _ m: MarketMessageView,
        books: OrderBooks,
        decision: DecisionOutcome?,
        paused: Bool,
        into producer: inout RingProducer
    ) -> Bool {
        policy.mark(m.instrument, top: books.top(instrument: m.instrument))
        if settings.risk.maxLoss != nil, let e = risk.checkLoss(pnl: policy.pnl) {
            publishRisk(e, instrument: 0, orderId: 0, into: &producer)
            summary.pauses &+= 1
            policy.cancelEverything(reason: .paused, time: m.exchangeTime, into: &planned)
            send(actingModel: 0, into: &producer)
            return true
        }
        guard let d = decision else { return false }
        policy.plan(
            instrument: d.instrument,
            signal: d.signal,
            top: books.top(instrument: d.instrument),
            time: m.exchangeTime,
            paused: paused || risk.paused,
            into: &planned
        )
        if planned.count > 0 { send(actingModel: d.actingModelId, into: &producer) }
        return false
    }

    /// A `resume` was applied: ends a pause of the loss limit (a risk record, code 5).
    public mutating func resumed(into producer: inout RingProducer) {
        if let e = risk.resume() { publishRisk(e, instrument: 0, orderId: 0, into: &producer) }
    }

    /// End of the stream: the simulator processes every queued action against the book as it
    /// is, and every answer is delivered.
    public mutating func finish(books: OrderBooks, into producer: inout RingProducer) {
        sim._withUnsafeGuaranteedRef { $0.finish(books: books, sink: &responses) }
        deliver(upTo: .max, into: &producer)
    }

    /// Own orders resting in the simulator now.
    public var resting: Int { sim._withUnsafeGuaranteedRef { $0.restingCount } }

    // MARK: Sending

    /// Checks and sends every planned action (in plan order), then empties the plan.
    mutating func send(actingModel: UInt64, into producer: inout RingProducer) {
        var i = 0
        while i < planned.count {
            var a = planned[i].action
            let reason = planned[i].reason
            i &+= 1
            if a.sentTime < lastSent { a.sentTime = lastSent }
            if a.kind == .new {
                if let refusal = risk.check(
                    side: a.side,
                    quantity: a.quantity,
                    exposure: policy.exposureForCheck(a.instrument),
                    time: a.sentTime
                ) {
                    summary.refused &+= 1
                    publishRisk(refusal, instrument: a.instrument, orderId: a.orderId, into: &producer)
                    continue
                }
                guard policy.sent(a) else { continue }
            } else {
                policy.sent(a)
                summary.cancels &+= 1
            }
            lastSent = a.sentTime
            sim._withUnsafeGuaranteedRef { $0.send(a) }
            summary.sent &+= 1
            publishOrder(a, reason: reason, actingModel: actingModel, into: &producer)
            stats?.recordOrderSent(quantity: a.kind == .new ? a.quantity : 0)
        }
        planned.removeAll()
    }

    // MARK: Answers

    /// Delivers the answers due by `time` (FIFO) to the policy and publishes them.
    mutating func deliver(upTo time: Int64, into producer: inout RingProducer) {
        var changed = false
        while let r = responses.front, r.due <= time {
            responses.pop()
            changed = true
            switch r.answer {
            case .fill(let f):
                let position = policy.seen(fill: f)
                summary.fills &+= 1
                summary.filledShares &+= UInt64(f.quantity)
                publishFill(f, position: position, into: &producer)
                stats?.recordFill(quantity: f.quantity, feeMicros: Self.micros(f.fee))
            case .event(let e):
                policy.seen(event: e)
                summary.events &+= 1
                publishEvent(e, into: &producer)
                stats?.recordOrderEvent(e.kind.rawValue)
            }
        }
        if changed, let stats {
            stats.setExecution(
                position: policy.netPosition,
                pnlMicros: Self.micros(policy.pnl),
                feesMicros: Self.micros(policy.fees)
            )
        }
    }

    /// Dollars in micro-dollars (telemetry), saturating.
    static func micros(_ dollars: Double) -> Int64 {
        let v = (dollars * 1_000_000).rounded()
        guard v.isFinite else { return 0 }
        if v >= 9.2e18 { return .max }
        if v <= -9.2e18 { return .min }
        return Int64(v)
    }

    // MARK: Records

    func publishOrder(_ a: OwnAction, reason: OrderPolicyReason, actingModel: UInt64, into producer: inout RingProducer)
    {
        let size = slotSize
        let (s, t, rt) = (sequence, exchangeTime, receiveTime)
        let arrival = a.sentTime &+ settings.latency.orderNs
        _ = producer.publish { p in
            OrderRecordLayout.store(
                to: p,
                slotSize: size,
                marketSequence: s,
                exchangeTime: t,
                instrument: a.instrument,
                receiveTime: rt,
                publishTime: Int64(bitPattern: tb_monotonic_ns()),
                orderId: a.orderId,
                price: a.price,
                quantity: a.quantity,
                side: a.side,
                action: a.kind == .new ? OrderRecordLayout.actionNew : OrderRecordLayout.actionCancel,
                tif: a.tif == .day ? OrderRecordLayout.tifDay : OrderRecordLayout.tifIOC,
                policyReason: reason.rawValue,
                sentTime: a.sentTime,
                arrivalTime: arrival,
                actingModelId: actingModel
            )
        }
    }

    func publishEvent(_ e: OrderEvent, into producer: inout RingProducer) {
        let size = slotSize
        let (s, t, rt) = (sequence, exchangeTime, receiveTime)
        _ = producer.publish { p in
            OrderEventRecordLayout.store(
                to: p,
                slotSize: size,
                marketSequence: s,
                exchangeTime: t,
                instrument: e.instrument,
                receiveTime: rt,
                publishTime: Int64(bitPattern: tb_monotonic_ns()),
                orderId: e.orderId,
                event: e.kind.rawValue,
                reason: e.reason.rawValue,
                fee: e.fee,
                quantity: e.quantity,
                eventTime: e.time
            )
        }
    }

    func publishFill(_ f: Fill, position: Int64, into producer: inout RingProducer) {
        let size = slotSize
        let (s, t, rt) = (sequence, exchangeTime, receiveTime)
        let cash = policy.cash
        _ = producer.publish { p in
            FillRecordLayout.store(
                to: p,
                slotSize: size,
                marketSequence: s,
                exchangeTime: t,
                instrument: f.instrument,
                receiveTime: rt,
                publishTime: Int64(bitPattern: tb_monotonic_ns()),
                orderId: f.orderId,
                price: f.price,
                quantity: f.quantity,
                side: f.side,
                liquidity: f.liquidity.rawValue,
                fee: f.fee,
                positionAfter: position,
                cashAfter: cash,
                remaining: f.remaining,
                fillTime: f.time
            )
        }
    }

    mutating func publishRisk(_ e: RiskEvent, instrument: UInt32, orderId: UInt64, into producer: inout RingProducer) {
        let size = slotSize
        let (s, t, rt) = (sequence, exchangeTime, receiveTime)
        _ = producer.publish { p in
            RiskRecordLayout.store(
                to: p,
                slotSize: size,
                marketSequence: s,
                exchangeTime: t,
                instrument: instrument,
                receiveTime: rt,
                publishTime: Int64(bitPattern: tb_monotonic_ns()),
                code: e.code.rawValue,
                value: e.value,
                limit: e.limit,
                orderId: orderId
            )
        }
        stats?.recordRiskEvent(e.code.rawValue)
    }
}

/// A decision as paper trading reads it: the instrument, the acting model's signal and id.
public struct DecisionOutcome: Sendable, Equatable {
    public var instrument: UInt32
    public var signal: Int8
    public var actingModelId: UInt64
    /// The decision record's publish time (monotonic ns).
    public var publishTime: Int64
    @inlinable
    public init(instrument: UInt32, signal: Int8, actingModelId: UInt64, publishTime: Int64) {
        self.instrument = instrument
        self.signal = signal
        self.actingModelId = actingModelId
        self.publishTime = publishTime
    }
}

/// The simulated exchange's answers waiting `response_latency_ns` before the strategy sees them:
/// a FIFO ring, the simulator's sink. Invariant: `storage` holds `capacity` (a power of two)
/// entries; the `count` from `head` (mod capacity) are initialised. Freed by its owner
/// (`release`, in `PaperTrading.deinit`): the sink protocol needs a copyable type.
@usableFromInline
struct _ResponseQueue: ExecutionSink {
    enum Answer {
        case fill(Fill)
        case event(OrderEvent)
    }
    struct Entry {
        var due: Int64
        var answer: Answer
    }
    var storage: UnsafeMutablePointer<Entry>
    var capacity: Int
    var head = 0
    var count = 0
    let responseNs: Int64

    init(responseNs: Int64, capacity: Int) {
        self.responseNs = responseNs
        var c = 1
        while c < capacity { c <<= 1 }
        self.capacity = c
        storage = .allocate(capacity: c)
    }

    func release() { storage.deallocate() }

    @usableFromInline mutating func fill(_ fill: Fill) {
        push(Entry(due: fill.time &+ responseNs, answer: .fill(fill)))
    }
    @usableFromInline mutating func orderEvent(_ event: OrderEvent) {
        push(Entry(due: event.time &+ responseNs, answer: .event(event)))
    }

    var front: Entry? { count == 0 ? nil : storage[head] }

    mutating func pop() {
        head = (head + 1) & (capacity - 1)
        count -= 1
    }

    mutating func push(_ e: Entry) {
        if count == capacity { grow() }
        // Safe: count < capacity after grow.
        (storage + ((head + count) & (capacity - 1))).initialize(to: e)
        count += 1
    }

    /// Doubles the ring (more answers in flight than ever before): the one allocation after warm-up,
    /// out of line (the per-message path calls it, never inlines the allocator).
    @inline(never)
    mutating func grow() {
        let bigger = UnsafeMutablePointer<Entry>.allocate(capacity: capacity * 2)
        for i in 0..<count { (bigger + i).initialize(to: storage[(head + i) & (capacity - 1)]) }
        storage.deallocate()
        storage = bigger
        capacity *= 2
        head = 0
    }
}
