import CTickBus
import TickBusCore
#if canImport(Glibc)
import Glibc
#endif

/// The fields of a segment file header.
public struct JournalFileHeader: Sendable, Equatable {
    public var version: UInt32
    public var schema: SchemaID
    public var slotSize: Int
    public var segment: UInt32
    public var firstSequence: UInt64
    public var createdRealtimeNs: UInt64
    public var generation: UInt64
    public var maxBlockBytes: Int
    public var ring: String
    public var bus: String
}

/// The seal that ended a ring's journal.
public struct JournalSeal: Sendable, Equatable {
    public var reason: SealReason
    public var records: UInt64
    public var gapRecords: UInt64
    public var lost: UInt64
    public var nextSequence: UInt64
}

/// One entry of a ring's journal. A record's pointer is valid until the next call to `next`.
public enum JournalEntry {
    /// A record: `slotSize` bytes as read from the ring (bytes 0..<8 are the sequence).
    case record(UnsafeRawPointer)
    /// The recorder was lapped: `count` messages from sequence `from` are not in the journal.
    case gap(from: UInt64, count: UInt64)
}

/// The segment files of a journal directory, by ring.
public enum JournalDirectory {
    /// Rings in the directory, each with its segment numbers in order.
    public static func rings(_ directory: String) throws(JournalError) -> [(ring: String, segments: [UInt32])] {
        guard let d = opendir(directory) else { throw .system(call: "opendir", path: directory, errno: errno) }
        defer { closedir(d) }
        var found: [String: [UInt32]] = [:]
        while let e = readdir(d) {
            let name = withUnsafePointer(to: e.pointee.d_name) { p in
                p.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if let (ring, seg) = JournalFormat.parseSegmentFileName(name) { found[ring, default: []].append(seg) }
        }
        return found.keys.sorted().map { ($0, found[$0]!.sorted()) }
    }
}

/// Reads one ring's journal, verifying every block (magic, fields, CRC32C, block numbers and
/// record sequences) before returning any record from it. On a truncated or corrupt file it
/// returns every record up to the last good block and then stops, with `stopError` saying which
/// file, which offset and why. It never returns a record from a block that failed a check.
///
/// Invariant: `buffer` holds `bufferSize` bytes (the largest block the header allows), owned here;
/// records handed out point into it and are valid until the next call to `next`.
public final class JournalReader {
    public let directory: String
    public let ring: String
    public let segments: [UInt32]
    /// The header of the first segment.
    public private(set) var header: JournalFileHeader
    /// Why reading stopped before a clean seal (nil while reading and after a clean end).
    public private(set) var stopError: JournalError?
    /// The final seal, once read.
    public private(set) var seal: JournalSeal?
    public private(set) var finished = false

    // Counts of what has been returned.
    public private(set) var records: UInt64 = 0
    public private(set) var gapRecords: UInt64 = 0
    public private(set) var lost: UInt64 = 0
    public private(set) var blocks: UInt64 = 0
    public private(set) var firstRecordSequence: UInt64?
    /// The sequence after the last entry returned (the next the ring would have).
    public private(set) var nextSequence: UInt64

    var buffer: UnsafeMutableRawPointer
    var bufferSize: Int
    var fd: Int32 = -1
    var segmentIndex = 0
    var path = ""
    var fileSize: UInt64 = 0
    var offset: UInt64 = 0
    var expectedBlock: UInt64 = 0
    var expectedSequence: UInt64
    var recordIndex = 0
    var recordCount = 0
    var skipBelowSequence: UInt64 = 0
    var skipBelowTime: Int64?

    /// Opens the ring's journal in `directory` and validates its first segment's header.
    public init(directory: String, ring: String) throws(JournalError) {
        self.directory = directory
        self.ring = ring
        guard let entry = try JournalDirectory.rings(directory).first(where: { $0.ring == ring }) else {
            throw .ringNotFound(directory: directory, ring: ring)
        }
        segments = entry.segments
        guard segments.first == 0 else { throw .missingSegment(directory: directory, ring: ring, segment: 0) }
        bufferSize = JournalFormat.headerSize
        buffer = UnsafeMutableRawPointer.allocate(byteCount: bufferSize, alignment: 64)
        header = JournalFileHeader(version: 0, schema: .market, slotSize: 64, segment: 0, firstSequence: 0,
                                   createdRealtimeNs: 0, generation: 0, maxBlockBytes: 0, ring: ring, bus: "")
        expectedSequence = 0
        nextSequence = 0
        let h = try openSegment(0)
        header = h
        expectedSequence = h.firstSequence
        nextSequence = h.firstSequence
    }

    deinit {
        if fd >= 0 { close(fd) }
        buffer.deallocate()
    }

    public var slotSize: Int { header.slotSize }
    public var schema: SchemaID { header.schema }
    /// The file and offset of the next block to read (where reading stopped, once finished).
    public var location: (file: String, offset: UInt64) { (path, offset) }

    /// The next record or gap, or nil at the end (clean seal, or `stopError`).
    public func next() -> JournalEntry? {
        while true {
            if recordIndex < recordCount {
                // Safe: recordIndex < recordCount and the block's payload (recordCount x slotSize
                // bytes) was read into `buffer` after the header.
                let p = UnsafeRawPointer(buffer + JournalFormat.blockHeaderSize + recordIndex * header.slotSize)
                recordIndex += 1
                let w = UInt64(littleEndian: p.load(as: UInt64.self))
                if w & JournalFormat.gapBit != 0 {
                    let from = w & ~JournalFormat.gapBit
                    let count = UInt64(littleEndian: p.load(fromByteOffset: 8, as: UInt64.self))
                    nextSequence = from + count
                    if from + count <= skipBelowSequence { continue }
                    gapRecords += 1
                    lost += count
                    return .gap(from: from, count: count)
                }
                nextSequence = w + 1
                if w < skipBelowSequence { continue }
                if let t = skipBelowTime, let o = JournalFormat.exchangeTimeOffset(header.schema) {
                    if Int64(littleEndian: p.load(fromByteOffset: o, as: Int64.self)) < t { continue }
                    skipBelowTime = nil
                }
                if firstRecordSequence == nil { firstRecordSequence = w }
                records += 1
                return .record(p)
            }
            if finished { return nil }
            do {
                try loadBlock()
            } catch {
                stopError = error
                finished = true
                recordCount = 0
                return nil
            }
        }
    }

    /// Reads everything left, returning the counts (for `journal verify`).
    public func readToEnd(_ body: (JournalEntry) -> Void = { _ in }) {
        while let e = next() { body(e) }
    }

    // MARK: seeking

    /// Positions the reader so that the next record is the first with sequence >= `sequence`,
    /// using the index when there is a valid one, otherwise reading (and verifying) from the start.
    public func seek(sequence: UInt64) {
        skipBelowSequence = sequence
        if let entries = try? JournalIndexFile.load(directory: directory, ring: ring),
            let e = entries.last(where: { $0.firstSequence <= sequence })
        {
            position(at: e)
        }
    }

    /// Positions the reader so that the next record is the first with exchange time >= `time`.
    public func seek(exchangeTime time: Int64) {
        skipBelowTime = time
        if let entries = try? JournalIndexFile.load(directory: directory, ring: ring),
            let e = entries.last(where: { $0.firstExchangeTime <= time && $0.firstExchangeTime != 0 })
        {
            position(at: e)
        }
    }

    /// Starts reading at an index entry's block. An entry that cannot name a block of the file
    /// (not on a block boundary, or at or past the end of a segment cut short after the index was
    /// written) is not used: reading then starts from the beginning, verifying every block.
    func position(at e: IndexEntry) {
        guard let k = segments.firstIndex(of: e.segment), !finished, blocks == 0 else { return }
        guard e.offset >= UInt64(JournalFormat.headerSize), e.offset % UInt64(JournalFormat.alignment) == 0 else { return }
        var st = stat()
        let file = directory + "/" + JournalFormat.segmentFileName(ring: ring, segment: e.segment)
        guard stat(file, &st) == 0, st.st_size >= 0, e.offset < UInt64(st.st_size) else { return }
        do {
            if k != segmentIndex || fd < 0 {
                if fd >= 0 { close(fd); fd = -1 }
                segmentIndex = k
                _ = try openSegment(k, seekingTo: e)
            }
            offset = e.offset
            expectedBlock = e.block
            expectedSequence = e.firstSequence
            nextSequence = e.firstSequence
        } catch {
            stopError = error
            finished = true
        }
    }

    // MARK: blocks

    /// Opens segment `k` and validates its header against the file name and the first segment.
    /// Reading on from segment k − 1, its first sequence must be where that one ended; jumping to
    /// an index entry, it must be at most the entry's (the segments before were not read).
    @discardableResult
    func openSegment(_ k: Int, seekingTo entry: IndexEntry? = nil) throws(JournalError) -> JournalFileHeader {
        let n = segments[k]
        segmentIndex = k
        path = directory + "/" + JournalFormat.segmentFileName(ring: ring, segment: n)
        fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw .system(call: "open", path: path, errno: errno) }
        var st = stat()
        if fstat(fd, &st) != 0 { throw .system(call: "fstat", path: path, errno: errno) }
        fileSize = UInt64(st.st_size)
        offset = 0
        if fileSize < UInt64(JournalFormat.headerSize) {
            throw .fileTooSmall(file: path, size: Int(fileSize), needed: JournalFormat.headerSize)
        }
        try readExactly(buffer, JournalFormat.Header.checkedBytes, at: 0)
        let b = UnsafeRawPointer(buffer)
        func u32(_ o: Int) -> UInt32 { UInt32(littleEndian: b.load(fromByteOffset: o, as: UInt32.self)) }
        func u64(_ o: Int) -> UInt64 { UInt64(littleEndian: b.load(fromByteOffset: o, as: UInt64.self)) }
        func bad(_ field: String, _ found: UInt64, _ expected: String) -> JournalError {
            .badFileHeader(file: path, field: field, found: found, expected: expected)
        }
        let magic = u64(JournalFormat.Header.magic)
        if magic != JournalFormat.fileMagic { throw bad("magic", magic, "0x\(String(JournalFormat.fileMagic, radix: 16)) ('TBJOURNL')") }
        let crc = CRC32C.checksum(b, JournalFormat.Header.crc)
        if crc != u32(JournalFormat.Header.crc) { throw bad("crc32c", UInt64(u32(JournalFormat.Header.crc)), "0x\(String(crc, radix: 16)) (computed)") }
        let version = u32(JournalFormat.Header.version)
        if version != JournalFormat.version { throw bad("version", UInt64(version), "\(JournalFormat.version)") }
        let hs = u32(JournalFormat.Header.headerSize)
        if hs != UInt32(JournalFormat.headerSize) { throw bad("header_size", UInt64(hs), "\(JournalFormat.headerSize)") }
        let align = u32(JournalFormat.Header.alignment)
        if align != UInt32(JournalFormat.alignment) { throw bad("alignment", UInt64(align), "\(JournalFormat.alignment)") }
        let rawSchema = u32(JournalFormat.Header.schema)
        guard let schema = SchemaID(rawValue: rawSchema) else { throw bad("schema", UInt64(rawSchema), "1 (market), 2 (decisions) or 3 (control)") }
        let slot = u32(JournalFormat.Header.slotSize)
        if slot < 64 || slot % 64 != 0 || slot > 65536 { throw bad("slot_size", UInt64(slot), "a multiple of 64 up to 65536") }
        let maxBlock = u32(JournalFormat.Header.maxBlockBytes)
        if maxBlock % UInt32(JournalFormat.alignment) != 0 || maxBlock > 64 << 20
            || Int(maxBlock) < JournalFormat.blockHeaderSize + Int(slot)
        {
            throw bad("max_block_bytes", UInt64(maxBlock), "a multiple of 4096 up to 64 MiB holding one record")
        }
        let seg = u32(JournalFormat.Header.segment)
        if seg != n { throw bad("segment", UInt64(seg), "\(n) (from the file name)") }
        func name(_ o: Int) -> String {
            var bytes: [UInt8] = []
            for i in 0..<JournalFormat.Header.nameLength {
                let c = b.load(fromByteOffset: o + i, as: UInt8.self)
                if c == 0 { break }
                bytes.append(c)
            }
            return String(decoding: bytes, as: UTF8.self)
        }
        let h = JournalFileHeader(
            version: version, schema: schema, slotSize: Int(slot), segment: seg, firstSequence: u64(JournalFormat.Header.firstSequence),
            createdRealtimeNs: u64(JournalFormat.Header.createdRealtimeNs), generation: u64(JournalFormat.Header.generation),
            maxBlockBytes: Int(maxBlock), ring: name(JournalFormat.Header.ringName), bus: name(JournalFormat.Header.busName))
        if h.ring != ring { throw bad("ring_name", 0, "'\(ring)' (from the file name), found '\(h.ring)'") }
        if k > 0 {
            if h.schema != header.schema { throw bad("schema", UInt64(rawSchema), "\(header.schema.rawValue) (as segment 0)") }
            if h.slotSize != header.slotSize { throw bad("slot_size", UInt64(slot), "\(header.slotSize) (as segment 0)") }
            if h.generation != header.generation { throw bad("generation", h.generation, "\(header.generation) (as segment 0)") }
            if let entry {
                if h.firstSequence > entry.firstSequence {
                    throw bad("first_sequence", h.firstSequence, "at most \(entry.firstSequence) (the index entry's first sequence)")
                }
            } else if h.firstSequence != expectedSequence {
                throw bad("first_sequence", h.firstSequence, "\(expectedSequence) (where the previous segment ended)")
            }
        }
        if h.maxBlockBytes > bufferSize {
            buffer.deallocate()
            bufferSize = h.maxBlockBytes
            buffer = UnsafeMutableRawPointer.allocate(byteCount: bufferSize, alignment: 64)
        }
        offset = UInt64(JournalFormat.headerSize)
        return h
    }

    func readExactly(_ p: UnsafeMutableRawPointer, _ n: Int, at o: UInt64) throws(JournalError) {
        var done = 0
        while done < n {
            let r = pread(fd, p + done, n - done, off_t(o) + off_t(done))
            if r < 0 {
                if errno == EINTR { continue }
                throw .system(call: "pread", path: path, errno: errno)
            }
            if r == 0 { throw .truncatedBlock(file: path, offset: o, needed: UInt64(n), available: UInt64(done)) }
            done += r
        }
    }

    /// Reads and verifies the block at `offset`; on success its records are ready to hand out.
    func loadBlock() throws(JournalError) {
        if fd < 0 { try openSegment(segmentIndex) }
        if offset == fileSize { throw .unsealed(file: path, offset: offset) }
        // The offset came from the file (an extent) or the index: never subtract past the end.
        guard offset < fileSize else {
            throw .truncatedBlock(file: path, offset: offset, needed: UInt64(JournalFormat.blockHeaderSize), available: 0)
        }
        let avail = fileSize - offset
        if avail < UInt64(JournalFormat.blockHeaderSize) {
            throw .truncatedBlock(file: path, offset: offset, needed: UInt64(JournalFormat.blockHeaderSize), available: avail)
        }
        try readExactly(buffer, JournalFormat.blockHeaderSize, at: offset)
        let b = UnsafeRawPointer(buffer)
        func u16(_ o: Int) -> UInt16 { UInt16(littleEndian: b.load(fromByteOffset: o, as: UInt16.self)) }
        func u32(_ o: Int) -> UInt32 { UInt32(littleEndian: b.load(fromByteOffset: o, as: UInt32.self)) }
        func u64(_ o: Int) -> UInt64 { UInt64(littleEndian: b.load(fromByteOffset: o, as: UInt64.self)) }
        let magic = u32(JournalFormat.Block.magic)
        if magic != JournalFormat.blockMagic { throw .badBlockMagic(file: path, offset: offset, found: magic) }
        let type = u16(JournalFormat.Block.type)
        if type != JournalFormat.Block.typeRecords && type != JournalFormat.Block.typeSeal {
            throw .badBlockField(file: path, offset: offset, field: "type", found: UInt64(type))
        }
        let hs = u16(JournalFormat.Block.headerSize)
        if hs != UInt16(JournalFormat.blockHeaderSize) { throw .badBlockField(file: path, offset: offset, field: "header_size", found: UInt64(hs)) }
        let payload = Int(u32(JournalFormat.Block.payloadBytes))
        let count = Int(u32(JournalFormat.Block.recordCount))
        let slot = header.slotSize
        if type == JournalFormat.Block.typeRecords {
            if payload == 0 || payload % slot != 0 || JournalFormat.blockHeaderSize + payload > header.maxBlockBytes {
                throw .badBlockField(file: path, offset: offset, field: "payload_bytes", found: UInt64(payload))
            }
            if count != payload / slot { throw .badBlockField(file: path, offset: offset, field: "record_count", found: UInt64(count)) }
        } else if payload != JournalFormat.sealPayloadSize || count != 0 {
            throw .badBlockField(file: path, offset: offset, field: "payload_bytes", found: UInt64(payload))
        }
        let extent = UInt64(JournalFormat.roundUp(JournalFormat.blockHeaderSize + payload, JournalFormat.alignment))
        if avail < extent { throw .truncatedBlock(file: path, offset: offset, needed: extent, available: avail) }
        try readExactly(buffer + JournalFormat.blockHeaderSize, payload, at: offset + UInt64(JournalFormat.blockHeaderSize))
        var crc = CRC32C.checksum(b, JournalFormat.Block.crc)
        crc = CRC32C.checksum(b + JournalFormat.blockHeaderSize, payload, continuing: crc)
        let stored = u32(JournalFormat.Block.crc)
        let number = u64(JournalFormat.Block.number)
        if crc != stored { throw .checksumMismatch(file: path, offset: offset, block: number, stored: stored, computed: crc) }
        if number != expectedBlock { throw .blockNumberMismatch(file: path, offset: offset, found: number, expected: expectedBlock) }
        let first = u64(JournalFormat.Block.firstSequence)
        if first != expectedSequence { throw .sequenceMismatch(file: path, offset: offset, record: -1, found: first, expected: expectedSequence) }
        let declaredNext = u64(JournalFormat.Block.nextSequence)

        if type == JournalFormat.Block.typeSeal {
            let p = b + JournalFormat.blockHeaderSize
            let rawReason = UInt32(littleEndian: p.load(fromByteOffset: JournalFormat.Seal.reason, as: UInt32.self))
            guard let reason = SealReason(rawValue: rawReason) else {
                throw .badBlockField(file: path, offset: offset, field: "seal_reason", found: UInt64(rawReason))
            }
            let sealNext = UInt64(littleEndian: p.load(fromByteOffset: JournalFormat.Seal.nextSequence, as: UInt64.self))
            if sealNext != expectedSequence || declaredNext != expectedSequence {
                throw .sequenceMismatch(file: path, offset: offset, record: -1, found: sealNext, expected: expectedSequence)
            }
            let s = JournalSeal(
                reason: reason,
                records: UInt64(littleEndian: p.load(fromByteOffset: JournalFormat.Seal.records, as: UInt64.self)),
                gapRecords: UInt64(littleEndian: p.load(fromByteOffset: JournalFormat.Seal.gapRecords, as: UInt64.self)),
                lost: UInt64(littleEndian: p.load(fromByteOffset: JournalFormat.Seal.lost, as: UInt64.self)),
                nextSequence: sealNext)
            expectedBlock += 1
            let sealEnd = offset + extent
            if reason == .rotated {
                close(fd)
                fd = -1
                if segmentIndex + 1 >= segments.count || segments[segmentIndex + 1] != segments[segmentIndex] + 1 {
                    offset = sealEnd
                    throw .missingSegment(directory: directory, ring: ring, segment: segments[segmentIndex] + 1)
                }
                try openSegment(segmentIndex + 1)
                return
            }
            seal = s
            offset = sealEnd
            if sealEnd != fileSize { throw .dataAfterSeal(file: path, offset: sealEnd, fileSize: fileSize) }
            finished = true
            recordCount = 0
            return
        }

        // Every record's sequence follows the one before: check the whole block before handing any out.
        var expected = expectedSequence
        for i in 0..<count {
            let p = b + JournalFormat.blockHeaderSize + i * slot
            let w = UInt64(littleEndian: p.load(as: UInt64.self))
            if w & JournalFormat.gapBit != 0 {
                let from = w & ~JournalFormat.gapBit
                let n = UInt64(littleEndian: p.load(fromByteOffset: 8, as: UInt64.self))
                if from != expected || n == 0 || n >= JournalFormat.gapBit {
                    throw .sequenceMismatch(file: path, offset: offset, record: i, found: from, expected: expected)
                }
                expected = from &+ n
            } else {
                if w != expected { throw .sequenceMismatch(file: path, offset: offset, record: i, found: w, expected: expected) }
                expected = w + 1
            }
        }
        if expected != declaredNext { throw .sequenceMismatch(file: path, offset: offset, record: count, found: declaredNext, expected: expected) }
        expectedSequence = expected
        expectedBlock += 1
        blocks += 1
        offset += extent
        recordIndex = 0
        recordCount = count
    }
}

/// The `<ring>.index` file written at seal: one entry per records block.
public enum JournalIndexFile {
    public static func load(directory: String, ring: String) throws(JournalError) -> [IndexEntry] {
        let path = directory + "/" + JournalFormat.indexFileName(ring: ring)
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw .system(call: "open", path: path, errno: errno) }
        defer { close(fd) }
        var st = stat()
        if fstat(fd, &st) != 0 { throw .system(call: "fstat", path: path, errno: errno) }
        let size = Int(st.st_size)
        guard size >= JournalFormat.Index.headerSize + 4, size < 1 << 30 else {
            throw .fileTooSmall(file: path, size: size, needed: JournalFormat.Index.headerSize + 4)
        }
        var bytes = [UInt8](repeating: 0, count: size)
        let r = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, size, 0) }
        if r != size { throw .system(call: "pread", path: path, errno: errno) }
        let result = bytes.withUnsafeBytes { (raw) -> Result<[IndexEntry], JournalError> in
            Result { () throws(JournalError) -> [IndexEntry] in
            let b = raw.baseAddress!
            let magic = UInt64(littleEndian: b.load(as: UInt64.self))
            if magic != JournalFormat.indexMagic { throw .badFileHeader(file: path, field: "magic", found: magic, expected: "'TBJINDEX'") }
            let n = Int(UInt32(littleEndian: b.load(fromByteOffset: 12, as: UInt32.self)))
            if JournalFormat.Index.headerSize + n * JournalFormat.Index.entrySize + 4 != size {
                throw .badFileHeader(file: path, field: "entry_count", found: UInt64(n), expected: "to match the file size \(size)")
            }
            let crc = CRC32C.checksum(b, size - 4)
            let stored = UInt32(littleEndian: b.loadUnaligned(fromByteOffset: size - 4, as: UInt32.self))
            if crc != stored { throw .checksumMismatch(file: path, offset: 0, block: 0, stored: stored, computed: crc) }
            var out: [IndexEntry] = []
            out.reserveCapacity(n)
            for k in 0..<n {
                let o = JournalFormat.Index.headerSize + k * JournalFormat.Index.entrySize
                out.append(IndexEntry(
                    segment: UInt32(littleEndian: b.loadUnaligned(fromByteOffset: o, as: UInt32.self)),
                    offset: UInt64(littleEndian: b.loadUnaligned(fromByteOffset: o + 8, as: UInt64.self)),
                    block: UInt64(littleEndian: b.loadUnaligned(fromByteOffset: o + 16, as: UInt64.self)),
                    firstSequence: UInt64(littleEndian: b.loadUnaligned(fromByteOffset: o + 24, as: UInt64.self)),
                    firstExchangeTime: Int64(littleEndian: b.loadUnaligned(fromByteOffset: o + 32, as: Int64.self))))
            }
            return out
            }
        }
        return try result.get()
    }
}
