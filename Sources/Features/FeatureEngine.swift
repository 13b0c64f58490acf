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
    /// A feature reads the event's log return (the volatilities): otherwise `observe` skips the `log`.
    @usableFromInline let needsReturn: Bool

    // Common integer state per instrument (offsets).
    @usableFromInline static let bidPx = 0, askPx = 1, bidSz = 2, askSz = 3, prevBidPx = 4, prevAskPx = 5,
        prevBidSz = 6,
        prevAskSz = 7, events = 8, lastTrade = 9, topFed = 10, commonInts = 11
    // Common double state: the mid now and before this event.
    @usableFromInline static let mid = 0, prevMid = 1, commonDoubles = 2

    public init(definition: FeatureDefinition) {
        self.definition = definition
        count = definition.features.count
        values = .allocate(capacity: max(count, 1))
        values.initialize(repeating: .nan, count: max(count, 1))
        books = OrderBooks(maxInstruments: 65_536, orderCapacity: 1 << 16)
        var d = Self.commonDoubles
        var i = Self.commonInts
        var plan: [Plan] = []
        for f in definition.features {
            var p = Plan(
                kind: f.kind,
                d: d,
                i: i,
                n: 0,
                windowNs: f.windowNs,
                levels: f.levels,
                alpha: f.alpha,
                decayPerNs: f.halfLifeNs > 0 ? M_LN2 / Double(f.halfLifeNs) : 0
            )
            switch f.kind {
            case .ofi:
                p.n = f.events
                i += 2 + f.events  // [sum, unused] + ring of contributions
            case .returnEvents:
                p.n = f.events + 1
                d += p.n  // ring of mids, indexed by event count
            case .returnTime:
                p.n = f.capacity
                i += 2 + f.capacity
                d += f.capacity  // [head, size] + times; mids
            case .volatilityEvents: d += 2  // [variance, initialised]
            case .volatilityTime:
                d += 2
                i += 1  // [variance, initialised], [last time]
            case .tradeCount, .tradeVolume:
                p.n = f.capacity
                i += 4 + 2 * f.capacity  // [head, size, count, volume] + times, sizes
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
        needsReturn = plan.contains { $0.kind == .volatilityEvents || $0.kind == .volatilityTime }
        for s in 0..<slots { resetSlot(s) }
    }

    deinit {
        values.deallocate()
        dpool.deallocate()
        ipool.deallocate()
        slotOf.deallocate()
    }

    func resetSlot(_ s: Int) {
        let dp = dpool + s * perDoubles
        let ip = ipool + s * perInts
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
        let dp = dpool + (slot - 1) * perDoubles
        let ip = ipool + (slot - 1) * perInts
        let e = observe(m, instrument: inst, topMessage: topMessage, trade: trade, tradeSize: tradeSize, dp: dp, ip: ip)

        let out = values
        plan.withUnsafeBufferPointer { plans in
            for k in 0..<plans.count {
                let p = plans[k]
                let fd = dp + p.d
                let fi = ip + p.i
                let v: Double
                switch p.kind {
                case .mid: v = e.mid
                case .spread: v = Self.spread(e)
                case .imbalance: v = Self.imbalance(e)
                case .microprice: v = Self.microprice(e)
                case .depthImbalance: v = depthImbalance(p, e)
                case .ofi: v = Self.ofi(p, e, fi)
                case .returnEvents: v = Self.returnEvents(p, e, fd)
                case .returnTime: v = Self.returnTime(p, e, fd, fi)
                case .volatilityEvents: v = Self.volatilityEvents(p, e, fd)
                case .volatilityTime: v = Self.volatilityTime(p, e, fd, fi)
                case .tradeCount, .tradeVolume: v = Self.tradeWindow(p, e, fi)
                case .timeSinceTrade: v = Self.timeSinceTrade(e)
                }
                out[k] = v
            }
        }
        instrument = inst
        return everyEvent || e.topChanged || trade
    }
}
