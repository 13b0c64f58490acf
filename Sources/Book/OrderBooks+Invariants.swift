// Consistency checks of the order table and the level arrays. The full check is for tests (call
// `_checkInvariants()` from a model loop); builds with TICKBUS_INVARIANTS (the debug configuration,
// see Package.swift) also check the side and order each mutation touched. Release builds compile
// the per-mutation hook to nothing, so the hot path is unchanged.

extension OrderBooks {
    /// Every broken invariant of the books, one sentence each (empty when consistent):
    /// - the order table is consistent (see `_OrderTable`) and every order names an instrument in
    ///   range and a side;
    /// - on every side, levels are non-empty, sorted (best first) and unique, ladder and fallback
    ///   keep their invariants, and the top of book is the best level;
    /// - unless `levelAddressed` (a book changed by `changeLevel`, as LOBSTER sources do, holds
    ///   levels without orders), every resting order's level exists, and each level's shares and
    ///   order count are exactly the sums over its resting orders.
    ///
    /// O(instruments + levels + order capacity): for tests and tools, not per message.
    public func _invariantViolations(levelAddressed: Bool = false) -> [String] {
        var out: [String] = []
        for v in table._violations() { out.append("order table: \(v)") }
        struct Key: Hashable {
            var index: Int
            var price: Int64
        }
        var sums: [Key: (shares: Int64, orders: Int32)] = [:]
        for s in 0...table.mask {
            let o = table.slots[s]  // Safe: s <= mask.
            guard o.reference != 0 else { continue }
            guard Int(o.instrument) < maxInstruments, o.side <= 1 else {
                out.append("order \(o.reference): instrument \(o.instrument) or side \(o.side) out of range")
                continue
            }
            // A zero-share order displays nothing, so no level need exist for it.
            guard o.shares > 0 else { continue }
            let key = Key(index: _index(o.instrument, o.side == 0 ? .buy : .sell), price: o.price)
            let c = sums[key] ?? (0, 0)
            sums[key] = (c.shares + Int64(o.shares), c.orders + 1)
        }
        var sound = [Bool](repeating: true, count: maxInstruments * 2)
        for i in 0..<maxInstruments * 2 {
            let side = sides[i]  // Safe: i < maxInstruments * 2.
            let name = "instrument \(i / 2) \(i & 1 == 0 ? "bid" : "ask")"
            let broken = side._violations()
            for v in broken { out.append("\(name): \(v)") }
            sound[i] = broken.isEmpty
            guard sound[i] else {
                // Its levels cannot be read; its orders are not compared with them.
                sums = sums.filter { $0.key.index != i }
                continue
            }
            guard !levelAddressed else { continue }
            var c = side.levels()
            while let v = side.next(&c) {
                guard let want = sums.removeValue(forKey: Key(index: i, price: v.price)) else {
                    out.append("\(name): level \(v.price) (\(v.shares) shares) has no resting order")
                    continue
                }
                if want.shares != v.shares || want.orders != v.orders {
                    out.append(
                        "\(name): level \(v.price) shows \(v.shares) shares in \(v.orders) orders, its orders hold \(want.shares) in \(want.orders)"
                    )
                }
            }
        }
        for (key, want) in sums.sorted(by: { ($0.key.index, $0.key.price) < ($1.key.index, $1.key.price) })
        where !levelAddressed {
            out.append(
                "instrument \(key.index / 2) \(key.index & 1 == 0 ? "bid" : "ask"): \(want.orders) orders rest at \(key.price) (\(want.shares) shares) but no level shows them"
            )
        }
        for inst in 0..<maxInstruments where sound[2 * inst] && sound[2 * inst + 1] {
            let t = top(instrument: UInt32(inst))
            let bid = level(instrument: UInt32(inst), side: .buy, depth: 0) ?? TopOfBook.empty.bid
            let ask = level(instrument: UInt32(inst), side: .sell, depth: 0) ?? TopOfBook.empty.ask
            if t.bid != bid || t.ask != ask {
                out.append("instrument \(inst): top of book \(t) is not the best levels \(bid) / \(ask)")
            }
        }
        return out
    }

    /// Stops the process with the first broken invariant (see `_invariantViolations`) in builds with
    /// TICKBUS_INVARIANTS; does nothing in other builds.
    @inlinable @inline(__always)
    public func _checkInvariants(levelAddressed: Bool = false) {
        #if TICKBUS_INVARIANTS
        _checkAll(levelAddressed: levelAddressed)
        #endif
    }

    /// After one mutation, in builds with TICKBUS_INVARIANTS: the side it changed keeps its
    /// invariants, and `order` (0: none), if still live, rests on a level of its price that shows at
    /// least its shares. O(window + levels of that side). Compiles to nothing elsewhere.
    @inlinable @inline(__always)
    func _checkAfterChange(_ side: Int, order: UInt64) {
        #if TICKBUS_INVARIANTS
        _checkChange(side, order: order)
        #endif
    }

    #if TICKBUS_INVARIANTS
    @usableFromInline @inline(never)
    func _checkAll(levelAddressed: Bool) {
        let v = _invariantViolations(levelAddressed: levelAddressed)
        precondition(v.isEmpty, "OrderBooks invariant broken: \(v.prefix(5).joined(separator: "; "))")
    }

    @usableFromInline @inline(never)
    func _checkChange(_ i: Int, order reference: UInt64) {
        let side = sides[i]  // Safe: callers pass _index of an instrument in range.
        let broken = side._violations()
        precondition(
            broken.isEmpty,
            "OrderBooks invariant broken: instrument \(i / 2) \(broken.joined(separator: "; "))"
        )
        guard reference != 0, let slot = table.find(reference) else { return }
        let o = table.slots[slot]  // Safe: find returns an index <= mask.
        guard o.shares > 0 else { return }
        let lv = side._level(price: o.price)
        precondition(
            lv.map { $0.shares >= Int64(o.shares) } ?? false,
            "OrderBooks invariant broken: order \(reference) rests at \(o.price) with \(o.shares) shares, its level is \(String(describing: lv))"
        )
    }
    #endif
}
