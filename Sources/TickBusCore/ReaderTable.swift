import CTickBus

#if canImport(Glibc)
import Glibc
#endif

/// A snapshot of one reader-table entry, for telemetry and `tickbus rings`.
public struct ReaderSnapshot: Sendable, Equatable {
    public var index: Int
    public var pid: Int32
    public var name: String
    public var mode: ReaderMode
    public var idle: UInt32
    public var start: UInt64
    public var position: UInt64
    public var lost: UInt64
    public var gaps: UInt64
    public var heartbeatNs: UInt64
    public var alive: Bool
    /// Messages read = position - start - lost.
    public var received: UInt64 { position &- start &- lost }
}

/// Claiming, listing and reclaiming reader-table entries.
public enum ReaderTable {
    /// Claims a free entry by compare-and-swap (free to claiming), fills it, then publishes it as
    /// active. When none is free, reclaims entries of dead processes and tries once more.
    static func claim(
        _ m: _SegmentMapping,
        name: String,
        mode: ReaderMode,
        idle: IdleStrategy,
        position: UInt64
    ) -> (Int, UnsafeMutableRawPointer)? {
        for attempt in 0..<2 {
            for i in 0..<SegmentLayout.readerEntries {
                let e = m.readerEntry(i)
                guard tb_cas_u32(e + ReaderEntryLayout.state, ReaderEntryLayout.free, ReaderEntryLayout.claiming) else {
                    continue
                }
                let now = tb_monotonic_ns()
                e.storeBytes(of: getpid(), toByteOffset: ReaderEntryLayout.pid, as: Int32.self)
                tb_store_release_u32(e + ReaderEntryLayout.mode, mode.rawValue)
                e.storeBytes(of: idle.code, toByteOffset: ReaderEntryLayout.idle, as: UInt32.self)
                for k in 0..<ReaderEntryLayout.nameLength {
                    e.storeBytes(of: UInt8(0), toByteOffset: ReaderEntryLayout.name + k, as: UInt8.self)
                }
                for (k, b) in name.utf8.prefix(ReaderEntryLayout.nameLength - 1).enumerated() {
                    e.storeBytes(of: b, toByteOffset: ReaderEntryLayout.name + k, as: UInt8.self)
                }
                tb_store_relaxed_u64(e + ReaderEntryLayout.attached, now)
                tb_store_relaxed_u64(e + ReaderEntryLayout.start, position)
                tb_store_relaxed_u64(e + ReaderEntryLayout.position, position)
                tb_store_relaxed_u64(e + ReaderEntryLayout.lost, 0)
                tb_store_relaxed_u64(e + ReaderEntryLayout.gaps, 0)
                tb_store_relaxed_u64(e + ReaderEntryLayout.heartbeat, now)
                tb_store_release_u32(e + ReaderEntryLayout.state, ReaderEntryLayout.active)
                return (i, e)
            }
            if attempt == 0 && reclaimDead(m) == 0 { return nil }
        }
        return nil
    }

    /// Frees the entries of readers whose process is gone. Returns how many were reclaimed.
    @discardableResult
    public static func reclaimDead(_ m: _SegmentMapping) -> Int {
        var reclaimed = 0
        for i in 0..<SegmentLayout.readerEntries {
            let e = m.readerEntry(i)
            guard tb_load_acquire_u32(e + ReaderEntryLayout.state) == ReaderEntryLayout.active else { continue }
            let pid = e.load(fromByteOffset: ReaderEntryLayout.pid, as: Int32.self)
            if tb_pid_alive(pid) == 0,
                tb_cas_u32(e + ReaderEntryLayout.state, ReaderEntryLayout.active, ReaderEntryLayout.free)
            {
                reclaimed += 1
                tb_fetch_add_relaxed_u64(m.base + SegmentLayout.reclaimedOffset, 1)
            }
        }
        return reclaimed
    }

    /// The active entries of a segment.
    public static func snapshot(_ m: _SegmentMapping) -> [ReaderSnapshot] {
        var out: [ReaderSnapshot] = []
        for i in 0..<SegmentLayout.readerEntries {
            let e = m.readerEntry(i)
            guard tb_load_acquire_u32(e + ReaderEntryLayout.state) == ReaderEntryLayout.active else { continue }
            let pid = e.load(fromByteOffset: ReaderEntryLayout.pid, as: Int32.self)
            let nameBytes = UnsafeRawBufferPointer(
                start: e + ReaderEntryLayout.name,
                count: ReaderEntryLayout.nameLength
            )
            out.append(
                ReaderSnapshot(
                    index: i,
                    pid: pid,
                    name: String(decoding: nameBytes.prefix { $0 != 0 }, as: UTF8.self),
                    mode: ReaderMode(rawValue: tb_load_acquire_u32(e + ReaderEntryLayout.mode)) ?? .live,
                    idle: e.load(fromByteOffset: ReaderEntryLayout.idle, as: UInt32.self),
                    start: tb_load_relaxed_u64(e + ReaderEntryLayout.start),
                    position: tb_load_acquire_u64(e + ReaderEntryLayout.position),
                    lost: tb_load_relaxed_u64(e + ReaderEntryLayout.lost),
                    gaps: tb_load_relaxed_u64(e + ReaderEntryLayout.gaps),
                    heartbeatNs: tb_load_relaxed_u64(e + ReaderEntryLayout.heartbeat),
                    alive: tb_pid_alive(pid) != 0
                )
            )
        }
        return out
    }
}

/// Producer-side counters kept in the segment header.
public struct ProducerCounters: Sendable, Equatable {
    public var gateWaits: UInt64
    public var readersUngated: UInt64
    public var readersReclaimed: UInt64

    public init(_ m: _SegmentMapping) {
        gateWaits = tb_load_relaxed_u64(m.base + SegmentLayout.gateWaitsOffset)
        readersUngated = tb_load_relaxed_u64(m.base + SegmentLayout.ungatedOffset)
        readersReclaimed = tb_load_relaxed_u64(m.base + SegmentLayout.reclaimedOffset)
    }
}
