import CTickBus
import TickBusCore

#if canImport(Glibc)
import Glibc
#endif

/// When the writer asks the kernel to make data durable.
public enum FsyncPolicy: String, Sendable, CaseIterable {
    /// Never (the page cache writes back; a machine crash may lose the tail, a process crash does not).
    case never
    /// An fdatasync at most every 100 ms, covering the writes completed before it.
    case interval
    /// Every block is written and fdatasync'ed before the next is submitted.
    case block
}

/// Tuning of a `JournalWriter`.
public struct JournalWriterOptions: Sendable {
    /// Bytes per block buffer (payload and header, a multiple of 4096).
    public var blockBytes: Int = 1 << 20
    /// Buffers: one being filled, the others in flight.
    public var buffers: Int = 8
    /// A segment file is rotated before it would grow past this size.
    public var segmentBytes: UInt64 = 1 << 30
    public var fsync: FsyncPolicy = .never
    /// Open segment files with O_DIRECT (the file system must support it; tmpfs does not).
    public var direct: Bool = false
    /// A partly filled block is written once its first record is this old (bounds what a crash loses).
    public var flushAfterNs: UInt64 = 10_000_000
    public init() {}
}

/// What a writer has written so far.
public struct JournalWriterStats: Sendable, Equatable {
    public var records: UInt64 = 0
    public var gapRecords: UInt64 = 0
    public var lost: UInt64 = 0
    public var blocks: UInt64 = 0
    public var bytes: UInt64 = 0
    public var segments: UInt32 = 0
    public var nextSequence: UInt64 = 0
    public init() {}
}

/// Appends ring records to a ring's journal: fills large aligned buffers (registered with
/// io_uring), seals each as a CRC32C-checksummed block and writes it with io_uring while the next
/// fills, several writes in flight. Rotates segments by size; `seal` drains, writes the seal
/// block and the index.
///
/// Invariant: `buffers` points at `bufferCount × blockBytes` bytes aligned to 4096, owned here and
/// registered with `uring` as fixed buffers 0..<bufferCount; a buffer whose `flights[i].busy` is
/// set belongs to the kernel until its completion is reaped. `small` is a private 4096-byte aligned
/// buffer for file headers and seals, written synchronously.
public struct JournalWriter: ~Copyable {
    public let directory: String
    public let ring: String
    public let bus: String
    public let schema: SchemaID
    public let slotSize: Int
    public let generation: UInt64
    public let options: JournalWriterOptions
    let exchangeTimeOffset: Int
    let hasExchangeTime: Bool

    let uring: OpaquePointer
    let buffers: UnsafeMutableRawPointer
    let small: UnsafeMutableRawPointer
    let bufferCount: Int
    let blockBytes: Int
    /// One per buffer: the write that owns it, if any.
    var flights: [InFlightWrite]
    /// Completions still to reap: buffer writes and interval fsyncs.
    var flying = 0
    var pendingError: JournalError?

    /// The segment file being written.
    var fd: Int32 = -1
    var segment: UInt32 = 0
    var path: String = ""
    var fileOffset: UInt64 = 0
    /// The stats when this segment began (its seal counts what came since).
    var segmentStart: JournalWriterStats = JournalWriterStats()

    /// The block being filled (`current` is its buffer, -1 when none is taken).
    var current = -1
    var fill = 0
    var block = BlockSummary()
    /// Number of the next block (seals included), counted across segments.
    var blockNumber: UInt64 = 0
    var lastFsyncNs: UInt64 = 0

    public private(set) var stats = JournalWriterStats()
    var index: [IndexEntry] = []
    public private(set) var sealed = false

    /// Creates the directory if needed and the ring's first segment file.
    public static func create(
        directory: String,
        ring: String,
        bus: String,
        schema: SchemaID,
        slotSize: Int,
        generation: UInt64,
        firstSequence: UInt64,
        options: JournalWriterOptions = JournalWriterOptions()
    ) throws(JournalError) -> JournalWriter {
        guard slotSize >= 64, slotSize % 64 == 0 else {
            throw .invalidParameter("slot size \(slotSize) is not a multiple of 64")
        }
        let minimumBlock = JournalWriterOptions.minimumBlockBytes(slotSize: slotSize)
        guard options.blockBytes % JournalFormat.alignment == 0, options.blockBytes >= minimumBlock else {
            throw .invalidParameter(
                "block size \(options.blockBytes) must be a multiple of \(JournalFormat.alignment) and at least \(minimumBlock) bytes (\(minimumBlock / 1024) KiB) for \(slotSize)-byte records"
            )
        }
        guard options.buffers >= 2 && options.buffers <= 64 else { throw .invalidParameter("buffers must be 2...64") }
        if mkdir(directory, 0o755) != 0 && errno != EEXIST {
            throw .system(call: "mkdir", path: directory, errno: errno)
        }
        let count = options.buffers
        var err: Int32 = 0
        guard let u = tb_uring_create(UInt32(max(8, count * 2)), &err) else {
            throw .uring(call: "queue_init", errno: err)
        }
        var raw: UnsafeMutableRawPointer?
        let total = count * options.blockBytes + JournalFormat.alignment
        // posix_memalign returns its error number instead of setting errno.
        let allocated = posix_memalign(&raw, JournalFormat.alignment, total)
        if allocated != 0 || raw == nil {
            tb_uring_destroy(u)
            throw .system(call: "posix_memalign", path: directory, errno: allocated != 0 ? allocated : ENOMEM)
        }
        let base = raw!
        // Safe: just allocated with `total` bytes.
        memset(base, 0, total)
        let bases: [UnsafeMutableRawPointer?] = (0..<count).map { base + $0 * options.blockBytes }
        let lengths: [Int] = Array(repeating: options.blockBytes, count: count)
        // Registration can fail under a low RLIMIT_MEMLOCK; plain writes from the same buffers then.
        let rc = tb_uring_register_buffers(u, bases, lengths, UInt32(count))

        var w = JournalWriter(
            directory: directory,
            ring: ring,
            bus: bus,
            schema: schema,
            slotSize: slotSize,
            generation: generation,
            firstSequence: firstSequence,
            options: options,
            uring: u,
            base: base,
            registered: rc == 0
        )
        try w.openSegment(0)
        return w
    }

    private init(
        directory: String,
        ring: String,
        bus: String,
        schema: SchemaID,
        slotSize: Int,
        generation: UInt64,
        firstSequence: UInt64,
        options: JournalWriterOptions,
        uring u: OpaquePointer,
        base: UnsafeMutableRawPointer,
        registered: Bool
    ) {
        let count = options.buffers
        self.directory = directory
        self.ring = ring
        self.bus = bus
        self.schema = schema
        self.slotSize = slotSize
        self.generation = generation
        self.options = options
        let eto = JournalFormat.exchangeTimeOffset(schema)
        exchangeTimeOffset = eto ?? 0
        hasExchangeTime = eto != nil
        bufferCount = count
        blockBytes = options.blockBytes
        flights = Array(repeating: InFlightWrite(), count: count)
        uring = u
        buffers = base
        small = base + count * options.blockBytes
        self.registered = registered
        var st = JournalWriterStats()
        st.nextSequence = firstSequence
        stats = st
        // One entry per block: 4096 cover 4 GiB of 1 MiB blocks before the array grows.
        index.reserveCapacity(4096)
    }

    var registered: Bool

    deinit {
        // Not sealed (an error path): wait for the kernel to finish with the buffers before freeing them.
        var left = flying
        while left > 0 {
            var ud: UInt64 = 0
            var res: Int32 = 0
            if tb_uring_reap(uring, 1, &ud, &res) <= 0 { break }
            left -= 1
        }
        if fd >= 0 { close(fd) }
        tb_uring_destroy(uring)
        free(buffers)
    }

    /// The file being written.
    public var currentPath: String { path }
    /// Whether the block buffers are registered with io_uring (fixed-buffer writes). Registration
    /// pins memory under RLIMIT_MEMLOCK; when it is refused the writer uses plain io_uring writes.
    public var buffersRegistered: Bool { registered }

    // MARK: appending

    /// Appends one record: `slotSize` bytes as read from the ring (bytes 0..<8 are the sequence).
    @inline(__always)
    public mutating func append(_ slot: UnsafeRawPointer) throws(JournalError) {
        if _slowPath(current < 0 || fill &+ slotSize > blockBytes &- JournalFormat.blockHeaderSize) { try _nextBlock() }
        // Safe: current is a buffer this writer owns (not in flight), and fill + slotSize fits in it.
        let dst = buffers + (current &* blockBytes &+ JournalFormat.blockHeaderSize &+ fill)
        memcpy(dst, slot, slotSize)
        let seq = slot.load(as: UInt64.self)
        if hasExchangeTime {
            let t = slot.load(fromByteOffset: exchangeTimeOffset, as: Int64.self)
            if !block.hasTime {
                block.firstTime = t
                block.hasTime = true
            }
            block.lastTime = t
        }
        if fill == 0 { block.firstSequence = seq }
        fill &+= slotSize
        stats.records &+= 1
        stats.nextSequence = seq &+ 1
    }

    /// Appends a gap record: `count` messages from sequence `from` were lost to a lap.
    public mutating func appendGap(from: UInt64, count: UInt64) throws(JournalError) {
        if current < 0 || fill + slotSize > blockBytes - JournalFormat.blockHeaderSize { try _nextBlock() }
        // Safe: as in `append`, the entry lies inside the current buffer, which this writer owns.
        let dst = buffers + current * blockBytes + JournalFormat.blockHeaderSize + fill
        memset(dst, 0, slotSize)
        dst.storeLittleEndian(JournalFormat.gapBit | from, toByteOffset: JournalFormat.Gap.first)
        dst.storeLittleEndian(count, toByteOffset: JournalFormat.Gap.count)
        if fill == 0 { block.firstSequence = from }
        fill += slotSize
        stats.gapRecords += 1
        stats.lost += count
        stats.nextSequence = from + count
    }

    /// Writes the block being filled if it holds records older than `flushAfterNs`, and reaps
    /// finished writes. Call when idle.
    public mutating func service(now: UInt64 = tb_monotonic_ns()) throws(JournalError) {
        try reap(wait: false)
        if current >= 0 && fill > 0 && now &- block.startedNs >= options.flushAfterNs { try submitCurrent() }
        if options.fsync == .interval && now &- lastFsyncNs >= 100_000_000 && stats.blocks > 0 {
            lastFsyncNs = now
            if tb_uring_queue_fsync(uring, fd, UInt64.max) == 0 {
                flying += 1
                _ = tb_uring_submit(uring)
            }
        }
        if let e = pendingError { throw e }
    }

    /// Writes whatever is buffered (a partial block) now.
    public mutating func flush() throws(JournalError) {
        if current >= 0 && fill > 0 { try submitCurrent() }
    }

    /// Flushes, waits for every write, writes the seal block (and fdatasync's the file unless
    /// the policy is `never`) and the index. The writer accepts nothing afterwards.
    public mutating func seal(reason: SealReason) throws(JournalError) {
        guard !sealed else { return }
        try flush()
        try drain()
        try writeSeal(reason: reason)
        if options.fsync != .never { _ = fdatasync(fd) }
        close(fd)
        fd = -1
        sealed = true
        try writeIndex()
    }

    mutating func _nextBlock() throws(JournalError) {
        if sealed { throw .invalidParameter("\(path): append after seal") }
        if current >= 0 && fill > 0 { try submitCurrent() }
        if current >= 0 { return }
        // Rotate before a block that might not fit (with its seal) in this segment; every
        // record appended so far is in a submitted block, so the seal's counts are exact.
        if fileOffset + UInt64(blockBytes + JournalFormat.alignment) > options.segmentBytes
            && fileOffset > UInt64(JournalFormat.headerSize)
        {
            try rotate()
        }
        // Take a free buffer, waiting for a write to finish when all are in flight.
        while true {
            try reap(wait: false)
            if let i = flights.firstIndex(where: { !$0.busy }) {
                current = i
                fill = 0
                block = BlockSummary(startedNs: tb_monotonic_ns())
                return
            }
            try reap(wait: true)
        }
    }

    /// Seals the current buffer as a block and queues its write.
    mutating func submitCurrent() throws(JournalError) {
        let i = current
        let base = buffers + i * blockBytes
        let extent = JournalFormat.roundUp(JournalFormat.blockHeaderSize + fill, JournalFormat.alignment)
        let recordCount = fill / slotSize
        storeBlockHeader(
            base,
            type: JournalFormat.Block.typeRecords,
            payloadBytes: fill,
            recordCount: recordCount,
            firstSequence: block.firstSequence,
            firstExchangeTime: block.hasTime ? block.firstTime : 0,
            lastExchangeTime: block.hasTime ? block.lastTime : 0
        )
        var crc = CRC32C.checksum(base, JournalFormat.Block.crc)
        crc = CRC32C.checksum(base + JournalFormat.blockHeaderSize, fill, continuing: crc)
        base.storeLittleEndian(crc, toByteOffset: JournalFormat.Block.crc)
        // Zero padding: a reader never sees stale bytes of an earlier block.
        let used = JournalFormat.blockHeaderSize + fill
        if extent > used { memset(base + used, 0, extent - used) }

        index.append(
            IndexEntry(
                segment: segment,
                offset: fileOffset,
                block: blockNumber,
                firstSequence: block.firstSequence,
                firstExchangeTime: block.hasTime ? block.firstTime : 0
            )
        )
        try queueWrite(InFlightWrite(busy: true, fd: fd, offset: fileOffset, length: extent, done: 0), buffer: i)
        fileOffset += UInt64(extent)
        blockNumber += 1
        stats.blocks += 1
        stats.bytes += UInt64(extent)
        current = -1
        fill = 0
        if options.fsync == .block {
            try drain()
            if fdatasync(fd) != 0 { throw .system(call: "fdatasync", path: path, errno: errno) }
        }
    }

    /// Queues the rest of write `w` (its bytes `done..<length`) from buffer `i` and submits it.
    mutating func queueWrite(_ w: InFlightWrite, buffer i: Int) throws(JournalError) {
        let base = buffers + i * blockBytes + w.done
        let length = UInt32(w.length - w.done)
        let at = w.offset + UInt64(w.done)
        let fixed = registered ? Int32(i) : -1
        var rc = tb_uring_queue_write(uring, w.fd, base, length, at, fixed, UInt64(i))
        while rc == -EBUSY {
            _ = tb_uring_submit(uring)
            try reap(wait: true)
            rc = tb_uring_queue_write(uring, w.fd, base, length, at, fixed, UInt64(i))
        }
        flights[i] = w
        flights[i].busy = true
        flying += 1
        let s = tb_uring_submit(uring)
        if s < 0 { throw .uring(call: "submit", errno: -s) }
    }

    /// Reaps completions; requeues the rest of a short write.
    mutating func reap(wait: Bool) throws(JournalError) {
        var first = true
        while flying > 0 {
            var ud: UInt64 = 0
            var res: Int32 = 0
            let rc = tb_uring_reap(uring, (wait && first) ? 1 : 0, &ud, &res)
            if rc == 0 { return }
            if rc < 0 {
                if -rc == EINTR { continue }
                throw .uring(call: "wait_cqe", errno: -rc)
            }
            first = false
            flying -= 1
            if ud == UInt64.max {  // an interval fsync
                if res < 0 && pendingError == nil { pendingError = .system(call: "fdatasync", path: path, errno: -res) }
                continue
            }
            let i = Int(ud)
            var w = flights[i]
            if res < 0 {
                flights[i].busy = false
                let e = JournalError.writeFailed(file: path, offset: w.offset, errno: -res)
                pendingError = e
                throw e
            }
            w.done += Int(res)
            if w.done < w.length {
                if res == 0 { throw .writeFailed(file: path, offset: w.offset + UInt64(w.done), errno: EIO) }
                // The rest goes to the file the write began in (rotation may have opened the next).
                try queueWrite(w, buffer: i)
                continue
            }
            flights[i].busy = false
        }
    }

    /// Waits for every write in flight.
    mutating func drain() throws(JournalError) {
        while flying > 0 { try reap(wait: true) }
        if let e = pendingError { throw e }
    }

    // MARK: segments

    mutating func openSegment(_ n: UInt32) throws(JournalError) {
        segment = n
        path = directory + "/" + JournalFormat.segmentFileName(ring: ring, segment: n)
        // O_EXCL: a journal is never overwritten (a second recording needs its own directory).
        var flags = O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC
        if options.direct { flags |= _oDirect }
        fd = open(path, flags, 0o644)
        if fd < 0 {
            if errno == EEXIST {
                throw .invalidParameter(
                    "\(path) already exists: \(directory) holds a journal of ring '\(ring)'; record into a new directory"
                )
            }
            throw .system(call: "open", path: path, errno: errno)
        }
        let h = small
        memset(h, 0, JournalFormat.headerSize)
        h.storeLittleEndian(JournalFormat.fileMagic, toByteOffset: JournalFormat.Header.magic)
        h.storeLittleEndian(JournalFormat.version, toByteOffset: JournalFormat.Header.version)
        h.storeLittleEndian(UInt32(JournalFormat.headerSize), toByteOffset: JournalFormat.Header.headerSize)
        h.storeLittleEndian(schema.rawValue, toByteOffset: JournalFormat.Header.schema)
        h.storeLittleEndian(UInt32(slotSize), toByteOffset: JournalFormat.Header.slotSize)
        h.storeLittleEndian(n, toByteOffset: JournalFormat.Header.segment)
        h.storeLittleEndian(UInt32(JournalFormat.alignment), toByteOffset: JournalFormat.Header.alignment)
        h.storeLittleEndian(stats.nextSequence, toByteOffset: JournalFormat.Header.firstSequence)
        h.storeLittleEndian(tb_realtime_ns(), toByteOffset: JournalFormat.Header.createdRealtimeNs)
        h.storeLittleEndian(generation, toByteOffset: JournalFormat.Header.generation)
        h.storeLittleEndian(UInt32(blockBytes), toByteOffset: JournalFormat.Header.maxBlockBytes)
        for (k, b) in ring.utf8.prefix(JournalFormat.Header.nameLength - 1).enumerated() {
            h.storeBytes(of: b, toByteOffset: JournalFormat.Header.ringName + k, as: UInt8.self)
        }
        for (k, b) in bus.utf8.prefix(JournalFormat.Header.nameLength - 1).enumerated() {
            h.storeBytes(of: b, toByteOffset: JournalFormat.Header.busName + k, as: UInt8.self)
        }
        h.storeLittleEndian(CRC32C.checksum(h, JournalFormat.Header.crc), toByteOffset: JournalFormat.Header.crc)
        try writeSync(h, JournalFormat.headerSize, at: 0)
        fileOffset = UInt64(JournalFormat.headerSize)
        stats.segments = n + 1
        segmentStart = stats
    }

    mutating func rotate() throws(JournalError) {
        try drain()
        try writeSeal(reason: .rotated)
        if options.fsync != .never { _ = fdatasync(fd) }
        close(fd)
        fd = -1
        try openSegment(segment + 1)
    }

    /// Writes a seal block (synchronously, after every write before it has completed).
    mutating func writeSeal(reason: SealReason) throws(JournalError) {
        let b = small
        memset(b, 0, JournalFormat.alignment)
        let p = b + JournalFormat.blockHeaderSize
        p.storeLittleEndian(stats.records - segmentStart.records, toByteOffset: JournalFormat.Seal.records)
        p.storeLittleEndian(stats.gapRecords - segmentStart.gapRecords, toByteOffset: JournalFormat.Seal.gapRecords)
        p.storeLittleEndian(stats.lost - segmentStart.lost, toByteOffset: JournalFormat.Seal.lost)
        p.storeLittleEndian(stats.nextSequence, toByteOffset: JournalFormat.Seal.nextSequence)
        p.storeLittleEndian(reason.rawValue, toByteOffset: JournalFormat.Seal.reason)
        storeBlockHeader(
            b,
            type: JournalFormat.Block.typeSeal,
            payloadBytes: JournalFormat.sealPayloadSize,
            recordCount: 0,
            firstSequence: stats.nextSequence,
            firstExchangeTime: 0,
            lastExchangeTime: 0
        )
        var crc = CRC32C.checksum(b, JournalFormat.Block.crc)
        crc = CRC32C.checksum(p, JournalFormat.sealPayloadSize, continuing: crc)
        b.storeLittleEndian(crc, toByteOffset: JournalFormat.Block.crc)
        try writeSync(b, JournalFormat.alignment, at: fileOffset)
        fileOffset += UInt64(JournalFormat.alignment)
        blockNumber += 1
        stats.bytes += UInt64(JournalFormat.alignment)
    }

    /// Writes the fields of a block header before its CRC (the number is `blockNumber`; the next
    /// sequence is `stats.nextSequence`; the reserved word is zero).
    func storeBlockHeader(
        _ b: UnsafeMutableRawPointer,
        type: UInt16,
        payloadBytes: Int,
        recordCount: Int,
        firstSequence: UInt64,
        firstExchangeTime: Int64,
        lastExchangeTime: Int64
    ) {
        b.storeLittleEndian(JournalFormat.blockMagic, toByteOffset: JournalFormat.Block.magic)
        b.storeLittleEndian(type, toByteOffset: JournalFormat.Block.type)
        b.storeLittleEndian(UInt16(JournalFormat.blockHeaderSize), toByteOffset: JournalFormat.Block.headerSize)
        b.storeLittleEndian(blockNumber, toByteOffset: JournalFormat.Block.number)
        b.storeLittleEndian(UInt32(payloadBytes), toByteOffset: JournalFormat.Block.payloadBytes)
        b.storeLittleEndian(UInt32(recordCount), toByteOffset: JournalFormat.Block.recordCount)
        b.storeLittleEndian(firstSequence, toByteOffset: JournalFormat.Block.firstSequence)
        b.storeLittleEndian(stats.nextSequence, toByteOffset: JournalFormat.Block.nextSequence)
        b.storeLittleEndian(firstExchangeTime, toByteOffset: JournalFormat.Block.firstExchangeTime)
        b.storeLittleEndian(lastExchangeTime, toByteOffset: JournalFormat.Block.lastExchangeTime)
        b.storeLittleEndian(UInt32(0), toByteOffset: JournalFormat.Block.reserved)
    }

    func writeSync(_ p: UnsafeRawPointer, _ n: Int, at offset: UInt64) throws(JournalError) {
        var done = 0
        while done < n {
            let w: Int
            do throws(SystemCallError) {
                w = try retryingEINTR("pwrite", path) { pwrite(fd, p + done, n - done, off_t(offset) + off_t(done)) }
            } catch {
                throw .writeFailed(file: path, offset: offset + UInt64(done), errno: error.errno)
            }
            done += w
        }
    }

    /// Writes `<ring>.index` (to a temporary name, then renamed: an index is whole or absent).
    func writeIndex() throws(JournalError) {
        typealias Index = JournalFormat.Index
        var bytes = [UInt8](repeating: 0, count: Index.entry(index.count) + Index.crcSize)
        bytes.withUnsafeMutableBytes { raw in
            let b = raw.baseAddress!  // Safe: the array is never empty (header and CRC at least).
            b.storeLittleEndian(JournalFormat.indexMagic, toByteOffset: Index.magic)
            b.storeLittleEndian(JournalFormat.version, toByteOffset: Index.version)
            b.storeLittleEndian(UInt32(index.count), toByteOffset: Index.entryCount)
            b.storeLittleEndian(UInt32(slotSize), toByteOffset: Index.slotSize)
            b.storeLittleEndian(schema.rawValue, toByteOffset: Index.schema)
            for (k, e) in index.enumerated() {
                let o = Index.entry(k)
                b.storeLittleEndian(e.segment, toByteOffset: o + Index.Entry.segment)
                b.storeLittleEndian(e.offset, toByteOffset: o + Index.Entry.fileOffset)
                b.storeLittleEndian(e.block, toByteOffset: o + Index.Entry.block)
                b.storeLittleEndian(e.firstSequence, toByteOffset: o + Index.Entry.firstSequence)
                b.storeLittleEndian(e.firstExchangeTime, toByteOffset: o + Index.Entry.firstExchangeTime)
            }
            let n = raw.count - Index.crcSize
            b.storeLittleEndian(CRC32C.checksum(b, n), toByteOffset: n)
        }
        let final = directory + "/" + JournalFormat.indexFileName(ring: ring)
        let tmp = final + ".tmp"
        let ifd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        if ifd < 0 { throw .system(call: "open", path: tmp, errno: errno) }
        defer { close(ifd) }  // after the error below has read errno
        // write may return short (a signal, a full disk): loop; its errno is read before close.
        var done = 0
        while done < bytes.count {
            let w: Int
            do throws(SystemCallError) {
                w = try retryingEINTR("write", tmp) {
                    bytes.withUnsafeBytes { Glibc.write(ifd, $0.baseAddress! + done, $0.count - done) }
                }
            } catch {
                throw JournalError(error)
            }
            if w == 0 { throw .system(call: "write", path: tmp, errno: EIO) }
            done += w
        }
        if rename(tmp, final) != 0 { throw .system(call: "rename", path: final, errno: errno) }
    }
}

// O_DIRECT is a macro Swift does not import.
#if arch(x86_64)
let _oDirect: Int32 = 0o40000
#else
let _oDirect: Int32 = 0o200000
#endif

/// One block write given to io_uring: which file and where, and how much of it has completed (a
/// short write is requeued from `done`).
struct InFlightWrite {
    /// The buffer belongs to the kernel until this write's completion is reaped.
    var busy = false
    /// The file the write began in: a short write continues there even after a rotation.
    var fd: Int32 = -1
    var offset: UInt64 = 0
    var length = 0
    var done = 0
}

/// What the block being filled holds so far (written into its header when it is sealed).
struct BlockSummary {
    var firstSequence: UInt64 = 0
    var firstTime: Int64 = 0
    var lastTime: Int64 = 0
    /// Whether any record carried an exchange time (the schema has one and a record was appended).
    var hasTime = false
    /// When the block's buffer was taken (monotonic ns): `service` writes it once it is old.
    var startedNs: UInt64 = 0
}

/// One index entry: where a block starts and what it starts with.
public struct IndexEntry: Sendable, Equatable {
    public var segment: UInt32
    public var offset: UInt64
    public var block: UInt64
    public var firstSequence: UInt64
    public var firstExchangeTime: Int64
}
