import Book
import Execution
import Strategy
import Testing
import TickBusCore

/// The order policy and the risk limits on hand-built books: the actions expected are written
/// out from the rules (Docs/EXECUTION.md, "Order policy and risk limits"), not computed.
@Suite("Order policy and risk limits")
struct OrderPolicyTests {
    static func top(bid: Int64, _ bidShares: Int64 = 100, ask: Int64, _ askShares: Int64 = 100) -> TopOfBook {
        TopOfBook(
            bid: PriceLevel(price: bid, shares: bidShares, orders: 1),
            ask: PriceLevel(price: ask, shares: askShares, orders: 1)
        )
    }

    static func settings(_ mode: OrderPolicySettings.Mode, lifetime: Int64 = 0) -> OrderPolicySettings {
        var s = OrderPolicySettings()
        s.mode = mode
        s.lifetimeNs = lifetime
        return s
    }

    /// Plans, then sends everything planned (as if every risk check passed); returns the plan.
    static func step(
        _ p: inout OrderPolicy,
        signal: Int8,
        top: TopOfBook,
        time: Int64,
        paused: Bool = false,
        instrument: UInt32 = 7
    ) -> [PlannedAction] {
        var out = PlannedActions(capacity: 16)
        p.plan(instrument: instrument, signal: signal, top: top, time: time, paused: paused, into: &out)
        var planned: [PlannedAction] = []
        for i in 0..<out.count {
            planned.append(out[i])
            p.sent(out[i].action)
        }
        return planned
    }

    static func new(
        _ id: UInt64,
        _ t: Int64,
        _ side: Side,
        _ price: Int64,
        _ reason: OrderPolicyReason,
        qty: UInt32 = 100,
        tif: TimeInForce = .day
    ) -> PlannedAction {
        PlannedAction(.new(id: id, at: t, instrument: 7, side: side, price: price, quantity: qty, tif: tif), reason)
    }

    static func cancel(
        _ id: UInt64,
        _ t: Int64,
        _ side: Side,
        _ price: Int64,
        _ reason: OrderPolicyReason,
        qty: UInt32 = 100
    ) -> PlannedAction {
        PlannedAction(
            OwnAction(kind: .cancel, orderId: id, sentTime: t, instrument: 7, side: side, price: price, quantity: qty),
            reason
        )
    }

    @Test func joinRestsAtTheOwnBestAndFollowsIt() {
        var p = OrderPolicy(settings: Self.settings(.join))
        let t1 = Self.top(bid: 100_000, ask: 100_100)
        #expect(Self.step(&p, signal: 1, top: t1, time: 10) == [Self.new(1, 10, .buy, 100_000, .join)])
        // The same signal on the same book: the order already works there.
        #expect(Self.step(&p, signal: 1, top: t1, time: 11).isEmpty)
        // The best bid moved: the old order is cancelled and a new one joins the new best.
        let t2 = Self.top(bid: 100_100, ask: 100_200)
        #expect(
            Self.step(&p, signal: 1, top: t2, time: 12) == [
                Self.cancel(1, 12, .buy, 100_000, .join), Self.new(2, 12, .buy, 100_100, .join),
            ]
        )
        // Opposite signal: the buys are cancelled (order 1 already is), a sell joins the ask.
        #expect(
            Self.step(&p, signal: -1, top: t2, time: 13) == [
                Self.cancel(2, 13, .buy, 100_100, .opposite), Self.new(3, 13, .sell, 100_200, .join),
            ]
        )
        // Flat: everything of the instrument still working is cancelled.
        #expect(Self.step(&p, signal: 0, top: t2, time: 14) == [Self.cancel(3, 14, .sell, 100_200, .flat)])
        #expect(Self.step(&p, signal: 0, top: t2, time: 15).isEmpty)
        // Another instrument's decision touches nothing of instrument 7.
        var out = PlannedActions(capacity: 4)
        p.plan(instrument: 8, signal: 0, top: t2, time: 16, paused: false, into: &out)
        #expect(out.count == 0)
    }

    @Test func joinWithoutCancelRules() {
        var s = Self.settings(.join)
        s.cancelOnFlat = false
        s.cancelOnOpposite = false
        var p = OrderPolicy(settings: s)
        let t = Self.top(bid: 50_000, ask: 50_100)
        #expect(Self.step(&p, signal: 1, top: t, time: 1) == [Self.new(1, 1, .buy, 50_000, .join)])
        #expect(Self.step(&p, signal: -1, top: t, time: 2) == [Self.new(2, 2, .sell, 50_100, .join)])
        #expect(Self.step(&p, signal: 0, top: t, time: 3).isEmpty)
        #expect(p.exposure(7)?.workingBuy == 100 && p.exposure(7)?.workingSell == 100)
        // No bid at all: nothing to join.
        let empty = TopOfBook(bid: PriceLevel(price: 0, shares: 0, orders: 0), ask: t.ask)
        var q = OrderPolicy(settings: s)
        #expect(Self.step(&q, signal: 1, top: empty, time: 4).isEmpty)
    }

    @Test func crossTakesTheOppositeBestOncePerAnswer() {
        var p = OrderPolicy(settings: Self.settings(.cross))
        let t = Self.top(bid: 100_000, ask: 100_100)
        #expect(Self.step(&p, signal: 1, top: t, time: 5) == [Self.new(1, 5, .buy, 100_100, .cross, tif: .ioc)])
        // Unanswered: no second IOC of that side.
        #expect(Self.step(&p, signal: 1, top: t, time: 6).isEmpty)
        // A flat signal does not cancel an IOC.
        #expect(Self.step(&p, signal: 0, top: t, time: 6).isEmpty)
        // Filled 60, the rest cancelled (IOC): the next buy signal crosses again.
        p.seen(
            fill: Fill(
                orderId: 1,
                instrument: 7,
                side: .buy,
                time: 5,
                marketSequence: 1,
                price: 100_100,
                quantity: 60,
                liquidity: .taker,
                fee: 0.18,
                remaining: 40
            )
        )
        #expect(p.working(1)?.remaining == 40)
        p.seen(event: OrderEvent(orderId: 1, instrument: 7, time: 5, kind: .cancelled, reason: .ioc, quantity: 40))
        #expect(p.working(1) == nil)
        #expect(p.exposure(7)?.position == 60 && p.exposure(7)?.workingBuy == 0)
        #expect(Self.step(&p, signal: 1, top: t, time: 7) == [Self.new(2, 7, .buy, 100_100, .cross, tif: .ioc)])
        #expect(Self.step(&p, signal: -1, top: t, time: 7) == [Self.new(3, 7, .sell, 100_000, .cross, tif: .ioc)])
    }

    @Test func quoteBothSidesWhateverTheSignal() {
        var p = OrderPolicy(settings: Self.settings(.quote))
        let t1 = Self.top(bid: 100_000, ask: 100_300)
        #expect(
            Self.step(&p, signal: 0, top: t1, time: 1) == [
                Self.new(1, 1, .buy, 100_000, .quote), Self.new(2, 1, .sell, 100_300, .quote),
            ]
        )
        #expect(Self.step(&p, signal: -1, top: t1, time: 2).isEmpty)
        // Only the ask moved: only the sell is requoted.
        let t2 = Self.top(bid: 100_000, ask: 100_200)
        #expect(
            Self.step(&p, signal: 1, top: t2, time: 3) == [
                Self.cancel(2, 3, .sell, 100_300, .quote), Self.new(3, 3, .sell, 100_200, .quote),
            ]
        )
        // Paused: every working order is cancelled, nothing new.
        #expect(
            Self.step(&p, signal: 1, top: t1, time: 4, paused: true).sorted { $0.action.orderId < $1.action.orderId }
                == [
                    Self.cancel(1, 4, .buy, 100_000, .paused), Self.cancel(3, 4, .sell, 100_200, .paused),
                ]
        )
        #expect(Self.step(&p, signal: 1, top: t1, time: 5, paused: true).isEmpty)
    }

    @Test func lifetimeCancelsAtExactlySentPlusLifetime() {
        var p = OrderPolicy(settings: Self.settings(.join, lifetime: 1_000))
        let t = Self.top(bid: 100_000, ask: 100_100)
        _ = Self.step(&p, signal: 1, top: t, time: 500)
        var out = PlannedActions(capacity: 4)
        p.expire(time: 1_499, into: &out)
        #expect(out.count == 0)
        p.expire(time: 1_500, into: &out)
        #expect(out.count == 1)
        #expect(out[0] == Self.cancel(1, 1_500, .buy, 100_000, .lifetime))
        p.sent(out[0].action)
        out.removeAll()
        p.expire(time: 2_000, into: &out)
        #expect(out.count == 0)
    }

    /// Cash and P&L: a buy of 100 at $10.00 with a $0.30 fee, marked at a $10.10 mid, is
    /// −1000 − 0.30 + 1010 = +9.70; a sell of 40 at $10.20 with a $0.10 rebate books +408 + 0.10.
    @Test func fillsBookPositionCashAndFees() {
        var p = OrderPolicy(settings: Self.settings(.join))
        let t = Self.top(bid: 100_000, ask: 100_100)
        _ = Self.step(&p, signal: 1, top: t, time: 1)
        let after = p.seen(
            fill: Fill(
                orderId: 1,
                instrument: 7,
                side: .buy,
                time: 2,
                marketSequence: 9,
                price: 100_000,
                quantity: 100,
                liquidity: .maker,
                fee: 0.30,
                remaining: 0
            )
        )
        #expect(after == 100)
        #expect(p.workingCount == 0)
        #expect(p.cash == -1000.30)
        p.mark(7, top: Self.top(bid: 100_000, ask: 102_000))
        #expect(abs(p.pnl - 9.70) < 1e-9)
        p.seen(
            fill: Fill(
                orderId: 99,
                instrument: 7,
                side: .sell,
                time: 3,
                marketSequence: 10,
                price: 102_000,
                quantity: 40,
                liquidity: .maker,
                fee: -0.10,
                remaining: 0
            )
        )
        #expect(p.exposure(7)?.position == 60)
        #expect(abs(p.cash - (-1000.30 + 408 + 0.10)) < 1e-9)
        #expect(abs(p.fees - 0.20) < 1e-12)
        // A per-order fee on an ack is a cost too.
        p.seen(event: OrderEvent(orderId: 1, instrument: 7, time: 2, kind: .ack, fee: 0.05))
        #expect(abs(p.fees - 0.25) < 1e-12)
    }

    // MARK: Risk limits

    static func exposure(position: Int64, buy: Int64 = 0, sell: Int64 = 0) -> InstrumentExposure {
        var e = OrderPolicy(settings: OrderPolicySettings()).exposureForCheck(7)
        e.position = position
        e.workingBuy = buy
        e.workingSell = sell
        return e
    }

    @Test func maxPositionCountsWorkingOrdersAsFilled() {
        var r = RiskLimits(settings: RiskSettings(maxPosition: 1000))
        #expect(r.check(side: .buy, quantity: 100, exposure: Self.exposure(position: 900), time: 0) == nil)
        #expect(
            r.check(side: .buy, quantity: 100, exposure: Self.exposure(position: 900, buy: 100), time: 0)
                == RiskEvent(code: .refusedMaxPosition, value: 1100, limit: 1000)
        )
        // A sell that reduces a long position passes whatever the working buys.
        #expect(r.check(side: .sell, quantity: 100, exposure: Self.exposure(position: 900, buy: 900), time: 0) == nil)
        #expect(
            r.check(side: .sell, quantity: 100, exposure: Self.exposure(position: -800, sell: 150), time: 0)
                == RiskEvent(code: .refusedMaxPosition, value: -1050, limit: 1000)
        )
    }

    /// At most 3 new orders in any (t − 1 s, t]; refused ones do not count.
    @Test func maxOrdersPerRollingSecond() {
        var r = RiskLimits(settings: RiskSettings(maxOrdersPerSecond: 3))
        let e = Self.exposure(position: 0)
        let second: Int64 = 1_000_000_000
        for t: Int64 in [0, 1, 2] { #expect(r.check(side: .buy, quantity: 1, exposure: e, time: t) == nil) }
        #expect(
            r.check(side: .buy, quantity: 1, exposure: e, time: second - 1)
                == RiskEvent(code: .refusedMaxOrders, value: 3, limit: 3)
        )
        // The order at 0 leaves the window at exactly 1 s.
        #expect(r.check(side: .buy, quantity: 1, exposure: e, time: second) == nil)
        #expect(r.check(side: .buy, quantity: 1, exposure: e, time: second) != nil)
        #expect(r.check(side: .buy, quantity: 1, exposure: e, time: second + 1) == nil)
        #expect(r.check(side: .buy, quantity: 1, exposure: e, time: second + 2) == nil)
        #expect(r.check(side: .buy, quantity: 1, exposure: e, time: second + 2) != nil)
    }

    @Test func maxLossPausesUntilResumed() {
        var r = RiskLimits(settings: RiskSettings(maxPosition: 10, maxLoss: 5000))
        let e = Self.exposure(position: 0)
        #expect(r.checkLoss(pnl: -4999.99) == nil)
        #expect(r.checkLoss(pnl: -5000) == RiskEvent(code: .pausedMaxLoss, value: 5000, limit: 5000))
        let paused = r.paused
        #expect(paused)
        #expect(r.checkLoss(pnl: -6000) == nil)  // already paused: one event
        // While paused every new order is refused, before any other check.
        #expect(
            r.check(side: .buy, quantity: 100, exposure: e, time: 0)
                == RiskEvent(code: .refusedPaused, value: 6000, limit: 5000)
        )
        #expect(r.resume() == RiskEvent(code: .resumed, value: 6000, limit: 5000))
        #expect(r.resume() == nil)
        #expect(r.check(side: .buy, quantity: 5, exposure: e, time: 0) == nil)
        // Still beyond the limit: the next check pauses again.
        #expect(r.checkLoss(pnl: -6000)?.code == .pausedMaxLoss)
    }
}
