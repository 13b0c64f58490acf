import ArgumentParser
import CTickBus
import Feed
import TickBusCore
#if canImport(Glibc)
import Glibc
#endif

/// Prints to standard error (diagnostics; stdout carries data and contract lines).
func warn(_ s: String) {
    let line = s + "\n"
    _ = line.utf8CString.withUnsafeBufferPointer { Glibc.write(2, $0.baseAddress, $0.count - 1) }
}

/// Flushes stdout so that a contract line reaches a pipe even if the process is then killed.
func flushOut() { fflush(nil) }

struct FeedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "feed",
        abstract: "Read a market-data source and publish normalised messages into ring `market`.")

    @Option(help: "Bus name (a directory under /dev/shm/tickbus).") var bus: String
    @Option(help: "synthetic:SEED | itch:FILE | itch+moldudp64:ADDR:PORT | lobster:MESSAGES.csv,ORDERBOOK.csv") var source: String
    @Option(help: "Stop after this many messages (end-of-session is sent after them).") var messages: UInt64?
    @Option(help: "Messages per second (default: as fast as the ring takes them).") var rate: Double?
    @Option(help: "Ring capacity in slots (a power of two).") var capacity: Int = 1 << 16
    @Option(help: "Create the segment 0660 for this group id (default 0600, owner only).") var group: UInt32?
    @Option(name: .customLong("wait-readers"), help: "Wait until this many readers are attached before publishing.") var waitReaders: Int = 0
    @Option(name: .customLong("wait-timeout"), help: "Seconds to wait for --wait-readers.") var waitTimeout: Double = 30
    @Option(name: .customLong("session-timeout"),
            help: "itch+moldudp64: seconds of silence of the current MoldUDP64 session before another session may take over.")
    var sessionTimeout: Double = Double(MoldUDP64Options.defaultSessionTimeoutNs) / 1e9
    @Option(help: "itch+moldudp64: accept only this MoldUDP64 session (up to 10 characters); others are counted and dropped.")
    var session: String?

    func run() throws {
        guard sessionTimeout.isFinite, sessionTimeout > 0, sessionTimeout < 1e9 else {
            throw ValidationError("--session-timeout must be a positive number of seconds, got \(sessionTimeout)")
        }
        let mold = MoldUDP64Options(sessionTimeoutNs: UInt64(sessionTimeout * 1e9), pinnedSession: session)
        do { try mold.validate() } catch { throw ValidationError("--\(error.description)") }
        tb_install_stop_signals()
        var producer = try RingProducer(
            bus: bus, ring: "market", schema: .market, slotSize: MarketLayout.slotSize, capacity: capacity,
            access: group.map { .group(gid_t($0)) } ?? .owner)
        warn("feed: ring market on bus \(bus), generation \(producer.header.generation), capacity \(capacity), pid \(getpid())")
        if waitReaders > 0 { try waitForReaders(&producer) }
        let pace: FeedPace = rate.map { .rate($0) } ?? .max
        let summary = try FeedSources.run(source, into: &producer, pace: pace, limit: messages ?? .max, mold: mold)
        producer.close()
        let rateText = summary.seconds > 0 ? Int(Double(summary.published) / summary.seconds) : 0
        print("published=\(summary.published) seconds=\(String(format3(summary.seconds))) rate=\(rateText)")
        let r = summary.report
        if r.malformedTotal > 0 || r.unknownReferences > 0 {
            print("malformed=\(r.malformedTotal) unknown_references=\(r.unknownReferences) "
                  + r.malformed.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
            for s in r.malformedSamples { warn("feed: skipped \(s)") }
        }
        flushOut()
        if r.stoppedEarly {  // a truncated tail: the data after it was never published
            warn("feed: stopped early at a truncated tail; the rest of the input was not read")
            throw ExitCode(1)
        }
    }

    func waitForReaders(_ producer: inout RingProducer) throws {
        let deadline = tb_monotonic_ns() + UInt64(waitTimeout * 1e9)
        while ReaderTable.snapshot(producer.mapping).count < waitReaders {
            if tb_stop_requested() != 0 { throw ExitCode(130) }
            if tb_monotonic_ns() > deadline { throw ValidationError("feed: fewer than \(waitReaders) readers attached after \(waitTimeout) s") }
            producer.heartbeat()
            usleep(1000)
        }
    }
}

func format3(_ x: Double) -> String {
    let scaled = (x * 1000).rounded()
    let whole = Int(scaled) / 1000
    let frac = abs(Int(scaled)) % 1000
    return "\(whole).\(String(repeating: "0", count: 3 - String(frac).count))\(frac)"
}

/// Source specifications for `--source`, dispatched to a concrete generic publish loop each.
enum FeedSources {
    static func run(
        _ spec: String, into producer: inout RingProducer, pace: FeedPace, limit: UInt64, mold: MoldUDP64Options = MoldUDP64Options()
    ) throws -> FeedPublisher.Summary {
        let stop = { tb_stop_requested() != 0 }
        guard let colon = spec.firstIndex(of: ":") else {
            throw ValidationError("--source '\(spec)': expected KIND:ARGUMENT, e.g. synthetic:42")
        }
        let kind = String(spec[..<colon])
        let arg = String(spec[spec.index(after: colon)...])
        switch kind {
        case "synthetic":
            guard let seed = UInt64(arg) else { throw ValidationError("--source synthetic:SEED needs an integer seed, got '\(arg)'") }
            var source = SyntheticSource(seed: seed)
            return FeedPublisher.run(&source, into: &producer, pace: pace, limit: limit, stop: stop)
        default:
            if let summary = try FeedSourcesExtra.run(kind: kind, argument: arg, into: &producer, pace: pace, limit: limit, stop: stop, mold: mold) {
                return summary
            }
            throw ValidationError("--source '\(spec)': unknown kind '\(kind)' (synthetic, itch, itch+moldudp64, lobster, journal)")
        }
    }
}

struct TapCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tap",
        abstract: "Read a ring, count messages, gaps and losses. Last line: received=N lost=L gaps=G.")

    @Option(help: "Bus name.") var bus: String
    @Option(help: "Ring name.") var ring: String = "market"
    @Option(help: "start | now") var from: String = "start"
    @Flag(help: "Print each message.") var print: Bool = false
    @Flag(help: "Gating reader: the producer waits for it (lossless).") var gating: Bool = false
    @Option(help: "Reader name in the reader table.") var name: String?
    @Option(help: "Idle strategy: spin | yield | backoff.") var idle: String = "backoff"
    @Option(name: .customLong("delay-us"), help: "Sleep this long after each message (a slow reader, for tests).") var delayUs: UInt32 = 0
    @Option(help: "Stop after this many messages.") var count: UInt64?
    @Option(help: "After the producer is gone, wait this many seconds for a new generation and re-attach.") var reattach: Double = 0
    @Option(name: .customLong("attach-timeout"), help: "Seconds to wait for the ring to exist.") var attachTimeout: Double = 0

    func run() throws {
        tb_install_stop_signals()
        guard let idleStrategy = IdleStrategy(name: idle) else { throw ValidationError("--idle must be spin, yield or backoff") }
        let start: StartPosition
        switch from {
        case "start": start = .start
        case "now": start = .now
        default: throw ValidationError("--from must be start or now")
        }
        let readerName = name ?? "tap-\(getpid())"
        var received: UInt64 = 0, lost: UInt64 = 0, gaps: UInt64 = 0
        var generation: UInt64 = 0
        var exitCode: Int32 = 0

        func finish() {
            Swift.print("received=\(received) lost=\(lost) gaps=\(gaps)")
            flushOut()
        }

        var pendingStart = start
        generationLoop: while true {
            var reader: RingReader
            do {
                reader = try attach(readerName, mode: gating ? .gating : .live, from: pendingStart, idle: idleStrategy, notGeneration: generation)
            } catch {
                warn("tap: \(error)")
                finish()
                throw ExitCode(2)
            }
            generation = reader.header.generation
            warn("tap: attached to \(ring) generation \(generation) as reader \(reader.entryIndex) (\(gating ? "gating" : "live"))")
            var idler = Idler(idleStrategy)
            let isMarket = reader.header.schema == .market
            var lastCheck = tb_monotonic_ns()
            while true {
                switch reader.poll() {
                case .message(let bytes):
                    idler.reset()
                    received &+= 1
                    if isMarket {
                        let m = bytes.market
                        if print { Swift.print(m.description) }
                        if m.kind == .endOfSession {
                            finish()
                            return
                        }
                    } else if print {
                        let d = DecisionRecordView(bytes.base)
                        Swift.print("decision mseq=\(d.marketSequence) inst=\(d.instrument) t=\(d.exchangeTime) live=\(d.livePrediction) shadow=\(d.shadowPrediction) signal=\(d.signal)")
                    }
                    if delayUs > 0 { usleep(delayUs) }
                    if let count, received >= count { finish(); return }
                    // A signal is a flag read: cheap enough every 64 messages (every one when slowed).
                    if received & 63 == 0 || delayUs > 0 {
                        if tb_stop_requested() != 0 { finish(); return }
                        if received & 4095 == 0 { reader.heartbeat() }
                    }
                case .gap(let from, let count):
                    lost &+= count
                    gaps &+= 1
                    warn("tap: gap from=\(from) count=\(count)")
                case .empty:
                    idler.idle()
                    let now = tb_monotonic_ns()
                    if now - lastCheck < 50_000_000 { continue }
                    lastCheck = now
                    reader.heartbeat(now: now)
                    if tb_stop_requested() != 0 { finish(); return }
                    let status = reader.producerStatus()
                    switch status {
                    case .running:
                        continue
                    case .closed:
                        if !reader.caughtUp { continue }
                        warn("tap: producer closed the ring")
                        if reattach > 0 { pendingStart = .start; continue generationLoop }
                        finish()
                        return
                    case .dead, .replaced:
                        if case .dead = status, !reader.caughtUp { continue }
                        warn("tap: \(status)")
                        if reattach > 0 { pendingStart = .start; continue generationLoop }
                        exitCode = 3
                        finish()
                        throw ExitCode(exitCode)
                    }
                }
            }
        }
    }

    /// Attaches, waiting (up to --attach-timeout, or --reattach when re-attaching) for a ring
    /// whose generation differs from `notGeneration`.
    func attach(_ name: String, mode: ReaderMode, from: StartPosition, idle: IdleStrategy, notGeneration: UInt64) throws -> RingReader {
        let wait = notGeneration == 0 ? attachTimeout : reattach
        let deadline = tb_monotonic_ns() + UInt64(max(0, wait) * 1e9)
        while true {
            do {
                let reader = try RingReader(bus: bus, ring: ring, name: name, mode: mode, from: from, idle: idle)
                if reader.header.generation != notGeneration && reader.producerStatus() == .running || notGeneration == 0 {
                    return reader
                }
            } catch {
                if tb_monotonic_ns() >= deadline || tb_stop_requested() != 0 { throw error }
            }
            if tb_monotonic_ns() >= deadline || tb_stop_requested() != 0 {
                throw ValidationError("no new generation of \(ring) within \(wait) s")
            }
            usleep(5000)
        }
    }
}

struct RingsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rings", abstract: "List the rings of a bus with their header fields and readers.")
    @Option(help: "Bus name.") var bus: String

    func run() throws {
        let names = try Segment.list(bus: bus)
        for name in names {
            do {
                let m = try Segment.attach(bus: bus, ring: name, expecting: nil)
                let h = m.header
                let c = ProducerCounters(m)
                let alive = tb_pid_alive(h.producerPid) != 0
                let state: String
                switch m.producerState {
                case .closed: state = "closed"
                case .running: state = alive ? "running" : "dead"
                case .initializing: state = "initializing"
                }
                print("ring=\(name) schema=\(h.schema) version=\(h.version) slot_size=\(h.slotSize) capacity=\(h.capacity) "
                      + "generation=\(h.generation) producer_pid=\(h.producerPid) state=\(state) published=\(m.cursor) file_size=\(h.fileSize) "
                      + "gate_waits=\(c.gateWaits) ungated=\(c.readersUngated) reclaimed=\(c.readersReclaimed)")
                for r in ReaderTable.snapshot(m) {
                    print("  reader=\(r.index) name=\(r.name) pid=\(r.pid) mode=\(r.mode == .gating ? "gating" : "live") position=\(r.position) "
                          + "lag=\(m.cursor &- r.position) lost=\(r.lost) gaps=\(r.gaps) alive=\(r.alive)")
                }
            } catch {
                print("ring=\(name) invalid: \(error)")
            }
        }
    }
}

struct RmCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rm", abstract: "Remove a bus: its rings and stats blocks (files you own with a TickBus magic), then the directory.")
    @Option(help: "Bus name.") var bus: String
    func run() throws {
        try Segment.removeBus(bus)
    }
}
