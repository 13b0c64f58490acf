import Foundation
import Journal
import TestSupport
import Testing
import TickBusCore

/// Paper trading live: feed → `strategy --execution E.toml` → recorder (all lossless), one session
/// per risk limit driven to breach. The journal holds the orders, fills and the risk records of
/// the breach next to the decisions, and `replay --verify-decisions --execution E.toml`
/// reproduces every record bit for bit (and notices a different execution file).
@Suite(.serialized) struct PaperTradingReplayTests {
    static let buyAlways =
        "{\"type\": \"linear\", \"feature_names\": [\"mid\", \"spread\", \"imb\", \"ofi50\", \"ret1s\", \"vol_ev\"], "
        + "\"coefficients\": [0, 0, 0, 0, 0, 0], \"intercept\": 1.0}"

    @Test(
        "each risk limit breached in a live paper session: its records in the journal, the replay identical",
        arguments: [
            ("[orders]\nmode = \"cross\"\nsize = 100\n[risk]\nmax_position = 300\n", RiskEventCode.refusedMaxPosition),
            ("[orders]\nmode = \"quote\"\nsize = 10\n[risk]\nmax_orders_per_second = 4\n", .refusedMaxOrders),
            ("[simulator]\ntaker_fee = 2.0\n[orders]\nmode = \"cross\"\n[risk]\nmax_loss = 120\n", .pausedMaxLoss),
        ]
    )
    func breachRecordedAndReplayed(toml: String, code: RiskEventCode) throws {
        let bus = TickBusTest.uniqueBus("paper\(code.rawValue)")
        let dir = temporaryDirectory("paper")
        defer {
            TickBusTest.removeBus(bus)
            removeDirectory(dir)
        }
        let features = TickBusTest.repositoryRoot.appendingPathComponent("Recordings/synthetic-5/features.toml").path
        let model = dir + "/buy.json"
        try Self.buyAlways.write(toFile: model, atomically: true, encoding: .utf8)
        let execution = dir + "/E.toml"
        try toml.write(toFile: execution, atomically: true, encoding: .utf8)
        let session = dir + "/session"
        let recorder = try Child([
            "record", "--bus", bus, "--rings", "market,decisions.S", "--dir", session, "--gating",
            "--attach-timeout", "30",
        ])
        let strategy = try Child([
            "strategy", "--bus", bus, "--features", features, "--model", model, "--execution", execution, "--name", "S",
            "--cpu", "0", "--gating", "--attach-timeout", "30",
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
        let paper = keyValues(s.lastLine)
        #expect((Int(paper["orders"] ?? "") ?? 0) > 0, "\(s.stdout)")

        // The journal: every record kind the session wrote, and the breach's risk records.
        let reader = try JournalReader(directory: session, ring: "decisions.S")
        var kinds: [UInt16: Int] = [:]
        var risk: [RiskRecordView] = []
        var pausedControl = false
        var buffers: [UnsafeMutableRawPointer] = []
        defer { for b in buffers { b.deallocate() } }
        while case .record(let q)? = reader.next() {
            let kind = q.load(fromByteOffset: RecordHeader.kind, as: UInt16.self)
            kinds[kind, default: 0] += 1
            if kind == RiskRecordLayout.kindValue {
                let copy = UnsafeMutableRawPointer.allocate(byteCount: reader.slotSize, alignment: 8)
                copy.copyMemory(from: q, byteCount: reader.slotSize)
                buffers.append(copy)
                risk.append(RiskRecordView(UnsafeRawPointer(copy)))
            }
            if kind == ControlRecordLayout.kindValue {
                let c = ControlRecordView(q)
                if c.isRisk, c.verb == .pause, c.roles.paused { pausedControl = true }
            }
        }
        #expect((kinds[DecisionLayout.kindValue] ?? 0) > 100)
        #expect((kinds[OrderRecordLayout.kindValue] ?? 0) > 0, "\(kinds)")
        #expect((kinds[OrderEventRecordLayout.kindValue] ?? 0) > 0, "\(kinds)")
        #expect(!risk.isEmpty)
        #expect(risk.allSatisfy { $0.code == code }, "\(risk.map { $0.rawCode })")
        if code == .pausedMaxLoss {
            #expect(risk.count == 1 && pausedControl && (Int(paper["pauses"] ?? "") ?? 0) == 1, "\(s.stdout)")
        } else {
            #expect(Int(paper["refused"] ?? "") == risk.count, "\(s.stdout)")
        }

        // The replay with the same execution file reproduces every record; another size does not.
        let ok = try TickBusTest.run(
            [
                "replay", "--dir", session, "--verify-decisions", "--features", features, "--model", model,
                "--execution", execution,
            ],
            timeout: 240
        )
        #expect(ok.status == 0, "\(ok.stdout) \(ok.stderr)")
        let kv = keyValues(ok.lastLine)
        #expect(kv["identical"] == "true", "\(ok.stdout)")
        let executionRecords = kinds.filter { $0.key >= 102 }.values.reduce(0, +)
        #expect(kv["execution"] == "\(executionRecords)", "\(ok.stdout)")
        let other = dir + "/E2.toml"
        let changed = toml.split(separator: "\n").filter { !$0.hasPrefix("size") }.joined(separator: "\n")
        try changed.replacingOccurrences(of: "[orders]", with: "[orders]\nsize = 7")
            .write(toFile: other, atomically: true, encoding: .utf8)
        let bad = try TickBusTest.run(
            [
                "replay", "--dir", session, "--verify-decisions", "--features", features, "--model", model,
                "--execution", other,
            ],
            timeout: 240
        )
        #expect(bad.status == 1, "\(bad.stdout) \(bad.stderr)")
        #expect(bad.stdout.contains("first difference: "), "\(bad.stdout)")
    }
}
