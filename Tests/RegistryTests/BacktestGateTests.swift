import BacktestReport
import Execution
import Foundation
import Registry
import TestSupport
import Testing

@Suite("Registry: the backtest gate and its policy thresholds")
struct BacktestGateTests {
    /// sha256 by coreutils, not by the registry's own hashing.
    static func sha256(_ path: String) throws -> String {
        let r = try Child(["sha256sum", path], executable: "/usr/bin/env").wait(timeout: 30)
        return String(r.stdout.prefix(64))
    }

    /// A report of a short run through the real ledger: two minutes, a round trip with a gain.
    static func report(model: String, features: String) throws -> BacktestReport {
        let l = try BacktestLedger(pnlCSV: nil)
        let t0: Int64 = 34_200_000_000_000
        for k in 0..<3 {
            let t = t0 + Int64(k) * 60_000_000_000
            l.mark(time: t, instrument: 1, mid: 100_000 + Int64(k) * 100)
            l.decision(time: t, instrument: 1, marketSequence: UInt64(k), mid: 100_000, signal: 1, latencyNs: 900)
        }
        l.order(.new(id: 1, at: t0, instrument: 1, side: .buy, price: 100_000, quantity: 100), decisionMid: 100_000)
        l.fill(
            Fill(
                orderId: 1,
                instrument: 1,
                side: .buy,
                time: t0 + 1,
                marketSequence: 1,
                price: 100_000,
                quantity: 50,
                liquidity: .maker,
                fee: 0,
                remaining: 50
            )
        )
        l.mark(time: t0 + 150_000_000_000, instrument: 1, mid: 100_100)
        return try l.finish(inputs: ["model": model, "features": features, "source": String(repeating: "c", count: 64)])
    }

    func write(_ s: Scratch, _ r: BacktestReport, _ name: String = "report.json") throws -> String {
        let p = s.dir.appendingPathComponent(name).path
        try Data(try r.json()).write(to: URL(fileURLWithPath: p))
        return p
    }

    func policy(_ s: Scratch, _ lines: String) throws {
        try s.write("registry/policy.toml", "[alias.champion]\ngates = [\"backtest\"]\n\(lines)\n")
    }

    func refusal(_ reg: Registry, _ id: String) -> String? {
        do {
            _ = try reg.setAlias("alpha@champion", to: id, reason: "test")
            return nil
        } catch {
            guard case .refused(_, _, let failures) = error else { return "\(error)" }
            return failures.first { $0.gate == "backtest" }?.detail ?? "\(failures)"
        }
    }

    @Test("thresholds parse; unknown keys, impossible values and thresholds without the gate are refused")
    func policyKeys() throws {
        func parse(_ text: String) -> String {
            do {
                let p = try Policy(bytes: Array(text.utf8), what: "p.toml")
                let b = p.aliases["champion"]!.backtest
                return
                    "\(b.minSharpe ?? -99) \(b.maxDrawdown ?? -99) \(b.minFillRate ?? -99) \(b.minPnl ?? -99) \(b.minHitRate ?? -99)"
            } catch { return "\(error)" }
        }
        let head = "[alias.champion]\ngates = [\"backtest\"]\n"
        #expect(
            parse(
                head
                    + "min_sharpe = 1.5\nmax_drawdown = 2_500.0\nmin_fill_rate = 0.05\nmin_pnl = -10\nmin_hit_rate = 0.5\n"
            )
                == "1.5 2500.0 0.05 -10.0 0.5"
        )
        #expect(parse(head + "min_fill_rate = 1.5\n").contains("p.toml:3: min_fill_rate is a share"))
        #expect(parse(head + "max_drawdown = -1\n").contains("max_drawdown is dollars below a peak"))
        #expect(parse(head + "min_sharpe = nan\n").contains("min_sharpe must be a finite number, found nan"))
        #expect(parse(head + "min_sharpe = \"1\"\n").contains("must be a finite number"))
        #expect(parse(head + "min_sharp = 1\n").contains("unknown key 'min_sharp'") == true)
        #expect(parse(head + "min_sharp = 1\n").contains("min_sharpe, max_drawdown"))
        #expect(
            parse("[alias.champion]\ngates = [\"features\"]\nmin_sharpe = 1\n").contains(
                "sets backtest thresholds but not the 'backtest' gate"
            )
        )
    }

    @Test("no report, a malformed one, another model's, no decision, each threshold; a report meeting them passes")
    func gate() throws {
        let s = Scratch("backtest-gate")
        defer { s.remove() }
        let reg = try Registry.create(root: s.root)
        let features = try s.definition()
        let model = try Self.sha256(Scratch.fixture("lgb_binary.txt"))
        let definition = try Self.sha256(features)
        let good = try Self.report(model: model, features: definition)
        #expect(good.sharpeBuckets == 3 && good.sharpe != nil && good.pnl > 0 && good.fillRate == 0.5)

        try policy(s, "")
        let none = try s.add(reg, features: features)
        #expect(refusal(reg, none)?.contains("no backtest report stored with the version") == true)

        // A malformed report is refused by `add`, naming the file; nothing is stored.
        let bad = try s.write("bad.json", "{\"format\": 1}")
        #expect { _ = try s.add(reg, features: features, backtest: bad) } throws: {
            "\($0)".contains("--backtest: \(bad): not a backtest report") && "\($0)".contains("missing keys")
        }

        var other = good
        other.inputs["model"] = String(repeating: "d", count: 64)
        other.inputs["features"] = nil
        let wrong = try s.add(reg, features: features, backtest: try write(s, other, "other.json"))
        let why = refusal(reg, wrong) ?? ""
        #expect(why.contains("the report's model is dddddddddddd, the version's \(model.prefix(12))"), "\(why)")
        #expect(why.contains("the report names no 'features' input"), "\(why)")

        var empty = good
        empty.decisions = 0
        let idle = try s.add(reg, features: features, backtest: try write(s, empty, "empty.json"))
        #expect(refusal(reg, idle)?.contains("the backtest made no decision") == true)

        let id = try s.add(reg, features: features, backtest: try write(s, good))
        var worse = good
        worse.hitRate = 0.4
        let weak = try s.add(reg, features: features, backtest: try write(s, worse, "worse.json"))
        // Every failing threshold is named with the figure and the limit.
        try policy(
            s,
            "min_sharpe = \(good.sharpe! + 1)\nmax_drawdown = 0\nmin_fill_rate = 0.6\nmin_pnl = \(good.pnl + 1)\nmin_hit_rate = 0.99"
        )
        let all = refusal(reg, weak) ?? ""
        for part in [
            "sharpe \(good.sharpe!) below min_sharpe", "fill_rate 0.5 below min_fill_rate 0.6",
            "pnl \(good.pnl) below min_pnl", "hit_rate 0.4 below min_hit_rate 0.99",
        ] {
            #expect(all.contains(part), "\(part) not in \(all)")
        }
        #expect(!all.contains("drawdown") || good.maxDrawdown > 0)
        // A null figure under a threshold fails as undefined.
        var flat = good
        flat.sharpe = nil
        let undefined = try s.add(reg, features: features, backtest: try write(s, flat, "flat.json"))
        try policy(s, "min_sharpe = 0")
        #expect(refusal(reg, undefined)?.contains("sharpe is undefined in the report (null)") == true)
        // Limits the report meets: the move passes and the evidence holds the figures.
        try policy(s, "min_sharpe = \(good.sharpe! - 1)\nmax_drawdown = 1000\nmin_fill_rate = 0.5\nmin_pnl = 0")
        #expect(refusal(reg, id) == nil)
        let entry = try reg.aliasLog(name: "alpha", alias: "champion").entries().last!
        let evidence = String(
            decoding: try Data(contentsOf: URL(fileURLWithPath: s.root + "/objects/sha256/" + entry.evidence)),
            as: UTF8.self
        )
        #expect(evidence.contains("\"gate\":\"backtest\"") && evidence.contains("fill_rate 0.5 >= 0.5"), "\(evidence)")
    }
}
