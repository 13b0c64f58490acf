import Features
import Testing

/// Windows near `Int.max` (found by the fuzzer: Fuzz/regressions/features) are refused when the
/// definition is read; before, `FeatureEngine.init` overflowed its size arithmetic or ran out of memory.
@Suite("Feature definition limits")
struct FeatureDefinitionLimitTests {
    static func one(_ kind: String, _ line: String) -> String {
        "[[feature]]\nname = \"f\"\nkind = \"\(kind)\"\n\(line)\n"
    }

    @Test("events, capacity and levels past their maximum name the key, the value and the limit")
    func perKey() {
        #expect(
            throws: FeatureError.syntax(
                line: 4,
                message: "events = 9223372036854775807 for feature 'f' is above the maximum 1048576"
            )
        ) {
            try FeatureDefinition.parse(Self.one("ofi", "events = 9223372036854775807"))
        }
        #expect(
            throws: FeatureError.syntax(
                line: 5,
                message: "capacity = 100000000000 for feature 'f' is above the maximum 1048576"
            )
        ) {
            try FeatureDefinition.parse(Self.one("trade_count", "window_ns = 1000\ncapacity = 100000000000"))
        }
        #expect(
            throws: FeatureError.syntax(
                line: 4,
                message: "levels = 4611686018427387904 for feature 'f' is above the maximum 1024"
            )
        ) {
            try FeatureDefinition.parse(Self.one("depth_imbalance", "levels = 4611686018427387904"))
        }
    }

    @Test("the maximum itself is accepted and builds an engine")
    func atTheLimit() throws {
        let d = try FeatureDefinition.parse(
            "max_instruments = 1\n" + Self.one("return_events", "events = \(FeatureSpec.maxEvents)")
        )
        #expect(d.features[0].events == FeatureSpec.maxEvents)
        let e = FeatureEngine(definition: d)
        #expect(e.count == 1)
    }

    @Test("many instrument slots times large windows is refused in all")
    func total() {
        let toml = "max_instruments = 65536\n" + Self.one("trade_count", "window_ns = 1000\ncapacity = 1048576")
        #expect(
            throws: FeatureError.syntax(
                line: 7,
                message:
                    "window state of 2097172 words per instrument for max_instruments = 65536 is above the maximum 33554432 words (256 MiB) in all"
            )
        ) {
            try FeatureDefinition.parse(toml)
        }
    }
}
