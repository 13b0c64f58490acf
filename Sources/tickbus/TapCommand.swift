import ArgumentParser
import CTickBus
import TickBusCore
#if canImport(Glibc)
import Glibc
#endif

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
        let start = try startPosition(from)
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
