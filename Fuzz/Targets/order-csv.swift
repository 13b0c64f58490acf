// fuzz-modules: TickBusCore Book Execution
// An order file through `OrderFile.parse` (what `tickbus sim --orders` reads), then its actions
// through an `ExecutionSimulator` over a small two-sided book, reporting into `ExecutionCSVSink`.
// Properties: every data line is either kept or refused (exactly once, by its number), the actions
// are sorted by time, the kept actions written back as CSV parse to the same actions, and the
// simulator takes any accepted file without trapping.
import Book
import Execution
import TickBusCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOrderCSV(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    let file: OrderFile
    do { file = try OrderFile.parse(bytes) } catch {
        precondition(error.line == 1, "only the header refuses the whole file")
        _ = error.description
        return 0
    }
    // Data lines that are not blank (spaces and tabs only, a trailing CR dropped), by number.
    var lines: [Int] = []
    var number = 0
    var start = 0
    for i in 0...size where i == size || bytes[i] == 0x0A {
        if i == size && start == size { break }
        number += 1
        var end = i
        if end > start && bytes[end - 1] == 0x0D { end -= 1 }
        let blank = (start..<end).allSatisfy { bytes[$0] == 0x20 || bytes[$0] == 0x09 }
        if number > 1 && !blank { lines.append(number) }
        start = i + 1
    }
    let kept = Set(file.actionLines)
    let refused = file.refusals.map(\.line)
    precondition(kept.count == file.actions.count, "a line kept twice")
    precondition(Set(refused).count == refused.count, "a line refused twice")
    precondition(kept.isDisjoint(with: refused), "a line both kept and refused")
    precondition(kept.union(refused) == Set(lines), "kept and refused lines are not the data lines")
    precondition(refused == refused.sorted())
    for r in file.refusals { _ = r.description }
    for i in file.actions.indices.dropFirst() {
        let (a, b) = (file.actions[i - 1], file.actions[i])
        precondition(
            a.sentTime < b.sentTime || (a.sentTime == b.sentTime && file.actionLines[i - 1] < file.actionLines[i]),
            "not stable-sorted by time"
        )
    }
    // Round trip: the kept actions as a file of their own parse to themselves.
    var text = OrderFile.header + "\n"
    for a in file.actions {
        if a.kind == .cancel {
            text += "\(a.orderId),\(a.sentTime),cancel,,,,,\n"
        } else {
            text += "\(a.orderId),\(a.sentTime),new,\(a.instrument),\(a.side == .buy ? "B" : "S"),\(a.price),"
            text += "\(a.quantity),\(a.tif)\n"
        }
    }
    guard let again = try? OrderFile.parse(Array(text.utf8)) else { preconditionFailure("round trip refused") }
    precondition(again.refusals.isEmpty && again.actions == file.actions, "round trip changed the actions")

    // The simulator over a book on instruments 1 and 2 (others are unknown: rejected at arrival).
    let books = OrderBooks(maxInstruments: 4, orderCapacity: 64)
    let sim = ExecutionSimulator(
        latency: ExecutionLatency(orderNs: Int64(size % 7) * 1000, responseNs: 0),
        fees: ExecutionFees(makerPerShare: -0.002, takerPerShare: 0.003, perOrder: 0.01),
        maxOrders: 16,
        maxInstruments: 4,
        watchAll: size % 2 == 0
    )
    var sink = ExecutionCSVSink()
    let slot = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 64)
    defer { slot.deallocate() }
    var sent = 0
    var time: Int64 = 0
    for i in 0..<96 {
        time += Int64(1 + (i * 7919) % 50_000)
        while sent < file.actions.count && file.actions[sent].sentTime <= time {
            sim.send(file.actions[sent])
            sent += 1
        }
        let inst = UInt32(1 + i % 2)
        let side: Side = i % 3 == 0 ? .sell : .buy
        let price: Int64 = side == .buy ? 10_000 - Int64(i % 5) * 100 : 10_100 + Int64(i % 7) * 100
        let id = UInt64(1 + i / 2)
        let m: MarketMessage
        switch i % 5 {
        case 0, 1:
            m = .orderEvent(
                .add,
                instrument: inst,
                exchangeTime: time,
                orderId: UInt64(i + 1),
                price: price,
                quantity: UInt32(100 + i),
                side: side
            )
        case 2:
            m = .orderEvent(
                .execute,
                instrument: inst,
                exchangeTime: time,
                orderId: id,
                price: price,
                quantity: 30,
                side: side
            )
        case 3:
            m = .orderEvent(
                .cancel,
                instrument: inst,
                exchangeTime: time,
                orderId: id,
                price: price,
                quantity: 20,
                side: side
            )
        default:
            m = .orderEvent(
                .delete,
                instrument: inst,
                exchangeTime: time,
                orderId: id,
                price: price,
                quantity: 0,
                side: side
            )
        }
        m.store(to: slot)
        slot.storeBytes(of: UInt64(i), as: UInt64.self)
        let v = MarketMessageView(UnsafeRawPointer(slot))
        sim.market(v, books: books, sink: &sink)
        _ = books.apply(v)
    }
    while sent < file.actions.count {
        sim.send(file.actions[sent])
        sent += 1
    }
    sim.finish(books: books, sink: &sink)
    let news = file.actions.filter { $0.kind == .new }.count
    precondition(sink.count(.ack) + sink.count(.reject) == news, "every new order acked or rejected once")
    precondition(sim.restingCount <= 16)
    return 0
}
