import CTickBus
import TickBusCore

#if canImport(Glibc)
import Glibc
#endif

/// How `Recorder.run` reads and writes.
public struct RecorderOptions: Sendable {
    public var writer = JournalWriterOptions()
    /// A gating reader holds the producer back (lossless; for replays). Default: live, never slows the producer.
    public var gating = false
    public var idle: IdleStrategy = .backoff
    public var start: StartPosition = .start
    /// Seconds to wait for each ring to exist.
    public var attachTimeout: Double = 30
    /// Sleep this long after each record (a slow recorder, for tests of gap records).
    public var delayMicros: UInt32 = 0
    /// Reader name in the rings' reader tables.
    public var name = "recorder"
    public init() {}
}

/// What the recorder wrote for one ring.
public struct RecordedRing: Sendable {
    public var ring: String
    public var stats: JournalWriterStats
    public var reason: SealReason
    public var readerLost: UInt64
    public var readerGaps: UInt64
    public var buffersRegistered: Bool
}

/// One ring being recorded: its reader and its writer. A class so that rings of different
/// schemas can sit in one array; the per-message loop runs on `inout` borrows of both.
final class RingRecording {
    var reader: RingReader
    var writer: JournalWriter
    let isMarket: Bool
    var done: SealReason?
    init(reader: consuming RingReader, writer: consuming JournalWriter, isMarket: Bool) {
        self.reader = reader
        self.writer = writer
        self.isMarket = isMarket
    }
}

/// Records rings of a bus into a journal directory until end-of-session, the producers close,
/// or `stop` says so; then flushes and seals every file.
public enum Recorder {
    /// Attaches to each ring (waiting up to `attachTimeout` for it to exist) and records.
    /// `onAttached` runs once every ring is attached (the CLI prints a line tests wait for).
    public static func run(
        bus: String,
        rings: [String],
        directory: String,
        options: RecorderOptions,
        stop: () -> Bool,
        onAttached: () -> Void = {}
    ) throws(JournalError) -> [RecordedRing] {
        var recordings: [RingRecording] = []
        for ring in rings {
            let reader = try attach(bus: bus, ring: ring, options: options, stop: stop)
            let h = reader.header
            let writer = try JournalWriter.create(
                directory: directory,
                ring: ring,
                bus: bus,
                schema: h.schema,
                slotSize: h.slotSize,
                generation: h.generation,
                firstSequence: reader.nextSequence,
                options: options.writer
            )
            recordings.append(RingRecording(reader: reader, writer: writer, isMarket: h.schema == .market))
        }
        onAttached()
        var idler = Idler(options.idle)
        var lastCheck = tb_monotonic_ns()
        var stopped = false
        while recordings.contains(where: { $0.done == nil }) {
            if stop() {
                stopped = true
                break
            }
            var any = 0
            for r in recordings where r.done == nil {
                let n = try recordBatch(
                    &r.reader,
                    &r.writer,
                    isMarket: r.isMarket,
                    delayMicros: options.delayMicros,
                    done: &r.done
                )
                any += n
                // A ring that ended is sealed now, not when the last ring ends.
                if let reason = r.done { try r.writer.seal(reason: reason) }
            }
            let now = tb_monotonic_ns()
            if any == 0 {
                idler.idle()
                for r in recordings where r.done == nil { try r.writer.service(now: now) }
            } else {
                idler.reset()
            }
            if now &- lastCheck >= 20_000_000 {
                lastCheck = now
                for r in recordings where r.done == nil {
                    r.reader.heartbeat(now: now)
                    try r.writer.service(now: now)
                    // The producer is gone and everything it published is read: this ring is done.
                    if any == 0 || r.reader.caughtUp {
                        switch r.reader.producerStatus() {
                        case .running: break
                        case .closed, .dead, .replaced:
                            if r.reader.caughtUp {
                                r.done = .producerClosed
                                try r.writer.seal(reason: .producerClosed)
                            }
                        }
                    }
                }
            }
        }
        var out: [RecordedRing] = []
        var firstError: JournalError?
        for r in recordings {
            let reason = r.done ?? (stopped ? .stopSignal : .closed)
            do { try r.writer.seal(reason: reason) } catch { if firstError == nil { firstError = error } }
            out.append(
                RecordedRing(
                    ring: r.writer.ring,
                    stats: r.writer.stats,
                    reason: reason,
                    readerLost: r.reader.lost,
                    readerGaps: r.reader.gaps,
                    buffersRegistered: r.writer.buffersRegistered
                )
            )
        }
        if let e = firstError { throw e }
        return out
    }

    static func attach(
        bus: String,
        ring: String,
        options: RecorderOptions,
        stop: () -> Bool
    ) throws(JournalError) -> RingReader {
        let deadline = tb_monotonic_ns() + UInt64(max(0, options.attachTimeout) * 1e9)
        while true {
            do {
                return try RingReader(
                    bus: bus,
                    ring: ring,
                    name: options.name,
                    mode: options.gating ? .gating : .live,
                    from: options.start,
                    idle: options.idle
                )
            } catch {
                if tb_monotonic_ns() >= deadline || stop() {
                    throw .attach(bus: bus, ring: ring, cause: error)
                }
                usleep(2000)
            }
        }
    }

    /// Reads up to 1024 messages from one ring into its journal (gaps become gap records; a market
    /// ring's end-of-session sets `done`). Returns how many entries it handled. The loop `run` uses;
    /// public for `tickbus bench record`.
    @inline(__always)
    public static func recordBatch(
        _ reader: inout RingReader,
        _ writer: inout JournalWriter,
        isMarket: Bool,
        delayMicros: UInt32,
        done: inout SealReason?
    ) throws(JournalError) -> Int {
        var n = 0
        while n < 1024 {
            switch reader.poll() {
            case .message(let bytes):
                try writer.append(bytes.base)
                n &+= 1
                if isMarket && bytes.market.rawKind == MessageKind.endOfSession.rawValue {
                    done = .endOfSession
                    return n
                }
                if delayMicros > 0 { usleep(delayMicros) }
            case .gap(let from, let count):
                try writer.appendGap(from: from, count: count)
                n &+= 1
            case .empty:
                return n
            }
        }
        return n
    }
}
