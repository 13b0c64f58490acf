import CTickBus

#if canImport(Glibc)
import Glibc
#endif

/// The single producer of a ring. Publishes sequence `s` into slot `s & (capacity - 1)`:
/// mark the slot's word busy, release fence, write the payload, store the word `s` with
/// release, advance the cursor with release. No lock, no syscall, no allocation.
///
/// Invariant: only one `RingProducer` exists per segment generation (enforced at create by
/// refusing while another producer is running), so `next` is the only writer of the cursor.
public struct RingProducer: ~Copyable {
    public let mapping: _SegmentMapping
    @usableFromInline let slots: UnsafeMutableRawPointer
    @usableFromInline let cursorWord: UnsafeMutableRawPointer
    @usableFromInline let mask: UInt64
    @usableFromInline let slotSize: Int
    @usableFromInline let capacity: UInt64
    /// Next sequence to publish.
    @usableFromInline var next: UInt64
    /// Publishing is free (no look at the reader table) while `next < gateLimit`.
    @usableFromInline var gateLimit: UInt64
    @usableFromInline var lastReclaimNs: UInt64 = 0

    /// Creates (or replaces, with a new generation) the ring file and becomes its producer.
    public init(
        bus: String,
        ring: String,
        schema: SchemaID,
        slotSize: Int = 64,
        capacity: Int = 1 << 16,
        access: Segment.Access = .owner
    ) throws(SegmentError) {
        let m = try Segment.create(
            bus: bus,
            ring: ring,
            schema: schema,
            slotSize: slotSize,
            capacity: capacity,
            access: access
        )
        mapping = m
        slots = m.slots
        cursorWord = m.base + SegmentLayout.cursorOffset
        mask = UInt64(capacity - 1)
        self.slotSize = slotSize
        self.capacity = UInt64(capacity)
        next = 0
        gateLimit = 0  // first publish scans the table once
    }

    public var header: SegmentHeader { mapping.header }
    /// Sequence the next publish will get (= messages published so far).
    @inlinable public var published: UInt64 { next }

    /// Publishes one message. `fill` writes the payload into bytes 8..<slotSize of the slot
    /// (bytes 0..<8 are the sequence word and belong to the ring). Returns the sequence.
    @inlinable @inline(__always)
    public mutating func publish(_ fill: (UnsafeMutableRawPointer) -> Void) -> UInt64 {
        let s = next
        if _slowPath(s >= gateLimit) { _gate(s) }
        // Safe: s & mask < capacity, so the slot lies inside the mapped slot area.
        let slot = slots + Int(truncatingIfNeeded: s & mask) &* slotSize
        tb_store_relaxed_u64(slot, s | SegmentLayout.busyBit)
        tb_fence_release()
        fill(slot)
        tb_store_release_u64(slot, s)
        tb_store_release_u64(cursorWord, s &+ 1)
        next = s &+ 1
        return s
    }

    /// Publishes a market message (the 64-byte layout).
    @inlinable @inline(__always)
    public mutating func publish(_ message: MarketMessage) -> UInt64 {
        publish { slot in message.store(to: slot) }
    }

    /// Scans the reader table: sets how far the producer may run before it must look again, and
    /// waits while a live gating reader is (almost) a whole ring behind. A gating reader whose
    /// process is gone is ungated (its entry freed) so a dead reader never stalls the bus.
    ///
    /// The table is scanned once per call (into a bitmask of gating entries); while waiting only
    /// those entries' positions are re-read, and publishing resumes only when at least 1/16 of
    /// the ring is free. Without that hysteresis a producer held at the limit would re-check for
    /// every message, bouncing the reader's position line between the cores.
    @usableFromInline mutating func _gate(_ s: UInt64) {
        var (gating, minPosition) = scanGating()
        if gating == 0 {
            gateLimit = s &+ capacity
            return
        }
        let slack = capacity / 16
        if s &+ slack < minPosition &+ capacity {
            gateLimit = minPosition &+ capacity
            return
        }
        tb_fetch_add_relaxed_u64(mapping.base + SegmentLayout.gateWaitsOffset, 1)
        var spins = 0
        while true {
            spins += 1
            if spins < 256 {
                tb_cpu_relax()
            } else {
                if spins % 64 == 0 {
                    ungateDeadReaders()
                    (gating, minPosition) = scanGating()  // readers may have attached or left
                    if gating == 0 {
                        gateLimit = s &+ capacity
                        return
                    }
                }
                heartbeat()
                sched_yield()
            }
            minPosition = positions(gating)
            if minPosition == .max {  // every gating entry we knew of is gone
                (gating, minPosition) = scanGating()
                if gating == 0 {
                    gateLimit = s &+ capacity
                    return
                }
            }
            if s &+ slack < minPosition &+ capacity {
                gateLimit = minPosition &+ capacity
                return
            }
        }
    }

    /// The active gating entries as a bitmask, and their lowest position.
    @usableFromInline func scanGating() -> (UInt64, UInt64) {
        var mask: UInt64 = 0
        var minPosition = UInt64.max
        for i in 0..<SegmentLayout.readerEntries {
            let e = mapping.readerEntry(i)
            guard tb_load_acquire_u32(e + ReaderEntryLayout.state) == ReaderEntryLayout.active,
                tb_load_acquire_u32(e + ReaderEntryLayout.mode) == ReaderMode.gating.rawValue
            else { continue }
            mask |= 1 << UInt64(i)
            minPosition = Swift.min(minPosition, tb_load_acquire_u64(e + ReaderEntryLayout.position))
        }
        return (mask, minPosition)
    }

    /// The lowest position among the entries of `mask` that are still active (max if none).
    @usableFromInline func positions(_ mask: UInt64) -> UInt64 {
        var bits = mask
        var minPosition = UInt64.max
        while bits != 0 {
            let i = bits.trailingZeroBitCount
            bits &= bits &- 1
            let e = mapping.readerEntry(i)
            guard tb_load_acquire_u32(e + ReaderEntryLayout.state) == ReaderEntryLayout.active else { continue }
            minPosition = Swift.min(minPosition, tb_load_acquire_u64(e + ReaderEntryLayout.position))
        }
        return minPosition
    }

    /// Frees entries of gating readers whose process is gone.
    mutating func ungateDeadReaders() {
        for i in 0..<SegmentLayout.readerEntries {
            let e = mapping.readerEntry(i)
            guard tb_load_acquire_u32(e + ReaderEntryLayout.state) == ReaderEntryLayout.active,
                tb_load_acquire_u32(e + ReaderEntryLayout.mode) == ReaderMode.gating.rawValue
            else { continue }
            let pid = e.load(fromByteOffset: ReaderEntryLayout.pid, as: Int32.self)
            if tb_pid_alive(pid) == 0,
                tb_cas_u32(e + ReaderEntryLayout.state, ReaderEntryLayout.active, ReaderEntryLayout.free)
            {
                tb_fetch_add_relaxed_u64(mapping.base + SegmentLayout.ungatedOffset, 1)
            }
        }
    }

    /// Writes the producer heartbeat (monotonic ns). Call from the feed loop every few thousand
    /// messages and when idle; not part of publish.
    @inlinable public func heartbeat(now: UInt64 = tb_monotonic_ns()) {
        tb_store_release_u64(mapping.base + SegmentLayout.heartbeatOffset, now)
    }

    /// Heartbeat, and at most every 100 ms, reclaim of dead readers' entries. Off the hot path:
    /// the feed loop calls it every few thousand messages and when idle.
    public mutating func housekeeping(now: UInt64 = tb_monotonic_ns()) {
        heartbeat(now: now)
        if now &- lastReclaimNs >= 100_000_000 {
            lastReclaimNs = now
            _ = ReaderTable.reclaimDead(mapping)
        }
    }

    /// Marks the ring closed: readers that have read everything see the producer gone.
    public func close() {
        heartbeat()
        tb_store_release_u32(mapping.base + SegmentLayout.stateOffset, ProducerState.closed.rawValue)
    }
}

/// How a reader relates to the producer.
public enum ReaderMode: UInt32, Sendable {
    /// The producer never waits; a reader that falls a ring behind is lapped and told how much it lost.
    case live = 0
    /// The producer waits for this reader (replay, backtest): nothing is lost.
    case gating = 1
}

/// Where a new reader starts.
public enum StartPosition: Sendable, Equatable {
    /// Sequence 0 of this generation (a gap is reported if it was already overwritten).
    case start
    /// The producer's cursor at attach time.
    case now
    case sequence(UInt64)
}

/// Whether the producer of a ring still exists.
public enum ProducerStatus: Sendable, Equatable, CustomStringConvertible {
    case running
    case closed
    /// The producer's process is gone without closing the ring.
    case dead(pid: Int32)
    /// The ring file was replaced by a new producer generation.
    case replaced(generation: UInt64)

    public var description: String {
        switch self {
        case .running: return "running"
        case .closed: return "closed"
        case .dead(let pid): return "producer gone (pid \(pid) is dead)"
        case .replaced(let g): return "replaced by generation \(g)"
        }
    }
}

/// One message read from a ring: a view over the reader's private copy of the slot, valid until
/// the next poll. Byte 0..<8 hold the sequence.
public struct SlotBytes {
    public let base: UnsafeRawPointer
    public let count: Int
    @inlinable public init(base: UnsafeRawPointer, count: Int) {
        self.base = base
        self.count = count
    }
    @inlinable public var sequence: UInt64 { base.load(as: UInt64.self) }
    @inlinable public var market: MarketMessageView { MarketMessageView(base) }
}

/// What one poll found.
public enum PollResult {
    case message(SlotBytes)
    /// Nothing new yet.
    case empty
    /// The reader was lapped: `count` messages from sequence `from` were overwritten before it read them.
    case gap(from: UInt64, count: UInt64)
}

/// A reader of a ring: claims an entry in the reader table, polls slots by sequence, and reports
/// exactly what it lost when the producer laps it.
///
/// Invariant: `copy` is a private, 64-byte aligned buffer of `slotSize` bytes owned by this
/// reader; `entry` is the table entry this process claimed, written only by this reader (after the
/// claim) until it is released in `deinit`.
public struct RingReader: ~Copyable {
    public let mapping: _SegmentMapping
    @usableFromInline let slots: UnsafeMutableRawPointer
    @usableFromInline let entry: UnsafeMutableRawPointer
    @usableFromInline let copy: UnsafeMutableRawPointer
    @usableFromInline let mask: UInt64
    @usableFromInline let slotSize: Int
    @usableFromInline let capacity: UInt64
    /// Next sequence to read.
    @usableFromInline var position: UInt64
    public let entryIndex: Int
    public let mode: ReaderMode
    public let startSequence: UInt64
    /// Tells a replaced file apart without allocating (`producerStatus`, on the idle path).
    let probe: _GenerationProbe

    public init(
        bus: String,
        ring: String,
        name: String,
        mode: ReaderMode = .live,
        from start: StartPosition = .start,
        idle: IdleStrategy = .backoff,
        expecting schema: SchemaID? = nil
    ) throws(SegmentError) {
        let m = try Segment.attach(bus: bus, ring: ring, expecting: schema)
        try self.init(mapping: m, name: name, mode: mode, from: start, idle: idle)
    }

    public init(
        mapping m: _SegmentMapping,
        name: String,
        mode: ReaderMode,
        from start: StartPosition,
        idle: IdleStrategy
    ) throws(SegmentError) {
        mapping = m
        slots = m.slots
        mask = UInt64(m.header.capacity - 1)
        slotSize = m.header.slotSize
        capacity = UInt64(m.header.capacity)
        self.mode = mode
        let first: UInt64
        switch start {
        case .start: first = 0
        case .now: first = m.cursor
        case .sequence(let s): first = s
        }
        startSequence = first
        position = first
        guard let (index, e) = ReaderTable.claim(m, name: name, mode: mode, idle: idle, position: first) else {
            throw .readerTableFull(path: m.path, entries: SegmentLayout.readerEntries)
        }
        entryIndex = index
        entry = e
        // Safe: allocated here, freed in deinit, never shared.
        copy = UnsafeMutableRawPointer.allocate(byteCount: m.header.slotSize, alignment: 64)
        probe = _GenerationProbe(path: m.path)
    }

    deinit {
        tb_store_release_u32(entry + ReaderEntryLayout.state, ReaderEntryLayout.free)
        copy.deallocate()
    }

    @inlinable public var nextSequence: UInt64 { position }
    public var header: SegmentHeader { mapping.header }
    public var lost: UInt64 { tb_load_relaxed_u64(entry + ReaderEntryLayout.lost) }
    public var gaps: UInt64 { tb_load_relaxed_u64(entry + ReaderEntryLayout.gaps) }

    /// Reads the next message if it is there. Copies the slot, then re-checks its sequence word:
    /// a slot rewritten during the copy is never returned (it is a lap, reported as a gap).
    @inlinable @inline(__always)
    public mutating func poll() -> PollResult {
        let s = position
        // Safe: s & mask < capacity, so the slot lies inside the mapped slot area.
        let slot = UnsafeRawPointer(slots + Int(truncatingIfNeeded: s & mask) &* slotSize)
        let word = tb_load_acquire_u64(slot)
        if word == s {
            if slotSize == 64 {
                // Safe: market slots and `copy` are 64 bytes, 64-byte aligned (slots are page
                // aligned, slot sizes multiples of 64): four aligned 16-byte moves.
                copy.storeBytes(
                    of: slot.load(fromByteOffset: 0, as: SIMD2<UInt64>.self),
                    toByteOffset: 0,
                    as: SIMD2<UInt64>.self
                )
                copy.storeBytes(
                    of: slot.load(fromByteOffset: 16, as: SIMD2<UInt64>.self),
                    toByteOffset: 16,
                    as: SIMD2<UInt64>.self
                )
                copy.storeBytes(
                    of: slot.load(fromByteOffset: 32, as: SIMD2<UInt64>.self),
                    toByteOffset: 32,
                    as: SIMD2<UInt64>.self
                )
                copy.storeBytes(
                    of: slot.load(fromByteOffset: 48, as: SIMD2<UInt64>.self),
                    toByteOffset: 48,
                    as: SIMD2<UInt64>.self
                )
            } else {
                // Safe: `copy` and the slot are both slotSize bytes, 16-byte aligned.
                var offset = 0
                while offset < slotSize {
                    copy.storeBytes(
                        of: slot.load(fromByteOffset: offset, as: SIMD2<UInt64>.self),
                        toByteOffset: offset,
                        as: SIMD2<UInt64>.self
                    )
                    offset &+= 16
                }
            }
            tb_fence_acquire()
            if tb_load_relaxed_u64(slot) == s {
                position = s &+ 1
                tb_store_release_u64(entry + ReaderEntryLayout.position, s &+ 1)
                return .message(SlotBytes(base: UnsafeRawPointer(copy), count: slotSize))
            }
            return _lapped(s)
        }
        if word == SegmentLayout.emptyWord || word & ~SegmentLayout.busyBit <= s { return .empty }
        return _lapped(s)
    }

    /// The slot for `s` holds a later sequence: jump forward, keeping 7/8 of a ring of headroom,
    /// and count exactly the messages skipped.
    @usableFromInline mutating func _lapped(_ s: UInt64) -> PollResult {
        let cursor = tb_load_acquire_u64(mapping.base + SegmentLayout.cursorOffset)
        let keep = capacity - capacity / 8
        let resume = Swift.max(s &+ 1, cursor > keep ? cursor - keep : 0)
        let count = resume - s
        position = resume
        tb_store_relaxed_u64(
            entry + ReaderEntryLayout.lost,
            tb_load_relaxed_u64(entry + ReaderEntryLayout.lost) &+ count
        )
        tb_store_relaxed_u64(entry + ReaderEntryLayout.gaps, tb_load_relaxed_u64(entry + ReaderEntryLayout.gaps) &+ 1)
        tb_store_release_u64(entry + ReaderEntryLayout.position, resume)
        return .gap(from: s, count: count)
    }

    /// Writes this reader's heartbeat (monotonic ns); call when idle and every few thousand messages.
    @inlinable public func heartbeat(now: UInt64 = tb_monotonic_ns()) {
        tb_store_release_u64(entry + ReaderEntryLayout.heartbeat, now)
    }

    /// Whether the producer is still there. Reads the producer line, and only when it says
    /// running, the producer's pid (a syscall: call it when idle, not per message) and the file at
    /// the ring's name (a new generation replaces it). Allocates nothing: strategies and the
    /// recorder call it whenever they are idle, and count their allocations.
    public func producerStatus() -> ProducerStatus {
        let state = mapping.producerState
        if state == .closed { return .closed }
        let pid = mapping.header.producerPid
        if tb_pid_alive(pid) == 0 { return .dead(pid: pid) }
        if let generation = probe.generation(), generation != mapping.header.generation {
            return .replaced(generation: generation)
        }
        return .running
    }

    /// True when every message the producer published has been read.
    public var caughtUp: Bool { position >= mapping.cursor }
}
