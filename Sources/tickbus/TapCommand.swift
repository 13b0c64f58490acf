import ArgumentParser
import CTickBus
import TickBusCore

#if canImport(Glibc)
import Glibc
#endif

struct TapCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tap",
        abstract: "Read a ring, count messages, gaps and losses. Last line: received=N lost=L gaps=G."
    )

    @Option(help: "Bus name.") var bus: String
    @Option(help: "Ring name.") var ring: String = "market"
    @Option(help: "start | now") var from: String = "start"
    @Flag(help: "Print each message.") var print: Bool = false
    @Flag(help: "Gating reader: the producer waits for it (lossless).") var gating: Bool = false
    @Option(help: "Reader name in the reader table.") var name: String?
    @Option(help: "Idle strategy: spin | yield | backoff.") var idle: String = "backoff"
    @Option(name: .customLong("delay-us"), help: "Sleep this long after each message (a slow reader, for tests).")
    var delayUs: UInt32 = 0
    @Option(help: "Stop after this many messages.") var count: UInt64?
    @Option(help: "After the producer is gone, wait this many seconds for a new generation and re-attach.")
    var reattach: Double = 0
    @Option(name: .customLong("attach-timeout"), help: "Seconds to wait for the ring to exist.") var attachTimeout:
        Double = 0

    func run() throws {
        tb_install_stop_signals()
        guard let idleStrategy = IdleStrategy(name: idle) else {
            throw ValidationError("--idle must be spin, yield or backoff")
        }
        var o = RingTap.Options(bus: bus, name: name ?? "tap-\(getpid())")
        o.ring = ring
        o.from = try startPosition(from)
        o.gating = gating
        o.idle = idleStrategy
        o.delayMicros = delayUs
        o.count = count
        o.reattachSeconds = reattach
        o.attachTimeout = attachTimeout
        let printing = print
        let (counts, end) = RingTap(o).run(
            message: { bytes, schema in
                guard printing else { return }
                Swift.print(RecordText.line(bytes.base, slotSize: bytes.count, schema: schema))
            },
            log: warn,
            stop: stopRequested
        )
        switch end {
        case .attachFailed(let error): warn("tap: \(error)")
        case .finished, .producerGone: break
        }
        // The contract line reports a read; after a failed first attach there was none.
        if counts.generationsAttached > 0 { Swift.print(counts.line) }
        flushOut()
        switch end {
        case .finished: return
        case .producerGone: throw ExitCode(3)
        case .attachFailed: throw ExitCode(2)
        }
    }
}
