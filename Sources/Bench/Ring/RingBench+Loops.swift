import CMallocCounter
import CTickBus
import TickBusCore

// The measured loops of `bench ring`. Each is its own `@inline(never)` symbol so that
// `Tools/hot-path-check` reads its machine code: the clock-free ones must not call the clock.

extension RingBench {
    /// The seven payload words every loop writes, the same as the C baseline's `tb_c_publish`:
    /// (1, s, stamp, s, 0, 0, 0) after the sequence word.
    @inline(__always)
    static func fill(_ slot: UnsafeMutableRawPointer, _ s: UInt64, stamp: UInt64) {
        slot.storeBytes(of: UInt64(1), toByteOffset: 8, as: UInt64.self)
        slot.storeBytes(of: s, toByteOffset: 16, as: UInt64.self)
        slot.storeBytes(of: stamp, toByteOffset: 24, as: UInt64.self)
        slot.storeBytes(of: s, toByteOffset: 32, as: UInt64.self)
        slot.storeBytes(of: UInt64(0), toByteOffset: 40, as: UInt64.self)
        slot.storeBytes(of: UInt64(0), toByteOffset: 48, as: UInt64.self)
        slot.storeBytes(of: UInt64(0), toByteOffset: 56, as: UInt64.self)
    }

    /// Spins until the next message is due (latency phase); no-op when `intervalNs` is 0.
    @inline(__always)
    static func pace(_ due: inout UInt64, _ intervalNs: UInt64) {
        guard intervalNs > 0 else { return }
        due &+= intervalNs
        while tb_monotonic_ns() < due { tb_cpu_relax() }
    }

    /// What a clock-free reader loop saw: every word of every message is read and folded into
    /// `checksum`; `bad` counts messages whose sequence words disagree with the count (must be 0).
    public struct ClockFreeCount: Sendable {
        public var received: UInt64 = 0
        public var lost: UInt64 = 0
        public var checksum: UInt64 = 0
        public var bad: UInt64 = 0
    }

    // MARK: Clock-free throughput (no clock read inside; the caller times around the call)

    /// Publishes `messages` into the TickBus ring flat out (gated by the reader).
    @inline(never)
    public static func produceSwiftClockFree(_ producer: inout RingProducer, messages: UInt64) {
        for s in 0..<messages {
            _ = producer.publish { slot in fill(slot, s, stamp: s) }
        }
    }

    /// Publishes `messages` into the C ring flat out (gated by the reader).
    @inline(never)
    public static func produceCClockFree(_ ring: _CRing, messages: UInt64) {
        let h = ring.header
        let slots = ring.slots
        var producer = tb_c_producer_make(h)
        for s in 0..<messages { tb_c_publish(h, slots, &producer, s) }
    }

    /// Reads `messages` from the TickBus ring, every payload word, busy-spinning when empty.
    @inline(never)
    public static func readSwiftClockFree(_ reader: inout RingReader, messages: UInt64) -> ClockFreeCount {
        var n = ClockFreeCount()
        while n.received &+ n.lost < messages {
            switch reader.poll() {
            case .message(let bytes):
                let p = bytes.base
                let s = p.load(fromByteOffset: 16, as: UInt64.self)
                n.checksum &+=
                    p.load(fromByteOffset: 8, as: UInt64.self) &+ s &+ p.load(fromByteOffset: 24, as: UInt64.self)
                    &+ p.load(fromByteOffset: 32, as: UInt64.self) &+ p.load(fromByteOffset: 40, as: UInt64.self)
                    &+ p.load(fromByteOffset: 48, as: UInt64.self) &+ p.load(fromByteOffset: 56, as: UInt64.self)
                n.bad &+= s == n.received &+ n.lost ? 0 : 1
                n.received &+= 1
            case .gap(_, let count):
                n.lost &+= count
            case .empty:
                tb_cpu_relax()
            }
        }
        return n
    }

    /// Reads `messages` from the C ring, every payload word, busy-spinning when empty.
    @inline(never)
    public static func readCClockFree(_ ring: _CRing, messages: UInt64) -> ClockFreeCount {
        let h = ring.header
        let slots = ring.slots
        var reader = tb_c_reader_make(h)
        var n = ClockFreeCount()
        var w: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &w) { raw in
            // Safe: the tuple is 7 contiguous UInt64 words, alive for the closure.
            let words = raw.baseAddress!.assumingMemoryBound(to: UInt64.self)
            while n.received < messages {
                if tb_c_poll(h, slots, &reader, words) == 1 {
                    let s = words[1]
                    n.checksum &+= words[0] &+ s &+ words[2] &+ words[3] &+ words[4] &+ words[5] &+ words[6]
                    n.bad &+= s == n.received ? 0 : 1
                    n.received &+= 1
                } else {
                    tb_cpu_relax()
                }
            }
        }
        return n
    }

    // MARK: Clocked throughput and latency (a clock read per message on both sides)

    /// Publishes `messages` into the TickBus ring, each stamped with the clock. Returns mallocs per publish.
    @inline(never)
    public static func produceSwift(_ producer: inout RingProducer, messages: UInt64, intervalNs: UInt64) -> Double {
        let before = tb_thread_malloc_count()
        var due = tb_monotonic_ns()
        for s in 0..<messages {
            pace(&due, intervalNs)
            let stamp = tb_monotonic_ns()
            _ = producer.publish { slot in fill(slot, s, stamp: stamp) }
        }
        return Double(tb_thread_malloc_count() - before) / Double(messages)
    }

    /// Publishes `messages` into the C ring, each stamped with the clock. Returns mallocs per publish.
    @inline(never)
    public static func produceC(_ ring: _CRing, messages: UInt64, intervalNs: UInt64) -> Double {
        let h = ring.header
        let slots = ring.slots
        var producer = tb_c_producer_make(h)
        let before = tb_thread_malloc_count()
        var due = tb_monotonic_ns()
        for _ in 0..<messages {
            pace(&due, intervalNs)
            tb_c_publish(h, slots, &producer, tb_monotonic_ns())
        }
        return Double(tb_thread_malloc_count() - before) / Double(messages)
    }

    /// Reads `messages` from the TickBus ring with a busy-spinning gating reader, the clock read per message.
    @inline(never)
    public static func readSwift(_ reader: inout RingReader, messages: UInt64, sampleLatency: Bool) -> ReaderResult {
        var samples = [UInt64](repeating: 0, count: sampleLatency ? Int(messages) : 0)
        var received: UInt64 = 0
        var lost: UInt64 = 0
        var first: UInt64 = 0
        let before = tb_thread_malloc_count()
        samples.withUnsafeMutableBufferPointer { out in
            while received + lost < messages {
                switch reader.poll() {
                case .message(let bytes):
                    let now = tb_monotonic_ns()
                    if received == 0 { first = now }
                    if sampleLatency {
                        // Safe: received < messages == out.count.
                        out[Int(received)] = now &- bytes.base.load(fromByteOffset: 24, as: UInt64.self)
                    }
                    received &+= 1
                case .gap(_, let count):
                    lost &+= count
                case .empty:
                    tb_cpu_relax()
                }
            }
        }
        let end = tb_monotonic_ns()
        let mallocs = tb_thread_malloc_count() - before
        if sampleLatency { samples.removeLast(Int(lost)) }
        return ReaderResult(
            messages: received,
            seconds: Double(end - first) / 1e9,
            endNs: end,
            latency: Percentiles(sorting: &samples),
            mallocsPerPoll: Double(mallocs) / Double(max(received, 1)),
            lost: lost
        )
    }

    /// Reads `messages` from the C ring, the clock read per message.
    @inline(never)
    public static func readC(_ ring: _CRing, messages: UInt64, sampleLatency: Bool) -> ReaderResult {
        let h = ring.header
        let slots = ring.slots
        var reader = tb_c_reader_make(h)
        var samples = [UInt64](repeating: 0, count: sampleLatency ? Int(messages) : 0)
        var payload: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0)
        var s: UInt64 = 0
        var first: UInt64 = 0
        let before = tb_thread_malloc_count()
        samples.withUnsafeMutableBufferPointer { out in
            withUnsafeMutableBytes(of: &payload) { raw in
                // Safe: the tuple is 7 contiguous UInt64 words, alive for the closure.
                let words = raw.baseAddress!.assumingMemoryBound(to: UInt64.self)
                while s < messages {
                    if tb_c_poll(h, slots, &reader, words) == 1 {
                        let now = tb_monotonic_ns()
                        if s == 0 { first = now }
                        // Safe: s < messages == out.count.
                        if sampleLatency { out[Int(s)] = now &- words[2] }
                        s &+= 1
                    } else {
                        tb_cpu_relax()
                    }
                }
            }
        }
        let end = tb_monotonic_ns()
        let mallocs = tb_thread_malloc_count() - before
        return ReaderResult(
            messages: s,
            seconds: Double(end - first) / 1e9,
            endNs: end,
            latency: Percentiles(sorting: &samples),
            mallocsPerPoll: Double(mallocs) / Double(max(s, 1)),
            lost: 0
        )
    }
}
