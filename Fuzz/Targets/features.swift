// fuzz-modules: TickBusCore Book Features
// A feature definition through `FeatureDefinition.parse` (the TOML subset) and, when accepted,
// compiled into a `FeatureEngine` and run over a short synthetic message flow, as
// `tickbus features --features` and `strategy --features` use it.
import Book
import Features
import TickBusCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFeatures(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let definition: FeatureDefinition
    do { definition = try FeatureDefinition.parse(text) } catch {
        _ = error.description
        return 0
    }
    _ = definition.names
    _ = definition.signal(0.5)
    let engine = FeatureEngine(definition: definition)
    let slot = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 64)
    defer { slot.deallocate() }
    slot.initializeMemory(as: UInt8.self, repeating: 0, count: 64)
    // A small two-sided book on instruments 1 and 2, trades, and a replace, with exchange time
    // moving forward and back (features must not assume it only grows).
    var time: Int64 = 1_000_000
    var sink = 0.0
    for i in 0..<64 {
        let inst = UInt32(1 + i % 2)
        let side: Side = i % 3 == 0 ? .sell : .buy
        let price: Int64 = (side == .buy ? 1_000_000 - Int64(i % 5) * 100 : 1_000_100 + Int64(i % 7) * 100)
        let m: MarketMessage
        switch i % 6 {
        case 0, 1, 2:
            m = .orderEvent(
                .add,
                instrument: inst,
                exchangeTime: time,
                orderId: UInt64(i + 1),
                price: price,
                quantity: UInt32(100 + i),
                side: side
            )
        case 3:
            m = .orderEvent(
                .trade,
                instrument: inst,
                exchangeTime: time,
                orderId: 0,
                price: price,
                quantity: 10,
                side: side
            )
        case 4:
            m = .orderEvent(
                .execute,
                instrument: inst,
                exchangeTime: time,
                orderId: UInt64(i - 3),
                price: price,
                quantity: 50,
                side: side
            )
        default:
            m = .orderEvent(
                .delete,
                instrument: inst,
                exchangeTime: time,
                orderId: UInt64(i - 4),
                price: price,
                quantity: 0,
                side: side
            )
        }
        m.store(to: slot)
        slot.storeBytes(of: UInt64(i), as: UInt64.self)
        if engine.update(MarketMessageView(UnsafeRawPointer(slot))) {
            for k in 0..<engine.count { sink += engine.values[k] }
        }
        time = i % 11 == 10 ? time - 500 : time &+ Int64(1 + i * 1_000_003 % 7_000_000)
    }
    return sink == 42.4242 ? 1 : 0
}
