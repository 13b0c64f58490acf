import Foundation
import Registry
import TestSupport
import Testing

@Suite("Registry: policy file and verified artifacts")
struct PolicyArtifactTests {
    @Test("malformed policies are refused with the line and what was wrong; the default gates champion and canary")
    func policy() throws {
        func parse(_ text: String) throws(RegistryError) -> Policy {
            try Policy(bytes: Array(text.utf8), what: "p.toml")
        }
        #expect { _ = try parse("[alias.champion]\ngates = [\"vibes\"]\n") } throws: {
            "\($0)".contains("p.toml:2: unknown gate 'vibes'")
        }
        #expect { _ = try parse("[alias.champion]\nlatency_p99_ns = -3\n") } throws: {
            "\($0)".contains("p.toml:2: latency_p99_ns must be")
        }
        #expect { _ = try parse("[risk]\n") } throws: { "\($0)".contains("unknown table [risk]") }
        #expect { _ = try parse("x = 1\n") } throws: { "\($0)".contains("key outside a table") }
        #expect { _ = try parse("[alias.champion]\ngates = [\"latency\"]\napprovals = [\"risk\"]\n") } throws: {
            "\($0)".contains("lists approvals but not the 'approvals' gate")
        }
        let p = try parse(
            "# comment\n[alias.champion]  # gated\ngates = [\"features\", \"approvals\",]\napprovals = [\"risk\"]\n[keys]\nrisk = [\"ab\"]\n"
        )
        #expect(p.aliases["champion"]?.gates == ["features", "approvals"] && p.keys["risk"] == ["ab"])
        #expect(try parse("[alias.canary]\n").aliases["canary"]?.gates == ["features", "predictions", "latency"])
        let d = try Policy(bytes: Array(Policy.defaultText.utf8), what: "default")
        #expect(Set(d.aliases.keys) == ["champion", "canary"])
    }

    @Test("an ungated alias moves without gates; a loader's artifact is hash-checked and a tampered one refused")
    func artifact() throws {
        let s = Scratch("artifact")
        defer { s.remove() }
        let reg = try Registry.create(root: s.root)
        let id = try s.add(reg)  // no examples: would fail the predictions gate of champion
        #expect(try reg.setAlias("alpha@research", to: id, reason: "explore").evidence == "")
        let (v, model, definition) = try reg.artifact("alpha@research")
        let file = Array(try Data(contentsOf: URL(fileURLWithPath: Scratch.fixture("lgb_binary.txt"))))
        #expect(v.id == id && model == file)
        #expect(String(decoding: definition, as: UTF8.self).contains("f5"))
        let path = s.root + "/objects/sha256/" + v.manifest.model
        chmod(path, 0o644)
        var bytes = model
        bytes[10] ^= 1
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        #expect { _ = try reg.artifact(id) } throws: { "\($0)".contains("altered") }
    }
}
