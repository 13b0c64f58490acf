import Book
import Execution
import Feed
import Foundation
import Replay
import TestSupport
import Testing
import TickBusCore

/// One test per rule of Docs/EXECUTION.md through the whole `tickbus sim` path: hand-built messages
/// written as an ITCH file (the feed's own reader publishes them, with a top-of-book after each
/// change of the best), an orders.csv, `SimulateOrders`, and fills.csv / events.csv rows compared
/// with rows computed by hand here. Prices are in 1e-4 ($10.00 = 100000); fees are binary-exact
/// (maker -0.125, taker 0.25, order 0.5 dollars) so the expected text is plain.
///
/// Market sequences: the directory message is 0, every message counts one, and a message that
/// changes the best bid or ask is followed by a top-of-book that counts one more.
struct SimRuleTests {
    static let inst: UInt32 = 5
    static let fees = ExecutionFees(makerPerShare: -0.125, takerPerShare: 0.25, perOrder: 0.5)

    /// The stream: a directory message at t=1000, then `events`.
    static func run(
        _ events: [MarketMessage],
        _ orders: String,
        latency: ExecutionLatency = .zero
    ) throws -> (fills: [String], events: [String]) {
        var w = ITCHWriter()
        w.append(.directory(instrument: inst, exchangeTime: 1000, symbol: "TEST"))
        for e in events { w.append(e) }
        let dir = TickBusTest.temporaryDirectory("xrule")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("t.itch").path
        try Data(w.take()).write(to: URL(fileURLWithPath: path))
        let file = try OrderFile.parse(Array(("id,time_ns,action,instrument,side,price,qty,tif\n" + orders).utf8))
        #expect(file.refusals.isEmpty, "\(file.refusals)")
        let out = try SimulateOrders.run(.itch(path: path), orders: file, latency: latency, fees: fees)
        func rows(_ b: [UInt8]) -> [String] {
            String(decoding: b, as: UTF8.self).split(separator: "\n").dropFirst().map(String.init)
        }
        return (rows(out.sink.fills), rows(out.sink.events))
    }

    static func add(_ id: UInt64, _ side: Side, _ price: Int64, _ q: UInt32, t: Int64) -> MarketMessage {
        .orderEvent(.add, instrument: inst, exchangeTime: t, orderId: id, price: price, quantity: q, side: side)
    }
    static func exec(_ id: UInt64, _ q: UInt32, t: Int64) -> MarketMessage {
        .orderEvent(
            .execute,
            instrument: inst,
            exchangeTime: t,
            orderId: id,
            price: 0,
            quantity: q,
            side: .buy,
            match: 1
        )
    }
    static func cancel(_ id: UInt64, _ q: UInt32, t: Int64) -> MarketMessage {
        .orderEvent(.cancel, instrument: inst, exchangeTime: t, orderId: id, price: 0, quantity: q, side: .buy)
    }
    static func delete(_ id: UInt64, t: Int64) -> MarketMessage {
        .orderEvent(.delete, instrument: inst, exchangeTime: t, orderId: id, price: 0, quantity: 0, side: .buy)
    }
    static func trade(_ side: Side, _ price: Int64, _ q: UInt32, t: Int64) -> MarketMessage {
        .orderEvent(
            .trade,
            instrument: inst,
            exchangeTime: t,
            orderId: 0,
            price: price,
            quantity: q,
            side: side,
            match: 2
        )
    }

    /// Rule 1: an action arriving at ta is processed after every message with time <= ta, before any later.
    @Test func rule1Latency() throws {
        let stream = [Self.add(1, .sell, 100_100, 100, t: 2000), Self.add(2, .sell, 100_000, 100, t: 3000)]
        // seq 1 add, 2 top, 3 add, 4 top. Sent at 1500: arrival 3000 sees the add at 3000 (time <= ta).
        let late = try Self.run(stream, "1,1500,new,5,B,100100,100,IOC\n", latency: .init(orderNs: 1500, responseNs: 7))
        #expect(late.fills == ["1,3000,4,100000,100,taker,25.0"])
        // Arrival 2999: before it, so it takes the only ask then, at 100100.
        let early = try Self.run(
            stream,
            "1,1500,new,5,B,100100,100,IOC\n",
            latency: .init(orderNs: 1499, responseNs: 0)
        )
        #expect(early.fills == ["1,2999,2,100100,100,taker,25.0"])
        #expect(early.events == ["1,2999,ack,,0.5"])
        // An action sent after the last message arrives at the end of the stream.
        let end = try Self.run(stream, "1,9000,new,5,B,100000,10,DAY\n", latency: .init(orderNs: 10, responseNs: 0))
        #expect(end.fills == ["1,9010,4,100000,10,taker,2.5"])
    }

    /// Rule 2: taking level by level at each level's price; taken liquidity remembered until the real
    /// order leaves; the rest cancelled (IOC) or rests (DAY).
    @Test func rule2Taking() throws {
        let stream = [
            Self.add(1, .sell, 100_000, 50, t: 2000),  // seq 1, top 2
            Self.add(2, .sell, 100_000, 70, t: 3000),  // seq 3, top 4
            Self.add(3, .sell, 100_100, 100, t: 4000),  // seq 5 (not the best)
            Self.delete(3, t: 7000),  // seq 6
            Self.add(4, .sell, 100_100, 100, t: 8000),  // seq 7
            Self.add(9, .buy, 99_000, 10, t: 9500),  // seq 8, top 9
        ]
        let r = try Self.run(
            stream,
            """
            1,5000,new,5,B,100100,150,DAY
            2,6000,new,5,B,100100,100,IOC
            3,9000,new,5,B,100100,200,IOC
            4,10000,new,5,B,100000,50,DAY

            """
        )
        #expect(
            r.fills == [
                "1,5000,5,100000,120,taker,30.0", "1,5000,5,100100,30,taker,7.5",
                // Order 3 took 30 of order 3's 100: 70 are left for the next taker.
                "2,6000,5,100100,70,taker,17.5",
                // Orders 1 and 2 at 100000 are all taken; order 4 is new liquidity.
                "3,9000,7,100100,100,taker,25.0",
            ]
        )
        #expect(
            r.events == [
                "1,5000,ack,,0.5", "2,6000,ack,,0.5", "2,6000,cancelled,ioc,0.0", "3,9000,ack,,0.5",
                "3,9000,cancelled,ioc,0.0",
                // Nothing left to take at 100000: it rests (no fill, no cancel).
                "4,10000,ack,,0.5",
            ]
        )
    }

    /// Rule 3: ahead = the displayed shares at arrival; later adds are behind.
    @Test func rule3QueuePosition() throws {
        let stream = [
            Self.add(1, .buy, 99_900, 100, t: 2000),  // seq 1, top 2
            Self.add(2, .buy, 99_900, 50, t: 3000),  // seq 3, top 4
            Self.add(3, .buy, 99_900, 40, t: 5000),  // seq 5, top 6: behind the own order
            Self.exec(1, 60, t: 6000),  // seq 7, top 8: ahead 150 -> 90
            Self.exec(1, 40, t: 7000),  // seq 9, top 10: -> 50
            Self.exec(2, 50, t: 8000),  // seq 11, top 12: -> 0
            Self.exec(3, 40, t: 9000),  // seq 13, top 14: behind the own order: fills it
        ]
        let r = try Self.run(stream, "1,4000,new,5,B,99900,30,DAY\n")
        #expect(r.fills == ["1,9000,13,99900,30,maker,-3.75"])
        #expect(r.events == ["1,4000,ack,,0.5"])
    }

    /// Rule 4: cancels, deletes and replaces of orders ahead deplete the queue; an execution of an
    /// order behind fills.
    @Test func rule4DepletionByCancelDeleteReplace() throws {
        let stream = [
            Self.add(1, .buy, 99_900, 100, t: 2000),  // seq 1, top 2
            Self.add(2, .buy, 99_900, 10, t: 4000),  // seq 3, top 4: behind
            Self.cancel(1, 30, t: 5000),  // seq 5, top 6: ahead 100 -> 70
            .replace(
                instrument: Self.inst,
                exchangeTime: 6000,
                oldOrderId: 1,
                newOrderId: 11,
                price: 99_900,
                quantity: 60,
                side: .buy
            ),  // seq 7, top 8: the old order leaves (ahead 70 -> 0), the new one is behind
            Self.exec(2, 10, t: 7000),  // seq 9, top 10
            Self.exec(11, 60, t: 8000),  // seq 11, top 12
        ]
        let r = try Self.run(stream, "1,3000,new,5,B,99900,50,DAY\n")
        #expect(r.fills == ["1,7000,9,99900,10,maker,-1.25", "1,8000,11,99900,40,maker,-5.0"])
        // A delete of the order ahead empties the queue in one go.
        let d = try Self.run(
            [
                Self.add(1, .buy, 99_900, 100, t: 2000), Self.add(2, .buy, 99_900, 10, t: 4000),
                Self.delete(1, t: 5000), Self.exec(2, 4, t: 6000),
            ],
            "1,3000,new,5,B,99900,50,DAY\n"
        )
        #expect(d.fills == ["1,6000,7,99900,4,maker,-0.5"])
    }

    /// Rule 4: executions at a worse price on the own order's side trade through it.
    @Test func rule4TradeThrough() throws {
        let stream = [
            Self.add(1, .buy, 99_900, 100, t: 2000),  // seq 1, top 2
            Self.add(2, .buy, 99_800, 100, t: 2500),  // seq 3
            Self.exec(2, 20, t: 4000),  // seq 4: traded through the own bid at 99900
            Self.exec(2, 80, t: 5000),  // seq 5
        ]
        let r = try Self.run(stream, "1,3000,new,5,B,99900,50,DAY\n")
        #expect(r.fills == ["1,4000,4,99900,20,maker,-2.5", "1,5000,5,99900,30,maker,-3.75"])
    }

    /// Rule 4: a real order added across an own order fills it and counts as taken.
    @Test func rule4CrossingAdd() throws {
        let stream = [
            Self.add(1, .sell, 100_200, 100, t: 2000),  // seq 1, top 2
            Self.add(2, .buy, 99_800, 100, t: 2500),  // seq 3, top 4
            Self.add(3, .sell, 99_900, 30, t: 4000),  // seq 5, top 6: crosses the own bid at 100000
            Self.add(4, .sell, 100_000, 40, t: 6000),  // seq 7
        ]
        let r = try Self.run(
            stream,
            """
            1,3000,new,5,B,100000,50,DAY
            2,5000,new,5,B,99900,100,IOC

            """
        )
        #expect(
            r.fills == [
                "1,4000,5,100000,30,maker,-3.75",
                // Order 2 finds order 3 all taken; order 4's add fills what order 1 has left.
                "1,6000,7,100000,20,maker,-2.5",
            ]
        )
        #expect(r.events == ["1,3000,ack,,0.5", "2,5000,ack,,0.5", "2,5000,cancelled,ioc,0.0"])
    }

    /// Rule 4: non-displayed trades fill nothing, at the own price or through it.
    @Test func rule4NonDisplayedTrades() throws {
        let stream = [
            Self.add(1, .buy, 99_900, 100, t: 2000), Self.trade(.buy, 99_900, 500, t: 4000),
            Self.trade(.buy, 99_000, 500, t: 5000),
        ]
        let r = try Self.run(stream, "1,3000,new,5,B,99900,50,DAY\n")
        #expect(r.fills.isEmpty)
    }

    /// Rule 5: one event's quantity shared in price-time priority, never counted twice; a depletion
    /// applies in full to every own order; own orders never match each other.
    @Test func rule5SharingAndPriority() throws {
        let stream = [
            Self.add(1, .buy, 99_800, 100, t: 2000),  // seq 1, top 2
            Self.add(2, .sell, 99_900, 100, t: 5000),  // seq 3, top 4: crosses all three own bids
            Self.exec(1, 15, t: 6000),  // seq 5, top 6: trades through order 2's rest
        ]
        let r = try Self.run(
            stream,
            """
            1,3000,new,5,B,99900,30,DAY
            2,3500,new,5,B,99900,40,DAY
            3,4000,new,5,B,100000,50,DAY

            """
        )
        #expect(
            r.fills == [
                "3,5000,3,100000,50,maker,-6.25", "1,5000,3,99900,30,maker,-3.75", "2,5000,3,99900,20,maker,-2.5",
                "2,6000,5,99900,15,maker,-1.875",
            ]
        )
        // A delete ahead of two own orders empties both queues; the next execution behind them is
        // shared in arrival order.
        let d = try Self.run(
            [
                Self.add(1, .buy, 99_900, 100, t: 2000), Self.add(2, .buy, 99_900, 5, t: 4000),
                Self.delete(1, t: 5000), Self.exec(2, 5, t: 6000),
            ],
            "1,3000,new,5,B,99900,10,DAY\n2,3500,new,5,B,99900,10,DAY\n"
        )
        #expect(d.fills == ["1,6000,7,99900,5,maker,-0.625"])
        // Own orders at the same price on both sides do not match each other.
        let own = try Self.run(
            [Self.add(1, .buy, 99_000, 100, t: 2000), Self.add(2, .sell, 101_000, 100, t: 2000)],
            "1,3000,new,5,B,100000,10,DAY\n2,3001,new,5,S,100000,10,DAY\n"
        )
        #expect(own.fills.isEmpty)
        #expect(own.events == ["1,3000,ack,,0.5", "2,3001,ack,,0.5"])
    }

    /// Rule 6: a cancel removes what remains, else it is too late; same arrival time in file order.
    @Test func rule6Cancels() throws {
        let stream = [
            Self.add(1, .sell, 100_000, 10, t: 2000),  // seq 1, top 2
            Self.add(2, .buy, 99_900, 100, t: 2500),  // seq 3, top 4
        ]
        let r = try Self.run(
            stream,
            """
            1,3000,new,5,B,100000,10,DAY
            1,3100,cancel,,,,,
            2,3200,cancel,,,,,
            2,3200,new,5,B,99900,10,DAY
            3,3300,new,5,B,99900,10,DAY
            3,3300,cancel,,,,,

            """
        )
        #expect(r.fills == ["1,3000,4,100000,10,taker,2.5"])
        #expect(
            r.events == [
                "1,3000,ack,,0.5", "1,3100,cancel_rejected,too_late,0.0",
                // The cancel is first in the file at 3200: the order has not arrived.
                "2,3200,cancel_rejected,too_late,0.0", "2,3200,ack,,0.5",
                "3,3300,ack,,0.5", "3,3300,cancelled,cancel,0.0",
            ]
        )
    }

    /// Rule 7: fees per share by liquidity (a rebate negative) and per order on the ack; a reject pays nothing.
    @Test func rule7Fees() throws {
        let stream = [Self.add(1, .sell, 100_000, 10, t: 2000), Self.add(2, .sell, 100_000, 10, t: 4000)]
        let r = try Self.run(stream, "1,3000,new,5,B,100000,30,DAY\n2,3000,new,6,B,100000,30,DAY\n")
        #expect(r.fills == ["1,3000,2,100000,10,taker,2.5", "1,4000,3,100000,10,maker,-1.25"])
        #expect(r.events == ["1,3000,ack,,0.5", "2,3000,reject,unknown_instrument,0.0"])
    }

    /// Rule 8: the simulator never changes the book it reads.
    @Test func rule8BookUntouched() throws {
        let messages: [MarketMessage] = [
            Self.add(1, .sell, 100_000, 50, t: 2000), Self.add(2, .buy, 99_900, 50, t: 2100),
            Self.add(3, .sell, 99_900, 20, t: 4000), Self.exec(2, 10, t: 5000),
        ]
        let withSim = OrderBooks(maxInstruments: 8, orderCapacity: 64)
        let alone = OrderBooks(maxInstruments: 8, orderCapacity: 64)
        let sim = ExecutionSimulator(maxInstruments: 8, watchAll: true)
        var sink = ExecutionCSVSink()
        sim.send(.new(id: 1, at: 3000, instrument: Self.inst, side: .buy, price: 100_000, quantity: 80))
        let slot = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 64)
        defer { slot.deallocate() }
        for (i, m) in messages.enumerated() {
            m.store(to: slot)
            slot.storeBytes(of: UInt64(i), as: UInt64.self)
            let v = MarketMessageView(UnsafeRawPointer(slot))
            sim.market(v, books: withSim, sink: &sink)
            _ = withSim.apply(v)
            _ = alone.apply(v)
        }
        #expect(sink.fillCount == 3)  // the take, the crossing add, the execution behind
        for side in [Side.buy, .sell] {
            for d in 0..<3 {
                #expect(
                    withSim.level(instrument: Self.inst, side: side, depth: d)
                        == alone.level(instrument: Self.inst, side: side, depth: d)
                )
            }
        }
        for id: UInt64 in [1, 2, 3] { #expect(withSim.order(id)?.shares == alone.order(id)?.shares) }
    }
}
