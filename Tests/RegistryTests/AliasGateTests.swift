import Foundation
import Registry
import TestSupport
import Testing

@Suite("Registry: alias log, gates, approvals, verify")
struct AliasGateTests {
    let t0: Int64 = 1_764_000_000_000_000_000

    @Test("history --at before, between and after several moves; verify finds edited, deleted and cut entries")
    func history() throws {
        let s = Scratch("history")
        defer { s.remove() }
        let reg = try Registry.create(root: s.root)
        let ex = try s.examples("lgb_binary")
        let ids = try (0..<3).map { try s.add(reg, examples: ex, tags: ["n": "\($0)"]) }
        for (i, id) in ids.enumerated() {
            _ = try reg.setAlias(
                "alpha@staging",
                to: id,
                reason: "move \(i)",
                who: "tester",
                timeNs: t0 + Int64(i) * 1000
            )
        }
        let log = try reg.aliasLog(name: "alpha", alias: "staging")
        #expect(try log.entry(at: t0 - 1) == nil)
        #expect(try log.entry(at: t0)?.to == ids[0])
        #expect(try log.entry(at: t0 + 999)?.to == ids[0])
        #expect(try log.entry(at: t0 + 1000)?.to == ids[1])
        #expect(try log.entry(at: t0 + 5000)?.to == ids[2])
        let e = try log.entries()
        #expect(e[0].prev == String(repeating: "0", count: 64))
        #expect(e[1].prev == e[0].hash && e[2].from == ids[1])
        #expect(try reg.resolve("alpha@staging").id == ids[2])
        #expect(try reg.verify().isEmpty)
        #expect(try Registry.parseTime("2026-12-02T05:30:00Z") == 1_796_189_400_000_000_000)
        #expect(try Registry.parseTime("2026-12-02T05:30:00.5Z") == 1_796_189_400_500_000_000)
        #expect(Registry.formatTime(1_796_189_400_500_000_000) == "2026-12-02T05:30:00.500000000Z")

        let path = s.root + "/aliases/alpha@staging.log"
        let head = s.root + "/aliases/alpha@staging.head"
        let original = try String(contentsOfFile: path, encoding: .utf8)
        func check(_ text: String, _ expect: String) throws {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            let problems = try reg.verify()
            #expect(problems.contains { $0.description.contains(expect) }, "\(expect) not in \(problems)")
            try original.write(toFile: path, atomically: true, encoding: .utf8)
        }
        try check(original.replacingOccurrences(of: "move 1", with: "move X"), "prev is")  // edited entry
        var lines = original.split(separator: "\n").map(String.init)
        lines.remove(at: 1)
        try check(lines.joined(separator: "\n") + "\n", "seq is 2, expected 1")  // deleted entry
        try check(original.split(separator: "\n").prefix(2).joined(separator: "\n") + "\n", "entries cut or added")  // cut tail
        try check(original + "garbage\n", "syntax error")  // a line that is not JSON
        try check(String(original.dropLast()), "no newline")  // a partial last write
        try check(original.replacingOccurrences(of: "\"seq\":0", with: "\"seq\": 0"), "canonical")  // reformatted
        #expect(try reg.verify().isEmpty)
        try FileManager.default.removeItem(atPath: path)
        #expect(try reg.verify().contains { $0.reason.contains("log deleted") })
        _ = head
    }

    @Test("verify names a tampered object and manifest, and a missing object")
    func tamper() throws {
        let s = Scratch("tamper")
        defer { s.remove() }
        let reg = try Registry.create(root: s.root)
        let id = try s.add(reg, examples: try s.examples("lgb_binary"))
        let m = try reg.version(id: id).manifest
        func overwrite(_ p: String, _ edit: (inout Data) -> Void) throws {
            var d = try Data(contentsOf: URL(fileURLWithPath: p))
            edit(&d)
            chmod(p, 0o644)
            try d.write(to: URL(fileURLWithPath: p))
        }
        let obj = s.root + "/objects/sha256/" + m.model
        try overwrite(obj) { $0[100] ^= 1 }
        #expect(try reg.verify().contains { $0.what == obj && $0.reason.contains("altered") })
        try FileManager.default.removeItem(atPath: s.root + "/objects/sha256/" + m.definition)
        #expect(try reg.verify().contains { $0.reason.contains("definition object \(m.definition) is missing") })
        let man = s.root + "/manifests/sha256/" + id
        try overwrite(man) { $0[$0.count - 3] ^= 1 }
        #expect(try reg.verify().contains { $0.what == man && $0.reason.contains("altered") })
    }

    func policy(_ s: Scratch, gates: String, budget: Int = 10_000_000, roles: String = "", keys: String = "") throws {
        try s.write(
            "registry/policy.toml",
            "[alias.champion]\ngates = [\(gates)]\nlatency_p99_ns = \(budget)\n\(roles)\n[keys]\n\(keys)\n"
        )
    }

    func refusal(_ reg: Registry, _ id: String) -> [String: String] {
        do {
            _ = try reg.setAlias("alpha@champion", to: id, reason: "test")
            return [:]
        } catch {
            guard case .refused(_, _, let failures) = error else { return ["error": "\(error)"] }
            return Dictionary(failures.map { ($0.gate, $0.detail) }, uniquingKeysWith: { a, _ in a })
        }
    }

    @Test("each gate refuses with its reason; a move passing every gate succeeds")
    func gates() throws {
        let s = Scratch("gates")
        defer { s.remove() }
        let reg = try Registry.create(root: s.root)
        let good = try s.add(reg, examples: try s.examples("lgb_binary"))
        // Default policy: champion gated; a version with a wrong feature list and differing predictions.
        let wrongNames = try s.add(reg, features: try s.definition("g"), examples: try s.examples("lgb_binary"))
        let r1 = refusal(reg, wrongNames)
        #expect(r1["features"]?.contains("differ from the definition") == true, "\(r1)")
        let off = try s.examples("lgb_binary") { text in
            var lines = text.split(separator: "\n").map(String.init)
            var f = lines[3].split(separator: ",").map(String.init)
            f[f.count - 1] = String(Double(f[f.count - 1])! * 1.000001)
            lines[3] = f.joined(separator: ",")
            return lines.joined(separator: "\n") + "\n"
        }
        let differing = try s.add(reg, examples: off, tags: ["x": "1"])
        let r2 = refusal(reg, differing)
        #expect(r2["predictions"]?.contains("example row 3") == true, "\(r2)")
        #expect(r2["features"] == nil)
        let none = try s.add(reg, tags: ["x": "2"])
        #expect(refusal(reg, none)["predictions"]?.contains("no example rows") == true)
        // Linear model without names: by count.
        #expect(
            refusal(reg, try s.add(reg, model: "linear.json", examples: try s.examples("linear")))["features"] == nil
        )

        try policy(s, gates: "\"latency\"", budget: 1)
        #expect(refusal(reg, good)["latency"]?.contains("over budget") == true)
        try policy(s, gates: "\"backtest\"")
        #expect(refusal(reg, good)["backtest"]?.contains("no backtest report") == true)

        // Approvals: missing, forged, copied, then a good one.
        let key = s.dir.appendingPathComponent("risk.key").path
        let other = s.dir.appendingPathComponent("other.key").path
        let pub = try Registry.keygen(out: key)
        let otherPub = try Registry.keygen(out: other)
        #expect { _ = try Registry.keygen(out: key) } throws: { "\($0)".contains("refusing to overwrite") }
        try policy(
            s,
            gates: "\"features\", \"predictions\", \"latency\", \"approvals\"",
            roles: "approvals = [\"risk\"]",
            keys: "risk = [\"\(pub)\"]"
        )
        #expect(refusal(reg, good)["approvals"]?.contains("role risk: no approval") == true)
        #expect { _ = try reg.approve(good, alias: "alpha@champion", role: "risk", keyPath: other) } throws: {
            "\($0)".contains("not listed")
        }
        let pol = try reg.policy()
        // Forged: a listed public key but a signature by another key.
        var forged = try Approval.sign(
            version: good,
            alias: "alpha@champion",
            policy: pol.hash,
            role: "risk",
            privateKeyHex: try String(contentsOfFile: other, encoding: .utf8).trimmingCharacters(
                in: .whitespacesAndNewlines
            ),
            keyPath: other
        )
        #expect(forged.publicKey == otherPub)
        forged.publicKey = pub
        _ = try reg.store(forged)
        #expect(refusal(reg, good)["approvals"]?.contains("does not verify") == true)
        #expect(try reg.verify().contains { $0.reason.contains("does not verify") })
        // Copied: a genuine approval of another version placed under this one.
        let otherVersion = try s.add(reg, examples: try s.examples("lgb_binary"), tags: ["y": "1"])
        let genuine = try reg.approve(otherVersion, alias: "alpha@champion", role: "risk", keyPath: key)
        try FileManager.default.createDirectory(
            atPath: s.root + "/approvals/" + good,
            withIntermediateDirectories: true
        )
        _ = FileManager.default.createFile(atPath: s.root + "/approvals/" + good + "/" + genuine, contents: Data())
        #expect(refusal(reg, good)["approvals"]?.contains("copied") == true)
        #expect(try reg.verify().contains { $0.reason.contains("copied") })
        // Clean up the bad ones, approve properly: every gate passes.
        try FileManager.default.removeItem(atPath: s.root + "/approvals/" + good)
        let ok = try reg.approve(good, alias: "alpha@champion", role: "risk", keyPath: key)
        let entry = try reg.setAlias("alpha@champion", to: good, reason: "all gates")
        #expect(entry.approvals == [ok] && !entry.evidence.isEmpty)
        #expect(try reg.verify().isEmpty)
        let evidence = String(
            decoding: try Data(contentsOf: URL(fileURLWithPath: s.root + "/objects/sha256/" + entry.evidence)),
            as: UTF8.self
        )
        #expect(evidence.contains("\"gate\":\"latency\"") && evidence.contains("p99"))
        // A version moved with approvals keeps the same id: results and approvals are not in it.
        #expect(try s.add(reg, examples: try s.examples("lgb_binary")) == good)
    }
}
