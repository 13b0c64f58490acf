/// A growable buffer of trivial values (plain stored integers and enums: never deinitialised). Invariant: `base` points at `capacity` initialised `T`s;
/// it is released exactly once, by its owner's deinit (`release()`).
@usableFromInline
struct _Buffer<T> {
    @usableFromInline var base: UnsafeMutablePointer<T>
    @usableFromInline var capacity: Int

    init(capacity: Int, fill: T) {
        self.capacity = max(1, capacity)
        base = .allocate(capacity: self.capacity)
        base.initialize(repeating: fill, count: self.capacity)
    }

    /// Doubles until at least `needed`; new elements are `fill`. Allocates (warm-up only), out of
    /// line so the per-message functions hold no allocation (`Tools/hot-path-check`).
    @inline(never)
    mutating func grow(to needed: Int, fill: T) {
        var c = capacity
        while c < needed { c &*= 2 }
        guard c > capacity else { return }
        let b = UnsafeMutablePointer<T>.allocate(capacity: c)
        b.initialize(from: base, count: capacity)
        (b + capacity).initialize(repeating: fill, count: c - capacity)
        base.deallocate()
        base = b
        capacity = c
    }

    func release() { base.deallocate() }

    @inlinable subscript(_ i: Int32) -> T {
        // Safe: callers pass indices their tables handed out, all < capacity.
        get { base[Int(i)] }
        nonmutating _modify { yield &base[Int(i)] }
    }
}

/// An open-addressing map from a non-zero 64-bit key to an `Int32` (linear probing, backward-shift
/// deletion, no tombstones), key and value side by side so a probe touches one cache line.
/// Invariant: `slots` holds `mask + 1` entries (a power of two) and `count <= (mask + 1) / 2`
/// after every insert, so a probe always ends at an empty key (0).
@usableFromInline
struct _Index {
    @usableFromInline struct Slot {
        @usableFromInline var key: UInt64
        @usableFromInline var value: Int32
    }
    @usableFromInline var slots: UnsafeMutablePointer<Slot>
    @usableFromInline var mask: Int
    @usableFromInline var count = 0

    init(capacity: Int) {
        var c = 16
        while c < capacity * 2 { c <<= 1 }
        slots = .allocate(capacity: c)
        slots.initialize(repeating: Slot(key: 0, value: -1), count: c)
        mask = c - 1
    }

    func release() { slots.deallocate() }

    @inlinable func home(_ key: UInt64) -> Int {
        // Fibonacci hashing: level keys differ in their low price bits, order ids are sequential.
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 20) & mask
    }

    @inlinable func find(_ key: UInt64) -> Int32? {
        guard key != 0 else { return nil }
        var i = home(key)
        while true {
            let k = slots[i].key  // Safe: i <= mask.
            if k == key { return slots[i].value }  // Safe: i <= mask.
            if k == 0 { return nil }
            i = (i &+ 1) & mask
        }
    }

    /// Inserts or overwrites. `key` must not be 0. Returns the value it replaced, if any.
    @discardableResult
    mutating func insert(_ key: UInt64, _ value: Int32) -> Int32? {
        if (count &+ 1) &* 2 > mask &+ 1 { rehash() }
        var i = home(key)
        while true {
            let k = slots[i].key  // Safe: i <= mask.
            if k == key {
                let old = slots[i].value  // Safe: i <= mask.
                slots[i].value = value  // Safe: i <= mask.
                return old
            }
            if k == 0 { break }
            i = (i &+ 1) & mask
        }
        slots[i] = Slot(key: key, value: value)  // Safe: i <= mask.
        count &+= 1
        return nil
    }

    mutating func remove(_ key: UInt64) {
        guard key != 0 else { return }
        var hole = home(key)
        while true {
            let k = slots[hole].key  // Safe: hole <= mask.
            if k == key { break }
            if k == 0 { return }
            hole = (hole &+ 1) & mask
        }
        var j = hole
        while true {
            j = (j &+ 1) & mask
            let k = slots[j].key  // Safe: j <= mask.
            if k == 0 { break }
            let h = home(k)
            // Move j into the hole unless its home is cyclically in (hole, j].
            let inRange = hole <= j ? (h > hole && h <= j) : (h > hole || h <= j)
            if !inRange {
                slots[hole] = slots[j]  // Safe: both <= mask.
                hole = j
            }
        }
        slots[hole] = Slot(key: 0, value: -1)  // Safe: hole <= mask.
        count &-= 1
    }

    @inline(never)
    mutating func rehash() {
        let old = slots
        let oldCount = mask + 1
        let c = oldCount * 2
        slots = .allocate(capacity: c)
        slots.initialize(repeating: Slot(key: 0, value: -1), count: c)
        mask = c - 1
        count = 0
        for k in 0..<oldCount where old[k].key != 0 { insert(old[k].key, old[k].value) }
        old.deallocate()
    }
}
