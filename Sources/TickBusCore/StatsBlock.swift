import CTickBus

#if canImport(Glibc)
import Glibc
#endif

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

/// Reading stats blocks (telemetry side; never writes).
public enum StatsBlock {
    /// Validates and maps a stats file, named by its path under `/dev/shm/tickbus` (opened
    /// through its bus directory, never through a link).
    public static func attach(path: String) throws(StatsError) -> _StatsMapping {
        let dir: BusDirectory
        let file: String
        do throws(SegmentError) {
            let (bus, name) = try BusPaths.split(path)
            file = name
            dir = try BusDirectory(bus: bus)
        } catch {
            if case .notFound = error { throw .notFound(path: path) }
            throw .bus(error)
        }
        return try attach(dir, file: file)
    }

    /// Validates and maps the stats file `file` (`stats.<name>`) of an open bus directory.
    public static func attach(_ dir: borrowing BusDirectory, file: String) throws(StatsError) -> _StatsMapping {
        let path = dir.path(of: file)
        let fd: Int32
        do throws(SegmentError) { fd = try dir.openFile(file, flags: O_RDWR) } catch {
            if case .notFound = error { throw .notFound(path: path) }
            throw .bus(error)
        }
        defer { close(fd) }
        var st = stat()
        if fstat(fd, &st) != 0 { throw .system(call: "fstat", path: path, errno: errno) }
        // The header first, then the size: a block of another version (another size) is named by
        // its version, not refused as the wrong size.
        guard Int(st.st_size) >= StatsLayout.validatedPrefix else {
            throw .fileTooSmall(path: path, size: Int(st.st_size), needed: StatsLayout.fileSize)
        }
        var head = (UInt64(0), UInt64(0))
        let n: Int
        do {
            n = try retryingEINTR("pread", path) {
                withUnsafeMutableBytes(of: &head) { pread(fd, $0.baseAddress, StatsLayout.validatedPrefix, 0) }
            }
        } catch {
            throw StatsError(error)
        }
        if n != StatsLayout.validatedPrefix { throw .system(call: "pread", path: path, errno: EIO) }  // a short header
        let magic = withUnsafeBytes(of: head) {
            $0.baseAddress!.loadLittleEndian(fromByteOffset: StatsLayout.magicOffset, as: UInt64.self)
        }
        guard magic == StatsLayout.magic else { throw .badMagic(path: path, found: magic) }
        let version = withUnsafeBytes(of: head) {
            $0.baseAddress!.loadLittleEndian(fromByteOffset: StatsLayout.versionOffset, as: UInt32.self)
        }
        guard version == StatsLayout.version else {
            throw .unsupportedVersion(path: path, found: version, supported: StatsLayout.version)
        }
        guard Int(st.st_size) == StatsLayout.fileSize else {
            throw .fileTooSmall(path: path, size: Int(st.st_size), needed: StatsLayout.fileSize)
        }
        guard let raw = mmap(nil, StatsLayout.fileSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), raw != MAP_FAILED
        else {
            throw .system(call: "mmap", path: path, errno: errno)
        }
        return _StatsMapping(base: raw, path: path)
    }

    /// The block a new writer replaces, if it is a valid one. A corrupt file is replaced; a
    /// symbolic link or a file the caller does not trust is refused.
    static func previous(_ dir: borrowing BusDirectory, file: String) throws(StatsError) -> _StatsMapping? {
        do throws(StatsError) { return try attach(dir, file: file) } catch {
            if case .bus(let cause) = error {
                switch cause {
                case .symbolicLink, .notTrusted, .notARegularFile: throw error
                default: return nil
                }
            }
            return nil
        }
    }

    /// Reads every field of a mapped block.
    public static func snapshot(_ m: _StatsMapping) -> StatsSnapshot {
        let p = m.base
        let nameBytes = UnsafeRawBufferPointer(start: p + StatsLayout.nameOffset, count: StatsLayout.nameLength)
        var counters = [UInt64](repeating: 0, count: StatsLayout.counterSlots)
        for i in 0..<StatsLayout.counterSlots {
            counters[i] = tb_load_relaxed_u64(p + StatsLayout.countersOffset + StatsLayout.wordSize * i)
        }
        var buckets = [UInt64](repeating: 0, count: LatencyHistogramLayout.bucketCount)
        for i in 0..<LatencyHistogramLayout.bucketCount {
            buckets[i] = tb_load_relaxed_u64(p + StatsLayout.bucketsOffset + StatsLayout.wordSize * i)
        }
        var swapBuckets = [UInt64](repeating: 0, count: LatencyHistogramLayout.bucketCount)
        for i in 0..<LatencyHistogramLayout.bucketCount {
            swapBuckets[i] = tb_load_relaxed_u64(p + StatsLayout.swapBucketsOffset + StatsLayout.wordSize * i)
        }
        let pid = p.load(fromByteOffset: StatsLayout.pidOffset, as: Int32.self)
        let minNs = tb_load_relaxed_u64(p + StatsLayout.latencyMinOffset)
        let swapMinNs = tb_load_relaxed_u64(p + StatsLayout.swapLatencyMinOffset)
        let roles = rolesAndLastSwap(p)
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
                buckets: buckets,
                sumNs: tb_load_relaxed_u64(p + StatsLayout.latencySumOffset),
                minNs: minNs == .max ? 0 : minNs,
                maxNs: tb_load_relaxed_u64(p + StatsLayout.latencyMaxOffset),
                overflow: tb_load_relaxed_u64(p + StatsLayout.latencyOverflowOffset)
            ),
            alive: tb_pid_alive(pid) != 0,
            roles: roles?.roles,
            lastSwapRealtimeNs: roles?.lastSwapNs ?? 0,
            swapLatency: LatencyHistogram(
                buckets: swapBuckets,
                sumNs: tb_load_relaxed_u64(p + StatsLayout.swapLatencySumOffset),
                minNs: swapMinNs == .max ? 0 : swapMinNs,
                maxNs: tb_load_relaxed_u64(p + StatsLayout.swapLatencyMaxOffset),
                overflow: tb_load_relaxed_u64(p + StatsLayout.swapLatencyOverflowOffset)
            ),
            lastSwapLatencyNs: tb_load_relaxed_u64(p + StatsLayout.swapLatencyLastOffset),
            execution: Self.execution(p)
        )
    }

    /// Names (without the `stats.` prefix) of the stats blocks on a bus, sorted; none when the
    /// bus is missing or cannot be used safely.
    public static func list(bus: String) -> [String] {
        guard let dir = try? BusDirectory(bus: bus), let entries = try? dir.entries() else { return [] }
        return entries.filter { $0.hasPrefix(StatsLayout.filePrefix) && !$0.contains(".tmp.") }
            .map { String($0.dropFirst(StatsLayout.filePrefix.count)) }.sorted()
    }
}
