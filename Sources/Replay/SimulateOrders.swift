import Book
import Execution
import Feed
import TickBusCore

/// `tickbus sim`: own orders from an order file matched against any market source by the
/// execution simulator (Docs/EXECUTION.md), as the live feed would publish the source.
///
/// The source is read as `feed` reads it (`MarketSources.open`); each message is numbered with
/// the sequence the feed gives it in ring `market` (0 for the first, every message counted,
/// top-of-book included), handed to the simulator while the book still shows the state before it,
/// then applied to an `OrderBooks` rebuilt from the messages, as a ring reader rebuilds it.
public enum SimulateOrders {
    /// What a run produced.
    public struct Outcome {
        /// fills.csv, events.csv and the counts.
        public var sink: ExecutionCSVSink
        /// New orders handed to the simulator (lines of the file accepted as `new`).
        public var orders: Int
        /// Market messages read from the source.
        public var messages: UInt64
        /// What the source read and skipped.
        public var report: FeedReport
    }

    /// Reads an order file.
    /// - Throws: `SimulateOrdersError.orders` when it cannot be read, `.header` when its first line
    ///   is not the header.
    public static func readOrders(path: String) throws(SimulateOrdersError) -> OrderFile {
        let file: _InputFile
        do { file = try _InputFile(path: path) } catch { throw .orders(path: path, error) }
        do {
            return try OrderFile.parse(UnsafeRawBufferPointer(start: file.base, count: file.count))
        } catch {
            throw .header(path: path, error)
        }
    }

    /// `ORDER_NS,RESPONSE_NS` (`--latency`): two integers in `0..<OrderFile.maxTime`, so an
    /// arrival never overflows. nil otherwise.
    public static func latency(parsing text: String) -> ExecutionLatency? {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false)
        guard parts.count == 2, let o = Int64(parts[0]), let r = Int64(parts[1]) else { return nil }
        guard (0..<OrderFile.maxTime).contains(o), (0..<OrderFile.maxTime).contains(r) else { return nil }
        return ExecutionLatency(orderNs: o, responseNs: r)
    }

    /// `maker=M,taker=T,order=O` (`--fees`): any of the three, each once, finite dollars (a rebate
    /// negative); the others stay 0. The error names the part refused.
    public static func fees(parsing text: String) -> Result<ExecutionFees, SimulateOrdersError> {
        var fees = ExecutionFees()
        var seen: Set<Substring> = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let kv = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard kv.count == 2, let v = Double(kv[1]), v.isFinite, seen.insert(kv[0]).inserted else {
                return .failure(.fees(String(part)))
            }
            switch kv[0] {
            case "maker": fees.makerPerShare = v
            case "taker": fees.takerPerShare = v
            case "order": fees.perOrder = v
            default: return .failure(.fees(String(part)))
            }
        }
        return .success(fees)
    }

    /// Runs `orders` against `spec`.
    /// - Throws: `SimulateOrdersError.source` when the source cannot be opened.
    public static func run(
        _ spec: SourceSpec,
        orders: OrderFile,
        latency: ExecutionLatency,
        fees: ExecutionFees,
        log: (String) -> Void = { _ in }
    ) throws(SimulateOrdersError) -> Outcome {
        let simulator = ExecutionSimulator(latency: latency, fees: fees)
        // Every queue of the instruments the file trades is known from the first message (rule 5).
        for a in orders.actions where a.kind == .new { simulator.watch(instrument: a.instrument) }
        var visitor = Visitor(simulator: simulator, actions: orders.actions)
        let report: FeedReport
        do { report = try MarketSources.open(spec, &visitor, log: log) } catch { throw .source(error) }
        let news = orders.actions.reduce(0) { $0 + ($1.kind == .new ? 1 : 0) }
        return Outcome(sink: visitor.sink, orders: news, messages: visitor.sequence, report: report)
    }

    struct Visitor: MarketSourceVisitor, ~Copyable {
        let simulator: ExecutionSimulator
        let books = OrderBooks(maxInstruments: 65_536, orderCapacity: 1 << 16)
        let actions: [OwnAction]
        var sent = 0
        var sink = ExecutionCSVSink()
        /// The sequence the feed would give the next message.
        var sequence: UInt64 = 0
        /// One market slot the messages are stored into, so the simulator reads the bytes a ring
        /// reader would. Invariant: 64 bytes, 8-byte aligned, owned here (freed in deinit).
        let slot = UnsafeMutableRawPointer.allocate(byteCount: MarketLayout.slotSize, alignment: 64)

        init(simulator: ExecutionSimulator, actions: [OwnAction]) {
            self.simulator = simulator
            self.actions = actions
        }

        deinit { slot.deallocate() }

        mutating func visit<Source: MarketSource & ~Copyable>(_ source: inout Source) -> FeedReport {
            while let m = source.next() {
                // Hand over every action sent by this message's time: any that arrives before it
                // is then queued (arrival >= sent time), and the queue holds only what is in flight.
                while sent < actions.count && actions[sent].sentTime <= m.exchangeTime {
                    simulator.send(actions[sent])
                    sent += 1
                }
                m.store(to: slot)
                slot.storeBytes(of: sequence.littleEndian, as: UInt64.self)
                // Safe: slot holds a whole 64-byte message (invariant above).
                let view = MarketMessageView(UnsafeRawPointer(slot))
                simulator.market(view, books: books, sink: &sink)
                _ = books.apply(view)
                sequence &+= 1
            }
            while sent < actions.count {
                simulator.send(actions[sent])
                sent += 1
            }
            simulator.finish(books: books, sink: &sink)
            return source.report
        }
    }
}

/// Why `tickbus sim` could not run.
public enum SimulateOrdersError: Error, CustomStringConvertible {
    /// The order file cannot be read (the reader's error, with the errno).
    case orders(path: String, FeedError)
    /// The order file's first line is not the header.
    case header(path: String, OrderFileError)
    /// The market source cannot be opened.
    case source(MarketSourceError)
    /// A part of `--fees` that is not `maker=`, `taker=` or `order=` a finite number (or repeats one).
    case fees(String)

    public var description: String {
        switch self {
        case .orders(let path, let e): return "orders \(path): \(e)"
        case .header(let path, let e): return "\(path): \(e)"
        case .source(let e): return "\(e)"
        case .fees(let part):
            return "--fees: '\(part)' is not maker=, taker= or order= a finite number of dollars, each once"
        }
    }
}
