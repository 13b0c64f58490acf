import Foundation
import Journal
import TestSupport
import Testing
import TickBusCore

/// Property tests: a truncated or bit-flipped journal reads as an exact prefix of what was written,
/// up to the last block that passes every check, and says where and why it stopped.
@Suite struct CorruptionTests {
    struct Fixture {
        let dir: String
        let file: String
        let bytes: [UInt8]
        let entries: [Entry]
        /// For each entry, the file offset where its block ends.
        let ends: [UInt64]
        /// Start offsets of every block (records blocks, then the seal).
        let blockStarts: [UInt64]
    }

    static func fixture(_ name: String) throws -> Fixture {
        let dir = temporaryDirectory(name)
        let slots = syntheticSlots(seed: 11, count: 4000)
        _ = try writeJournal(dir, slots: slots, gaps: [500..<520, 3000..<3100], options: smallBlocks())
        let file = dir + "/" + JournalFormat.segmentFileName(ring: "market", segment: 0)
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: file)))
        let (entries, ends, error, _) = try readJournal(dir)
        #expect(error == nil)
        let index = try JournalIndexFile.load(directory: dir, ring: "market")
        let starts = index.map(\.offset) + [UInt64(bytes.count - JournalFormat.alignment)]
        // The index is only a shortcut: remove it so every read walks the blocks.
        try FileManager.default.removeItem(atPath: dir + "/" + JournalFormat.indexFileName(ring: "market"))
        return Fixture(dir: dir, file: file, bytes: bytes, entries: entries, ends: ends, blockStarts: starts)
    }

    func write(_ bytes: [UInt8], to file: String) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: file))
    }

    @Test func randomTruncationsReturnExactlyTheCompleteBlocks() throws {
        let f = try Self.fixture("trunc")
        defer { removeDirectory(f.dir) }
        var rng = SystemRandomNumberGenerator()
        var lengths = (0..<150).map { _ in Int.random(in: 0..<f.bytes.count, using: &rng) }
        lengths += [0, 1, 255, 4095, 4096, 4097, f.bytes.count - 1, f.bytes.count - JournalFormat.alignment]
        lengths += f.blockStarts.prefix(5).map { Int($0) + 63 }
        for n in lengths {
            try write(Array(f.bytes[..<n]), to: f.file)
            let got: [Entry]
            let error: JournalError?
            do {
                (got, _, error, _) = try readJournal(f.dir)
            } catch let e as JournalError {
                // The file header itself is cut: nothing to read, a typed error naming the file.
                #expect(n < JournalFormat.headerSize, "length \(n): \(e)")
                #expect(e.location?.file == f.file)
                continue
            }
            let complete = f.ends.filter { $0 <= UInt64(n) }.count
            #expect(got.count == complete, "length \(n)")
            let isPrefix = Array(f.entries.prefix(got.count)) == got
            #expect(isPrefix, "length \(n): not a prefix")
            #expect(error != nil, "length \(n): a truncated file must report why it stopped")
            if let loc = error?.location {
                #expect(loc.file == f.file)
                #expect(loc.offset <= UInt64(n), "length \(n): stop offset \(loc.offset) beyond the data")
            }
        }
    }

    @Test func randomBitFlipsNeverYieldAWrongRecord() throws {
        let f = try Self.fixture("flip")
        defer { removeDirectory(f.dir) }
        var rng = SystemRandomNumberGenerator()
        var positions = (0..<250).map { _ in Int.random(in: 0..<f.bytes.count, using: &rng) }
        // Aim some flips at block headers, CRC fields and the seal.
        for s in f.blockStarts.shuffled().prefix(30) { positions.append(Int(s) + Int.random(in: 0..<64, using: &rng)) }
        positions += [0, 8, 16, 20, 32, 64, 251, 252]
        for q in positions {
            var bytes = f.bytes
            bytes[q] ^= UInt8(1) << UInt8.random(in: 0..<8, using: &rng)
            try write(bytes, to: f.file)
            let got: [Entry]
            let error: JournalError?
            do {
                (got, _, error, _) = try readJournal(f.dir)
            } catch let e as JournalError {
                #expect(q < JournalFormat.Header.checkedBytes, "flip at \(q): \(e)")
                continue
            }
            let isPrefix = Array(f.entries.prefix(got.count)) == got
            #expect(isPrefix, "flip at \(q): not a prefix")
            // Which block holds the flipped byte, and is that byte checked (header + payload)?
            guard q >= JournalFormat.headerSize else {
                // Reserved bytes of the file header (256..<4096) are not checked.
                #expect(q >= JournalFormat.Header.checkedBytes)
                let all = got == f.entries
                #expect(all)
                continue
            }
            let start = f.blockStarts.last { $0 <= UInt64(q) }!
            let before = f.ends.filter { $0 <= start }.count
            let blockIndex = f.blockStarts.firstIndex(of: start)!
            let isSeal = blockIndex == f.blockStarts.count - 1
            let payload = isSeal ? JournalFormat.sealPayloadSize
                : Int(f.bytes[Int(start) + 16 ..< Int(start) + 20].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) })
            let checked = UInt64(q) < start + UInt64(JournalFormat.blockHeaderSize + payload)
            if checked {
                #expect(got.count == before, "flip at \(q) in block at \(start)")
                #expect(error != nil, "flip at \(q): undetected")
                #expect(error?.location?.offset == start, "flip at \(q): stop reported at \(String(describing: error?.location))")
            } else {
                // Padding after a block: no record depends on it.
                let all = got == f.entries
                #expect(all, "flip at \(q) in padding")
            }
        }
    }

    /// A segment cut short after its index was written: `journal cat --from S` whose index entry
    /// points past the new end subtracted past the end of the file and trapped. The entry is not
    /// used; reading verifies from the start, prints what is there and exits 1 naming the cut.
    @Test func indexPointingPastATruncatedSegment() throws {
        let dir = temporaryDirectory("index-past-end")
        defer { removeDirectory(dir) }
        _ = try writeJournal(dir, slots: syntheticSlots(seed: 5, count: 4000), options: smallBlocks())
        let index = try JournalIndexFile.load(directory: dir, ring: "market")
        #expect(index.count >= 10)
        let file = dir + "/" + JournalFormat.segmentFileName(ring: "market", segment: 0)
        // Cut in the middle of the fifth block: entries 5... now point at or past the end.
        let cut = Int(index[4].offset) + 1000
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: file)))
        try Data(bytes[..<cut]).write(to: URL(fileURLWithPath: file))
        let pastEnd = index.last!.firstSequence + 1
        let inside = index[1].firstSequence + 7

        let r = try TickBusTest.run(["journal", "cat", dir, "--from", "\(pastEnd)"])
        #expect(!r.timedOut)
        #expect(r.status == 1, "stderr: \(r.stderr.suffix(300))")
        #expect(r.stdout.isEmpty)
        #expect(r.stderr.contains("journal cat: stopped:") && r.stderr.contains("truncated"), "\(r.stderr.suffix(300))")

        let q = try TickBusTest.run(["journal", "cat", dir, "--from", "\(inside)"])
        #expect(q.status == 1, "stderr: \(q.stderr.suffix(300))")
        let lines = q.stdout.split(separator: "\n")
        #expect(lines.first?.hasPrefix("seq=\(inside) ") == true)
        #expect(lines.count == Int(index[4].firstSequence - inside))  // every record of the four complete blocks from S

        // The reader itself: no record past the cut, a typed error at the cut.
        let reader = try JournalReader(directory: dir, ring: "market")
        reader.seek(sequence: pastEnd)
        var records = 0
        while let e = reader.next() { if case .record = e { records += 1 } }
        #expect(records == 0)
        guard case .truncatedBlock(_, let offset, _, _)? = reader.stopError else {
            Issue.record("expected a truncated block, got \(String(describing: reader.stopError))")
            return
        }
        #expect(offset == index[4].offset)
    }

    /// Exchange times are untrusted too: a paced replay of records whose times are far apart
    /// subtracted them in Int64 and trapped. Now it publishes them at once (times going back do not wait).
    @Test func pacedReplayOfExtremeExchangeTimes() throws {
        let dir = temporaryDirectory("extreme-times")
        defer { removeDirectory(dir) }
        var slots = syntheticSlots(seed: 3, count: 3)
        for (k, t) in [Int64.max, Int64.min, 0].enumerated() {
            withUnsafeBytes(of: t.littleEndian) { b in for i in 0..<8 { slots[k][MarketLayout.exchangeTime + i] = b[i] } }
        }
        _ = try writeJournal(dir, slots: slots, options: smallBlocks())
        let bus = TickBusTest.uniqueBus("extreme-times")
        defer { TickBusTest.removeBus(bus) }
        let r = try TickBusTest.run(["replay", "--dir", dir, "--bus", bus, "--speed", "x1"], timeout: 30)
        #expect(!r.timedOut)
        #expect(r.status == 0, "stderr: \(r.stderr.suffix(300))")
        #expect(keyValues(r.lastLine)["replayed"] == "3", "\(r.stdout)")
    }

    /// Seeking through the index into a later segment checked that segment's first sequence against
    /// segment 0's ("expected 0, where the previous segment ended") and stopped: `journal cat --from`
    /// failed on every rotated journal. The entry's own sequence is the bound now.
    @Test func seekIntoALaterSegment() throws {
        let dir = temporaryDirectory("seek-segment")
        defer { removeDirectory(dir) }
        let slots = syntheticSlots(seed: 9, count: 4000)
        _ = try writeJournal(dir, slots: slots, options: smallBlocks(segmentBytes: 64 * 1024))
        let segments = try JournalDirectory.rings(dir).first { $0.ring == "market" }!.segments
        #expect(segments.count >= 3)
        let reader = try JournalReader(directory: dir, ring: "market")
        reader.seek(sequence: 3000)
        var got: [[UInt8]] = []
        while let e = reader.next() { if case .record(let p) = e { got.append(Array(UnsafeRawBufferPointer(start: p, count: 64))) } }
        #expect(reader.stopError == nil, "\(String(describing: reader.stopError))")
        #expect(got == Array(slots[3000...]))
        let r = try TickBusTest.run(["journal", "cat", dir, "--from", "3000"])
        #expect(r.status == 0, "stderr: \(r.stderr.suffix(300))")
        #expect(r.stdout.split(separator: "\n").count == 1000)
        #expect(r.stdout.hasPrefix("seq=3000 "))
    }
}
