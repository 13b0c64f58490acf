/// An 8-byte node of the binned walk, packed in one word so one load brings everything:
/// bits 0-15 input slot (variant * features + feature), 16-31 rank of the node's threshold among
/// its feature's thresholds, 32-47 and 48-63 the left and right child as signed offsets from this
/// node. Leaves loop to themselves (offsets 0) with rank 0xFFFF. Walk positions are absolute node
/// indices, so a walk needs one register.
@inlinable @inline(__always)
func _binNode(slot: UInt16, rank: UInt16, left: Int, right: Int) -> UInt64 {
    UInt64(slot) | UInt64(rank) << 16 | UInt64(UInt16(bitPattern: Int16(left))) << 32 | UInt64(UInt16(bitPattern: Int16(right))) << 48
}

/// How a numerical LightGBM forest is evaluated (all choices give the same, exact result).
public struct LightGBMOptions: Sendable, Equatable {
    /// Trees walked together: 8 or 16 (8 measured faster on x86-64: 16 walks spill registers).
    public var width: Int = 8
    /// Branch-free steps before each unfinished walk completes on its own. Tuned on the 500-tree,
    /// 63-leaf bench model, whose rows reach a leaf after ~6.5 nodes on average (deepest 24).
    public var fixedSteps: Int = 12
    /// QuickScorer (bitvectors over threshold-sorted node lists) instead of the walk.
    public var quickScorer: Bool = false
    public init(width: Int = 8, fixedSteps: Int = 12, quickScorer: Bool = false) {
        self.width = width
        self.fixedSteps = fixedSteps
        self.quickScorer = quickScorer
    }
    public static let `default` = LightGBMOptions()
}

/// The fast form of a numerical LightGBM forest, exact by construction.
///
/// For each feature, the distinct thresholds of all its nodes are sorted: T₀ < T₁ < … . For a
/// value x, its bin is lowerBound(x) = the first k with T_k ≥ x, and `x <= T_j ⟺ bin <= j`. So
/// each row is binned once (one branch-free binary search per feature), missing values get the
/// bin that sends them the node's default way (0: always left, 0xFFFF: always right), and every
/// node is an integer comparison on 8 bytes: the whole 500-tree model is ~500 KB (it stays in L2)
/// instead of ~1 MB of 16-byte double nodes. Trees are walked 8 (or 16) at a time, grouped by depth so a
/// group's step count wastes little, and each tree's leaf is written to its own slot for the
/// in-order double sum: equal to LightGBM bit for bit.
@usableFromInline
struct _BinnedForest {
    @usableFromInline let features: Int
    @usableFromInline let thresholds: [Double]        // per feature, sorted distinct, back to back
    @usableFromInline let thresholdStart: [Int32]     // features + 1 offsets into `thresholds`
    @usableFromInline let binOfZero: [UInt16]          // lowerBound(0) per feature
    @usableFromInline let nodes: [UInt64]
    @usableFromInline let values: [Double]
    @usableFromInline let groupBase: [Int32]           // per walk slot: node base of the tree in that slot
    @usableFromInline let groupTree: [Int32]           // per walk slot: the tree's index (its output slot)
    @usableFromInline let groupDepth: [UInt8]
    @usableFromInline let bins: _Scratch<UInt16>
    /// QuickScorer over the same bins (trees of at most 64 leaves), built when the options ask for it.
    @usableFromInline let quickScorer: _QuickScorer?
    @usableFromInline let groupWidth: Int
    @usableFromInline let useQuickScorer: Bool
    @usableFromInline let fixedSteps: Int

    /// Builds the binned form from the double nodes, or nil when a feature has ≥ 65535 thresholds.
    init?(features f: Int, nodes dn: [_Node], values: [Double], treeBase: [Int32], treeDepth: [Int], padIndex: Int32,
          options: LightGBMOptions) {
        // First: node words address 5 × features input slots in 16 bits (`UInt16(n.feature)` below
        // would trap on a wider model, which then keeps the double walk).
        guard 5 * f <= Int(UInt16.max) else { return nil }
        var perFeature = [[Double]](repeating: [], count: f)
        for n in dn where n.threshold != .infinity || n.left != n.right {
            perFeature[Int(n.feature) % f].append(n.threshold)
        }
        var thresholds: [Double] = [], starts: [Int32] = [0], zero: [UInt16] = []
        var rankOf: [[Double: UInt16]] = []
        for var t in perFeature {
            t.sort()
            var u: [Double] = []
            for v in t where u.last != v { u.append(v) }
            if u.count >= 0xFFFF { return nil }
            var map: [Double: UInt16] = [:]
            for (k, v) in u.enumerated() { map[v] = UInt16(k) }
            rankOf.append(map)
            zero.append(UInt16(u.firstIndex { $0 >= 0 } ?? u.count))
            thresholds.append(contentsOf: u)
            starts.append(Int32(thresholds.count))
        }
        // Absolute index of each node's tree base, to turn local children into offsets.
        var baseOf = [Int](repeating: 0, count: dn.count)
        let sortedBases = Array(Set(treeBase.map(Int.init))).sorted()
        for (k, b) in sortedBases.enumerated() {
            let end = k + 1 < sortedBases.count ? sortedBases[k + 1] : dn.count
            for i in b..<end { baseOf[i] = b }
        }
        var nodes: [UInt64] = []
        nodes.reserveCapacity(dn.count)
        for (i, n) in dn.enumerated() {
            if n.left == n.right && n.threshold == .infinity {  // leaf (self loop) or the padding leaf
                nodes.append(_binNode(slot: 0, rank: 0xFFFF, left: 0, right: 0))
            } else {
                let feature = Int(n.feature) % f
                let l = baseOf[i] + Int(n.left) - i, r = baseOf[i] + Int(n.right) - i
                guard abs(l) < 32767, abs(r) < 32767 else { return nil }
                nodes.append(_binNode(slot: UInt16(n.feature), rank: rankOf[feature][n.threshold]!, left: l, right: r))
            }
        }
        // Group trees of similar depth; padding slots point at the zero leaf and write a scratch slot.
        let trees = treeDepth.count
        let width = options.width == 16 ? 16 : 8
        let order = (0..<trees).sorted { (treeDepth[$0], $0) < (treeDepth[$1], $1) }
        var gb: [Int32] = [], gt: [Int32] = [], gd: [UInt8] = []
        var k = 0
        while k < trees {
            let group = order[k..<min(k + width, trees)]
            for t in group { gb.append(treeBase[t]); gt.append(Int32(t)) }
            for _ in group.count..<width { gb.append(padIndex); gt.append(Int32(trees)) }
            gd.append(UInt8(min(group.map { treeDepth[$0] }.max() ?? 0, 255)))
            k += width
        }
        self.groupWidth = width
        self.fixedSteps = max(0, options.fixedSteps)
        self.features = f
        self.thresholds = thresholds
        self.thresholdStart = starts
        self.binOfZero = zero
        self.nodes = nodes
        self.values = values
        self.groupBase = gb
        self.groupTree = gt
        self.groupDepth = gd
        self.bins = _Scratch(count: 5 * f, value: 0)
        let qs = options.quickScorer
            ? _QuickScorer(features: f, binnedNodes: nodes, values: values, treeBase: treeBase, trees: trees) : nil
        self.quickScorer = qs
        self.useQuickScorer = qs != nil
    }

    /// Writes each tree's leaf value to `out[tree]` (`out` has a slot per tree plus one scratch slot).
    @inlinable
    func walk(_ x: UnsafePointer<Double>, out: UnsafeMutablePointer<Double>) {
        let f = features
        let b = bins.pointer
        thresholds.withUnsafeBufferPointer { tb in
            thresholdStart.withUnsafeBufferPointer { sb in
                binOfZero.withUnsafeBufferPointer { zb in
                    // Safe: thresholdStart has f + 1 increasing offsets into thresholds; bins has 5f slots.
                    for i in 0..<f {
                        var v = x[i]
                        if v.magnitude <= LightGBMModel.zeroThreshold { v = 0 }
                        let isNaN = v.isNaN
                        let isZero = v == 0 || isNaN
                        let lo = Int(sb[i]), n = Int(sb[i + 1]) - lo
                        var bin = 0
                        if n > 0 {
                            // Branch-free lower bound: the loop count depends only on n.
                            var base = tb.baseAddress! + lo
                            var len = n
                            while len > 1 {
                                let half = len >> 1
                                base = base[half - 1] < v ? base + half : base
                                len -= half
                            }
                            bin = (base - (tb.baseAddress! + lo)) + (base[0] < v ? 1 : 0)
                        }
                        let l = isNaN ? zb[i] : UInt16(bin)
                        b[i] = l                                   // None: NaN is 0
                        b[f + i] = isZero ? 0 : l                  // Zero, default left
                        b[2 * f + i] = isZero ? 0xFFFF : l         // Zero, default right
                        b[3 * f + i] = isNaN ? 0 : l               // NaN, default left
                        b[4 * f + i] = isNaN ? 0xFFFF : l          // NaN, default right
                    }
                }
            }
        }
        if useQuickScorer {  // set only when quickScorer was built; `?.` borrows it instead of copying
            quickScorer?.score(bins: UnsafePointer(b), out: out)
            return
        }
        nodes.withUnsafeBufferPointer { nb in
            values.withUnsafeBufferPointer { vb in
                groupBase.withUnsafeBufferPointer { gbb in
                    groupTree.withUnsafeBufferPointer { gtb in
                        groupDepth.withUnsafeBufferPointer { gdb in
                            // Safe: every slot's base + local index stays inside its tree's nodes (leaves loop).
                            if groupWidth == 8 {
                                walkGroups8(b, nb.baseAddress!, vb.baseAddress!, gbb.baseAddress!, gtb.baseAddress!, gdb, out)
                            } else {
                                walkGroups(b, nb.baseAddress!, vb.baseAddress!, gbb.baseAddress!, gtb.baseAddress!, gdb, out)
                            }
                        }
                    }
                }
            }
        }
    }

    @inlinable @inline(__always)
    func step(_ bins: UnsafePointer<UInt16>, _ nodes: UnsafePointer<UInt64>, _ c: inout Int) {
        let w = nodes[c]
        let goLeft = bins[Int(truncatingIfNeeded: w & 0xFFFF)] <= UInt16(truncatingIfNeeded: w >> 16)
        // Both children came with the same load: a select, then one add.
        let delta = goLeft ? Int16(truncatingIfNeeded: w >> 32) : Int16(truncatingIfNeeded: w >> 48)
        c &+= Int(delta)
    }

    /// Continues one walk until its leaf (rank 0xFFFF marks a leaf).
    @inlinable @inline(__always)
    func finish(_ bins: UnsafePointer<UInt16>, _ nodes: UnsafePointer<UInt64>, _ c: inout Int) {
        while (nodes[c] >> 16) & 0xFFFF != 0xFFFF { step(bins, nodes, &c) }
    }

    @inlinable
    func walkGroups(_ bins: UnsafeMutablePointer<UInt16>, _ nodes: UnsafePointer<UInt64>, _ values: UnsafePointer<Double>,
                    _ bases: UnsafePointer<Int32>, _ trees: UnsafePointer<Int32>, _ depth: UnsafeBufferPointer<UInt8>,
                    _ out: UnsafeMutablePointer<Double>) {
        let bins = UnsafePointer(bins)
        let fixed = fixedSteps
        for g in 0..<depth.count {
            let s = g &* 16
            var c0 = Int(bases[s]), c1 = Int(bases[s + 1]), c2 = Int(bases[s + 2]), c3 = Int(bases[s + 3])
            var c4 = Int(bases[s + 4]), c5 = Int(bases[s + 5]), c6 = Int(bases[s + 6]), c7 = Int(bases[s + 7])
            var c8 = Int(bases[s + 8]), c9 = Int(bases[s + 9]), c10 = Int(bases[s + 10]), c11 = Int(bases[s + 11])
            var c12 = Int(bases[s + 12]), c13 = Int(bases[s + 13]), c14 = Int(bases[s + 14]), c15 = Int(bases[s + 15])
            // Fixed phase: every tree of the group steps `fixedSteps` times without a branch; most
            // rows reach a leaf of most trees by then (leaves loop on themselves). The few walks still
            // inside a tree finish one by one below.
            var d = min(Int(depth[g]), fixed)
            while d > 0 {
                step(bins, nodes, &c0); step(bins, nodes, &c1); step(bins, nodes, &c2); step(bins, nodes, &c3)
                step(bins, nodes, &c4); step(bins, nodes, &c5); step(bins, nodes, &c6); step(bins, nodes, &c7)
                step(bins, nodes, &c8); step(bins, nodes, &c9); step(bins, nodes, &c10); step(bins, nodes, &c11)
                step(bins, nodes, &c12); step(bins, nodes, &c13); step(bins, nodes, &c14); step(bins, nodes, &c15)
                d &-= 1
            }
            if Int(depth[g]) > fixed {
                finish(bins, nodes, &c0); finish(bins, nodes, &c1); finish(bins, nodes, &c2); finish(bins, nodes, &c3)
                finish(bins, nodes, &c4); finish(bins, nodes, &c5); finish(bins, nodes, &c6); finish(bins, nodes, &c7)
                finish(bins, nodes, &c8); finish(bins, nodes, &c9); finish(bins, nodes, &c10); finish(bins, nodes, &c11)
                finish(bins, nodes, &c12); finish(bins, nodes, &c13); finish(bins, nodes, &c14); finish(bins, nodes, &c15)
            }
            out[Int(trees[s])] = values[c0]; out[Int(trees[s + 1])] = values[c1]
            out[Int(trees[s + 2])] = values[c2]; out[Int(trees[s + 3])] = values[c3]
            out[Int(trees[s + 4])] = values[c4]; out[Int(trees[s + 5])] = values[c5]
            out[Int(trees[s + 6])] = values[c6]; out[Int(trees[s + 7])] = values[c7]
            out[Int(trees[s + 8])] = values[c8]; out[Int(trees[s + 9])] = values[c9]
            out[Int(trees[s + 10])] = values[c10]; out[Int(trees[s + 11])] = values[c11]
            out[Int(trees[s + 12])] = values[c12]; out[Int(trees[s + 13])] = values[c13]
            out[Int(trees[s + 14])] = values[c14]; out[Int(trees[s + 15])] = values[c15]
        }
    }

    @inlinable
    func walkGroups8(_ bins: UnsafeMutablePointer<UInt16>, _ nodes: UnsafePointer<UInt64>, _ values: UnsafePointer<Double>,
                     _ bases: UnsafePointer<Int32>, _ trees: UnsafePointer<Int32>, _ depth: UnsafeBufferPointer<UInt8>,
                     _ out: UnsafeMutablePointer<Double>) {
        let bins = UnsafePointer(bins)
        let fixed = fixedSteps
        for g in 0..<depth.count {
            let s = g &* 8
            var c0 = Int(bases[s]), c1 = Int(bases[s + 1]), c2 = Int(bases[s + 2]), c3 = Int(bases[s + 3])
            var c4 = Int(bases[s + 4]), c5 = Int(bases[s + 5]), c6 = Int(bases[s + 6]), c7 = Int(bases[s + 7])
            var d = min(Int(depth[g]), fixed)
            while d > 0 {
                step(bins, nodes, &c0); step(bins, nodes, &c1); step(bins, nodes, &c2); step(bins, nodes, &c3)
                step(bins, nodes, &c4); step(bins, nodes, &c5); step(bins, nodes, &c6); step(bins, nodes, &c7)
                d &-= 1
            }
            if Int(depth[g]) > fixed {
                finish(bins, nodes, &c0); finish(bins, nodes, &c1); finish(bins, nodes, &c2); finish(bins, nodes, &c3)
                finish(bins, nodes, &c4); finish(bins, nodes, &c5); finish(bins, nodes, &c6); finish(bins, nodes, &c7)
            }
            out[Int(trees[s])] = values[c0]; out[Int(trees[s + 1])] = values[c1]
            out[Int(trees[s + 2])] = values[c2]; out[Int(trees[s + 3])] = values[c3]
            out[Int(trees[s + 4])] = values[c4]; out[Int(trees[s + 5])] = values[c5]
            out[Int(trees[s + 6])] = values[c6]; out[Int(trees[s + 7])] = values[c7]
        }
    }
}
