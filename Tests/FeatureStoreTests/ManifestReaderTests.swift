import FeatureStore
import Testing

/// The manifest reader refuses what the writer would not write, naming the file and the field.
@Suite struct ManifestReaderTests {
    static let good = SnapshotManifest(
        sourceKind: "lobster",
        sourceArgument: "",
        inputs: ["m.csv": String(repeating: "a", count: 64)],
        features: ["mid", "imb"],
        definition: String(repeating: "b", count: 64),
        data: [.init(path: "features.parquet", rows: 3, sha256: String(repeating: "c", count: 64))],
        latencyNs: 5,
        sessionDate: "2012-06-21"
    )

    func refusal(_ text: String) -> String {
        do {
            _ = try SnapshotManifest(bytes: Array(text.utf8), what: "s/manifest.json")
            return "accepted"
        } catch { return error.description }
    }

    @Test("the writer's bytes read back equal; each kind of bad field is refused by name")
    func strictness() throws {
        let text = Self.good.json.text
        #expect(try SnapshotManifest(bytes: Array(text.utf8), what: "m") == Self.good)
        let cases: [(String, String)] = [
            (text.replacingOccurrences(of: "\"features.parquet\"", with: "\"../x.parquet\""), "data[0].path"),
            (text.replacingOccurrences(of: "\"features.parquet\"", with: "\"/etc/passwd\""), "data[0].path"),
            (text.replacingOccurrences(of: "\"latency_ns\":\"5\"", with: "\"latency_ns\":\"-5\""), "latency_ns"),
            (text.replacingOccurrences(of: "\"latency_ns\":\"5\"", with: "\"latency_ns\":\"05\""), "latency_ns"),
            (
                text.replacingOccurrences(of: "\"latency_ns\":\"5\"", with: "\"latency_ns\":\"99999999999999999999\""),
                "latency_ns"
            ),
            (text.replacingOccurrences(of: "2012-06-21", with: "2012-02-30"), "session_date"),
            (text.replacingOccurrences(of: "2012-06-21", with: "9999-12-31"), "session_date"),
            (
                text.replacingOccurrences(
                    of: String(repeating: "c", count: 64),
                    with: "C" + String(repeating: "c", count: 63)
                ), "data[0].sha256"
            ),
            (text.replacingOccurrences(of: "\"format\":1", with: "\"format\":2"), "format"),
            (text.replacingOccurrences(of: "-1\"}", with: "-1\",\"zz\":1}"), "'$' has members"),
            (text.replacingOccurrences(of: "[\"mid\",\"imb\"]", with: "[\"mid\",\"mid\"]"), "repeats"),
            (text.replacingOccurrences(of: ",", with: ", "), "canonical"),
            ("", "s/manifest.json"),
        ]
        for (bad, field) in cases {
            let e = refusal(bad)
            #expect(e.hasPrefix("s/manifest.json") && e.contains(field), "\(bad)\n→ \(e)")
        }
    }
}
