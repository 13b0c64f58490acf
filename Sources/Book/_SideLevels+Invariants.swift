// Written without closures: debug builds box what a closure captures, and this runs after every
// book change in debug builds, which the malloc-counting tests run. An empty array allocates nothing.

extension _SideLevels {
    /// Every way this side breaks the invariants written on `_SideLevels` and `_SortedLevels`, one
    /// sentence each, and whether its levels, read best first as `level(depth:)` reads them, are
    /// non-empty, in strictly worsening price order, as many as `count`, and start with `best`.
    /// Empty when the side is consistent. O(window + levels): for checks and tests, never the hot path.
    ///
    /// When the storage itself is broken (a wrong `ladderCount` or `bestKey` would make
    /// `level(depth:)` scan forever), the levels are not read: the caller must not read them either.
    func _violations() -> [String] {
        var out: [String] = []
        let side = isBid ? "bid" : "ask"
        guard let l = ladder else {
            if ladderCount != 0 || fallback.count != 0 {
                out.append("\(side): no ladder yet but \(ladderCount) ladder and \(fallback.count) fallback levels")
            }
            return out
        }
        if tick != 1 && tick != 100 { out.append("\(side): tick \(tick) is neither 1 nor 100") }
        var live: Int32 = 0
        var largest = Int64.min
        for s in 0..<Int(Self.window) {
            let v = l[s]  // Safe: s < window, all initialised.
            if v.shares < 0 { out.append("\(side): ladder slot \(s) holds \(v.shares) shares") }
            guard v.shares > 0 else { continue }
            live &+= 1
            if v.orders < 1 { out.append("\(side): ladder level \(v.price) has \(v.orders) orders") }
            guard let k = key(v.price) else {
                out.append("\(side): ladder level \(v.price) is off the grid of tick \(tick)")
                continue
            }
            if k &- lo < 0 || k &- lo >= Self.window {
                out.append("\(side): ladder level \(v.price) (key \(k)) is outside the window from \(lo)")
            }
            if Self.slot(k) != s {
                out.append("\(side): ladder level \(v.price) sits in slot \(s), its key says \(Self.slot(k))")
            }
            largest = max(largest, k)
        }
        if live != ladderCount { out.append("\(side): \(live) live ladder slots, ladderCount says \(ladderCount)") }
        if live > 0 && bestKey != largest {
            out.append("\(side): bestKey \(bestKey), the largest live key is \(largest)")
        }
        for v in fallback._violations(bid: isBid) { out.append("\(side) fallback: \(v)") }
        if let b = fallback.base {
            for r in 0..<Int(max(0, min(fallback.count, fallback.capacity))) {
                let price = b[r].price  // Safe: r < count <= capacity.
                if let k = key(price), k &- lo >= 0, k &- lo < Self.window {
                    out.append("\(side): fallback level \(price) belongs in the ladder (key \(k), window from \(lo))")
                }
            }
        }
        guard out.isEmpty else { return out }
        // Read in depth order, as the depth API and the features see the levels.
        var previous: PriceLevel?
        var d = 0
        var c = levels()
        while let v = next(&c) {
            if v.shares <= 0 || v.orders < 1 {
                out.append("\(side): level \(d) at \(v.price) has \(v.shares) shares, \(v.orders) orders")
            }
            if let p = previous, !better(p.price, than: v.price) {
                out.append("\(side): level \(d) at \(v.price) is not worse than level \(d - 1) at \(p.price)")
            }
            if d == 0 && v != best { out.append("\(side): best is \(best), level 0 is \(v)") }
            previous = v
            d += 1
        }
        if d != Int(count) { out.append("\(side): \(d) levels read, count says \(count)") }
        if count == 0 && best.shares != 0 { out.append("\(side): no levels but best is \(best)") }
        return out
    }

    /// The level at `price`, if the side holds one (a ladder slot or a linear scan of the fallback).
    func _level(price: Int64) -> PriceLevel? {
        if let l = ladder, let k = key(price), k &- lo >= 0, k &- lo < Self.window {
            let v = l[Self.slot(k)]  // Safe: slot < window.
            return v.shares > 0 && v.price == price ? v : nil
        }
        guard let b = fallback.base else { return nil }
        for r in 0..<Int(fallback.count) where b[r].price == price { return b[r] }  // Safe: r < count.
        return nil
    }
}

extension _SortedLevels {
    /// Every way the fallback breaks its invariant: storage and count agree, levels are non-empty
    /// and sorted strictly with the best last (bids ascending, asks descending).
    func _violations(bid: Bool) -> [String] {
        var out: [String] = []
        if count < 0 || count > capacity { out.append("count \(count) outside 0...capacity \(capacity)") }
        if (base == nil) != (capacity == 0) {
            out.append("base is \(base == nil ? "nil" : "set") with capacity \(capacity)")
        }
        guard let b = base else { return out }
        for r in 0..<Int(max(0, min(count, capacity))) {
            let v = b[r]  // Safe: r < count <= capacity.
            if v.shares <= 0 || v.orders < 1 {
                out.append("level \(r) at \(v.price) has \(v.shares) shares, \(v.orders) orders")
            }
            if r > 0 {
                let p = b[r - 1].price  // Safe: r - 1 < count.
                if bid ? !(p < v.price) : !(p > v.price) {
                    out.append("level \(r) at \(v.price) is out of order after \(p)")
                }
            }
        }
        return out
    }
}
