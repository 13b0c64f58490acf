import TickBusCore

#if canImport(Glibc)
import Glibc
#endif

/// One aggregated price level of one side of one instrument.
public struct PriceLevel: Equatable, Sendable {
    /// Price in 1e-4 of the currency unit.
    public var price: Int64
    /// Visible shares resting at this price.
    public var shares: Int64
    /// Number of resting orders at this price (in level-addressed mode: see `MarketFlags.levelAddressed`).
    public var orders: Int32
    @inlinable public init(price: Int64, shares: Int64, orders: Int32) {
        self.price = price
        self.shares = shares
        self.orders = orders
    }
}

/// Best bid and best ask of one instrument; a side with `shares == 0` is empty.
public struct TopOfBook: Equatable, Sendable {
    public var bid: PriceLevel
    public var ask: PriceLevel
    @inlinable public init(bid: PriceLevel, ask: PriceLevel) {
        self.bid = bid
        self.ask = ask
    }
    public static let empty = TopOfBook(bid: PriceLevel(price: 0, shares: 0, orders: 0), ask: PriceLevel(price: 0, shares: 0, orders: 0))
}

/// What the book knew about an order it just changed (the feed handler fills execute and replace
/// messages with it, because ITCH executions carry only the reference number).
public struct OrderInfo: Equatable, Sendable {
    public var instrument: UInt32
    public var side: Side
    public var price: Int64
    /// Shares left after the change.
    public var remaining: UInt32
    @inlinable public init(instrument: UInt32, side: Side, price: Int64, remaining: UInt32) {
        self.instrument = instrument
        self.side = side
        self.price = price
        self.remaining = remaining
    }
}

/// Bits of the `flags` field of market messages (see Docs/FEED.md).
public enum MarketFlags {
    /// The event addresses a price level, not an order: apply `quantity` at (`side`, `price`) and
    /// ignore the order id. LOBSTER sources publish every book event this way.
    public static let levelAddressed: UInt16 = 1 << 0
    /// An add that seeds the initial book from a snapshot (LOBSTER's first order-book row).
    public static let seed: UInt16 = 1 << 1
    /// An add that refills a level revealed from below the source's depth (taken from LOBSTER's order-book file).
    public static let refill: UInt16 = 1 << 2
    /// A delete of a whole level that fell below the source's depth (LOBSTER: no longer tracked).
    public static let truncate: UInt16 = 1 << 3
    /// An execute whose price is the execution price, not the order's (ITCH C, executed with price).
    public static let executionPrice: UInt16 = 1 << 4
    /// A trade that is a cross (ITCH Q, LOBSTER type 6).
    public static let cross: UInt16 = 1 << 5
}

/// Order books for many instruments: order level (by reference number) and price level
/// (aggregated per side), kept by the feed handler and rebuilt by any ring reader with `apply`.
///
/// - Orders live in a preallocated open-addressing table keyed by reference number (linear
///   probing, backward-shift deletion, no tombstones); it doubles only when more than half full.
/// - Each side of each instrument is a price-indexed ladder (a ring of slots addressed by
///   price / tick in a window around the best price: no search, no shift) with a sorted array as
///   the fallback for prices off the grid or outside the window (see `_SideLevels`). Both are
///   allocated on a side's first add and the fallback grows by doubling, so after warm-up nothing
///   is allocated per message.
/// - Instrument ids are `0..<maxInstruments` (ITCH stock locate codes fit in 16 bits).
///
/// Unknown references (orders added before the data starts) are counted in `unknownReferences`
/// and skipped, never a crash.
public final class OrderBooks {
    /// Invariant: `sides` holds `maxInstruments * 2` initialised `_SideLevels` (bids at 2i, asks at 2i+1).
    @usableFromInline let sides: UnsafeMutablePointer<_SideLevels>
    @usableFromInline let maxInstruments: Int
    @usableFromInline var table: _OrderTable

    /// Orders referenced by execute, cancel, delete or replace that the book did not hold.
    public var unknownReferences: UInt64 = 0
    /// Events the book rejected: instrument out of range, zero reference, duplicate reference, bad side.
    public var rejected: UInt64 = 0

    /// - Parameters:
    ///   - maxInstruments: instrument ids accepted are `0..<maxInstruments`.
    ///   - orderCapacity: initial order-table capacity (rounded up to a power of two, kept at most half full).
    public init(maxInstruments: Int = 65_536, orderCapacity: Int = 1 << 20) {
        precondition(maxInstruments > 0)
        self.maxInstruments = maxInstruments
        sides = .allocate(capacity: maxInstruments * 2)
        for i in 0..<maxInstruments * 2 { (sides + i).initialize(to: _SideLevels(bid: i & 1 == 0)) }
        table = _OrderTable(capacity: orderCapacity)
    }

    deinit {
        for i in 0..<maxInstruments * 2 { sides[i].release() }
        sides.deallocate()
        table.release()
    }

    /// Live orders in the order table.
    public var orderCount: Int { table.count }

    // MARK: Depth API (used by Features, strategies, tools)

    /// Number of non-empty levels on one side of an instrument.
    @inlinable public func levelCount(instrument: UInt32, side: Side) -> Int {
        guard Int(instrument) < maxInstruments else { return 0 }
        return Int(sides[_index(instrument, side)].count)
    }

    /// Level `depth` (0 = best) of one side, or nil when the side has fewer levels.
    @inlinable public func level(instrument: UInt32, side: Side, depth: Int) -> PriceLevel? {
        guard Int(instrument) < maxInstruments else { return nil }
        guard depth >= 0 else { return nil }
        return sides[_index(instrument, side)].level(depth: depth)
    }

    /// Best bid and ask (a side with zero shares is empty).
    @inlinable public func top(instrument: UInt32) -> TopOfBook {
        guard Int(instrument) < maxInstruments else { return .empty }
        return TopOfBook(bid: sides[_index(instrument, .buy)].best, ask: sides[_index(instrument, .sell)].best)
    }

    /// The order with this reference, if live.
    @inlinable public func order(_ reference: UInt64) -> (instrument: UInt32, side: Side, price: Int64, shares: UInt32)? {
        guard let slot = table.find(reference) else { return nil }
        let o = table.slots[slot]  // Safe: find returns an index < capacity.
        return (o.instrument, o.side == 0 ? .buy : .sell, o.price, o.shares)
    }

    /// Instruments with at least one non-empty level, ascending.
    public func activeInstruments() -> [UInt32] {
        var out: [UInt32] = []
        for i in 0..<maxInstruments where sides[2 * i].count > 0 || sides[2 * i + 1].count > 0 { out.append(UInt32(i)) }
        return out
    }

    // MARK: Order-level events

    /// Adds an order. Returns whether the best level of its side changed.
    @inlinable @discardableResult
    public func add(instrument: UInt32, orderId: UInt64, side: Side, price: Int64, shares: UInt32) -> Bool {
        guard Int(instrument) < maxInstruments, orderId != 0 else { rejected &+= 1; return false }
        guard table.insert(_Order(reference: orderId, price: price, shares: shares, instrument: instrument, side: side == .buy ? 0 : 1)) else {
            rejected &+= 1
            return false
        }
        return sides[_index(instrument, side)].change(price: price, shares: Int64(shares), orders: 1)
    }

    /// Removes `shares` from an order (execute or partial cancel); the order leaves the book at zero.
    /// Returns the order's state after the change and whether the top of its side changed; nil when unknown.
    @inlinable
    public func reduce(orderId: UInt64, shares: UInt32) -> (info: OrderInfo, topChanged: Bool)? {
        guard let slot = table.find(orderId) else { unknownReferences &+= 1; return nil }
        let o = table.slots[slot]  // Safe: slot < capacity.
        let cut = min(shares, o.shares)
        let left = o.shares - cut
        let bid = o.side == 0
        let changed: Bool
        if left == 0 {
            table.remove(at: slot)
            changed = sides[_index(o.instrument, bid ? .buy : .sell)].change(price: o.price, shares: -Int64(cut), orders: -1)
        } else {
            table.slots[slot].shares = left  // Safe: slot < capacity.
            changed = sides[_index(o.instrument, bid ? .buy : .sell)].change(price: o.price, shares: -Int64(cut), orders: 0)
        }
        return (OrderInfo(instrument: o.instrument, side: bid ? .buy : .sell, price: o.price, remaining: left), changed)
    }

    /// Deletes an order. Returns what it was (remaining = its shares before) and whether the top changed.
    @inlinable
    public func delete(orderId: UInt64) -> (info: OrderInfo, topChanged: Bool)? {
        guard let slot = table.find(orderId) else { unknownReferences &+= 1; return nil }
        let o = table.slots[slot]  // Safe: slot < capacity.
        table.remove(at: slot)
        let bid = o.side == 0
        let changed = sides[_index(o.instrument, bid ? .buy : .sell)].change(price: o.price, shares: -Int64(o.shares), orders: -1)
        return (OrderInfo(instrument: o.instrument, side: bid ? .buy : .sell, price: o.price, remaining: o.shares), changed)
    }

    /// Replaces an order with a new reference, price and size, same instrument and side (ITCH U).
    @inlinable
    public func replace(oldOrderId: UInt64, newOrderId: UInt64, price: Int64, shares: UInt32) -> (info: OrderInfo, topChanged: Bool)? {
        guard let gone = delete(orderId: oldOrderId) else { return nil }
        let added = add(instrument: gone.info.instrument, orderId: newOrderId, side: gone.info.side, price: price, shares: shares)
        return (OrderInfo(instrument: gone.info.instrument, side: gone.info.side, price: price, remaining: shares), gone.topChanged || added)
    }

    // MARK: Level-addressed events

    /// Changes a level directly (LOBSTER and snapshots): `shares` and `orders` are signed deltas;
    /// the level is removed when its shares reach zero or below. Returns whether the top changed.
    @inlinable @discardableResult
    public func changeLevel(instrument: UInt32, side: Side, price: Int64, shares: Int64, orders: Int32) -> Bool {
        guard Int(instrument) < maxInstruments else { rejected &+= 1; return false }
        return sides[_index(instrument, side)].change(price: price, shares: shares, orders: orders)
    }

    /// Removes the worst levels of a side until at most `keep` remain; returns the levels removed
    /// (worst first) through `body`.
    @inlinable
    public func truncate(instrument: UInt32, side: Side, keep: Int, _ body: (PriceLevel) -> Void) {
        guard Int(instrument) < maxInstruments else { return }
        sides[_index(instrument, side)].dropWorst(keep: keep, body)
    }

    // MARK: Rebuilding from the ring

    /// Applies one market message read from the ring (add, execute, cancel, delete, replace; other
    /// kinds are ignored). Level-addressed messages (`MarketFlags.levelAddressed`) change the level at
    /// their price and side. Returns whether the best bid or ask of the instrument changed.
    @inlinable
    public func apply(_ view: MarketMessageView) -> Bool {
        guard let kind = view.kind else { return false }
        if view.flags & MarketFlags.levelAddressed != 0 {
            guard let side = view.side else { rejected &+= 1; return false }
            let q = Int64(view.quantity)
            switch kind {
            case .add: return changeLevel(instrument: view.instrument, side: side, price: view.price, shares: q, orders: 1)
            case .execute, .cancel: return changeLevel(instrument: view.instrument, side: side, price: view.price, shares: -q, orders: 0)
            case .delete: return changeLevel(instrument: view.instrument, side: side, price: view.price, shares: -q, orders: -1)
            default: return false
            }
        }
        switch kind {
        case .add:
            guard let side = view.side else { rejected &+= 1; return false }
            return add(instrument: view.instrument, orderId: view.orderId, side: side, price: view.price, shares: view.quantity)
        case .execute, .cancel:
            return reduce(orderId: view.orderId, shares: view.quantity)?.topChanged ?? false
        case .delete:
            return delete(orderId: view.orderId)?.topChanged ?? false
        case .replace:
            return replace(oldOrderId: view.oldOrderId, newOrderId: view.newOrderId, price: view.replacePrice,
                           shares: view.replaceQuantity)?.topChanged ?? false
        default:
            return false
        }
    }

    /// The top-of-book ring message for an instrument (sizes saturate at UInt32.max).
    @inlinable
    public func topMessage(instrument: UInt32, exchangeTime: Int64) -> MarketMessage {
        let t = top(instrument: instrument)
        return .topOfBook(instrument: instrument, exchangeTime: exchangeTime,
                          bidPrice: t.bid.price, bidSize: UInt32(clamping: t.bid.shares), bidOrders: UInt32(clamping: t.bid.orders),
                          askPrice: t.ask.price, askSize: UInt32(clamping: t.ask.shares), askOrders: UInt32(clamping: t.ask.orders))
    }

    @inlinable func _index(_ instrument: UInt32, _ side: Side) -> Int {
        Int(instrument) &* 2 &+ (side == .buy ? 0 : 1)
    }
}

// MARK: - Storage

/// One side of one instrument: a price-indexed ladder for the prices near the best, and a sorted
/// fallback for everything else.
///
/// The ladder addresses a level by its key, price / `tick` (negated for asks, so a larger key is
/// always a better price), in a ring of `window` slots covering keys `lo ..< lo + window` (slot
/// `key & (window - 1)`): an add, cancel or execute near the top is an index computation, with no
/// search and no shift. Prices off the grid (not a multiple of `tick`) or outside the window live in
/// `fallback`. A better price than the whole window (or any price while the ladder is empty)
/// re-centres the window with that price at three quarters of it (`rebase`: O(window + levels),
/// rare), leaving most of the room for the levels behind the best.
///
/// Invariants: `ladder` is nil (nothing added yet) or holds `window` initialised levels; a slot holds
/// a live level exactly when its shares > 0; a live level is in the ladder exactly when its price is
/// on the grid and its key inside the window, otherwise it is in `fallback` (so a price is in at most
/// one of the two); `ladderCount` counts the live slots; when `ladderCount > 0`, `bestKey` is the
/// largest live key. Levels only change through `change`, `dropWorst` and `rebase`, which keep this.
public struct _SideLevels {
    @inlinable static var window: Int64 { 128 }
    @usableFromInline var ladder: UnsafeMutablePointer<PriceLevel>?
    @usableFromInline var fallback = _SortedLevels()
    /// Grid step in 1e-4: 100 (a cent) when the first price of the side is a whole cent, else 1.
    @usableFromInline var tick: Int64 = 0
    @usableFromInline var lo: Int64 = 0
    @usableFromInline var bestKey: Int64 = 0
    @usableFromInline var ladderCount: Int32 = 0
    @usableFromInline let isBid: Bool

    @inlinable init(bid: Bool) { isBid = bid }

    func release() {
        ladder?.deallocate()
        fallback.release()
    }

    /// Live levels on this side.
    @inlinable var count: Int32 { ladderCount &+ fallback.count }

    @inlinable @inline(__always) func key(_ price: Int64) -> Int64? {
        let q: Int64
        if tick == 100 && price >= 0 {
            // The cent grid without a division: x / 100 == mulhi(x >> 2, 0x28F5C28F5C28F5C3) >> 2 for
            // every unsigned 64-bit x (the reciprocal compilers use for a constant divisor of 100).
            q = Int64(bitPattern: (UInt64(bitPattern: price) >> 2).multipliedFullWidth(by: 0x28F5_C28F_5C28_F5C3).high >> 2)
        } else {
            q = price / tick
        }
        guard q &* tick == price else { return nil }
        return isBid ? q : 0 &- q
    }

    @inlinable static func slot(_ key: Int64) -> Int { Int(truncatingIfNeeded: key) & Int(window - 1) }

    @inlinable func better(_ a: Int64, than b: Int64) -> Bool { isBid ? a > b : a < b }

    @inlinable var best: PriceLevel {
        let f = fallback.best
        guard ladderCount > 0, let l = ladder else { return f }
        let b = l[Self.slot(bestKey)]  // Safe: slot < window.
        return fallback.count > 0 && better(f.price, than: b.price) ? f : b
    }

    /// Adds signed deltas at a price; returns whether the best level of the side was touched (the
    /// level changed or removed was the best, or the level created is the best).
    @inlinable
    mutating func change(price: Int64, shares: Int64, orders: Int32) -> Bool {
        if ladder == nil {
            guard shares > 0 else { return false }  // Nothing was ever added: no level to reduce.
            setUp(price)
        }
        if let k = key(price) {
            let d = k &- lo
            if d >= 0 && d < Self.window { return changeLadder(k, price, shares, orders) }
            if shares > 0 && (ladderCount == 0 || k > bestKey) {
                rebase(around: k)
                return changeLadder(k, price, shares, orders)
            }
        }
        let touched = fallback.change(price: price, shares: shares, orders: orders, bid: isBid)
        guard touched, ladderCount > 0, let l = ladder else { return touched }
        return better(price, than: l[Self.slot(bestKey)].price)  // Safe: slot < window.
    }

    /// `k` is inside the window.
    @inlinable @inline(__always)
    mutating func changeLadder(_ k: Int64, _ price: Int64, _ shares: Int64, _ orders: Int32) -> Bool {
        let l = ladder.unsafelyUnwrapped  // Safe: set up before any ladder change.
        let s = Self.slot(k)
        let current = l[s].shares  // Safe: s < window.
        if current > 0 {
            let wasBest = k == bestKey && (fallback.count == 0 || better(price, than: fallback.best.price))
            let left = current &+ shares
            if left <= 0 {
                l[s] = PriceLevel(price: 0, shares: 0, orders: 0)  // Safe: s < window.
                ladderCount &-= 1
                if k == bestKey && ladderCount > 0 {
                    // The next live key below: one exists in lo..<k since ladderCount > 0.
                    var j = k &- 1
                    while l[Self.slot(j)].shares == 0 { j &-= 1 }  // Safe: slot < window.
                    bestKey = j
                }
            } else {
                l[s].shares = left  // Safe: s < window.
                l[s].orders = max(l[s].orders &+ orders, 1)
            }
            return wasBest
        }
        guard shares > 0 else { return false }  // Reducing a level that does not exist: nothing to do.
        l[s] = PriceLevel(price: price, shares: shares, orders: max(orders, 1))  // Safe: s < window.
        ladderCount &+= 1
        if ladderCount == 1 || k > bestKey { bestKey = k }
        return k == bestKey && (fallback.count == 0 || better(price, than: fallback.best.price))
    }

    @usableFromInline mutating func setUp(_ price: Int64) {
        tick = price % 100 == 0 ? 100 : 1
        let l = UnsafeMutablePointer<PriceLevel>.allocate(capacity: Int(Self.window))
        l.initialize(repeating: PriceLevel(price: 0, shares: 0, orders: 0), count: Int(Self.window))
        ladder = l
        // The fallback's first block too, so a later rebase allocates nothing in the common case.
        if fallback.capacity == 0 { fallback.grow() }
        lo = key(price)! &- Self.window * 3 / 4  // Safe: price is on the grid just chosen.
    }

    /// Re-centres the window on key `k`: every ladder level goes to the fallback, then the fallback's
    /// levels inside the new window come back (the fallback is compacted in place, order kept).
    @usableFromInline mutating func rebase(around k: Int64) {
        let l = ladder.unsafelyUnwrapped  // Safe: called only after setUp.
        if ladderCount > 0 {
            for s in 0..<Int(Self.window) where l[s].shares > 0 {  // Safe: s < window.
                _ = fallback.change(price: l[s].price, shares: l[s].shares, orders: l[s].orders, bid: isBid)
                l[s] = PriceLevel(price: 0, shares: 0, orders: 0)
            }
        }
        ladderCount = 0
        lo = k &- Self.window * 3 / 4
        guard let b = fallback.base else { return }
        var kept = 0
        for r in 0..<Int(fallback.count) {
            let v = b[r]  // Safe: r < count.
            if let kk = key(v.price), kk &- lo >= 0, kk &- lo < Self.window {
                l[Self.slot(kk)] = v  // Safe: slot < window.
                ladderCount &+= 1
                if ladderCount == 1 || kk > bestKey { bestKey = kk }
            } else {
                b[kept] = v  // Safe: kept <= r < count.
                kept &+= 1
            }
        }
        fallback.count = Int32(kept)
    }

    /// Level `depth` (0 = best): the ladder (best key down) and the fallback (last down) merged by price.
    @inlinable func level(depth: Int) -> PriceLevel? {
        guard depth >= 0, depth < Int(count) else { return nil }
        var k = bestKey
        var ladderLeft = ladderCount
        var f = Int(fallback.count) - 1
        var d = 0
        while true {
            var fromLadder = false
            var v = PriceLevel(price: 0, shares: 0, orders: 0)
            if ladderLeft > 0, let l = ladder {
                while l[Self.slot(k)].shares == 0 { k &-= 1 }  // Safe: slot < window; a live key remains.
                v = l[Self.slot(k)]
                fromLadder = true
            }
            if f >= 0, let b = fallback.base {
                let w = b[f]  // Safe: 0 <= f < count.
                if !fromLadder || better(w.price, than: v.price) {
                    v = w
                    fromLadder = false
                }
            }
            if d == depth { return v }
            if fromLadder { ladderLeft &-= 1; k &-= 1 } else { f &-= 1 }
            d &+= 1
        }
    }

    /// Removes the worst levels until at most `keep` remain, passing each (worst first) to `body`.
    @inlinable
    mutating func dropWorst(keep: Int, _ body: (PriceLevel) -> Void) {
        var n = Int(count)
        guard n > keep else { return }
        var k = lo  // Live ladder keys are >= lo.
        while n > keep {
            var fromLadder = false
            var v = PriceLevel(price: 0, shares: 0, orders: 0)
            if ladderCount > 0, let l = ladder {
                while l[Self.slot(k)].shares == 0 { k &+= 1 }  // Safe: slot < window; a live key remains.
                v = l[Self.slot(k)]
                fromLadder = true
            }
            if fallback.count > 0, let b = fallback.base {
                let w = b[0]  // Safe: count > 0.
                if !fromLadder || better(v.price, than: w.price) {
                    v = w
                    fromLadder = false
                }
            }
            body(v)
            if fromLadder {
                ladder.unsafelyUnwrapped[Self.slot(k)] = PriceLevel(price: 0, shares: 0, orders: 0)  // Safe: slot < window.
                ladderCount &-= 1
                k &+= 1
            } else {
                fallback.dropWorst(keep: Int(fallback.count) - 1) { _ in }
            }
            n &-= 1
        }
        // Only the worst levels went, so bestKey is still the largest live key while any remains.
    }
}

/// Levels of one side kept sorted so that the best price is last (bids ascending, asks descending):
/// the fallback of `_SideLevels` for prices off its ladder's grid or outside its window.
/// Invariant: `base` holds `capacity` slots of which the first `count` are initialised (PriceLevel is
/// trivial, so no deinitialisation is needed); `base` is nil exactly when `capacity` is 0.
public struct _SortedLevels {
    @usableFromInline var base: UnsafeMutablePointer<PriceLevel>?
    @usableFromInline var count: Int32 = 0
    @usableFromInline var capacity: Int32 = 0
    @inlinable init() { base = nil }

    @inlinable var best: PriceLevel {
        count > 0 ? base![Int(count) - 1] : PriceLevel(price: 0, shares: 0, orders: 0)  // Safe: count > 0.
    }

    func release() { base?.deallocate() }

    /// Adds signed deltas at a price; returns whether the best level (price, shares or orders) changed.
    @inlinable
    mutating func change(price: Int64, shares: Int64, orders: Int32, bid: Bool) -> Bool {
        let n = Int(count)
        // Find the price: a few linear steps from the best end (where most activity is), then a
        // binary search. `i` ends at the level with the price, or at the first level worse than it.
        var i = n - 1
        if let b = base {
            var steps = 0
            while i >= 0 && steps < 48 {
                let p = b[i].price  // Safe: 0 <= i < count.
                if p == price { return update(b, i, n, shares, orders) }
                if bid ? p < price : p > price { break }
                i -= 1
                steps += 1
            }
            if steps == 48 && i >= 0 {
                // Levels 0...i: count those not better than `price` (a prefix) with a branch-free
                // binary search (conditional moves; the loop length depends only on the count).
                var first = 0
                var len = i + 1
                if bid {
                    while len > 1 {
                        let half = len >> 1
                        first = b[first + half - 1].price <= price ? first + half : first  // Safe: < i + 1.
                        len -= half
                    }
                    first += b[first].price <= price ? 1 : 0  // Safe: first <= i.
                } else {
                    while len > 1 {
                        let half = len >> 1
                        first = b[first + half - 1].price >= price ? first + half : first  // Safe: < i + 1.
                        len -= half
                    }
                    first += b[first].price >= price ? 1 : 0  // Safe: first <= i.
                }
                i = first - 1
                if i >= 0 && b[i].price == price { return update(b, i, n, shares, orders) }  // Safe: i < count.
            }
        }
        guard shares > 0 else { return false }  // Reducing a level that does not exist: nothing to do.
        if count == capacity { grow() }
        let b = base!  // Safe: grow made capacity > count.
        let at = i + 1
        if at < n { (b + at + 1).moveInitialize(from: b + at, count: n - at) }  // Safe: capacity > count.
        (b + at).initialize(to: PriceLevel(price: price, shares: shares, orders: max(orders, 1)))
        count += 1
        return at == n
    }

    /// Applies deltas to existing level `i` (removing it at zero); true when it was the best.
    @inlinable @inline(__always)
    mutating func update(_ b: UnsafeMutablePointer<PriceLevel>, _ i: Int, _ n: Int, _ shares: Int64, _ orders: Int32) -> Bool {
        let s = b[i].shares &+ shares  // Safe: i < count.
        if s <= 0 {
            // Remove level i, shifting the better levels down by one.
            if i < n - 1 { (b + i).update(from: b + i + 1, count: n - 1 - i) }  // Safe: within count.
            count -= 1
        } else {
            b[i].shares = s
            b[i].orders = max(b[i].orders &+ orders, 1)
        }
        return i == n - 1
    }

    @usableFromInline mutating func grow() {
        // 64 levels first: most sides never grow again, so steady state allocates nothing.
        let newCapacity = max(64, Int(capacity) * 2)
        let fresh = UnsafeMutablePointer<PriceLevel>.allocate(capacity: newCapacity)
        if let b = base {
            fresh.moveInitialize(from: b, count: Int(count))
            b.deallocate()
        }
        base = fresh
        capacity = Int32(newCapacity)
    }

    @inlinable
    mutating func dropWorst(keep: Int, _ body: (PriceLevel) -> Void) {
        let n = Int(count)
        guard n > keep, let b = base else { return }
        let drop = n - keep
        for k in 0..<drop { body(b[k]) }  // Safe: k < count.
        (b).update(from: b + drop, count: keep)  // Safe: overlapping forward copy of initialised trivial values.
        count = Int32(keep)
    }
}

/// One live order. `reference == 0` marks an empty slot.
public struct _Order {
    @usableFromInline var reference: UInt64
    @usableFromInline var price: Int64
    @usableFromInline var shares: UInt32
    @usableFromInline var instrument: UInt32
    /// 0 buy, 1 sell.
    @usableFromInline var side: UInt8
    @inlinable init(reference: UInt64, price: Int64, shares: UInt32, instrument: UInt32, side: UInt8) {
        self.reference = reference
        self.price = price
        self.shares = shares
        self.instrument = instrument
        self.side = side
    }
}

/// Open-addressing order table: linear probing, backward-shift deletion.
/// Invariant: `slots` holds `mask + 1` initialised `_Order`s (a power of two); `count <= (mask + 1) / 2`
/// after every insert, so a probe always ends at an empty slot.
public struct _OrderTable {
    @usableFromInline var slots: UnsafeMutablePointer<_Order>
    @usableFromInline var mask: Int
    @usableFromInline var count: Int = 0

    init(capacity: Int) {
        var c = 16
        while c < capacity { c <<= 1 }
        slots = .allocate(capacity: c)
        slots.initialize(repeating: _Order(reference: 0, price: 0, shares: 0, instrument: 0, side: 0), count: c)
        mask = c - 1
    }

    func release() { slots.deallocate() }

    @inlinable func home(_ reference: UInt64) -> Int {
        // Exchanges hand out references sequentially and most live orders are recent, so the low
        // bits place live orders in a dense, cache-friendly window without collisions (a scattering
        // hash costs a cache miss per lookup once the table outgrows the cache). The high half is
        // folded in so references that differ only above the mask still spread.
        Int(truncatingIfNeeded: reference ^ (reference >> 32)) & mask
    }

    @inlinable func find(_ reference: UInt64) -> Int? {
        guard reference != 0 else { return nil }
        var i = home(reference)
        while true {
            let r = slots[i].reference  // Safe: i <= mask.
            if r == reference { return i }
            if r == 0 { return nil }
            i = (i &+ 1) & mask
        }
    }

    /// Inserts a new order; false when the reference is already live.
    @inlinable mutating func insert(_ order: _Order) -> Bool {
        if (count &+ 1) &* 2 > mask &+ 1 { rehash() }
        var i = home(order.reference)
        while true {
            let r = slots[i].reference  // Safe: i <= mask.
            if r == 0 { break }
            if r == order.reference { return false }
            i = (i &+ 1) & mask
        }
        slots[i] = order  // Safe: i <= mask.
        count &+= 1
        return true
    }

    /// Removes the order at slot `i`, moving later members of the probe run back so no search breaks.
    @inlinable mutating func remove(at slot: Int) {
        var hole = slot
        var j = slot
        while true {
            j = (j &+ 1) & mask
            let r = slots[j].reference  // Safe: j <= mask.
            if r == 0 { break }
            let h = home(r)
            // Move j into the hole if its home is not cyclically in (hole, j].
            let inRange = hole <= j ? (h > hole && h <= j) : (h > hole || h <= j)
            if !inRange {
                slots[hole] = slots[j]  // Safe: both <= mask.
                hole = j
            }
        }
        slots[hole].reference = 0  // Safe: hole <= mask.
        count &-= 1
    }

    @usableFromInline mutating func rehash() {
        let old = slots
        let oldCount = mask + 1
        let c = oldCount * 2
        slots = .allocate(capacity: c)
        slots.initialize(repeating: _Order(reference: 0, price: 0, shares: 0, instrument: 0, side: 0), count: c)
        mask = c - 1
        count = 0
        for k in 0..<oldCount where old[k].reference != 0 { _ = insert(old[k]) }
        old.deallocate()
    }
}
