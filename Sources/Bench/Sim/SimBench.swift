import Book
import CMallocCounter
import CTickBus
import Execution
import Feed
import TickBusCore

/// `tickbus bench sim`: market messages per second through the execution simulator with
/// `orders` resting own orders (half bids, half asks, one per tick from the best outwards; a
/// completed order is replaced at the same distance from the best), against the market source
/// alone (the same decoded messages applied to a book) in the same run, rounds interleaved.
///
/// The source is decoded into memory first (64-byte ring slots numbered as ring `market` would
/// number them), so both contenders time the same work apart from the simulator: what a backtest
/// over a memory-mapped journal pays per message. Per-message figures are per 4,096-message chunk.
public enum SimBench {
    public struct Options: Sendable {
        public var source = SourceSpec.synthetic(seed: 7)
        public var orders = 100
        public var rounds = 5
        /// Passes over the decoded messages per round (fresh book and simulator each).
        public var passes = 4
        public var latency = ExecutionLatency(orderNs: 20_000, responseNs: 20_000)
        /// Messages of a synthetic source (ignored for files).
        public var messages = 1_000_000
        public init() {}
    }

    public struct Stats: Sendable {
        public var msgsPerS = 0.0
        public var nsMedian = 0.0
        public var nsP99 = 0.0
    }

    public struct Outcome: Sendable {
        public var market = Stats(), sim = Stats()
        public var mallocsPerMessage = 0.0
        public var messages = 0, rounds = 0, passes = 0, orders = 0
        public var fills = 0, filledShares = 0, restingAtEnd = 0
        public var source = ""
    }

    public static let chunk = 4096

    /// Decodes `spec` into ring slots (sequence word set as ring `market` sets it: 0, 1, 2, …).
    static func decode(_ spec: SourceSpec, limit: Int) throws(BenchError) -> DecodedMessages {
        var v = DecodeVisitor(limit: limit)
        do { _ = try spec.openFeedSource(&v) } catch { throw .invalid("\(spec.kind):\(spec.argument): \(error)") }
        return v.out
    }

    public static func run(_ o: Options) throws(BenchError) -> Outcome {
        guard o.rounds >= 1, o.passes >= 1 else { throw .invalid("--rounds and --passes must be at least 1") }
        guard o.orders >= 2 && o.orders <= 4096 else { throw .invalid("--orders must be 2…4096") }
        let decoded = try decode(o.source, limit: o.messages)
        defer { decoded.release() }
        guard decoded.count >= chunk else { throw .invalid("the source has fewer than \(chunk) messages") }
        var out = Outcome()
        out.messages = decoded.count
        out.rounds = o.rounds
        out.passes = o.passes
        out.orders = o.orders
        out.source = "\(o.source.kind):\(o.source.argument)"
        var marketRounds: [Stats] = []
        var simRounds: [Stats] = []
        let chunks = decoded.count / chunk
        var samples = [Double](repeating: 0, count: chunks * o.passes)
        enum Contender: CaseIterable { case market, sim }
        try InterleavedRounds.run(rounds: o.rounds, Contender.allCases) { (_, c) throws(BenchError) in
            var totalNs: UInt64 = 0
            var s = 0
            for _ in 0..<o.passes {
                let books = OrderBooks(maxInstruments: 65_536, orderCapacity: 1 << 16)
                switch c {
                case .market:
                    var t0 = tb_monotonic_ns()
                    for k in 0..<chunks {
                        for i in k * chunk..<(k + 1) * chunk { _ = books.apply(decoded.view(i)) }
                        let t1 = tb_monotonic_ns()
                        samples[s] = Double(t1 - t0) / Double(chunk)
                        totalNs &+= t1 - t0
                        s += 1
                        t0 = t1
                    }
                case .sim:
                    let sim = ExecutionSimulator(latency: o.latency, maxOrders: o.orders * 2, watchAll: true)
                    var quoter = Quoter(orders: o.orders)
                    let warm = chunks / 10
                    var m0 = tb_thread_malloc_count()
                    var t0 = tb_monotonic_ns()
                    for k in 0..<chunks {
                        if k == warm { m0 = tb_thread_malloc_count() }
                        for i in k * chunk..<(k + 1) * chunk {
                            let m = decoded.view(i)
                            sim.market(m, books: books, sink: &quoter)
                            _ = books.apply(m)
                            if quoter.due { quoter.requote(sim, books, m) }
                        }
                        let t1 = tb_monotonic_ns()
                        samples[s] = Double(t1 - t0) / Double(chunk)
                        totalNs &+= t1 - t0
                        s += 1
                        t0 = t1
                    }
                    let mallocs = tb_thread_malloc_count() - m0
                    out.mallocsPerMessage = max(
                        out.mallocsPerMessage,
                        Double(mallocs) / Double((chunks - warm) * chunk)
                    )
                    out.fills = quoter.fills
                    out.filledShares = quoter.filledShares
                    out.restingAtEnd = sim.restingCount
                }
            }
            var sorted = Array(samples[0..<s])
            sorted.sort()
            let stats = Stats(
                msgsPerS: Double(s * chunk) / (Double(totalNs) / 1e9),
                nsMedian: Rank.percentile(sorted: sorted, 0.5, empty: 0),
                nsP99: Rank.percentile(sorted: sorted, 0.99, empty: 0)
            )
            if c == .market { marketRounds.append(stats) } else { simRounds.append(stats) }
        }
        func median(_ xs: [Stats]) -> Stats {
            Stats(
                msgsPerS: Rank.median(xs.map(\.msgsPerS)),
                nsMedian: Rank.median(xs.map(\.nsMedian)),
                nsP99: Rank.median(xs.map(\.nsP99))
            )
        }
        out.market = median(marketRounds)
        out.sim = median(simRounds)
        return out
    }
}

/// Keeps `orders` own orders resting: when one completes (filled or cancelled), the next message
/// re-sends it at the same distance in ticks from its side's best. No allocation after warm-up.
struct Quoter: ExecutionSink {
    let orders: Int
    /// Sends so far: an order's id is (sends << 12) | slot, so a completion names its slot.
    var sends: UInt64 = 0
    /// Slots to (re)send.
    var missing: [Bool]
    var missingCount: Int
    var due = true
    var fills = 0
    var filledShares = 0

    init(orders: Int) {
        self.orders = orders
        missing = [Bool](repeating: true, count: orders)
        missingCount = orders
    }

    mutating func fill(_ f: Fill) {
        fills &+= 1
        filledShares &+= Int(f.quantity)
        if f.remaining == 0 { complete(f.orderId) }
    }

    mutating func orderEvent(_ e: OrderEvent) {
        if e.kind == .reject || e.kind == .cancelled { complete(e.orderId) }
    }

    mutating func complete(_ id: UInt64) {
        let k = Int(id & 0xFFF)
        guard k < orders, !missing[k] else { return }
        missing[k] = true
        missingCount &+= 1
        due = true
    }

    /// Sends the missing orders (bids in slots 0..<orders/2, asks in the rest) around the best.
    mutating func requote(_ sim: ExecutionSimulator, _ books: OrderBooks, _ m: MarketMessageView) {
        let top = books.top(instrument: m.instrument)
        guard top.bid.shares > 0, top.ask.shares > 0 else { return }
        let half = orders / 2
        for k in 0..<orders where missing[k] {
            let bid = k < half
            let distance = Int64(bid ? k : k - half)
            let tick: Int64 = 100
            let price = bid ? top.bid.price - distance * tick : top.ask.price + distance * tick
            guard price > 0 else { continue }
            sends &+= 1
            let id = sends << 12 | UInt64(k)
            missing[k] = false
            missingCount &-= 1
            sim.send(
                .new(
                    id: id,
                    at: m.exchangeTime,
                    instrument: m.instrument,
                    side: bid ? .buy : .sell,
                    price: price,
                    quantity: 100
                )
            )
        }
        due = missingCount > 0
    }
}

/// Ring slots decoded from a source. Invariant: `base` holds `count` 64-byte slots, released once.
struct DecodedMessages {
    var base: UnsafeMutableRawPointer
    var count: Int
    var capacity: Int

    init() {
        capacity = 1 << 16
        base = .allocate(byteCount: capacity * 64, alignment: 64)
        count = 0
    }

    mutating func append(_ m: MarketMessage) {
        if count == capacity {
            let bigger = UnsafeMutableRawPointer.allocate(byteCount: capacity * 2 * 64, alignment: 64)
            bigger.copyMemory(from: base, byteCount: count * 64)
            base.deallocate()
            base = bigger
            capacity *= 2
        }
        let p = base + count * 64  // Safe: count < capacity.
        m.store(to: p)
        p.storeBytes(of: UInt64(count), as: UInt64.self)  // ring `market` numbers from 0
        count += 1
    }

    func view(_ i: Int) -> MarketMessageView { MarketMessageView(UnsafeRawPointer(base + i * 64)) }  // Safe: i < count.
    func release() { base.deallocate() }
}

struct DecodeVisitor: MarketSourceVisitor {
    let limit: Int
    var out = DecodedMessages()
    mutating func visit<Source: MarketSource & ~Copyable>(_ source: inout Source) -> Int {
        while out.count < limit, let m = source.next() { out.append(m) }
        return out.count
    }
}
