// fuzz-modules: TickBusCore Book Feed
// ITCH 5.0 BinaryFILE frames through `ITCHSource` and its order books, as `tickbus book itch`
// reads them: every frame parsed, the books queried level by level, the symbols printed.
import Book
import TickBusCore

@testable import Feed

/// The source's symbol and count tables (512 KiB), allocated once and cleared per input.
nonisolated(unsafe) let tables = _ITCHTables()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzITCH(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    // Few instruments and a tiny order table: the table must grow, and locates past the books'
    // range take the rejection path (a full 65,536-instrument book costs milliseconds per input).
    let books = OrderBooks(maxInstruments: 256, orderCapacity: 4)
    var source: ITCHSource
    if size >= 2 && data[0] == 0x1F && data[1] == 0x8B {
        // gzip input: the file path (`_InputFile` inflates it), as the CLI opens it.
        FuzzInput.reset()
        let path = FuzzInput.write("input.itch.gz", FuzzInput.bytes(data, size))
        do { source = try ITCHSource(path: path, books: books) } catch { return 0 }
    } else {
        // The exact bytes (no page padding), so AddressSanitizer sees any read past the end.
        source = ITCHSource(unowned: UnsafeRawPointer(data), count: size, books: books, reusing: tables)
    }
    var published = 0
    while let m = source.next() {
        published &+= Int(m.instrument & 1)
    }
    var sink = published
    for inst in books.activeInstruments() {
        sink &+= source.symbol(inst).utf8.count
        for side in [Side.buy, Side.sell] {
            for d in 0..<books.levelCount(instrument: inst, side: side) {
                let lv = books.level(instrument: inst, side: side, depth: d)!
                sink &+= Int(truncatingIfNeeded: lv.price &+ lv.shares)
            }
        }
        _ = books.top(instrument: inst)
    }
    sink &+= Int(source.report.malformedTotal) &+ source.report.malformedSamples.count &+ Int(source.unknownReferences)
    return sink == Int.min ? 1 : 0
}
