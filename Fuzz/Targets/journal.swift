// fuzz-modules: TickBusCore Journal
// A journal directory through `JournalReader` (file header, every block's fields, CRC32C, block
// numbers and record sequences, rotation to the next segment, the seal) and `JournalIndexFile`
// with seeking, as `tickbus journal verify|cat|info`, `replay` and `--source journal:` read it.
//
// Input: a container (Docs/FUZZING.md) of up to three files: segment 0 of ring `market`, its
// index, segment 1. The checksums are recomputed before writing (a mutated block would otherwise
// never get past its CRC) unless bit 0 of byte 4088 of segment 0 (header padding) is set; bit 1
// seeks to the sequence, bit 2 to the exchange time, held in bytes 4080..<4088.
import Journal
import TickBusCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJournal(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    FuzzInput.reset()
    let parts = FuzzInput.parts(FuzzInput.bytes(data, size), limit: 3)
    var segment0 = parts[0]
    let flags: UInt8 = segment0.count > 4088 ? segment0[4088] : 0
    let seekValue: UInt64 =
        segment0.count >= 4088
        ? segment0.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: 4080, as: UInt64.self)) } : 0
    var index = parts.count > 1 ? parts[1] : []
    var segment1 = parts.count > 2 ? parts[2] : []
    if flags & 1 == 0 {
        FuzzJournal.fixSegment(&segment0)
        FuzzJournal.fixSegment(&segment1)
        FuzzJournal.fixIndex(&index)
    }
    FuzzInput.write(JournalFormat.segmentFileName(ring: "market", segment: 0), segment0)
    if parts.count > 1 { FuzzInput.write(JournalFormat.indexFileName(ring: "market"), index) }
    if parts.count > 2 { FuzzInput.write(JournalFormat.segmentFileName(ring: "market", segment: 1), segment1) }
    if FuzzInput.materialize != nil { return 0 }

    var sink = 0
    let dir = FuzzInput.scratch
    if let entries = try? JournalIndexFile.load(directory: dir, ring: "market") {
        for e in entries { sink &+= Int(truncatingIfNeeded: e.offset &+ e.firstSequence) }
    }
    do {
        for (ring, segments) in try JournalDirectory.rings(dir) {
            sink &+= segments.count
            let reader = try JournalReader(directory: dir, ring: ring)
            if flags & 2 != 0 { reader.seek(sequence: seekValue) }
            if flags & 4 != 0 { reader.seek(exchangeTime: Int64(bitPattern: seekValue)) }
            var n = 0
            while let e = reader.next(), n < 1 << 16 {
                n += 1
                switch e {
                case .record(let p):
                    let v = MarketMessageView(p)
                    sink &+=
                        Int(v.rawKind) &+ Int(truncatingIfNeeded: v.exchangeTime)
                        &+ Int(truncatingIfNeeded: p.load(fromByteOffset: reader.slotSize - 8, as: UInt64.self))
                case .gap(let from, let count): sink &+= Int(truncatingIfNeeded: from &+ count)
                }
            }
            sink &+= Int(truncatingIfNeeded: reader.records &+ reader.lost &+ reader.nextSequence)
            if let e = reader.stopError { sink &+= e.description.utf8.count }
            sink &+= reader.location.file.utf8.count &+ Int(truncatingIfNeeded: reader.location.offset)
            if let s = reader.seal { sink &+= s.reason.description.utf8.count }
        }
    } catch {
        sink &+= error.description.utf8.count
    }
    return sink == Int.min ? 1 : 0
}

/// Recomputes the checksums of a mutated journal file, so mutations reach the checks after them.
enum FuzzJournal {
    static func u32(_ b: [UInt8], _ o: Int) -> UInt32 {
        b.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: o, as: UInt32.self)) }
    }
    static func put(_ b: inout [UInt8], _ o: Int, _ v: UInt32) {
        b.withUnsafeMutableBytes { $0.storeBytes(of: v.littleEndian, toByteOffset: o, as: UInt32.self) }
    }

    static func fixSegment(_ b: inout [UInt8]) {
        if b.count >= JournalFormat.Header.checkedBytes {
            put(&b, JournalFormat.Header.crc, CRC32C.checksum(Array(b[0..<JournalFormat.Header.crc])))
        }
        var o = JournalFormat.headerSize
        while o + JournalFormat.blockHeaderSize <= b.count {
            if u32(b, o) == JournalFormat.blockMagic {
                let payload = Int(u32(b, o + JournalFormat.Block.payloadBytes))
                let end = o + JournalFormat.blockHeaderSize + payload
                if payload <= b.count && end <= b.count {
                    let crc = b.withUnsafeBytes { p in
                        CRC32C.checksum(
                            p.baseAddress! + o + JournalFormat.blockHeaderSize,
                            payload,
                            continuing: CRC32C.checksum(p.baseAddress! + o, JournalFormat.Block.crc)
                        )
                    }
                    put(&b, o + JournalFormat.Block.crc, crc)
                }
            }
            o += JournalFormat.alignment
        }
    }

    static func fixIndex(_ b: inout [UInt8]) {
        guard b.count >= JournalFormat.Index.headerSize + 4 else { return }
        put(&b, b.count - 4, CRC32C.checksum(Array(b[0..<(b.count - 4)])))
    }
}
