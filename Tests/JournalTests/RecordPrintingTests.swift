import Execution
import Foundation
import Journal
import TestSupport
import Testing
import TickBusCore

/// `journal cat` and `tap --print` print every kind of record in a strategy's ring (decisions of
/// layouts 1 and 2, control records, orders, order events, fills, risk events, an unknown kind) and
/// the commands of ring `control`, in the forms Docs/JOURNAL.md gives; the expected lines are
/// written out by hand from the fixture's values.
@Suite(.serialized) struct RecordPrintingTests {
    @Test func journalCatPrintsEveryKindOfAStrategysRing() throws {
        let dir = temporaryDirectory("cat-kinds")
        defer { removeDirectory(dir) }
        try StrategyRingFixture.writeJournal(dir)
        let r = try TickBusTest.run(["journal", "cat", dir, "--ring", StrategyRingFixture.ring], timeout: 60)
        #expect(r.status == 0, "\(r.stderr)")
        var want: [String] = []
        var printed = StrategyRingFixture.printed.makeIterator()
        var gapDone = false
        for (s, slot) in StrategyRingFixture.slots().enumerated() {
            if slot != nil {
                want.append("seq=\(s) \(printed.next()!)")
            } else if !gapDone {
                want.append("gap from=\(StrategyRingFixture.gapFrom) count=\(StrategyRingFixture.gapCount)")
                gapDone = true
            }
        }
        let got = r.stdout.split(separator: "\n").map(String.init)
        #expect(got.count == want.count, "\(r.stdout)")
        for (g, w) in zip(got, want) { #expect(g == w) }
    }

    /// The names an order event line prints are `Execution`'s own (`OrderEventKind`,
    /// `OrderRejectReason`), which TickBusCore cannot import: the tables must not drift apart.
    @Test func orderEventNamesAreExecutionsNames() {
        let events = OrderEventRecordLayout.eventNames
        for raw in 1..<events.count { #expect(events[raw] == OrderEventKind(rawValue: UInt8(raw))?.description) }
        #expect(OrderEventKind(rawValue: UInt8(events.count)) == nil, "a kind the journal lines do not name")
        let reasons = OrderEventRecordLayout.reasonNames
        #expect(reasons[0] == "-" && OrderRejectReason(rawValue: 0) == OrderRejectReason.none)
        for raw in 1..<reasons.count {
            #expect(reasons[raw] == OrderRejectReason(rawValue: UInt8(raw))?.description)
        }
        #expect(OrderRejectReason(rawValue: UInt8(reasons.count)) == nil, "a reason the journal lines do not name")
    }

    @Test func tapPrintsDecisionsControlRecordsAndCommands() throws {
        let bus = TickBusTest.uniqueBus("tapkinds")
        defer { TickBusTest.removeBus(bus) }
        let records = StrategyRingFixture.slots().compactMap { $0 }
        var decisions = try RingProducer(
            bus: bus,
            ring: StrategyRingFixture.ring,
            schema: .decisions,
            slotSize: StrategyRingFixture.slotSize,
            capacity: 16
        )
        for bytes in records {
            _ = decisions.publish { p in
                bytes.withUnsafeBytes { (p + 8).copyMemory(from: $0.baseAddress! + 8, byteCount: bytes.count - 8) }
            }
        }
        var control = try RingProducer(bus: bus, ring: "control", schema: .control, slotSize: 256, capacity: 16)
        let command = ControlCommand(
            verb: .load,
            role: .canary,
            commandId: 42,
            version: StrategyRingFixture.versionC,
            runtimeId: StrategyRingFixture.canaryId,
            strategy: "S",
            issuer: "ops",
            reason: "try C on 30%"
        )
        _ = control.publish { command.encode(into: $0) }
        _ = control.publish { p in
            command.encode(into: p)
            p.storeBytes(of: UInt8(99), toByteOffset: ControlCommandLayout.command, as: UInt8.self)
        }

        let tap = try TickBusTest.run(
            ["tap", "--bus", bus, "--ring", StrategyRingFixture.ring, "--print", "--count", "\(records.count)"],
            timeout: 60
        )
        #expect(tap.status == 0, "\(tap.stderr)")
        let lines = tap.stdout.split(separator: "\n").map(String.init)
        #expect(Array(lines.dropLast()) == StrategyRingFixture.printed, "\(tap.stdout)")
        #expect(lines.last == "received=\(records.count) lost=0 gaps=0")

        let commands = try TickBusTest.run(
            ["tap", "--bus", bus, "--ring", "control", "--print", "--count", "2"],
            timeout: 60
        )
        #expect(commands.status == 0, "\(commands.stderr)")
        #expect(
            commands.stdout.split(separator: "\n").map(String.init) == [
                "command cmd=42 load role=canary pct=0 version=a0a1a2a3a4a5 strategy=S issuer=ops reason=try C on 30%",
                "command invalid: control record field 'command' 99 is not a command",
                "received=2 lost=0 gaps=0",
            ],
            "\(commands.stdout)"
        )
        decisions.close()
        control.close()
    }
}
