import CTickBus
import TickBusCore

/// `tickbus bench ring`: the TickBus ring against a minimal C SPSC ring (`tb_c_*`), each with its
/// producer in this process and a gating reader in a child process, both pinned to their CPUs,
/// interleaved round by round (`InterleavedRounds`). Three phases per ring and round:
///
/// - **throughput** (clock-free): the producer publishes the 7 payload words flat out, the reader
///   reads and sums every word; no clock is read inside either loop. The time is the producer's
///   clock just before its first publish to the reader's clock just after its last message
///   (CLOCK_MONOTONIC is one clock for every process), so the figure is the ring's, not the clock's.
/// - **throughput clocked**: the same with a clock read per message on both sides (the receive
///   time is the reader's); both rings then run near the clock's rate.
/// - **latency**: one message every `intervalNs`; the reader measures now − the producer's stamp.
public enum RingBench {
    /// Which ring a phase measures.
    public enum Implementation: String, Sendable, CaseIterable { case swift, c }
    /// The phases of a round (see the type's documentation).
    public enum Phase: String, Sendable, CaseIterable {
        case throughput
        case throughputClocked = "throughput-clocked"
        case latency
    }

    /// Slots of both rings (64 bytes each).
    public static let ringCapacity = 1 << 16

    /// What a reader child measured, printed as one `key=value` line.
    public struct ReaderResult: Sendable {
        public var messages: UInt64
        /// First to last receive (clocked phases); 0 in the clock-free phase.
        public var seconds: Double
        /// CLOCK_MONOTONIC just after the last message.
        public var endNs: UInt64
        public var latency: Percentiles
        public var mallocsPerPoll: Double
        public var lost: UInt64
        /// Clock-free phase: the sum of every payload word read and the messages out of sequence.
        public var checksum: UInt64 = 0
        public var bad: UInt64 = 0

        public var line: String {
            "messages=\(messages) seconds=\(seconds) end_ns=\(endNs) p50=\(latency.p50) p90=\(latency.p90) p99=\(latency.p99) "
                + "p999=\(latency.p999) max=\(latency.max) mallocs_per_poll=\(mallocsPerPoll) lost=\(lost) checksum=\(checksum) bad=\(bad)"
        }

        public init(
            messages: UInt64,
            seconds: Double,
            endNs: UInt64,
            latency: Percentiles,
            mallocsPerPoll: Double,
            lost: UInt64
        ) {
            self.messages = messages
            self.seconds = seconds
            self.endNs = endNs
            self.latency = latency
            self.mallocsPerPoll = mallocsPerPoll
            self.lost = lost
        }

        public init?(line: String) {
            var kv: [String: Substring] = [:]
            for part in line.split(separator: " ") {
                let p = part.split(separator: "=")
                if p.count == 2 { kv[String(p[0])] = p[1] }
            }
            func d(_ k: String) -> Double? { kv[k].flatMap { Double($0) } }
            func u(_ k: String) -> UInt64? { kv[k].flatMap { UInt64($0) } }
            guard let m = u("messages"), let s = d("seconds"), let end = u("end_ns"), let a = d("p50"),
                let b = d("p90"),
                let c = d("p99"), let e = d("p999"), let x = d("max"), let f = d("mallocs_per_poll"), let l = u("lost"),
                let sum = u("checksum"), let bad = u("bad")
            else { return nil }
            self.init(
                messages: m,
                seconds: s,
                endNs: end,
                latency: Percentiles(p50: a, p90: b, p99: c, p999: e, max: x),
                mallocsPerPoll: f,
                lost: l
            )
            checksum = sum
            self.bad = bad
        }
    }

    /// The command's options.
    public struct Options: Sendable {
        public var messages: UInt64 = 5_000_000
        public var clockFreeMessages: UInt64 = 50_000_000
        public var latencyMessages: UInt64 = 200_000
        public var intervalNs: UInt64 = 2_000
        public var rounds = 5
        public var producerCPU: Int32 = 0
        public var readerCPU: Int32 = 1
        public init() {}
    }

    /// Figures of one ring over all rounds.
    struct Figures {
        var throughput: [Double] = []
        var clocked: [Double] = []
        var latency: [Percentiles] = []
        var mallocsPerPublish: [Double] = []
        var mallocsPerPoll: [Double] = []
        var lost: UInt64 = 0
    }

    /// Medians over rounds of one ring.
    public struct Summary: Sendable {
        public var throughput: Double
        public var clocked: Double
        public var latency: Percentiles
        public var mallocsPerPublish: Double
        public var mallocsPerPoll: Double
        public var lost: UInt64

        init(_ f: Figures) {
            throughput = Rank.median(f.throughput)
            clocked = Rank.median(f.clocked)
            latency = Percentiles.median(f.latency)
            mallocsPerPublish = f.mallocsPerPublish.max() ?? 0
            mallocsPerPoll = f.mallocsPerPoll.max() ?? 0
            lost = f.lost
        }
    }

    /// The outcome of `run`.
    public struct Outcome: Sendable {
        public var options: Options
        public var swift: Summary
        public var c: Summary
    }

    static func pin(_ cpu: Int32, _ who: String) throws(BenchError) {
        let rc = tb_pin_to_cpu(cpu)
        if rc != 0 {
            throw .invalid("cannot pin the \(who) to CPU \(cpu): \(String(cString: strerror(rc))) (errno \(rc))")
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
