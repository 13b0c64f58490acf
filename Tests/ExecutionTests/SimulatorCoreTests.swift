import Book
import Execution
import Testing
import TickBusCore

/// A stream of hand-built ITCH-style (order-addressed) messages through a book and the simulator,
/// in the order the contract asks: the simulator sees each message before the book applies it.
final class Harness: ExecutionSink {
    let books = OrderBooks(maxInstruments: 16, orderCapacity: 1024)
    let sim: ExecutionSimulator
    var fills: [Fill] = []
    var events: [OrderEvent] = []
    var sequence: UInt64 = 0
    var time: Int64 = 1_000

    init(latency: ExecutionLatency = .zero, fees: ExecutionFees = .zero) {
        sim = ExecutionSimulator(latency: latency, fees: fees, maxOrders: 64, maxInstruments: 16, watchAll: true)
    }

    func fill(_ fill: Fill) { fills.append(fill) }
    func orderEvent(_ event: OrderEvent) { events.append(event) }

    func feed(_ m: MarketMessage) {
        sequence += 1
        let p = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 8)
        defer { p.deallocate() }
        m.store(to: p)
        p.storeBytes(of: sequence, as: UInt64.self)
        let view = MarketMessageView(UnsafeRawPointer(p))
        var me = self
        sim.market(view, books: books, sink: &me)
        _ = books.apply(view)
    }

    func next() -> Int64 {
        time += 10
        return time
    }
    func add(_ id: UInt64, _ side: Side, _ price: Int64, _ q: UInt32) {
        feed(.orderEvent(.add, instrument: 1, exchangeTime: next(), orderId: id, price: price, quantity: q, side: side))
    }
    func exec(_ id: UInt64, _ side: Side, _ price: Int64, _ q: UInt32) {
        feed(
            .orderEvent(
                .execute,
                instrument: 1,
                exchangeTime: next(),
                orderId: id,
                price: price,
                quantity: q,
                side: side
            )
        )
    }
    func cancel(_ id: UInt64, _ side: Side, _ price: Int64, _ q: UInt32) {
        feed(
            .orderEvent(
                .cancel,
                instrument: 1,
                exchangeTime: next(),
                orderId: id,
                price: price,
                quantity: q,
                side: side
            )
        )
    }
    func delete(_ id: UInt64, _ side: Side, _ price: Int64, _ q: UInt32) {
        feed(
            .orderEvent(
                .delete,
                instrument: 1,
                exchangeTime: next(),
                orderId: id,
                price: price,
                quantity: q,
                side: side
            )
        )
    }
    func own(_ id: UInt64, _ side: Side, _ price: Int64, _ q: UInt32, _ tif: TimeInForce = .day) {
        sim.send(.new(id: id, at: time, instrument: 1, side: side, price: price, quantity: q, tif: tif))
    }
}

@Suite struct SimulatorCoreTests {
    @Test func queueAheadDepletesThenBehindExecutionFills() {
        let h = Harness()
        h.add(1, .buy, 1_000_000, 100)
        h.add(2, .buy, 1_000_000, 200)
        h.own(100, .buy, 1_000_000, 50)
        h.add(3, .buy, 1_000_000, 300)  // behind the own order; the own order arrives before it
        #expect(h.sim.ahead(100) == 300)
        h.cancel(2, .buy, 1_000_000, 150)
        #expect(h.sim.ahead(100) == 150)
        h.exec(1, .buy, 1_000_000, 100)
        #expect(h.sim.ahead(100) == 50)
        #expect(h.fills.isEmpty)
        h.exec(3, .buy, 1_000_000, 30)  // behind: fills the own order first
        #expect(h.fills.count == 1 && h.fills[0].quantity == 30 && h.fills[0].liquidity == .maker)
        #expect(h.sim.ahead(100) == 0 && h.sim.remaining(100) == 20)
    }

    @Test func tradeThroughAndCrossingAdd() {
        let h = Harness()
        h.add(1, .buy, 1_000_000, 100)
        h.add(2, .sell, 1_000_500, 100)
        h.own(100, .buy, 1_000_200, 80)  // better than the real best bid: nothing ahead
        h.exec(1, .buy, 1_000_000, 30)  // traded through 100.02
        #expect(h.fills.map(\.quantity) == [30])
        h.add(3, .sell, 1_000_100, 70)  // crosses the own buy at 100.02
        #expect(h.fills.map(\.quantity) == [30, 50])
        #expect(h.fills[1].price == 1_000_200)
        #expect(h.sim.remaining(100) == nil)
    }

    @Test func takerSweepsLevelsAndNeverTakesTwice() {
        let h = Harness(fees: ExecutionFees(makerPerShare: -0.002, takerPerShare: 0.003, perOrder: 0.01))
        h.add(1, .sell, 1_000_100, 100)
        h.add(2, .sell, 1_000_200, 100)
        h.own(100, .buy, 1_000_200, 150, .ioc)
        h.add(9, .buy, 900_000, 1)  // a later message makes the action due
        #expect(h.fills.map(\.quantity) == [100, 50])
        #expect(h.fills.map(\.price) == [1_000_100, 1_000_200])
        #expect(h.fills.allSatisfy { $0.liquidity == .taker })
        #expect(abs(h.fills[0].fee - 0.3) < 1e-12)
        h.own(101, .buy, 1_000_200, 500, .ioc)
        h.add(10, .buy, 900_000, 1)
        // Only order 2's other 50 shares are left to take.
        #expect(h.fills.map(\.quantity) == [100, 50, 50])
        #expect(h.events.filter { $0.kind == .cancelled }.map(\.quantity) == [450])
    }

    @Test func latencyOrdersArrivalAfterMessagesAtOrBeforeIt() {
        let h = Harness(latency: ExecutionLatency(orderNs: 25, responseNs: 0))
        h.add(1, .sell, 1_000_100, 100)  // t = 1010
        h.own(100, .buy, 1_000_100, 100, .ioc)  // sent 1010, arrives 1035
        h.delete(1, .sell, 1_000_100, 100)  // t = 1020 <= 1035: gone before the arrival
        h.add(2, .sell, 1_000_100, 100)  // t = 1030
        h.add(3, .buy, 900_000, 1)  // t = 1040 > 1035: the action is processed before this one
        #expect(h.fills.map(\.quantity) == [100])
        #expect(h.fills[0].time == 1_035)
        #expect(h.fills[0].marketSequence == 3)
    }

    @Test func lateCancelIsRejected() {
        let h = Harness()
        h.add(1, .sell, 1_000_100, 100)
        h.own(100, .buy, 1_000_000, 10)
        h.sim.send(.cancel(id: 100, at: h.time))
        h.add(2, .sell, 1_000_000, 10)  // crosses and fills the order before the cancel arrives? no: actions first
        #expect(h.events.map(\.kind) == [.ack, .cancelled])
        h.sim.send(.cancel(id: 100, at: h.time))
        h.add(3, .buy, 900_000, 1)
        #expect(h.events.map(\.kind) == [.ack, .cancelled, .cancelRejected])
    }

    @Test func oneEventSharedInPriorityNeverCountedTwice() {
        let h = Harness()
        h.add(1, .buy, 1_000_000, 100)
        h.own(100, .buy, 1_000_100, 40)  // better price
        h.own(101, .buy, 1_000_000, 40)  // at the level, 100 ahead
        h.add(2, .buy, 1_000_000, 100)  // behind both
        h.exec(2, .buy, 1_000_000, 60)
        // 100 (trade-through) first: 40; then 101 (order 2 is behind it): the other 20.
        #expect(h.fills.map(\.orderId) == [100, 101])
        #expect(h.fills.map(\.quantity) == [40, 20])
        h.exec(1, .buy, 1_000_000, 100)  // ahead of 101: depletes only (ahead was already 0)
        #expect(h.fills.count == 2)
    }
}
