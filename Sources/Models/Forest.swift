#if canImport(Glibc)
import Glibc
#endif

/// One node of a compiled LightGBM tree, 16 bytes. Leaves are nodes that loop to themselves with
/// threshold +inf, reading feature slot 0 (variant None of feature 0, which is never NaN, so
/// `x <= +inf` always holds), which lets a walk run a fixed number of steps without asking
/// "is this a leaf?".
@usableFromInline
struct _Node {
    /// Numerical: the threshold. Categorical: the index into `catBoundaries`.
    @usableFromInline var threshold: Double
    /// Numerical: index into the expanded input (variant * features + feature).
    /// Categorical: `_Node.categorical | raw feature index`.
    @usableFromInline var feature: UInt32
    @usableFromInline var left: UInt16
    @usableFromInline var right: UInt16
    @usableFromInline static let categorical: UInt32 = 0x8000_0000
    @inlinable init(threshold: Double, feature: UInt32, left: UInt16, right: UInt16) {
        self.threshold = threshold
        self.feature = feature
        self.left = left
        self.right = right
    }
}

/// Scratch memory an evaluator writes on each call, allocated once at load.
/// Invariant: `pointer` holds `count` (at least 1) initialised elements for the object's lifetime.
/// Copies of a model share their scratch, so one model value is evaluated by one thread at a time.
@usableFromInline
final class _Scratch<T: BitwiseCopyable>: @unchecked Sendable {
    @usableFromInline let pointer: UnsafeMutablePointer<T>
    @usableFromInline let count: Int
    init(count: Int, value: T) {
        self.count = max(count, 1)
        pointer = .allocate(capacity: self.count)
        pointer.initialize(repeating: value, count: self.count)
    }
    deinit { pointer.deallocate() }
}

/// How LightGBM turns the raw score into the `predict` output.
public enum LightGBMTransform: Equatable, Sendable {
    case identity
    case sigmoid(Double)
    case softmax
    case sigmoidEach(Double)  // multiclassova
    case exp  // poisson, gamma, tweedie
    case squareSigned  // regression with sqrt
    case log1pExp  // cross_entropy_lambda
}

/// (A final class, so that a `Model` enum holds one reference and evaluating through it copies no arrays.)
/// A LightGBM model compiled into flat arrays: nodes of all trees back to back, leaf values
/// beside them, evaluated by walking 8 trees at once without data-dependent branches.
///
/// Exactness: each tree's leaf value is written to `treeOut[tree]` and summed per class in
/// LightGBM's tree order in double, so the raw score equals LightGBM's bit for bit.
public final class LightGBMModel {
    public let numFeatures: Int
    public let numOutputs: Int
    public let featureNames: [String]
    public let transform: LightGBMTransform
    public let averageOutput: Bool
    public let numTrees: Int
    public let hasCategorical: Bool
    @usableFromInline let treesPerIteration: Int
    @usableFromInline let nodes: [_Node]
    @usableFromInline let values: [Double]
    @usableFromInline let treeBase: [Int32]
    /// Steps needed for each group of 8 trees (the deepest leaf in the group).
    @usableFromInline let groupDepth: [UInt8]
    @usableFromInline let catBoundaries: [Int32]
    @usableFromInline let catBits: [UInt32]
    @usableFromInline let expanded: _Scratch<Double>
    @usableFromInline let treeOut: _Scratch<Double>
    /// The binned 16-wide walk (numerical models); nil for models with categorical splits.
    @usableFromInline let binned: _BinnedForest?
    @usableFromInline let hasBinned: Bool

    @usableFromInline static let group = 8

    /// LightGBM's kZeroThreshold (1e-35f): smaller magnitudes are zero (and dropped as sparse).
    @usableFromInline static let zeroThreshold = Double(Float(1e-35))

    init(
        numFeatures: Int,
        numOutputs: Int,
        featureNames: [String],
        transform: LightGBMTransform,
        averageOutput: Bool,
        treesPerIteration: Int,
        nodes: [_Node],
        values: [Double],
        treeBase: [Int32],
        treeDepth: [Int],
        catBoundaries: [Int32],
        catBits: [UInt32],
        hasCategorical: Bool,
        options: LightGBMOptions = .default
    ) {
        self.numFeatures = numFeatures
        self.numOutputs = numOutputs
        self.featureNames = featureNames
        self.transform = transform
        self.averageOutput = averageOutput
        self.treesPerIteration = treesPerIteration
        self.nodes = nodes
        self.values = values
        self.treeBase = treeBase
        self.numTrees = treeDepth.count
        var gd: [UInt8] = []
        var t = 0
        while t < treeDepth.count {
            gd.append(UInt8(treeDepth[t..<min(t + Self.group, treeDepth.count)].max() ?? 0))
            t += Self.group
        }
        self.groupDepth = gd
        self.catBoundaries = catBoundaries
        self.catBits = catBits
        self.hasCategorical = hasCategorical
        self.expanded = _Scratch(count: 5 * numFeatures, value: 0)
        self.treeOut = _Scratch(count: gd.count * Self.group + 1, value: 0)
        self.binned =
            hasCategorical
            ? nil
            : _BinnedForest(
                features: numFeatures,
                nodes: nodes,
                values: values,
                treeBase: treeBase,
                treeDepth: treeDepth,
                padIndex: treeBase.count > treeDepth.count ? treeBase[treeDepth.count] : Int32(nodes.count - 1),
                options: options
            )
        self.hasBinned = binned != nil
    }

    /// Raw scores (one per class; for `average_output` the sum, as LightGBM's raw score) into `out[0..<numOutputs]`. `x` holds `numFeatures` values, NaN = missing.
    /// Allocates nothing.
    @inlinable
    public func predictRaw(_ x: UnsafePointer<Double>, into out: UnsafeMutablePointer<Double>) {
        let f = numFeatures
        let hasCat = hasCategorical
        if hasBinned {
            // Optional chaining borrows the stored forest; `if let` would copy it (a retain per array).
            binned?.walk(x, out: treeOut.pointer)
        } else {
            // Safe: expanded has 5 * numFeatures elements.
            let xe = expanded.pointer
            for i in 0..<f {
                var v = x[i]
                if v.magnitude <= Self.zeroThreshold { v = 0 }  // LightGBM drops |v| <= 1e-35 as zero
                let isNaN = v.isNaN
                let v0 = isNaN ? 0 : v
                let isZero = v0 == 0
                // "Go left" is `xe <= threshold`; thresholds may be ±inf (LightGBM writes `inf`), so a
                // missing value that must go right becomes NaN (NaN <= t is false for every t) and one
                // that must go left becomes -inf (-inf <= t holds for every t, -inf included).
                xe[i] = v0  // missing type None: NaN -> 0
                xe[f + i] = isZero ? -.infinity : v0  // Zero, default left
                xe[2 * f + i] = isZero ? .nan : v0  // Zero, default right
                xe[3 * f + i] = isNaN ? -.infinity : v  // NaN, default left
                xe[4 * f + i] = v  // NaN, default right (NaN stays NaN)
            }
            nodes.withUnsafeBufferPointer { nb in
                values.withUnsafeBufferPointer { vb in
                    treeBase.withUnsafeBufferPointer { tb in
                        // Safe: treeBase has one entry per tree plus padding to a multiple of 8
                        // (padding trees point at a self-looping zero leaf); nodes/values are indexed
                        // by base + local index < base + node count of that tree; treeOut has a slot per padded tree.
                        if hasCat {
                            walkCategorical(
                                xe: xe,
                                x: x,
                                nodes: nb.baseAddress!,
                                values: vb.baseAddress!,
                                bases: tb.baseAddress!,
                                out: treeOut.pointer
                            )
                        } else {
                            walk8(
                                xe: xe,
                                nodes: nb.baseAddress!,
                                values: vb.baseAddress!,
                                bases: tb.baseAddress!,
                                out: treeOut.pointer
                            )
                        }
                    }
                }
            }
        }
        let k = numOutputs
        let ob = treeOut.pointer
        let n = numTrees
        if k == 1 {
            // A local accumulator: summing through `out` would store and reload it for every tree.
            var sum = 0.0
            for t in 0..<n { sum += ob[t] }
            out[0] = sum
        } else {
            for c in 0..<k {
                var sum = 0.0
                var t = c
                while t < n {
                    sum += ob[t]
                    t += k
                }
                out[c] = sum
            }
        }
    }

    @inlinable @inline(__always)
    func step(_ xe: UnsafePointer<Double>, _ nodes: UnsafePointer<_Node>, _ base: Int, _ c: inout Int) {
        let n = nodes[base + c]
        // A select, not a branch: the input is different on every call, so a branch would mispredict half the time.
        let l = Int(n.left)
        let r = Int(n.right)
        let goLeft = xe[Int(n.feature)] <= n.threshold
        c = goLeft ? l : r
    }

    @inlinable
    func walk8(
        xe: UnsafePointer<Double>,
        nodes: UnsafePointer<_Node>,
        values: UnsafePointer<Double>,
        bases: UnsafePointer<Int32>,
        out: UnsafeMutablePointer<Double>
    ) {
        groupDepth.withUnsafeBufferPointer { gd in
            for g in 0..<gd.count {
                let t = g * 8
                let b0 = Int(bases[t])
                let b1 = Int(bases[t + 1])
                let b2 = Int(bases[t + 2])
                let b3 = Int(bases[t + 3])
                let b4 = Int(bases[t + 4])
                let b5 = Int(bases[t + 5])
                let b6 = Int(bases[t + 6])
                let b7 = Int(bases[t + 7])
                var c0 = 0
                var c1 = 0
                var c2 = 0
                var c3 = 0
                var c4 = 0
                var c5 = 0
                var c6 = 0
                var c7 = 0
                var d = Int(gd[g])
                while d > 0 {
                    step(xe, nodes, b0, &c0)
                    step(xe, nodes, b1, &c1)
                    step(xe, nodes, b2, &c2)
                    step(xe, nodes, b3, &c3)
                    step(xe, nodes, b4, &c4)
                    step(xe, nodes, b5, &c5)
                    step(xe, nodes, b6, &c6)
                    step(xe, nodes, b7, &c7)
                    d -= 1
                }
                out[t] = values[b0 + c0]
                out[t + 1] = values[b1 + c1]
                out[t + 2] = values[b2 + c2]
                out[t + 3] = values[b3 + c3]
                out[t + 4] = values[b4 + c4]
                out[t + 5] = values[b5 + c5]
                out[t + 6] = values[b6 + c6]
                out[t + 7] = values[b7 + c7]
            }
        }
    }

    /// The walk for models with categorical splits: one tree at a time, categorical nodes tested
    /// against their bitset exactly as LightGBM's `CategoricalDecision`.
    @inlinable
    func walkCategorical(
        xe: UnsafePointer<Double>,
        x: UnsafePointer<Double>,
        nodes: UnsafePointer<_Node>,
        values: UnsafePointer<Double>,
        bases: UnsafePointer<Int32>,
        out: UnsafeMutablePointer<Double>
    ) {
        groupDepth.withUnsafeBufferPointer { gd in
            catBoundaries.withUnsafeBufferPointer { cb in
                catBits.withUnsafeBufferPointer { bits in
                    for g in 0..<gd.count {
                        let depth = Int(gd[g])
                        for t in g * 8..<g * 8 + 8 {
                            let base = Int(bases[t])
                            var c = 0
                            for _ in 0..<depth {
                                let n = nodes[base + c]
                                var goLeft: Bool
                                if n.feature & _Node.categorical != 0 {
                                    var v = x[Int(n.feature & ~_Node.categorical)]
                                    if v.magnitude <= Self.zeroThreshold { v = 0 }
                                    goLeft = false
                                    // NaN and negative categories go right; C's int cast truncates toward zero.
                                    if !v.isNaN, v > -2_147_483_649.0, v < 2_147_483_648.0 {
                                        let cat = Int32(v)
                                        if cat >= 0 {
                                            let ci = Int(n.threshold)
                                            let lo = Int(cb[ci])
                                            let hi = Int(cb[ci + 1])
                                            let word = Int(cat) / 32
                                            if word < hi - lo {
                                                goLeft = (bits[lo + word] >> UInt32(cat % 32)) & 1 != 0
                                            }
                                        }
                                    }
                                } else {
                                    goLeft = xe[Int(n.feature)] <= n.threshold
                                }
                                c = goLeft ? Int(n.left) : Int(n.right)
                            }
                            out[t] = values[base + c]
                        }
                    }
                }
            }
        }
    }

    /// `predict`'s output (probabilities for binary and multiclass) into `out[0..<numOutputs]`.
    @inlinable
    public func predict(_ x: UnsafePointer<Double>, into out: UnsafeMutablePointer<Double>) {
        predictRaw(x, into: out)
        let k = numOutputs
        // LightGBM's raw score of a random forest is the sum; `predict` averages before the transform.
        if averageOutput {
            let iterations = Double(numTrees / k)
            for c in 0..<k { out[c] /= iterations }
        }
        switch transform {
        case .identity: break
        case .sigmoid(let s): for c in 0..<k { out[c] = 1.0 / (1.0 + exp(-s * out[c])) }
        case .sigmoidEach(let s): for c in 0..<k { out[c] = 1.0 / (1.0 + exp(-s * out[c])) }
        case .exp: for c in 0..<k { out[c] = exp(out[c]) }
        case .squareSigned: for c in 0..<k { out[c] = (out[c] < 0 ? -1 : 1) * out[c] * out[c] }
        case .log1pExp: for c in 0..<k { out[c] = log(1.0 + exp(out[c])) }
        case .softmax:
            var m = out[0]
            for c in 1..<k { m = max(out[c], m) }
            var sum = 0.0
            for c in 0..<k {
                out[c] = exp(out[c] - m)
                sum += out[c]
            }
            for c in 0..<k { out[c] /= sum }
        }
    }
}
