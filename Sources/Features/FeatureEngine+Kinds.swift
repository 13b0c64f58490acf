import Book
import TickBusCore

#if canImport(Glibc)
import Glibc
#endif

// One small function per feature kind, each inlined into `update`'s switch (no existential, no
// call, no allocation). Each reads the event's common values and its own state region (`fd`: its
// doubles, `fi`: its integers, at the offsets `init` planned) and returns the feature's value.

/// What one message did to an instrument's top of book, computed once per message and read by
/// every feature.
struct FeatureEvent {
    /// Exchange time of the message (ns).
    var now: Int64
    /// Messages of this instrument before this one.
    var event: Int64
    var bidPx: Int64, askPx: Int64, bidSz: Int64, askSz: Int64
    /// The top of book before this message.
    var prevBidPx: Int64, prevAskPx: Int64, prevBidSz: Int64, prevAskSz: Int64
    /// Best bid and ask in currency units.
    var bid: Double, ask: Double
    /// (bid + ask) / 2 when both sides are present, else NaN.
    var mid: Double
    /// log(mid / previous mid), NaN unless both are positive.
    var r: Double
    var bothSides: Bool
    var topChanged: Bool
    /// The top comes from top-of-book messages (the book holds nothing for the instrument).
    var topFed: Bool
    var trade: Bool
    var tradeSize: Int64
    /// Exchange time of the last trade (`Int64.min`: none yet).
    var lastTrade: Int64
    var instrument: UInt32
}

extension FeatureEngine {
    /// Updates the instrument's common state (top of book now and before, mid, event count, last
    /// trade) and returns it as one value for the features.
    @inline(__always)
    func observe(
        _ m: MarketMessageView,
        instrument inst: UInt32,
        topMessage: Bool,
        trade: Bool,
        tradeSize: Int64,
        dp: UnsafeMutablePointer<Double>,
        ip: UnsafeMutablePointer<Int64>
    ) -> FeatureEvent {
        let now = m.exchangeTime
        // Top of book now and before.
        ip[Self.prevBidPx] = ip[Self.bidPx]
        ip[Self.prevAskPx] = ip[Self.askPx]
        ip[Self.prevBidSz] = ip[Self.bidSz]
        ip[Self.prevAskSz] = ip[Self.askSz]
        // The book built from order events is authoritative; a top-of-book message is used only for
        // an instrument the book knows nothing about (a feed that publishes tops alone). Feeds that
        // publish both (ITCH, LOBSTER) add a top message after each top change: same values.
        let bookLevels =
            books.levelCount(instrument: inst, side: .buy) + books.levelCount(instrument: inst, side: .sell)
        if bookLevels > 0 || (!topMessage && ip[Self.topFed] == 0) {
            ip[Self.topFed] = 0
            let t = books.top(instrument: inst)
            ip[Self.bidPx] = t.bid.price
            ip[Self.askPx] = t.ask.price
            ip[Self.bidSz] = t.bid.shares
            ip[Self.askSz] = t.ask.shares
        } else if topMessage {
            ip[Self.topFed] = 1
            ip[Self.bidPx] = m.bidPrice
            ip[Self.askPx] = m.askPrice
            ip[Self.bidSz] = Int64(m.bidSize)
            ip[Self.askSz] = Int64(m.askSize)
        }
        let bidPx = ip[Self.bidPx]
        let askPx = ip[Self.askPx]
        let bidSz = ip[Self.bidSz]
        let askSz = ip[Self.askSz]
        let topChanged =
            bidPx != ip[Self.prevBidPx] || askPx != ip[Self.prevAskPx] || bidSz != ip[Self.prevBidSz]
            || askSz != ip[Self.prevAskSz]
        let bothSides = bidSz > 0 && askSz > 0
        let bid = Double(bidPx) / 1e4
        let ask = Double(askPx) / 1e4
        dp[Self.prevMid] = dp[Self.mid]
        let mid = bothSides ? (bid + ask) / 2 : .nan
        dp[Self.mid] = mid
        let prevMid = dp[Self.prevMid]
        // Only the volatilities read r. An unchanged mid is log(1) = +0 exactly (IEEE 754; glibc's
        // log returns +0 there too), so the shortcut gives the same bits without the call.
        let r =
            !needsReturn || !(mid > 0 && prevMid > 0) ? Double.nan : mid == prevMid ? 0 : log(mid / prevMid)
        let event = ip[Self.events]
        ip[Self.events] = event &+ 1
        if trade { ip[Self.lastTrade] = now }
        return FeatureEvent(
            now: now,
            event: event,
            bidPx: bidPx,
            askPx: askPx,
            bidSz: bidSz,
            askSz: askSz,
            prevBidPx: ip[Self.prevBidPx],
            prevAskPx: ip[Self.prevAskPx],
            prevBidSz: ip[Self.prevBidSz],
            prevAskSz: ip[Self.prevAskSz],
            bid: bid,
            ask: ask,
            mid: mid,
            r: r,
            bothSides: bothSides,
            topChanged: topChanged,
            topFed: ip[Self.topFed] != 0,
            trade: trade,
            tradeSize: tradeSize,
            lastTrade: ip[Self.lastTrade],
            instrument: inst
        )
    }

    /// best ask − best bid.
    @inline(__always)
    static func spread(_ e: FeatureEvent) -> Double {
        e.bothSides ? e.ask - e.bid : .nan
    }

    /// (bid size − ask size) / (bid size + ask size).
    @inline(__always)
    static func imbalance(_ e: FeatureEvent) -> Double {
        let total = e.bidSz + e.askSz
        return total > 0 ? Double(e.bidSz - e.askSz) / Double(total) : .nan
    }

    /// (bid × ask size + ask × bid size) / (bid size + ask size).
    @inline(__always)
    static func microprice(_ e: FeatureEvent) -> Double {
        e.bothSides ? (e.bid * Double(e.askSz) + e.ask * Double(e.bidSz)) / Double(e.bidSz + e.askSz) : .nan
    }

    /// Imbalance over `levels` levels, level i weighted 1/(i+1); level 1 only when the top is fed
    /// by top-of-book messages (no depth known).
    @inline(__always)
    func depthImbalance(_ p: Plan, _ e: FeatureEvent) -> Double {
        var num = 0.0
        var den = 0.0
        if e.topFed {
            num = Double(e.bidSz - e.askSz)
            den = Double(e.bidSz + e.askSz)
        } else {
            for l in 0..<p.levels {
                let w = 1.0 / Double(l + 1)
                let b = Double(books.level(instrument: e.instrument, side: .buy, depth: l)?.shares ?? 0)
                let a = Double(books.level(instrument: e.instrument, side: .sell, depth: l)?.shares ?? 0)
                num += w * (b - a)
                den += w * (b + a)
            }
        }
        return den > 0 ? num / den : .nan
    }

    /// Order-flow imbalance summed over the last `events` events. `fi`: [sum, unused], then a ring
    /// of the last `events` contributions.
    @inline(__always)
    static func ofi(_ p: Plan, _ e: FeatureEvent, _ fi: UnsafeMutablePointer<Int64>) -> Double {
        // e = 1{Pb ≥ Pb'} qb − 1{Pb ≤ Pb'} qb' − 1{Pa ≤ Pa'} qa + 1{Pa ≥ Pa'} qa'  (' = before)
        let pb = e.prevBidPx
        let pa = e.prevAskPx
        let qb = e.prevBidSz
        let qa = e.prevAskSz
        var c: Int64 = 0
        if e.event > 0 {
            if e.bidPx >= pb { c &+= e.bidSz }
            if e.bidPx <= pb { c &-= qb }
            if e.askPx <= pa { c &-= e.askSz }
            if e.askPx >= pa { c &+= qa }
        }
        let at = 2 + Int(e.event % Int64(p.n))
        fi[0] = fi[0] &- fi[at] &+ c
        fi[at] = c
        return Double(fi[0])
    }

    /// log(mid / mid `events` events ago). `fd`: a ring of `events + 1` mids indexed by event count.
    @inline(__always)
    static func returnEvents(_ p: Plan, _ e: FeatureEvent, _ fd: UnsafeMutablePointer<Double>) -> Double {
        let n = Int64(p.n)
        fd[Int(e.event % n)] = e.mid
        let old = e.event >= n - 1 ? fd[Int((e.event - (n - 1)) % n)] : .nan
        return e.mid > 0 && old > 0 ? log(e.mid / old) : .nan
    }

    /// log(mid / last mid at or before now − window). `fi`: [head, size], then the ring's times;
    /// `fd`: the ring's mids.
    @inline(__always)
    static func returnTime(
        _ p: Plan,
        _ e: FeatureEvent,
        _ fd: UnsafeMutablePointer<Double>,
        _ fi: UnsafeMutablePointer<Int64>
    ) -> Double {
        // Ring of (time, mid) at mid changes; the front is the last point at or before now − window.
        let cap = p.n
        var head = Int(fi[0])
        var size = Int(fi[1])
        let times = fi + 2
        let mid = e.mid
        let lastMid = size > 0 ? fd[(head + size - 1) % cap] : Double.nan
        if mid.isNaN == false && !(mid == lastMid) {
            if size == cap {
                head = (head + 1) % cap
                size -= 1
            }
            times[(head + size) % cap] = e.now
            fd[(head + size) % cap] = mid
            size += 1
        }
        let cutoff = e.now &- p.windowNs
        while size >= 2 && times[(head + 1) % cap] <= cutoff {
            head = (head + 1) % cap
            size -= 1
        }
        fi[0] = Int64(head)
        fi[1] = Int64(size)
        guard size > 0 && times[head] <= cutoff else { return .nan }
        let old = fd[head]
        return mid > 0 && old > 0 ? log(mid / old) : .nan
    }

    /// sqrt of the per-event EWMA of squared returns. `fd`: [variance, initialised].
    @inline(__always)
    static func volatilityEvents(_ p: Plan, _ e: FeatureEvent, _ fd: UnsafeMutablePointer<Double>) -> Double {
        let r = e.r
        if !r.isNaN {
            fd[0] = fd[1] == 0 ? r * r : p.alpha * r * r + (1 - p.alpha) * fd[0]
            fd[1] = 1
        }
        return fd[1] != 0 ? fd[0].squareRoot() : .nan
    }

    /// sqrt of the time-decayed sum of squared returns. `fd`: [variance, initialised]; `fi`: [time
    /// of the last return].
    @inline(__always)
    static func volatilityTime(
        _ p: Plan,
        _ e: FeatureEvent,
        _ fd: UnsafeMutablePointer<Double>,
        _ fi: UnsafeMutablePointer<Int64>
    ) -> Double {
        // Time-decayed sum of squared returns: var ← 2^(−Δt/half-life)·var + r².
        let r = e.r
        if !r.isNaN {
            let dt = Double(e.now &- fi[0])
            fd[0] = fd[1] == 0 ? r * r : exp(-dt * p.decayPerNs) * fd[0] + r * r
            fd[1] = 1
            fi[0] = e.now
        }
        return fd[1] != 0 ? (exp(-Double(e.now &- fi[0]) * p.decayPerNs) * fd[0]).squareRoot() : .nan
    }

    /// Trades (`trade_count`) or shares traded (`trade_volume`) in the last `window_ns`. `fi`:
    /// [head, size, count, volume], then the ring's times, then its sizes.
    @inline(__always)
    static func tradeWindow(_ p: Plan, _ e: FeatureEvent, _ fi: UnsafeMutablePointer<Int64>) -> Double {
        let cap = p.n
        var head = Int(fi[0])
        var size = Int(fi[1])
        let times = fi + 4
        let sizes = fi + 4 + cap
        if e.trade {
            if size == cap {  // full: the oldest leaves early
                fi[2] &-= 1
                fi[3] &-= sizes[head]
                head = (head + 1) % cap
                size -= 1
            }
            times[(head + size) % cap] = e.now
            sizes[(head + size) % cap] = e.tradeSize
            size += 1
            fi[2] &+= 1
            fi[3] &+= e.tradeSize
        }
        let cutoff = e.now &- p.windowNs
        while size > 0 && times[head] <= cutoff {
            fi[2] &-= 1
            fi[3] &-= sizes[head]
            head = (head + 1) % cap
            size -= 1
        }
        fi[0] = Int64(head)
        fi[1] = Int64(size)
        return Double(p.kind == .tradeCount ? fi[2] : fi[3])
    }

    /// Seconds since the last trade (NaN before the first).
    @inline(__always)
    static func timeSinceTrade(_ e: FeatureEvent) -> Double {
        e.lastTrade == .min ? .nan : Double(e.now &- e.lastTrade) / 1e9
    }
}
