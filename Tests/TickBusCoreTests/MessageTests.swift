import Testing

@testable import TickBusCore

@Suite("Messages")
struct MessageTests {
    func roundTrip(_ m: MarketMessage) -> (MarketMessage, UnsafeMutableRawPointer) {
        let slot = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 64)
        slot.initializeMemory(as: UInt8.self, repeating: 0xAB, count: 64)
        slot.storeBytes(of: UInt64(77), as: UInt64.self)
        m.store(to: slot)
        return (MarketMessage(MarketMessageView(slot)), slot)
    }

    @Test("every kind round-trips through slot bytes, and the sequence word is untouched")
    func roundTrips() {
        let t: Int64 = 34_200_123_456_789
        let messages: [MarketMessage] = [
            .orderEvent(
                .add,
                instrument: 3,
                exchangeTime: t,
                orderId: 1 << 40,
                price: 5_809_400,
                quantity: 2300,
                side: .sell
            ),
            .orderEvent(
                .execute,
                instrument: 3,
                exchangeTime: t,
                orderId: 99,
                price: 1,
                quantity: 1,
                side: .buy,
                match: 123_456
            ),
            .orderEvent(.cancel, instrument: 1, exchangeTime: t, orderId: 5, price: -1, quantity: .max, side: .buy),
            .orderEvent(
                .delete,
                instrument: .max,
                exchangeTime: t,
                orderId: .max,
                price: .max,
                quantity: 0,
                side: .sell
            ),
            .orderEvent(
                .trade,
                instrument: 2,
                exchangeTime: t,
                orderId: 0,
                price: 1_000_000,
                quantity: 100,
                side: .buy,
                match: 7
            ),
            .replace(
                instrument: 4,
                exchangeTime: t,
                oldOrderId: 10,
                newOrderId: 11,
                price: 123_400,
                quantity: 500,
                side: .sell
            ),
            .topOfBook(
                instrument: 5,
                exchangeTime: t,
                bidPrice: 5_800_000,
                bidSize: 300,
                bidOrders: 2,
                askPrice: 5_801_000,
                askSize: 4_000_000_000,
                askOrders: 9
            ),
            .directory(instrument: 6, exchangeTime: t, symbol: "GOOG", roundLot: 100),
            .status(instrument: 6, exchangeTime: t, state: 0x48),
            .gap(exchangeTime: t, from: 1000, count: 17),
            .endOfSession(exchangeTime: t, messages: 123),
        ]
        #expect(Set(messages.map(\.kind.rawValue)).count == MessageKind.allCases.count)
        for m in messages {
            let (back, slot) = roundTrip(m)
            defer { slot.deallocate() }
            #expect(back == m, "\(m.kind)")
            #expect(slot.load(as: UInt64.self) == 77)
        }
    }

    @Test("views read each kind's fields at the documented offsets")
    func views() {
        let (_, a) = roundTrip(
            .orderEvent(
                .add,
                instrument: 3,
                exchangeTime: 42,
                orderId: 9,
                price: 5_809_400,
                quantity: 2300,
                side: .sell
            )
        )
        defer { a.deallocate() }
        let v = MarketMessageView(a)
        #expect(v.kind == .add && v.instrument == 3 && v.exchangeTime == 42 && v.orderId == 9)
        #expect(v.price == 5_809_400 && v.quantity == 2300 && v.side == .sell)
        #expect(a.load(fromByteOffset: 40, as: Int64.self) == 5_809_400)
        #expect(a.load(fromByteOffset: 52, as: UInt8.self) == UInt8(ascii: "S"))

        let (_, r) = roundTrip(
            .replace(
                instrument: 4,
                exchangeTime: 1,
                oldOrderId: 10,
                newOrderId: 11,
                price: 123_400,
                quantity: 500,
                side: .buy
            )
        )
        defer { r.deallocate() }
        let rv = MarketMessageView(r)
        #expect(
            rv.oldOrderId == 10 && rv.newOrderId == 11 && rv.replacePrice == 123_400 && rv.replaceQuantity == 500
                && rv.replaceSide == .buy
        )

        let (_, b) = roundTrip(
            .topOfBook(
                instrument: 5,
                exchangeTime: 1,
                bidPrice: 100,
                bidSize: 3,
                bidOrders: 1,
                askPrice: 200,
                askSize: 4,
                askOrders: 2
            )
        )
        defer { b.deallocate() }
        let bv = MarketMessageView(b)
        #expect(
            bv.bidPrice == 100 && bv.bidSize == 3 && bv.bidOrders == 1 && bv.askPrice == 200 && bv.askSize == 4
                && bv.askOrders == 2
        )

        let (_, d) = roundTrip(.directory(instrument: 6, exchangeTime: 1, symbol: "GOOG"))
        defer { d.deallocate() }
        #expect(MarketMessageView(d).symbol == "GOOG")
        #expect(d.load(fromByteOffset: 36, as: UInt8.self) == 0x20)  // space padded as in ITCH

        let (_, g) = roundTrip(.gap(exchangeTime: 1, from: 1000, count: 17))
        defer { g.deallocate() }
        #expect(MarketMessageView(g).gapFrom == 1000 && MarketMessageView(g).gapCount == 17)
    }

    @Test("the print format leaves receive time out")
    func printFormat() {
        var m = MarketMessage.orderEvent(
            .add,
            instrument: 1,
            exchangeTime: 5,
            orderId: 2,
            price: 3,
            quantity: 4,
            side: .buy
        )
        let (_, a) = roundTrip(m)
        m.receiveTime = 999
        let (_, b) = roundTrip(m)
        defer {
            a.deallocate()
            b.deallocate()
        }
        #expect(MarketMessageView(a).description == MarketMessageView(b).description)
        #expect(MarketMessageView(a).description == "add inst=1 t=5 id=2 px=3 qty=4 side=B")
    }
}
