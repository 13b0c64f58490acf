import Foundation
import TestSupport
import Testing
import TickBusCore

@testable import Telemetry

#if canImport(Glibc)
import Glibc
#endif

/// Orders, order events, fills, position, P&L, fees and risk events written through `StatsWriter`
/// reach the block at the offsets Docs/TELEMETRY.md gives (written here by hand), `stat`, its
/// JSON and `/metrics` with the values worked out below by hand.
@Suite struct ExecutionTelemetryTests {
    /// The execution lines' offset in a version 3 block: after the swap latency buckets
    /// (29312 + 3584 × 8).
    static let execution = 57_984

    /// 3 new orders of 100 shares and a cancel; 3 acks, a reject, a cancel, a cancel rejected and
    /// an unknown event (not counted); fills of 60, 40 and 100 shares with fees −0.12, −0.08 and
    /// +0.30 dollars; risk codes 1, 1, 2, 4, 5 and an unknown 200; position −140 shares, P&L
    /// −12.345678 dollars, fees 0.1035 dollars.
    static func writeKnownExecution(bus: String, name: String = "alpha") throws -> StatsWriter {
        let w = try StatsWriter(bus: bus, name: name, kind: .strategy, modelId: 0x11)
        for _ in 0..<3 { w.recordOrderSent(quantity: 100) }
        w.recordOrderSent()
        for kind: UInt8 in [1, 1, 1, 2, 3, 4, 9] { w.recordOrderEvent(kind) }
        w.recordFill(quantity: 60, feeMicros: -120_000)
        w.recordFill(quantity: 40, feeMicros: -80_000)
        w.recordFill(quantity: 100, feeMicros: 300_000)
        for code: UInt8 in [1, 1, 2, 4, 5, 200] { w.recordRiskEvent(code) }
        w.setExecution(position: -140, pnlMicros: -12_345_678, feesMicros: 103_500)
        return w
    }

    @Test func executionFiguresReachTheBlockTheSnapshotAndMetrics() throws {
        let bus = TickBusTest.uniqueBus("tel-exec")
        defer { TickBusTest.removeBus(bus) }
        let idle = try StatsWriter(bus: bus, name: "idle", kind: .strategy)
        let w = try Self.writeKnownExecution(bus: bus)

        // The words, read at the offsets of the layout table.
        let m = try StatsBlock.attach(path: w.path)
        func word(_ off: Int) -> UInt64 { m.base.load(fromByteOffset: Self.execution + off, as: UInt64.self) }
        #expect(m.base.load(fromByteOffset: 8, as: UInt32.self) == 3, "stats version")
        #expect([0, 8, 16, 24, 32, 40, 48].map(word) == [4, 3, 1, 1, 1, 3, 200])
        #expect(Int64(bitPattern: word(56)) == 100_000, "fill fees: -120000 - 80000 + 300000")
        #expect(Int64(bitPattern: word(64)) == -140 && Int64(bitPattern: word(72)) == -12_345_678)
        #expect(Int64(bitPattern: word(80)) == 103_500 && word(88) == 300)
        #expect((0..<8).map { word(128 + 8 * $0) } == [1, 2, 1, 0, 1, 1, 0, 0])
        #expect(try fileSize(w.path) == Self.execution + 192)

        let s = try #require(strategyStatus(bus, "alpha"))
        let e = s.execution
        #expect(e.ordersSent == 4 && e.orderedShares == 300 && e.acks == 3 && e.rejects == 1)
        #expect(e.cancelled == 1 && e.cancelRejects == 1 && e.fills == 3 && e.filledShares == 200)
        #expect(e.fillRate == 200.0 / 300.0 && e.position == -140 && e.hasOrders)
        #expect(e.pnlDollars == -12.345678 && e.feesDollars == 0.1035 && e.fillFeesDollars == 0.1)
        #expect(
            e.riskEvents.map { "\($0.code)=\($0.count)" } == [
                "refused:max_position=2", "refused:max_orders=1", "refused:paused=0", "paused:max_loss=1",
                "resumed=1", "other=1",
            ]
        )
        let quiet = try #require(strategyStatus(bus, "idle"))
        #expect(!quiet.execution.hasOrders && quiet.execution.fillRate == nil)

        let text = PrometheusExposition.render(BusSnapshot.take(bus: bus))
        let c = ["bus": bus, "strategy": "alpha", "kind": "strategy"]
        func with(_ k: String, _ v: String) -> [String: String] { c.merging([k: v]) { a, _ in a } }
        #expect(sample(text, "tickbus_strategy_orders_total", c) == "4", "\(text)")
        #expect(sample(text, "tickbus_strategy_ordered_shares_total", c) == "300")
        #expect(sample(text, "tickbus_strategy_order_events_total", with("event", "ack")) == "3")
        #expect(sample(text, "tickbus_strategy_order_events_total", with("event", "reject")) == "1")
        #expect(sample(text, "tickbus_strategy_order_events_total", with("event", "cancelled")) == "1")
        #expect(sample(text, "tickbus_strategy_order_events_total", with("event", "cancel_rejected")) == "1")
        #expect(sample(text, "tickbus_strategy_fills_total", c) == "3")
        #expect(sample(text, "tickbus_strategy_filled_shares_total", c) == "200")
        #expect(sample(text, "tickbus_strategy_fill_rate", c) == "0.6666666666666666")
        #expect(sample(text, "tickbus_strategy_position", c) == "-140")
        #expect(sample(text, "tickbus_strategy_pnl_dollars", c) == "-12.345678")
        #expect(sample(text, "tickbus_strategy_fees_dollars", c) == "0.1035")
        for (code, n) in [
            ("refused:max_position", "2"), ("refused:max_orders", "1"), ("refused:paused", "0"),
            ("paused:max_loss", "1"), ("resumed", "1"), ("other", "1"),
        ] {
            #expect(sample(text, "tickbus_strategy_risk_events_total", with("code", code)) == n, "\(code)")
        }
        // A strategy without orders: zeros, a fill rate of 0 (no share ordered).
        let q = ["bus": bus, "strategy": "idle", "kind": "strategy"]
        #expect(sample(text, "tickbus_strategy_orders_total", q) == "0")
        #expect(sample(text, "tickbus_strategy_fill_rate", q) == "0")
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/promtool") {
            let check = try promtool(text)
            #expect(check.status == 0, "\(check.stdout) \(check.stderr)")
        }

        // `stat --json`: snake_case keys, money in dollars, risk events by code name.
        let json = StatView.json(BusSnapshot.take(bus: bus))
        let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
        let alpha = (object?["strategies"] as? [[String: Any]])?.first { $0["name"] as? String == "alpha" }
        let x = try #require(alpha?["execution"] as? [String: Any], "\(json)")
        #expect(x["orders_sent"] as? Int == 4 && x["cancel_rejects"] as? Int == 1 && x["filled_shares"] as? Int == 200)
        #expect(x["pnl_dollars"] as? Double == -12.345678 && x["position"] as? Int == -140)
        let risk = x["risk_events"] as? [[String: Any]] ?? []
        #expect(risk.first?["code"] as? String == "refused:max_position" && risk.first?["count"] as? Int == 2)
        // The JSON decodes back (what `stat` reads from another process).
        let back = try decodeSnapshot(json)
        #expect(back.strategies.first { $0.name == "alpha" }?.execution == e)
        idle.close()
        w.close()
    }

    /// `stat`: an execution row for the strategy that sent orders (none for the one that did not),
    /// and one line per risk code that occurred.
    @Test func statShowsAnExecutionTableForStrategiesWithOrders() throws {
        let bus = TickBusTest.uniqueBus("tel-exec-stat")
        defer { TickBusTest.removeBus(bus) }
        let idle = try StatsWriter(bus: bus, name: "idle", kind: .strategy)
        let none = StatView.render(BusSnapshot.take(bus: bus))
        #expect(!none.contains("FILL%"), "no execution table without orders: \(none)")
        let w = try Self.writeKnownExecution(bus: bus)
        let frame = StatView.render(BusSnapshot.take(bus: bus))
        #expect(frame.split(separator: "\n").allSatisfy { $0.count <= 100 }, "\(frame)")
        #expect(frame.contains("ORDERS") && frame.contains("CXL-REJ") && frame.contains("P&L $"))
        let lines = rows(frame, "alpha")
        // 4 sent, 3 acks, 1 reject, 1 cancelled, 1 cancel rejected, 3 fills, 200 shares, 200/300
        // filled, position -140, P&L -12.35, fees 0.10.
        #expect(
            lines.contains(["alpha", "4", "3", "1", "1", "1", "3", "200", "66.7", "-140", "-12.35", "0.10"]),
            "\(frame)"
        )
        #expect(lines.contains(["alpha", "refused:max_position", "2"]), "\(frame)")
        #expect(lines.contains(["alpha", "other", "1"]), "\(frame)")
        #expect(!lines.contains(["alpha", "refused:paused", "0"]), "codes that did not occur are left out")
        #expect(rows(frame, "idle").allSatisfy { $0.count != 12 }, "no execution row for idle: \(frame)")
        idle.close()
        w.close()
    }

    /// A block of stats version 2 (before the execution lines; smaller) is refused by its version,
    /// not by its size, and the message names both versions.
    @Test func aVersionTwoBlockIsRefusedByItsVersion() throws {
        let bus = TickBusTest.uniqueBus("tel-exec-v2")
        defer { TickBusTest.removeBus(bus) }
        let w = try StatsWriter(bus: bus, name: "old", kind: .strategy)
        w.mapping.base.storeBytes(of: UInt32(2).littleEndian, toByteOffset: 8, as: UInt32.self)
        #expect(truncate(w.path, off_t(Self.execution)) == 0)
        #expect(throws: StatsError.unsupportedVersion(path: w.path, found: 2, supported: 3)) {
            _ = try StatsBlock.attach(path: w.path)
        }
        let error = StatsError.unsupportedVersion(path: w.path, found: 2, supported: 3)
        #expect("\(error)".hasSuffix("header field 'version' is 2; this build reads stats version 3"))
    }

    func fileSize(_ path: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? -1
    }
}
