import ArgumentParser
import CMallocCounter
import CTickBus
import Dispatch
import Foundation
import Features
import Feed
import Journal
import Models
import Strategy
import TickBusCore
#if canImport(Glibc)
import Glibc
#endif

// `tickbus journal verify|cat|info` (and `tickbus bench record`).

struct JournalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "journal", abstract: "Verify, print and describe journals.",
        subcommands: [JournalVerifyCommand.self, JournalCatCommand.self, JournalInfoCommand.self])
}

/// The rings of a journal directory (all, or the one asked for); exit 2 when there are none.
func journalRings(_ dir: String, only: String?) throws -> [String] {
    do { return try JournalInspection.rings(dir, only: only) } catch {
        warn("journal: \(error)")
        throw ExitCode(2)
    }
}

struct JournalVerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check every block of every file; list gaps; say where a file stops being valid and why. Exit 0 only when every ring is valid and sealed.")
    @Argument(help: "Journal directory.") var dir: String
    @Option(help: "Only this ring.") var ring: String?

    func run() throws {
        let ok = JournalInspection.verify(directory: dir, rings: try journalRings(dir, only: ring), line: { print($0) })
        flushOut()
        if !ok { throw ExitCode(1) }
    }
}

struct JournalCatCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cat", abstract: "Print a ring's records (market: as `tap --print`, prefixed by seq=N).")
    @Argument(help: "Journal directory.") var dir: String
    @Option(help: "Ring.") var ring: String = "market"
    @Option(help: "First sequence to print.") var from: UInt64?
    @Option(help: "Last sequence to print (inclusive).") var to: UInt64?

    func run() throws {
        _ = try journalRings(dir, only: ring)
        let reader: JournalReader
        do { reader = try JournalReader(directory: dir, ring: ring) } catch { warn("journal cat: \(error)"); throw ExitCode(1) }
        if let from { reader.seek(sequence: from) }
        // Lines are gathered into ~64 KB writes: a large ring prints millions of them.
        var out = ""
        out.reserveCapacity(1 << 16)
        let stopped = JournalInspection.cat(reader, to: to) { line in
            out += line
            out += "\n"
            if out.utf8.count > 60_000 { print(out, terminator: ""); out.removeAll(keepingCapacity: true) }
        }
        print(out, terminator: "")
        flushOut()
        if let stopped {
            warn("journal cat: stopped: \(stopped)")
            throw ExitCode(1)
        }
    }
}

struct JournalInfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "info", abstract: "Describe each ring of a journal: header, counts, sequence and time ranges, seal.")
    @Argument(help: "Journal directory.") var dir: String

    func run() throws {
        for r in try journalRings(dir, only: nil) { print(JournalInspection.info(directory: dir, ring: r)) }
        flushOut()
    }
}

/// `tickbus bench record`: sustained recording throughput from a ring at full producer speed,
/// against a plain sequential `pwrite` loop writing the same bytes from the same process; and the
/// producer's publish latency with and without the recorder attached.
///
/// Each round runs, in alternating order: (a) the pwrite baseline: the same records (64-byte
/// market slots with their sequences) copied into a 1 MiB buffer and written with pwrite, one
/// call per MiB, then fsync-free close; (b) the producer alone: N publishes, each timed with the
/// monotonic clock; (c) the producer with the recorder (a live reader on the other core writing
/// through io_uring): the same N timed publishes, and the recorder's time from its first record
/// to its sealed file. Throughput figures are medians over rounds; latency percentiles are over
/// all publishes of a round, then the median over rounds.
struct RecordBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "record", abstract: "Recorder throughput vs a pwrite loop of the same data; publish p99 with and without the recorder.")
    @Option(help: "Messages per round.") var messages: Int = 4_000_000
    @Option(help: "Rounds (baseline and subject interleaved).") var rounds: Int = 5
    @Option(help: "Directory for the files written (a real file system, not tmpfs, for a fair figure).") var dir: String = "/tmp"
    @Option(help: "Ring capacity in slots.") var capacity: Int = 1 << 18
    @Flag(help: "Print one JSON object.") var json = false

    final class Shared: @unchecked Sendable {
        let lock = NSLock()
        var ready = false
        var recorderResult: (records: UInt64, lost: UInt64, gaps: UInt64, ns: UInt64, bytes: UInt64, mallocs: UInt64)?
        var recorderError: String?
    }

    static func percentile(_ sorted: UnsafeMutableBufferPointer<UInt64>, _ p: Double) -> Double {
        Double(sorted[min(sorted.count - 1, Int(Double(sorted.count) * p / 100))])
    }
    static func median(_ xs: [Double]) -> Double { xs.isEmpty ? 0 : xs.sorted()[xs.count / 2] }

    func run() throws {
        guard rounds >= 1, messages >= 1000 else { throw ValidationError("--rounds >= 1 and --messages >= 1000") }
        // The messages: a synthetic session, generated before any timing.
        var source = SyntheticSource(seed: 42)
        let distinct = 1 << 16
        var pool: [MarketMessage] = []
        pool.reserveCapacity(distinct)
        for _ in 0..<distinct { pool.append(source.next()!) }
        var latencies = UnsafeMutableBufferPointer<UInt64>.allocate(capacity: messages)
        defer { latencies.deallocate() }

        var pwriteRates: [Double] = [], recordRates: [Double] = [], pollRates: [Double] = []
        var pollLost: UInt64 = 0
        var aloneP50: [Double] = [], aloneP99: [Double] = [], aloneP999: [Double] = []
        var withP50: [Double] = [], withP99: [Double] = [], withP999: [Double] = []
        var recorded: UInt64 = 0, lostTotal: UInt64 = 0, recorderMallocs: UInt64 = 0, producerMallocs: UInt64 = 0
        let bus = "bench-record-\(getpid())"
        let journalDir = "\(dir)/tickbus-bench-record-\(getpid())"
        defer { try? Segment.removeBus(bus); _ = try? FileManager.default.removeItem(atPath: journalDir) }

        for round in 0..<rounds {
            let order = round % 2 == 0 ? [0, 1, 2, 3] : [3, 2, 1, 0]
            for contender in order {
                switch contender {
                case 0:
                    let ns = try pwriteBaseline(pool: pool, path: "\(dir)/tickbus-bench-pwrite-\(getpid())")
                    pwriteRates.append(Double(messages) / (Double(ns) / 1e9))
                case 1:
                    let m = try publishRound(bus: bus, pool: pool, latencies: latencies, recorder: nil)
                    producerMallocs += m
                    latencies.sort()
                    aloneP50.append(Self.percentile(latencies, 50)); aloneP99.append(Self.percentile(latencies, 99))
                    aloneP999.append(Self.percentile(latencies, 99.9))
                case 3:
                    let shared = Shared()
                    _ = try publishRound(bus: bus, pool: pool, latencies: latencies, recorder: (journalDir, shared), pollOnly: true)
                    if let e = shared.recorderError { throw ValidationError("bench record: poll-only reader: \(e)") }
                    if let r = shared.recorderResult { pollRates.append(Double(r.records) / (Double(r.ns) / 1e9)); pollLost += r.lost }
                default:
                    _ = try? FileManager.default.removeItem(atPath: journalDir)
                    let shared = Shared()
                    let m = try publishRound(bus: bus, pool: pool, latencies: latencies, recorder: (journalDir, shared))
                    producerMallocs += m
                    latencies.sort()
                    withP50.append(Self.percentile(latencies, 50)); withP99.append(Self.percentile(latencies, 99))
                    withP999.append(Self.percentile(latencies, 99.9))
                    if let e = shared.recorderError { throw ValidationError("bench record: recorder: \(e)") }
                    guard let r = shared.recorderResult else { throw ValidationError("bench record: recorder did not finish") }
                    // Records written per second, first record to sealed file.
                    recordRates.append(Double(r.records) / (Double(r.ns) / 1e9))
                    recorded += r.records
                    lostTotal += r.lost
                    recorderMallocs += r.mallocs
                }
            }
        }
        let recMsgs = Self.median(recordRates), pwMsgs = Self.median(pwriteRates)
        let mb = 64.0 / 1e6
        let result: [String: Any] = [
            "messages_per_s": recMsgs, "mb_per_s": recMsgs * mb, "records": recorded, "lost": lostTotal,
            "publish_p50_ns": Self.median(withP50), "publish_p99_ns": Self.median(withP99), "publish_p999_ns": Self.median(withP999),
            "recorder_mallocs_per_message": Double(recorderMallocs) / Double(max(1, recorded)),
            "producer_mallocs_per_message": Double(producerMallocs) / Double(messages * rounds * 2),
            "rounds": rounds, "messages_per_round": messages,
        ]
        let baseline: [String: Any] = [
            "pwrite_messages_per_s": pwMsgs, "pwrite_mb_per_s": pwMsgs * mb,
            "poll_only_messages_per_s": Self.median(pollRates), "poll_only_lost": pollLost,
            "publish_p50_ns": Self.median(aloneP50), "publish_p99_ns": Self.median(aloneP99), "publish_p999_ns": Self.median(aloneP999),
        ]
        let ratio: [String: Any] = [
            "throughput": pwMsgs > 0 ? recMsgs / pwMsgs : 0,
            "throughput_vs_poll_only": Self.median(pollRates) > 0 ? recMsgs / Self.median(pollRates) : 0,
            "publish_p99": Self.median(aloneP99) > 0 ? Self.median(withP99) / Self.median(aloneP99) : 0,
        ]
        if json {
            let object: [String: Any] = ["bench": "record", "result": result, "baseline": baseline, "ratio": ratio]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print("recorder: \(Int(recMsgs)) msg/s \(format3(recMsgs * mb)) MB/s (median of \(rounds) rounds; records=\(recorded) lost=\(lostTotal))")
            print("pwrite:   \(Int(pwMsgs)) msg/s \(format3(pwMsgs * mb)) MB/s (same bytes, 1 MiB pwrite calls)")
            print("poll-only reader (no journal): \(Int(Self.median(pollRates))) msg/s (lost=\(pollLost)): the ring read limit at full producer speed")
            print("throughput ratio recorder/pwrite = \(format3(recMsgs / max(pwMsgs, 1)))")
            print("publish ns alone:         p50=\(Self.median(aloneP50)) p99=\(Self.median(aloneP99)) p99.9=\(Self.median(aloneP999))")
            print("publish ns with recorder: p50=\(Self.median(withP50)) p99=\(Self.median(withP99)) p99.9=\(Self.median(withP999))")
            print("publish p99 ratio with/without = \(format3(Self.median(withP99) / max(Self.median(aloneP99), 1)))")
            print("mallocs per message: recorder=\(result["recorder_mallocs_per_message"]!) producer=\(result["producer_mallocs_per_message"]!)")
        }
        flushOut()
    }

    /// The baseline: the same slot bytes the recorder would write, through a 1 MiB buffer and pwrite.
    func pwriteBaseline(pool: [MarketMessage], path: String) throws -> UInt64 {
        let bufSize = 1 << 20
        var raw: UnsafeMutableRawPointer?
        guard posix_memalign(&raw, 4096, bufSize) == 0, let buf = raw else { throw ValidationError("posix_memalign failed") }
        defer { free(buf); unlink(path) }
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw ValidationError("open \(path): errno \(errno)") }
        let start = tb_monotonic_ns()
        var fill = 0
        var offset: off_t = 0
        let mask = pool.count - 1
        for s in 0..<messages {
            let p = buf + fill
            pool[s & mask].store(to: p)
            p.storeBytes(of: UInt64(s), as: UInt64.self)
            fill += 64
            if fill == bufSize {
                if pwrite(fd, buf, fill, offset) != fill { close(fd); throw ValidationError("pwrite: errno \(errno)") }
                offset += off_t(fill)
                fill = 0
            }
        }
        if fill > 0, pwrite(fd, buf, fill, offset) != fill { close(fd); throw ValidationError("pwrite: errno \(errno)") }
        close(fd)
        return tb_monotonic_ns() - start
    }

    /// One producer round; with a recorder thread when asked. Returns the producer's mallocs.
    func publishRound(bus: String, pool: [MarketMessage], latencies: UnsafeMutableBufferPointer<UInt64>,
                      recorder: (dir: String, shared: Shared)?, pollOnly: Bool = false) throws -> UInt64 {
        var producer = try RingProducer(bus: bus, ring: "market", schema: .market, slotSize: 64, capacity: capacity)
        let done = DispatchSemaphore(value: 0)
        if let (dir, shared) = recorder {
            Thread.detachNewThread {
                if pollOnly { Self.pollOnlyThread(bus: bus, shared: shared) } else { Self.recorderThread(bus: bus, dir: dir, shared: shared) }
                done.signal()
            }
            // Wait for the recorder to attach.
            let deadline = tb_monotonic_ns() + 10_000_000_000
            while ReaderTable.snapshot(producer.mapping).isEmpty {
                if tb_monotonic_ns() > deadline { throw ValidationError("bench record: recorder did not attach") }
                usleep(1000)
            }
        }
        let mask = pool.count - 1
        let lat = latencies.baseAddress!
        let m0 = tb_thread_malloc_count()
        for s in 0..<messages {
            let t0 = tb_monotonic_ns()
            _ = producer.publish(pool[s & mask])
            let t1 = tb_monotonic_ns()
            lat[s] = t1 &- t0
        }
        let mallocs = tb_thread_malloc_count() - m0
        _ = producer.publish(MarketMessage.endOfSession(exchangeTime: 0, messages: UInt64(messages)))
        producer.close()
        if recorder != nil { done.wait() }
        return mallocs
    }

    /// A reader that only polls (no journal): how fast the ring itself can be read at full
    /// producer speed on this machine, to put the recorder's figure in context.
    static func pollOnlyThread(bus: String, shared: Shared) {
        do {
            var reader = try RingReader(bus: bus, ring: "market", name: "bench-poll", mode: .live, from: .start, idle: .busySpin)
            var start: UInt64 = 0
            var records: UInt64 = 0, lost: UInt64 = 0, gaps: UInt64 = 0
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
            let ns = tb_monotonic_ns() - start
            shared.lock.lock()
            shared.recorderResult = (records, lost, gaps, ns, checksum & 1, 0)
            shared.lock.unlock()
        } catch {
            shared.lock.lock()
            shared.recorderError = "\(error)"
            shared.lock.unlock()
        }
    }

    static func recorderThread(bus: String, dir: String, shared: Shared) {
        do {
            var reader = try RingReader(bus: bus, ring: "market", name: "bench-recorder", mode: .live, from: .start, idle: .busySpin)
            var writer = try JournalWriter.create(directory: dir, ring: "market", bus: bus, schema: .market, slotSize: 64,
                                                  generation: reader.header.generation, firstSequence: 0)
            var done: SealReason?
            var start: UInt64 = 0
            var idle = 0
            var m0: UInt64 = 0
            while done == nil {
                let n = try Recorder.recordBatch(&reader, &writer, isMarket: true, delayMicros: 0, done: &done)
                if n > 0 {
                    if start == 0 { start = tb_monotonic_ns(); m0 = tb_thread_malloc_count() }
                    idle = 0
                } else {
                    idle += 1
                    if idle & 1023 == 0 { try writer.service() }
                    tb_cpu_relax()
                }
            }
            let mallocs = tb_thread_malloc_count() - m0
            try writer.seal(reason: done ?? .closed)
            let ns = tb_monotonic_ns() - start
            shared.lock.lock()
            shared.recorderResult = (writer.stats.records, writer.stats.lost, writer.stats.gapRecords, ns, writer.stats.bytes, mallocs)
            shared.lock.unlock()
        } catch {
            shared.lock.lock()
            shared.recorderError = "\(error)"
            shared.lock.unlock()
        }
    }
}
