extension _OrderTable {
    /// Reports every way the table breaks its invariant: a power-of-two capacity at most half full,
    /// `count` equal to the live slots, and every live order reachable by a probe from its home slot
    /// (no empty slot between its home and where it sits, so `find` returns that slot). O(capacity).
    func _violations() -> [String] {
        var out: [String] = []
        let capacity = mask &+ 1
        if capacity < 16 || capacity & mask != 0 {
            out.append("capacity \(capacity) is not a power of two of at least 16")
        }
        var live = 0
        for i in 0...mask where slots[i].reference != 0 {  // Safe: i <= mask.
            live &+= 1
            let r = slots[i].reference  // Safe: i <= mask.
            if find(r) != i { out.append("order \(r) in slot \(i) is not found from its home slot \(home(r))") }
        }
        if live != count { out.append("\(live) live slots, count says \(count)") }
        if count &* 2 > capacity { out.append("\(count) orders in \(capacity) slots: more than half full") }
        return out
    }
}
