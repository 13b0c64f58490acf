import Features
import Foundation
import Testing
import TickBusCore

/// Feeds hand-built messages through an engine (each stored into a 64-byte slot image as the ring holds it).
final class Feeder {
    let engine: FeatureEngine
    let slot = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 64)
    var sequence: UInt64 = 0
    init(_ toml: String) throws { engine = FeatureEngine(definition: try FeatureDefinition.parse(toml)) }
    deinit { slot.deallocate() }

    @discardableResult
    func send(_ m: MarketMessage) -> Bool {
        m.store(to: slot)
        slot.storeBytes(of: sequence, as: UInt64.self)
        sequence += 1
        return engine.update(MarketMessageView(UnsafeRawPointer(slot)))
    }
    subscript(_ i: Int) -> Double { engine.values[i] }

    func top(_ t: Int64, bid: Int64, bidSize: UInt32, ask: Int64, askSize: UInt32, instrument: UInt32 = 1) -> Bool {
        send(
            .topOfBook(
                instrument: instrument,
                exchangeTime: t,
                bidPrice: bid,
                bidSize: bidSize,
                bidOrders: 1,
                askPrice: ask,
                askSize: askSize,
                askOrders: 1
            )
        )
    }
}

func feature(_ name: String, _ kind: String, _ extra: String = "") -> String {
    "[[feature]]\nname = \"\(name)\"\nkind = \"\(kind)\"\n\(extra)\n"
}

@Suite("Feature definitions")
struct DefinitionTests {
    @Test("parses every key")
    func parses() throws {
        let d = try FeatureDefinition.parse(
            """
            instrument = 7   # comment
            decide_on = "top_change"
            max_instruments = 4
            [signal]
            buy_above = 0.6
            sell_below = 0.4
            """ + "\n" + feature("r", "return_time", "window_ns = 1_000")
                + feature("v", "volatility_events", "alpha = 0.5")
        )
        #expect(d.instrument == 7)
        #expect(d.trigger == .topChange)
        #expect(d.maxInstruments == 4)
        #expect(d.names == ["r", "v"])
        #expect(d.features[0].windowNs == 1000)
        #expect(d.features[1].alpha == 0.5)
        #expect(d.signal(0.7) == 1 && d.signal(0.3) == -1 && d.signal(0.5) == 0)
    }

    @Test("errors say what and where")
    func errors() {
        #expect(throws: FeatureError.syntax(line: 2, message: "expected key = value")) {
            try FeatureDefinition.parse("[[feature]]\nname\n")
        }
        #expect(throws: FeatureError.invalid(feature: "x", message: "return_events needs events = N")) {
            try FeatureDefinition.parse(feature("x", "return_events"))
        }
        #expect(throws: FeatureError.self) { try FeatureDefinition.parse(feature("x", "momentum")) }
        #expect(throws: FeatureError.syntax(line: 4, message: "window_ns must be a positive integer")) {
            try FeatureDefinition.parse(feature("x", "trade_count", "window_ns = -5"))
        }
        #expect(throws: FeatureError.invalid(feature: "a", message: "defined twice")) {
            try FeatureDefinition.parse(feature("a", "mid") + feature("a", "spread"))
        }
    }
}

@Suite("Feature values")
struct FeatureValueTests {
    @Test("top-of-book features from top messages")
    func topFeatures() throws {
        let f = try Feeder(
            feature("mid", "mid") + feature("spread", "spread") + feature("imb", "imbalance")
                + feature("micro", "microprice")
        )
        #expect(f.top(1, bid: 100_0000, bidSize: 300, ask: 100_0200, askSize: 100))
        #expect(f[0] == (100.0 + 100.02) / 2)
        #expect(f[1] == 100.02 - 100.0)
        #expect(f[2] == 0.5)
        #expect(f[3] == (100.0 * 100 + 100.02 * 300) / 400)
        #expect(f.top(2, bid: 100_0000, bidSize: 300, ask: 0, askSize: 0))  // empty ask
        #expect(f[0].isNaN && f[1].isNaN && f[3].isNaN)
        #expect(f[2] == 1)
    }

    @Test("depth-weighted imbalance from the order book")
    func depth() throws {
        let f = try Feeder(feature("d", "depth_imbalance", "levels = 2") + feature("imb", "imbalance"))
        func add(_ id: UInt64, _ side: Side, _ px: Int64, _ q: UInt32) {
            f.send(
                .orderEvent(
                    .add,
                    instrument: 1,
                    exchangeTime: Int64(id),
                    orderId: id,
                    price: px,
                    quantity: q,
                    side: side
                )
            )
        }
        add(1, .buy, 99_0000, 100)
        add(2, .buy, 98_0000, 400)
        add(3, .buy, 97_0000, 1000)
        add(4, .sell, 101_0000, 300)
        add(5, .sell, 102_0000, 200)
        let num = (100.0 - 300) + 0.5 * (400 - 200)
        let den = (100.0 + 300) + 0.5 * (400 + 200)
        #expect(f[0] == num / den)
        #expect(f[1] == (100.0 - 300) / 400)
        f.send(
            .orderEvent(
                .delete,
                instrument: 1,
                exchangeTime: 6,
                orderId: 4,
                price: 101_0000,
                quantity: 300,
                side: .sell
            )
        )
        #expect(f[1] == (100.0 - 200) / 300)
    }

    @Test("trade count and volume over an exchange-time window; time since trade")
    func trades() throws {
        let s: Int64 = 1_000_000_000
        let f = try Feeder(
            feature("n", "trade_count", "window_ns = 10_000_000_000")
                + feature("v", "trade_volume", "window_ns = 10_000_000_000")
                + feature("t", "time_since_trade")
        )
        func trade(_ t: Int64, _ q: UInt32) {
            f.send(.orderEvent(.trade, instrument: 1, exchangeTime: t, orderId: 0, price: 1, quantity: q, side: .buy))
        }
        _ = f.top(0, bid: 1, bidSize: 1, ask: 2, askSize: 1)
        #expect(f[0] == 0 && f[1] == 0 && f[2].isNaN)
        trade(1 * s, 100)
        trade(3 * s, 50)
        trade(9 * s, 10)
        #expect(f[0] == 3 && f[1] == 160 && f[2] == 0)
        _ = f.top(12 * s, bid: 1, bidSize: 1, ask: 2, askSize: 2)  // 1 s trade leaves (≤ now − 10 s)
        #expect(f[0] == 2 && f[1] == 60 && f[2] == 3)
        _ = f.top(19 * s + 1, bid: 1, bidSize: 1, ask: 2, askSize: 3)
        #expect(f[0] == 0 && f[1] == 0)
    }

    @Test("event-window return and order-flow imbalance by hand")
    func returnsAndOFI() throws {
        let f = try Feeder(feature("r", "return_events", "events = 2") + feature("o", "ofi", "events = 2"))
        _ = f.top(1, bid: 100_0000, bidSize: 10, ask: 102_0000, askSize: 10)  // mid 101
        #expect(f[0].isNaN && f[1] == 0)
        _ = f.top(2, bid: 100_0000, bidSize: 15, ask: 102_0000, askSize: 10)  // bid size +5: e = 15 − 10 = 5
        #expect(f[1] == 5)
        _ = f.top(3, bid: 101_0000, bidSize: 7, ask: 102_0000, askSize: 4)  // bid up: e = 7; ask size −6: e −= 4 − 10 → 7 + 6 = 13
        #expect(f[0] == log(101.5 / 101.0))
        #expect(f[1] == 5 + 13)
        _ = f.top(4, bid: 101_0000, bidSize: 7, ask: 102_0000, askSize: 4)  // unchanged: e = 0, window drops the 5
        #expect(f[1] == 13)
        #expect(f[0] == log(101.5 / 101.0))
    }

    @Test("only the selected instrument makes decision points; top_change skips unchanged tops")
    func selection() throws {
        let f = try Feeder("instrument = 2\ndecide_on = \"top_change\"\n" + feature("m", "mid"))
        #expect(!f.top(1, bid: 1_0000, bidSize: 1, ask: 2_0000, askSize: 1, instrument: 1))
        #expect(f.top(1, bid: 1_0000, bidSize: 1, ask: 2_0000, askSize: 1, instrument: 2))
        #expect(f.engine.instrument == 2)
        #expect(!f.top(2, bid: 1_0000, bidSize: 1, ask: 2_0000, askSize: 1, instrument: 2))
        #expect(f.top(3, bid: 1_0000, bidSize: 2, ask: 2_0000, askSize: 1, instrument: 2))
        #expect(!f.send(.endOfSession(exchangeTime: 4, messages: 4)))
    }

    @Test("state is per instrument")
    func perInstrument() throws {
        let f = try Feeder(feature("r", "return_events", "events = 1"))
        _ = f.top(1, bid: 100_0000, bidSize: 1, ask: 100_0000, askSize: 1, instrument: 1)
        _ = f.top(1, bid: 200_0000, bidSize: 1, ask: 200_0000, askSize: 1, instrument: 2)
        _ = f.top(2, bid: 110_0000, bidSize: 1, ask: 110_0000, askSize: 1, instrument: 1)
        #expect(f[0] == log(110.0 / 100.0))
        _ = f.top(2, bid: 220_0000, bidSize: 1, ask: 220_0000, askSize: 1, instrument: 2)
        #expect(f[0] == log(220.0 / 200.0))
    }
}
