import Foundation
import Journal
import Testing
import TickBusCore

@Suite struct CRC32CTests {
    @Test func knownVectors() {
        // RFC 3720 appendix B.4 and the usual check value.
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([]) == 0)
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
        #expect(CRC32C.checksum((0..<32).map { UInt8($0) }) == 0x46DD_794E)
        #expect(CRC32C.softwareChecksum(Array("123456789".utf8)) == 0xE306_9283)
    }

    @Test func hardwareEqualsTableAtEveryLengthAndAlignment() {
        var rng = SystemRandomNumberGenerator()
        let data = (0..<4200).map { _ in UInt8.random(in: 0...255, using: &rng) }
        for start in 0..<9 {
            for length in [0, 1, 7, 8, 9, 63, 64, 65, 1000, 4096] {
                let slice = Array(data[start..<(start + length)])
                #expect(CRC32C.checksum(slice) == CRC32C.softwareChecksum(slice), "start \(start) length \(length)")
            }
        }
        // Continuing a CRC equals one CRC over the concatenation.
        let whole = CRC32C.checksum(data)
        let first = CRC32C.checksum(Array(data[..<1234]))
        let cont = Array(data[1234...]).withUnsafeBytes {
            CRC32C.checksum($0.baseAddress!, $0.count, continuing: first)
        }
        #expect(cont == whole)
    }
}

@Suite struct WriterReaderTests {
    @Test func roundTripWithGapsAndIndex() throws {
        let dir = temporaryDirectory("roundtrip")
        defer { removeDirectory(dir) }
        let slots = syntheticSlots(seed: 3, count: 5000)
        let gaps = [100..<150, 2000..<2001, 4990..<5000]
        let stats = try writeJournal(dir, slots: slots, gaps: gaps, options: smallBlocks())
        #expect(stats.gapRecords == 3)
        #expect(stats.lost == 61)
        #expect(stats.nextSequence == 5000)

        let (entries, _, error, reader) = try readJournal(dir)
        #expect(error == nil)
        #expect(reader.seal?.reason == .endOfSession)
        var expected: [Entry] = []
        var s = 0
        while s < slots.count {
            if let g = gaps.first(where: { $0.lowerBound == s }) {
                expected.append(.gap(UInt64(s), UInt64(g.count)))
                s = g.upperBound
            } else {
                expected.append(.record(slots[s]))
                s += 1
            }
        }
        let same = entries == expected
        #expect(same)
        #expect(reader.records == 5000 - 61)
        #expect(reader.lost == 61)

        // Seeking by sequence (through the index) lands on the first record >= the sequence.
        let index = try JournalIndexFile.load(directory: dir, ring: "market")
        #expect(index.count == Int(stats.blocks))
        for target: UInt64 in [0, 1, 99, 100, 149, 150, 1234, 4000, 4989] {
            let r = try JournalReader(directory: dir, ring: "market")
            r.seek(sequence: target)
            // A gap that covers the target comes first, then the first record after it.
            var first = r.next()
            if case .gap(let from, let count)? = first {
                #expect(from <= target && target < from + count)
                first = r.next()
            }
            guard case .record(let p)? = first else {
                Issue.record("no record after seek to \(target)")
                continue
            }
            let want = gaps.first(where: { $0.contains(Int(target)) })?.upperBound ?? Int(target)
            #expect(p.load(as: UInt64.self) == UInt64(want))
        }
        // Seeking by exchange time.
        let t = MarketMessageView(slots[3000].withUnsafeBytes { $0.baseAddress! }).exchangeTime
        let r = try JournalReader(directory: dir, ring: "market")
        r.seek(exchangeTime: t)
        guard case .record(let p)? = r.next() else {
            Issue.record("no record after time seek")
            return
        }
        let firstAtT = slots.firstIndex { s in
            s.withUnsafeBytes { MarketMessageView($0.baseAddress!).exchangeTime >= t }
        }!
        #expect(p.load(as: UInt64.self) == UInt64(firstAtT))
    }

    @Test func segmentsRotateAndAMissingSegmentStopsTheReader() throws {
        let dir = temporaryDirectory("rotate")
        defer { removeDirectory(dir) }
        let slots = syntheticSlots(seed: 5, count: 20000)
        let stats = try writeJournal(dir, slots: slots, options: smallBlocks(segmentBytes: 256 * 1024))
        #expect(stats.segments > 3)
        let rings = try JournalDirectory.rings(dir)
        #expect(rings.count == 1 && rings[0].segments.count == Int(stats.segments))
        let (entries, _, error, reader) = try readJournal(dir)
        #expect(error == nil)
        let same = entries == slots.map { Entry.record($0) }
        #expect(same)
        #expect(reader.segments.count == Int(stats.segments))

        // Remove segment 2: everything up to the end of segment 1 is read, then a typed error.
        try FileManager.default.removeItem(
            atPath: dir + "/" + JournalFormat.segmentFileName(ring: "market", segment: 2)
        )
        let (partial, _, error2, _) = try readJournal(dir)
        #expect(error2 == .missingSegment(directory: dir, ring: "market", segment: 2))
        #expect(partial.count > 0 && partial.count < slots.count)
        let prefix = Array(entries.prefix(partial.count)) == partial
        #expect(prefix)
    }

    @Test func unsealedJournalReadsEveryBlockAndSaysSo() throws {
        let dir = temporaryDirectory("unsealed")
        defer { removeDirectory(dir) }
        let slots = syntheticSlots(seed: 9, count: 3000)
        do {
            var w = try JournalWriter.create(
                directory: dir,
                ring: "market",
                bus: "t",
                schema: .market,
                slotSize: 64,
                generation: 1,
                firstSequence: 0,
                options: smallBlocks()
            )
            for s in slots { try appendSlot(&w, s) }
            try w.flush()
            // Dropped without seal, like a killed recorder (deinit waits for the writes in flight).
        }
        let (entries, _, error, _) = try readJournal(dir)
        let same = entries == slots.map { Entry.record($0) }
        #expect(same)
        guard case .unsealed(let file, let offset)? = error else {
            Issue.record("expected unsealed, got \(String(describing: error))")
            return
        }
        #expect(file.hasSuffix("market.000000.tbj"))
        let size = try FileManager.default.attributesOfItem(atPath: file)[.size] as! UInt64
        #expect(offset == size)
    }
}
