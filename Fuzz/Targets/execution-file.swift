// fuzz-modules: TickBusCore Book Features Execution Strategy
// An execution file (E.toml) through `ExecutionSettings.parse` and, when accepted, the order
// policy and risk limits it configures driven over a few decisions, fills and answers, as
// `strategy --execution` and the backtest use them. Nothing may trap on any accepted value.
import Book
import Execution
import Features
import Strategy
import TickBusCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzExecutionFile(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let settings: ExecutionSettings
    do { settings = try ExecutionSettings.parse(text) } catch {
        _ = error.description
        _ = error.line
        return 0
    }
    var policy = OrderPolicy(settings: settings.orders, maxWorking: 8, maxInstruments: 2)
    var risk = RiskLimits(settings: settings.risk)
    var planned = PlannedActions(capacity: 32)
    var time: Int64 = 34_200_000_000_000
    var refused = 0
    for i in 0..<48 {
        let instrument = UInt32(1 + i % 2)
        let bid = 1_000_000 + Int64(i % 5) * 100
        let top = TopOfBook(
            bid: PriceLevel(price: bid, shares: i % 7 == 0 ? 0 : 100, orders: 1),
            ask: PriceLevel(price: bid + 100, shares: 100, orders: 1)
        )
        policy.expire(time: time, into: &planned)
        policy.plan(
            instrument: instrument,
            signal: Int8(i % 3) - 1,
            top: top,
            time: time,
            paused: risk.paused,
            into: &planned
        )
        for k in 0..<planned.count {
            let a = planned[k].action
            if a.kind == .new,
                risk.check(
                    side: a.side,
                    quantity: a.quantity,
                    exposure: policy.exposureForCheck(a.instrument),
                    time: time
                )
                    != nil
            {
                refused += 1
                continue
            }
            policy.sent(a)
            // Every other new order fills in part, then its rest is cancelled (fees from the file).
            if a.kind == .new, i % 2 == 0 {
                let q = a.quantity / 2
                policy.seen(
                    fill: Fill(
                        orderId: a.orderId,
                        instrument: a.instrument,
                        side: a.side,
                        time: time &+ settings.latency.orderNs,
                        marketSequence: UInt64(i),
                        price: a.price,
                        quantity: q,
                        liquidity: .taker,
                        fee: settings.fees.takerPerShare * Double(q),
                        remaining: a.quantity - q
                    )
                )
                policy.seen(
                    event: OrderEvent(
                        orderId: a.orderId,
                        instrument: a.instrument,
                        time: time,
                        kind: .cancelled,
                        quantity: a.quantity - q
                    )
                )
            }
        }
        planned.removeAll()
        policy.mark(instrument, top: top)
        if risk.checkLoss(pnl: policy.pnl) != nil, i % 5 == 0 { _ = risk.resume() }
        time = time &+ Int64(1 + (i * 7_919) % 400_000_000)
    }
    return refused == -1 ? 1 : 0
}
