import CTickBus
#if canImport(Glibc)
import Glibc
#endif

/// `tickbus tap`: a reader that counts what it receives, loses and sees as gaps, optionally
/// printing each message, slowed down (a slow reader, for tests) or following the ring across
/// producer generations. Stops at end-of-session, at a count, when asked, or when the producer
/// closes or dies.
public struct RingTap {
    public struct Options: Sendable {
        public var bus: String
        public var ring = "market"
        public var from = StartPosition.start
        public var gating = false
        public var name: String
        public var idle = IdleStrategy.backoff
        /// Sleep after each message.
        public var delayMicros: UInt32 = 0
        /// Stop after this many messages.
        public var count: UInt64?
        /// After the producer is gone, wait this long for a new generation and re-attach (0: stop).
        public var reattachSeconds: Double = 0
        /// Seconds to wait for the ring to exist.
        public var attachTimeout: Double = 0

        public init(bus: String, name: String) {
            self.bus = bus
            self.name = name
        }
    }

    /// What the tap saw, and why it stopped.
    public struct Counts: Sendable, Equatable {
        public var received: UInt64 = 0
        public var lost: UInt64 = 0
        public var gaps: UInt64 = 0
        /// `received=N lost=L gaps=G`, the contract line.
        public var line: String { "received=\(received) lost=\(lost) gaps=\(gaps)" }
    }

    public enum End: Sendable {
        /// End-of-session, the count, a stop request or the producer closed the ring.
        case finished
        /// The producer died or was replaced (and no re-attach was asked for).
        case producerGone(ProducerStatus)
        /// The ring could not be attached (first, or again after the producer went).
        case attachFailed(TapError)
    }

    public let options: Options

    public init(_ options: Options) { self.options = options }

    /// Runs the tap.
    /// - Parameters:
    ///   - message: each message received (print it with `MarketMessageView` or `DecisionRecordView`).
    ///   - log: attach, gap and producer notices.
    ///   - stop: polled every 64 messages (every message when slowed) and when idle.
    /// - Returns: the counts (also when attaching failed: those of the generations before) and why it ended.
    public func run(message: (SlotBytes, SchemaID) -> Void, log: (String) -> Void, stop: () -> Bool) -> (Counts, End) {
        var c = Counts()
        var generation: UInt64 = 0
        var pendingStart = options.from
        generationLoop: while true {
            var reader: RingReader
            do { reader = try attach(from: pendingStart, notGeneration: generation, stop: stop) } catch { return (c, .attachFailed(error)) }
            generation = reader.header.generation
            log("tap: attached to \(options.ring) generation \(generation) as reader \(reader.entryIndex) (\(options.gating ? "gating" : "live"))")
            var idler = Idler(options.idle)
            let schema = reader.header.schema
            var lastCheck = tb_monotonic_ns()
            while true {
                switch reader.poll() {
                case .message(let bytes):
                    idler.reset()
                    c.received &+= 1
                    message(bytes, schema)
                    if schema == .market && bytes.market.kind == .endOfSession { return (c, .finished) }
                    if options.delayMicros > 0 { usleep(options.delayMicros) }
                    if let count = options.count, c.received >= count { return (c, .finished) }
                    // A signal is a flag read: cheap enough every 64 messages (every one when slowed).
                    if c.received & 63 == 0 || options.delayMicros > 0 {
                        if stop() { return (c, .finished) }
                        if c.received & 4095 == 0 { reader.heartbeat() }
                    }
                case .gap(let from, let count):
                    c.lost &+= count
                    c.gaps &+= 1
                    log("tap: gap from=\(from) count=\(count)")
                case .empty:
                    idler.idle()
                    let now = tb_monotonic_ns()
                    if now - lastCheck < 50_000_000 { continue }
                    lastCheck = now
                    reader.heartbeat(now: now)
                    if stop() { return (c, .finished) }
                    let status = reader.producerStatus()
                    switch status {
                    case .running:
                        continue
                    case .closed:
                        if !reader.caughtUp { continue }
                        log("tap: producer closed the ring")
                        if options.reattachSeconds > 0 { pendingStart = .start; continue generationLoop }
                        return (c, .finished)
                    case .dead, .replaced:
                        if case .dead = status, !reader.caughtUp { continue }
                        log("tap: \(status)")
                        if options.reattachSeconds > 0 { pendingStart = .start; continue generationLoop }
                        return (c, .producerGone(status))
                    }
                }
            }
        }
    }

    /// Attaches, waiting (up to the attach timeout, or the re-attach time when re-attaching) for a
    /// ring whose generation differs from `notGeneration`.
    func attach(from: StartPosition, notGeneration: UInt64, stop: () -> Bool) throws(TapError) -> RingReader {
        let wait = notGeneration == 0 ? options.attachTimeout : options.reattachSeconds
        let deadline = tb_monotonic_ns() + UInt64(max(0, wait) * 1e9)
        while true {
            do {
                let reader = try RingReader(bus: options.bus, ring: options.ring, name: options.name, mode: options.gating ? .gating : .live,
                                            from: from, idle: options.idle)
                if reader.header.generation != notGeneration && reader.producerStatus() == .running || notGeneration == 0 {
                    return reader
                }
            } catch {
                if tb_monotonic_ns() >= deadline || stop() { throw .attach(error) }
            }
            if tb_monotonic_ns() >= deadline || stop() { throw .noNewGeneration(ring: options.ring, seconds: wait) }
            usleep(5000)
        }
    }
}

/// Why a tap could not attach.
public enum TapError: Error, CustomStringConvertible {
    /// The ring is not there, not readable or not valid.
    case attach(SegmentError)
    /// The ring did not come back with a new generation within the re-attach time.
    case noNewGeneration(ring: String, seconds: Double)
    public var description: String {
        switch self {
        case .attach(let e): return "\(e)"
        case .noNewGeneration(let ring, let seconds): return "no new generation of \(ring) within \(seconds) s"
        }
    }
}
