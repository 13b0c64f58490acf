import ArgumentParser
import Book
import CFeed
import CMallocCounter
import CTickBus
import Feed
import Foundation
import TickBusCore

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

func printError(_ s: String) { FileHandle.standardError.write((s + "\n").data(using: .utf8)!) }

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
        do { source = try ITCHSource(path: file) } catch { throw ValidationError(error.description) }
        source.drain()
        var out = _Out()
        if counts {
            for t in ITCH.types { out.line("\(Character(Unicode.Scalar(t)))=\(source.counts[Int(t)])") }
            out.line("messages=\(source.report.messagesIn)")
            out.line("unknown_references=\(source.unknownReferences)")
            out.line("malformed=\(source.report.malformedTotal)")
            for (k, v) in source.report.malformed.sorted(by: { $0.key < $1.key }) { out.line("malformed.\(k.replacingOccurrences(of: " ", with: "_"))=\(v)") }
            out.flush()
            for s in source.report.malformedSamples { printError("malformed \(s)") }
            return
        }
        out.line("stock,side,price,shares,orders")
        let books = source.books
        var rows: [(symbol: String, instrument: UInt32)] = []
        for inst in books.activeInstruments() { rows.append((source.symbol(inst), inst)) }
        rows.sort { (a, b) -> Bool in a.symbol != b.symbol ? a.symbol < b.symbol : a.instrument < b.instrument }
        for (symbol, inst) in rows {
            for side in [Side.buy, Side.sell] {
                let tag = side == .buy ? "B" : "S"
                for d in 0..<books.levelCount(instrument: inst, side: side) {
                    let lv = books.level(instrument: inst, side: side, depth: d)!
                    out.line("\(symbol),\(tag),\(lv.price),\(lv.shares),\(lv.orders)")
                }
            }
        }
        out.flush()
        for s in source.report.malformedSamples { printError("malformed \(s)") }
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
        do {
            let columns = try LOBSTERSource.levels(orderbook: orderbook)
            guard columns == levels else {
                throw ValidationError("--levels \(levels) but \(orderbook) has \(columns) levels (\(4 * columns) columns)")
            }
            source = try LOBSTERSource(messages: messages, orderbook: orderbook, levels: levels)
        } catch let e as FeedError { throw ValidationError(e.description) }
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

struct SynthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "synth", abstract: "Write synthetic data files.",
                                                    subcommands: [SynthITCHCommand.self])
}

struct SynthITCHCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "itch", abstract: "Write a valid ITCH 5.0 file (BinaryFILE framing) from the seeded synthetic flow.")
    @Option(help: "Seed of the synthetic flow.") var seed: UInt64 = 42
    @Option(help: "Number of ITCH messages to write.") var messages: UInt64
    @Option(help: "Output file.") var out: String

    func run() throws {
        do {
            let written = try ITCHWriter.writeSynthetic(seed: seed, messages: messages, path: out)
            print("wrote \(written) messages to \(out)")
        } catch { throw ValidationError(error.description) }
    }
}

struct MoldUDP64Command: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "moldudp64", abstract: "MoldUDP64 publisher with a retransmission server.", subcommands: [MoldUDP64ServeCommand.self])
}

struct MoldUDP64ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Publish an ITCH file as MoldUDP64 packets to ADDR:PORT and answer retransmission requests on PORT+1.")
    @Option(help: "ITCH 5.0 file (BinaryFILE framing, plain or gzip).") var file: String
    @Option(help: "Destination ADDR:PORT (multicast group or unicast, e.g. 127.0.0.1:31000).") var group: String
    @Option(help: "Messages per second (default: as fast as possible).") var rate: Double = 0
    @Option(help: "Probability of dropping each packet on purpose (0...1).") var drop: Double = 0
    @Option(help: "Seed of the drop decisions.") var seed: UInt64 = 1
    @Option(help: "Request server port (default: the group port + 1).") var requestPort: UInt16?
    @Option(help: "After the file, keep sending end-of-session and answering requests until none came for this many seconds.")
    var linger: Double = 2
    @Option(help: "MoldUDP64 session name (10 characters).") var session: String = "TICKBUS001"

    func run() throws {
        tb_install_stop_signals()
        guard drop >= 0 && drop < 1 else { throw ValidationError("--drop must be in [0, 1), got \(drop)") }
        var server: MoldUDP64Server
        do { server = try MoldUDP64Server(file: file, group: group, requestPort: requestPort, session: session) } catch {
            throw ValidationError(error.description)
        }
        do { try server.run(rate: rate, drop: drop, seed: seed, linger: linger, log: printError) } catch { throw ValidationError(error.description) }
        let s = server.stats
        print("messages=\(s.messages) packets=\(s.packets) dropped=\(s.dropped) requests=\(s.requests) retransmitted=\(s.retransmitted)")
    }
}
