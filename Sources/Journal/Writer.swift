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
/// registered with `uring` as fixed buffers 0..<bufferCount; a buffer whose `inFlight` flag is set
/// belongs to the kernel until its completion is reaped. `small` is a private 4096-byte aligned
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
    var inFlight: [Bool]
    var flightFd: [Int32]
    var flightOffset: [UInt64]
    var flightLength: [Int]
    var flightDone: [Int]
    var flying = 0
    var pendingError: JournalError?

    var fd: Int32 = -1
    var segment: UInt32 = 0
    var path: String = ""
    var fileOffset: UInt64 = 0
    var segmentStart: JournalWriterStats = JournalWriterStats()

    // The block being filled.
    var current = -1
    var fill = 0
    var blockFirstSequence: UInt64 = 0
    var blockFirstTime: Int64 = 0
    var blockLastTime: Int64 = 0
    var blockHasTime = false
    var blockStartedNs: UInt64 = 0
    var blockNumber: UInt64 = 0
    var lastFsyncNs: UInt64 = 0

    public private(set) var stats = JournalWriterStats()
    var index: [IndexEntry] = []
    public private(set) var sealed = false

    /// Creates the directory if needed and the ring's first segment file.
    public static func create(directory: String, ring: String, bus: String, schema: SchemaID, slotSize: Int, generation: UInt64,
                              firstSequence: UInt64, options: JournalWriterOptions = JournalWriterOptions()) throws(JournalError) -> JournalWriter {
        guard slotSize >= 64, slotSize % 64 == 0 else { throw .invalidParameter("slot size \(slotSize) is not a multiple of 64") }
        let minimumBlock = JournalWriterOptions.minimumBlockBytes(slotSize: slotSize)
        guard options.blockBytes % JournalFormat.alignment == 0, options.blockBytes >= minimumBlock else {
            throw .invalidParameter(
                "block size \(options.blockBytes) must be a multiple of \(JournalFormat.alignment) and at least \(minimumBlock) bytes (\(minimumBlock / 1024) KiB) for \(slotSize)-byte records")
        }
        guard options.buffers >= 2 && options.buffers <= 64 else { throw .invalidParameter("buffers must be 2...64") }
        if mkdir(directory, 0o755) != 0 && errno != EEXIST { throw .system(call: "mkdir", path: directory, errno: errno) }
        let count = options.buffers
        var err: Int32 = 0
        guard let u = tb_uring_create(UInt32(max(8, count * 2)), &err) else { throw .uring(call: "queue_init", errno: err) }
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

        var w = JournalWriter(directory: directory, ring: ring, bus: bus, schema: schema, slotSize: slotSize, generation: generation,
                              firstSequence: firstSequence, options: options, uring: u, base: base, registered: rc == 0)
        try w.openSegment(0)
        return w
    }

    private init(directory: String, ring: String, bus: String, schema: SchemaID, slotSize: Int, generation: UInt64,
                 firstSequence: UInt64, options: JournalWriterOptions, uring u: OpaquePointer, base: UnsafeMutableRawPointer, registered: Bool) {
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
        inFlight = Array(repeating: false, count: count)
        flightFd = Array(repeating: -1, count: count)
        flightOffset = Array(repeating: 0, count: count)
        flightLength = Array(repeating: 0, count: count)
        flightDone = Array(repeating: 0, count: count)
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
            if !blockHasTime { blockFirstTime = t; blockHasTime = true }
            blockLastTime = t
        }
        if fill == 0 { blockFirstSequence = seq }
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
        dst.storeBytes(of: (JournalFormat.gapBit | from).littleEndian, as: UInt64.self)
        dst.storeBytes(of: count.littleEndian, toByteOffset: 8, as: UInt64.self)
        if fill == 0 { blockFirstSequence = from }
        fill += slotSize
        stats.gapRecords += 1
        stats.lost += count
        stats.nextSequence = from + count
    }

    /// Writes the block being filled if it holds records older than `flushAfterNs`, and reaps
    /// finished writes. Call when idle.
    public mutating func service(now: UInt64 = tb_monotonic_ns()) throws(JournalError) {
        try reap(wait: false)
        if current >= 0 && fill > 0 && now &- blockStartedNs >= options.flushAfterNs { try submitCurrent() }
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
        if fileOffset + UInt64(blockBytes + JournalFormat.alignment) > options.segmentBytes && fileOffset > UInt64(JournalFormat.headerSize) {
            try rotate()
        }
        // Take a free buffer, waiting for a write to finish when all are in flight.
        while true {
            try reap(wait: false)
            if let i = inFlight.firstIndex(of: false) {
                current = i
                fill = 0
                blockHasTime = false
                blockStartedNs = tb_monotonic_ns()
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
        base.storeBytes(of: JournalFormat.blockMagic.littleEndian, toByteOffset: JournalFormat.Block.magic, as: UInt32.self)
        base.storeBytes(of: JournalFormat.Block.typeRecords.littleEndian, toByteOffset: JournalFormat.Block.type, as: UInt16.self)
        base.storeBytes(of: UInt16(JournalFormat.blockHeaderSize).littleEndian, toByteOffset: JournalFormat.Block.headerSize, as: UInt16.self)
        base.storeBytes(of: blockNumber.littleEndian, toByteOffset: JournalFormat.Block.number, as: UInt64.self)
        base.storeBytes(of: UInt32(fill).littleEndian, toByteOffset: JournalFormat.Block.payloadBytes, as: UInt32.self)
        base.storeBytes(of: UInt32(recordCount).littleEndian, toByteOffset: JournalFormat.Block.recordCount, as: UInt32.self)
        base.storeBytes(of: blockFirstSequence.littleEndian, toByteOffset: JournalFormat.Block.firstSequence, as: UInt64.self)
        base.storeBytes(of: stats.nextSequence.littleEndian, toByteOffset: JournalFormat.Block.nextSequence, as: UInt64.self)
        base.storeBytes(of: (blockHasTime ? blockFirstTime : 0).littleEndian, toByteOffset: JournalFormat.Block.firstExchangeTime, as: Int64.self)
        base.storeBytes(of: (blockHasTime ? blockLastTime : 0).littleEndian, toByteOffset: JournalFormat.Block.lastExchangeTime, as: Int64.self)
        base.storeBytes(of: UInt32(0), toByteOffset: JournalFormat.Block.reserved, as: UInt32.self)
        var crc = CRC32C.checksum(base, JournalFormat.Block.crc)
        crc = CRC32C.checksum(base + JournalFormat.blockHeaderSize, fill, continuing: crc)
        base.storeBytes(of: crc.littleEndian, toByteOffset: JournalFormat.Block.crc, as: UInt32.self)
        // Zero padding: a reader never sees stale bytes of an earlier block.
        let used = JournalFormat.blockHeaderSize + fill
        if extent > used { memset(base + used, 0, extent - used) }

        index.append(IndexEntry(segment: segment, offset: fileOffset, block: blockNumber, firstSequence: blockFirstSequence,
                                firstExchangeTime: blockHasTime ? blockFirstTime : 0))
        try queueWrite(buffer: i, offset: fileOffset, length: extent, done: 0)
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

    mutating func queueWrite(buffer i: Int, offset: UInt64, length: Int, done: Int) throws(JournalError) {
        let base = buffers + i * blockBytes + done
        var rc = tb_uring_queue_write(uring, fd, base, UInt32(length - done), offset + UInt64(done), registered ? Int32(i) : -1, UInt64(i))
        while rc == -EBUSY {
            _ = tb_uring_submit(uring)
            try reap(wait: true)
            rc = tb_uring_queue_write(uring, fd, base, UInt32(length - done), offset + UInt64(done), registered ? Int32(i) : -1, UInt64(i))
        }
        inFlight[i] = true
        flightFd[i] = fd
        flightOffset[i] = offset
        flightLength[i] = length
        flightDone[i] = done
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
            if res < 0 {
                inFlight[i] = false
                let e = JournalError.writeFailed(file: path, offset: flightOffset[i], errno: -res)
                pendingError = e
                throw e
            }
            let done = flightDone[i] + Int(res)
            if done < flightLength[i] {
                if res == 0 { throw .writeFailed(file: path, offset: flightOffset[i] + UInt64(done), errno: EIO) }
                let savedFd = fd
                fd = flightFd[i]
                defer { fd = savedFd }
                try queueWrite(buffer: i, offset: flightOffset[i], length: flightLength[i], done: done)
                continue
            }
            inFlight[i] = false
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
            if errno == EEXIST { throw .invalidParameter("\(path) already exists: \(directory) holds a journal of ring '\(ring)'; record into a new directory") }
            throw .system(call: "open", path: path, errno: errno)
        }
        let h = small
        memset(h, 0, JournalFormat.headerSize)
        h.storeBytes(of: JournalFormat.fileMagic.littleEndian, toByteOffset: JournalFormat.Header.magic, as: UInt64.self)
        h.storeBytes(of: JournalFormat.version.littleEndian, toByteOffset: JournalFormat.Header.version, as: UInt32.self)
        h.storeBytes(of: UInt32(JournalFormat.headerSize).littleEndian, toByteOffset: JournalFormat.Header.headerSize, as: UInt32.self)
        h.storeBytes(of: schema.rawValue.littleEndian, toByteOffset: JournalFormat.Header.schema, as: UInt32.self)
        h.storeBytes(of: UInt32(slotSize).littleEndian, toByteOffset: JournalFormat.Header.slotSize, as: UInt32.self)
        h.storeBytes(of: n.littleEndian, toByteOffset: JournalFormat.Header.segment, as: UInt32.self)
        h.storeBytes(of: UInt32(JournalFormat.alignment).littleEndian, toByteOffset: JournalFormat.Header.alignment, as: UInt32.self)
        h.storeBytes(of: stats.nextSequence.littleEndian, toByteOffset: JournalFormat.Header.firstSequence, as: UInt64.self)
        h.storeBytes(of: tb_realtime_ns().littleEndian, toByteOffset: JournalFormat.Header.createdRealtimeNs, as: UInt64.self)
        h.storeBytes(of: generation.littleEndian, toByteOffset: JournalFormat.Header.generation, as: UInt64.self)
        h.storeBytes(of: UInt32(blockBytes).littleEndian, toByteOffset: JournalFormat.Header.maxBlockBytes, as: UInt32.self)
        for (k, b) in ring.utf8.prefix(JournalFormat.Header.nameLength - 1).enumerated() {
            h.storeBytes(of: b, toByteOffset: JournalFormat.Header.ringName + k, as: UInt8.self)
        }
        for (k, b) in bus.utf8.prefix(JournalFormat.Header.nameLength - 1).enumerated() {
            h.storeBytes(of: b, toByteOffset: JournalFormat.Header.busName + k, as: UInt8.self)
        }
        let crc = CRC32C.checksum(h, JournalFormat.Header.crc)
        h.storeBytes(of: crc.littleEndian, toByteOffset: JournalFormat.Header.crc, as: UInt32.self)
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
        p.storeBytes(of: (stats.records - segmentStart.records).littleEndian, toByteOffset: JournalFormat.Seal.records, as: UInt64.self)
        p.storeBytes(of: (stats.gapRecords - segmentStart.gapRecords).littleEndian, toByteOffset: JournalFormat.Seal.gapRecords, as: UInt64.self)
        p.storeBytes(of: (stats.lost - segmentStart.lost).littleEndian, toByteOffset: JournalFormat.Seal.lost, as: UInt64.self)
        p.storeBytes(of: stats.nextSequence.littleEndian, toByteOffset: JournalFormat.Seal.nextSequence, as: UInt64.self)
        p.storeBytes(of: reason.rawValue.littleEndian, toByteOffset: JournalFormat.Seal.reason, as: UInt32.self)
        b.storeBytes(of: JournalFormat.blockMagic.littleEndian, toByteOffset: JournalFormat.Block.magic, as: UInt32.self)
        b.storeBytes(of: JournalFormat.Block.typeSeal.littleEndian, toByteOffset: JournalFormat.Block.type, as: UInt16.self)
        b.storeBytes(of: UInt16(JournalFormat.blockHeaderSize).littleEndian, toByteOffset: JournalFormat.Block.headerSize, as: UInt16.self)
        b.storeBytes(of: blockNumber.littleEndian, toByteOffset: JournalFormat.Block.number, as: UInt64.self)
        b.storeBytes(of: UInt32(JournalFormat.sealPayloadSize).littleEndian, toByteOffset: JournalFormat.Block.payloadBytes, as: UInt32.self)
        b.storeBytes(of: stats.nextSequence.littleEndian, toByteOffset: JournalFormat.Block.firstSequence, as: UInt64.self)
        b.storeBytes(of: stats.nextSequence.littleEndian, toByteOffset: JournalFormat.Block.nextSequence, as: UInt64.self)
        var crc = CRC32C.checksum(b, JournalFormat.Block.crc)
        crc = CRC32C.checksum(p, JournalFormat.sealPayloadSize, continuing: crc)
        b.storeBytes(of: crc.littleEndian, toByteOffset: JournalFormat.Block.crc, as: UInt32.self)
        try writeSync(b, JournalFormat.alignment, at: fileOffset)
        fileOffset += UInt64(JournalFormat.alignment)
        blockNumber += 1
        stats.bytes += UInt64(JournalFormat.alignment)
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
        var bytes = [UInt8](repeating: 0, count: JournalFormat.Index.headerSize + index.count * JournalFormat.Index.entrySize + 4)
        bytes.withUnsafeMutableBytes { raw in
            let b = raw.baseAddress!
            b.storeBytes(of: JournalFormat.indexMagic.littleEndian, as: UInt64.self)
            b.storeBytes(of: JournalFormat.version.littleEndian, toByteOffset: 8, as: UInt32.self)
            b.storeBytes(of: UInt32(index.count).littleEndian, toByteOffset: 12, as: UInt32.self)
            b.storeBytes(of: UInt32(slotSize).littleEndian, toByteOffset: 16, as: UInt32.self)
            b.storeBytes(of: schema.rawValue.littleEndian, toByteOffset: 20, as: UInt32.self)
            for (k, e) in index.enumerated() {
                let o = JournalFormat.Index.headerSize + k * JournalFormat.Index.entrySize
                b.storeBytes(of: e.segment.littleEndian, toByteOffset: o, as: UInt32.self)
                b.storeBytes(of: e.offset.littleEndian, toByteOffset: o + 8, as: UInt64.self)
                b.storeBytes(of: e.block.littleEndian, toByteOffset: o + 16, as: UInt64.self)
                b.storeBytes(of: e.firstSequence.littleEndian, toByteOffset: o + 24, as: UInt64.self)
                b.storeBytes(of: e.firstExchangeTime.littleEndian, toByteOffset: o + 32, as: Int64.self)
            }
            let n = raw.count - 4
            let crc = CRC32C.checksum(b, n)
            b.storeBytes(of: crc.littleEndian, toByteOffset: n, as: UInt32.self)
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
                w = try retryingEINTR("write", tmp) { bytes.withUnsafeBytes { Glibc.write(ifd, $0.baseAddress! + done, $0.count - done) } }
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

/// One index entry: where a block starts and what it starts with.
public struct IndexEntry: Sendable, Equatable {
    public var segment: UInt32
    public var offset: UInt64
    public var block: UInt64
    public var firstSequence: UInt64
    public var firstExchangeTime: Int64
}
