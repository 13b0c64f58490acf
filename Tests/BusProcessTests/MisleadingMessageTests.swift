import Foundation
import TestSupport
import Testing

/// Issue 11, defect 7: messages that mislead. Each command says what was wrong, where, and
/// prints a result line only for work that started.
@Suite("Messages that do not mislead")
struct MisleadingMessageTests {
    @Test("record --block-kb below the minimum is refused before attaching, naming the minimum")
    func recordBlockSizeNamesTheMinimum() throws {
        let bus = TickBusTest.uniqueBus("blockkb")
        defer { TickBusTest.removeBus(bus) }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tickbus-blockkb-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for kb in ["4", "6", "0", "-8"] {
            // No ring exists: an argument check after attaching would wait out the 30 s attach timeout.
            let r = try TickBusTest.run(
                ["record", "--bus", bus, "--dir", dir, "--block-kb=\(kb)", "--attach-timeout", "30"],
                timeout: 20
            )
            #expect(!r.timedOut, "--block-kb \(kb) waited for the ring")
            #expect(r.status == 64, "--block-kb \(kb): status \(r.status)\n\(r.stderr)")
            #expect(r.stderr.contains("--block-kb must be a multiple of 4 from 8 (KiB)"), "\(r.stderr)")
            #expect(!r.stderr.contains("4096 must be"), "\(r.stderr)")
        }
        #expect(
            !FileManager.default.fileExists(atPath: dir),
            "record created its directory before checking its arguments"
        )
    }

    @Test("tap prints no result line after an attach error")
    func tapAttachErrorPrintsNoCounts() throws {
        let bus = TickBusTest.uniqueBus("tapnone")
        defer { TickBusTest.removeBus(bus) }
        let r = try TickBusTest.run(["tap", "--bus", bus, "--ring", "market"], timeout: 20)
        #expect(r.status == 2, "status \(r.status)\n\(r.stderr)")
        #expect(r.stderr.contains("tap:"), "\(r.stderr)")
        #expect(!r.stdout.contains("received="), "a tap that never read printed counts: \(r.stdout)")
    }

    @Test("replay --verify-decisions on a journal with a bad block names the CRC mismatch and its offset")
    func verifyDecisionsNamesTheBadBlock() throws {
        let root = TickBusTest.repositoryRoot.appendingPathComponent("Recordings/synthetic-5")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tickbus-verifycrc-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try? FileManager.default.removeItem(atPath: dir)
        try FileManager.default.copyItem(atPath: root.appendingPathComponent("session").path, toPath: dir)
        let args = [
            "replay", "--dir", dir, "--verify-decisions", "--features",
            root.appendingPathComponent("features.toml").path,
            "--model", root.appendingPathComponent("model.json").path,
        ]
        let ok = try TickBusTest.run(args, timeout: 120)
        #expect(ok.status == 0, "the bundled session does not verify: \(ok.stdout)\n\(ok.stderr)")
        // Flip one payload byte of the market journal's first block (the file header is 4096 bytes).
        let market = dir + "/market.000000.tbj"
        let fd = open(market, O_RDWR)
        #expect(fd >= 0)
        var byte: UInt8 = 0
        _ = pread(fd, &byte, 1, 4096 + 200)
        byte ^= 0xFF
        _ = pwrite(fd, &byte, 1, 4096 + 200)
        close(fd)
        let bad = try TickBusTest.run(args, timeout: 120)
        let text = bad.stdout + bad.stderr
        #expect(bad.status != 0, "a corrupt market journal verified: \(text)")
        #expect(text.contains("CRC32C mismatch"), "\(text)")
        #expect(text.contains("at offset 4096"), "\(text)")
        #expect(text.contains("market.000000.tbj"), "\(text)")
    }
}
