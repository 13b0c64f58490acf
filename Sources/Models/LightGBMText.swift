/// Reads LightGBM's text model format (`Booster.save_model`, `model.txt`) and compiles it.
///
/// Semantics follow LightGBM 4.x `Tree::NumericalDecision` / `CategoricalDecision`:
/// `decision_type` bit 0 categorical, bit 1 default left, bits 2-3 missing type (0 None, 1 Zero,
/// 2 NaN); children `< 0` are leaves `~child`; `leaf_value` already includes shrinkage.
public enum LightGBMText {
    static let format = "LightGBM"

    struct Line {
        var number: Int
        var key: Substring
        var value: Substring?
    }

    /// True if the bytes look like a LightGBM text model.
    public static func detect(_ bytes: [UInt8]) -> Bool {
        let head = String(decoding: bytes.prefix(256), as: UTF8.self)
        return head.hasPrefix("tree\n") || head.hasPrefix("tree\r\n") || head.contains("\nversion=v") && head.contains("num_class=")
    }

    public static func load(_ bytes: [UInt8], options: LightGBMOptions = .default) throws(ModelError) -> LightGBMModel {
        let text = String(decoding: bytes, as: UTF8.self)
        var lines: [Line] = []
        var number = 0
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            number += 1
            var s = raw
            if s.last == "\r" { s = s.dropLast() }
            if let eq = s.firstIndex(of: "=") {
                lines.append(Line(number: number, key: s[s.startIndex..<eq], value: s[s.index(after: eq)...]))
            } else {
                lines.append(Line(number: number, key: s, value: nil))
            }
        }
        guard let first = lines.first, first.key == "tree" else {
            throw .syntax(format: format, location: "line 1", message: "expected 'tree' (not a LightGBM text model)")
        }
        // Header: up to the first Tree= block.
        var header: [Substring: Line] = [:]
        var i = 0
        while i < lines.count, lines[i].key != "Tree" {
            if lines[i].key == "end of trees" { break }
            header[lines[i].key] = lines[i]
            i += 1
        }
        func headerInt(_ key: String) throws(ModelError) -> Int {
            guard let l = header[Substring(key)], let v = l.value else { throw .missingField(format: format, field: key, location: "header") }
            guard let n = Int(v) else {
                throw .invalidField(format: format, field: key, location: "line \(l.number)", message: "'\(v)' is not an integer")
            }
            return n
        }
        let numClass = try headerInt("num_class")
        let perIteration = try headerInt("num_tree_per_iteration")
        let maxFeature = try headerInt("max_feature_idx")
        guard numClass >= 1, perIteration >= 1, maxFeature >= 0 else {
            throw .invalidField(format: format, field: "num_class/num_tree_per_iteration/max_feature_idx", location: "header",
                                message: "must be positive")
        }
        func line(_ key: String) -> String { header[Substring(key)].map { "line \($0.number)" } ?? "header" }
        _ = try ModelLimits.check(numClass, limit: ModelLimits.classes, format: format, field: "num_class", location: line("num_class"))
        _ = try ModelLimits.check(perIteration, limit: ModelLimits.classes, format: format, field: "num_tree_per_iteration",
                                  location: line("num_tree_per_iteration"))
        // Checked before the + 1 and before any per-feature array is sized from it. LightGBM writes
        // a name and an info per feature (`feature_names`, `feature_infos`), so a real file has at
        // least two bytes per feature.
        _ = try ModelLimits.check(maxFeature, limit: ModelLimits.features - 1, format: format, field: "max_feature_idx",
                                  location: line("max_feature_idx"))
        _ = try ModelLimits.check(maxFeature, limit: bytes.count / 2, format: format, field: "max_feature_idx",
                                  location: line("max_feature_idx"), why: "what a file of \(bytes.count) bytes can describe")
        let numFeatures = maxFeature + 1
        var names = (header["feature_names"]?.value).map { $0.split(separator: " ").map(String.init) } ?? []
        if names.count != numFeatures { names = (0..<numFeatures).map { "Column_\($0)" } }
        let averageOutput = header["average_output"] != nil
        let transform = try objective(header["objective"], numClass: numClass)
        let declaredSizes = header["tree_sizes"]?.value.map { $0.split(separator: " ").count }

        // Tree blocks.
        var nodes: [_Node] = []
        var values: [Double] = []
        var bases: [Int32] = []
        var depths: [Int] = []
        var catBoundaries: [Int32] = []
        var catBits: [UInt32] = []
        var hasCategorical = false
        var sawEnd = false
        while i < lines.count {
            let l = lines[i]
            if l.key == "end of trees" { sawEnd = true; break }
            guard l.key == "Tree" else { i += 1; continue }
            let treeIndex = depths.count
            guard Int(l.value ?? "") == treeIndex else {
                throw .syntax(format: format, location: "line \(l.number)", message: "expected Tree=\(treeIndex), found '\(l.key)=\(l.value ?? "")'")
            }
            var fields: [Substring: Line] = [:]
            i += 1
            while i < lines.count, lines[i].key != "Tree", lines[i].key != "end of trees" {
                if lines[i].value != nil { fields[lines[i].key] = lines[i] }
                i += 1
            }
            let loc = "Tree=\(treeIndex) (line \(l.number))"
            try compileTree(fields, location: loc, numFeatures: numFeatures, nodes: &nodes, values: &values, bases: &bases,
                            depths: &depths, catBoundaries: &catBoundaries, catBits: &catBits, hasCategorical: &hasCategorical)
        }
        let found = depths.count
        if let declared = declaredSizes, declared != found {
            throw .treeCount(declared: declared, found: found, location: "tree_sizes (line \(header["tree_sizes"]!.number))")
        }
        guard sawEnd else {
            throw .syntax(format: format, location: "line \(lines.count)", message: "missing 'end of trees' (truncated file?)")
        }
        guard found > 0 else { throw .invalidField(format: format, field: "Tree", location: "file", message: "no trees") }
        guard found % perIteration == 0 else {
            throw .treeCount(declared: (found / perIteration + 1) * perIteration, found: found,
                             location: "num_tree_per_iteration=\(perIteration) (trees must come in whole iterations)")
        }
        // Pad to a multiple of 8 trees with a zero leaf (self loop) so the 8-wide walk has no tail.
        let padIndex = Int32(nodes.count)
        nodes.append(_Node(threshold: .infinity, feature: 0, left: 0, right: 0))
        values.append(0)
        while bases.count % LightGBMModel.group != 0 { bases.append(padIndex) }
        return LightGBMModel(numFeatures: numFeatures, numOutputs: perIteration, featureNames: names, transform: transform,
                             averageOutput: averageOutput, treesPerIteration: perIteration, nodes: nodes, values: values,
                             treeBase: bases, treeDepth: depths, catBoundaries: catBoundaries, catBits: catBits,
                             hasCategorical: hasCategorical, options: options)
    }

    static func objective(_ line: Line?, numClass: Int) throws(ModelError) -> LightGBMTransform {
        guard let line, let v = line.value else { return .identity }
        let parts = v.split(separator: " ")
        let name = parts.first.map(String.init) ?? ""
        var sigmoid = 1.0
        var sqrt = false
        for p in parts.dropFirst() {
            if p.hasPrefix("sigmoid:") {
                guard let s = Double(p.dropFirst(8)) else {
                    throw .invalidField(format: format, field: "objective", location: "line \(line.number)", message: "bad '\(p)'")
                }
                sigmoid = s
            }
            if p == "sqrt" { sqrt = true }
        }
        switch name {
        case "binary": return .sigmoid(sigmoid)
        case "cross_entropy", "xentropy": return .sigmoid(1)
        case "cross_entropy_lambda", "xentlambda": return .log1pExp
        case "multiclass", "softmax": return .softmax
        case "multiclassova", "multiclass_ova", "ova", "ovr": return .sigmoidEach(sigmoid)
        case "poisson", "gamma", "tweedie": return .exp
        case "regression", "regression_l2", "l2", "mean_squared_error", "mse", "regression_l1", "l1", "huber", "fair",
             "quantile", "mape", "lambdarank", "rank_xendcg", "custom", "none":
            return sqrt ? .squareSigned : .identity
        default:
            throw .unsupported(format: format, what: "objective '\(name)'", location: "line \(line.number)")
        }
    }

    static func compileTree(_ fields: [Substring: Line], location: String, numFeatures: Int, nodes: inout [_Node], values: inout [Double],
                            bases: inout [Int32], depths: inout [Int], catBoundaries: inout [Int32], catBits: inout [UInt32],
                            hasCategorical: inout Bool) throws(ModelError) {
        func field(_ key: String) throws(ModelError) -> Line {
            guard let l = fields[Substring(key)] else { throw .missingField(format: format, field: key, location: location) }
            return l
        }
        func numbers<T>(_ key: String, count: Int, _ parse: (Substring) -> T?) throws(ModelError) -> [T] {
            if count == 0 { return [] }
            let l = try field(key)
            let parts = l.value!.split(separator: " ")
            guard parts.count == count else {
                throw .invalidField(format: format, field: key, location: "\(location), line \(l.number)",
                                    message: "\(parts.count) values, expected \(count)")
            }
            var out: [T] = []
            out.reserveCapacity(count)
            for (k, p) in parts.enumerated() {
                guard let v = parse(p) else {
                    throw .invalidField(format: format, field: key, location: "\(location), line \(l.number)",
                                        message: "value \(k) '\(p)' is not a number")
                }
                out.append(v)
            }
            return out
        }
        if let lin = fields["is_linear"], lin.value != "0" {
            throw .unsupported(format: format, what: "linear trees (is_linear=\(lin.value!))", location: "\(location), line \(lin.number)")
        }
        let leavesLine = try field("num_leaves")
        guard let numLeaves = Int(leavesLine.value!), numLeaves >= 1 else {
            throw .invalidField(format: format, field: "num_leaves", location: "\(location), line \(leavesLine.number)", message: "must be ≥ 1")
        }
        // Before any arithmetic on it: 2 × leaves − 1 nodes are addressed with 16 bits.
        _ = try ModelLimits.check(numLeaves, limit: ModelLimits.leavesPerTree, format: format, field: "num_leaves",
                                  location: "\(location), line \(leavesLine.number)")
        let numCat = fields["num_cat"].flatMap { Int($0.value!) } ?? 0
        let internalCount = numLeaves - 1
        // At most one category set per internal node: bounds `num_cat + 1` below.
        guard numCat >= 0, numCat <= internalCount else {
            throw .invalidField(format: format, field: "num_cat", location: "\(location), line \(fields["num_cat"]?.number ?? 0)",
                                message: "\(numCat) category sets for \(internalCount) internal nodes")
        }
        let leafValue: [Double] = try numbers("leaf_value", count: numLeaves) { Double($0) }
        let splitFeature: [Int] = try numbers("split_feature", count: internalCount) { Int($0) }
        let threshold: [Double] = try numbers("threshold", count: internalCount) { Double($0) }
        let decisionType: [Int] = try numbers("decision_type", count: internalCount) { Int($0) }
        let leftChild: [Int] = try numbers("left_child", count: internalCount) { Int($0) }
        let rightChild: [Int] = try numbers("right_child", count: internalCount) { Int($0) }
        let boundaries: [Int] = numCat > 0 ? try numbers("cat_boundaries", count: numCat + 1) { Int($0) } : []
        var threshBits: [UInt32] = []
        if numCat > 0 {
            let total = boundaries.last!
            threshBits = try numbers("cat_threshold", count: total) { UInt32($0) }
            for k in 0..<numCat where boundaries[k] > boundaries[k + 1] || boundaries[k] < 0 || boundaries[k + 1] > total {
                throw .invalidField(format: format, field: "cat_boundaries", location: location, message: "not increasing within cat_threshold")
            }
        }
        let base = nodes.count
        // Node and bitset offsets are stored in 32 bits; a file this large is refused, not trapped on.
        guard base + 2 * numLeaves <= Int(Int32.max), catBits.count + threshBits.count <= Int(Int32.max) else {
            throw .tooLarge(format: format, field: "nodes/cat_threshold", location: location,
                            value: "\(base + 2 * numLeaves) nodes, \(catBits.count + threshBits.count) category words",
                            limit: "\(Int32.max) (32-bit offsets)")
        }
        let catOffset = Int32(catBits.count)
        let boundaryOffset = catBoundaries.count
        if numCat > 0 {
            // Cannot trap: 0 <= b <= threshBits.count and catBits.count + threshBits.count <= Int32.max (checked above).
            for b in boundaries { catBoundaries.append(catOffset + Int32(b)) }
            catBits.append(contentsOf: threshBits)
        }
        func local(_ child: Int, at node: Int, side: String) throws(ModelError) -> UInt16 {
            if child >= 0 {
                guard child < internalCount else {
                    throw .invalidField(format: format, field: side, location: location, message: "node \(node) points at node \(child) of \(internalCount)")
                }
                return UInt16(child)
            }
            let leaf = ~child
            guard leaf < numLeaves else {
                throw .invalidField(format: format, field: side, location: location, message: "node \(node) points at leaf \(leaf) of \(numLeaves)")
            }
            return UInt16(internalCount + leaf)
        }
        let f = UInt32(numFeatures)
        for n in 0..<internalCount {
            let feature = splitFeature[n]
            guard feature >= 0, feature < numFeatures else {
                throw .invalidField(format: format, field: "split_feature", location: location,
                                    message: "node \(n) uses feature \(feature), model has \(numFeatures)")
            }
            let dt = decisionType[n]
            let l = try local(leftChild[n], at: n, side: "left_child")
            let r = try local(rightChild[n], at: n, side: "right_child")
            if dt & 1 != 0 {
                // Compared as a double first: converting NaN, inf or 1e300 to Int would trap.
                let t = threshold[n]
                guard t >= 0, t < Double(numCat) else {
                    throw .invalidField(format: format, field: "threshold", location: location,
                                        message: "categorical node \(n) refers to category set \(t) of \(numCat)")
                }
                let ci = Int(t)
                hasCategorical = true
                nodes.append(_Node(threshold: Double(boundaryOffset + ci), feature: _Node.categorical | UInt32(feature), left: l, right: r))
            } else {
                // LightGBM never writes a NaN threshold; one would compare false both ways and has
                // no rank among the feature's thresholds.
                guard !threshold[n].isNaN else {
                    throw .invalidField(format: format, field: "threshold", location: location, message: "node \(n): threshold is NaN")
                }
                let missing = (dt >> 2) & 3
                let defaultLeft = dt & 2 != 0
                let variant: UInt32
                switch missing {
                case 0: variant = 0
                case 1: variant = defaultLeft ? 1 : 2
                case 2: variant = defaultLeft ? 3 : 4
                default:
                    throw .invalidField(format: format, field: "decision_type", location: location, message: "node \(n): missing type 3")
                }
                nodes.append(_Node(threshold: threshold[n], feature: variant * f + UInt32(feature), left: l, right: r))
            }
            values.append(0)
        }
        for k in 0..<numLeaves {
            let me = UInt16(internalCount + k)
            nodes.append(_Node(threshold: .infinity, feature: 0, left: me, right: me))
            values.append(leafValue[k])
        }
        // Depth of the deepest leaf; also proves every node is reached once (no cycles).
        var depth = 0
        if internalCount > 0 {
            var seen = [Bool](repeating: false, count: internalCount)
            var stack: [(Int, Int)] = [(0, 1)]
            while let (n, d) = stack.popLast() {
                guard !seen[n] else { throw .invalidField(format: format, field: "left_child/right_child", location: location, message: "node \(n) reached twice") }
                seen[n] = true
                depth = max(depth, d)
                if leftChild[n] >= 0 { stack.append((leftChild[n], d + 1)) }
                if rightChild[n] >= 0 { stack.append((rightChild[n], d + 1)) }
            }
            guard seen.allSatisfy({ $0 }) else {
                throw .invalidField(format: format, field: "left_child/right_child", location: location, message: "unreachable nodes")
            }
            _ = try ModelLimits.check(depth, limit: ModelLimits.treeDepth, format: format, field: "tree depth", location: location)
        }
        _ = base
        bases.append(Int32(base))
        depths.append(depth)
    }
}
