import CTickBus
#if canImport(Glibc)
import Glibc
#endif

// Per-process statistics in shared memory: counters and a latency histogram that a strategy (or
// any process) writes with plain relaxed stores and that telemetry (`tickbus metrics`, `tickbus
// stat`) reads from another process. One file per process and name:
// `/dev/shm/tickbus/<bus>/stats.<name>`. `Segment.list` skips these names, so `stats.` is a
// reserved ring-name prefix.

/// The fixed byte layout of a stats block. All integers little-endian; single writer.
///
/// ```
/// 0     magic u64 "TKBSTATS"   8 version u32   12 kind u32   16 file size u64   24 pid i32
/// 28    state u32 (running 1, closed 2)   32 generation u64   40 created (realtime ns)
/// 48    model id u64   56 shadow model id u64   64 name (64 bytes, NUL padded)
/// 128   heartbeat (monotonic ns), own cache line
/// 192   counters: 16 x u64 (`StatsCounter`)
/// 320   latency: count u64, sum ns u64, min ns u64, max ns u64, overflow u64
/// 384   latency buckets: `LatencyHistogramLayout.bucketCount` x u64
/// ```
public enum StatsLayout {
    /// "TKBSTATS" read as a little-endian UInt64.
    public static let magic: UInt64 = 0x5354_4154_5342_4B54
    public static let version: UInt32 = 1
    public static let filePrefix = "stats."

    public static let magicOffset = 0
    public static let versionOffset = 8
    public static let kindOffset = 12
    public static let fileSizeOffset = 16
    public static let pidOffset = 24
    public static let stateOffset = 28
    public static let generationOffset = 32
    public static let createdOffset = 40
    public static let modelIdOffset = 48
    public static let shadowModelIdOffset = 56
    public static let nameOffset = 64
    public static let nameLength = 64
    public static let heartbeatOffset = 128
    public static let countersOffset = 192
    public static let counterSlots = 16
    public static let latencyCountOffset = 320
    public static let latencySumOffset = 328
    public static let latencyMinOffset = 336
    public static let latencyMaxOffset = 344
    public static let latencyOverflowOffset = 352
    public static let bucketsOffset = 384

    public static var fileSize: Int { bucketsOffset + LatencyHistogramLayout.bucketCount * 8 }

    public static func path(bus: String, name: String) -> String { "\(BusPaths.busDirectory(bus))/\(filePrefix)\(name)" }
}

/// What kind of process writes a stats block (a label in telemetry).
public enum StatsKind: UInt32, Sendable, CaseIterable, CustomStringConvertible {
    case other = 0
    case strategy = 1
    case feed = 2
    case recorder = 3

    public var description: String {
        switch self {
        case .other: return "other"
        case .strategy: return "strategy"
        case .feed: return "feed"
        case .recorder: return "recorder"
        }
    }
}

/// The counters of a stats block. Raw values are slot indices: never renumber, only append.
public enum StatsCounter: Int, Sendable, CaseIterable {
    /// Market messages the process consumed.
    case messages = 0
    /// Decision records published.
    case decisions = 1
    /// Decisions with a non-zero signal.
    case signals = 2
    /// Decisions where the live and the shadow model disagree (different signal).
    case disagreements = 3
    /// Decisions made with a shadow model present (the denominator of disagreements).
    case shadowDecisions = 4
    /// Gaps (laps) the process saw on its input ring.
    case gaps = 5
    /// Messages it lost to those gaps.
    case lost = 6

    /// The metric name stem (`tickbus_<kind>_<stem>_total`).
    public var metricStem: String {
        switch self {
        case .messages: return "messages"
        case .decisions: return "decisions"
        case .signals: return "signals"
        case .disagreements: return "disagreements"
        case .shadowDecisions: return "shadow_decisions"
        case .gaps: return "gaps"
        case .lost: return "lost_messages"
        }
    }
}

/// HdrHistogram's log-linear bucketing with 2 significant decimal digits, in nanoseconds:
/// 256 sub-buckets per power of two (relative error below 1/128), values 1 ns .. 10 s, larger
/// values counted in the last bucket (and in `overflow`). Index math is HdrHistogram's
/// (unit magnitude 0, sub-bucket half-count magnitude 7).
public enum LatencyHistogramLayout {
    public static let subBucketHalfCountMagnitude = 7
    public static let subBucketHalfCount = 128
    public static let subBucketMask: UInt64 = 255
    /// Highest value tracked exactly to 2 significant digits: 10 s.
    public static let highestTrackable: UInt64 = 10_000_000_000
    /// Lowest value of interest (for documentation and the Prometheus buckets): 10 ns.
    public static let lowestOfInterest: UInt64 = 10
    /// Buckets needed to cover `highestTrackable`: (26 + 1 + 1) x 128.
    public static let bucketCount = 3584

    /// The bucket of a value (ns). Values above 10 s go to the bucket of 10 s.
    @inlinable @inline(__always)
    public static func index(_ value: UInt64) -> Int {
        let v = value > highestTrackable ? highestTrackable : value
        // Safe: v | 255 is non-zero, so leadingZeroBitCount <= 56 and bucket >= 0.
        let bucket = 56 &- (v | subBucketMask).leadingZeroBitCount
        let sub = Int(truncatingIfNeeded: v >> UInt64(bucket))
        return ((bucket &+ 1) << subBucketHalfCountMagnitude) &+ (sub &- subBucketHalfCount)
    }

    /// The lowest value (ns) counted in bucket `index`.
    @inlinable public static func lowestValue(_ index: Int) -> UInt64 {
        var bucket = (index >> subBucketHalfCountMagnitude) - 1
        var sub = (index & (subBucketHalfCount - 1)) + subBucketHalfCount
        if bucket < 0 {
            sub -= subBucketHalfCount
            bucket = 0
        }
        return UInt64(sub) << UInt64(bucket)
    }

    /// The highest value (ns) counted in bucket `index`.
    @inlinable public static func highestValue(_ index: Int) -> UInt64 {
        let bucket = max(0, (index >> subBucketHalfCountMagnitude) - 1)
        return lowestValue(index) + (UInt64(1) << UInt64(bucket)) - 1
    }
}

/// Why a stats block could not be created or read. Each case names the file.
public enum StatsError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalidName(String)
    case system(call: String, path: String, errno: Int32)
    case notFound(path: String)
    case fileTooSmall(path: String, size: Int, needed: Int)
    case badMagic(path: String, found: UInt64)
    case unsupportedVersion(path: String, found: UInt32, supported: UInt32)
    case alreadyRunning(path: String, pid: Int32)

    public var description: String {
        switch self {
        case .invalidName(let n): return "invalid stats name '\(n)': use 1 to 57 characters from A-Z a-z 0-9 . _ -"
        case .system(let call, let path, let e): return "\(call)(\(path)) failed: \(String(cString: strerror(e))) (errno \(e))"
        case .notFound(let path): return "\(path): no such stats block"
        case .fileTooSmall(let path, let size, let needed): return "\(path): stats file is \(size) bytes, expected \(needed); refused before mapping"
        case .badMagic(let path, let found): return "\(path): header field 'magic' is 0x\(String(found, radix: 16)), expected 0x\(String(StatsLayout.magic, radix: 16)) ('TKBSTATS'); not a stats block"
        case .unsupportedVersion(let path, let found, let supported): return "\(path): header field 'version' is \(found); this build reads stats version \(supported)"
        case .alreadyRunning(let path, let pid): return "\(path): process \(pid) is still writing this stats block; use another name"
        }
    }
}

/// A mapped stats file. Invariant: `base` points at `StatsLayout.fileSize` bytes mapped shared,
/// read-write, whose header was validated (or written) before the mapping was handed out.
public final class _StatsMapping: @unchecked Sendable {
    public let base: UnsafeMutableRawPointer
    public let path: String

    init(base: UnsafeMutableRawPointer, path: String) {
        self.base = base
        self.path = path
    }

    deinit { munmap(base, StatsLayout.fileSize) }
}

/// The writer of one stats block: counters and a latency histogram updated with relaxed loads and
/// stores only (one writer thread per block, so no read-modify-write instruction is needed and no
/// lock, syscall or allocation happens per call). Telemetry reads the block from another process.
///
/// ```swift
/// let stats = try StatsWriter(bus: "prod", name: "alpha", kind: .strategy, modelId: id)
/// stats.count(.messages)                       // per market message
/// stats.recordDecision(latencyNs: publish - receive, signal: s, shadowSignal: shadow)
/// stats.heartbeat()                            // when idle and every few thousand messages
/// stats.close()                                // at a clean exit
/// ```
///
/// Invariant: only the thread that owns this writer calls the recording methods (copies share the
/// block and must stay on that thread); `mapping` keeps the pointers below valid.
public struct StatsWriter: @unchecked Sendable {
    public let mapping: _StatsMapping
    @usableFromInline let counters: UnsafeMutableRawPointer
    @usableFromInline let latency: UnsafeMutableRawPointer
    @usableFromInline let buckets: UnsafeMutableRawPointer

    /// Creates (or replaces, with the next generation) `/dev/shm/tickbus/<bus>/stats.<name>`. The
    /// file is written under a temporary name and renamed into place, like a ring segment.
    public init(
        bus: String, name: String, kind: StatsKind = .strategy, modelId: UInt64 = 0, shadowModelId: UInt64 = 0
    ) throws(StatsError) {
        do throws(SegmentError) { try BusPaths.validate(bus) } catch { throw .invalidName(bus) }
        guard name.utf8.count <= 57 else { throw .invalidName(name) }
        do throws(SegmentError) { try BusPaths.validate(name) } catch { throw .invalidName(name) }
        let dir = BusPaths.busDirectory(bus)
        if mkdir(BusPaths.root, 0o1777) == 0 { chmod(BusPaths.root, 0o1777) }
        if mkdir(dir, 0o700) != 0 && errno != EEXIST { throw .system(call: "mkdir", path: dir, errno: errno) }
        let path = StatsLayout.path(bus: bus, name: name)

        var generation: UInt64 = 1
        if let previous = try? StatsBlock.attach(path: path) {
            let pid = previous.base.load(fromByteOffset: StatsLayout.pidOffset, as: Int32.self)
            let state = tb_load_acquire_u32(previous.base + StatsLayout.stateOffset)
            if pid != getpid(), tb_pid_alive(pid) != 0, state == ProducerState.running.rawValue {
                throw .alreadyRunning(path: path, pid: pid)
            }
            generation = previous.base.load(fromByteOffset: StatsLayout.generationOffset, as: UInt64.self) &+ 1
        }

        let tmp = "\(path).tmp.\(getpid())"
        let fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        if fd < 0 { throw .system(call: "open", path: tmp, errno: errno) }
        defer { Glibc.close(fd) }
        let size = StatsLayout.fileSize
        if ftruncate(fd, off_t(size)) != 0 { let e = errno; unlink(tmp); throw .system(call: "ftruncate", path: tmp, errno: e) }
        guard let raw = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), raw != MAP_FAILED else {
            let e = errno; unlink(tmp); throw .system(call: "mmap", path: tmp, errno: e)
        }
        // A fresh file reads as zeros: only the header needs writing.
        raw.storeBytes(of: StatsLayout.magic.littleEndian, toByteOffset: StatsLayout.magicOffset, as: UInt64.self)
        raw.storeBytes(of: StatsLayout.version.littleEndian, toByteOffset: StatsLayout.versionOffset, as: UInt32.self)
        raw.storeBytes(of: kind.rawValue.littleEndian, toByteOffset: StatsLayout.kindOffset, as: UInt32.self)
        raw.storeBytes(of: UInt64(size).littleEndian, toByteOffset: StatsLayout.fileSizeOffset, as: UInt64.self)
        raw.storeBytes(of: getpid().littleEndian, toByteOffset: StatsLayout.pidOffset, as: Int32.self)
        raw.storeBytes(of: generation.littleEndian, toByteOffset: StatsLayout.generationOffset, as: UInt64.self)
        raw.storeBytes(of: tb_realtime_ns().littleEndian, toByteOffset: StatsLayout.createdOffset, as: UInt64.self)
        raw.storeBytes(of: modelId.littleEndian, toByteOffset: StatsLayout.modelIdOffset, as: UInt64.self)
        raw.storeBytes(of: shadowModelId.littleEndian, toByteOffset: StatsLayout.shadowModelIdOffset, as: UInt64.self)
        for (i, b) in name.utf8.prefix(StatsLayout.nameLength - 1).enumerated() {
            raw.storeBytes(of: b, toByteOffset: StatsLayout.nameOffset + i, as: UInt8.self)
        }
        raw.storeBytes(of: UInt64.max, toByteOffset: StatsLayout.latencyMinOffset, as: UInt64.self)
        tb_store_release_u64(raw + StatsLayout.heartbeatOffset, tb_monotonic_ns())
        tb_store_release_u32(raw + StatsLayout.stateOffset, ProducerState.running.rawValue)
        if rename(tmp, path) != 0 { let e = errno; munmap(raw, size); unlink(tmp); throw .system(call: "rename", path: path, errno: e) }
        mapping = _StatsMapping(base: raw, path: path)
        counters = raw + StatsLayout.countersOffset
        latency = raw + StatsLayout.latencyCountOffset
        buckets = raw + StatsLayout.bucketsOffset
    }

    public var path: String { mapping.path }
    public var generation: UInt64 { mapping.base.load(fromByteOffset: StatsLayout.generationOffset, as: UInt64.self) }

    /// Adds `n` to a counter: a relaxed load and a relaxed store (single writer).
    @inlinable @inline(__always)
    public func count(_ counter: StatsCounter, by n: UInt64 = 1) {
        // Safe: counter.rawValue < StatsLayout.counterSlots, inside the counters line pair.
        let p = counters + counter.rawValue &* 8
        tb_store_relaxed_u64(p, tb_load_relaxed_u64(p) &+ n)
    }

    /// Records one latency in nanoseconds (tick to decision). Relaxed stores only.
    @inlinable @inline(__always)
    public func recordLatency(ns value: UInt64) {
        // Safe: index(_:) < bucketCount, inside the mapped bucket array.
        let b = buckets + LatencyHistogramLayout.index(value) &* 8
        tb_store_relaxed_u64(b, tb_load_relaxed_u64(b) &+ 1)
        tb_store_relaxed_u64(latency, tb_load_relaxed_u64(latency) &+ 1)
        tb_store_relaxed_u64(latency + 8, tb_load_relaxed_u64(latency + 8) &+ value)
        if value < tb_load_relaxed_u64(latency + 16) { tb_store_relaxed_u64(latency + 16, value) }
        if value > tb_load_relaxed_u64(latency + 24) { tb_store_relaxed_u64(latency + 24, value) }
        if _slowPath(value > LatencyHistogramLayout.highestTrackable) {
            tb_store_relaxed_u64(latency + 32, tb_load_relaxed_u64(latency + 32) &+ 1)
        }
    }

    /// One decision: counts it, its signal, live/shadow disagreement, and records its latency.
    /// `shadowSignal` is nil when no shadow model runs.
    @inlinable @inline(__always)
    public func recordDecision(latencyNs: UInt64, signal: Int8, shadowSignal: Int8? = nil) {
        count(.decisions)
        if signal != 0 { count(.signals) }
        if let shadowSignal {
            count(.shadowDecisions)
            if shadowSignal != signal { count(.disagreements) }
        }
        recordLatency(ns: latencyNs)
    }

    /// Sets the model ids shown as labels (after a model swap; not per message).
    public func setModel(id: UInt64, shadowId: UInt64 = 0) {
        tb_store_relaxed_u64(mapping.base + StatsLayout.modelIdOffset, id)
        tb_store_relaxed_u64(mapping.base + StatsLayout.shadowModelIdOffset, shadowId)
    }

    /// Writes the heartbeat (monotonic ns); call when idle and every few thousand messages.
    @inlinable public func heartbeat(now: UInt64 = tb_monotonic_ns()) {
        tb_store_release_u64(mapping.base + StatsLayout.heartbeatOffset, now)
    }

    /// Marks the block closed: telemetry shows the process as exited rather than dead.
    public func close() {
        heartbeat()
        tb_store_release_u32(mapping.base + StatsLayout.stateOffset, ProducerState.closed.rawValue)
    }
}

/// A consistent-enough copy of a latency histogram: the buckets are read one by one, so the
/// snapshot's `count` is the sum of the buckets read (never a figure that disagrees with them).
public struct LatencyHistogram: Sendable, Equatable {
    public var buckets: [UInt64]
    public var count: UInt64
    public var sumNs: UInt64
    public var minNs: UInt64
    public var maxNs: UInt64
    public var overflow: UInt64

    public init(buckets: [UInt64], sumNs: UInt64, minNs: UInt64, maxNs: UInt64, overflow: UInt64) {
        self.buckets = buckets
        self.count = buckets.reduce(0, &+)
        self.sumNs = sumNs
        self.minNs = minNs
        self.maxNs = maxNs
        self.overflow = overflow
    }

    public static var empty: LatencyHistogram {
        LatencyHistogram(buckets: [UInt64](repeating: 0, count: LatencyHistogramLayout.bucketCount), sumNs: 0, minNs: 0, maxNs: 0, overflow: 0)
    }

    /// Records a value (for in-process histograms such as benchmarks).
    public mutating func record(_ ns: UInt64) {
        buckets[LatencyHistogramLayout.index(ns)] &+= 1
        count &+= 1
        sumNs &+= ns
        minNs = count == 1 ? ns : min(minNs, ns)
        maxNs = max(maxNs, ns)
        if ns > LatencyHistogramLayout.highestTrackable { overflow &+= 1 }
    }

    /// The value at a percentile (0...100), HdrHistogram style: the highest value equivalent to the
    /// bucket holding the rank-th smallest value, capped at the exact maximum. 0 when empty.
    public func percentile(_ p: Double) -> UInt64 {
        guard count > 0 else { return 0 }
        let rank = max(1, UInt64((min(100, max(0, p)) / 100 * Double(count)).rounded(.up)))
        var seen: UInt64 = 0
        for (i, c) in buckets.enumerated() where c > 0 {
            seen &+= c
            if seen >= rank { return min(LatencyHistogramLayout.highestValue(i), maxNs) }
        }
        return maxNs
    }

    /// How many values are at most `ns` (counting a bucket when its lowest value is <= ns: exact
    /// below 256 ns, within 1% above).
    public func countAtOrBelow(_ ns: UInt64) -> UInt64 {
        var total: UInt64 = 0
        for (i, c) in buckets.enumerated() where c > 0 {
            if LatencyHistogramLayout.lowestValue(i) > ns { break }
            total &+= c
        }
        return total
    }
}

/// What telemetry reads from a stats block.
public struct StatsSnapshot: Sendable, Equatable {
    public var path: String
    public var name: String
    public var kind: StatsKind
    public var pid: Int32
    public var state: ProducerState
    public var generation: UInt64
    public var createdRealtimeNs: UInt64
    public var modelId: UInt64
    public var shadowModelId: UInt64
    public var heartbeatNs: UInt64
    public var counters: [UInt64]
    public var latency: LatencyHistogram
    public var alive: Bool

    public func counter(_ c: StatsCounter) -> UInt64 { counters[c.rawValue] }
}

/// Reading stats blocks (telemetry side; never writes).
public enum StatsBlock {
    /// Validates and maps a stats file.
    public static func attach(path: String) throws(StatsError) -> _StatsMapping {
        let fd = open(path, O_RDWR | O_CLOEXEC)
        if fd < 0 {
            let e = errno
            throw e == ENOENT ? .notFound(path: path) : .system(call: "open", path: path, errno: e)
        }
        defer { close(fd) }
        var st = stat()
        if fstat(fd, &st) != 0 { throw .system(call: "fstat", path: path, errno: errno) }
        guard Int(st.st_size) == StatsLayout.fileSize else { throw .fileTooSmall(path: path, size: Int(st.st_size), needed: StatsLayout.fileSize) }
        var head = (UInt64(0), UInt64(0))
        let n = withUnsafeMutableBytes(of: &head) { pread(fd, $0.baseAddress, 16, 0) }
        if n != 16 { throw .system(call: "pread", path: path, errno: n < 0 ? errno : EIO) }
        guard UInt64(littleEndian: head.0) == StatsLayout.magic else { throw .badMagic(path: path, found: UInt64(littleEndian: head.0)) }
        let version = UInt32(truncatingIfNeeded: UInt64(littleEndian: head.1))
        guard version == StatsLayout.version else { throw .unsupportedVersion(path: path, found: version, supported: StatsLayout.version) }
        guard let raw = mmap(nil, StatsLayout.fileSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), raw != MAP_FAILED else {
            throw .system(call: "mmap", path: path, errno: errno)
        }
        return _StatsMapping(base: raw, path: path)
    }

    /// Reads every field of a mapped block.
    public static func snapshot(_ m: _StatsMapping) -> StatsSnapshot {
        let p = m.base
        let nameBytes = UnsafeRawBufferPointer(start: p + StatsLayout.nameOffset, count: StatsLayout.nameLength)
        var counters = [UInt64](repeating: 0, count: StatsLayout.counterSlots)
        for i in 0..<StatsLayout.counterSlots { counters[i] = tb_load_relaxed_u64(p + StatsLayout.countersOffset + 8 * i) }
        var buckets = [UInt64](repeating: 0, count: LatencyHistogramLayout.bucketCount)
        for i in 0..<LatencyHistogramLayout.bucketCount { buckets[i] = tb_load_relaxed_u64(p + StatsLayout.bucketsOffset + 8 * i) }
        let pid = p.load(fromByteOffset: StatsLayout.pidOffset, as: Int32.self)
        let minNs = tb_load_relaxed_u64(p + StatsLayout.latencyMinOffset)
        return StatsSnapshot(
            path: m.path,
            name: String(decoding: nameBytes.prefix { $0 != 0 }, as: UTF8.self),
            kind: StatsKind(rawValue: p.load(fromByteOffset: StatsLayout.kindOffset, as: UInt32.self)) ?? .other,
            pid: pid,
            state: ProducerState(rawValue: tb_load_acquire_u32(p + StatsLayout.stateOffset)) ?? .closed,
            generation: p.load(fromByteOffset: StatsLayout.generationOffset, as: UInt64.self),
            createdRealtimeNs: p.load(fromByteOffset: StatsLayout.createdOffset, as: UInt64.self),
            modelId: tb_load_relaxed_u64(p + StatsLayout.modelIdOffset),
            shadowModelId: tb_load_relaxed_u64(p + StatsLayout.shadowModelIdOffset),
            heartbeatNs: tb_load_acquire_u64(p + StatsLayout.heartbeatOffset),
            counters: counters,
            latency: LatencyHistogram(
                buckets: buckets, sumNs: tb_load_relaxed_u64(p + StatsLayout.latencySumOffset),
                minNs: minNs == .max ? 0 : minNs, maxNs: tb_load_relaxed_u64(p + StatsLayout.latencyMaxOffset),
                overflow: tb_load_relaxed_u64(p + StatsLayout.latencyOverflowOffset)),
            alive: tb_pid_alive(pid) != 0)
    }

    /// Names (without the `stats.` prefix) of the stats blocks on a bus, sorted.
    public static func list(bus: String) -> [String] {
        guard let d = opendir(BusPaths.busDirectory(bus)) else { return [] }
        defer { closedir(d) }
        var names: [String] = []
        while let entry = readdir(d) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name.hasPrefix(StatsLayout.filePrefix), !name.contains(".tmp.") {
                names.append(String(name.dropFirst(StatsLayout.filePrefix.count)))
            }
        }
        return names.sorted()
    }
}
