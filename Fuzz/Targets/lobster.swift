// fuzz-modules: TickBusCore Book Feed
// A LOBSTER pair (message file, order-book file) through `LOBSTERSource`, as `tickbus book lobster`
// and `--source lobster:` read it: levels from the order-book file's first row, every row
// stepped, the book written back as order-book rows.
//
// Input: the message file, the separator (Docs/FUZZING.md), the order-book file. Without a
// separator the whole input is the message file and the order-book file repeats a level-1 row.
import Book
import Feed
import TickBusCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzLOBSTER(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    FuzzInput.reset()
    let parts = FuzzInput.parts(FuzzInput.bytes(data, size), limit: 2)
    let book: [UInt8] = parts.count > 1 ? parts[1] : Array("5800000,100,5790000,100\n".utf8)
    let messages = FuzzInput.write("message.csv", parts[0])
    let orderbook = FuzzInput.write("orderbook.csv", book)
    let levels: Int
    do { levels = try LOBSTERSource.levels(orderbook: orderbook) } catch { return 0 }
    // The CLI refuses --levels that disagree with the file; the source refuses more than 1000.
    var source: LOBSTERSource
    do { source = try LOBSTERSource(messages: messages, orderbook: orderbook, levels: levels) } catch { return 0 }
    var out: [UInt8] = []
    var steps = 0
    while source.step() {
        steps += 1
        if steps <= 64 {
            source.appendRow(to: &out)
        }
        for m in source.pending { out.append(UInt8(truncatingIfNeeded: m.payload.1 &+ UInt64(m.kind.rawValue))) }
        if out.count > 1 << 16 { out.removeAll(keepingCapacity: true) }
    }
    let sink = out.count &+ Int(source.rows) &+ Int(source.mismatches) &+ Int(source.report.malformedTotal)
    return sink == Int.min ? 1 : 0
}
