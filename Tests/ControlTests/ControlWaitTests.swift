import CTickBus
import Control
import ControlWire
import Foundation
import TestSupport
import Testing
import TickBusCore

#if canImport(Glibc)
import Glibc
#endif

/// Writes a control record (kind 101) by the byte table of `ControlRecordLayout`'s documentation.
func writeControlRecord(
    _ p: UnsafeMutableRawPointer,
    commandId: UInt64,
    verb: ControlVerb,
    applied: Bool,
    rejection: UInt32 = 0,
    message: String = "",
    firstSequence: UInt64,
    live: (UInt64, VersionDigest)
) {
    (p + 8).initializeMemory(as: UInt8.self, repeating: 0, count: 248)
    p.storeBytes(of: UInt16(101).littleEndian, toByteOffset: 8, as: UInt16.self)
    p.storeBytes(of: UInt16(applied ? 1 : 0).littleEndian, toByteOffset: 10, as: UInt16.self)
    p.storeBytes(of: verb.rawValue, toByteOffset: 12, as: UInt8.self)
    p.storeBytes(of: UInt8(1), toByteOffset: 15, as: UInt8.self)
    p.storeBytes(of: firstSequence.littleEndian, toByteOffset: 16, as: UInt64.self)
    p.storeBytes(of: rejection.littleEndian, toByteOffset: 32, as: UInt32.self)
    p.storeBytes(of: commandId.littleEndian, toByteOffset: 56, as: UInt64.self)
    p.storeBytes(of: live.0.littleEndian, toByteOffset: 64, as: UInt64.self)
    live.1.store(to: p, at: 88)
    for (i, b) in message.utf8.prefix(72).enumerated() { p.storeBytes(of: b, toByteOffset: 184 + i, as: UInt8.self) }
}

@Suite("Control: the client waits for the strategy's control record", .serialized)
struct ControlWaitTests {
    /// Plays the strategy: for each command addressed to `alpha` on ring control, a decision and then
    /// a control record (applied, or rejected for a resume) in `decisions.alpha`.
    @Test("applied → exit 0 with the record printed; rejected → exit 3; no answer → exit 4", .timeLimit(.minutes(2)))
    func wait() throws {
        let bus = TickBusTest.uniqueBus("ctlwait")
        defer { TickBusTest.removeBus(bus) }
        let registry = TickBusTest.temporaryDirectory("ctlwait")
        defer { try? FileManager.default.removeItem(at: registry) }
        var decisions = try RingProducer(
            bus: bus,
            ring: "decisions.alpha",
            schema: .decisions,
            slotSize: 256,
            capacity: 64
        )
        let server = try Child(["control", "serve", "--bus", bus, "--registry", registry.path])
        #expect(server.waitFor(timeout: 30) { $0.contains("control serve: bus=") }, "\(server.stderr)")
        var commands = try RingReader(bus: bus, ring: "control", name: "strategy", from: .start, expecting: .control)
        let version = VersionDigest(hex: String(repeating: "ab", count: 32))!

        /// Answers the next command on ring control (waiting for it up to 20 s).
        func answer(applied: Bool) throws -> UInt64 {
            let deadline = tb_monotonic_ns() + 20_000_000_000
            while tb_monotonic_ns() < deadline {
                guard case .message(let slot) = commands.poll() else {
                    usleep(1000)
                    continue
                }
                let c = try ControlCommand.decode(slot.base, size: slot.count)
                #expect(c.strategy == "alpha")
                // Unrelated records first: the client must skip them.
                _ = decisions.publish { p in
                    (p + 8).initializeMemory(as: UInt8.self, repeating: 0, count: 248)
                    p.storeBytes(of: UInt16(100).littleEndian, toByteOffset: 8, as: UInt16.self)
                    p.storeBytes(of: c.commandId.littleEndian, toByteOffset: 56, as: UInt64.self)
                }
                _ = decisions.publish {
                    writeControlRecord(
                        $0,
                        commandId: c.commandId &+ 1,
                        verb: c.verb,
                        applied: true,
                        firstSequence: 1,
                        live: (1, .zero)
                    )
                }
                _ = decisions.publish {
                    writeControlRecord(
                        $0,
                        commandId: c.commandId,
                        verb: c.verb,
                        applied: applied,
                        rejection: applied ? 0 : 3,
                        message: applied ? "" : "no canary loaded",
                        firstSequence: 77,
                        live: (0x1234, version)
                    )
                }
                return c.commandId
            }
            Issue.record("no command on ring control")
            return 0
        }

        let pause = try Child(["control", "--bus", bus, "--strategy", "alpha", "pause", "--reason", "wait test"])
        let pausedId = try answer(applied: true)
        let r1 = pause.wait(timeout: 30)
        #expect(r1.status == 0, "\(r1)")
        let lines = r1.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 2 && lines[0].hasPrefix("accepted command=\(pausedId) verb=pause"), "\(r1.stdout)")
        let kv = keyValues(lines.last ?? "")
        #expect(lines.last?.hasPrefix("applied command=\(pausedId) strategy=alpha verb=pause") == true)
        #expect(kv["first_market_sequence"] == "77")
        #expect(kv["live"] == "\(version.hex):0000000000001234" && kv["shadow"] == "-", "\(r1.stdout)")

        let promote = try Child(["control", "--bus", bus, "--strategy", "alpha", "promote", "--reason", "x", "--json"])
        let promoteId = try answer(applied: false)
        let r2 = promote.wait(timeout: 30)
        #expect(r2.status == 3, "\(r2)")
        #expect(r2.lastLine.contains("\"status\":\"rejected\"") && r2.lastLine.contains("\"rejection\":\"empty-role\""))
        #expect(r2.lastLine.contains("\"command_id\":\"\(promoteId)\""), "\(r2.stdout)")
        #expect(r2.stderr.contains("rejected command \(promoteId): empty-role no canary loaded"), "\(r2.stderr)")

        // Nobody answers: a timeout, exit 4.
        let resume = try control(bus, ["--strategy", "alpha", "resume", "--reason", "x", "--timeout", "1"])
        #expect(resume.status == 4 && resume.stderr.contains("no control record for command"), "\(resume)")
        // A strategy without a ring: refused before anything is submitted.
        let none = try control(bus, ["--strategy", "beta", "pause", "--reason", "x"])
        #expect(none.status != 0 && none.stderr.contains("decisions.beta"), "\(none)")
        #expect(!none.stdout.contains("accepted"))

        server.signal(SIGTERM)
        let done = server.wait(timeout: 30)
        #expect(done.stdout.contains("stopped accepted=3 refused=0"), "\(done.stdout)")
    }
}
