import Book
import TickBusCore

// The rules of Docs/EXECUTION.md, one function each where possible. Side index: 0 buy, 1 sell.

extension ExecutionSimulator {
    @usableFromInline
    func _market(_ m: MarketMessageView, _ books: OrderBooks) {
        let t = m.exchangeTime
        // Rule 1: an action arriving at ta is processed after every message with time <= ta.
        while pendingCount != 0 && pending.base[pendingHead].arrival < t { _arriveNext(books) }
        let inst = m.instrument
        guard let kind = m.kind, Int(inst) < maxInstruments else {
            lastSequence = m.sequence
            return
        }
        let ip = insts.base + Int(inst)  // Safe: inst < maxInstruments.
        ip.pointee.seen = true
        if watchAll { ip.pointee.watched = true }
        if ip.pointee.watched {
            switch kind {
            case .add: _add(m, inst, books)
            case .execute: _execute(m, inst, books)
            case .cancel: _reduce(m, inst, books, leaves: false)
            case .delete:
                // Rule 5: a level pushed below a LOBSTER file's depth keeps the queue as it was.
                if m.flags & MarketFlags.truncate == 0 {
                    _reduce(m, inst, books, leaves: true)
                } else {
                    _truncate(m, inst)
                }
            case .replace: _replace(m, inst, books)
            case .gap: gaps &+= 1
            default: break  // trades (non-displayed, cross) never fill own orders; tops, status
            }
        } else if kind == .gap {
            gaps &+= 1
        }
        lastSequence = m.sequence
    }

    @usableFromInline
    func _finish(_ books: OrderBooks) {
        while pendingCount != 0 { _arriveNext(books) }
    }

    @usableFromInline
    func _advance(to time: Int64, _ books: OrderBooks) {
        while pendingCount != 0 && pending.base[pendingHead].arrival <= time { _arriveNext(books) }
    }

    // MARK: Keys and small helpers

    @inlinable static func levelKey(_ inst: UInt32, _ side: Int, _ price: Int64) -> UInt64 {
        // Tracked prices are positive and below 2^32 (own prices are checked at arrival).
        1 << 63 | UInt64(inst) << 33 | UInt64(side) << 32 | UInt64(UInt32(truncatingIfNeeded: price))
    }

    @inlinable static func sideIndex(_ s: Side?) -> Int? {
        switch s {
        case .buy?: return 0
        case .sell?: return 1
        case nil: return nil
        }
    }

    /// Whether own price `own` on side `side` is better than `price`.
    @inlinable static func better(_ own: Int64, than price: Int64, side: Int) -> Bool {
        side == 0 ? own > price : own < price
    }

    func emit(_ o: _Out) {
        if outCount == out.capacity { out.grow(to: outCount + 1, fill: .none) }
        out.base[outCount] = o
        outCount &+= 1
    }

    func event(
        _ id: UInt64,
        _ inst: UInt32,
        _ time: Int64,
        _ kind: OrderEventKind,
        _ reason: OrderRejectReason,
        fee: Double = 0,
        quantity: UInt32 = 0
    ) {
        emit(
            .event(
                OrderEvent(
                    orderId: id,
                    instrument: inst,
                    time: time,
                    kind: kind,
                    reason: reason,
                    fee: fee,
                    quantity: quantity
                )
            )
        )
    }

    /// The displayed shares at (side, price) in the book, 0 when there is no such level.
    func bookShares(_ books: OrderBooks, _ inst: UInt32, _ side: Int, _ price: Int64) -> Int64 {
        let s: Side = side == 0 ? .buy : .sell
        var d = 0
        while let lv = books.level(instrument: inst, side: s, depth: d) {
            if lv.price == price { return lv.shares }
            if ExecutionSimulator.better(price, than: lv.price, side: side) { return 0 }
            d &+= 1
        }
        return 0
    }

    // MARK: Levels and tracked real orders

    func findLevel(_ key: UInt64) -> Int32? { levelIndex.find(key) }

    func makeLevel(_ key: UInt64) -> Int32 {
        if let l = levelIndex.find(key) { return l }
        if levelFree < 0 && Int(levelUsed) == levels.capacity { sweepIdleLevels() }
        var l = levelFree
        if l >= 0 {
            levelFree = levels[l].head
        } else {
            if Int(levelUsed) == levels.capacity { levels.grow(to: Int(levelUsed) + 1, fill: _Level()) }
            l = levelUsed
            levelUsed &+= 1
        }
        levels[l] = _Level()
        levels[l].key = key
        levelIndex.insert(key, l)
        return l
    }

    /// Levels are kept when they fall idle (a price comes back soon, and removing and re-inserting
    /// it per order would cost two hash updates); when the table is full, the idle ones are freed
    /// in one sweep before it grows, so it holds at most twice the levels ever in use at once.
    func sweepIdleLevels() {
        var freed = 0
        for i in 0..<Int(levelUsed) {
            let lv = levels.base[i]
            guard lv.key != 0, lv.count == 0 && lv.ownCount == 0 && lv.takenUnknown == 0 else { continue }
            levelIndex.remove(lv.key)
            levels.base[i] = _Level()
            levels.base[i].head = levelFree
            levelFree = Int32(i)
            freed += 1
        }
        // Mostly busy: grow instead of sweeping again soon.
        if freed * 4 < Int(levelUsed) {
            levels.grow(to: Int(levelUsed) * 2, fill: _Level())
        }
    }

    /// A level nothing refers to any more stays until the next sweep (see `sweepIdleLevels`).
    @inline(__always) func releaseLevelIfIdle(_ l: Int32) {}

    func track(id: UInt64, inst: UInt32, side: Int, price: Int64, quantity: UInt32, taken: UInt32) {
        guard id != 0, price > 0, price < 1 << 32 else { return }
        let l = makeLevel(ExecutionSimulator.levelKey(inst, side, price))
        var r = realFree
        if r >= 0 {
            realFree = reals[r].next
        } else {
            if Int(realUsed) == reals.capacity { reals.grow(to: Int(realUsed) + 1, fill: _Real()) }
            r = realUsed
            realUsed &+= 1
        }
        var node = _Real()
        node.id = id
        node.price = price
        node.stamp = clock
        node.remaining = quantity
        node.taken = taken
        node.level = l
        node.prev = levels[l].tail
        reals[r] = node
        if node.prev >= 0 { reals[node.prev].next = r } else { levels[l].head = r }
        levels[l].tail = r
        levels[l].count &+= 1
        levels[l].knownShares &+= Int64(quantity)
        // An id seen again while still tracked (a source that reuses ids, a replayed day): the
        // old order is gone — forget it, else it would stay in its level forever.
        if let old = realIndex.insert(id, r) { untrack(old, keepIndex: true) }
    }

    func untrack(_ r: Int32, keepLevel: Bool = false, keepIndex: Bool = false) {
        let node = reals[r]
        let l = node.level
        if node.prev >= 0 { reals[node.prev].next = node.next } else { levels[l].head = node.next }
        if node.next >= 0 { reals[node.next].prev = node.prev } else { levels[l].tail = node.prev }
        levels[l].count &-= 1
        levels[l].knownShares &-= Int64(node.remaining)
        if !keepIndex { realIndex.remove(node.id) }
        reals[r] = _Real()
        reals[r].next = realFree
        realFree = r
        if !keepLevel { releaseLevelIfIdle(l) }
    }

    /// Removes `q` shares from a tracked real order; it leaves the book at zero (or when `leaves`).
    func reduceTracked(_ r: Int32, _ q: UInt32, leaves: Bool) {
        let cut = min(q, reals[r].remaining)
        reals[r].remaining &-= cut
        levels[reals[r].level].knownShares &-= Int64(cut)
        if leaves || reals[r].remaining == 0 { untrack(r) }
    }

    /// After shares of orders never seen added left a level: taken liquidity is remembered at most
    /// up to what such orders still show (it stays with the ones that remain: the pessimistic choice).
    func clampUnknown(_ l: Int32, _ books: OrderBooks, _ inst: UInt32, _ side: Int, _ price: Int64, leaving q: Int64) {
        guard levels[l].takenUnknown > 0 else { return }
        let unknown = max(0, bookShares(books, inst, side, price) - q - levels[l].knownShares)
        levels[l].takenUnknown = min(levels[l].takenUnknown, unknown)
        releaseLevelIfIdle(l)
    }

    // MARK: Own orders

    func makerFill(_ o: Int32, _ q: UInt32, _ m: MarketMessageView) {
        let own = owns[o]
        let left = own.remaining - q
        owns[o].remaining = left
        emit(
            .fill(
                Fill(
                    orderId: own.id,
                    instrument: own.instrument,
                    side: own.side == 0 ? .buy : .sell,
                    time: m.exchangeTime,
                    marketSequence: m.sequence,
                    price: own.price,
                    quantity: q,
                    liquidity: .maker,
                    fee: fees.makerPerShare * Double(q),
                    remaining: left
                )
            )
        )
        if left == 0 { removeOwn(o) }
    }

    func removeOwn(_ o: Int32) {
        let own = owns[o]
        let l = own.level
        if own.lprev >= 0 { owns[own.lprev].lnext = own.lnext } else { levels[l].ownHead = own.lnext }
        if own.lnext >= 0 { owns[own.lnext].lprev = own.lprev } else { levels[l].ownTail = own.lprev }
        levels[l].ownCount &-= 1
        let ip = insts.base + Int(own.instrument)  // Safe: own instruments were checked at arrival.
        if own.sprev >= 0 {
            owns[own.sprev].snext = own.snext
        } else if own.side == 0 {
            ip.pointee.heads.0 = own.snext
        } else {
            ip.pointee.heads.1 = own.snext
        }
        if own.snext >= 0 { owns[own.snext].sprev = own.sprev }
        ownIndex.remove(own.id &+ 1)
        owns[o] = _Own()
        owns[o].lnext = ownFree
        ownFree = o
        restingCount &-= 1
        releaseLevelIfIdle(l)
    }

    @inlinable func head(_ inst: UInt32, _ side: Int) -> Int32 {
        let h = insts.base[Int(inst)].heads  // Safe: callers checked inst < maxInstruments.
        return side == 0 ? h.0 : h.1
    }

    // MARK: Market events (rule 4)

    /// Real adds: a crossing add fills own orders on the other side (its quantity shared in
    /// priority and counted as taken), then the order is tracked behind every own order resting.
    func _add(_ m: MarketMessageView, _ inst: UInt32, _ books: OrderBooks) {
        guard let side = ExecutionSimulator.sideIndex(m.side) else { return }
        // Seed and refill adds are liquidity the file already had, never new orders (rule 5).
        if m.flags & (MarketFlags.seed | MarketFlags.refill) != 0 { return }
        let price = m.price
        let q = m.quantity
        clock &+= 1
        let taken = crossFill(m, inst, otherSide: 1 - side, price: price, quantity: q)
        track(id: m.orderId, inst: inst, side: side, price: price, quantity: q, taken: taken)
    }

    /// Fills own orders on `otherSide` that a real order added at `price` crosses; returns the
    /// shares filled (rule 4, crossing adds).
    func crossFill(_ m: MarketMessageView, _ inst: UInt32, otherSide: Int, price: Int64, quantity: UInt32) -> UInt32 {
        var left = quantity
        var o = head(inst, otherSide)
        // An own buy at p is crossed by a real sell at <= p; an own sell at p by a real buy at >= p.
        while o >= 0 && left > 0 {
            let own = owns[o]
            let crosses = otherSide == 0 ? own.price >= price : own.price <= price
            guard crosses else { break }
            let next = own.snext
            let q = min(left, own.remaining)
            left &-= q
            makerFill(o, q, m)
            o = next
        }
        return quantity - left
    }

    /// Executions: trade-through fills own orders at better prices first, then at the order's level
    /// an order behind fills, an order ahead depletes the queue (every own order it was ahead of).
    func _execute(_ m: MarketMessageView, _ inst: UInt32, _ books: OrderBooks) {
        guard let side = ExecutionSimulator.sideIndex(m.side) else { return }
        let q = m.quantity
        let r = realIndex.find(m.orderId)
        let price: Int64
        if let r {
            price = reals[r].price
        } else if m.flags & MarketFlags.executionPrice != 0, let o = books.order(m.orderId) {
            price = o.price  // ITCH C: the message carries the execution price, the queue is the order's
        } else {
            price = m.price
        }
        let stamp: UInt64? = r.map { reals[$0].stamp }
        var left = q
        // Trade-through: own orders strictly better than the executed order's price.
        var o = head(inst, side)
        while o >= 0 && left > 0 {
            let own = owns[o]
            guard ExecutionSimulator.better(own.price, than: price, side: side) else { break }
            let next = own.snext
            let f = min(left, own.remaining)
            left &-= f
            makerFill(o, f, m)
            o = next
        }
        if let l = r.map({ reals[$0].level }) ?? findLevel(ExecutionSimulator.levelKey(inst, side, price)) {
            var o = levels[l].ownHead
            while o >= 0 {
                let next = owns[o].lnext
                if let stamp, stamp > owns[o].stamp {
                    // Behind this own order: the exchange would have filled the own order first.
                    owns[o].ahead = 0
                    if left > 0 {
                        let f = min(left, owns[o].remaining)
                        left &-= f
                        makerFill(o, f, m)
                    }
                } else {
                    owns[o].ahead = max(0, owns[o].ahead - Int64(q))
                }
                o = next
            }
            if r == nil { clampUnknown(l, books, inst, side, price, leaving: Int64(q)) }
        }
        if let r { reduceTracked(r, q, leaves: false) }
    }

    /// Cancels and deletes: an order ahead depletes the queue of every own order it was ahead of.
    func _reduce(_ m: MarketMessageView, _ inst: UInt32, _ books: OrderBooks, leaves: Bool) {
        guard let side = ExecutionSimulator.sideIndex(m.side) else { return }
        let r = realIndex.find(m.orderId)
        let price = r.map { reals[$0].price } ?? m.price
        deplete(
            inst,
            side,
            price,
            stamp: r.map { reals[$0].stamp },
            Int64(m.quantity),
            books,
            unknown: r == nil,
            level: r.map { reals[$0].level }
        )
        if let r { reduceTracked(r, m.quantity, leaves: leaves) }
    }

    func deplete(
        _ inst: UInt32,
        _ side: Int,
        _ price: Int64,
        stamp: UInt64?,
        _ q: Int64,
        _ books: OrderBooks,
        unknown: Bool,
        level: Int32? = nil
    ) {
        guard let l = level ?? findLevel(ExecutionSimulator.levelKey(inst, side, price)) else { return }
        var o = levels[l].ownHead
        while o >= 0 {
            if stamp == nil || stamp! <= owns[o].stamp { owns[o].ahead = max(0, owns[o].ahead - q) }
            o = owns[o].lnext
        }
        if unknown { clampUnknown(l, books, inst, side, price, leaving: q) }
    }

    /// A level pushed below a LOBSTER file's depth: the file says nothing more about its orders (a
    /// cancel down there is never written), so they are forgotten — else they would pile up for the
    /// whole day. Own orders there keep their `ahead` (rule 5); orders seen there again count as ahead.
    func _truncate(_ m: MarketMessageView, _ inst: UInt32) {
        guard let side = ExecutionSimulator.sideIndex(m.side),
            let l = findLevel(ExecutionSimulator.levelKey(inst, side, m.price))
        else { return }
        levels[l].takenUnknown = 0
        var r = levels[l].head
        while r >= 0 {
            let next = reals[r].next
            untrack(r, keepLevel: true)
            r = next
        }
        releaseLevelIfIdle(l)
    }

    /// A replace is the old order leaving and a new order added (it loses its place, rule 5).
    func _replace(_ m: MarketMessageView, _ inst: UInt32, _ books: OrderBooks) {
        guard let side = ExecutionSimulator.sideIndex(m.replaceSide) else { return }
        let old = m.oldOrderId
        if let r = realIndex.find(old) {
            let node = reals[r]
            deplete(
                inst,
                side,
                node.price,
                stamp: node.stamp,
                Int64(node.remaining),
                books,
                unknown: false,
                level: node.level
            )
            untrack(r)
        } else if let o = books.order(old) {
            deplete(inst, side, o.price, stamp: nil, Int64(o.shares), books, unknown: true)
        }
        clock &+= 1
        let price = m.replacePrice
        let q = m.replaceQuantity
        let taken = crossFill(m, inst, otherSide: 1 - side, price: price, quantity: q)
        track(id: m.newOrderId, inst: inst, side: side, price: price, quantity: q, taken: taken)
    }

    // MARK: Own actions (rules 2, 3, 6)

    func _growPending() {
        // Unroll the ring into a buffer twice the size (warm-up only).
        let c = pending.capacity
        let bigger = _Buffer<_Pending>(capacity: c * 2, fill: _Pending())
        for k in 0..<pendingCount { bigger.base[k] = pending.base[(pendingHead + k) & (c - 1)] }
        pending.release()
        pending = bigger
        pendingHead = 0
    }

    func _arriveNext(_ books: OrderBooks) {
        let p = pending.base[pendingHead]
        pendingHead = (pendingHead &+ 1) & (pending.capacity - 1)
        pendingCount &-= 1
        switch p.action.kind {
        case .new: arriveNew(p.action, at: p.arrival, books)
        case .cancel: arriveCancel(p.action, at: p.arrival)
        }
    }

    func arriveCancel(_ a: OwnAction, at t: Int64) {
        guard let o = ownIndex.find(a.orderId &+ 1) else {
            event(a.orderId, a.instrument, t, .cancelRejected, .tooLate)
            return
        }
        let own = owns[o]
        event(own.id, own.instrument, t, .cancelled, .cancelRequested, quantity: own.remaining)
        removeOwn(o)
    }

    func arriveNew(_ a: OwnAction, at t: Int64, _ books: OrderBooks) {
        let inst = a.instrument
        guard Int(inst) < maxInstruments, insts.base[Int(inst)].seen else {
            event(a.orderId, inst, t, .reject, .unknownInstrument)
            return
        }
        guard a.orderId != .max else { return event(a.orderId, inst, t, .reject, .badId) }
        guard a.quantity > 0 else { return event(a.orderId, inst, t, .reject, .zeroQuantity) }
        guard TickGrid.isValid(a.price), a.price < 1 << 32 else { return event(a.orderId, inst, t, .reject, .badPrice) }
        guard ownIndex.find(a.orderId &+ 1) == nil else { return event(a.orderId, inst, t, .reject, .duplicateId) }
        guard restingCount < maxOrders else { return event(a.orderId, inst, t, .reject, .capacity) }
        event(a.orderId, inst, t, .ack, .none, fee: fees.perOrder)
        insts.base[Int(inst)].watched = true
        let side = a.side == .buy ? 0 : 1
        var left = take(a, side: side, at: t, books)
        guard left > 0 else { return }
        if a.tif == .ioc {
            event(a.orderId, inst, t, .cancelled, .ioc, quantity: left)
            return
        }
        rest(a, side: side, remaining: &left, books)
    }

    /// Rule 2: a crossing order takes the available liquidity level by level (time order within a
    /// level: orders never seen added first, then in add order) and remembers what it took.
    func take(_ a: OwnAction, side: Int, at t: Int64, _ books: OrderBooks) -> UInt32 {
        var left = a.quantity
        let other = 1 - side
        let otherSide: Side = other == 0 ? .buy : .sell
        var d = 0
        while left > 0, let lv = books.level(instrument: a.instrument, side: otherSide, depth: d) {
            let crosses = side == 0 ? lv.price <= a.price : lv.price >= a.price
            guard crosses, lv.shares > 0 else { break }
            d &+= 1
            let key = ExecutionSimulator.levelKey(a.instrument, other, lv.price)
            let existing = findLevel(key)
            var got: UInt32 = 0
            let known = existing.map { levels[$0].knownShares } ?? 0
            let unknown = max(0, lv.shares - known)
            let takenUnknown = min(existing.map { levels[$0].takenUnknown } ?? 0, unknown)
            let fromUnknown = UInt32(clamping: min(Int64(left), unknown - takenUnknown))
            if fromUnknown > 0 {
                let l = existing ?? makeLevel(key)
                levels[l].takenUnknown = takenUnknown + Int64(fromUnknown)
                got &+= fromUnknown
                left &-= fromUnknown
            } else if let l = existing {
                levels[l].takenUnknown = takenUnknown
            }
            if let l = existing ?? findLevel(key) {
                var r = levels[l].head
                while r >= 0 && left > 0 {
                    let node = reals[r]
                    let avail = node.remaining > node.taken ? node.remaining - node.taken : 0
                    let f = min(avail, left)
                    reals[r].taken &+= f
                    got &+= f
                    left &-= f
                    r = node.next
                }
            }
            guard got > 0 else { continue }
            emit(
                .fill(
                    Fill(
                        orderId: a.orderId,
                        instrument: a.instrument,
                        side: a.side,
                        time: t,
                        marketSequence: lastSequence,
                        price: lv.price,
                        quantity: got,
                        liquidity: .taker,
                        fee: fees.takerPerShare * Double(got),
                        remaining: left
                    )
                )
            )
        }
        return left
    }

    /// Rule 3: the rest of a DAY order rests behind the displayed shares at its price.
    func rest(_ a: OwnAction, side: Int, remaining: inout UInt32, _ books: OrderBooks) {
        let o = ownFree
        ownFree = owns[o].lnext
        let l = makeLevel(ExecutionSimulator.levelKey(a.instrument, side, a.price))
        var own = _Own()
        own.id = a.orderId
        own.price = a.price
        own.ahead = bookShares(books, a.instrument, side, a.price)
        own.stamp = clock
        own.instrument = a.instrument
        own.remaining = remaining
        own.side = UInt8(side)
        own.level = l
        own.lprev = levels[l].ownTail
        owns[o] = own
        if own.lprev >= 0 { owns[own.lprev].lnext = o } else { levels[l].ownHead = o }
        levels[l].ownTail = o
        levels[l].ownCount &+= 1
        // On the side list: after every own order at a better or equal price.
        var prev: Int32 = -1
        var cur = head(a.instrument, side)
        while cur >= 0 && !ExecutionSimulator.better(a.price, than: owns[cur].price, side: side) {
            prev = cur
            cur = owns[cur].snext
        }
        owns[o].sprev = prev
        owns[o].snext = cur
        if cur >= 0 { owns[cur].sprev = o }
        if prev >= 0 {
            owns[prev].snext = o
        } else if side == 0 {
            insts.base[Int(a.instrument)].heads.0 = o
        } else {
            insts.base[Int(a.instrument)].heads.1 = o
        }
        ownIndex.insert(a.orderId &+ 1, o)
        restingCount &+= 1
    }
}
