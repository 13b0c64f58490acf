extension _SideLevels {
    /// Reports, through `report`, every way this side breaks the invariants written on `_SideLevels`
    /// and `_SortedLevels`, and that its levels read best first (`level(depth:)`) are non-empty, in
    /// strictly worsening price order, and start with `best`. Reports nothing when the side is
    /// consistent. O(window + levels): for checks and tests, never the hot path.
    ///
    /// - Returns: whether the storage is sound enough to read through `level(depth:)` and `best`
    ///   (a wrong `ladderCount` or `bestKey` would make those scan forever); when it is not, the
    ///   levels are not read and the caller must not read them either.
    @discardableResult
    func _collectViolations(_ reportViolation: (String) -> Void) -> Bool {
        var sound = true
        func report(_ s: String) {
            sound = false
            reportViolation(s)
        }
        let side = isBid ? "bid" : "ask"
        guard let l = ladder else {
            if ladderCount != 0 || fallback.count != 0 {
                report("\(side): no ladder yet but \(ladderCount) ladder and \(fallback.count) fallback levels")
            }
            return sound
        }
        if tick != 1 && tick != 100 { report("\(side): tick \(tick) is neither 1 nor 100") }
        var live: Int32 = 0
        var largest = Int64.min
        for s in 0..<Int(Self.window) {
            let v = l[s]  // Safe: s < window, all initialised.
            if v.shares < 0 { report("\(side): ladder slot \(s) holds \(v.shares) shares") }
            guard v.shares > 0 else { continue }
            live &+= 1
            if v.orders < 1 { report("\(side): ladder level \(v.price) has \(v.orders) orders") }
            guard let k = key(v.price) else {
                report("\(side): ladder level \(v.price) is off the grid of tick \(tick)")
                continue
            }
            if k &- lo < 0 || k &- lo >= Self.window { report("\(side): ladder level \(v.price) (key \(k)) is outside the window from \(lo)") }
            if Self.slot(k) != s { report("\(side): ladder level \(v.price) sits in slot \(s), its key says \(Self.slot(k))") }
            largest = max(largest, k)
        }
        if live != ladderCount { report("\(side): \(live) live ladder slots, ladderCount says \(ladderCount)") }
        if live > 0 && bestKey != largest { report("\(side): bestKey \(bestKey), the largest live key is \(largest)") }
        fallback._collectViolations(bid: isBid) { report("\(side) fallback: \($0)") }
        if let b = fallback.base {
            for r in 0..<Int(max(0, min(fallback.count, fallback.capacity))) {
                let price = b[r].price  // Safe: r < count <= capacity.
                if let k = key(price), k &- lo >= 0, k &- lo < Self.window {
                    report("\(side): fallback level \(price) belongs in the ladder (key \(k), window from \(lo))")
                }
            }
        }
        guard sound else { return false }
        // Read in depth order, as the depth API and the features see the levels.
        var previous: PriceLevel?
        var d = 0
        _forEachLevel { v in
            if v.shares <= 0 || v.orders < 1 { report("\(side): level \(d) at \(v.price) has \(v.shares) shares, \(v.orders) orders") }
            if let p = previous, !better(p.price, than: v.price) {
                report("\(side): level \(d) at \(v.price) is not worse than level \(d - 1) at \(p.price)")
            }
            if d == 0 && v != best { report("\(side): best is \(best), level 0 is \(v)") }
            previous = v
            d += 1
        }
        if let first = level(depth: 0), first != best { report("\(side): best is \(best), level(depth: 0) is \(first)") }
        if count > 0 && level(depth: Int(count) - 1) == nil { report("\(side): no level at depth \(count - 1) of \(count)") }
        if level(depth: Int(count)) != nil { report("\(side): a level beyond the \(count) counted") }
        if count == 0 && best.shares != 0 { report("\(side): no levels but best is \(best)") }
        return sound
    }

    /// Calls `body` with every level, best first: the walk of `level(depth:)` without restarting at
    /// each depth. Only on a side whose `ladderCount` and `bestKey` are sound (see `_collectViolations`).
    func _forEachLevel(_ body: (PriceLevel) -> Void) {
        var k = bestKey
        var ladderLeft = ladder == nil ? 0 : ladderCount
        var f = Int(fallback.count) - 1
        while ladderLeft > 0 || f >= 0 {
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
            body(v)
            if fromLadder { ladderLeft &-= 1; k &-= 1 } else { f &-= 1 }
        }
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
    /// Reports every way the fallback breaks its invariant: storage and count agree, levels are
    /// non-empty and sorted strictly with the best last (bids ascending, asks descending).
    func _collectViolations(bid: Bool, _ report: (String) -> Void) {
        if count < 0 || count > capacity { report("count \(count) outside 0...capacity \(capacity)") }
        if (base == nil) != (capacity == 0) { report("base is \(base == nil ? "nil" : "set") with capacity \(capacity)") }
        guard let b = base else { return }
        for r in 0..<Int(max(0, min(count, capacity))) {
            let v = b[r]  // Safe: r < count <= capacity.
            if v.shares <= 0 || v.orders < 1 { report("level \(r) at \(v.price) has \(v.shares) shares, \(v.orders) orders") }
            if r > 0 {
                let p = b[r - 1].price  // Safe: r - 1 < count.
                if bid ? !(p < v.price) : !(p > v.price) { report("level \(r) at \(v.price) is out of order after \(p)") }
            }
        }
    }
}
