import Features
import Foundation
import Models
import Strategy
import TestSupport
import Testing
import TickBusCore

@Suite("Strategy errors keep their cause")
struct StrategyErrorTests {
    @Test("a model that does not fit the feature definition is refused with the ModelError as a value")
    func modelErrorIsReachable() throws {
        let dir = TickBusTest.temporaryDirectory("strategy-error")
        defer { try? FileManager.default.removeItem(at: dir) }
        // Three coefficients for a two-feature definition.
        let path = dir.appendingPathComponent("linear.json").path
        try #"{"type": "linear", "feature_names": ["a", "b", "c"], "coefficients": [1, 2, 3], "intercept": 0}"#
            .write(toFile: path, atomically: true, encoding: .utf8)
        let definition = try FeatureDefinition.parse(
            """
            [[feature]]
            name = "mid"
            kind = "mid"
            [[feature]]
            name = "spread"
            kind = "spread"
            """
        )
        let model = try Model.load(path: path)
        do {
            _ = try StrategyLoop(engine: FeatureEngine(definition: definition), live: model, shadow: nil, slotSize: 256)
            Issue.record("accepted a 3-feature model for 2 features")
        } catch {
            guard case .model(let cause) = error else {
                Issue.record("cause flattened: \(error)")
                return
            }
            #expect(cause == .featureCountMismatch(model: 3, definition: 2))
            // The message is the model's own, as before.
            #expect("\(error)" == "model expects 3 features but the feature definition has 2")
        }
    }
}
