import Foundation
import TestSupport
import Testing
import TickBusCore

/// `tickbus drift --bus`: a ring `decisions.S` of another schema, or with decision records of
/// another layout version, is refused with what was wrong; nothing is printed on stdout.
@Suite("Drift monitor: bus refusals", .serialized)
struct MonitorBusRefusalTests {
    @Test("another schema, another decision layout", .timeLimit(.minutes(2)))
    func refusals() throws {
        let dir = TickBusTest.temporaryDirectory("drift-bus-refuse").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let baseline = try MonitorJournalTests.baseline(in: dir)
        let bus = TickBusTest.uniqueBus("drift-refuse")
        defer { TickBusTest.removeBus(bus) }

        // decisions.X holds market messages (schema 1).
        var wrong = try RingProducer(bus: bus, ring: "decisions.X", schema: .market)
        defer { wrong.close() }
        let r1 = try TickBusTest.run(
            ["drift", "--bus", bus, "--strategy", "X", "--baseline", baseline, "--attach-timeout", "2"],
            timeout: 60
        )
        #expect(r1.status == 1 && r1.stdout.isEmpty, "\(r1.stdout)")
        #expect(r1.stderr.contains("decisions.X") && r1.stderr.contains("schema"), "\(r1.stderr)")

        // decisions.Y is a decisions ring, but its first decision record is of layout version 1.
        var market = try RingProducer(bus: bus, ring: "market", schema: .market)
        defer { market.close() }
        var old = try RingProducer(bus: bus, ring: "decisions.Y", schema: .decisions, slotSize: 256)
        defer { old.close() }
        _ = old.publish { p in
            p.storeBytes(of: DecisionLayout.kindValue, toByteOffset: DecisionLayout.kind, as: UInt16.self)
            p.storeBytes(of: UInt16(6), toByteOffset: DecisionLayout.featureCount, as: UInt16.self)
            p.storeBytes(of: UInt8(1), toByteOffset: DecisionLayout.layoutVersion, as: UInt8.self)
        }
        let r2 = try TickBusTest.run(
            ["drift", "--bus", bus, "--strategy", "Y", "--baseline", baseline, "--attach-timeout", "2"],
            timeout: 60
        )
        #expect(r2.status == 1 && r2.stdout.isEmpty, "\(r2.stdout)")
        #expect(r2.stderr.contains("decision record layout version 1 at sequence 0"), "\(r2.stderr)")
    }
}
