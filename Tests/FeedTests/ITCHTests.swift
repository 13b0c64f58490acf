import Bench
import Book
import Feed
import Foundation
import TestSupport
import Testing
import TickBusCore

/// An independent, deliberately plain ITCH reader for the tests: Data, dictionaries, no Book.
struct ReferenceITCH {
    struct Order {
        var locate: Int
        var side: UInt8
        var price: Int
        var shares: Int
    }
    var counts: [Character: Int] = [:]
    var unknown = 0
    var orders: [UInt64: Order] = [:]
    var symbols: [Int: String] = [:]
    var messages: [(offset: Int, type: UInt8)] = []

    init(_ data: [UInt8]) {
        func be(_ at: Int, _ n: Int) -> Int { (0..<n).reduce(0) { $0 << 8 | Int(data[at + $1]) } }
        func sym(_ at: Int) -> String {
            String(decoding: data[at..<at + 8], as: UTF8.self).trimmingCharacters(in: .whitespaces)
        }
        var i = 0
        while i + 2 <= data.count {
            let len = be(i, 2)
            let p = i + 2
            guard p + len <= data.count else { break }
            let t = data[p]
            messages.append((i, t))
            counts[Character(Unicode.Scalar(t)), default: 0] += 1
            let locate = be(p + 1, 2)
            switch Character(Unicode.Scalar(t)) {
            case "R": symbols[locate] = sym(p + 11)
            case "A", "F":
                if symbols[locate] == nil { symbols[locate] = sym(p + 24) }
                orders[UInt64(be(p + 11, 8))] = Order(
                    locate: locate,
                    side: data[p + 19],
                    price: be(p + 32, 4),
                    shares: be(p + 20, 4)
                )
            case "P": if symbols[locate] == nil { symbols[locate] = sym(p + 24) }
            case "Q": if symbols[locate] == nil { symbols[locate] = sym(p + 19) }
            case "E", "C", "X":
                let ref = UInt64(be(p + 11, 8))
                if var o = orders[ref] {
                    o.shares -= min(o.shares, be(p + 19, 4))
                    orders[ref] = o.shares == 0 ? nil : o
                } else {
                    unknown += 1
                }
            case "D":
                if orders.removeValue(forKey: UInt64(be(p + 11, 8))) == nil { unknown += 1 }
            case "U":
                if let o = orders.removeValue(forKey: UInt64(be(p + 11, 8))) {
                    orders[UInt64(be(p + 19, 8))] = Order(
                        locate: o.locate,
                        side: o.side,
                        price: be(p + 31, 4),
                        shares: be(p + 27, 4)
                    )
                } else {
                    unknown += 1
                }
            default: break
            }
            i = p + len
        }
    }

    /// The `book itch --dump final` CSV.
    var dump: String {
        var levels: [String: [UInt8: [Int: (Int, Int)]]] = [:]
        for o in orders.values {
            let s = symbols[o.locate] ?? "#\(o.locate)"
            let cur = levels[s, default: [:]][o.side, default: [:]][o.price] ?? (0, 0)
            levels[s, default: [:]][o.side, default: [:]][o.price] = (cur.0 + o.shares, cur.1 + 1)
        }
        var out = "stock,side,price,shares,orders\n"
        for s in levels.keys.sorted() {
            for side in [UInt8(ascii: "B"), UInt8(ascii: "S")] {
                guard let byPrice = levels[s]?[side] else { continue }
                let prices = side == UInt8(ascii: "B") ? byPrice.keys.sorted(by: >) : byPrice.keys.sorted()
                for p in prices {
                    out += "\(s),\(Character(Unicode.Scalar(side))),\(p),\(byPrice[p]!.0),\(byPrice[p]!.1)\n"
                }
            }
        }
        return out
    }
}

func countsOutput(_ stdout: String) -> [String: String] {
    var kv: [String: String] = [:]
    for line in stdout.split(separator: "\n") {
        let p = line.split(separator: "=", maxSplits: 1)
        if p.count == 2 { kv[String(p[0])] = String(p[1]) }
    }
    return kv
}

@Suite("ITCH 5.0")
struct ITCHTests {
    static let snippet = "itch50/12302019_SNIPPET.NASDAQ_ITCH50"
    static let sample = "itch50/sample.itch"

    @Test func snippetCountsByType() throws {
        let path = try TickBusTest.sharedData(Self.snippet)
        let r = try TickBusTest.run(["book", "itch", "--file", path, "--counts"])
        #expect(r.status == 0)
        let kv = countsOutput(r.stdout)
        // PROVENANCE.md: A 367, F 193, U 225, D 167, E 28, X 6, C 1, P 4, Q 4, I 4, S 1.
        let expected = [
            "A": 367, "F": 193, "U": 225, "D": 167, "E": 28, "X": 6, "C": 1, "P": 4, "Q": 4, "I": 4, "S": 1,
        ]
        for t in ITCH.types.map({ String(Character(Unicode.Scalar($0))) }) {
            #expect(kv[t] == String(expected[t] ?? 0), "type \(t)")
        }
        #expect(kv["messages"] == "1000")
        #expect(kv["malformed"] == "0")
        let reference = ReferenceITCH(Array(try Data(contentsOf: URL(fileURLWithPath: path))))
        // 394 references to orders added before 09:30 (137 D, 28 E, 222 U, 1 C, 6 X) plus later
        // references to the new ids of those unknown replaces.
        #expect(reference.unknown >= 394)
        #expect(kv["unknown_references"] == String(reference.unknown))
    }

    @Test func sampleCountsAndDirectory() throws {
        let path = try TickBusTest.sharedData(Self.sample)
        let r = try TickBusTest.run(["book", "itch", "--file", path, "--counts"])
        let kv = countsOutput(r.stdout)
        #expect(kv["S"] == "1" && kv["R"] == "993" && kv["H"] == "3" && kv["Y"] == "3")
        #expect(kv["messages"] == "1000" && kv["malformed"] == "0" && kv["unknown_references"] == "0")
        // Directory messages carry the symbol per locate (1 = A, 2 = AA, 13 = AAPL, 393 = AMZN).
        var source = try ITCHSource(path: path)
        var directory: [UInt32: String] = [:]
        let slot = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 64)
        defer { slot.deallocate() }
        var first: Int64 = -1
        var last: Int64 = 0
        while let m = source.next() {
            if first < 0 { first = m.exchangeTime }
            last = m.exchangeTime
            guard m.kind == .directory else { continue }
            m.store(to: slot)
            directory[m.instrument] = MarketMessageView(UnsafeRawPointer(slot)).symbol
        }
        #expect(directory.count == 993)
        #expect(directory[1] == "A" && directory[2] == "AA" && directory[13] == "AAPL" && directory[393] == "AMZN")
        // 03:04:32.057543747 → 03:09:14.360581176 (6-byte ns since midnight; the last message is an R).
        #expect(first == 11_072_057_543_747 && last == 11_354_360_581_176)
    }

    /// The final books equal an independent dictionary-based reconstruction of the same file.
    @Test func finalBooksHoldTheAddedOrders() throws {
        let path = try TickBusTest.sharedData(Self.snippet)
        let r = try TickBusTest.run(["book", "itch", "--file", path, "--dump", "final"])
        #expect(r.status == 0)
        let reference = ReferenceITCH(Array(try Data(contentsOf: URL(fileURLWithPath: path))))
        #expect(reference.orders.count > 300)
        #expect(r.stdout == reference.dump)
        // gzip input gives the same books.
        let dir = TickBusTest.temporaryDirectory("itch-gz")
        defer { try? FileManager.default.removeItem(at: dir) }
        let gz = dir.appendingPathComponent("snippet.itch.gz")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [
            "python3", "-c",
            "import gzip,sys; open(sys.argv[2],'wb').write(gzip.compress(open(sys.argv[1],'rb').read()))", path,
            gz.path,
        ]
        try p.run()
        p.waitUntilExit()
        let z = try TickBusTest.run(["book", "itch", "--file", gz.path])
        #expect(z.stdout == reference.dump)
    }

    /// A reader applying the ring messages holds the same books as the source.
    @Test func ringMessagesRebuildTheBooks() throws {
        let path = try TickBusTest.sharedData(Self.snippet)
        var source = try ITCHSource(path: path)
        let reader = OrderBooks()
        let slot = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 64)
        defer { slot.deallocate() }
        var tops = 0
        var topDifferences = 0
        while let m = source.next() {
            m.store(to: slot)
            let v = MarketMessageView(UnsafeRawPointer(slot))
            if m.kind == .topOfBook {
                tops += 1
                let t = reader.top(instrument: m.instrument)
                if t.bid.price != v.bidPrice || t.bid.shares != Int64(v.bidSize) || t.ask.price != v.askPrice
                    || t.ask.shares != Int64(v.askSize)
                    || t.bid.orders != Int32(v.bidOrders) || t.ask.orders != Int32(v.askOrders)
                {
                    topDifferences += 1
                }
            } else {
                _ = reader.apply(v)
            }
        }
        #expect(tops > 100)
        #expect(topDifferences == 0)
        #expect(reader.activeInstruments() == source.books.activeInstruments())
        for inst in source.books.activeInstruments() {
            for side in [Side.buy, .sell] {
                let n = source.books.levelCount(instrument: inst, side: side)
                #expect(reader.levelCount(instrument: inst, side: side) == n)
                for d in 0..<n {
                    #expect(
                        reader.level(instrument: inst, side: side, depth: d)
                            == source.books.level(instrument: inst, side: side, depth: d)
                    )
                }
            }
        }
        #expect(reader.orderCount == source.books.orderCount)
    }

    /// Each malformed kind injected into the real file is counted with its offset; every other message still arrives.
    @Test func malformedKindsAreCountedAndSkipped() throws {
        let path = try TickBusTest.sharedData(Self.snippet)
        let original = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        let reference = ReferenceITCH(original)
        // Splice bad messages between real ones, after messages 100, 200, 300, 400; a truncated tail last.
        func message(_ body: [UInt8]) -> [UInt8] { [UInt8(body.count >> 8), UInt8(body.count & 0xFF)] + body }
        func addBody(side: UInt8, price: UInt32) -> [UInt8] {
            var b: [UInt8] = [UInt8(ascii: "A"), 0, 7, 0, 0, 0, 0, 0, 0, 0, 1]
            b += [0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0x01]  // reference
            b.append(side)
            b += [0, 0, 0, 100]
            b += Array("ZZZZ    ".utf8)
            b += [UInt8(price >> 24), UInt8((price >> 16) & 0xFF), UInt8((price >> 8) & 0xFF), UInt8(price & 0xFF)]
            return b
        }
        let injections: [(after: Int, bytes: [UInt8], kind: String)] = [
            (100, message(Array(addBody(side: UInt8(ascii: "B"), price: 100).prefix(30))), ITCH.Malformed.length),
            (200, message([UInt8(ascii: "z"), 0, 1, 0, 0, 0, 0, 0, 0, 0, 1]), ITCH.Malformed.unknownType),
            (300, message(addBody(side: UInt8(ascii: "B"), price: 0xFFFF_FFF0)), ITCH.Malformed.price),
            (400, message(addBody(side: UInt8(ascii: "x"), price: 1_000_000)), ITCH.Malformed.side),
        ]
        var bytes: [UInt8] = []
        var expectedOffsets: [String] = []
        var next = 0
        for (k, m) in reference.messages.enumerated() {
            let end = k + 1 < reference.messages.count ? reference.messages[k + 1].offset : original.count
            bytes += original[m.offset..<end]
            if next < injections.count, injections[next].after == k + 1 {
                expectedOffsets.append("offset \(bytes.count): \(injections[next].kind)")
                bytes += injections[next].bytes
                next += 1
            }
        }
        expectedOffsets.append("offset \(bytes.count): \(ITCH.Malformed.truncated)")
        bytes += [0, 36, UInt8(ascii: "A"), 0, 1]  // says 36 bytes, only 3 follow
        let dir = TickBusTest.temporaryDirectory("itch-bad")
        defer { try? FileManager.default.removeItem(at: dir) }
        let bad = dir.appendingPathComponent("bad.itch")
        try Data(bytes).write(to: bad)

        var source = try ITCHSource(path: bad.path)
        source.drain()
        for kind in [
            ITCH.Malformed.length, ITCH.Malformed.unknownType, ITCH.Malformed.price, ITCH.Malformed.side,
            ITCH.Malformed.truncated,
        ] {
            #expect(source.report.malformed[kind] == 1, "\(kind)")
        }
        #expect(source.report.malformedSamples == expectedOffsets)
        #expect(source.report.messagesIn == 1000)
        for (t, n) in reference.counts { #expect(source.counts[Int(t.asciiValue!)] == UInt64(n), "type \(t)") }
        #expect(source.unknownReferences == UInt64(reference.unknown))

        // The command reports them too, and still prints the same books as the clean file.
        let r = try TickBusTest.run(["book", "itch", "--file", bad.path, "--counts"])
        let kv = countsOutput(r.stdout)
        #expect(kv["malformed"] == "5" && kv["messages"] == "1000")
        #expect(r.stderr.contains(expectedOffsets[0]))
        let d = try TickBusTest.run(["book", "itch", "--file", bad.path])
        #expect(d.stdout == reference.dump)
    }

    /// `synth itch` writes a valid ITCH file that carries the synthetic flow message for message.
    @Test func synthesisedFileParsesBackToTheSyntheticFlow() throws {
        let dir = TickBusTest.temporaryDirectory("synth")
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("s.itch").path
        let r = try TickBusTest.run(["synth", "itch", "--seed", "7", "--messages", "20000", "--out", out])
        #expect(r.status == 0)
        let data = Array(try Data(contentsOf: URL(fileURLWithPath: out)))
        let reference = ReferenceITCH(data)
        #expect(reference.messages.count == 20_000)
        #expect(reference.unknown == 0)
        var parsed = try ITCHSource(path: out)
        var synthetic = SyntheticSource(seed: 7)
        var compared = 0
        var differences = 0
        while let m = parsed.next() {
            if m.kind == .topOfBook || (m.kind == .status && m.instrument == 0) { continue }
            guard let s = synthetic.next() else { break }
            if m.kind != s.kind || m.instrument != s.instrument || m.exchangeTime != s.exchangeTime {
                differences += 1
                continue
            }
            if m.kind == .directory || m.kind == .status {
                compared += 1
                continue
            }
            if m.payload.0 != s.payload.0 || m.payload.1 != s.payload.1 || m.payload.2 != s.payload.2
                || m.payload.3 != s.payload.3
            {
                differences += 1
            }
            compared += 1
        }
        #expect(differences == 0)
        #expect(compared == 19_998)
        #expect(parsed.report.malformedTotal == 0 && parsed.unknownReferences == 0)
    }

    /// The snippet with a zero-length frame (`00 00`) after each message number in `after`, and the
    /// expected malformed samples.
    static func withZeroLengthFrames(
        after: Set<Int>
    ) throws -> (bytes: [UInt8], samples: [String], reference: ReferenceITCH) {
        let path = try TickBusTest.sharedData(Self.snippet)
        let original = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        let reference = ReferenceITCH(original)
        var bytes: [UInt8] = []
        var samples: [String] = []
        for (k, m) in reference.messages.enumerated() {
            let end = k + 1 < reference.messages.count ? reference.messages[k + 1].offset : original.count
            bytes += original[m.offset..<end]
            if after.contains(k + 1) {
                samples.append("offset \(bytes.count): \(ITCH.Malformed.zeroLength)")
                bytes += [0, 0]
            }
        }
        return (bytes, samples, reference)
    }

    /// A zero-length frame is malformed, not the end: counted, its two bytes skipped, and every later
    /// message read (before, it was reported as a truncated tail and the rest of the file dropped).
    @Test func zeroLengthFrameIsCountedAndSkipped() throws {
        let (bytes, samples, reference) = try Self.withZeroLengthFrames(after: [10, 500, 1000])
        let dir = TickBusTest.temporaryDirectory("itch-zero")
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("zero.itch")
        try Data(bytes).write(to: file)

        var source = try ITCHSource(path: file.path)
        source.drain()
        #expect(source.report.messagesIn == 1000)
        #expect(source.report.malformed == [ITCH.Malformed.zeroLength: 3])
        #expect(source.report.malformedSamples == samples)
        #expect(!source.report.stoppedEarly)
        for (t, n) in reference.counts { #expect(source.counts[Int(t.asciiValue!)] == UInt64(n), "type \(t)") }

        // The parse-only loop of `bench feed` walks past them too.
        let walked = bytes.withUnsafeBytes { FeedBench.parseOnly($0.baseAddress!, from: 0, to: $0.count, limit: .max) }
        #expect(walked.messages == 1000)
        #expect(walked.offset == bytes.count)

        let r = try TickBusTest.run(["book", "itch", "--file", file.path, "--counts"])
        #expect(r.status == 0, "stderr: \(r.stderr.suffix(300))")
        let kv = countsOutput(r.stdout)
        #expect(kv["messages"] == "1000" && kv["malformed"] == "3" && kv["malformed.zero_length"] == "3")
        let d = try TickBusTest.run(["book", "itch", "--file", file.path])
        #expect(d.status == 0)
        #expect(d.stdout == reference.dump)
    }

    /// Only a length running past the end is a truncated tail (a stray last byte included); the
    /// source says it stopped early and `book itch` exits 1 after printing what it read.
    @Test func truncatedTailStopsEarlyAndFails() throws {
        let (clean, _, reference) = try Self.withZeroLengthFrames(after: [])
        let dir = TickBusTest.temporaryDirectory("itch-tail")
        defer { try? FileManager.default.removeItem(at: dir) }
        for (name, tail) in [
            ("cut", [0, 36, UInt8(ascii: "A"), 0, 1] as [UInt8]), ("byte", [0]), ("zero-then-cut", [0, 0, 0, 9]),
        ] {
            let file = dir.appendingPathComponent("\(name).itch")
            try Data(clean + tail).write(to: file)
            var source = try ITCHSource(path: file.path)
            source.drain()
            #expect(source.report.messagesIn == 1000, "\(name)")
            #expect(source.report.stoppedEarly, "\(name)")
            #expect(source.report.malformed[ITCH.Malformed.truncated] == 1, "\(name)")
            let r = try TickBusTest.run(["book", "itch", "--file", file.path, "--counts"])
            #expect(r.status == 1, "\(name): \(r.stderr.suffix(300))")
            #expect(countsOutput(r.stdout)["messages"] == "1000")
            #expect(r.stderr.contains("stopped early"))
            let d = try TickBusTest.run(["book", "itch", "--file", file.path])
            #expect(d.status == 1)
            #expect(d.stdout == reference.dump)
        }
    }

    /// `feed --source itch:` publishes every message past a zero-length frame and exits 0; one that
    /// stopped on a truncated tail exits 1 (it used to exit 0 having dropped the rest).
    @Test func feedExitStatusFollowsTheTail() throws {
        let (bytes, _, _) = try Self.withZeroLengthFrames(after: [300])
        let dir = TickBusTest.temporaryDirectory("itch-feed")
        defer { try? FileManager.default.removeItem(at: dir) }
        let good = dir.appendingPathComponent("zero.itch")
        let cut = dir.appendingPathComponent("cut.itch")
        try Data(bytes).write(to: good)
        try Data(bytes + [0, 36, UInt8(ascii: "A")]).write(to: cut)
        var source = try ITCHSource(path: good.path)
        let expected = expectedLines(&source).count  // every message, the tops and end-of-session

        for (file, status) in [(good, Int32(0)), (cut, Int32(1))] {
            let bus = TickBusTest.uniqueBus("itchtail")
            defer { TickBusTest.removeBus(bus) }
            let f = try TickBusTest.run(["feed", "--bus", bus, "--source", "itch:\(file.path)"], timeout: 60)
            #expect(!f.timedOut)
            #expect(f.status == status, "\(file.lastPathComponent): \(f.stderr.suffix(300))")
            let kv = keyValues(f.stdout.split(separator: "\n").first.map(String.init) ?? "")
            #expect(kv["published"] == "\(expected)", "\(file.lastPathComponent): \(f.stdout)")
            #expect(f.stdout.contains("zero length=1"))
        }
        // The offline table of `features` reads the same source: a truncated tail fails it too.
        let definition = TickBusTest.repositoryRoot.appendingPathComponent("Recordings/synthetic-5/features.toml").path
        for (file, status) in [(good, Int32(0)), (cut, Int32(1))] {
            let t = try TickBusTest.run(
                ["features", "--source", "itch:\(file.path)", "--features", definition, "--out", "-"],
                timeout: 60
            )
            #expect(!t.timedOut)
            #expect(t.status == status, "features \(file.lastPathComponent): \(t.stderr.suffix(300))")
            #expect(t.stdout.hasPrefix("sequence,exchange_time,instrument"), "\(t.stdout.prefix(200))")
        }
    }
}
