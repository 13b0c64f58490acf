import CMallocCounter
import CTickBus
import Foundation
import NIOConcurrencyHelpers
import Telemetry
import TickBusCore

/// `tickbus metrics --bench-scrape`: a producer publishes at full speed while a scraper thread
/// renders a full `/metrics` scrape of the same bus every `scrapeMs` (subject) or sleeps
/// (baseline). Rounds alternate baseline and subject; each publish is timed on its own.
public enum ScrapeBench {
    public struct Options: Sendable {
        public var rounds = 6
        public var roundSeconds = 1.0
        public var scrapeMs = 100.0
        public var capacity = 1 << 16
        /// Where the scraper runs: a thread of this process rendering directly, or a separate
        /// `tickbus metrics` process (this executable) scraped over HTTP on loopback.
        public var scraper: Scraper = .process
        public init() {}
    }

    public enum Scraper: String, Sendable, CaseIterable {
        case thread
        case process
    }

    public struct Side: Sendable {
        /// Per round: publish latency percentiles (ns).
        public var p50: [UInt64] = []
        public var p99: [UInt64] = []
        public var p999: [UInt64] = []
        public var messages: UInt64 = 0
        public var scrapes = 0
        public var mallocs: UInt64 = 0
        public var pooled = LatencyHistogram.empty

        /// Medians over rounds: nearest rank, exact integers.
        public var medianP50: UInt64 { Rank.median(p50) }
        public var medianP99: UInt64 { Rank.median(p99) }
        public var medianP999: UInt64 { Rank.median(p999) }
    }

    public struct Result: Sendable {
        public var options: Options
        public var baseline = Side()
        public var subject = Side()
        public var scrapeDurations = LatencyHistogram.empty
        public var scrapeBytes = 0
        /// StatsWriter.recordDecision: mean ns per call and mallocs over `statsCalls` calls.
        public var statsRecordNs = 0.0
        public var statsRecordMallocs: UInt64 = 0
        public var statsCalls = 0
    }

    /// Shared between the producer and the scraper thread.
    final class Control: @unchecked Sendable {
        // Invariant: both words are only touched through the tb_ atomics; `durations`, `scrapes`
        // and `bytes` only under `lock`.
        let word = UnsafeMutableRawPointer.allocate(byteCount: 16, alignment: 64)
        var durations = LatencyHistogram.empty
        var scrapes = 0
        var bytes = 0
        let lock = NIOLock()
        init() {
            tb_store_release_u32(word, 0)
            tb_store_release_u32(word + 4, 0)
        }
        deinit { word.deallocate() }
        var scraping: Bool {
            get { tb_load_acquire_u32(word) != 0 }
            set { tb_store_release_u32(word, newValue ? 1 : 0) }
        }
        var stop: Bool {
            get { tb_load_acquire_u32(word + 4) != 0 }
            set { tb_store_release_u32(word + 4, newValue ? 1 : 0) }
        }
    }

    /// Runs the benchmark on a bus of its own (removed at the end).
    public static func run(_ o: Options) throws(BenchError) -> Result {
        func mallocCount() -> UInt64 { tb_thread_malloc_count() }
        let bus = "bench-scrape-\(getpid())"
        defer { _ = try? Segment.removeBus(bus) }
        var producer = try segment { () throws(SegmentError) in
            try RingProducer(
                bus: bus,
                ring: "market",
                schema: .market,
                slotSize: MarketLayout.slotSize,
                capacity: o.capacity
            )
        }
        // A realistic bus to scrape: a reader that lags and a strategy stats block with latencies.
        let reader = try segment { () throws(SegmentError) in
            try RingReader(bus: bus, ring: "market", name: "idle-reader", from: .start)
        }
        let stats: StatsWriter
        do { stats = try StatsWriter(bus: bus, name: "bench", kind: .strategy, modelId: 0xfeed) } catch {
            throw .stats(error)
        }
        for i in 0..<100_000 { stats.recordDecision(latencyNs: UInt64(1000 + i % 50_000), signal: Int8(i % 3) - 1) }

        let control = Control()
        // A separate telemetry process, as in production: it maps the same segments and serves HTTP.
        var server: Process?
        var port = 0
        if o.scraper == .process {
            let p = Process()
            p.executableURL = URL(
                fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
                    ?? CommandLine.arguments[0]
            )
            p.arguments = ["metrics", "--bus", bus, "--listen", "127.0.0.1:0"]
            let pipe = Pipe()
            p.standardOutput = pipe
            p.standardError = FileHandle.nullDevice
            do { try p.run() } catch { throw .child("bench scrape: cannot start the metrics process: \(error)") }
            server = p
            var line = ""
            while !line.contains("\n") {
                let data = pipe.fileHandleForReading.availableData
                if data.isEmpty { break }
                line += String(decoding: data, as: UTF8.self)
            }
            port = Int(line.split(separator: "\n").first?.split(separator: ":").last ?? "") ?? 0
            guard port > 0 else {
                p.terminate()
                throw .child("bench scrape: the metrics process did not start (said '\(line)')")
            }
        }
        defer {
            if let server, server.isRunning {
                kill(server.processIdentifier, SIGKILL)
                server.waitUntilExit()
            }
        }
        let serverPort = port
        let scraper = Thread {
            let tracker = SnapshotTracker()
            while !control.stop {
                if control.scraping {
                    let t0 = tb_monotonic_ns()
                    let text =
                        serverPort > 0
                        ? LoopbackHTTP.get(port: serverPort, path: "/metrics").body
                        : PrometheusExposition.scrape(bus: bus, tracker: tracker)
                    let dt = tb_monotonic_ns() - t0
                    control.lock.withLock {
                        control.durations.record(dt)
                        control.scrapes += 1
                        control.bytes = text.utf8.count
                    }
                    let sleep = max(0, o.scrapeMs * 1000 - Double(dt) / 1000)
                    usleep(UInt32(sleep))
                } else {
                    usleep(10_000)
                }
            }
        }
        scraper.start()
        defer { control.stop = true }

        var result = Result(options: o)
        // The strategy-side writer: a tight loop of recordDecision, timed as a whole, mallocs counted.
        result.statsCalls = 4_000_000
        let statsMallocs = mallocCount()
        let statsStart = tb_monotonic_ns()
        for i in 0..<result.statsCalls {
            stats.recordDecision(
                latencyNs: UInt64(truncatingIfNeeded: i &* 2_654_435_761) & 0xFFFFF,
                signal: Int8(truncatingIfNeeded: i & 1),
                shadowSignal: 0
            )
        }
        result.statsRecordNs = Double(tb_monotonic_ns() - statsStart) / Double(result.statsCalls)
        result.statsRecordMallocs = mallocCount() &- statsMallocs
        var message = MarketMessage(kind: .trade, instrument: 1, exchangeTime: 0)
        var sequence: Int64 = 0
        // Untimed warm-up: one batch of publishes and both housekeeping paths (heartbeat, reclaim),
        // so one-time costs of first calls fall before the first timed round.
        for _ in 0..<4096 { _ = producer.publish(message) }
        producer.housekeeping()
        producer.housekeeping(now: tb_monotonic_ns() &+ 200_000_000)
        // The runner's order, as a plain loop: the publish loop must not run inside a closure
        // that captures the producer (the debug build then allocates once in the timed region).
        for round in 0..<o.rounds {
            for subject in InterleavedRounds.order([false, true], round: round) {
                control.scraping = subject
                let scrapesBefore = control.lock.withLock { control.scrapes }
                var h = LatencyHistogram.empty
                let end = tb_monotonic_ns() + UInt64(o.roundSeconds * 1e9)
                var count: UInt64 = 0
                let mallocsBefore = mallocCount()
                while true {
                    // Batches of 4096 timed publishes, then housekeeping and the clock check (untimed).
                    for _ in 0..<4096 {
                        sequence &+= 1
                        message.exchangeTime = sequence
                        let t0 = tb_monotonic_ns()
                        message.receiveTime = Int64(bitPattern: t0)
                        _ = producer.publish(message)
                        let t1 = tb_monotonic_ns()
                        h.buckets[LatencyHistogramLayout.index(t1 &- t0)] &+= 1
                    }
                    count &+= 4096
                    producer.housekeeping()
                    if tb_monotonic_ns() >= end { break }
                }
                let mallocs = mallocCount() &- mallocsBefore
                h = LatencyHistogram(buckets: h.buckets, sumNs: 0, minNs: 0, maxNs: .max, overflow: 0)
                let scrapes = control.lock.withLock { control.scrapes } - scrapesBefore
                func add(_ side: inout Side) {
                    side.p50.append(h.percentile(50))
                    side.p99.append(h.percentile(99))
                    side.p999.append(h.percentile(99.9))
                    side.messages &+= count
                    side.scrapes += scrapes
                    side.mallocs &+= mallocs
                    for i in h.buckets.indices { side.pooled.buckets[i] &+= h.buckets[i] }
                }
                if subject { add(&result.subject) } else { add(&result.baseline) }
            }
        }
        control.scraping = false
        control.stop = true
        result.baseline.pooled = LatencyHistogram(
            buckets: result.baseline.pooled.buckets,
            sumNs: 0,
            minNs: 0,
            maxNs: .max,
            overflow: 0
        )
        result.subject.pooled = LatencyHistogram(
            buckets: result.subject.pooled.buckets,
            sumNs: 0,
            minNs: 0,
            maxNs: .max,
            overflow: 0
        )
        control.lock.withLock {
            result.scrapeDurations = control.durations
            result.scrapeBytes = control.bytes
        }
        producer.close()
        _ = reader.nextSequence
        stats.close()
        return result
    }
}
