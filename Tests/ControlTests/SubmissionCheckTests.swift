import Control
import ControlWire
import Foundation
import Registry
import TestSupport
import Testing
import TickBusCore

@Suite("Control: the registry's checks before publishing")
struct SubmissionCheckTests {
    func refusal(_ check: SubmissionCheck, _ s: Submission) -> String {
        do {
            let r = try check.check(s)
            return "accepted \(r?.id ?? "-")"
        } catch { return "\(error)" }
    }

    @Test("shadow needs no alias; an alias the policy does not gate proves nothing; rollback needs a previous champion")
    func checks() throws {
        let reg = try ControlRegistry("check")
        defer { reg.remove() }
        let registry = try Registry(root: reg.root)
        let check = SubmissionCheck(registryRoot: reg.root)
        // A shadow load resolves and verifies; the runtime id is the manifest's.
        let shadow = try check.check(Submission(verb: .load, role: .shadow, reference: reg.a, issuer: "t", reason: "r"))
        let runtimeId = try registry.version(id: reg.a).manifest.runtimeId
        #expect(shadow?.id == reg.a && shadow?.runtimeId == runtimeId)
        #expect(shadow?.name == "alpha")
        // Commands without a version need no registry at all.
        let nowhere = SubmissionCheck(registryRoot: reg.root + "/missing")
        #expect(try nowhere.check(Submission(verb: .promote, issuer: "t", reason: "r")) == nil)
        #expect(refusal(nowhere, Submission(verb: .rollback, issuer: "t", reason: "r")).contains("does not exist"))

        // The policy stops gating canary: the canary alias no longer vouches for a canary load.
        try "[alias.champion]\ngates = [\"features\"]\n".write(
            toFile: reg.root + "/policy.toml",
            atomically: true,
            encoding: .utf8
        )
        let canary = refusal(check, Submission(verb: .load, role: .canary, reference: reg.c, issuer: "t", reason: "r"))
        #expect(canary.contains("the policy does not gate 'canary'"), "\(canary)")
        #expect(
            refusal(check, Submission(verb: .load, role: .live, reference: reg.b, issuer: "t", reason: "r"))
                == "accepted \(reg.b)"
        )

        // A second model with a champion that moved once: a bare rollback must name the version.
        let model = TickBusTest.repositoryRoot.appendingPathComponent("Tests/ModelsTests/Fixtures/lgb_binary.txt").path
        let beta = try registry.add(
            Registry.AddRequest(name: "beta", model: model, features: reg.dir.appendingPathComponent("f.toml").path)
        )
        _ = try registry.setAlias("beta@champion", to: beta, reason: "first")
        let two = refusal(check, Submission(verb: .rollback, issuer: "t", reason: "r"))
        #expect(two.contains("2 models have a champion alias (alpha, beta)"), "\(two)")
        #expect(
            refusal(check, Submission(verb: .rollback, reference: beta, issuer: "t", reason: "r")) == "accepted \(beta)"
        )
        // Only beta left with a champion log: it moved once, so there is nothing to roll back to.
        try FileManager.default.removeItem(atPath: reg.root + "/aliases/alpha@champion.log")
        try FileManager.default.removeItem(atPath: reg.root + "/aliases/alpha@champion.head")
        let once = refusal(check, Submission(verb: .rollback, issuer: "t", reason: "r"))
        #expect(once.contains("beta@champion has moved only once"), "\(once)")
    }
}
