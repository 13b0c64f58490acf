/// Levels of one side kept sorted so that the best price is last (bids ascending, asks descending):
/// the fallback of `_SideLevels` for prices off its ladder's grid or outside its window.
/// Invariant: `base` holds `capacity` slots of which the first `count` are initialised (PriceLevel is
/// trivial, so no deinitialisation is needed); `base` is nil exactly when `capacity` is 0.
public struct _SortedLevels {
    @usableFromInline var base: UnsafeMutablePointer<PriceLevel>?
    @usableFromInline var count: Int32 = 0
    @usableFromInline var capacity: Int32 = 0
    @inlinable init() { base = nil }

    @inlinable @inline(__always) var best: PriceLevel {
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
    mutating func update(
        _ b: UnsafeMutablePointer<PriceLevel>,
        _ i: Int,
        _ n: Int,
        _ shares: Int64,
        _ orders: Int32
    ) -> Bool {
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
