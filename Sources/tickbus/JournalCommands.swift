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

// `tickbus record`, `tickbus journal verify|cat|info`, `tickbus replay`, `tickbus bench record`.

/// Installs the stop handlers and unblocks SIGINT and SIGTERM: a process may inherit a mask that
/// blocks them (test harnesses do), and the recorder must seal its files when asked to stop.
func installStopSignalsUnblocked() {
    var set = sigset_t()
    sigemptyset(&set)
    sigaddset(&set, SIGINT)
    sigaddset(&set, SIGTERM)
    pthread_sigmask(SIG_UNBLOCK, &set, nil)
    tb_install_stop_signals()
}

struct RecordCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "record",
        abstract: "Record rings into a journal directory (io_uring). Last line: recorded=N gaps=G lost=L.")

    @Option(help: "Bus name.") var bus: String
    @Option(help: "Comma-separated rings, e.g. market,decisions.S.") var rings: String = "market"
    @Option(help: "Journal directory (created if needed).") var dir: String
    @Option(help: "never | interval | block") var fsync: String = "never"
    @Flag(help: "Gating reader: the producer waits for the recorder (lossless; for replays).") var gating = false
    @Option(help: "start | now") var from: String = "start"
    @Option(name: .customLong("segment-mb"), help: "Rotate segment files at this size.") var segmentMB: Int = 1024
    @Option(name: .customLong("block-kb"), help: "Block buffer size in KiB (a multiple of 4).") var blockKB: Int = 1024
    @Option(help: "Block buffers (one filling, the rest in flight).") var buffers: Int = 8
    @Flag(help: "Open segment files with O_DIRECT.") var direct = false
    @Option(name: .customLong("flush-ms"), help: "Write a partly filled block once its first record is this old.") var flushMs: Double = 10
    @Option(name: .customLong("attach-timeout"), help: "Seconds to wait for each ring to exist.") var attachTimeout: Double = 30
    @Option(name: .customLong("delay-us"), help: "Sleep after each record (a slow recorder, for tests).") var delayUs: UInt32 = 0
    @Option(help: "Reader name in the reader table.") var name: String = "recorder"

    func run() throws {
        installStopSignalsUnblocked()
        guard let policy = FsyncPolicy(rawValue: fsync) else { throw ValidationError("--fsync must be never, interval or block") }
        var o = RecorderOptions()
        o.writer.fsync = policy
        o.writer.segmentBytes = UInt64(max(1, segmentMB)) << 20
        o.writer.blockBytes = blockKB * 1024
        o.writer.buffers = buffers
        o.writer.direct = direct
        o.writer.flushAfterNs = UInt64(max(0, flushMs) * 1e6)
        o.gating = gating
        o.attachTimeout = attachTimeout
        o.delayMicros = delayUs
        o.name = name
        switch from {
        case "start": o.start = .start
        case "now": o.start = .now
        default: throw ValidationError("--from must be start or now")
        }
        let ringList = rings.split(separator: ",").map(String.init)
        guard !ringList.isEmpty else { throw ValidationError("--rings is empty") }
        let result: [RecordedRing]
        do {
            result = try Recorder.run(bus: bus, rings: ringList, directory: dir, options: o, stop: { tb_stop_requested() != 0 },
                                      onAttached: { warn("record: recording \(ringList.joined(separator: ",")) of bus \(bus) into \(dir) (pid \(getpid()))") })
        } catch {
            warn("record: \(error)")
            throw ExitCode(2)
        }
        var total = JournalWriterStats()
        for r in result {
            let s = r.stats
            print("ring=\(r.ring) records=\(s.records) gaps=\(s.gapRecords) lost=\(s.lost) blocks=\(s.blocks) bytes=\(s.bytes) "
                  + "segments=\(s.segments) next_sequence=\(s.nextSequence) reason=\(r.reason) reader_lost=\(r.readerLost) registered_buffers=\(r.buffersRegistered)")
            total.records += s.records
            total.gapRecords += s.gapRecords
            total.lost += s.lost
        }
        print("recorded=\(total.records) gaps=\(total.gapRecords) lost=\(total.lost)")
        flushOut()
    }
}

struct JournalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "journal", abstract: "Verify, print and describe journals.",
        subcommands: [JournalVerifyCommand.self, JournalCatCommand.self, JournalInfoCommand.self])
}

/// Rings of a journal directory (all, or the one asked for).
func journalRings(_ dir: String, only: String?) throws -> [String] {
    let all: [String]
    do { all = try JournalDirectory.rings(dir).map(\.ring) } catch {
        warn("journal: \(error)")
        throw ExitCode(2)
    }
    if all.isEmpty { warn("journal: \(JournalError.noJournal(directory: dir))"); throw ExitCode(2) }
    if let only {
        guard all.contains(only) else { warn("journal: \(JournalError.ringNotFound(directory: dir, ring: only))"); throw ExitCode(2) }
        return [only]
    }
    return all
}

struct JournalVerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check every block of every file; list gaps; say where a file stops being valid and why. Exit 0 only when every ring is valid and sealed.")
    @Argument(help: "Journal directory.") var dir: String
    @Option(help: "Only this ring.") var ring: String?

    func run() throws {
        var ok = true
        var records: UInt64 = 0, gaps: UInt64 = 0, lost: UInt64 = 0
        let rings = try journalRings(dir, only: ring)
        for r in rings {
            let reader: JournalReader
            do { reader = try JournalReader(directory: dir, ring: r) } catch {
                ok = false
                print("ring=\(r) status=stopped reason=\(error.reasonCode) file=\(error.location?.file ?? dir) offset=\(error.location?.offset ?? 0) records=0")
                print("  why: \(error)")
                continue
            }
            reader.readToEnd { e in
                if case .gap(let from, let count) = e { print("gap ring=\(r) from=\(from) count=\(count)") }
            }
            records += reader.records
            gaps += reader.gapRecords
            lost += reader.lost
            var line = "ring=\(r) schema=\(reader.schema) segments=\(reader.segments.count) blocks=\(reader.blocks) records=\(reader.records) "
                + "gaps=\(reader.gapRecords) lost=\(reader.lost) first=\(reader.header.firstSequence) next=\(reader.nextSequence)"
            if let e = reader.stopError {
                ok = false
                let loc = e.location
                line += " status=stopped reason=\(e.reasonCode) file=\(loc?.file ?? reader.location.file) offset=\(loc?.offset ?? reader.location.offset)"
                print(line)
                print("  why: \(e)")
            } else if let s = reader.seal {
                line += " status=sealed reason=\(s.reason)"
                if s.nextSequence != reader.nextSequence { ok = false; line += " seal_mismatch=true" }
                print(line)
            }
        }
        print("verified rings=\(rings.count) records=\(records) gaps=\(gaps) lost=\(lost) ok=\(ok)")
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
        let isMarket = reader.schema == .market
        var out = ""
        out.reserveCapacity(1 << 16)
        func emit(_ s: String) {
            out += s
            out += "\n"
            if out.utf8.count > 60_000 { print(out, terminator: ""); out.removeAll(keepingCapacity: true) }
        }
        loop: while let e = reader.next() {
            switch e {
            case .record(let p):
                let seq = p.load(as: UInt64.self)
                if let to, seq > to { break loop }
                if isMarket {
                    emit("seq=\(seq) \(MarketMessageView(p).description)")
                } else if reader.schema == .decisions {
                    let d = DecisionRecordView(p)
                    emit("seq=\(seq) decision mseq=\(d.marketSequence) inst=\(d.instrument) t=\(d.exchangeTime) live=\(d.livePrediction) shadow=\(d.shadowPrediction) signal=\(d.signal)")
                } else {
                    emit("seq=\(seq) kind=\(p.load(fromByteOffset: 8, as: UInt16.self))")
                }
            case .gap(let f, let c):
                if let to, f > to { break loop }
                emit("gap from=\(f) count=\(c)")
            }
        }
        print(out, terminator: "")
        flushOut()
        if let e = reader.stopError, !(to != nil && reader.nextSequence > to!) {
            warn("journal cat: stopped: \(e)")
            throw ExitCode(1)
        }
    }
}

struct JournalInfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "info", abstract: "Describe each ring of a journal: header, counts, sequence and time ranges, seal.")
    @Argument(help: "Journal directory.") var dir: String

    func run() throws {
        for r in try journalRings(dir, only: nil) {
            let reader: JournalReader
            do { reader = try JournalReader(directory: dir, ring: r) } catch { print("ring=\(r) invalid: \(error)"); continue }
            let h = reader.header
            var firstTime: Int64?, lastTime: Int64 = 0
            let timeOffset = JournalFormat.exchangeTimeOffset(h.schema)
            reader.readToEnd { e in
                if case .record(let p) = e, let o = timeOffset {
                    let t = p.load(fromByteOffset: o, as: Int64.self)
                    if firstTime == nil { firstTime = t }
                    lastTime = t
                }
            }
            var bytes: UInt64 = 0
            for s in reader.segments {
                var st = stat()
                if stat(dir + "/" + JournalFormat.segmentFileName(ring: r, segment: s), &st) == 0 { bytes += UInt64(st.st_size) }
            }
            let index = (try? JournalIndexFile.load(directory: dir, ring: r)).map { "\($0.count)" } ?? "none"
            print("ring=\(r) bus=\(h.bus) schema=\(h.schema) slot_size=\(h.slotSize) version=\(h.version) generation=\(h.generation) "
                  + "created_ns=\(h.createdRealtimeNs) segments=\(reader.segments.count) bytes=\(bytes) blocks=\(reader.blocks) index_entries=\(index) "
                  + "first_sequence=\(h.firstSequence) next_sequence=\(reader.nextSequence) records=\(reader.records) gaps=\(reader.gapRecords) "
                  + "lost=\(reader.lost) first_time=\(firstTime ?? 0) last_time=\(lastTime) "
                  + (reader.seal.map { "sealed=true reason=\($0.reason)" } ?? "sealed=false stopped=\(reader.stopError?.reasonCode ?? "?")"))
        }
        flushOut()
    }
}

/// A journal's market ring as a feed source: replay publishes it through `FeedPublisher.run`,
/// the same loop as a live feed. The recorded end-of-session ends the source (the publisher
/// writes its own); gap records become `gap` messages. With a speed, it paces by exchange time.
struct JournalSource: MarketSource {
    let reader: JournalReader
    /// nil: as fast as the ring takes them; otherwise exchange-time seconds per wall second.
    let speed: Double?
    var report = FeedReport()
    var firstTime: Int64 = 0
    var lastTime: Int64 = 0
    var startNs: UInt64 = 0
    var started = false

    init(directory: String, ring: String = "market", speed: Double? = nil) throws {
        reader = try JournalReader(directory: directory, ring: ring)
        guard reader.schema == .market else {
            throw ValidationError("\(directory): ring '\(ring)' has schema \(reader.schema); replay publishes a market ring")
        }
        self.speed = speed
    }

    mutating func next() -> MarketMessage? {
        guard let e = reader.next() else { return nil }
        switch e {
        case .record(let p):
            let view = MarketMessageView(p)
            if view.rawKind == MessageKind.endOfSession.rawValue { return nil }
            report.messagesIn += 1
            let t = view.exchangeTime
            if let speed { pace(t, speed) }
            lastTime = t
            return MarketMessage(view)
        case .gap(let from, let count):
            report.messagesIn += 1
            return .gap(exchangeTime: lastTime, from: from, count: count)
        }
    }

    mutating func pace(_ t: Int64, _ speed: Double) {
        if !started {
            started = true
            firstTime = t
            startNs = tb_monotonic_ns()
            return
        }
        let due = startNs &+ UInt64(max(0, Double(t - firstTime) / speed))
        var now = tb_monotonic_ns()
        while now < due {
            if due - now > 200_000 { usleep(UInt32(min((due - now) / 2000, 100_000))) } else { tb_cpu_relax() }
            now = tb_monotonic_ns()
        }
    }
}

struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Publish a journal's market ring into ring `market` through the live feed loop. Last line: replayed=N published=P.")

    @Option(help: "Journal directory.") var dir: String
    @Option(help: "Bus name.") var bus: String?
    @Option(help: "max | realtime | xN (N times real time)") var speed: String = "max"
    @Flag(help: "Lossless replay: wait for gating readers (--wait-readers, default 1) before publishing; the ring then waits for them.") var gating = false
    @Option(name: .customLong("wait-readers"), help: "Wait until this many readers are attached before publishing.") var waitReaders: Int?
    @Option(name: .customLong("wait-timeout"), help: "Seconds to wait for --wait-readers.") var waitTimeout: Double = 30
    @Option(help: "Ring capacity in slots (a power of two).") var capacity: Int = 1 << 16
    @Option(help: "The journal's ring to replay.") var ring: String = "market"
    @Flag(name: .customLong("verify-decisions"), help: "Re-run the strategy in-process over the recorded market ring and compare every decision with the recorded one.") var verifyDecisions = false
    @Option(help: "Feature definition (TOML), with --verify-decisions.") var features: String?
    @Option(help: "Live model, with --verify-decisions.") var model: String?
    @Option(help: "Shadow model, with --verify-decisions (if the live strategy had one).") var shadow: String?
    @Option(help: "Recorded decisions ring (default: the only decisions.* ring of the journal).") var decisions: String?

    func run() throws {
        installStopSignalsUnblocked()
        if verifyDecisions {
            guard let features, let model else { throw ValidationError("--verify-decisions needs --features and --model") }
            try DecisionVerifier.run(dir: dir, market: ring, decisions: decisions, features: features, model: model, shadow: shadow)
            return
        }
        guard let bus else { throw ValidationError("--bus is required") }
        let pace: Double?
        switch speed {
        case "max": pace = nil
        case "realtime": pace = 1
        default:
            guard speed.hasPrefix("x"), let f = Double(speed.dropFirst()), f > 0 else {
                throw ValidationError("--speed must be max, realtime or xN (e.g. x10)")
            }
            pace = f
        }
        var source: JournalSource
        do { source = try JournalSource(directory: dir, ring: ring, speed: pace) } catch {
            warn("replay: \(error)")
            throw ExitCode(2)
        }
        var producer = try RingProducer(bus: bus, ring: "market", schema: .market, slotSize: MarketLayout.slotSize, capacity: capacity)
        warn("replay: \(dir) into ring market on bus \(bus), generation \(producer.header.generation), pid \(getpid())")
        let wanted = waitReaders ?? (gating ? 1 : 0)
        if wanted > 0 {
            let deadline = tb_monotonic_ns() + UInt64(waitTimeout * 1e9)
            while ReaderTable.snapshot(producer.mapping).filter({ !gating || $0.mode == .gating }).count < wanted {
                if tb_stop_requested() != 0 { throw ExitCode(130) }
                if tb_monotonic_ns() > deadline {
                    producer.close()
                    throw ValidationError("replay: fewer than \(wanted) \(gating ? "gating " : "")readers attached after \(waitTimeout) s")
                }
                producer.heartbeat()
                usleep(1000)
            }
        }
        let summary = FeedPublisher.run(&source, into: &producer, pace: .max, stop: { tb_stop_requested() != 0 })
        producer.close()
        if let e = source.reader.stopError { warn("replay: the journal stops early: \(e)") }
        print("replayed=\(source.report.messagesIn) published=\(summary.published) seconds=\(format3(summary.seconds)) "
              + "journal_gaps=\(source.reader.gapRecords) complete=\(source.reader.stopError == nil)")
        flushOut()
    }
}

/// `replay --verify-decisions`: feeds the recorded market ring, record by record (the exact slot
/// bytes the live strategy read), through the same `StrategyLoop.decide` into a private ring, and
/// compares each decision with the recorded one field by field. Publish time (a clock read) is the
/// one field not compared; everything else must be equal bit for bit.
enum DecisionVerifier {
    static let fields: [(name: String, offset: Int, size: Int)] = [
        ("sequence", 0, 8), ("kind", 8, 2), ("flags", 10, 2), ("feature_count", 12, 2), ("signal", 14, 1), ("pad15", 15, 1),
        ("market_sequence", 16, 8), ("exchange_time", 24, 8), ("instrument", 32, 4), ("pad36", 36, 4), ("receive_time", 40, 8),
        ("live_prediction", 56, 8), ("shadow_prediction", 64, 8), ("model_id", 72, 8), ("shadow_model_id", 80, 8), ("pad88", 88, 8),
    ]

    static func fieldValue(_ p: UnsafeRawPointer, _ f: (name: String, offset: Int, size: Int)) -> String {
        switch f.name {
        case "live_prediction", "shadow_prediction":
            let v = p.load(fromByteOffset: f.offset, as: Double.self)
            return "\(v) (0x\(String(v.bitPattern, radix: 16)))"
        default:
            var v: UInt64 = 0
            for i in 0..<f.size { v |= UInt64(p.load(fromByteOffset: f.offset + i, as: UInt8.self)) << (8 * UInt64(i)) }
            return "\(v)"
        }
    }

    static func run(dir: String, market: String, decisions: String?, features: String, model: String, shadow: String?) throws {
        let decisionRing: String
        if let decisions { decisionRing = decisions } else {
            let found = try JournalDirectory.rings(dir).map(\.ring).filter { $0.hasPrefix("decisions.") }
            guard found.count == 1 else {
                throw ValidationError("\(dir): \(found.isEmpty ? "no decisions.* ring" : "several decisions rings (\(found.joined(separator: ",")))"); name one with --decisions")
            }
            decisionRing = found[0]
        }
        let marketReader = try JournalReader(directory: dir, ring: market)
        let recorded = try JournalReader(directory: dir, ring: decisionRing)
        guard marketReader.schema == .market, recorded.schema == .decisions else {
            throw ValidationError("\(dir): \(market) must be a market ring and \(decisionRing) a decisions ring")
        }
        let definition = try loadDefinition(features)
        let live: LoadedModel, shadowModel: LoadedModel?
        do {
            live = try Model.load(path: model)
            shadowModel = try shadow.map { (p: String) throws(ModelError) -> LoadedModel in try Model.load(path: p) }
        } catch { throw ValidationError("\(error)") }
        let engine = FeatureEngine(definition: definition)
        let slotSize = recorded.slotSize
        let loop: StrategyLoop
        do { loop = try StrategyLoop(engine: engine, live: live, shadow: shadowModel, slotSize: slotSize) } catch { throw ValidationError("\(error)") }

        let bus = "verify-\(getpid())"
        defer { try? Segment.removeBus(bus) }
        var producer = try RingProducer(bus: bus, ring: "decisions.verify", schema: .decisions, slotSize: slotSize, capacity: 1024)
        var reader = try RingReader(bus: bus, ring: "decisions.verify", name: "verify", mode: .live, from: .start, idle: .backoff)
        let features = engine.count
        var marketCount: UInt64 = 0, compared: UInt64 = 0
        var failure: String?

        loop: while let e = marketReader.next() {
            guard case .record(let p) = e else {
                warn("replay: the market journal has a gap; the live strategy saw it too only if it read the same ring lossless")
                continue
            }
            let m = MarketMessageView(p)
            marketCount += 1
            if m.rawKind == MessageKind.endOfSession.rawValue { break }
            guard engine.update(m) else { continue }
            loop.decide(m, into: &producer)
            guard case .message(let mine) = reader.poll() else { failure = "internal: the verification ring returned nothing"; break }
            var rec: UnsafeRawPointer?
            while rec == nil {
                switch recorded.next() {
                case .record(let q)?: rec = q
                case .gap(let from, let count)?:
                    failure = "the recorded decisions have a gap of \(count) from sequence \(from): nothing to compare with"
                    break loop
                case nil:
                    failure = "replay made decision \(compared) (market sequence \(m.sequence)) but the recording has only \(compared) decisions"
                        + (recorded.stopError.map { " (the decisions journal stops early: \($0))" } ?? "")
                    break loop
                }
            }
            let q = rec!
            for f in fields where memcmp(mine.base + f.offset, q + f.offset, f.size) != 0 {
                failure = "decision \(compared) (market sequence \(m.sequence)): field \(f.name) differs: recorded \(fieldValue(q, f)), replayed \(fieldValue(mine.base, f))"
                break loop
            }
            for i in 0..<((slotSize - DecisionLayout.features) / 8) {
                let o = DecisionLayout.features + 8 * i
                if memcmp(mine.base + o, q + o, 8) != 0 {
                    let a = q.load(fromByteOffset: o, as: Double.self), b = mine.base.load(fromByteOffset: o, as: Double.self)
                    let what = i < features ? "feature \(i) (\(definition.features[i].name))" : "bytes \(o)..<\(o + 8) after the features"
                    failure = "decision \(compared) (market sequence \(m.sequence)): \(what) differs: recorded \(a) (0x\(String(a.bitPattern, radix: 16))), replayed \(b) (0x\(String(b.bitPattern, radix: 16)))"
                    break loop
                }
            }
            compared += 1
        }
        if failure == nil, case .record? = recorded.next() {
            failure = "the recording has more decisions than the replay made (\(compared) reproduced)"
        }
        if failure == nil, let e = marketReader.stopError { warn("replay: the market journal stops early: \(e)") }
        if let failure {
            print("first difference: \(failure)")
            print("verified market=\(marketCount) decisions=\(compared) identical=false")
            flushOut()
            throw ExitCode(1)
        }
        print("verified market=\(marketCount) decisions=\(compared) identical=true")
        flushOut()
    }
}
