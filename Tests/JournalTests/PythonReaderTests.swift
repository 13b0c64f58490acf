import Foundation
import Journal
import TestSupport
import Testing

/// Tools/journal_reader.py, written from Docs/JOURNAL.md, reads what the Swift writer wrote and
/// stops where the Swift reader stops.
@Suite struct PythonReaderTests {
    func python(_ args: [String]) throws -> (status: Int32, out: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments =
            ["python3", TickBusTest.repositoryRoot.appendingPathComponent("Tools/journal_reader.py").path] + args
        let out = TickBusTest.temporaryDirectory("py").appendingPathComponent("out.txt")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        p.standardOutput = try FileHandle(forWritingTo: out)
        p.standardError = p.standardOutput
        try p.run()
        p.waitUntilExit()
        let text = (try? String(contentsOf: out, encoding: .utf8)) ?? ""
        try? FileManager.default.removeItem(at: out.deletingLastPathComponent())
        return (p.terminationStatus, text)
    }

    @Test func pythonReaderAgreesWithSwift() throws {
        let dir = temporaryDirectory("py")
        defer { removeDirectory(dir) }
        let slots = syntheticSlots(seed: 4, count: 3000)
        _ = try writeJournal(
            dir,
            slots: slots,
            gaps: [10..<20, 2500..<2600],
            options: smallBlocks(segmentBytes: 64 * 1024)
        )
        let clean = try python([dir, "market"])
        #expect(clean.status == 0, "\(clean.out)")
        #expect(
            clean.out.contains("ring=market records=2890 gaps=2 lost=110 sealed reason=end-of-session"),
            "\(clean.out)"
        )
        // The first data record decodes to the right fields (a directory message of AAPL).
        #expect(clean.out.contains("directory"))

        // Corrupt one payload byte in segment 1: both readers stop at the same block.
        let file = dir + "/" + JournalFormat.segmentFileName(ring: "market", segment: 1)
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: file)))
        bytes[JournalFormat.headerSize + JournalFormat.alignment + 100] ^= 0x10
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        let (entries, _, error, reader) = try readJournal(dir)
        #expect(error?.reasonCode == "crc-mismatch")
        let bad = try python([dir, "market"])
        #expect(bad.status == 1)
        let records = entries.filter { if case .record = $0 { return true } else { return false } }.count
        #expect(bad.out.contains("ring=market records=\(records) gaps=\(reader.gapRecords)"), "\(bad.out)")
        #expect(bad.out.contains("offset \(error?.location?.offset ?? 0): crc-mismatch"), "\(bad.out)")
    }
}
