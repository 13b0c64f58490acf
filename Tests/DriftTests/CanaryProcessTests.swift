import Foundation
import Journal
import TestSupport
import Testing
import TickBusCore

/// Issue 14's acceptance 3, in separate processes (the session of `MonitorProcessTests`): a canary
/// at 50% beside A, judged paired on the same decisions. A deliberately worse canary (the opposite
/// of A's signal) is stopped automatically (`canary 0`); one as good as A (the same signal up to a
/// tiny intercept) is promoted after two passing windows. Both decisions are journaled: the
/// strategy's control record applies them, and ring `control`'s journal keeps the commands with
/// the statistics in their reason.
@Suite("Drift monitor: automatic canary analysis", .serialized)
struct CanaryProcessTests {
    static let policy = """
        [canary]
        min_pairs = 2000
        alpha = 0.01
        promote_windows = 2
        max_latency_ratio = 50

        """

    /// The monitor's canary verdict lines, the control commands it sent and what the strategy did.
    func run(
        _ canary: KeyPath<MonitorProcessTests.Setup, String>,
        name: String
    ) throws -> (
        verdicts: [[String: Any]], reasons: [String], applied: [ControlVerb], roles: RoleState?,
        s: MonitorProcessTests.Setup
    ) {
        let s = try MonitorProcessTests.Setup("canary-\(name)")
        let policy = s.dir + "/canary.toml"
        try Self.policy.write(toFile: policy, atomically: true, encoding: .utf8)
        let itch = try MonitorProcessTests.feedFile(s, seed: 2, shifted: false)
        let run = try MonitorProcessTests.session(s, itch: itch, name: name, canary: s[keyPath: canary], policy: policy)
        let verdicts = run.lines.filter { $0["canary"] != nil }
        var reasons: [String] = []
        try JournalReader(directory: run.journal, ring: "control").readToEnd { e in
            guard case .record(let p) = e, let c = try? ControlCommand.decode(p, size: ControlCommandLayout.slotSize)
            else { return }
            reasons.append("\(c.verb) \(c.percent): \(c.reason)")
        }
        var applied: [ControlVerb] = []
        var roles: RoleState?
        try JournalReader(directory: run.journal, ring: "decisions.S").readToEnd { e in
            guard case .record(let p) = e,
                p.load(fromByteOffset: RecordHeader.kind, as: UInt16.self) == RecordKind.control.rawValue
            else { return }
            let c = ControlRecordView(p)
            if c.applied, let v = c.verb {
                applied.append(v)
                roles = c.roles
            }
        }
        return (verdicts, reasons, applied, roles, s)
    }

    @Test("a worse canary is stopped automatically, with its statistics journaled", .timeLimit(.minutes(4)))
    func worseIsStopped() throws {
        let r = try run(\.worse, name: "worse")
        defer { r.s.remove() }
        let fail = r.verdicts.first { $0["canary"] as? String == "fail" }
        #expect(fail != nil, "\(r.verdicts)")
        #expect(!r.verdicts.contains { $0["canary"] as? String == "promote" })
        if let f = fail {
            #expect((f["pairs"] as? Int ?? 0) >= 2000)
            #expect((f["mcnemar_pvalue"] as? Double ?? 1) < 0.01, "\(f)")
            #expect((f["live_only_hits"] as? Int ?? 0) > (f["canary_only_hits"] as? Int ?? 0))
            #expect((f["mean_pnl_difference"] as? Double ?? 0) < 0)
        }
        #expect(r.applied == [.canary], "\(r.applied)")
        #expect(r.roles?.canaryPercent == 0 && r.roles?.liveModelId != 0)
        #expect(r.reasons.count == 1 && r.reasons[0].hasPrefix("canary 0: canary fail: n="), "\(r.reasons)")
        #expect(r.reasons.first?.contains("mcnemar p=") == true)
    }

    @Test("a canary as good as live is promoted after two passing windows", .timeLimit(.minutes(4)))
    func equalIsPromoted() throws {
        let r = try run(\.same, name: "same")
        defer { r.s.remove() }
        let outcomes = r.verdicts.map { $0["canary"] as? String ?? "?" }
        #expect(outcomes == ["pass", "promote"], "\(r.verdicts)")
        #expect(r.applied == [.promote], "\(r.applied)")
        #expect(r.roles?.liveVersion.hex == r.s.same && r.roles?.canaryModelId == 0, "promoted to live")
        #expect(r.reasons.count == 1 && r.reasons[0].hasPrefix("promote 0: canary promote: n="), "\(r.reasons)")
    }
}
