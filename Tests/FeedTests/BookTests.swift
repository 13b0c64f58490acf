import Feed
import Testing
import TickBusCore

@testable import Book

/// OrderBooks against a plain dictionary model under random operations: small tables (growth,
/// wrap-around probe runs, backward-shift deletion), references that collide in the low bits,
/// deep levels (binary search path) and unknown references.
@Suite("Order books")
struct BookTests {
    struct Model {
        var orders: [UInt64: (inst: UInt32, side: Side, price: Int64, shares: UInt32)] = [:]
        func levels(_ inst: UInt32, _ side: Side) -> [PriceLevel] {
            var byPrice: [Int64: (Int64, Int32)] = [:]
            for o in orders.values where o.inst == inst && o.side == side {
                let c = byPrice[o.price] ?? (0, 0)
                byPrice[o.price] = (c.0 + Int64(o.shares), c.1 + 1)
            }
            let prices = side == .buy ? byPrice.keys.sorted(by: >) : byPrice.keys.sorted()
            return prices.map { PriceLevel(price: $0, shares: byPrice[$0]!.0, orders: byPrice[$0]!.1) }
        }
    }

    /// How prices are drawn: the ladder's fast path (cents near the best) and each of its other
    /// paths (far-away and off-grid prices go to the fallback; drift re-centres the window).
    enum Prices: String, CaseIterable, CustomTestStringConvertible {
        case narrowCents, wideCents, offGrid, drifting, subDollar
        var testDescription: String { rawValue }

        func draw(_ rng: inout SplitMix64, step: Int) -> Int64 {
            switch self {
            case .narrowCents: return Int64(10_000 + 100 * Int64(rng.below(80)))
            case .wideCents: return Int64(10_000 + 100 * Int64(rng.below(5_000)))
            case .offGrid: return Int64(10_000 + Int64(rng.below(40_000)))  // 1e-4 steps, mostly not on a cent
            case .drifting:
                // The centre walks up 400 cents and back down over the run, crossing many windows.
                let phase = step % 60_000
                let centre = 100_000 + 100 * Int64(phase < 30_000 ? phase / 75 : (60_000 - phase) / 75)
                return centre + 100 * Int64(rng.below(40)) - 2_000
            case .subDollar: return Int64(100 + Int64(rng.below(900)))
            }
        }
    }

    @Test(arguments: Prices.allCases)
    func randomOperationsMatchAModel(_ prices: Prices) {
        var rng = SplitMix64(seed: 99)
        let books = OrderBooks(maxInstruments: 4, orderCapacity: 16)
        var model = Model()
        var live: [UInt64] = []
        var nextRef: UInt64 = 1
        var unknown: UInt64 = 0
        var topChanges = 0
        for step in 0..<60_000 {
            let roll = rng.below(100)
            if live.isEmpty || roll < 45 {
                // References jump by 2^32 now and then, so low bits collide.
                let ref = rng.below(8) == 0 ? nextRef | (rng.below(4) + 1) << 32 : nextRef
                nextRef += 1
                let inst = UInt32(1 + rng.below(3))
                let side: Side = rng.below(2) == 0 ? .buy : .sell
                let price = prices.draw(&rng, step: step)
                let shares = UInt32(1 + rng.below(500))
                let before = books.top(instrument: inst)
                let changed = books.add(instrument: inst, orderId: ref, side: side, price: price, shares: shares)
                #expect(changed == (books.top(instrument: inst) != before))
                if changed { topChanges += 1 }
                model.orders[ref] = (inst, side, price, shares)
                live.append(ref)
            } else if roll < 70 {
                let k = Int(rng.below(UInt64(live.count)))
                let ref = live[k]
                let o = model.orders[ref]!
                let cut = UInt32(1 + rng.below(UInt64(o.shares)))
                let r = books.reduce(orderId: ref, shares: cut)
                #expect(r?.info.price == o.price && r?.info.remaining == o.shares - cut)
                if cut == o.shares {
                    model.orders[ref] = nil
                    live.swapAt(k, live.count - 1)
                    live.removeLast()
                } else {
                    model.orders[ref]!.shares -= cut
                }
            } else if roll < 85 {
                let k = Int(rng.below(UInt64(live.count)))
                let ref = live[k]
                #expect(books.delete(orderId: ref)?.info.remaining == model.orders[ref]!.shares)
                model.orders[ref] = nil
                live.swapAt(k, live.count - 1)
                live.removeLast()
            } else if roll < 95 {
                let k = Int(rng.below(UInt64(live.count)))
                let old = live[k]
                let new = nextRef
                nextRef += 1
                let price = prices.draw(&rng, step: step)
                #expect(books.replace(oldOrderId: old, newOrderId: new, price: price, shares: 100) != nil)
                let o = model.orders.removeValue(forKey: old)!
                model.orders[new] = (o.inst, o.side, price, 100)
                live[k] = new
            } else {
                #expect(books.delete(orderId: nextRef + 1_000_000) == nil)
                unknown += 1
            }
            if step % 997 == 0 {
                #expect(books._invariantViolations() == [])
                for inst in UInt32(1)...3 {
                    for side in [Side.buy, .sell] {
                        let want = model.levels(inst, side)
                        #expect(books.levelCount(instrument: inst, side: side) == want.count)
                        for (d, lv) in want.enumerated() {
                            #expect(books.level(instrument: inst, side: side, depth: d) == lv)
                        }
                        #expect(books.level(instrument: inst, side: side, depth: want.count) == nil)
                    }
                }
            }
        }
        #expect(books._invariantViolations() == [])
        #expect(books.orderCount == model.orders.count)
        #expect(books.unknownReferences == unknown)
        for ref in live { #expect(books.order(ref)?.shares == model.orders[ref]!.shares) }
        #expect(topChanges > (prices == .narrowCents ? 100 : 10))
    }

    /// The invariant check itself: silent on a consistent book, and names each kind of damage.
    @Test func invariantChecksNameWhatIsBroken() {
        func book() -> OrderBooks {
            let books = OrderBooks(maxInstruments: 4, orderCapacity: 16)
            books.add(instrument: 1, orderId: 1, side: .buy, price: 100_0000, shares: 100)
            books.add(instrument: 1, orderId: 2, side: .buy, price: 100_0100, shares: 50)
            books.add(instrument: 1, orderId: 3, side: .sell, price: 100_0300, shares: 70)
            books.add(instrument: 1, orderId: 4, side: .sell, price: 100_0301, shares: 5)  // off the cent grid: fallback
            books.changeLevel(instrument: 2, side: .buy, price: 5_0000, shares: 10, orders: 1)
            return books
        }
        #expect(book()._invariantViolations(levelAddressed: true) == [])
        // Instrument 2's level has no orders: only a level-addressed book may hold it.
        #expect(book()._invariantViolations() == ["instrument 2 bid: level 50000 (10 shares) has no resting order"])

        let shares = book()
        shares.table.slots[shares.table.find(2)!].shares = 40
        #expect(shares._invariantViolations(levelAddressed: true) == [])
        #expect(
            shares._invariantViolations().contains(
                "instrument 1 bid: level 1000100 shows 50 shares in 1 orders, its orders hold 40 in 1"
            )
        )

        let count = book()
        count.sides[2].ladderCount += 1
        #expect(
            count._invariantViolations(levelAddressed: true).contains(
                "instrument 1 bid: bid: 2 live ladder slots, ladderCount says 3"
            )
        )

        let best = book()
        best.sides[2].bestKey -= 1
        #expect(
            best._invariantViolations(levelAddressed: true).contains(
                "instrument 1 bid: bid: bestKey 10000, the largest live key is 10001"
            )
        )

        let misplaced = book()
        misplaced.sides[3].fallback.base![0].price = 100_0400  // on the grid and inside the window
        #expect(
            misplaced._invariantViolations(levelAddressed: true).contains(
                "instrument 1 ask: ask: fallback level 1000400 belongs in the ladder (key -10004, window from -10099)"
            )
        )

        let order = book()
        order.add(instrument: 1, orderId: 5, side: .sell, price: 100_0302, shares: 5)  // fallback: 1000302, 1000301
        #expect(order._invariantViolations() == ["instrument 2 bid: level 50000 (10 shares) has no resting order"])
        let f = order.sides[3].fallback.base!
        (f[0], f[1]) = (f[1], f[0])
        #expect(
            order._invariantViolations(levelAddressed: true).contains(
                "instrument 1 ask: ask fallback: level 1 at 1000302 is out of order after 1000301"
            )
        )

        let table = book()
        table.table.count += 1
        #expect(table._invariantViolations(levelAddressed: true).contains("order table: 4 live slots, count says 5"))
    }

    @Test func topAndDepthAPI() {
        let books = OrderBooks(maxInstruments: 8, orderCapacity: 16)
        #expect(books.top(instrument: 3) == .empty)
        books.add(instrument: 3, orderId: 1, side: .buy, price: 100_0000, shares: 100)
        books.add(instrument: 3, orderId: 2, side: .buy, price: 100_0100, shares: 200)
        books.add(instrument: 3, orderId: 3, side: .buy, price: 100_0100, shares: 50)
        books.add(instrument: 3, orderId: 4, side: .sell, price: 100_0300, shares: 70)
        let t = books.top(instrument: 3)
        #expect(t.bid == PriceLevel(price: 100_0100, shares: 250, orders: 2))
        #expect(t.ask == PriceLevel(price: 100_0300, shares: 70, orders: 1))
        #expect(books.level(instrument: 3, side: .buy, depth: 1) == PriceLevel(price: 100_0000, shares: 100, orders: 1))
        #expect(books.levelCount(instrument: 3, side: .buy) == 2)
        // Out of range instrument: rejected, never a crash.
        #expect(books.add(instrument: 99, orderId: 5, side: .buy, price: 1, shares: 1) == false)
        #expect(books.rejected == 1)
        #expect(books.add(instrument: 3, orderId: 4, side: .buy, price: 1, shares: 1) == false)  // duplicate reference
        #expect(books.reduce(orderId: 12345, shares: 1) == nil)
        #expect(books.unknownReferences == 1)
    }
}
