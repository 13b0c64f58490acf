import Book
import TestSupport
import Testing
import TickBusCore

/// The book as a plain model: a dictionary of orders and, per instrument and side, a dictionary of
/// price → (shares, orders), with the level rules `OrderBooks` documents: deltas are signed, a level
/// leaves the book when its shares reach zero or below, and a live level counts at least one order.
private struct BookModel {
    struct Order {
        var instrument: UInt32
        var side: Side
        var price: Int64
        var shares: UInt32
    }
    var orders: [UInt64: Order] = [:]
    var levels: [Int: [Int64: (shares: Int64, orders: Int32)]] = [:]
    var unknown: UInt64 = 0
    var rejected: UInt64 = 0
    let maxInstruments: Int

    static func key(_ i: UInt32, _ s: Side) -> Int { Int(i) * 2 + (s == .buy ? 0 : 1) }

    mutating func change(_ i: UInt32, _ s: Side, _ price: Int64, _ shares: Int64, _ orders: Int32) {
        let k = Self.key(i, s)
        var side = levels[k] ?? [:]
        if let cur = side[price] {
            let left = cur.shares + shares
            side[price] = left <= 0 ? nil : (left, max(cur.orders + orders, 1))
        } else if shares > 0 {
            side[price] = (shares, max(orders, 1))
        }
        levels[k] = side
    }

    /// Levels best first.
    func sorted(_ i: UInt32, _ s: Side) -> [PriceLevel] {
        let side = levels[Self.key(i, s)] ?? [:]
        let prices = side.keys.sorted(by: s == .buy ? (>) : (<))
        return prices.map { PriceLevel(price: $0, shares: side[$0]!.shares, orders: side[$0]!.orders) }
    }

    mutating func add(_ i: UInt32, _ ref: UInt64, _ s: Side, _ price: Int64, _ shares: UInt32) {
        guard Int(i) < maxInstruments, ref != 0, orders[ref] == nil else {
            rejected += 1
            return
        }
        orders[ref] = Order(instrument: i, side: s, price: price, shares: shares)
        change(i, s, price, Int64(shares), 1)
    }

    mutating func reduce(_ ref: UInt64, _ shares: UInt32) {
        guard let o = orders[ref] else {
            unknown += 1
            return
        }
        let cut = min(shares, o.shares)
        if o.shares - cut == 0 {
            orders[ref] = nil
            change(o.instrument, o.side, o.price, -Int64(cut), -1)
        } else {
            orders[ref]!.shares -= cut
            change(o.instrument, o.side, o.price, -Int64(cut), 0)
        }
    }

    mutating func delete(_ ref: UInt64) -> Order? {
        guard let o = orders[ref] else {
            unknown += 1
            return nil
        }
        orders[ref] = nil
        change(o.instrument, o.side, o.price, -Int64(o.shares), -1)
        return o
    }

    mutating func truncate(_ i: UInt32, _ s: Side, keep: Int) -> [PriceLevel] {
        let all = sorted(i, s)
        guard all.count > keep else { return [] }
        let dropped = Array(all[keep...].reversed())
        for lv in dropped { levels[Self.key(i, s)]![lv.price] = nil }
        return dropped
    }
}

/// Random operation sequences on `OrderBooks` against the plain model: adds, executes, partial
/// cancels, deletes and replaces by reference on order-level instruments; level-addressed changes
/// and truncation (LOBSTER) on another; prices near the best (the ladder), off the cent grid, far
/// away (the fallback, re-centring) and negative; unknown and duplicate references; instruments
/// out of range. After every operation each side's levels, top of book and the touched orders agree.
@Suite("Book properties")
struct BookPropertyTests {
    @Test("order-level and level-addressed operations agree with a plain model", arguments: 1...24)
    func randomOperations(seed: Int) {
        var rng = SplitMix64(seed: UInt64(seed))
        let maxInstruments = 5
        let levelInstrument: UInt32 = 4  // level-addressed only
        let books = OrderBooks(maxInstruments: maxInstruments, orderCapacity: 4)  // the table must grow
        var model = BookModel(maxInstruments: maxInstruments)
        var nextRef: UInt64 = 1
        // Each instrument's centre; sides start on or off the cent grid depending on the seed.
        let centre: [Int64] = (0..<maxInstruments).map { _ in Int64(1_000_000 + 100 * rng.below(10_000)) }

        func price(_ i: UInt32, _ s: Side) -> Int64 {
            let c = centre[Int(i)] + (s == .buy ? -100 : 100)
            let sign: Int64 = s == .buy ? -1 : 1
            switch rng.below(20) {
            case 0: return c + sign * Int64(100 * (200 + rng.below(2000)))  // far behind: fallback
            case 1: return c - sign * Int64(100 * (100 + rng.below(500)))  // far better: re-centre
            case 2: return c + Int64(rng.below(2001)) - 1000  // off the cent grid
            case 3: return -Int64(100 * rng.below(1000))  // zero and negative
            default: return c + sign * Int64(100 * rng.below(40))  // near the best: ladder
            }
        }

        for op in 0..<800 {
            let context = "seed \(seed) op \(op)"
            let i = UInt32(rng.below(4))
            let s: Side = rng.below(2) == 0 ? .buy : .sell
            var touched: [UInt64] = []
            switch rng.below(12) {
            case 0, 1, 2, 3:
                let ref = rng.below(10) == 0 ? UInt64(rng.below(Int(nextRef) + 1)) : nextRef  // sometimes a duplicate or 0
                let inst = rng.below(30) == 0 ? UInt32(maxInstruments + rng.below(3)) : i  // sometimes out of range
                if ref == nextRef { nextRef += 1 }
                let p = price(inst < UInt32(maxInstruments) ? inst : 0, s)
                let q = UInt32(1 + rng.below(1000))
                books.add(instrument: inst, orderId: ref, side: s, price: p, shares: q)
                model.add(inst, ref, s, p, q)
                touched.append(ref)
            case 4, 5:
                let ref = UInt64(rng.below(Int(nextRef) + 5))
                let q = UInt32(rng.below(4) == 0 ? 1 + rng.below(5000) : 1 + rng.below(300))
                let r = books.reduce(orderId: ref, shares: q)
                let before = model.orders[ref]
                model.reduce(ref, q)
                #expect((r == nil) == (before == nil), "\(context): reduce \(ref) known=\(before != nil)")
                if let r, let before {
                    #expect(r.info.remaining == before.shares - min(q, before.shares), "\(context)")
                }
                touched.append(ref)
            case 6, 7:
                let ref = UInt64(rng.below(Int(nextRef) + 5))
                let r = books.delete(orderId: ref)
                let o = model.delete(ref)
                #expect((r == nil) == (o == nil), "\(context): delete \(ref)")
                if let r, let o { #expect(r.info.remaining == o.shares && r.info.price == o.price, "\(context)") }
                touched.append(ref)
            case 8:
                let old = UInt64(rng.below(Int(nextRef) + 5))
                let new = rng.below(8) == 0 ? UInt64(rng.below(Int(nextRef))) : nextRef
                if new == nextRef { nextRef += 1 }
                let known = model.orders[old]
                let p = price(known?.instrument ?? i, known?.side ?? s)
                let q = UInt32(1 + rng.below(1000))
                let r = books.replace(oldOrderId: old, newOrderId: new, price: p, shares: q)
                #expect((r == nil) == (known == nil), "\(context): replace \(old)")
                if let o = model.delete(old) { model.add(o.instrument, new, o.side, p, q) }
                touched += [old, new]
            case 9, 10:
                // Level-addressed (LOBSTER): signed deltas at a price.
                let p = price(levelInstrument, s)
                let up = rng.below(3) != 0
                let q = Int64(1 + rng.below(500))
                let orders: Int32 = up ? 1 : Int32(-rng.below(2))
                books.changeLevel(instrument: levelInstrument, side: s, price: p, shares: up ? q : -q, orders: orders)
                model.change(levelInstrument, s, p, up ? q : -q, orders)
            default:
                let keep = rng.below(12)
                var dropped: [PriceLevel] = []
                books.truncate(instrument: levelInstrument, side: s, keep: keep) { dropped.append($0) }
                #expect(dropped == model.truncate(levelInstrument, s, keep: keep), "\(context): truncate to \(keep)")
            }
            // The instruments this operation could touch, level by level, and the top of book; every
            // instrument every 25 operations.
            let checked: [UInt32] = op % 25 == 0 ? Array(0..<UInt32(maxInstruments)) : [i, levelInstrument]
            for inst in checked {
                for side in [Side.buy, .sell] {
                    let want = model.sorted(inst, side)
                    #expect(
                        books.levelCount(instrument: inst, side: side) == want.count,
                        "\(context): \(inst) \(side) level count"
                    )
                    for (d, lv) in want.enumerated() where books.level(instrument: inst, side: side, depth: d) != lv {
                        Issue.record(
                            "\(context): instrument \(inst) \(side) depth \(d): \(String(describing: books.level(instrument: inst, side: side, depth: d))) != \(lv)"
                        )
                        return
                    }
                    #expect(books.level(instrument: inst, side: side, depth: want.count) == nil)
                }
                let top = books.top(instrument: inst)
                let bid = model.sorted(inst, .buy).first
                let ask = model.sorted(inst, .sell).first
                #expect(
                    top.bid.price == (bid?.price ?? top.bid.price) && top.ask.price == (ask?.price ?? top.ask.price),
                    "\(context): top"
                )
            }
            for ref in touched {
                let got = books.order(ref)
                let want = model.orders[ref]
                #expect(
                    got?.price == want?.price && got?.shares == want?.shares && got?.side == want?.side,
                    "\(context): order \(ref)"
                )
            }
            #expect(books.orderCount == model.orders.count, "\(context): order count")
        }
        #expect(books.unknownReferences == model.unknown, "seed \(seed): unknown references")
        #expect(books.rejected == model.rejected, "seed \(seed): rejected")
    }
}
