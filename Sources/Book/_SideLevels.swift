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
            q = Int64(
                bitPattern: (UInt64(bitPattern: price) >> 2).multipliedFullWidth(by: 0x28F5_C28F_5C28_F5C3).high >> 2
            )
        } else {
            q = price / tick
        }
        guard q &* tick == price else { return nil }
        return isBid ? q : 0 &- q
    }

    @inlinable static func slot(_ key: Int64) -> Int { Int(truncatingIfNeeded: key) & Int(window - 1) }

    @inlinable func better(_ a: Int64, than b: Int64) -> Bool { isBid ? a > b : a < b }

    @inlinable @inline(__always) var best: PriceLevel {
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
        var c = levels()
        var d = 0
        while let v = next(&c) {
            if d == depth { return v }
            d &+= 1
        }
        return nil
    }

    /// A walk over the levels best first (see `next`). A cursor rather than a closure: debug builds
    /// box what a closure captures, and the malloc-counting tests run debug builds.
    @usableFromInline struct _LevelCursor {
        @usableFromInline var key: Int64
        @usableFromInline var ladderLeft: Int32
        @usableFromInline var fallbackIndex: Int
        @inlinable init(key: Int64, ladderLeft: Int32, fallbackIndex: Int) {
            self.key = key
            self.ladderLeft = ladderLeft
            self.fallbackIndex = fallbackIndex
        }
    }

    /// A cursor at the best level.
    @inlinable @inline(__always)
    func levels() -> _LevelCursor {
        _LevelCursor(key: bestKey, ladderLeft: ladderCount, fallbackIndex: Int(fallback.count) - 1)
    }

    /// The level at the cursor, moving it one level worse; nil when the levels ran out. Levels come
    /// from the ladder (best key down) and the fallback (last down) merged by price.
    @inlinable @inline(__always)
    func next(_ c: inout _LevelCursor) -> PriceLevel? {
        guard c.ladderLeft > 0 || c.fallbackIndex >= 0 else { return nil }
        var fromLadder = false
        var v = PriceLevel(price: 0, shares: 0, orders: 0)
        if c.ladderLeft > 0, let l = ladder {
            while l[Self.slot(c.key)].shares == 0 { c.key &-= 1 }  // Safe: slot < window; a live key remains.
            v = l[Self.slot(c.key)]
            fromLadder = true
        }
        if c.fallbackIndex >= 0, let b = fallback.base {
            let w = b[c.fallbackIndex]  // Safe: 0 <= fallbackIndex < count.
            if !fromLadder || better(w.price, than: v.price) {
                v = w
                fromLadder = false
            }
        }
        if fromLadder {
            c.ladderLeft &-= 1
            c.key &-= 1
        } else {
            c.fallbackIndex &-= 1
        }
        return v
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
