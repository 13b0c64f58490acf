#if canImport(Glibc)
import Glibc
#endif

/// A node of a compiled XGBoost tree. Leaves have `left == -1` and their value in `value`.
@usableFromInline
struct _XNode {
    /// Split condition (go left when `x < value`) or, for a leaf, the leaf value.
    @usableFromInline var value: Float
    /// Feature index; bit 31 set when missing values go left.
    @usableFromInline var feature: UInt32
    @usableFromInline var left: Int32
    @usableFromInline var right: Int32
    @usableFromInline static let defaultLeft: UInt32 = 0x8000_0000
}

/// XGBoost's output transform.
public enum XGBoostObjective: String, Sendable {
    case squaredError = "reg:squarederror"
    case logistic = "binary:logistic"
    case logitRaw = "binary:logitraw"
    case regLogistic = "reg:logistic"
    case softprob = "multi:softprob"
    case softmax = "multi:softmax"
}

/// An XGBoost gbtree model compiled into one flat node array. Arithmetic is float32 as in
/// XGBoost's CPU predictor: inputs are rounded to float, `x < split` goes left, NaN follows the
/// default direction, and each class's margin starts at the base margin and adds leaves in tree order.
public final class XGBoostModel {
    public let numFeatures: Int
    public let numOutputs: Int
    public let featureNames: [String]
    public let objective: XGBoostObjective
    /// Base margin per output (after `base_score`'s transform, e.g. logit for binary:logistic).
    public let baseMargin: [Float]
    @usableFromInline let nodes: [_XNode]
    @usableFromInline let treeRoot: [Int32]
    @usableFromInline let treeClass: [Int32]
    @usableFromInline let margins: _Scratch<Float>

    init(numFeatures: Int, numOutputs: Int, featureNames: [String], objective: XGBoostObjective, baseMargin: [Float], nodes: [_XNode],
         treeRoot: [Int32], treeClass: [Int32], margins: _Scratch<Float>) {
        self.numFeatures = numFeatures
        self.numOutputs = numOutputs
        self.featureNames = featureNames
        self.objective = objective
        self.baseMargin = baseMargin
        self.nodes = nodes
        self.treeRoot = treeRoot
        self.treeClass = treeClass
        self.margins = margins
    }

    /// Raw margins into `out[0..<numOutputs]` (what `predict(output_margin=True)` gives).
    @inlinable
    public func predictRaw(_ x: UnsafePointer<Double>, into out: UnsafeMutablePointer<Double>) {
        let k = numOutputs
        do {
            let m = margins.pointer
            for c in 0..<k { m[c] = baseMargin[c] }
            nodes.withUnsafeBufferPointer { nb in
                treeRoot.withUnsafeBufferPointer { roots in
                    treeClass.withUnsafeBufferPointer { classes in
                        for t in 0..<roots.count {
                            var n = Int(roots[t])
                            while true {
                                let node = nb[n]
                                if node.left < 0 { break }
                                let v = Float(x[Int(node.feature & ~_XNode.defaultLeft)])
                                if v.isNaN {
                                    n = Int(node.feature & _XNode.defaultLeft != 0 ? node.left : node.right)
                                } else {
                                    n = Int(v < node.value ? node.left : node.right)
                                }
                            }
                            m[Int(classes[t])] += nb[n].value
                        }
                    }
                }
            }
            for c in 0..<k { out[c] = Double(m[c]) }
        }
    }

    /// `predict`'s output: probabilities for binary:logistic and multi:softprob.
    @inlinable
    public func predict(_ x: UnsafePointer<Double>, into out: UnsafeMutablePointer<Double>) {
        predictRaw(x, into: out)
        let k = numOutputs
        switch objective {
        case .squaredError, .logitRaw: break
        case .logistic, .regLogistic:
            for c in 0..<k { out[c] = Double(1.0 as Float / (1.0 as Float + expf(-Float(out[c])))) }
        case .softprob:
            var m = Float(out[0])
            for c in 1..<k { m = max(m, Float(out[c])) }
            var sum: Float = 0
            for c in 0..<k { let e = expf(Float(out[c]) - m); out[c] = Double(e); sum += e }
            for c in 0..<k { out[c] = Double(Float(out[c]) / sum) }
        case .softmax:
            var best = 0
            for c in 1..<k where out[c] > out[best] { best = c }
            out[0] = Double(best)
        }
    }
}

public enum XGBoostJSON {
    static let format = "XGBoost"

    public static func detect(_ json: JSONValue) -> Bool { json["learner"] != nil }

    public static func load(_ json: JSONValue) throws(ModelError) -> XGBoostModel {
        func need(_ v: JSONValue?, _ field: String, _ location: String) throws(ModelError) -> JSONValue {
            guard let v else { throw .missingField(format: format, field: field, location: location) }
            return v
        }
        let learner = try need(json["learner"], "learner", "document")
        let params = try need(learner["learner_model_param"], "learner_model_param", "learner")
        guard let declaredFeatures = params["num_feature"]?.number else {
            throw .missingField(format: format, field: "num_feature", location: "learner.learner_model_param")
        }
        // Counts are JSON numbers (often strings): converted with checks, bounded before any array is sized.
        let numFeature = try ModelLimits.count(declaredFeatures, minimum: 1, limit: ModelLimits.features, format: format,
                                               field: "num_feature", location: "learner.learner_model_param")
        let numClass = try ModelLimits.count(params["num_class"]?.number ?? 0, limit: ModelLimits.classes, format: format,
                                             field: "num_class", location: "learner.learner_model_param")
        let objectiveName = try need(learner["objective"]?["name"], "name", "learner.objective").string ?? ""
        guard let objective = XGBoostObjective(rawValue: objectiveName) else {
            throw .unsupported(format: format, what: "objective '\(objectiveName)'", location: "learner.objective.name")
        }
        let outputs = objective == .softprob || objective == .softmax ? max(numClass, 1) : 1
        // base_score: "5E-1" (older) or "[5E-1]" / "[a,b,c]" (3.x, one per class), in output space.
        let baseText = try need(params["base_score"], "base_score", "learner.learner_model_param").string ?? ""
        let baseParts = baseText.trimmingBrackets.split(separator: ",")
        var bases: [Float] = []
        for p in baseParts {
            guard let v = Float(p.trimmingSpaces) else {
                throw .invalidField(format: format, field: "base_score", location: "learner.learner_model_param", message: "'\(baseText)'")
            }
            bases.append(v)
        }
        guard bases.count == 1 || bases.count == outputs else {
            throw .invalidField(format: format, field: "base_score", location: "learner.learner_model_param",
                                message: "\(bases.count) values for \(outputs) outputs")
        }
        if bases.count == 1 { bases = Array(repeating: bases[0], count: outputs) }
        let margins: [Float] = bases.map { b in
            switch objective {
            case .logistic, .regLogistic, .logitRaw: return -logf(1.0 / b - 1.0)  // ProbToMargin
            default: return b
            }
        }
        let booster = try need(learner["gradient_booster"], "gradient_booster", "learner")
        if let name = booster["name"]?.string, name != "gbtree" {
            throw .unsupported(format: format, what: "booster '\(name)' (only gbtree)", location: "learner.gradient_booster.name")
        }
        let model = try need(booster["model"], "model", "learner.gradient_booster")
        guard let trees = model["trees"]?.array else { throw .missingField(format: format, field: "trees", location: "learner.gradient_booster.model") }
        let declaredTrees = model["gbtree_model_param"]?["num_trees"]?.number ?? Double(trees.count)
        guard let declared = Int(exactly: declaredTrees) else {
            throw .invalidField(format: format, field: "num_trees", location: "gbtree_model_param", message: "\(declaredTrees) is not a tree count")
        }
        guard declared == trees.count else {
            throw .treeCount(declared: declared, found: trees.count, location: "gbtree_model_param.num_trees")
        }
        let treeInfo = model["tree_info"]?.array ?? []
        guard treeInfo.count == trees.count else {
            throw .invalidField(format: format, field: "tree_info", location: "learner.gradient_booster.model",
                                message: "\(treeInfo.count) entries for \(trees.count) trees")
        }
        var nodes: [_XNode] = []
        var roots: [Int32] = []
        var classes: [Int32] = []
        for (t, tree) in trees.enumerated() {
            let loc = "trees[\(t)]"
            func ints(_ key: String) throws(ModelError) -> [Int] {
                guard let a = tree[key]?.array else { throw .missingField(format: format, field: key, location: loc) }
                var out: [Int] = []
                for v in a {
                    // Int(exactly:) refuses inf and values beyond Int's range, which Int(_:) would trap on.
                    guard let d = v.number, let n = Int(exactly: d) else {
                        throw .invalidField(format: format, field: key, location: loc, message: "not an integer")
                    }
                    out.append(n)
                }
                return out
            }
            let left = try ints("left_children"), right = try ints("right_children"), feature = try ints("split_indices")
            let dl = try ints("default_left")
            guard let cond = tree["split_conditions"]?.array else { throw .missingField(format: format, field: "split_conditions", location: loc) }
            let n = left.count
            guard n >= 1, right.count == n, feature.count == n, dl.count == n, cond.count == n else {
                throw .invalidField(format: format, field: "left_children/right_children/split_indices/default_left/split_conditions",
                                    location: loc, message: "arrays of different lengths")
            }
            if let types = tree["split_type"]?.array, types.contains(where: { $0.number != 0 }) {
                throw .unsupported(format: format, what: "categorical splits", location: "\(loc).split_type")
            }
            let cls = treeInfo[t].number.flatMap { Int(exactly: $0) } ?? -1
            guard cls >= 0, cls < outputs else {
                throw .invalidField(format: format, field: "tree_info", location: "tree_info[\(t)]", message: "class \(cls) of \(outputs)")
            }
            let base = nodes.count
            // Node indices are stored in 32 bits: refuse, rather than trap on, more nodes than that.
            guard base + n <= Int(Int32.max) else {
                throw .tooLarge(format: format, field: "nodes", location: loc, value: "\(base + n)", limit: "\(Int32.max) (32-bit node indices)")
            }
            for k in 0..<n {
                guard let c = cond[k].number else { throw .invalidField(format: format, field: "split_conditions", location: "\(loc)[\(k)]", message: "not a number") }
                if left[k] == -1 {
                    nodes.append(_XNode(value: Float(c), feature: 0, left: -1, right: -1))
                } else {
                    guard left[k] > 0, left[k] < n, right[k] > 0, right[k] < n, feature[k] >= 0, feature[k] < numFeature else {
                        throw .invalidField(format: format, field: "left_children/right_children/split_indices", location: "\(loc) node \(k)",
                                            message: "child or feature out of range")
                    }
                    nodes.append(_XNode(value: Float(c), feature: UInt32(feature[k]) | (dl[k] != 0 ? _XNode.defaultLeft : 0),
                                        left: Int32(base + left[k]), right: Int32(base + right[k])))
                }
            }
            // Children always have larger indices than their parent in XGBoost's layout; check it so a walk terminates.
            for k in 0..<n where left[k] != -1 && (left[k] <= k || right[k] <= k) {
                throw .invalidField(format: format, field: "left_children/right_children", location: "\(loc) node \(k)", message: "child before parent (cycle)")
            }
            roots.append(Int32(base))
            classes.append(Int32(cls))
        }
        var names: [String] = []
        if let fn = learner["feature_names"]?.array { names = fn.compactMap { $0.string } }
        if names.count != numFeature { names = (0..<numFeature).map { "f\($0)" } }
        return XGBoostModel(numFeatures: numFeature, numOutputs: outputs, featureNames: names, objective: objective,
                            baseMargin: margins, nodes: nodes, treeRoot: roots, treeClass: classes,
                            margins: _Scratch(count: outputs, value: 0))
    }
}

extension StringProtocol {
    var trimmingSpaces: Substring {
        var s = Substring(self)
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return s
    }
    var trimmingBrackets: Substring {
        var s = self.trimmingSpaces
        if s.first == "[" { s = s.dropFirst() }
        if s.last == "]" { s = s.dropLast() }
        return s
    }
}
