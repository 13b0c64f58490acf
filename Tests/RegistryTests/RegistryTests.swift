import Foundation
import Models
import Registry
import TestSupport
import Testing

/// A temporary registry with the model fixtures at hand.
struct Scratch {
    let dir: URL
    var root: String { dir.appendingPathComponent("registry").path }
    static let fixtures = TickBusTest.repositoryRoot.appendingPathComponent("Tests/ModelsTests/Fixtures")
    static func fixture(_ name: String) -> String { fixtures.appendingPathComponent(name).path }

    init(_ prefix: String) { dir = TickBusTest.temporaryDirectory("registry-\(prefix)") }
    func remove() { try? FileManager.default.removeItem(at: dir) }

    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        let p = dir.appendingPathComponent(name).path
        try text.write(toFile: p, atomically: true, encoding: .utf8)
        return p
    }

    /// A definition of six features named `prefix0…prefix5`.
    func definition(_ prefix: String = "f") throws -> String {
        try write("\(prefix).toml", (0..<6).map { "[[feature]]\nname = \"\(prefix)\($0)\"\nkind = \"mid\"\n" }.joined())
    }

    /// The fixture's rows and LightGBM's predictions merged by Tools/export_examples.py.
    func examples(_ model: String, edit: ((String) -> String)? = nil) throws -> String {
        let out = dir.appendingPathComponent("\(model).examples.csv").path
        let script = TickBusTest.repositoryRoot.appendingPathComponent("Tools/export_examples.py").path
        let r = try Child(
            [
                "python3", script, "--inputs", Self.fixture("\(model).input.csv"), "--predictions",
                Self.fixture("\(model).pred.csv"),
                "--out", out,
            ],
            executable: "/usr/bin/env"
        ).wait(timeout: 60)
        #expect(r.status == 0, "export_examples: \(r.stderr)")
        if let edit {
            try edit(try String(contentsOfFile: out, encoding: .utf8)).write(
                toFile: out,
                atomically: true,
                encoding: .utf8
            )
        }
        return out
    }

    func add(
        _ registry: Registry,
        model: String = "lgb_binary.txt",
        features: String? = nil,
        examples: String? = nil,
        backtest: String? = nil,
        tags: [String: String] = [:],
        name: String = "alpha"
    ) throws -> String {
        var r = Registry.AddRequest(name: name, model: Self.fixture(model), features: try features ?? definition())
        if let examples { r.objects["examples"] = examples }
        if let backtest { r.objects["backtest"] = backtest }
        r.tags = tags
        return try registry.add(r)
    }
}

@Suite("Registry: content-addressed versions")
struct RegistryVersionTests {
    @Test("same inputs give the same id; one byte changed anywhere gives a new one")
    func ids() throws {
        let s = Scratch("ids")
        defer { s.remove() }
        let reg = try Registry.create(root: s.root)
        let ex = try s.examples("lgb_binary")
        let a = try s.add(reg, examples: ex, tags: ["run": "7"])
        #expect(a.count == 64)
        #expect(try s.add(reg, examples: ex, tags: ["run": "7"]) == a)
        #expect(try s.add(reg, examples: ex, tags: ["run": "8"]) != a)
        #expect(try s.add(reg, examples: ex) != a)
        #expect(try s.add(reg, examples: ex, tags: ["run": "7"], name: "beta") != a)
        // One byte of the model (a comment-free trailing newline), of the definition, of the examples.
        var model = try String(contentsOfFile: Scratch.fixture("lgb_binary.txt"), encoding: .utf8)
        model += "\n"
        let m2 = try s.write("m2.txt", model)
        var r = Registry.AddRequest(name: "alpha", model: m2, features: try s.definition())
        r.objects["examples"] = ex
        r.tags = ["run": "7"]
        let b = try reg.add(r)
        #expect(b != a)
        #expect(try reg.version(id: b).manifest.runtimeId != (try reg.version(id: a).manifest.runtimeId))
        let def2 = try s.write("f2.toml", String(contentsOfFile: try s.definition(), encoding: .utf8) + " ")
        #expect(try s.add(reg, features: def2, examples: ex, tags: ["run": "7"]) != a)
        let ex2 = try s.examples("lgb_binary") { $0 + "\n" }
        #expect(try s.add(reg, examples: ex2, tags: ["run": "7"]) != a)
        // The manifest carries the runtime id the strategy computes and the names in order.
        let m = try reg.version(id: a).manifest
        #expect(m.runtimeId == (try Model.load(path: Scratch.fixture("lgb_binary.txt"))).id)
        #expect(m.features == ["f0", "f1", "f2", "f3", "f4", "f5"])
        #expect(m.modelFormat == "lightgbm")
        #expect(m.id == a)
        // Stored bytes are canonical and the objects read-only.
        let bytes = try Data(contentsOf: URL(fileURLWithPath: s.root + "/manifests/sha256/" + a))
        #expect(Array(bytes) == m.bytes)
        let mode =
            try FileManager.default.attributesOfItem(atPath: s.root + "/objects/sha256/" + m.model)[.posixPermissions]
            as? Int
        #expect(mode == 0o444)
    }

    @Test("canonical JSON is byte-stable: sorted keys by bytes, minimal escapes, raw UTF-8")
    func canonical() throws {
        let v = CanonicalJSON.object([
            "b": .integer(10), "a": .string("q\"\\\n\u{1}é"), "B": .array([.integer(0)]), "é": .object([:]),
        ])
        #expect(v.text == "{\"B\":[0],\"a\":\"q\\\"\\\\\\n\\u0001é\",\"b\":10,\"é\":{}}")
        #expect(try CanonicalJSON.parseCanonical(v.bytes, what: "t") == v)
        #expect(throws: RegistryError.self) {
            try CanonicalJSON.parseCanonical(Array("{\"b\":1, \"a\":2}".utf8), what: "t")
        }
        #expect(throws: RegistryError.self) { try CanonicalJSON.parseCanonical(Array("{\"a\":1.5}".utf8), what: "t") }
        // Not JSON at all: the parser's error is kept as the cause (with its location).
        #expect { try CanonicalJSON.parseCanonical(Array("{not".utf8), what: "t") } throws: { error in
            guard case .syntax(let what, let cause)? = error as? RegistryError else { return false }
            return what == "t" && "\(cause)".contains("syntax error at")
        }
    }

    @Test("bad input: missing directory, malformed manifest, unknown id, short and ambiguous prefixes")
    func badInput() throws {
        let s = Scratch("bad")
        defer { s.remove() }
        #expect { _ = try Registry(root: s.root + "/nope") } throws: { "\($0)".contains("does not exist") }
        let reg = try Registry.create(root: s.root)
        #expect { _ = try reg.resolve("abcdef") } throws: { "\($0)".contains("at least 12") }
        #expect { _ = try reg.resolve("0123456789ab") } throws: { "\($0)".contains("no version matches") }
        #expect { _ = try reg.resolve("xyz@") } throws: { "\($0)".contains("must be") }
        // Two fake manifests sharing a 12-digit prefix: ambiguous (and malformed when resolved in full).
        let p = s.root + "/manifests/sha256/"
        for bytes in [Array("{\"x\":1}".utf8), Array("{not json".utf8)] {
            let id = ObjectStoreHash.sha256(bytes)
            try Data(bytes).write(to: URL(fileURLWithPath: p + id))
            #expect { _ = try reg.resolve(id) } throws: { "\($0)".contains(p + id) }
        }
        let ids = try reg.versionIds()
        #expect(ids.count == 2)
        // Rename one so both share a prefix.
        let shared = String(ids[0].prefix(12))
        let fake = shared + String(ids[1].dropFirst(12))
        try FileManager.default.moveItem(atPath: p + ids[1], toPath: p + fake)
        #expect { _ = try reg.resolve(shared) } throws: { "\($0)".contains("ambiguous") }
        #expect(try !reg.verify().isEmpty)
    }
}

/// sha256 for tests, through the registry's own canonical types (no second crypto dependency).
enum ObjectStoreHash {
    static func sha256(_ b: [UInt8]) -> String { Manifest.sha256Hex(b) }
}
