import Foundation
import Journal
import TestSupport
import Testing
import TickBusCore

/// Record a live feed → strategy session, then `replay --verify-decisions` reproduces every
/// decision record bit for bit (all fields but the publish-time clock read).
@Suite(.serialized) struct ReplayDecisionTests {
    /// The bundled session's feature definition (the same six features the golden tests use).
    static let definitionPath = TickBusTest.repositoryRoot.appendingPathComponent(
        "Recordings/synthetic-5/features.toml"
    ).path
    static let names = ["mid", "spread", "imb", "ofi50", "ret1s", "vol_ev"]

    /// Writes the feature definition and two linear models; returns their paths.
    static func fixtures(_ dir: String) throws -> (features: String, live: String, other: String) {
        let f = definitionPath
        func linear(_ coef: [Double], _ name: String) throws -> String {
            let path = dir + "/" + name
            let json =
                "{\"type\": \"linear\", \"feature_names\": [\(names.map { "\"\($0)\"" }.joined(separator: ","))], "
                + "\"coefficients\": [\(coef.map { "\($0)" }.joined(separator: ","))], \"intercept\": 0.01}"
            try json.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        return (
            f, try linear([1e-7, 0.1, 0.5, 0.001, 1, 2], "live.json"),
            try linear([1e-7, 0.1, 0.5, 0.001, 1, 2.5], "other.json")
        )
    }

    /// Runs feed → strategy → recorder (all lossless) and returns the strategy's decision count.
    func recordSession(
        bus: String,
        dir: String,
        source: String,
        messages: Int,
        features: String,
        model: String
    ) throws -> UInt64 {
        let recorder = try Child([
            "record", "--bus", bus, "--rings", "market,decisions.S", "--dir", dir, "--gating", "--attach-timeout", "30",
        ])
        let strategy = try Child([
            "strategy", "--bus", bus, "--features", features, "--model", model, "--name", "S", "--cpu", "0",
            "--gating", "--attach-timeout", "30",
        ])
        let feed = try Child([
            "feed", "--bus", bus, "--source", source, "--messages", "\(messages)", "--wait-readers", "2",
            "--wait-timeout", "30",
        ])
        let f = feed.wait(timeout: 240)
        let s = strategy.wait(timeout: 120)
        let r = recorder.wait(timeout: 120)
        #expect(f.status == 0 && !f.timedOut, "feed: \(f.stderr)")
        #expect(s.status == 0 && !s.timedOut, "strategy: \(s.stderr)")
        #expect(r.status == 0 && !r.timedOut, "recorder: \(r.stderr) \(r.stdout)")
        #expect(keyValues(r.lastLine)["lost"] == "0", "\(r.stdout)")
        let decisions =
            UInt64(s.stdout.split(separator: "\n").last.map { keyValues(String($0))["decisions"] ?? "" } ?? "") ?? 0
        let ringLine = r.stdout.split(separator: "\n").first { $0.hasPrefix("ring=decisions.S") }.map(String.init) ?? ""
        #expect(keyValues(ringLine)["records"] == "\(decisions)", "\(r.stdout)")
        return decisions
    }

    func verify(_ dir: String, _ features: String, _ model: String) throws -> Child.Result {
        try TickBusTest.run(
            ["replay", "--dir", dir, "--verify-decisions", "--features", features, "--model", model],
            timeout: 240
        )
    }

    @Test func syntheticSessionReplaysBitForBit() throws {
        let bus = TickBusTest.uniqueBus("jdec")
        let dir = temporaryDirectory("dec")
        defer {
            TickBusTest.removeBus(bus)
            removeDirectory(dir)
        }
        let fx = try Self.fixtures(dir)
        let session = dir + "/session"
        let decisions = try recordSession(
            bus: bus,
            dir: session,
            source: "synthetic:5",
            messages: 20000,
            features: fx.features,
            model: fx.live
        )
        #expect(decisions > 100)
        let ok = try verify(session, fx.features, fx.live)
        #expect(ok.status == 0, "\(ok.stdout) \(ok.stderr)")
        let kv = keyValues(ok.lastLine)
        #expect(kv["identical"] == "true")
        #expect(kv["decisions"] == "\(decisions)")
        // A different model: the first decision differs, and the report names the field.
        let bad = try verify(session, fx.features, fx.other)
        #expect(bad.status == 1)
        #expect(bad.stdout.contains("first difference: decision 0"), "\(bad.stdout)")
        #expect(
            bad.stdout.contains("live_prediction") || bad.stdout.contains("model_id") || bad.stdout.contains("signal"),
            "\(bad.stdout)"
        )
    }

    @Test func lobsterSessionReplaysBitForBit() throws {
        let messages = try TickBusTest.sharedData("lobster/GOOG_2012-06-21_34200000_37800000_message_10.csv")
        let book = try TickBusTest.sharedData("lobster/GOOG_2012-06-21_34200000_37800000_orderbook_10.csv")
        let bus = TickBusTest.uniqueBus("jlob")
        let dir = temporaryDirectory("lob")
        defer {
            TickBusTest.removeBus(bus)
            removeDirectory(dir)
        }
        let fx = try Self.fixtures(dir)
        let session = dir + "/session"
        let decisions = try recordSession(
            bus: bus,
            dir: session,
            source: "lobster:\(messages),\(book)",
            messages: 30000,
            features: fx.features,
            model: fx.live
        )
        #expect(decisions > 100)
        let ok = try verify(session, fx.features, fx.live)
        #expect(ok.status == 0, "\(ok.stdout) \(ok.stderr)")
        #expect(keyValues(ok.lastLine)["identical"] == "true")
        #expect(keyValues(ok.lastLine)["decisions"] == "\(decisions)")
    }
}
