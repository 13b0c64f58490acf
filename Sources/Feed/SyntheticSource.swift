import TickBusCore

/// SplitMix64: small, fast, and the same sequence on every machine for a seed.
public struct SplitMix64 {
    @usableFromInline var state: UInt64
    @inlinable public init(seed: UInt64) { state = seed }
    @inlinable public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in 0..<n.
    @inlinable public mutating func below(_ n: UInt64) -> UInt64 { next() % n }
}

/// A seeded synthetic order flow: several instruments, each with a mid price that random-walks;
/// limit orders added around the mid on the passive side, partly cancelled, deleted, replaced,
/// and executed from the best price of each side; non-displayed trades now and then.
/// The same seed gives the same messages byte for byte (receive time is stamped at publish).
///
/// Order ids are unique across instruments; every cancel, delete, execute and replace refers to
/// an order that is live at that point, so a book built from the stream never sees an unknown id.
public struct SyntheticSource: MarketSource {
    public static let symbols = ["AAPL", "MSFT", "AMZN", "NVDA", "GOOG", "META", "TSLA", "SPY"]
    static let maxLive = 512
    static let tick: Int64 = 100  // $0.01 in 1e-4

    public struct Order {
        var id: UInt64
        var price: Int64
        var quantity: UInt32
        var side: Side
    }

    @usableFromInline var rng: SplitMix64
    let instruments: Int
    var mids: [Int64]
    /// Live orders per instrument, a fixed-capacity array each (swap-remove on delete).
    var live: [[Order]]
    var time: Int64 = 34_200_000_000_000  // 09:30:00 in ns since midnight
    var nextId: UInt64 = 1
    var nextMatch: UInt64 = 1
    var preamble: [MarketMessage] = []
    var preambleIndex = 0
    public private(set) var report = FeedReport()

    public init(seed: UInt64, instruments: Int = 8) {
        precondition(instruments >= 1 && instruments <= SyntheticSource.symbols.count)
        rng = SplitMix64(seed: seed)
        self.instruments = instruments
        mids = []
        live = Array(repeating: [], count: instruments)
        for i in 0..<instruments {
            live[i].reserveCapacity(SyntheticSource.maxLive)
            // Mids between $20 and $500 on a tick.
            mids.append(Int64(20 + rng.below(480)) * 10_000)
            preamble.append(
                .directory(instrument: UInt32(i + 1), exchangeTime: time, symbol: SyntheticSource.symbols[i])
            )
        }
        for i in 0..<instruments {
            preamble.append(.status(instrument: UInt32(i + 1), exchangeTime: time, state: 0x54))  // 'T' trading
        }
    }

    public mutating func next() -> MarketMessage? {
        if preambleIndex < preamble.count {
            defer { preambleIndex += 1 }
            report.messagesIn += 1
            return preamble[preambleIndex]
        }
        report.messagesIn += 1
        time += Int64(1_000 + rng.below(49_000))  // 1 to 50 µs between events
        let i = Int(rng.below(UInt64(instruments)))
        let inst = UInt32(i + 1)
        // The mid moves a tick now and then.
        let drift = rng.below(64)
        if drift == 0 {
            mids[i] += SyntheticSource.tick
        } else if drift == 1 {
            mids[i] = Swift.max(SyntheticSource.tick * 10, mids[i] - SyntheticSource.tick)
        }

        let roll = rng.below(100)
        if live[i].count < 16 || (roll < 48 && live[i].count < SyntheticSource.maxLive) {
            return add(i, inst)
        }
        if roll < 70 {  // partial cancel or delete of a random live order
            let k = Int(rng.below(UInt64(live[i].count)))
            let o = live[i][k]
            if o.quantity > 100 && rng.below(2) == 0 {
                let q = UInt32(100 * (1 + rng.below(UInt64(o.quantity / 100 - 1) + 0)))
                let cut = Swift.min(q, o.quantity - 100)
                live[i][k].quantity -= cut
                return .orderEvent(
                    .cancel,
                    instrument: inst,
                    exchangeTime: time,
                    orderId: o.id,
                    price: o.price,
                    quantity: cut,
                    side: o.side
                )
            }
            live[i].swapAt(k, live[i].count - 1)
            live[i].removeLast()
            return .orderEvent(
                .delete,
                instrument: inst,
                exchangeTime: time,
                orderId: o.id,
                price: o.price,
                quantity: o.quantity,
                side: o.side
            )
        }
        if roll < 88 {  // execution against the best order of a random side
            let side: Side = rng.below(2) == 0 ? .buy : .sell
            guard let k = best(i, side) else { return add(i, inst) }
            let o = live[i][k]
            let q = Swift.min(o.quantity, UInt32(100 * (1 + rng.below(3))))
            let match = nextMatch
            nextMatch += 1
            if q == o.quantity {
                live[i].swapAt(k, live[i].count - 1)
                live[i].removeLast()
            } else {
                live[i][k].quantity -= q
            }
            return .orderEvent(
                .execute,
                instrument: inst,
                exchangeTime: time,
                orderId: o.id,
                price: o.price,
                quantity: q,
                side: o.side,
                match: match
            )
        }
        if roll < 95 {  // replace: new id, new price near the mid, new size
            let k = Int(rng.below(UInt64(live[i].count)))
            let o = live[i][k]
            let price = passivePrice(i, o.side)
            let q = UInt32(100 * (1 + rng.below(10)))
            let id = nextId
            nextId += 1
            live[i][k] = Order(id: id, price: price, quantity: q, side: o.side)
            return .replace(
                instrument: inst,
                exchangeTime: time,
                oldOrderId: o.id,
                newOrderId: id,
                price: price,
                quantity: q,
                side: o.side
            )
        }
        // A trade against a non-displayed order, at the mid.
        let match = nextMatch
        nextMatch += 1
        return .orderEvent(
            .trade,
            instrument: inst,
            exchangeTime: time,
            orderId: 0,
            price: mids[i],
            quantity: UInt32(100 * (1 + rng.below(5))),
            side: rng.below(2) == 0 ? .buy : .sell,
            match: match
        )
    }

    mutating func add(_ i: Int, _ inst: UInt32) -> MarketMessage {
        let side: Side = rng.below(2) == 0 ? .buy : .sell
        let price = passivePrice(i, side)
        let q = UInt32(100 * (1 + rng.below(10)))
        let id = nextId
        nextId += 1
        live[i].append(Order(id: id, price: price, quantity: q, side: side))
        return .orderEvent(
            .add,
            instrument: inst,
            exchangeTime: time,
            orderId: id,
            price: price,
            quantity: q,
            side: side
        )
    }

    /// 1 to 10 ticks away from the mid, on the passive side.
    mutating func passivePrice(_ i: Int, _ side: Side) -> Int64 {
        let ticks = Int64(1 + rng.below(4) + rng.below(7))
        return side == .buy ? mids[i] - ticks * SyntheticSource.tick : mids[i] + ticks * SyntheticSource.tick
    }

    /// Index of the live order with the best price on a side (highest bid, lowest ask; oldest first).
    func best(_ i: Int, _ side: Side) -> Int? {
        var found: Int?
        for (k, o) in live[i].enumerated() where o.side == side {
            guard let f = found else {
                found = k
                continue
            }
            let b = live[i][f]
            if side == .buy ? o.price > b.price : o.price < b.price { found = k }
        }
        return found
    }
}
