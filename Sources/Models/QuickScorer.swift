/// QuickScorer (Lucchese et al., SIGIR 2015) over binned inputs, for numerical LightGBM forests
/// whose trees have at most 64 leaves.
///
/// Each tree keeps a 64-bit set of candidate exit leaves (bit i = the i-th leaf from the left).
/// A node whose test is false (the row goes right) rules out the leaves of its left subtree: its
/// mask clears them. The exit leaf of a tree is the leftmost leaf that survives all false nodes.
/// Nodes are listed per input slot (feature × missing-value variant) sorted by threshold rank, and
/// for a row the false nodes of a slot are exactly a prefix of its list (rank < bin), so the row
/// touches only those: a sequential scan with one predictable branch per node, no tree walking,
/// no data-dependent jumps. Exact: the same comparisons as LightGBM's decisions, leaf values summed
/// in tree order.
@usableFromInline
struct _QuickScorer {
    @usableFromInline let slotList: [Int32]  // non-empty slots
    @usableFromInline let slotStart: [Int32]  // per listed slot: start of its entries (+ end)
    @usableFromInline let rank: [UInt16]
    @usableFromInline let tree: [UInt32]
    @usableFromInline let mask: [UInt64]
    @usableFromInline let leafValue: [Double]  // tree * 64 + in-order leaf position
    @usableFromInline let trees: Int
    @usableFromInline let leafSets: _Scratch<UInt64>

    /// nil when a tree has more than 64 leaves.
    init?(features f: Int, binnedNodes: [UInt64], values: [Double], treeBase: [Int32], trees: Int) {
        var perSlot = [[(rank: UInt16, tree: UInt32, mask: UInt64)]](repeating: [], count: 5 * f)
        var leafValue = [Double](repeating: 0, count: trees * 64)
        for t in 0..<trees {
            let base = Int(treeBase[t])
            // In-order traversal: leaves get positions left to right; each internal node's left
            // subtree covers a contiguous range of positions.
            var position = 0
            var entries: [(slot: Int, rank: UInt16, lo: Int, hi: Int)] = []
            func visit(_ i: Int, depth: Int) -> (Int, Int)? {
                if depth > 64 { return nil }
                let w = binnedNodes[i]
                let l = Int(Int16(truncatingIfNeeded: w >> 32))
                let r = Int(Int16(truncatingIfNeeded: w >> 48))
                if l == 0 && r == 0 {  // leaf
                    guard position < 64 else { return nil }
                    leafValue[t * 64 + position] = values[i]
                    position += 1
                    return (position - 1, position)
                }
                guard let (lo, mid) = visit(i + l, depth: depth + 1), let (_, hi) = visit(i + r, depth: depth + 1)
                else { return nil }
                entries.append((Int(w & 0xFFFF), UInt16(truncatingIfNeeded: w >> 16), lo, mid))
                return (lo, hi)
            }
            guard visit(base, depth: 0) != nil else { return nil }
            for e in entries {
                var m = UInt64.max
                for p in e.lo..<e.hi { m &= ~(UInt64(1) << UInt64(p)) }
                perSlot[e.slot].append((e.rank, UInt32(t), m))
            }
        }
        var slotList: [Int32] = []
        var slotStart: [Int32] = [0]
        var rank: [UInt16] = []
        var tree: [UInt32] = []
        var mask: [UInt64] = []
        for (s, list) in perSlot.enumerated() where !list.isEmpty {
            // Stable by rank; within a rank, tree order (any order gives the same AND).
            for e in list.enumerated().sorted(by: { ($0.element.rank, $0.offset) < ($1.element.rank, $1.offset) }).map(
                \.element
            ) {
                rank.append(e.rank)
                tree.append(e.tree)
                mask.append(e.mask)
            }
            slotList.append(Int32(s))
            slotStart.append(Int32(rank.count))
        }
        self.slotList = slotList
        self.slotStart = slotStart
        self.rank = rank
        self.tree = tree
        self.mask = mask
        self.leafValue = leafValue
        self.trees = trees
        self.leafSets = _Scratch(count: trees, value: .max)
    }

    /// Writes each tree's exit-leaf value to `out[tree]`; `bins` holds the binned row (5 slots per feature).
    @inlinable
    func score(bins: UnsafePointer<UInt16>, out: UnsafeMutablePointer<Double>) {
        let sets = leafSets.pointer
        sets.update(repeating: .max, count: trees)
        slotList.withUnsafeBufferPointer { slots in
            slotStart.withUnsafeBufferPointer { starts in
                rank.withUnsafeBufferPointer { rk in
                    tree.withUnsafeBufferPointer { tr in
                        mask.withUnsafeBufferPointer { mk in
                            // Safe: starts has slots.count + 1 offsets into rank/tree/mask; tree ids < trees.
                            for k in 0..<slots.count {
                                let b = bins[Int(slots[k])]
                                var i = Int(starts[k])
                                let end = Int(starts[k + 1])
                                while i < end && rk[i] < b {
                                    sets[Int(tr[i])] &= mk[i]
                                    i &+= 1
                                }
                            }
                        }
                    }
                }
            }
        }
        leafValue.withUnsafeBufferPointer { lv in
            for t in 0..<trees { out[t] = lv[t &* 64 &+ sets[t].trailingZeroBitCount] }
        }
    }
}
