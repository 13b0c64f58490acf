import Foundation
import Models
import TestSupport
import Testing

@Suite("Malformed and unsupported model files give typed errors")
struct MalformedModelTests {
    func load(_ text: String) throws(ModelError) -> Model { try Model.load(bytes: Array(text.utf8)) }
    func fixture(_ name: String) throws -> String { try String(contentsOfFile: Fixtures.path(name), encoding: .utf8) }

    @Test("truncated LightGBM file")
    func truncatedLightGBM() throws {
        let text = try fixture("lgb_binary.txt")
        let cut = String(text.prefix(text.count / 2))
        #expect(throws: ModelError.self) { try load(cut) }
        do { _ = try load(cut); Issue.record("accepted a truncated file") } catch {
            // Either a tree is cut mid-way (a field with too few values, or missing) or trees are missing.
            switch error {
            case .treeCount, .invalidField, .missingField, .syntax: break
            default: Issue.record("unexpected error \(error)")
            }
            #expect("\(error)".contains("LightGBM"))
        }
    }

    @Test("LightGBM tree count disagreeing with tree_sizes")
    func wrongTreeCount() throws {
        let text = try fixture("lgb_regression.txt")
        // Drop the last tree block but keep tree_sizes.
        let last = text.range(of: "\nTree=", options: .backwards)!
        let end = text.range(of: "end of trees")!
        let edited = String(text[..<last.lowerBound]) + "\n\n" + String(text[end.lowerBound...])
        do { _ = try load(edited); Issue.record("accepted") } catch {
            guard case .treeCount(let declared, let found, let location) = error else { Issue.record("\(error)"); return }
            #expect(declared == found + 1)
            #expect(location.contains("tree_sizes"))
            #expect("\(error)".contains("declares \(declared) trees"))
        }
    }

    @Test("LightGBM field with the wrong number of values names the field and line")
    func wrongFieldLength() throws {
        let text = try fixture("lgb_regression.txt")
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let k = lines.firstIndex { $0.hasPrefix("threshold=") }!
        lines[k] = String(lines[k][..<lines[k].lastIndex(of: " ")!])
        do { _ = try load(lines.joined(separator: "\n")); Issue.record("accepted") } catch {
            guard case .invalidField(_, let field, let location, _) = error else { Issue.record("\(error)"); return }
            #expect(field == "threshold")
            #expect(location.contains("line \(k + 1)"))
        }
    }

    @Test("LightGBM linear trees are refused clearly")
    func linearTrees() throws {
        let text = try fixture("lgb_regression.txt").replacingOccurrences(of: "is_linear=0", with: "is_linear=1")
        do { _ = try load(text); Issue.record("accepted") } catch {
            guard case .unsupported(_, let what, _) = error else { Issue.record("\(error)"); return }
            #expect(what.contains("linear trees"))
        }
    }

    @Test("truncated XGBoost JSON reports line and column")
    func truncatedXGBoost() throws {
        let text = try fixture("xgb_binary.json")
        do { _ = try load(String(text.prefix(5000))); Issue.record("accepted") } catch {
            guard case .syntax(let format, let location, let message) = error else { Issue.record("\(error)"); return }
            #expect(format == "JSON")
            #expect(location.hasPrefix("line 1, column"))
            #expect(message.contains("truncated"))
        }
    }

    @Test("XGBoost num_trees disagreeing with the trees")
    func xgbTreeCount() throws {
        let text = try fixture("xgb_binary.json").replacingOccurrences(of: "\"num_trees\":\"30\"", with: "\"num_trees\":\"31\"")
        do { _ = try load(text); Issue.record("accepted") } catch {
            guard case .treeCount(31, 30, _) = error else { Issue.record("\(error)"); return }
        }
    }

    @Test("ONNX unknown operator is refused with its name")
    func unknownOperator() throws {
        do { _ = try Model.load(path: Fixtures.path("mlp_unsupported.onnx")); Issue.record("accepted") } catch {
            #expect(error == .unsupportedOperator(name: "LeakyRelu", node: "#1"))
            #expect("\(error)".contains("'LeakyRelu'"))
        }
    }

    @Test("truncated ONNX file")
    func truncatedONNX() throws {
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("mlp_binary.onnx"))))
        do { _ = try Model.load(bytes: Array(bytes.prefix(bytes.count - 40))); Issue.record("accepted") } catch {
            guard case .syntax(let format, let location, let message) = error else { Issue.record("\(error)"); return }
            #expect(format == "ONNX")
            #expect(location.hasPrefix("byte "))
            #expect(message.contains("truncated"))
        }
    }

    @Test("feature count disagreeing with the definition")
    func featureCount() throws {
        let m = try Model.load(path: Fixtures.path("xgb_regression.json")).model
        #expect(throws: ModelError.featureCountMismatch(model: 6, definition: 5)) { try m.check(featureCount: 5) }
        try m.check(featureCount: 6)
    }

    @Test("unknown format and missing file")
    func unknown() throws {
        #expect(throws: ModelError.self) { try load("hello") }
        do { _ = try Model.load(path: "/nonexistent/model.txt"); Issue.record("accepted") } catch {
            guard case .io(let path, _) = error else { Issue.record("\(error)"); return }
            #expect(path == "/nonexistent/model.txt")
        }
    }

    @Test("tickbus model predict: contract output and a clear failure")
    func cli() throws {
        let ok = try TickBusTest.run(["model", "predict", "--model", Fixtures.path("lgb_multiclass.txt"), "--input", Fixtures.path("lgb_multiclass.input.csv")])
        #expect(ok.status == 0)
        let lines = ok.stdout.split(separator: "\n")
        let want = try String(contentsOfFile: Fixtures.path("lgb_multiclass.pred.csv"), encoding: .utf8).split(separator: "\n")
        #expect(lines == want)  // same digits: LightGBM's output is reproduced bit for bit
        let raw = try TickBusTest.run(["model", "predict", "--model", Fixtures.path("xgb_binary.json"), "--raw", "--input", Fixtures.path("xgb_binary.input.csv")])
        #expect(raw.status == 0)
        #expect(raw.stdout.split(separator: "\n").count == 200)
        let bad = try TickBusTest.run(["model", "predict", "--model", Fixtures.path("mlp_unsupported.onnx"), "--input", Fixtures.path("mlp_binary.input.csv")])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("LeakyRelu"))
    }

    // MARK: counts from the file are bounded before anything is allocated (issue 11, defect 4)

    /// The field of a `.tooLarge` error, or nil (recording the unexpected error).
    func tooLargeField(_ body: () throws(ModelError) -> Model) -> String? {
        do { _ = try body(); Issue.record("accepted"); return nil } catch {
            guard case .tooLarge(_, let field, _, _, _) = error else { Issue.record("expected tooLarge, got \(error)"); return nil }
            return field
        }
    }

    /// A one-tree LightGBM text model; `tree` holds the tree's fields.
    func lightgbm(maxFeature: Int = 0, tree: [String]) -> String {
        (["tree", "version=v4", "num_class=1", "num_tree_per_iteration=1", "label_index=0", "max_feature_idx=\(maxFeature)",
          "objective=regression", "feature_names=f0", "", "Tree=0"] + tree + ["shrinkage=1", "", "", "end of trees", ""])
            .joined(separator: "\n")
    }

    /// A chain: node n goes left to leaf n and right to node n + 1; the last node's right is the last leaf.
    func chain(leaves: Int) -> [String] {
        let internalCount = leaves - 1
        func row(_ f: (Int) -> String, _ n: Int) -> String { (0..<n).map(f).joined(separator: " ") }
        return ["num_leaves=\(leaves)", "num_cat=0", "split_feature=" + row({ _ in "0" }, internalCount),
                "threshold=" + row({ "\($0)" }, internalCount), "decision_type=" + row({ _ in "2" }, internalCount),
                "left_child=" + row({ "\(-$0 - 1)" }, internalCount),
                "right_child=" + row({ $0 + 1 < internalCount ? "\($0 + 1)" : "\(-internalCount - 1)" }, internalCount),
                "leaf_value=" + row({ "\($0)" }, leaves)]
    }

    @Test("LightGBM max_feature_idx beyond the limit is refused, not allocated")
    func lightgbmFeatureCount() throws {
        let text = try fixture("lgb_regression.txt")
        #expect(text.contains("max_feature_idx=5\n"))
        for v in ["2147483647", "9223372036854775807", "\(ModelLimits.features)"] {
            let edited = text.replacingOccurrences(of: "max_feature_idx=5\n", with: "max_feature_idx=\(v)\n")
            #expect(tooLargeField { () throws(ModelError) in try load(edited) } == "max_feature_idx", "\(v)")
        }
        // Below the maximum but more features than the file can describe (two bytes each).
        #expect(tooLargeField { () throws(ModelError) in try load(lightgbm(maxFeature: 60_000, tree: chain(leaves: 2))) } == "max_feature_idx")
        // The message names the field, the value and the limit.
        do { _ = try load(text.replacingOccurrences(of: "max_feature_idx=5\n", with: "max_feature_idx=2147483647\n")) } catch {
            #expect("\(error)".contains("max_feature_idx") && "\(error)".contains("2147483647") && "\(error)".contains("65535"))
        }
        // And through the command (an abort there was "failed to allocate").
        let dir = TickBusTest.temporaryDirectory("model-limits")
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("huge.txt")
        try text.replacingOccurrences(of: "max_feature_idx=5\n", with: "max_feature_idx=2147483647\n").write(to: file, atomically: true, encoding: .utf8)
        let r = try TickBusTest.run(["model", "info", file.path])
        #expect(!r.timedOut)
        #expect(r.status == 64, "stderr: \(r.stderr.suffix(300))")  // a usage error, not a signal
        #expect(r.stderr.contains("max_feature_idx") && r.stderr.contains("above the limit"))
    }

    @Test("LightGBM num_leaves, num_cat, depth and a categorical threshold never trap")
    func lightgbmTreeCounts() throws {
        var tree = chain(leaves: 2)
        tree[0] = "num_leaves=9223372036854775807"
        #expect(tooLargeField { () throws(ModelError) in try load(lightgbm(tree: tree)) } == "num_leaves")
        tree = chain(leaves: 2)
        tree[1] = "num_cat=9223372036854775807"
        do { _ = try load(lightgbm(tree: tree)); Issue.record("accepted") } catch {
            guard case .invalidField(_, "num_cat", _, _) = error else { Issue.record("\(error)"); return }
        }
        // A categorical split whose threshold (the category set) is no integer in range.
        for t in ["1e300", "nan", "-inf"] {
            let cat = ["num_leaves=2", "num_cat=1", "split_feature=0", "threshold=\(t)", "decision_type=1", "left_child=-1",
                       "right_child=-2", "leaf_value=1 2", "cat_boundaries=0 1", "cat_threshold=3"]
            do { _ = try load(lightgbm(tree: cat)); Issue.record("accepted \(t)") } catch {
                guard case .invalidField(_, "threshold", _, _) = error else { Issue.record("\(t): \(error)"); continue }
            }
        }
        // A chain 300 deep: its depth no longer fits the walk's step counter (it trapped converting to UInt8).
        #expect(tooLargeField { () throws(ModelError) in try load(lightgbm(tree: chain(leaves: 301))) } == "tree depth")
        // 200 deep is fine, and evaluates as the chain says: x = 150.5 goes right 151 times, then left.
        let m = try load(lightgbm(tree: chain(leaves: 201)))
        var x = 150.5, out = 0.0
        m.predict(&x, into: &out)
        #expect(out == 151)
    }

    /// A model wider than the binned walk's 16-bit input slots (5 × features > 65,535): building the
    /// binned form trapped converting a node's slot; it now keeps the double walk and evaluates.
    @Test("LightGBM model with 20,000 features loads and evaluates; a NaN threshold is refused")
    func lightgbmWideModel() throws {
        let n = 20_000
        var text = lightgbm(maxFeature: n - 1, tree: ["num_leaves=2", "num_cat=0", "split_feature=\(n - 1)", "threshold=0.5",
                                                      "decision_type=8", "left_child=-1", "right_child=-2", "leaf_value=1 2"])
        text = text.replacingOccurrences(of: "feature_names=f0", with: "feature_names=" + (0..<n).map { "f\($0)" }.joined(separator: " "))
        let m = try load(text)
        #expect(m.numFeatures == n)
        var x = [Double](repeating: 0, count: n)
        var out = 0.0
        x[n - 1] = 1
        m.predict(x, into: &out)
        #expect(out == 2)
        x[n - 1] = .nan  // missing type NaN, default right
        m.predict(x, into: &out)
        #expect(out == 2)
        x[n - 1] = 0
        m.predict(x, into: &out)
        #expect(out == 1)
        do { _ = try load(text.replacingOccurrences(of: "threshold=0.5", with: "threshold=nan")); Issue.record("accepted") } catch {
            guard case .invalidField(_, "threshold", _, _) = error else { Issue.record("\(error)"); return }
        }
    }

    @Test("XGBoost counts: num_feature, num_class, num_trees and node indices never trap or over-allocate")
    func xgboostCounts() throws {
        let text = try fixture("xgb_multiclass.json")
        let features = "\"num_feature\":\"6\",\"num_target\""
        #expect(text.contains(features))
        for v in ["100000000000", "1e300", "65537"] {
            let edited = text.replacingOccurrences(of: features, with: "\"num_feature\":\"\(v)\",\"num_target\"")
            #expect(tooLargeField { () throws(ModelError) in try load(edited) } == "num_feature", "\(v)")
        }
        let classes = "\"num_class\":\"3\",\"num_feature\""
        #expect(text.contains(classes))
        #expect(tooLargeField { () throws(ModelError) in
            try load(text.replacingOccurrences(of: classes, with: "\"num_class\":\"100000000000\",\"num_feature\""))
        } == "num_class")
        for (from, to) in [("\"num_trees\":\"90\"", "\"num_trees\":\"1e300\""), ("\"split_indices\":[0,", "\"split_indices\":[1e300,"),
                           ("\"tree_info\":[0,", "\"tree_info\":[1e300,"), ("\"num_feature\":\"6\",\"num_target\"", "\"num_feature\":\"nan\",\"num_target\"")] {
            #expect(text.contains(from))
            do { _ = try load(text.replacingOccurrences(of: from, with: to)); Issue.record("accepted \(to)") } catch {
                guard case .invalidField = error else { Issue.record("\(to): \(error)"); continue }
            }
        }
    }

    /// Protobuf encoding for hand-built ONNX files.
    func varint(_ v: UInt64) -> [UInt8] {
        var v = v, out: [UInt8] = []
        while v >= 0x80 { out.append(UInt8(v & 0x7F) | 0x80); v >>= 7 }
        return out + [UInt8(v)]
    }
    func field(_ number: UInt64, _ bytes: [UInt8]) -> [UInt8] { varint(number << 3 | 2) + varint(UInt64(bytes.count)) + bytes }
    func field(_ number: UInt64, varint v: UInt64) -> [UInt8] { varint(number << 3) + varint(v) }
    func onnx(_ graph: [UInt8]) -> [UInt8] { field(1, varint: 8) + field(7, graph) }
    func valueInfo(_ name: String, width: UInt64) -> [UInt8] {
        field(1, Array(name.utf8)) + field(2, field(1, field(2, field(1, field(1, varint: 1)) + field(1, field(1, varint: width)))))
    }

    @Test("ONNX dims and widths are checked before they size anything")
    func onnxCounts() throws {
        func initializer(_ dims: [UInt64]) -> [UInt8] {
            field(5, dims.flatMap { field(1, varint: $0) } + field(2, varint: 1) + field(8, Array("W".utf8)) + field(9, [0, 0, 0, 0]))
        }
        // The product overflows Int (it trapped), or overflows only when multiplied by 4 bytes (it trapped there).
        #expect(tooLargeField { () throws(ModelError) in try Model.load(bytes: onnx(initializer([1 << 40, 1 << 40]))) } == "dims")
        #expect(tooLargeField { () throws(ModelError) in try Model.load(bytes: onnx(initializer([1 << 31, 1 << 31]))) } == "dims")
        #expect(tooLargeField { () throws(ModelError) in try Model.load(bytes: onnx(initializer([1 << 20, 64]))) } == "dims")
        do { _ = try Model.load(bytes: onnx(initializer([UInt64(bitPattern: -2), UInt64(bitPattern: -3)]))); Issue.record("accepted") } catch {
            guard case .invalidField(_, "dims", _, _) = error else { Issue.record("\(error)"); return }
        }
        // A graph input 2^40 wide, passed straight to the output: it allocated 2^40 feature names.
        let wide = onnx(field(11, valueInfo("x", width: 1 << 40)) + field(12, valueInfo("x", width: 1 << 40)))
        #expect(tooLargeField { () throws(ModelError) in try Model.load(bytes: wide) } == "graph.input")
        let huge = onnx(field(11, valueInfo("x", width: UInt64.max)) + field(12, valueInfo("x", width: 1)))
        #expect(throws: ModelError.self) { try Model.load(bytes: huge) }
    }
}
