import ArgumentParser
import CTickBus
import Book
import Feed
import Foundation
import TickBusCore
#if canImport(Glibc)
import Glibc
#endif

/// `tickbus book itch|lobster`: reconstruct order books from a file and print them.
struct BookCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "book", abstract: "Rebuild order books from ITCH 5.0 or LOBSTER files and print them.",
        subcommands: [BookITCHCommand.self, BookLOBSTERCommand.self])
}

/// Writes bytes to stdout in large chunks.
struct _Out {
    var buffer: [UInt8] = []
    init() { buffer.reserveCapacity(1 << 20) }
    mutating func flushIfFull() { if buffer.count >= 1 << 20 { flush() } }
    mutating func flush() {
        buffer.withUnsafeBytes { b in
            var off = 0
            while off < b.count {
                let n = write(1, b.baseAddress! + off, b.count - off)
                if n <= 0 { break }
                off += n
            }
        }
        buffer.removeAll(keepingCapacity: true)
    }
    mutating func line(_ s: String) { buffer.append(contentsOf: s.utf8); buffer.append(0x0A); flushIfFull() }
}

struct BookITCHCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "itch",
        abstract: "Read an ITCH 5.0 file (BinaryFILE framing, plain or gzip) and print the final books or the counts.")
    @Option(help: "ITCH 5.0 file: 2-byte length-prefixed messages, optionally gzip-compressed.") var file: String
    @Option(help: "What to dump: final (every non-empty level after the whole file).") var dump: String = "final"
    @Flag(help: "Print the count of each message type, unknown references and malformed messages instead.") var counts = false

    func run() throws {
        guard dump == "final" else { throw ValidationError("--dump: only 'final' is supported, got '\(dump)'") }
        var source: ITCHSource
        do { source = try ITCHSource(path: file) } catch { throw RuntimeFailure(error) }
        source.drain()
        var out = _Out()
        if counts { source.countLines { out.line($0) } } else { source.finalBookLines { out.line($0) } }
        out.flush()
        for s in source.report.malformedSamples { printError("malformed \(s)") }
        if source.report.stoppedEarly {  // the file was not read to its end
            printError("book itch: stopped early at a truncated tail of \(file)")
            throw ExitCode(1)
        }
    }
}

struct BookLOBSTERCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lobster",
        abstract: "Rebuild a LOBSTER order book from its message file and print one order-book row per message.")
    @Option(help: "LOBSTER message file (Time,Type,OrderID,Size,Price,Direction).") var messages: String
    @Option(help: "LOBSTER order-book file of the same pair (seed and refills).") var orderbook: String
    @Option(help: "Levels N of the pair.") var levels: Int

    func run() throws {
        var source: LOBSTERSource
        let columns: Int
        do { columns = try LOBSTERSource.levels(orderbook: orderbook) } catch { throw RuntimeFailure(error) }
        guard columns == levels else {
            throw ValidationError("--levels \(levels) but \(orderbook) has \(columns) levels (\(4 * columns) columns)")
        }
        do { source = try LOBSTERSource(messages: messages, orderbook: orderbook, levels: levels) } catch { throw RuntimeFailure(error) }
        var out = _Out()
        while source.step() {
            source.appendRow(to: &out.buffer)
            out.flushIfFull()
        }
        out.flush()
        for s in source.report.malformedSamples { printError("malformed \(s)") }
        if !source.mismatchSamples.isEmpty {
            printError("first mismatching rows: " + source.mismatchSamples.map(String.init).joined(separator: " "))
        }
        printError("rows=\(source.rows) refilled=\(source.refilled) mismatches=\(source.mismatches)")
        if source.mismatches > 0 { throw ExitCode(1) }
    }
}
