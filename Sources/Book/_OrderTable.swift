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
