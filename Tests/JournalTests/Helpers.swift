import Feed
import Foundation
import Journal
import TickBusCore

/// One entry as read back: a record's bytes or a gap.
enum Entry: Equatable {
    case record([UInt8])
    case gap(UInt64, UInt64)
}

/// Synthetic market messages with sequence numbers, as a ring would hold them.
func syntheticSlots(seed: UInt64, count: Int) -> [[UInt8]] {
    var source = SyntheticSource(seed: seed)
    var out: [[UInt8]] = []
    out.reserveCapacity(count)
    for s in 0..<count {
        var m = source.next()!
        m.receiveTime = Int64(s) * 7  // any value: the journal keeps the slot bytes as read
        var bytes = [UInt8](repeating: 0, count: 64)
        bytes.withUnsafeMutableBytes { raw in
            raw.baseAddress!.storeBytes(of: UInt64(s), as: UInt64.self)
            m.store(to: raw.baseAddress!)
        }
        out.append(bytes)
    }
    return out
}

/// Writes `slots` (sequence = index) into a journal, replacing the ranges in `gaps` with gap records.
func writeJournal(
    _ dir: String,
    slots: [[UInt8]],
    gaps: [Range<Int>] = [],
    options: JournalWriterOptions
) throws -> JournalWriterStats {
    var w = try JournalWriter.create(
        directory: dir,
        ring: "market",
        bus: "test",
        schema: .market,
        slotSize: 64,
        generation: 1,
        firstSequence: 0,
        options: options
    )
    var s = 0
    while s < slots.count {
        if let g = gaps.first(where: { $0.lowerBound == s }) {
            try w.appendGap(from: UInt64(s), count: UInt64(g.count))
            s = g.upperBound
            continue
        }
        try appendSlot(&w, slots[s])
        s += 1
    }
    try w.seal(reason: .endOfSession)
    return w.stats
}

/// Reads a ring's journal: its entries, each with the file offset where its block ends, and the stop error.
func readJournal(
    _ dir: String,
    ring: String = "market"
) throws -> (entries: [Entry], ends: [UInt64], error: JournalError?, reader: JournalReader) {
    let r = try JournalReader(directory: dir, ring: ring)
    var entries: [Entry] = []
    var ends: [UInt64] = []
    while let e = r.next() {
        switch e {
        case .record(let p): entries.append(.record(Array(UnsafeRawBufferPointer(start: p, count: r.slotSize))))
        case .gap(let f, let c): entries.append(.gap(f, c))
        }
        ends.append(r.location.offset)
    }
    return (entries, ends, r.stopError, r)
}

func temporaryDirectory(_ name: String) -> String {
    let path = NSTemporaryDirectory() + "tickbus-journal-\(name)-\(getpid())-\(UUID().uuidString.prefix(8))"
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

func removeDirectory(_ path: String) { try? FileManager.default.removeItem(atPath: path) }

/// Small blocks so a modest test journal has many of them.
func smallBlocks(segmentBytes: UInt64 = 1 << 30) -> JournalWriterOptions {
    var o = JournalWriterOptions()
    o.blockBytes = 16 * 1024
    o.buffers = 4
    o.segmentBytes = segmentBytes
    return o
}

/// Appends one slot's bytes (copied to an aligned buffer, as a ring reader's copy is).
func appendSlot(_ w: inout JournalWriter, _ bytes: [UInt8]) throws {
    let p = UnsafeMutableRawPointer.allocate(byteCount: bytes.count, alignment: 64)
    defer { p.deallocate() }
    bytes.withUnsafeBytes { p.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
    try w.append(p)
}
