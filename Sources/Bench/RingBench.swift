import CMallocCounter
import CTickBus
import TickBusCore
#if canImport(Glibc)
import Glibc
#endif

/// Percentiles of a set of nanosecond samples.
public struct Percentiles: Sendable, Equatable {
    public var p50: Double, p90: Double, p99: Double, p999: Double, max: Double

    public init(p50: Double, p90: Double, p99: Double, p999: Double, max: Double) {
        self.p50 = p50; self.p90 = p90; self.p99 = p99; self.p999 = p999; self.max = max
    }

    /// Nearest-rank percentiles of `samples` (sorted in place).
    public init(sorting samples: inout [UInt64]) {
        samples.sort()
        func at(_ q: Double) -> Double {
            guard !samples.isEmpty else { return 0 }
            let rank = Int((q * Double(samples.count)).rounded(.up)) - 1
            return Double(samples[Swift.min(Swift.max(rank, 0), samples.count - 1)])
        }
        self.init(p50: at(0.50), p90: at(0.90), p99: at(0.99), p999: at(0.999), max: Double(samples.last ?? 0))
    }

    public static func median(_ xs: [Percentiles]) -> Percentiles {
        func med(_ k: KeyPath<Percentiles, Double>) -> Double { Bench.median(xs.map { $0[keyPath: k] }) }
        return Percentiles(p50: med(\.p50), p90: med(\.p90), p99: med(\.p99), p999: med(\.p999), max: med(\.max))
    }
}

public enum Bench {
    public static func median(_ xs: [Double]) -> Double {
        guard !xs.isEmpty else { return 0 }
        let s = xs.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    /// Allocations made by the calling thread so far (the interposer is always linked into `tickbus`).
    @inlinable public static func mallocs() -> UInt64 { tb_thread_malloc_count() }
}

/// `tickbus bench ring`: the TickBus ring against a minimal C ring of the same protocol, each with
/// its producer in this process and its reader in a child process on another CPU.
public enum RingBench {
    /// Which ring a phase measures.
    public enum Implementation: String, Sendable, CaseIterable { case swift, c }
    /// Throughput: publish flat out with the reader gating (no loss), time first to last receive.
    /// Latency: publish one message every `intervalNs`, the reader measures now − stamp.
    public enum Phase: String, Sendable, CaseIterable { case throughput, latency }

    /// What a reader child measured, printed as one `key=value` line.
    public struct ReaderResult: Sendable {
        public var messages: UInt64
        public var seconds: Double
        public var latency: Percentiles
        public var mallocsPerPoll: Double
        public var lost: UInt64

        public var line: String {
            "messages=\(messages) seconds=\(seconds) p50=\(latency.p50) p90=\(latency.p90) p99=\(latency.p99) p999=\(latency.p999) max=\(latency.max) mallocs_per_poll=\(mallocsPerPoll) lost=\(lost)"
        }

        public init(messages: UInt64, seconds: Double, latency: Percentiles, mallocsPerPoll: Double, lost: UInt64) {
            self.messages = messages; self.seconds = seconds; self.latency = latency; self.mallocsPerPoll = mallocsPerPoll; self.lost = lost
        }

        public init?(line: String) {
            var kv: [String: Double] = [:]
            for part in line.split(separator: " ") {
                let p = part.split(separator: "=")
                if p.count == 2, let v = Double(p[1]) { kv[String(p[0])] = v }
            }
            guard let m = kv["messages"], let s = kv["seconds"], let a = kv["p50"], let b = kv["p90"], let c = kv["p99"],
                  let d = kv["p999"], let e = kv["max"], let f = kv["mallocs_per_poll"], let l = kv["lost"] else { return nil }
            self.init(messages: UInt64(m), seconds: s, latency: Percentiles(p50: a, p90: b, p99: c, p999: d, max: e), mallocsPerPoll: f, lost: UInt64(l))
        }
    }

    public static let ringCapacity = 1 << 16

    /// Spins until the next message is due (latency phase); no-op when `intervalNs` is 0.
    @inline(__always) static func pace(_ due: inout UInt64, _ intervalNs: UInt64) {
        guard intervalNs > 0 else { return }
        due &+= intervalNs
        while tb_monotonic_ns() < due { tb_cpu_relax() }
    }
    static let cSlotsOffset = 4096
    static let cReadyOffset = 384

    // MARK: Producer side (this process)

    /// Publishes `messages` into the Swift ring. Returns mallocs per publish.
    @inline(never)
    public static func produceSwift(_ producer: inout RingProducer, messages: UInt64, intervalNs: UInt64) -> Double {
        let before = Bench.mallocs()
        var due = tb_monotonic_ns()
        for s in 0..<messages {
            pace(&due, intervalNs)
            let stamp = tb_monotonic_ns()
            _ = producer.publish { slot in
                // The same seven words the C baseline writes.
                slot.storeBytes(of: UInt64(1), toByteOffset: 8, as: UInt64.self)
                slot.storeBytes(of: s, toByteOffset: 16, as: UInt64.self)
                slot.storeBytes(of: stamp, toByteOffset: 24, as: UInt64.self)
                slot.storeBytes(of: s, toByteOffset: 32, as: UInt64.self)
                slot.storeBytes(of: UInt64(0), toByteOffset: 40, as: UInt64.self)
                slot.storeBytes(of: UInt64(0), toByteOffset: 48, as: UInt64.self)
                slot.storeBytes(of: UInt64(0), toByteOffset: 56, as: UInt64.self)
            }
        }
        return Double(Bench.mallocs() - before) / Double(messages)
    }

    /// The C baseline ring: a shared file laid out as `tb_c_ring_header`, a ready word, and slots.
    ///
    /// Invariant: `base` maps `size` bytes of the file shared read-write; slots start at 4096.
    public final class _CRing {
        public let base: UnsafeMutableRawPointer
        let size: Int
        public let path: String

        public init(path: String, create: Bool) throws(SegmentError) {
            self.path = path
            size = RingBench.cSlotsOffset + RingBench.ringCapacity * 64
            // Never through a link: the file sits in a bus directory (see `BusDirectory`).
            let fd = open(path, (create ? (O_RDWR | O_CREAT | O_TRUNC) : O_RDWR) | O_NOFOLLOW | O_CLOEXEC, 0o600)
            if fd < 0 { throw .system(call: "open", path: path, errno: errno) }
            defer { close(fd) }
            if create, ftruncate(fd, off_t(size)) != 0 { throw .system(call: "ftruncate", path: path, errno: errno) }
            guard let raw = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), raw != MAP_FAILED else {
                throw .system(call: "mmap", path: path, errno: errno)
            }
            base = raw
            if create {
                header.pointee.capacity = UInt64(RingBench.ringCapacity)
                for i in 0..<RingBench.ringCapacity { slots[i].seq = .max }
            }
        }

        deinit { munmap(base, size) }

        public var header: UnsafeMutablePointer<tb_c_ring_header> { base.assumingMemoryBound(to: tb_c_ring_header.self) }
        public var slots: UnsafeMutablePointer<tb_c_slot> { (base + RingBench.cSlotsOffset).assumingMemoryBound(to: tb_c_slot.self) }
        public var ready: UnsafeMutableRawPointer { base + RingBench.cReadyOffset }
    }

    /// Publishes `messages` into the C ring. Returns mallocs per publish.
    @inline(never)
    public static func produceC(_ ring: _CRing, messages: UInt64, intervalNs: UInt64) -> Double {
        let h = ring.header, slots = ring.slots
        var limit: UInt64 = 0
        let before = Bench.mallocs()
        var due = tb_monotonic_ns()
        for s in 0..<messages {
            pace(&due, intervalNs)
            tb_c_publish_gated(h, slots, s, tb_monotonic_ns(), &limit)
        }
        return Double(Bench.mallocs() - before) / Double(messages)
    }

    // MARK: Reader side (the child process)

    /// Reads `messages` from the Swift ring with a busy-spinning gating reader.
    @inline(never)
    public static func readSwift(_ reader: inout RingReader, messages: UInt64, sampleLatency: Bool) -> ReaderResult {
        var samples = [UInt64](repeating: 0, count: sampleLatency ? Int(messages) : 0)
        var received: UInt64 = 0, lost: UInt64 = 0
        var first: UInt64 = 0
        let before = Bench.mallocs()
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
        let mallocs = Bench.mallocs() - before
        if sampleLatency { samples.removeLast(Int(lost)) }
        return ReaderResult(messages: received, seconds: Double(end - first) / 1e9, latency: Percentiles(sorting: &samples),
                            mallocsPerPoll: Double(mallocs) / Double(max(received, 1)), lost: lost)
    }

    /// Reads `messages` from the C ring, publishing its position for the producer's gating.
    @inline(never)
    public static func readC(_ ring: _CRing, messages: UInt64, sampleLatency: Bool) -> ReaderResult {
        let h = ring.header, slots = ring.slots
        var samples = [UInt64](repeating: 0, count: sampleLatency ? Int(messages) : 0)
        var payload: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0)
        var s: UInt64 = 0, lost: UInt64 = 0, first: UInt64 = 0
        let before = Bench.mallocs()
        samples.withUnsafeMutableBufferPointer { out in
            withUnsafeMutableBytes(of: &payload) { raw in
                let words = raw.baseAddress!.assumingMemoryBound(to: UInt64.self)
                while s < messages {
                    let r = tb_c_poll(h, slots, s, words)
                    if r == 1 {
                        let now = tb_monotonic_ns()
                        if s == 0 { first = now }
                        if sampleLatency { out[Int(s)] = now &- words[2] }
                        s &+= 1
                        tb_store_release_u64(&h.pointee.reader_position, s)
                    } else if r < 0 {
                        lost &+= 1
                        s &+= 1
                    } else {
                        tb_cpu_relax()
                    }
                }
            }
        }
        let end = tb_monotonic_ns()
        let mallocs = Bench.mallocs() - before
        return ReaderResult(messages: s - lost, seconds: Double(end - first) / 1e9, latency: Percentiles(sorting: &samples),
                            mallocsPerPoll: Double(mallocs) / Double(max(s, 1)), lost: lost)
    }
}

/// One publish and one poll as standalone symbols, so `Tools/hot-path-check` can read exactly
/// the code of the hot path in the release binary.
public enum HotPath {
    @inline(never)
    public static func publishMarket(_ producer: inout RingProducer, _ message: MarketMessage) -> UInt64 {
        producer.publish(message)
    }

    @inline(never)
    public static func poll(_ reader: inout RingReader) -> PollResult {
        reader.poll()
    }
}

/// Single-thread publish-then-poll loops over the TickBus ring and the C ring, for instruction
/// counts under callgrind (`Tools/callgrind-ring`): a figure that does not depend on what else
/// the machine is doing.
public enum RingInstructions {
    @inline(never)
    public static func loopSwift(_ producer: inout RingProducer, _ reader: inout RingReader, messages: UInt64) -> UInt64 {
        var check: UInt64 = 0
        for s in 0..<messages {
            _ = producer.publish { slot in
                slot.storeBytes(of: UInt64(1), toByteOffset: 8, as: UInt64.self)
                slot.storeBytes(of: s, toByteOffset: 16, as: UInt64.self)
                slot.storeBytes(of: s, toByteOffset: 24, as: UInt64.self)
                slot.storeBytes(of: s, toByteOffset: 32, as: UInt64.self)
                slot.storeBytes(of: UInt64(0), toByteOffset: 40, as: UInt64.self)
                slot.storeBytes(of: UInt64(0), toByteOffset: 48, as: UInt64.self)
                slot.storeBytes(of: UInt64(0), toByteOffset: 56, as: UInt64.self)
            }
            if case .message(let bytes) = reader.poll() { check &+= bytes.base.load(fromByteOffset: 24, as: UInt64.self) }
        }
        return check
    }

    @inline(never)
    public static func loopC(_ ring: RingBench._CRing, messages: UInt64) -> UInt64 {
        let h = ring.header, slots = ring.slots
        var limit: UInt64 = 0
        var check: UInt64 = 0
        var payload: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &payload) { raw in
            let words = raw.baseAddress!.assumingMemoryBound(to: UInt64.self)
            for s in 0..<messages {
                tb_c_publish_gated(h, slots, s, s, &limit)
                if tb_c_poll(h, slots, s, words) == 1 {
                    check &+= words[2]
                    tb_store_release_u64(&h.pointee.reader_position, s &+ 1)
                }
            }
        }
        return check
    }
}
