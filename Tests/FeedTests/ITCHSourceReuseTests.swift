import Book
import Foundation
import TestSupport
import Testing

@testable import Feed

/// The fuzz harnesses (Fuzz/Targets/itch.swift, moldudp64.swift) run thousands of inputs a second
/// through one set of ITCH tables: a source reusing them must start as clean as a new one.
@Suite("ITCH source reusing its tables")
struct ITCHSourceReuseTests {
    static func run(_ bytes: [UInt8], tables: _ITCHTables?) -> (counts: [UInt64], symbols: [UInt64], messages: Int) {
        bytes.withUnsafeBytes { b in
            let books = OrderBooks(maxInstruments: 256, orderCapacity: 4)
            var s =
                tables.map { ITCHSource(unowned: b.baseAddress!, count: b.count, books: books, reusing: $0) }
                ?? ITCHSource(unowned: b.baseAddress!, count: b.count, books: books)
            var n = 0
            while s.next() != nil { n += 1 }
            return (s.counts, s.symbols, n)
        }
    }

    @Test("a second input through the same tables reads as through new ones")
    func reuse() throws {
        let seed = try [UInt8](
            Data(contentsOf: TickBusTest.repositoryRoot.appendingPathComponent("Fuzz/seeds/itch/synthetic-300.itch"))
        )
        let tables = _ITCHTables()
        let first = Self.run(seed, tables: tables)
        #expect(first.messages > 0 && first.counts.reduce(0, +) > 0 && first.symbols.contains { $0 != 0 })
        // Half the file: counts and symbols of the first run must not carry over.
        let half = Array(seed.prefix(seed.count / 2))
        let reused = Self.run(half, tables: tables)
        let fresh = Self.run(half, tables: nil)
        #expect(reused.counts == fresh.counts)
        #expect(reused.symbols == fresh.symbols)
        #expect(reused.messages == fresh.messages)
        #expect(reused.counts != first.counts)
    }
}
