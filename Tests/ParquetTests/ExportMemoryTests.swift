import Export
import Foundation
import Parquet
import TestSupport
import Testing

/// Memory of a partitioned export is bounded by the row budget, not by the number of partitions:
/// once all partitions together buffer `memoryRows` rows, each writes its row group.
@Suite struct ExportMemoryTests {
    @Test("with a budget of 500 rows, every partition file is many small row groups, all rows present")
    func boundedByBudget() throws {
        let dir = TickBusTest.temporaryDirectory("export-memory")
        defer { removeDirectory(dir) }
        let journal = TickBusTest.repositoryRoot.appendingPathComponent("Recordings/synthetic-5/session").path
        var o = JournalExport.Options(journal: journal, ring: "market", out: dir.path)
        o.partition = [.instrument]
        o.rowGroupRows = 100_000
        o.memoryRows = 500
        let s = try JournalExport.run(o)
        #expect(s.records == 5_001)
        var rows: Int64 = 0
        for path in s.files {
            let f = try ParquetFile(path: path)
            rows += f.metadata.numRows
            // Each flush of the budget writes a row group in every partition that holds rows.
            #expect(f.metadata.rowGroups.allSatisfy { $0.numRows <= 500 }, "\(path)")
            if f.metadata.numRows > 500 { #expect(f.metadata.rowGroups.count > 1, "\(path)") }
        }
        #expect(rows == 5_001)
        #expect(s.files.count == 9, "instrument=0 (directory, eos) and 8 instruments: \(s.files)")
    }
}
