import CMallocCounter
import CTickBus
import Dispatch
import Feed
import Foundation
import Journal
import NIOConcurrencyHelpers
import TickBusCore

/// `tickbus bench record`: sustained recording throughput from a ring at full producer speed,
/// against a plain sequential `pwrite` loop writing the same bytes from the same process; and the
/// producer's publish latency with and without the recorder attached.
///
/// Each round runs, in alternating order: (a) the pwrite baseline: the same records (64-byte
/// market slots with their sequences) copied into a 1 MiB buffer and written with pwrite, one
/// call per MiB, then fsync-free close; (b) the producer alone: N publishes, each timed with the
/// monotonic clock; (c) the producer with the recorder (a live reader on the other core writing
/// through io_uring): the same N timed publishes, and the recorder's time from its first record
/// to its sealed file; (d) a poll-only reader. Throughput figures are medians over rounds;
/// latency percentiles are over all publishes of a round, then the median over rounds.
public enum RecordBench {
    public struct Options: Sendable {
        public var messages = 4_000_000
        public var rounds = 5
        /// Directory for the files written (a real file system, not tmpfs, for a fair figure).
        public var dir = "/tmp"
        public var capacity = 1 << 18
        public init() {}
    }

    /// What the reader thread of a round reports.
    struct ReaderFigures {
        var records: UInt64, lost: UInt64, gaps: UInt64, ns: UInt64, bytes: UInt64, mallocs: UInt64
    }

    /// Shared between the producer and the reader thread.
    final class Shared: @unchecked Sendable {
        let lock = NIOLock()
        // Invariant: read and written only under `lock`.
        var result: ReaderFigures?
        var error: BenchError?
        func finish(_ r: ReaderFigures) { lock.withLock { result = r } }
        func fail(_ e: BenchError) { lock.withLock { error = e } }
        var outcome: (ReaderFigures?, BenchError?) { lock.withLock { (result, error) } }
    }

    public struct Outcome: Sendable {
        public var options: Options
        public var recordRate = 0.0, pwriteRate = 0.0, pollRate = 0.0
        public var pollLost: UInt64 = 0
        public var alone = Percentiles(p50: 0, p90: 0, p99: 0, p999: 0, max: 0)
        public var withRecorder = Percentiles(p50: 0, p90: 0, p99: 0, p999: 0, max: 0)
        public var recorded: UInt64 = 0, lost: UInt64 = 0, recorderMallocs: UInt64 = 0, producerMallocs: UInt64 = 0
    }

    enum Contender: CaseIterable { case pwrite, alone, recorder, pollOnly }

    public static func run(_ o: Options) throws(BenchError) -> Outcome {
        guard o.rounds >= 1, o.messages >= 1000 else { throw .invalid("--rounds >= 1 and --messages >= 1000") }
        // The messages: a synthetic session, generated before any timing.
        var source = SyntheticSource(seed: 42)
        let distinct = 1 << 16
        var pool: [MarketMessage] = []
        pool.reserveCapacity(distinct)
        for _ in 0..<distinct { pool.append(source.next()!) }
        var latencies = UnsafeMutableBufferPointer<UInt64>.allocate(capacity: o.messages)
        defer { latencies.deallocate() }

        var pwriteRates: [Double] = []
        var recordRates: [Double] = []
        var pollRates: [Double] = []
        var alone: [Percentiles] = []
        var with: [Percentiles] = []
        var out = Outcome(options: o)
        let bus = "bench-record-\(getpid())"
        let journalDir = "\(o.dir)/tickbus-bench-record-\(getpid())"
        defer {
            _ = try? Segment.removeBus(bus)
            _ = try? FileManager.default.removeItem(atPath: journalDir)
        }
        func percentiles() -> Percentiles {
            latencies.sort()
            let s = UnsafeBufferPointer(latencies)
            func at(_ q: Double) -> Double { Double(Rank.percentile(sorted: s, q, empty: 0)) }
            return Percentiles(p50: at(0.5), p90: at(0.9), p99: at(0.99), p999: at(0.999), max: Double(s.last ?? 0))
        }
        try InterleavedRounds.run(rounds: o.rounds, Contender.allCases) { (_, contender) throws(BenchError) in
            switch contender {
            case .pwrite:
                let ns = try pwriteBaseline(o, pool: pool, path: "\(o.dir)/tickbus-bench-pwrite-\(getpid())")
                pwriteRates.append(Double(o.messages) / (Double(ns) / 1e9))
            case .alone:
                out.producerMallocs += try publishRound(o, bus: bus, pool: pool, latencies: latencies, reader: nil)
                alone.append(percentiles())
            case .pollOnly:
                let shared = Shared()
                _ = try publishRound(o, bus: bus, pool: pool, latencies: latencies, reader: (journalDir, shared, true))
                let (r, e) = shared.outcome
                if let e { throw .child("bench record: poll-only reader: \(e)") }
                if let r {
                    pollRates.append(Double(r.records) / (Double(r.ns) / 1e9))
                    out.pollLost += r.lost
                }
            case .recorder:
                _ = try? FileManager.default.removeItem(atPath: journalDir)
                let shared = Shared()
                out.producerMallocs += try publishRound(
                    o,
                    bus: bus,
                    pool: pool,
                    latencies: latencies,
                    reader: (journalDir, shared, false)
                )
                with.append(percentiles())
                let (result, e) = shared.outcome
                if let e { throw .child("bench record: recorder: \(e)") }
                guard let r = result else { throw .child("bench record: recorder did not finish") }
                // Records written per second, first record to sealed file.
                recordRates.append(Double(r.records) / (Double(r.ns) / 1e9))
                out.recorded += r.records
                out.lost += r.lost
                out.recorderMallocs += r.mallocs
            }
        }
        out.recordRate = Rank.median(recordRates)
        out.pwriteRate = Rank.median(pwriteRates)
        out.pollRate = Rank.median(pollRates)
        out.alone = .median(alone)
        out.withRecorder = .median(with)
        return out
    }

    /// The baseline: the same slot bytes the recorder would write, through a 1 MiB buffer and pwrite.
    static func pwriteBaseline(_ o: Options, pool: [MarketMessage], path: String) throws(BenchError) -> UInt64 {
        let bufSize = 1 << 20
        var raw: UnsafeMutableRawPointer?
        let rc = posix_memalign(&raw, 4096, bufSize)
        guard rc == 0, let buf = raw else { throw .system(call: "posix_memalign", path: path, errno: rc) }
        defer {
            free(buf)
            unlink(path)
        }
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .system(call: "open", path: path, errno: errno) }
        defer { close(fd) }
        let start = tb_monotonic_ns()
        var fill = 0
        var offset: off_t = 0
        let mask = pool.count - 1
        for s in 0..<o.messages {
            let p = buf + fill  // Safe: fill < bufSize, 64-byte steps.
            pool[s & mask].store(to: p)
            p.storeBytes(of: UInt64(s), as: UInt64.self)
            fill += 64
            if fill == bufSize {
                if pwrite(fd, buf, fill, offset) != fill { throw .system(call: "pwrite", path: path, errno: errno) }
                offset += off_t(fill)
                fill = 0
            }
        }
        if fill > 0, pwrite(fd, buf, fill, offset) != fill { throw .system(call: "pwrite", path: path, errno: errno) }
        return tb_monotonic_ns() - start
    }

    /// One producer round; with a reader thread (recorder or poll-only) when asked. Returns the producer's mallocs.
    static func publishRound(
        _ o: Options,
        bus: String,
        pool: [MarketMessage],
        latencies: UnsafeMutableBufferPointer<UInt64>,
        reader: (dir: String, shared: Shared, pollOnly: Bool)?
    ) throws(BenchError) -> UInt64 {
        var producer = try segment { () throws(SegmentError) in
            try RingProducer(bus: bus, ring: "market", schema: .market, slotSize: 64, capacity: o.capacity)
        }
        let done = DispatchSemaphore(value: 0)
        if let (dir, shared, pollOnly) = reader {
            Thread.detachNewThread {
                if pollOnly {
                    pollOnlyThread(bus: bus, shared: shared)
                } else {
                    recorderThread(bus: bus, dir: dir, shared: shared)
                }
                done.signal()
            }
            // Wait for the reader to attach.
            let deadline = tb_monotonic_ns() + 10_000_000_000
            while ReaderTable.snapshot(producer.mapping).isEmpty {
                if tb_monotonic_ns() > deadline { throw .child("bench record: recorder did not attach") }
                usleep(1000)
            }
        }
        let mask = pool.count - 1
        let lat = latencies.baseAddress!
        let m0 = tb_thread_malloc_count()
        for s in 0..<o.messages {
            let t0 = tb_monotonic_ns()
            _ = producer.publish(pool[s & mask])
            let t1 = tb_monotonic_ns()
            lat[s] = t1 &- t0  // Safe: s < messages == latencies.count.
        }
        let mallocs = tb_thread_malloc_count() - m0
        _ = producer.publish(MarketMessage.endOfSession(exchangeTime: 0, messages: UInt64(o.messages)))
        producer.close()
        if reader != nil { done.wait() }
        return mallocs
    }

    /// A reader that only polls (no journal): how fast the ring itself can be read at full
    /// producer speed on this machine, to put the recorder's figure in context.
    static func pollOnlyThread(bus: String, shared: Shared) {
        var reader: RingReader
        do {
            reader = try RingReader(
                bus: bus,
                ring: "market",
                name: "bench-poll",
                mode: .live,
                from: .start,
                idle: .busySpin
            )
        } catch {
            return shared.fail(.segment(error))
        }
        var start: UInt64 = 0
        var records: UInt64 = 0
        var lost: UInt64 = 0
        var gaps: UInt64 = 0
        var checksum: UInt64 = 0
        loop: while true {
            switch reader.poll() {
            case .message(let b):
                if start == 0 { start = tb_monotonic_ns() }
                records &+= 1
                checksum &+= b.base.load(fromByteOffset: 16, as: UInt64.self)
                if b.market.rawKind == MessageKind.endOfSession.rawValue { break loop }
            case .gap(_, let c):
                lost &+= c
                gaps &+= 1
            case .empty:
                tb_cpu_relax()
            }
        }
        shared.finish(
            ReaderFigures(
                records: records,
                lost: lost,
                gaps: gaps,
                ns: tb_monotonic_ns() - start,
                bytes: checksum & 1,
                mallocs: 0
            )
        )
    }

    /// The recorder: a live reader writing a journal through io_uring until end of session.
    static func recorderThread(bus: String, dir: String, shared: Shared) {
        var reader: RingReader
        do {
            reader = try RingReader(
                bus: bus,
                ring: "market",
                name: "bench-recorder",
                mode: .live,
                from: .start,
                idle: .busySpin
            )
        } catch {
            return shared.fail(.segment(error))
        }
        do throws(JournalError) {
            var writer = try JournalWriter.create(
                directory: dir,
                ring: "market",
                bus: bus,
                schema: .market,
                slotSize: 64,
                generation: reader.header.generation,
                firstSequence: 0
            )
            var done: SealReason?
            var start: UInt64 = 0
            var idle = 0
            var m0: UInt64 = 0
            while done == nil {
                let n = try Recorder.recordBatch(&reader, &writer, isMarket: true, delayMicros: 0, done: &done)
                if n > 0 {
                    if start == 0 {
                        start = tb_monotonic_ns()
                        m0 = tb_thread_malloc_count()
                    }
                    idle = 0
                } else {
                    idle += 1
                    if idle & 1023 == 0 { try writer.service() }
                    tb_cpu_relax()
                }
            }
            let mallocs = tb_thread_malloc_count() - m0
            try writer.seal(reason: done ?? .closed)
            let s = writer.stats
            shared.finish(
                ReaderFigures(
                    records: s.records,
                    lost: s.lost,
                    gaps: s.gapRecords,
                    ns: tb_monotonic_ns() - start,
                    bytes: s.bytes,
                    mallocs: mallocs
                )
            )
        } catch {
            shared.fail(.journal(error))
        }
    }
}
