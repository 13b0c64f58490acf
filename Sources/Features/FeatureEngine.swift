import Book
import TickBusCore
#if canImport(Glibc)
import Glibc
#endif

/// Computes a feature definition incrementally, message by message, for the instruments it
/// selects. The same engine serves the strategy (messages read from the ring) and the offline
/// table (messages from a source), so both compute the same values bit for bit.
///
/// - Everything is allocated in `init`: per-instrument state lives in two flat pools (doubles and
///   integers) with one fixed region per instrument slot; windows are fixed-capacity rings inside
///   those regions. `update` allocates nothing and costs O(features + depth levels) per message.
/// - Only message contents are read (kind, instrument, exchange time, prices, sizes); never the
///   receive time or a clock.
///
/// Invariant: `values` holds `count` doubles; `dpool`/`ipool` hold `slots * perDoubles` and
/// `slots * perInts` elements; every offset in `plan` lies inside one instrument's region.
public final class FeatureEngine {
    public let definition: FeatureDefinition
    /// Number of features (the width of `values`).
    public let count: Int
    /// The feature values after the last decision point.
    public let values: UnsafeMutablePointer<Double>
    /// The book built from the messages (order events and level-addressed events).
    public let books: OrderBooks
    /// Instrument of the last decision point.
    public private(set) var instrument: UInt32 = 0

    @usableFromInline struct Plan {
        var kind: FeatureKind
        var d: Int  // offset of this feature's doubles in an instrument region
        var i: Int  // offset of this feature's integers
        var n: Int  // ring capacity (events + 1, or time-window capacity)
        var windowNs: Int64
        var levels: Int
        var alpha: Double
        var decayPerNs: Double  // ln 2 / half-life
    }

    @usableFromInline let plan: [Plan]
    @usableFromInline let perDoubles: Int
    @usableFromInline let perInts: Int
    @usableFromInline let dpool: UnsafeMutablePointer<Double>
    @usableFromInline let ipool: UnsafeMutablePointer<Int64>
    /// Instrument id → slot + 1 (0: none yet); ids ≥ 65536 are not tracked.
    @usableFromInline let slotOf: UnsafeMutablePointer<UInt16>
    @usableFromInline let slots: Int
    @usableFromInline var used = 0
    @usableFromInline let only: UInt32
    @usableFromInline let everyEvent: Bool

    // Common integer state per instrument (offsets).
    @usableFromInline static let bidPx = 0, askPx = 1, bidSz = 2, askSz = 3, prevBidPx = 4, prevAskPx = 5, prevBidSz = 6,
        prevAskSz = 7, events = 8, lastTrade = 9, topFed = 10, commonInts = 11
    // Common double state: the mid now and before this event.
    @usableFromInline static let mid = 0, prevMid = 1, commonDoubles = 2

    public init(definition: FeatureDefinition) {
        self.definition = definition
        count = definition.features.count
        values = .allocate(capacity: max(count, 1))
        values.initialize(repeating: .nan, count: max(count, 1))
        books = OrderBooks(maxInstruments: 65_536, orderCapacity: 1 << 16)
        var d = Self.commonDoubles, i = Self.commonInts
        var plan: [Plan] = []
        for f in definition.features {
            var p = Plan(kind: f.kind, d: d, i: i, n: 0, windowNs: f.windowNs, levels: f.levels, alpha: f.alpha,
                         decayPerNs: f.halfLifeNs > 0 ? M_LN2 / Double(f.halfLifeNs) : 0)
            switch f.kind {
            case .ofi: p.n = f.events; i += 2 + f.events                     // [sum, unused] + ring of contributions
            case .returnEvents: p.n = f.events + 1; d += p.n                 // ring of mids, indexed by event count
            case .returnTime: p.n = f.capacity; i += 2 + f.capacity; d += f.capacity  // [head, size] + times; mids
            case .volatilityEvents: d += 2                                   // [variance, initialised]
            case .volatilityTime: d += 2; i += 1                             // [variance, initialised], [last time]
            case .tradeCount, .tradeVolume: p.n = f.capacity; i += 4 + 2 * f.capacity  // [head, size, count, volume] + times, sizes
            default: break
            }
            plan.append(p)
        }
        self.plan = plan
        perDoubles = d
        perInts = i
        slots = definition.instrument != nil ? 1 : definition.maxInstruments
        dpool = .allocate(capacity: slots * d)
        ipool = .allocate(capacity: slots * i)
        slotOf = .allocate(capacity: 65_536)
        slotOf.initialize(repeating: 0, count: 65_536)
        only = definition.instrument ?? 0
        everyEvent = definition.trigger == .every
        for s in 0..<slots { resetSlot(s) }
    }

    deinit {
        values.deallocate()
        dpool.deallocate()
        ipool.deallocate()
        slotOf.deallocate()
    }

    func resetSlot(_ s: Int) {
        let dp = dpool + s * perDoubles, ip = ipool + s * perInts
        dp.initialize(repeating: 0, count: perDoubles)
        ip.initialize(repeating: 0, count: perInts)
        dp[Self.mid] = .nan
        dp[Self.prevMid] = .nan
        ip[Self.lastTrade] = .min
        for p in plan where p.kind == .returnEvents {
            (dp + p.d).update(repeating: .nan, count: p.n)
        }
    }

    /// Applies one message. Returns true when it is a decision point for a selected instrument;
    /// `values` then holds the features and `instrument` the instrument. (Not inlinable: one direct
    /// call per message; the body is specialised here.)
    public func update(_ m: MarketMessageView) -> Bool {
        guard let kind = m.kind else { return false }
        let inst = m.instrument
        var trade = false
        var tradeSize: Int64 = 0
        var topMessage = false
        switch kind {
        case .add, .delete, .replace, .cancel:
            _ = books.apply(m)
        case .execute:
            _ = books.apply(m)
            trade = true
            tradeSize = Int64(m.quantity)
        case .trade:
            trade = true
            tradeSize = Int64(m.quantity)
        case .topOfBook:
            topMessage = true
        default:
            return false
        }
        if only != 0 && inst != only { return false }
        guard inst < 65_536 else { return false }
        var slot = Int(slotOf[Int(inst)])
        if slot == 0 {
            guard used < slots else { return false }  // more instruments than max_instruments: not tracked
            used += 1
            slot = used
            slotOf[Int(inst)] = UInt16(slot)
        }
        let dp = dpool + (slot - 1) * perDoubles, ip = ipool + (slot - 1) * perInts
        let now = m.exchangeTime

        // Top of book now and before.
        ip[Self.prevBidPx] = ip[Self.bidPx]; ip[Self.prevAskPx] = ip[Self.askPx]
        ip[Self.prevBidSz] = ip[Self.bidSz]; ip[Self.prevAskSz] = ip[Self.askSz]
        // The book built from order events is authoritative; a top-of-book message is used only for
        // an instrument the book knows nothing about (a feed that publishes tops alone). Feeds that
        // publish both (ITCH, LOBSTER) add a top message after each top change: same values.
        let bookLevels = books.levelCount(instrument: inst, side: .buy) + books.levelCount(instrument: inst, side: .sell)
        if bookLevels > 0 || (!topMessage && ip[Self.topFed] == 0) {
            ip[Self.topFed] = 0
            let t = books.top(instrument: inst)
            ip[Self.bidPx] = t.bid.price; ip[Self.askPx] = t.ask.price
            ip[Self.bidSz] = t.bid.shares; ip[Self.askSz] = t.ask.shares
        } else if topMessage {
            ip[Self.topFed] = 1
            ip[Self.bidPx] = m.bidPrice; ip[Self.askPx] = m.askPrice
            ip[Self.bidSz] = Int64(m.bidSize); ip[Self.askSz] = Int64(m.askSize)
        }
        let bidPx = ip[Self.bidPx], askPx = ip[Self.askPx], bidSz = ip[Self.bidSz], askSz = ip[Self.askSz]
        let topChanged = bidPx != ip[Self.prevBidPx] || askPx != ip[Self.prevAskPx] || bidSz != ip[Self.prevBidSz]
            || askSz != ip[Self.prevAskSz]
        let bothSides = bidSz > 0 && askSz > 0
        let bid = Double(bidPx) / 1e4, ask = Double(askPx) / 1e4
        dp[Self.prevMid] = dp[Self.mid]
        let mid = bothSides ? (bid + ask) / 2 : .nan
        dp[Self.mid] = mid
        let prevMid = dp[Self.prevMid]
        let r = mid > 0 && prevMid > 0 ? log(mid / prevMid) : Double.nan
        let event = ip[Self.events]
        ip[Self.events] = event &+ 1
        if trade { ip[Self.lastTrade] = now }

        let out = values
        plan.withUnsafeBufferPointer { plans in
            for k in 0..<plans.count {
                let p = plans[k]
                let fd = dp + p.d, fi = ip + p.i
                var v = Double.nan
                switch p.kind {
                case .mid: v = mid
                case .spread: v = bothSides ? ask - bid : .nan
                case .imbalance:
                    let total = bidSz + askSz
                    v = total > 0 ? Double(bidSz - askSz) / Double(total) : .nan
                case .microprice:
                    v = bothSides ? (bid * Double(askSz) + ask * Double(bidSz)) / Double(bidSz + askSz) : .nan
                case .depthImbalance:
                    var num = 0.0, den = 0.0
                    if ip[Self.topFed] != 0 {
                        num = Double(bidSz - askSz); den = Double(bidSz + askSz)
                    } else {
                        for l in 0..<p.levels {
                            let w = 1.0 / Double(l + 1)
                            let b = Double(books.level(instrument: inst, side: .buy, depth: l)?.shares ?? 0)
                            let a = Double(books.level(instrument: inst, side: .sell, depth: l)?.shares ?? 0)
                            num += w * (b - a)
                            den += w * (b + a)
                        }
                    }
                    v = den > 0 ? num / den : .nan
                case .ofi:
                    // e = 1{Pb ≥ Pb'} qb − 1{Pb ≤ Pb'} qb' − 1{Pa ≤ Pa'} qa + 1{Pa ≥ Pa'} qa'  (' = before)
                    let pb = ip[Self.prevBidPx], pa = ip[Self.prevAskPx], qb = ip[Self.prevBidSz], qa = ip[Self.prevAskSz]
                    var e: Int64 = 0
                    if event > 0 {
                        if bidPx >= pb { e &+= bidSz }
                        if bidPx <= pb { e &-= qb }
                        if askPx <= pa { e &-= askSz }
                        if askPx >= pa { e &+= qa }
                    }
                    let at = 2 + Int(event % Int64(p.n))
                    fi[0] = fi[0] &- fi[at] &+ e
                    fi[at] = e
                    v = Double(fi[0])
                case .returnEvents:
                    let n = Int64(p.n)
                    fd[Int(event % n)] = mid
                    let old = event >= n - 1 ? fd[Int((event - (n - 1)) % n)] : .nan
                    v = mid > 0 && old > 0 ? log(mid / old) : .nan
                case .returnTime:
                    // Ring of (time, mid) at mid changes; the front is the last point at or before now − window.
                    let cap = p.n
                    var head = Int(fi[0]), size = Int(fi[1])
                    let times = fi + 2
                    let lastMid = size > 0 ? fd[(head + size - 1) % cap] : Double.nan
                    if mid.isNaN == false && !(mid == lastMid) {
                        if size == cap { head = (head + 1) % cap; size -= 1 }
                        times[(head + size) % cap] = now
                        fd[(head + size) % cap] = mid
                        size += 1
                    }
                    let cutoff = now &- p.windowNs
                    while size >= 2 && times[(head + 1) % cap] <= cutoff { head = (head + 1) % cap; size -= 1 }
                    fi[0] = Int64(head); fi[1] = Int64(size)
                    if size > 0 && times[head] <= cutoff {
                        let old = fd[head]
                        v = mid > 0 && old > 0 ? log(mid / old) : .nan
                    }
                case .volatilityEvents:
                    if !r.isNaN {
                        fd[0] = fd[1] == 0 ? r * r : p.alpha * r * r + (1 - p.alpha) * fd[0]
                        fd[1] = 1
                    }
                    v = fd[1] != 0 ? fd[0].squareRoot() : .nan
                case .volatilityTime:
                    // Time-decayed sum of squared returns: var ← 2^(−Δt/half-life)·var + r².
                    if !r.isNaN {
                        let dt = Double(now &- fi[0])
                        fd[0] = fd[1] == 0 ? r * r : exp(-dt * p.decayPerNs) * fd[0] + r * r
                        fd[1] = 1
                        fi[0] = now
                    }
                    v = fd[1] != 0 ? (exp(-Double(now &- fi[0]) * p.decayPerNs) * fd[0]).squareRoot() : .nan
                case .tradeCount, .tradeVolume:
                    let cap = p.n
                    var head = Int(fi[0]), size = Int(fi[1])
                    let times = fi + 4, sizes = fi + 4 + cap
                    if trade {
                        if size == cap {  // full: the oldest leaves early
                            fi[2] &-= 1; fi[3] &-= sizes[head]
                            head = (head + 1) % cap; size -= 1
                        }
                        times[(head + size) % cap] = now
                        sizes[(head + size) % cap] = tradeSize
                        size += 1
                        fi[2] &+= 1; fi[3] &+= tradeSize
                    }
                    let cutoff = now &- p.windowNs
                    while size > 0 && times[head] <= cutoff {
                        fi[2] &-= 1; fi[3] &-= sizes[head]
                        head = (head + 1) % cap; size -= 1
                    }
                    fi[0] = Int64(head); fi[1] = Int64(size)
                    v = Double(p.kind == .tradeCount ? fi[2] : fi[3])
                case .timeSinceTrade:
                    let last = ip[Self.lastTrade]
                    v = last == .min ? .nan : Double(now &- last) / 1e9
                }
                out[k] = v
            }
        }
        instrument = inst
        return everyEvent || topChanged || trade
    }
}

/// Runs a market source (`next` is its `MarketSource.next`) through a feature engine without a ring: each message is written into a
/// 64-byte slot image exactly as the ring would hold it (sequence = its position in the source,
/// as the ring numbers it), then handed to `update`.
public struct OfflineFeatures: ~Copyable {
    /// Invariant: 64 bytes, 64-byte aligned, owned here.
    @usableFromInline let slot: UnsafeMutableRawPointer
    public init() {
        slot = .allocate(byteCount: 64, alignment: 64)
        slot.initializeMemory(as: UInt8.self, repeating: 0, count: 64)
    }
    deinit { slot.deallocate() }

    /// Calls `row(sequence, exchangeTime, instrument)` at every decision point; read the values from `engine.values`.
    @inlinable
    public func run(next: () -> MarketMessage?, engine: FeatureEngine, limit: UInt64 = .max,
                    row: (UInt64, Int64, UInt32) -> Void) {
        var sequence: UInt64 = 0
        while sequence < limit, let message = next() {
            message.store(to: slot)
            slot.storeBytes(of: sequence, as: UInt64.self)
            let view = MarketMessageView(UnsafeRawPointer(slot))
            if engine.update(view) { row(sequence, view.exchangeTime, view.instrument) }
            sequence &+= 1
        }
    }
}
