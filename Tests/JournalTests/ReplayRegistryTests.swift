import Foundation
import TestSupport
import Testing

/// `strategy` and `replay --verify-decisions` from registry versions (`--registry DIR --live ID
/// [--shadow ID]`): the same decisions as from the files, and a tampered object, an unknown id or
/// a mixed combination of flags refused before any ring exists.
@Suite(.serialized) struct ReplayRegistryTests {
    /// `tickbus registry add`; returns the id (the last line).
    func add(_ registry: String, name: String, model: String, features: String) throws -> String {
        let r = try TickBusTest.run([
            "registry", "add", "--registry", registry, "--name", name, "--model", model, "--features", features,
        ])
        #expect(r.status == 0, "registry add: \(r.stderr)")
        return r.lastLine
    }

    /// The registry object holding exactly the bytes of `file`.
    func objectPath(_ registry: String, holding file: String) throws -> String {
        let want = try Data(contentsOf: URL(fileURLWithPath: file))
        let dir = registry + "/objects/sha256"
        for name in try FileManager.default.contentsOfDirectory(atPath: dir)
        where (try? Data(contentsOf: URL(fileURLWithPath: dir + "/" + name))) == want {
            return dir + "/" + name
        }
        throw CocoaError(.fileNoSuchFile)
    }

    /// True if the bus holds a ring (or any entry) named `ring`.
    func ringExists(_ bus: String, _ ring: String) -> Bool {
        FileManager.default.fileExists(atPath: "/dev/shm/tickbus/\(bus)/\(ring)")
    }

    @Test func registryVersionsDecideAsTheFilesAndTamperingIsRefused() throws {
        let bus = TickBusTest.uniqueBus("jreg")
        let dir = temporaryDirectory("reg")
        defer {
            TickBusTest.removeBus(bus)
            removeDirectory(dir)
        }
        let fx = try ReplayDecisionTests.fixtures(dir)
        let registry = dir + "/registry"
        let live = try add(registry, name: "alpha", model: fx.live, features: fx.features)
        let shadow = try add(registry, name: "alpha", model: fx.other, features: fx.features)
        #expect(live.utf8.count == 64 && shadow.utf8.count == 64 && live != shadow)
        let alias = try TickBusTest.run([
            "registry", "alias", "set", "alpha@dev", live, "--reason", "test", "--registry", registry,
        ])
        #expect(alias.status == 0, "alias set: \(alias.stderr)")

        // A session whose strategy loads a 12-digit prefix live and a full id as shadow.
        let session = dir + "/session"
        let recorder = try Child([
            "record", "--bus", bus, "--rings", "market,decisions.S", "--dir", session, "--gating", "--attach-timeout",
            "30",
        ])
        let strategy = try Child([
            "strategy", "--bus", bus, "--registry", registry, "--live", String(live.prefix(12)), "--shadow", shadow,
            "--name", "S", "--cpu", "0", "--gating", "--attach-timeout", "30",
        ])
        let feed = try Child([
            "feed", "--bus", bus, "--source", "synthetic:5", "--messages", "20000", "--wait-readers", "2",
            "--wait-timeout", "30",
        ])
        let f = feed.wait(timeout: 240)
        let s = strategy.wait(timeout: 120)
        let r = recorder.wait(timeout: 120)
        #expect(f.status == 0 && !f.timedOut, "feed: \(f.stderr)")
        #expect(s.status == 0 && !s.timedOut, "strategy: \(s.stderr)")
        #expect(r.status == 0 && !r.timedOut, "recorder: \(r.stderr)")
        #expect(s.stderr.contains("registry \(registry): live alpha \(live), shadow alpha \(shadow)"), "\(s.stderr)")
        let decisions = keyValues(s.lastLine)["decisions"] ?? ""
        #expect((UInt64(decisions) ?? 0) > 100, "\(s.stdout)")

        // The files reproduce the registry strategy's decisions, and the registry (by alias) the same.
        let files = try TickBusTest.run(
            [
                "replay", "--dir", session, "--verify-decisions", "--features", fx.features, "--model", fx.live,
                "--shadow", fx.other,
            ],
            timeout: 240
        )
        #expect(files.status == 0, "\(files.stdout) \(files.stderr)")
        #expect(keyValues(files.lastLine)["identical"] == "true")
        #expect(keyValues(files.lastLine)["decisions"] == decisions)
        let fromRegistry = try TickBusTest.run(
            [
                "replay", "--dir", session, "--verify-decisions", "--registry", registry, "--live", "alpha@dev",
                "--shadow", shadow,
            ],
            timeout: 240
        )
        #expect(fromRegistry.status == 0, "\(fromRegistry.stdout) \(fromRegistry.stderr)")
        #expect(fromRegistry.lastLine == files.lastLine)

        // A shadow that is the live one swapped: the first decision differs (the model ids).
        let swapped = try TickBusTest.run(
            ["replay", "--dir", session, "--verify-decisions", "--registry", registry, "--live", shadow],
            timeout: 240
        )
        #expect(swapped.status == 1, "\(swapped.stdout) \(swapped.stderr)")

        // An unknown id: refused at strategy start and at replay, no ring made.
        let unknown = try TickBusTest.run([
            "strategy", "--bus", bus, "--registry", registry, "--live", "000000000000", "--name", "U", "--cpu", "0",
            "--attach-timeout", "1",
        ])
        #expect(unknown.status != 0)
        #expect(unknown.stderr.contains("no version matches 000000000000"), "\(unknown.stderr)")
        #expect(!ringExists(bus, "decisions.U"))
        let unknownReplay = try TickBusTest.run([
            "replay", "--dir", session, "--verify-decisions", "--registry", registry, "--live", "000000000000",
        ])
        #expect(unknownReplay.status != 0)
        #expect(unknownReplay.stderr.contains("no version matches 000000000000"), "\(unknownReplay.stderr)")

        // Files and a registry together, or half of either, are usage errors.
        for args in [
            ["--registry", registry, "--live", live, "--features", fx.features, "--model", fx.live],
            ["--live", live], ["--registry", registry], ["--features", fx.features],
        ] {
            let mixed = try TickBusTest.run(
                ["strategy", "--bus", bus, "--name", "M", "--cpu", "0"] + args
            )
            #expect(mixed.status == 64, "\(args): \(mixed.stderr)")
            #expect(!ringExists(bus, "decisions.M"))
            let mixedReplay = try TickBusTest.run(["replay", "--dir", session, "--verify-decisions"] + args)
            #expect(mixedReplay.status == 64, "\(args): \(mixedReplay.stderr)")
        }
        let noVerify = try TickBusTest.run(["replay", "--dir", session, "--bus", bus, "--registry", registry])
        #expect(noVerify.status == 64 && noVerify.stderr.contains("need --verify-decisions"), "\(noVerify.stderr)")

        // A shadow version with another definition (here the same one with a comment added) is refused.
        let otherDefinition = dir + "/other.toml"
        try (String(contentsOfFile: fx.features, encoding: .utf8) + "\n# another definition\n").write(
            toFile: otherDefinition,
            atomically: true,
            encoding: .utf8
        )
        let foreign = try add(registry, name: "beta", model: fx.other, features: otherDefinition)
        let mismatch = try TickBusTest.run([
            "replay", "--dir", session, "--verify-decisions", "--registry", registry, "--live", live, "--shadow",
            foreign,
        ])
        #expect(mismatch.status == 64)
        #expect(
            mismatch.stderr.contains("shadow version \(foreign) stores feature definition"),
            "\(mismatch.stderr)"
        )

        // A tampered model object (one byte flipped): refused at strategy start and at replay,
        // naming the object; no ring is left behind.
        let object = try objectPath(registry, holding: fx.live)
        #expect(chmod(object, 0o644) == 0)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: object))
        bytes[bytes.count / 2] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: object))
        let tampered = try TickBusTest.run([
            "strategy", "--bus", bus, "--registry", registry, "--live", live, "--name", "T", "--cpu", "0",
            "--attach-timeout", "1",
        ])
        #expect(tampered.status != 0)
        #expect(
            tampered.stderr.contains("\(object): content does not hash to its name (altered)"),
            "\(tampered.stderr)"
        )
        #expect(!ringExists(bus, "decisions.T"))
        #expect(!ringExists(bus, "stats.T"))
        let tamperedReplay = try TickBusTest.run([
            "replay", "--dir", session, "--verify-decisions", "--registry", registry, "--live", "alpha@dev",
        ])
        #expect(tamperedReplay.status != 0)
        #expect(
            tamperedReplay.stderr.contains("\(object): content does not hash to its name"),
            "\(tamperedReplay.stderr)"
        )
    }
}
