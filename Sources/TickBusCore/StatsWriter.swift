import CTickBus

#if canImport(Glibc)
import Glibc
#endif

/// The writer of one stats block: counters and a latency histogram updated with relaxed loads and
/// stores only (one writer thread per block, so no read-modify-write instruction is needed and no
/// lock, syscall or allocation happens per call). Telemetry reads the block from another process.
///
/// ```swift
/// let stats = try StatsWriter(bus: "prod", name: "alpha", kind: .strategy, modelId: id)
/// stats.count(.messages)                       // per market message
/// stats.recordDecision(latencyNs: publish - receive, signal: s, shadowSignal: shadow)
/// stats.heartbeat()                            // when idle and every few thousand messages
/// stats.recordControl(applied: true, roles: r, wallTimeNs: now)   // per control command
/// stats.recordSwapLatency(ns: decided - command.publishTime)      // first decision after a swap
/// stats.recordOrderSent(); stats.recordFill(quantity: q, feeMicros: f)   // execution (paper trading)
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
    /// The roles lines (`StatsLayout.rolesOffset`), written under the roles generation.
    let roles: UnsafeMutableRawPointer
    /// The swap latency line (`StatsLayout.swapLatencyCountOffset`); its buckets follow at +64.
    @usableFromInline let swapLatency: UnsafeMutableRawPointer
    /// The execution lines (`StatsLayout.executionOffset`).
    @usableFromInline let execution: UnsafeMutableRawPointer

    /// Creates (or replaces, with the next generation) `/dev/shm/tickbus/<bus>/stats.<name>`. The
    /// file is written under a temporary name and renamed into place, like a ring segment.
    public init(
        bus: String,
        name: String,
        kind: StatsKind = .strategy,
        modelId: UInt64 = 0,
        shadowModelId: UInt64 = 0
    ) throws(StatsError) {
        do throws(SegmentError) { try BusPaths.validate(bus) } catch { throw .invalidName(bus) }
        guard name.utf8.count <= StatsLayout.maxNameLength else { throw .invalidName(name) }
        do throws(SegmentError) { try BusPaths.validate(name) } catch { throw .invalidName(name) }
        let dir: BusDirectory
        do throws(SegmentError) { dir = try BusDirectory(bus: bus, creating: .owner) } catch { throw .bus(error) }
        let file = StatsLayout.fileName(name)
        let path = dir.path(of: file)

        var generation: UInt64 = 1
        if let previous = try StatsBlock.previous(dir, file: file) {
            let pid = previous.base.load(fromByteOffset: StatsLayout.pidOffset, as: Int32.self)
            let state = tb_load_acquire_u32(previous.base + StatsLayout.stateOffset)
            if pid != getpid(), tb_pid_alive(pid) != 0, state == ProducerState.running.rawValue {
                throw .alreadyRunning(path: path, pid: pid)
            }
            generation = previous.base.load(fromByteOffset: StatsLayout.generationOffset, as: UInt64.self) &+ 1
        }

        let size = StatsLayout.fileSize
        let tmp: String
        let raw: UnsafeMutableRawPointer
        do throws(SegmentError) { (tmp, raw) = try dir.createMappedTemporary(for: file, mode: 0o600, size: size) } catch
        {
            throw .bus(error)
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
        raw.storeBytes(of: UInt64.max, toByteOffset: StatsLayout.swapLatencyMinOffset, as: UInt64.self)
        // The roles start as the models named here (no version ids: not loaded from a registry).
        raw.storeBytes(of: modelId.littleEndian, toByteOffset: StatsLayout.liveModelIdOffset, as: UInt64.self)
        raw.storeBytes(
            of: shadowModelId.littleEndian,
            toByteOffset: StatsLayout.shadowModelIdRoleOffset,
            as: UInt64.self
        )
        tb_store_release_u64(raw + StatsLayout.heartbeatOffset, tb_monotonic_ns())
        tb_store_release_u32(raw + StatsLayout.stateOffset, ProducerState.running.rawValue)
        do throws(SegmentError) { try dir.rename(tmp, to: file) } catch {
            munmap(raw, size)
            dir.unlink(tmp)
            throw .bus(error)
        }
        mapping = _StatsMapping(base: raw, path: path)
        counters = raw + StatsLayout.countersOffset
        latency = raw + StatsLayout.latencyCountOffset
        buckets = raw + StatsLayout.bucketsOffset
        roles = raw + StatsLayout.rolesOffset
        swapLatency = raw + StatsLayout.swapLatencyCountOffset
        execution = raw + StatsLayout.executionOffset
    }

    public var path: String { mapping.path }
    public var generation: UInt64 { mapping.base.load(fromByteOffset: StatsLayout.generationOffset, as: UInt64.self) }

    /// Adds `n` to a counter: a relaxed load and a relaxed store (single writer).
    @inlinable @inline(__always)
    public func count(_ counter: StatsCounter, by n: UInt64 = 1) {
        // Safe: counter.rawValue < StatsLayout.counterSlots, inside the counters line pair.
        let p = counters + counter.rawValue &* StatsLayout.wordSize
        tb_store_relaxed_u64(p, tb_load_relaxed_u64(p) &+ n)
    }

    /// Records one latency in nanoseconds (tick to decision). Relaxed stores only.
    @inlinable @inline(__always)
    public func recordLatency(ns value: UInt64) {
        Self._record(value, line: latency, buckets: buckets)
    }

    /// Adds `value` to the histogram whose count/sum/min/max/overflow words start at `line`.
    @inlinable @inline(__always)
    static func _record(_ value: UInt64, line: UnsafeMutableRawPointer, buckets: UnsafeMutableRawPointer) {
        // Safe: index(_:) < bucketCount, inside the mapped bucket array.
        let b = buckets + LatencyHistogramLayout.index(value) &* StatsLayout.wordSize
        tb_store_relaxed_u64(b, tb_load_relaxed_u64(b) &+ 1)
        // Safe: the latency fields are words of the latency line, which `line` points at.
        let sum = line + StatsLayout.latencySumField
        let low = line + StatsLayout.latencyMinField
        let high = line + StatsLayout.latencyMaxField
        tb_store_relaxed_u64(line, tb_load_relaxed_u64(line) &+ 1)
        tb_store_relaxed_u64(sum, tb_load_relaxed_u64(sum) &+ value)
        if value < tb_load_relaxed_u64(low) { tb_store_relaxed_u64(low, value) }
        if value > tb_load_relaxed_u64(high) { tb_store_relaxed_u64(high, value) }
        if _slowPath(value > LatencyHistogramLayout.highestTrackable) {
            let overflow = line + StatsLayout.latencyOverflowField
            tb_store_relaxed_u64(overflow, tb_load_relaxed_u64(overflow) &+ 1)
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

    /// Sets the model ids shown as labels, without a registry: the live and shadow roles get
    /// these ids and no version id; the canary role, percent and pause flag stay as they are.
    /// Strategies that obey `control` call `recordControl` instead.
    public func setModel(id: UInt64, shadowId: UInt64 = 0) {
        var r = StatsBlock.roles(mapping.base) ?? RoleState()
        r.liveModelId = id
        r.shadowModelId = shadowId
        r.liveVersion = .zero
        r.shadowVersion = .zero
        setRoles(r)
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
