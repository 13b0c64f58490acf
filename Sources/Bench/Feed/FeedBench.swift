import Book
import CFeed
import CMallocCounter
import CTickBus
import Feed
import TickBusCore

#if canImport(Glibc)
import Glibc
#endif

/// `tickbus bench feed`: parse-only and parse+book ns/message against a plain C loop that walks the
/// length prefixes and switches on the type byte, over the same memory-mapped ITCH file in the same
/// run (rounds interleaved), plus messages/s through to a ring.
///
/// Timing: the file is mapped with MAP_POPULATE (in memory before timing, start-up excluded); each
/// contender walks the whole file once per round and reads the monotonic clock every 4,096 input
/// messages. Per-message figures are those chunk times over 4,096: "median" and "p99" are
/// nearest-rank percentiles over the chunks of a round, then the median over rounds.
public enum FeedBench {
    public struct Options: Sendable {
        public var messages: UInt64 = 10_000_000
        /// An ITCH file instead of generating one into /tmp.
        public var file: String?
        public var seed: UInt64 = 42
        public var rounds = 5
        /// Only these contenders (c, parse, book, ring), for profiling.
        public var only: [String]?
        public init() {}
    }

    /// Messages per timed chunk.
    public static let chunk = 4096

    /// Per-message ns of one contender: medians over rounds of each round's chunk percentiles.
    public struct Stats: Sendable {
        public var median: Double = 0
        public var p99: Double = 0
        public var mean: Double = 0
    }

    public struct Outcome: Sendable {
        public var c = Stats(), parse = Stats(), book = Stats()
        public var ringMsgsPerS = 0.0, ringInputMsgsPerS = 0.0
        public var mallocsPerMessage = 0.0, ringMallocsPerMessage = 0.0
        public var messages = 0, bytes = 0, rounds = 0, checksum: UInt64 = 0
    }

    /// One round's figures of a contender, from its chunk samples.
    static func roundStats(_ perMessage: inout [Double], totalNs: UInt64, messages: Int) -> Stats {
        perMessage.sort()
        return Stats(
            median: Rank.percentile(sorted: perMessage, 0.5, empty: 0),
            p99: Rank.percentile(sorted: perMessage, 0.99, empty: 0),
            mean: Double(totalNs) / Double(messages)
        )
    }

    static func median(_ xs: [Stats]) -> Stats {
        Stats(median: Rank.median(xs.map(\.median)), p99: Rank.median(xs.map(\.p99)), mean: Rank.median(xs.map(\.mean)))
    }

    enum Contender: String, CaseIterable { case c, parse, book, ring }

    public static func run(_ o: Options) throws(BenchError) -> Outcome {
        guard o.rounds >= 1 else { throw .invalid("--rounds must be at least 1") }
        let path: String
        var generated = false
        if let file = o.file {
            path = file
        } else {
            path = "/tmp/tickbus-bench-feed-\(getpid()).itch"
            do { _ = try ITCHWriter.writeSynthetic(seed: o.seed, messages: o.messages, path: path) } catch {
                throw .feed(error)
            }
            generated = true
        }
        defer { if generated { unlink(path) } }
        let input: _InputFile
        do { input = try _InputFile(path: path) } catch { throw .feed(error) }
        let base = input.base

        // Chunk boundaries every 4,096 messages (computed before any timing).
        var bounds: [Int] = [0]
        var total = 0
        while true {
            let r = parseOnly(base, from: bounds.last!, to: input.count, limit: chunk)
            if r.messages == 0 { break }
            total += r.messages
            bounds.append(r.offset)
            if r.messages < chunk { break }
        }
        let chunks = bounds.count - 1
        guard chunks > 0 else { throw .invalid("\(path): no ITCH messages") }
        let counts = UnsafeMutablePointer<UInt64>.allocate(capacity: 256)
        defer { counts.deallocate() }

        var cRounds: [Stats] = []
        var pRounds: [Stats] = []
        var bRounds: [Stats] = []
        var ringRates: [Double] = []
        var ringInputRates: [Double] = []
        var out = Outcome()
        var samples = [Double](repeating: 0, count: chunks)
        let bus = "bench-feed-\(getpid())"
        defer { _ = try? Segment.removeBus(bus) }
        let chosen = Contender.allCases.filter { o.only?.contains($0.rawValue) ?? true }

        try InterleavedRounds.run(rounds: o.rounds, chosen) { (_, contender) throws(BenchError) in
            switch contender {
            case .c:
                counts.initialize(repeating: 0, count: 256)
                let start = tb_monotonic_ns()
                var t0 = start
                for k in 0..<chunks {
                    // Safe: bounds[k]..<bounds[k + 1] lies inside the mapped file.
                    let n = tb_itch_walk(
                        base.assumingMemoryBound(to: UInt8.self) + bounds[k],
                        bounds[k + 1] - bounds[k],
                        counts
                    )
                    let t1 = tb_monotonic_ns()
                    samples[k] = Double(t1 - t0) / Double(n)
                    t0 = t1
                }
                cRounds.append(roundStats(&samples, totalNs: t0 - start, messages: total))
            case .parse:
                let start = tb_monotonic_ns()
                var t0 = start
                for k in 0..<chunks {
                    let r = parseOnly(base, from: bounds[k], to: bounds[k + 1], limit: .max)
                    out.checksum &+= r.checksum
                    let t1 = tb_monotonic_ns()
                    samples[k] = Double(t1 - t0) / Double(r.messages)
                    t0 = t1
                }
                pRounds.append(roundStats(&samples, totalNs: t0 - start, messages: total))
            case .book:  // every ring message built, not published
                let books = OrderBooks(maxInstruments: 65_536, orderCapacity: 1 << 16)
                var source = ITCHSource(unowned: base, count: input.count, books: books)
                var k = 0
                var mark = UInt64(chunk)
                // Warm-up: level arrays grow during the first tenth of the file; mallocs count after it.
                let warm = UInt64(total / 10)
                var m0 = tb_thread_malloc_count()
                let start = tb_monotonic_ns()
                var t0 = start
                var last: UInt64 = 0
                while let m = source.next() {
                    out.checksum &+= m.payload.0
                    let seen = source.report.messagesIn
                    if seen == warm { m0 = tb_thread_malloc_count() }
                    if seen == mark {
                        let t1 = tb_monotonic_ns()
                        samples[k] = Double(t1 - t0) / Double(seen - last)
                        t0 = t1
                        last = seen
                        k += 1
                        mark += UInt64(chunk)
                    }
                }
                let end = tb_monotonic_ns()
                let mallocs = tb_thread_malloc_count() - m0
                out.mallocsPerMessage = max(out.mallocsPerMessage, Double(mallocs) / Double(total - Int(warm)))
                var done = Array(samples[0..<max(1, k)])
                bRounds.append(roundStats(&done, totalNs: end - start, messages: total))
            case .ring:  // through to a ring (no readers: live mode never waits)
                var producer = try segment { () throws(SegmentError) in
                    try RingProducer(bus: bus, ring: "market", schema: .market, slotSize: 64, capacity: 1 << 16)
                }
                let books = OrderBooks(maxInstruments: 65_536, orderCapacity: 1 << 16)
                var source = ITCHSource(unowned: base, count: input.count, books: books)
                let start = tb_monotonic_ns()
                // The first tenth warms the books up; mallocs count over the rest.
                let warm = FeedPublisher.run(&source, into: &producer, limit: UInt64(total / 10), endOfSession: false)
                let m0 = tb_thread_malloc_count()
                let summary = FeedPublisher.run(&source, into: &producer, endOfSession: false)
                let ns = tb_monotonic_ns() - start
                let mallocs = tb_thread_malloc_count() - m0
                out.ringMallocsPerMessage = max(
                    out.ringMallocsPerMessage,
                    Double(mallocs) / Double(summary.published - warm.published)
                )
                ringRates.append(Double(summary.published) / (Double(ns) / 1e9))
                ringInputRates.append(Double(total) / (Double(ns) / 1e9))
                producer.close()
                _ = try? Segment.removeBus(bus)
            }
        }
        out.c = median(cRounds)
        out.parse = median(pRounds)
        out.book = median(bRounds)
        out.ringMsgsPerS = Rank.median(ringRates)
        out.ringInputMsgsPerS = Rank.median(ringInputRates)
        out.messages = total
        out.bytes = input.count
        out.rounds = o.rounds
        return out
    }
}
