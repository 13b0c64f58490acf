import BacktestReport
import Execution
import Foundation
import TestSupport
import Testing
import TickBusCore

@Suite("BacktestReport: the ledger's P&L, drawdown, Sharpe and hit rate against references")
struct BacktestLedgerTests {
    static func scratch(_ name: String) -> URL { TickBusTest.temporaryDirectory("backtest-\(name)") }

    func fill(
        _ id: UInt64,
        _ t: Int64,
        _ side: Side,
        _ price: Int64,
        _ qty: UInt32,
        fee: Double = 0,
        remaining: UInt32 = 0,
        instrument: UInt32 = 1
    ) -> Fill {
        Fill(
            orderId: id,
            instrument: instrument,
            side: side,
            time: t,
            marketSequence: 0,
            price: price,
            quantity: qty,
            liquidity: .maker,
            fee: fee,
            remaining: remaining
        )
    }

    @Test("a round trip worked by hand: cash, fees, realized, marks, drawdown, slippage, fill rate")
    func byHand() throws {
        let dir = Self.scratch("hand")
        defer { try? FileManager.default.removeItem(at: dir) }
        let csv = dir.appendingPathComponent("pnl.csv").path
        let l = try BacktestLedger(pnlCSV: csv)
        let s: Int64 = 1_000_000_000
        l.mark(time: 10 * s, instrument: 1, mid: 100_000)  // $10.00
        l.decision(time: 10 * s, instrument: 1, marketSequence: 5, mid: 100_000, signal: 1, latencyNs: 800)
        l.order(.new(id: 1, at: 10 * s, instrument: 1, side: .buy, price: 99_900, quantity: 100), decisionMid: 100_000)
        l.orderEvent(OrderEvent(orderId: 1, instrument: 1, time: 10 * s, kind: .ack, fee: 0.01))
        // Bought 100 at $9.99 with a $0.20 rebate: cash = -999 + 0.20 - 0.01 = -998.81.
        l.fill(fill(1, 11 * s, .buy, 99_900, 100, fee: -0.20))
        #expect(abs(l.cash - -998.81) < 1e-9)
        #expect(abs(l.pnl - (-998.81 + 1000)) < 1e-9)  // marked at $10.00: +1.19
        l.mark(time: 12 * s, instrument: 1, mid: 99_500)  // $9.95: pnl = -998.81 + 995 = -3.81
        #expect(abs(l.pnl - -3.81) < 1e-9)
        l.decision(time: 12 * s, instrument: 1, marketSequence: 9, mid: 99_500, signal: -1, latencyNs: 1200)
        l.order(.new(id: 2, at: 12 * s, instrument: 1, side: .sell, price: 99_400, quantity: 200), decisionMid: 99_500)
        // Sold 60 of them at $9.94 (taker, $0.30 fee): realized 60 × (9.94 - 9.99) = -3.00.
        l.fill(fill(2, 12 * s, .sell, 99_400, 60, fee: 0.30, remaining: 140))
        l.mark(time: 13 * s, instrument: 1, mid: 100_500)  // $10.05: 40 × 10.05 = 402
        let r = try l.finish(inputs: ["model": String(repeating: "a", count: 64)])
        #expect(abs(r.realized - -3.0) < 1e-9)
        #expect(abs(r.fees - 0.11) < 1e-12)
        // cash = -998.81 + 596.40 - 0.30 = -402.71; pnl = -402.71 + 402 = -0.71.
        #expect(abs(r.cash - -402.71) < 1e-9)
        #expect(abs(r.pnl - -0.71) < 1e-9)
        #expect(abs(r.unrealized - 40 * (10.05 - 9.99)) < 1e-9)
        #expect(abs(r.pnl - (r.realized + r.unrealized - r.fees)) < 1e-9)
        // Peak +1.19 (after the first fill), trough: after the sell, -998.81 + 596.40 - 0.30 + 40 × 9.95
        // = -4.71; drawdown 5.90.
        #expect(abs(r.maxDrawdown - 5.90) < 1e-9)
        #expect(r.orders == 2 && r.orderedShares == 300 && r.fills == 2 && r.filledShares == 160)
        #expect(abs(r.fillRate! - 160.0 / 300.0) < 1e-15)
        // Slippage: buy 100 at 9.99 vs mid 10.00 (-0.01), sell 60 at 9.94 vs 9.95 (+0.01): (-1 + 0.6) / 160.
        #expect(abs(r.slippage! - (-1.0 + 0.6) / 160) < 1e-12)
        #expect(abs(r.turnover - (999 + 596.4)) < 1e-9)
        #expect(r.positions == ["1": 40])
        // Within one minute: one bucket, no Sharpe (null, not omitted).
        #expect(r.sharpe == nil && r.sharpeBuckets == 1)
        // The +1 at 10 s: the first mark at or after 11 s is 12 s's $9.95 (a miss); the -1 at 12 s:
        // 13 s's $10.05 (a miss).
        #expect(r.hits == 0 && r.signals == 2 && r.hitRate == 0)
        #expect(r.latency.max == 1200 && r.latency.count == 2)
        let lines = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n")
        #expect(lines[0] == "time_ns,market_sequence,instrument,position,cash,fees,mid,pnl")
        #expect(lines.count == 3)
        let second = lines[2].split(separator: ",").map(String.init)
        #expect(second[0] == "12000000000" && second[1] == "9" && second[2] == "1" && second[3] == "100")
        #expect(
            abs(Double(second[4])! - -998.81) < 1e-9 && second[6] == "99500" && abs(Double(second[7])! - -3.81) < 1e-9
        )
    }

    /// A seeded session over several minutes and two instruments: marks, decisions with signals,
    /// orders, partial fills on both sides, fees on acks.
    static func session(seed: UInt64, minutes: Int) -> [String] {
        var rng = SplitMix64(seed: seed)
        var out: [String] = []
        var t: Int64 = 34_200_000_000_000  // 09:30
        var mids: [UInt32: Int64] = [1: 1_000_000, 2: 250_000]
        var nextId: UInt64 = 1
        var open: [(id: UInt64, inst: UInt32, side: Side, price: Int64, left: UInt32)] = []
        var seq: UInt64 = 0
        let end = t + Int64(minutes) * 60_000_000_000
        while t < end {
            t += Int64(1 + rng.below(400)) * 1_000_000  // 1..400 ms
            seq += 1 + UInt64(rng.below(5))
            let inst: UInt32 = rng.below(3) == 0 ? 2 : 1
            switch rng.below(10) {
            case 0..<5:
                mids[inst]! += Int64(rng.below(5) - 2) * 50
                out.append("M,\(t),\(inst),\(mids[inst]!)")
            case 5..<8:
                let signal = rng.below(3) - 1
                out.append("D,\(t),\(inst),\(seq),\(mids[inst]!),\(signal),\(200 + rng.below(5000))")
                if signal != 0 && rng.below(2) == 0 {
                    let side: Side = signal > 0 ? .buy : .sell
                    let price = mids[inst]! + Int64(signal) * Int64(rng.below(3) - 1) * 100
                    let q = UInt32(100 * (1 + rng.below(3)))
                    out.append("O,\(t),\(nextId),\(inst),\(side == .buy ? "B" : "S"),\(q),\(mids[inst]!)")
                    out.append("E,\(t),\(nextId),ack,\(rng.below(2) == 0 ? "0.0" : "0.005")")
                    open.append((nextId, inst, side, price, q))
                    nextId += 1
                }
            default:
                guard !open.isEmpty else { continue }
                let k = rng.below(open.count)
                let o = open[k]
                let q = min(o.left, UInt32(50 * (1 + rng.below(4))))
                let fee = Double(q) * (rng.below(2) == 0 ? -0.002 : 0.003)
                out.append(
                    "F,\(t),\(o.id),\(o.inst),\(o.side == .buy ? "B" : "S"),\(o.price),\(q),\(fee),\(o.left - q)"
                )
                if o.left == q { open.remove(at: k) } else { open[k].left -= q }
            }
        }
        return out
    }

    static func feed(_ lines: [String], _ l: BacktestLedger) {
        for line in lines {
            let f = line.split(separator: ",").map(String.init)
            let t = Int64(f[1])!
            switch f[0] {
            case "M": l.mark(time: t, instrument: UInt32(f[2])!, mid: Int64(f[3])!)
            case "D":
                l.decision(
                    time: t,
                    instrument: UInt32(f[2])!,
                    marketSequence: UInt64(f[3])!,
                    mid: Int64(f[4])!,
                    signal: Int8(f[5])!,
                    latencyNs: UInt64(f[6])!
                )
            case "O":
                l.order(
                    .new(
                        id: UInt64(f[2])!,
                        at: t,
                        instrument: UInt32(f[3])!,
                        side: f[4] == "B" ? .buy : .sell,
                        price: 0,
                        quantity: UInt32(f[5])!
                    ),
                    decisionMid: Int64(f[6])!
                )
            case "E":
                l.orderEvent(OrderEvent(orderId: UInt64(f[2])!, instrument: 1, time: t, kind: .ack, fee: Double(f[4])!))
            case "F":
                l.fill(
                    Fill(
                        orderId: UInt64(f[2])!,
                        instrument: UInt32(f[3])!,
                        side: f[4] == "B" ? .buy : .sell,
                        time: t,
                        marketSequence: 0,
                        price: Int64(f[5])!,
                        quantity: UInt32(f[6])!,
                        liquidity: .maker,
                        fee: Double(f[7])!,
                        remaining: UInt32(f[8])!
                    )
                )
            default: Issue.record("unknown event \(line)")
            }
        }
    }

    static func close(_ a: Double, _ b: Double, _ what: String) {
        #expect(abs(a - b) <= 1e-9 * max(1, abs(b)), "\(what): ledger \(a), reference \(b)")
    }

    @Test("a seeded 20-minute session equals the numpy reference: every report figure and every pnl.csv row")
    func againstNumpy() throws {
        let dir = Self.scratch("numpy")
        defer { try? FileManager.default.removeItem(at: dir) }
        let events = Self.session(seed: 7, minutes: 20)
        let eventsPath = dir.appendingPathComponent("events.csv").path
        try (events.joined(separator: "\n") + "\n").write(toFile: eventsPath, atomically: true, encoding: .utf8)
        let csv = dir.appendingPathComponent("pnl.csv").path
        let horizon: Int64 = 1_000_000_000
        let l = try BacktestLedger(pnlCSV: csv, options: .init(horizonNs: horizon))
        Self.feed(events, l)
        let r = try l.finish(inputs: [:])
        let script = TickBusTest.repositoryRoot.appendingPathComponent(
            "Tests/BacktestReportTests/Reference/ledger_reference.py"
        ).path
        let py = try Child(["python3", script, eventsPath, "\(horizon)"], executable: "/usr/bin/env").wait(timeout: 120)
        #expect(py.status == 0, "reference: \(py.stderr)")
        let ref = try JSONSerialization.jsonObject(with: Data(py.stdout.utf8)) as! [String: Any]
        for (key, mine) in [
            ("pnl", r.pnl), ("realized", r.realized), ("unrealized", r.unrealized), ("fees", r.fees),
            ("cash", r.cash), ("max_drawdown", r.maxDrawdown), ("turnover", r.turnover),
            ("sharpe", r.sharpe ?? .nan), ("fill_rate", r.fillRate ?? .nan), ("slippage", r.slippage ?? .nan),
        ] {
            Self.close(mine, ref[key] as! Double, key)
        }
        for (key, mine) in [
            ("sharpe_buckets", r.sharpeBuckets), ("orders", r.orders), ("ordered_shares", r.orderedShares),
            ("fills", r.fills), ("filled_shares", r.filledShares), ("hits", r.hits), ("signals", r.signals),
        ] {
            #expect(mine == ref[key] as! Int, "\(key): ledger \(mine), reference \(ref[key]!)")
        }
        #expect(r.sharpeBuckets == 20 || r.sharpeBuckets == 21)
        #expect(r.signals > 100 && r.fills > 100 && r.maxDrawdown > 0)
        let rows = ref["rows"] as! [[Any]]
        let lines = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n").dropFirst()
        #expect(lines.count == rows.count && rows.count == r.decisions)
        for (line, row) in zip(lines, rows) {
            let f = line.split(separator: ",").map(String.init)
            #expect(
                Int64(f[0])! == (row[0] as! NSNumber).int64Value && UInt64(f[1])! == (row[1] as! NSNumber).uint64Value
            )
            #expect(Int(f[2])! == row[2] as! Int && Int64(f[3])! == (row[3] as! NSNumber).int64Value, "\(line)")
            Self.close(Double(f[4])!, row[4] as! Double, "cash at \(f[0])")
            Self.close(Double(f[5])!, row[5] as! Double, "fees at \(f[0])")
            #expect(Int64(f[6])! == (row[6] as! NSNumber).int64Value)
            Self.close(Double(f[7])!, row[7] as! Double, "pnl at \(f[0])")
        }
    }
}
