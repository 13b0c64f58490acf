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
}
