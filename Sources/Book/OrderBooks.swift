import TickBusCore

#if canImport(Glibc)
import Glibc
#endif

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
    @inlinable @inline(__always) public func top(instrument: UInt32) -> TopOfBook {
        guard Int(instrument) < maxInstruments else { return .empty }
        return TopOfBook(bid: sides[_index(instrument, .buy)].best, ask: sides[_index(instrument, .sell)].best)
    }

    /// The order with this reference, if live.
    @inlinable public func order(_ reference: UInt64) -> (instrument: UInt32, side: Side, price: Int64, shares: UInt32)?
    {
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
        guard Int(instrument) < maxInstruments, orderId != 0 else {
            rejected &+= 1
            return false
        }
        guard
            table.insert(
                _Order(
                    reference: orderId,
                    price: price,
                    shares: shares,
                    instrument: instrument,
                    side: side == .buy ? 0 : 1
                )
            )
        else {
            rejected &+= 1
            return false
        }
        let changed = sides[_index(instrument, side)].change(price: price, shares: Int64(shares), orders: 1)
        _checkAfterChange(_index(instrument, side), order: orderId)
        return changed
    }

    /// Removes `shares` from an order (execute or partial cancel); the order leaves the book at zero.
    /// Returns the order's state after the change and whether the top of its side changed; nil when unknown.
    @inlinable
    public func reduce(orderId: UInt64, shares: UInt32) -> (info: OrderInfo, topChanged: Bool)? {
        guard let slot = table.find(orderId) else {
            unknownReferences &+= 1
            return nil
        }
        let o = table.slots[slot]  // Safe: slot < capacity.
        let cut = min(shares, o.shares)
        let left = o.shares - cut
        let bid = o.side == 0
        let changed: Bool
        if left == 0 {
            table.remove(at: slot)
            changed = sides[_index(o.instrument, bid ? .buy : .sell)].change(
                price: o.price,
                shares: -Int64(cut),
                orders: -1
            )
        } else {
            table.slots[slot].shares = left  // Safe: slot < capacity.
            changed = sides[_index(o.instrument, bid ? .buy : .sell)].change(
                price: o.price,
                shares: -Int64(cut),
                orders: 0
            )
        }
        _checkAfterChange(_index(o.instrument, bid ? .buy : .sell), order: orderId)
        return (OrderInfo(instrument: o.instrument, side: bid ? .buy : .sell, price: o.price, remaining: left), changed)
    }

    /// Deletes an order. Returns what it was (remaining = its shares before) and whether the top changed.
    @inlinable
    public func delete(orderId: UInt64) -> (info: OrderInfo, topChanged: Bool)? {
        guard let slot = table.find(orderId) else {
            unknownReferences &+= 1
            return nil
        }
        let o = table.slots[slot]  // Safe: slot < capacity.
        table.remove(at: slot)
        let bid = o.side == 0
        let changed = sides[_index(o.instrument, bid ? .buy : .sell)].change(
            price: o.price,
            shares: -Int64(o.shares),
            orders: -1
        )
        _checkAfterChange(_index(o.instrument, bid ? .buy : .sell), order: 0)
        return (
            OrderInfo(instrument: o.instrument, side: bid ? .buy : .sell, price: o.price, remaining: o.shares), changed
        )
    }

    /// Replaces an order with a new reference, price and size, same instrument and side (ITCH U).
    @inlinable
    public func replace(
        oldOrderId: UInt64,
        newOrderId: UInt64,
        price: Int64,
        shares: UInt32
    ) -> (info: OrderInfo, topChanged: Bool)? {
        guard let gone = delete(orderId: oldOrderId) else { return nil }
        let added = add(
            instrument: gone.info.instrument,
            orderId: newOrderId,
            side: gone.info.side,
            price: price,
            shares: shares
        )
        return (
            OrderInfo(instrument: gone.info.instrument, side: gone.info.side, price: price, remaining: shares),
            gone.topChanged || added
        )
    }

    // MARK: Level-addressed events

    /// Changes a level directly (LOBSTER and snapshots): `shares` and `orders` are signed deltas;
    /// the level is removed when its shares reach zero or below. Returns whether the top changed.
    @inlinable @discardableResult
    public func changeLevel(instrument: UInt32, side: Side, price: Int64, shares: Int64, orders: Int32) -> Bool {
        guard Int(instrument) < maxInstruments else {
            rejected &+= 1
            return false
        }
        let changed = sides[_index(instrument, side)].change(price: price, shares: shares, orders: orders)
        _checkAfterChange(_index(instrument, side), order: 0)
        return changed
    }

    /// Removes the worst levels of a side until at most `keep` remain; returns the levels removed
    /// (worst first) through `body`.
    @inlinable
    public func truncate(instrument: UInt32, side: Side, keep: Int, _ body: (PriceLevel) -> Void) {
        guard Int(instrument) < maxInstruments else { return }
        sides[_index(instrument, side)].dropWorst(keep: keep, body)
        _checkAfterChange(_index(instrument, side), order: 0)
    }

    // MARK: Rebuilding from the ring

    /// Applies one market message read from the ring (add, execute, cancel, delete, replace; other
    /// kinds are ignored). Level-addressed messages (`MarketFlags.levelAddressed`) change the level at
    /// their price and side. Returns whether the best bid or ask of the instrument changed.
    @inlinable
    public func apply(_ view: MarketMessageView) -> Bool {
        guard let kind = view.kind else { return false }
        if view.flags & MarketFlags.levelAddressed != 0 {
            guard let side = view.side else {
                rejected &+= 1
                return false
            }
            let q = Int64(view.quantity)
            switch kind {
            case .add:
                return changeLevel(instrument: view.instrument, side: side, price: view.price, shares: q, orders: 1)
            case .execute, .cancel:
                return changeLevel(instrument: view.instrument, side: side, price: view.price, shares: -q, orders: 0)
            case .delete:
                return changeLevel(instrument: view.instrument, side: side, price: view.price, shares: -q, orders: -1)
            default: return false
            }
        }
        switch kind {
        case .add:
            guard let side = view.side else {
                rejected &+= 1
                return false
            }
            return add(
                instrument: view.instrument,
                orderId: view.orderId,
                side: side,
                price: view.price,
                shares: view.quantity
            )
        case .execute, .cancel:
            return reduce(orderId: view.orderId, shares: view.quantity)?.topChanged ?? false
        case .delete:
            return delete(orderId: view.orderId)?.topChanged ?? false
        case .replace:
            return replace(
                oldOrderId: view.oldOrderId,
                newOrderId: view.newOrderId,
                price: view.replacePrice,
                shares: view.replaceQuantity
            )?.topChanged ?? false
        default:
            return false
        }
    }

    /// The top-of-book ring message for an instrument (sizes saturate at UInt32.max).
    @inlinable
    public func topMessage(instrument: UInt32, exchangeTime: Int64) -> MarketMessage {
        let t = top(instrument: instrument)
        return .topOfBook(
            instrument: instrument,
            exchangeTime: exchangeTime,
            bidPrice: t.bid.price,
            bidSize: UInt32(clamping: t.bid.shares),
            bidOrders: UInt32(clamping: t.bid.orders),
            askPrice: t.ask.price,
            askSize: UInt32(clamping: t.ask.shares),
            askOrders: UInt32(clamping: t.ask.orders)
        )
    }

    @inlinable func _index(_ instrument: UInt32, _ side: Side) -> Int {
        Int(instrument) &* 2 &+ (side == .buy ? 0 : 1)
    }
}
