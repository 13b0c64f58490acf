import Book
import CTickBus
import Execution
import Features
import Feed
import Journal
import Strategy
import TickBusCore

#if canImport(Glibc)
import Glibc
#endif

/// `tickbus backtest`: the strategy loop, its order policy, risk checks and the execution
/// simulator — the live code — over a market source, in one thread of one process, streaming.
///
/// Each source message is numbered as ring `market` numbers it (0, 1, …), stamped like the feed
/// stamps it, and handed to the loop exactly as the live strategy gets it from its ring; every
/// record the loop publishes goes through a private ring `decisions.<name>` (the live format) and
/// is read straight back into the decision journal and the observer (CSV files, the report's
/// ledger). Nothing grows with the data: the rings and the journal's buffers are fixed, the
/// observer streams to files.
public enum Backtest {
    public struct Options: Sendable {
        public var source: SourceSpec
        /// The journal directory the decisions ring is written into.
        public var journal: String
        /// The strategy's name: ring `decisions.<name>`.
        public var name = "backtest"
        public var slotSize = DecisionLayout.defaultSlotSize
        /// Progress every this many market messages (0: none).
        public var progressEvery: UInt64 = 0
        public init(source: SourceSpec, journal: String) {
            self.source = source
            self.journal = journal
        }
    }

    public struct Summary: Sendable {
        public var messages: UInt64 = 0
        public var decisions: UInt64 = 0
        public var records: UInt64 = 0
        public var orders: UInt64 = 0
        public var orderEvents: UInt64 = 0
        public var fills: UInt64 = 0
        public var risks: UInt64 = 0
        public var controls: UInt64 = 0
        public var seconds = 0.0
        public var sourceReport = FeedReport()
    }

    /// What the driver hands each record to (the CSV writers and the report's ledger), and the
    /// market messages (for marks). Called on the driver's thread, in ring order.
    public protocol Observer: AnyObject {
        /// After the loop handled `m`; `books` is the strategy's own book (`m` applied).
        func market(_ m: MarketMessageView, books: OrderBooks)
        func record(_ p: UnsafeRawPointer)
        func progress(_ s: Summary)
    }

    /// Runs the backtest over `o.source` with `loop` (consumed: a backtest is one session).
    public static func run<O: Observer>(
        _ o: Options,
        loop: consuming StrategyLoop,
        observer: O,
        stop: @escaping () -> Bool = { false }
    ) throws(BacktestError) -> Summary {
        var visitor = try visitor(o, loop: loop, observer: observer, stop: stop)
        let result: Result<Summary, BacktestError>
        do { result = try MarketSources.open(o.source, &visitor) } catch { throw .source(error) }
        return try result.get()
    }

    /// The same over a source already open (`bench backtest`: messages decoded in memory);
    /// `o.source` only names it.
    public static func run<O: Observer, Source: MarketSource & ~Copyable>(
        _ o: Options,
        source: inout Source,
        loop: consuming StrategyLoop,
        observer: O
    ) throws(BacktestError) -> Summary {
        var visitor = try visitor(o, loop: loop, observer: observer, stop: { false })
        return try visitor.visit(&source).get()
    }

    static func visitor<O: Observer>(
        _ o: Options,
        loop: consuming StrategyLoop,
        observer: O,
        stop: @escaping () -> Bool
    ) throws(BacktestError) -> _BacktestVisitor<O> {
        let bus = "backtest-\(getpid())-\(o.name)"
        let ring = "decisions.\(o.name)"
        let producer = try ringCall { () throws(SegmentError) in
            try RingProducer(bus: bus, ring: ring, schema: .decisions, slotSize: o.slotSize, capacity: 1 << 12)
        }
        let reader = try ringCall { () throws(SegmentError) in
            try RingReader(bus: bus, ring: ring, name: "backtest", mode: .live, from: .start, idle: .backoff)
        }
        let writer = try journalCall { () throws(JournalError) in
            try JournalWriter.create(
                directory: o.journal,
                ring: ring,
                bus: bus,
                schema: .decisions,
                slotSize: o.slotSize,
                generation: 1,
                firstSequence: 0
            )
        }
        return _BacktestVisitor(
            loop: loop,
            producer: producer,
            reader: reader,
            writer: writer,
            observer: observer,
            progressEvery: o.progressEvery,
            stop: stop,
            bus: bus
        )
    }
}

func ringCall<T: ~Copyable>(_ body: () throws(SegmentError) -> T) throws(BacktestError) -> T {
    do { return try body() } catch { throw .ring(error) }
}

func journalCall<T: ~Copyable>(_ body: () throws(JournalError) -> T) throws(BacktestError) -> T {
    do { return try body() } catch { throw .journal(error) }
}

/// The backtest's loop over one concrete source (specialised per source: no existential per message).
@usableFromInline
struct _BacktestVisitor<O: Backtest.Observer>: MarketSourceVisitor, ~Copyable {
    var loop: StrategyLoop
    var producer: RingProducer
    var reader: RingReader
    var writer: JournalWriter
    let observer: O
    let progressEvery: UInt64
    let stop: () -> Bool
    /// The private bus, removed with the visitor.
    let bus: String
    /// The strategy's book for the observer, unretained: `loop` owns its engine and the book for
    /// the visitor's whole life. (`loop.engine.books` per message was a retain and a release.)
    let books: Unmanaged<OrderBooks>
    var summary = Backtest.Summary()

    init(
        loop: consuming StrategyLoop,
        producer: consuming RingProducer,
        reader: consuming RingReader,
        writer: consuming JournalWriter,
        observer: O,
        progressEvery: UInt64,
        stop: @escaping () -> Bool,
        bus: String
    ) {
        self.bus = bus
        self.books = .passUnretained(loop.engine.books)
        self.loop = loop
        self.producer = producer
        self.reader = reader
        self.writer = writer
        self.observer = observer
        self.progressEvery = progressEvery
        self.stop = stop
    }

    deinit { _ = try? Segment.removeBus(bus) }

    @usableFromInline
    mutating func visit<Source: MarketSource & ~Copyable>(
        _ source: inout Source
    ) -> Result<Backtest.Summary, BacktestError> {
        let start = tb_monotonic_ns()
        // Invariant: one 64-byte, 64-aligned slot, owned here: the message as the ring would hold it.
        let slot = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 64)
        defer { slot.deallocate() }
        var sequence: UInt64 = 0
        var lastTime: Int64 = 0
        var failure: BacktestError?
        while let next = source.next() {
            if !publish(next, sequence, slot, &failure) { break }
            sequence &+= 1
            lastTime = next.exchangeTime
            if sequence & 4095 == 0 {
                do { try writer.service() } catch {
                    failure = .journal(error)
                    break
                }
                if stop() {
                    failure = .stopped
                    break
                }
            }
            if progressEvery > 0 && sequence % progressEvery == 0 { observer.progress(summary) }
        }
        if failure == nil {
            // The live feed ends with an end-of-session; the loop sees it too (it flushes its actions).
            let eos = MarketMessage.endOfSession(exchangeTime: lastTime, messages: sequence)
            _ = publish(eos, sequence, slot, &failure)
        }
        summary.sourceReport = source.report
        summary.seconds = Double(tb_monotonic_ns() - start) / 1e9
        do {
            try writer.seal(reason: failure == nil ? .endOfSession : .stopSignal)
        } catch {
            if failure == nil { failure = .journal(error) }
        }
        if let failure { return .failure(failure) }
        return .success(summary)
    }

    /// One message through the loop, then every record it published into the journal and the observer.
    mutating func publish(
        _ message: MarketMessage,
        _ sequence: UInt64,
        _ slot: UnsafeMutableRawPointer,
        _ failure: inout BacktestError?
    ) -> Bool {
        var m = message
        // A journal's messages keep the receive time recorded live; a file's are stamped as the feed stamps them.
        if m.receiveTime == 0 { m.receiveTime = Int64(bitPattern: tb_monotonic_ns()) }
        m.store(to: slot)
        slot.storeBytes(of: sequence.littleEndian, as: UInt64.self)
        let view = MarketMessageView(UnsafeRawPointer(slot))
        if m.kind == .endOfSession {
            loop.finishSession(into: &producer)  // the actions still queued, their answers
        } else {
            summary.messages &+= 1
            if loop.step(view, into: &producer) != nil { summary.decisions &+= 1 }
            // Safe: `loop` keeps the book alive (see `books`).
            books._withUnsafeGuaranteedRef { observer.market(view, books: $0) }
        }
        return drain(&failure)
    }

    /// Every record published since the last call, into the journal and the observer.
    mutating func drain(_ failure: inout BacktestError?) -> Bool {
        while case .message(let bytes) = reader.poll() {
            do { try writer.append(bytes.base) } catch {
                failure = .journal(error)
                return false
            }
            summary.records &+= 1
            switch bytes.base.load(fromByteOffset: RecordHeader.kind, as: UInt16.self) {
            case RecordKind.order.rawValue: summary.orders &+= 1
            case RecordKind.orderEvent.rawValue: summary.orderEvents &+= 1
            case RecordKind.fill.rawValue: summary.fills &+= 1
            case RecordKind.risk.rawValue: summary.risks &+= 1
            case RecordKind.control.rawValue: summary.controls &+= 1
            default: break
            }
            observer.record(bytes.base)
        }
        return true
    }
}

/// Why a backtest stopped.
public enum BacktestError: Error, CustomStringConvertible {
    case source(MarketSourceError)
    case ring(SegmentError)
    case journal(JournalError)
    case stopped

    public var description: String {
        switch self {
        case .source(let e): return "backtest: the source: \(e)"
        case .ring(let e): return "backtest: the private ring: \(e)"
        case .journal(let e): return "backtest: the decision journal: \(e)"
        case .stopped: return "backtest: stopped"
        }
    }
}
