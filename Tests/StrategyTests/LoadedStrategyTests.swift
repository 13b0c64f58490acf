import Foundation
import Models
import Strategy
import TestSupport
import Testing

/// The one loader of `strategy`, `replay --verify-decisions` and the backtest.
@Suite("Loaded strategy")
struct LoadedStrategyTests {
    let root = TickBusTest.repositoryRoot.appendingPathComponent("Recordings/synthetic-5")

    @Test("loads a definition and models into a loop, the shadow's id beside the live one")
    func loads() throws {
        let features = root.appendingPathComponent("features.toml").path
        let model = root.appendingPathComponent("model.json").path
        let s = try LoadedStrategy.load(features: features, model: model, shadow: model)
        #expect(s.shadow?.id == s.live.id)
        let loop = try s.makeLoop(slotSize: 256)
        #expect(loop.engine.count == s.definition.features.count)
        #expect(s.modelsDescription.hasPrefix("model \(s.live.model.kindName) id=\(String(s.live.id, radix: 16)) shadow "))
    }

    @Test("a failure keeps its cause as a value and names the file")
    func causes() throws {
        let features = root.appendingPathComponent("features.toml").path
        do {
            _ = try LoadedStrategy.load(features: features, model: "/nonexistent-model.json", shadow: nil)
            Issue.record("loaded a missing model")
        } catch {
            guard case .model(let path, let cause) = error else { Issue.record("\(error)"); return }
            #expect(path == "/nonexistent-model.json")
            #expect("\(cause)".contains("/nonexistent-model.json"))
        }
        do {
            _ = try LoadedStrategy.load(features: "/nonexistent.toml", model: "/nonexistent-model.json", shadow: nil)
            Issue.record("loaded a missing definition")
        } catch {
            guard case .features = error else { Issue.record("\(error)"); return }
            #expect(error.description.contains("/nonexistent.toml"))
        }
        // A shadow that does not load is reported as itself, not as the live model.
        do {
            _ = try LoadedStrategy.load(features: features, model: root.appendingPathComponent("model.json").path, shadow: "/no-shadow.txt")
            Issue.record("loaded a missing shadow")
        } catch {
            guard case .model(let path, _) = error else { Issue.record("\(error)"); return }
            #expect(path == "/no-shadow.txt")
        }
    }

    @Test("the feature CSV of model predict: names, missing values, and errors with line and column")
    func featureCSV() throws {
        let csv = try FeatureCSV.parse("a, b\n1,\n nan ,2.5\r\n", path: "x.csv")
        #expect(csv.names == ["a", "b"])
        #expect(csv.rows.count == 2 && csv.rows[0][0] == 1 && csv.rows[0][1].isNaN && csv.rows[1][0].isNaN && csv.rows[1][1] == 2.5)
        #expect(throws: FeatureCSVError.self) { try FeatureCSV.parse("a,b\n1,x\n", path: "x.csv") }
        do { _ = try FeatureCSV.parse("a,b\n1,x\n", path: "x.csv") } catch {
            #expect(error.description == "x.csv line 2, column b: 'x' is not a number")
        }
        do { _ = try FeatureCSV.parse("a,b\n1\n", path: "x.csv") } catch {
            #expect(error.description == "x.csv line 2: 1 fields, header has 2")
        }
    }
}
