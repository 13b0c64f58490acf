import Foundation
import Journal
import TestSupport
import Testing
import TickBusCore

/// Journal gap records as rows: the bundled recording's rings rewritten with some ranges lost (gap
/// records in their place), exported, and checked against `journal cat` (which prints each gap as
/// `gap from=X count=Y`) by pyarrow, DuckDB and polars: a row with `gap` true, `from`, `count` and
/// nothing else, at its place in ring order, in every table of the ring.
@Suite(.serialized) struct ExportGapTests {
    /// Copies ring `ring` of the bundled recording into `dir`, the entries of `lost` replaced by gap records.
    static func rewrite(_ ring: String, into dir: String, lost: [Range<Int>]) throws {
        let source = TickBusTest.repositoryRoot.appendingPathComponent("Recordings/synthetic-5/session").path
        let r = try JournalReader(directory: source, ring: ring)
        var w = try JournalWriter.create(
            directory: dir,
            ring: ring,
            bus: "test",
            schema: r.schema,
            slotSize: r.slotSize,
            generation: 1,
            firstSequence: 0
        )
        var i = 0
        while let e = r.next() {
            guard case .record(let p) = e else { continue }
            if let g = lost.first(where: { $0.contains(i) }) {
                if g.lowerBound == i { try w.appendGap(from: UInt64(i), count: UInt64(g.count)) }
            } else {
                try w.append(p)
            }
            i += 1
        }
        try w.seal(reason: .endOfSession)
    }

    @Test("gap records are rows with gap true, from and count, in every table, in ring order")
    func gapRows() throws {
        let dir = TickBusTest.temporaryDirectory("export-gaps")
        defer { removeDirectory(dir) }
        let journal = dir.path + "/journal"
        try Self.rewrite("market", into: journal, lost: [0..<1, 100..<140, 4_000..<4_001])
        try Self.rewrite("decisions.S", into: journal, lost: [10..<12, 600..<601])
        for ring in ["market", "decisions.S"] {
            for partition in [nil, "date,instrument"] as [String?] {
                let out = dir.path + "/out-\(ring)-\(partition == nil ? "flat" : "parts")"
                var args = ["export", "--journal", journal, "--ring", ring, "--out", out]
                if let partition { args += ["--partition", partition] }
                let e = try TickBusTest.run(args)
                #expect(e.status == 0, "\(e.stderr)")
                #expect(e.lastLine.contains("gaps=\(ring == "market" ? 3 : 2)"), "\(e.stdout)")
                var check = [TickBusTest.binary, journal, ring, out]
                if partition != nil { check.append("--partitioned") }
                let r = try pythonScript("export_check.py", check)
                #expect(r.status == 0, "\(ring) \(partition ?? "flat"): \(r.stdout)\(r.stderr)")
            }
        }
    }
}
