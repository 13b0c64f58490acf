import ArgumentParser
import CTickBus
import Export

/// `tickbus export`: a journal ring as Parquet tables (Docs/PARQUET.md).
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract:
            "Write a journal ring as Parquet (Docs/PARQUET.md): one table per record kind, cat's fields as columns.",
        discussion: """
            OUT/<table>.parquet, or with --partition OUT/<table>/date=YYYY-MM-DD/instrument=N/part-0.parquet (the \
            session date from the journal header). Tables: market for ring market; decision, control, order, \
            order_event, fill, risk, record for a strategy's ring. Progress on stderr; last line on stdout: \
            exported ring=R records=N gaps=G rows=N files=F bytes=B seconds=S.
            """
    )

    @Option(help: "Journal directory.") var journal: String
    @Option(help: "Ring to export (market, decisions.<name>).") var ring: String
    @Option(help: "Output folder.") var out: String
    @Option(help: "Hive-style partition folders: date, instrument or date,instrument.") var partition: String?
    @Option(help: "Rows per row group.") var rowGroupRows: Int = 131_072
    @Option(help: "ZSTD level (1 fastest).") var zstdLevel: Int32 = 1

    func validate() throws {
        if let partition {
            do { _ = try JournalExport.Options.partition(partition) } catch { throw ValidationError("\(error)") }
        }
        guard rowGroupRows >= 1 && rowGroupRows <= 1 << 22 else {
            throw ValidationError("--row-group-rows must be 1…4194304, got \(rowGroupRows)")
        }
        guard zstdLevel >= 1 && zstdLevel <= 22 else { throw ValidationError("--zstd-level must be 1…22") }
    }

    func run() throws {
        var o = JournalExport.Options(journal: journal, ring: ring, out: out)
        o.partition = try partition.map { p throws in try JournalExport.Options.partition(p) } ?? []
        o.rowGroupRows = rowGroupRows
        o.zstdLevel = zstdLevel
        let start = tb_monotonic_ns()
        var lastReport = start
        let summary: JournalExport.Summary
        do {
            summary = try JournalExport.run(o) { n in
                let now = tb_monotonic_ns()
                guard now - lastReport >= 1_000_000_000 else { return }
                lastReport = now
                let s = Double(now - start) / 1e9
                warn("export: \(n) records, \(format3(s)) s, \(Int(Double(n) / s)) records/s")
            }
        } catch {
            throw RuntimeFailure("export: \(error)", status: ExitStatus.error)
        }
        let seconds = Double(tb_monotonic_ns() - start) / 1e9
        for (table, rows) in summary.rows.sorted(by: { $0.key < $1.key }) { print("table=\(table) rows=\(rows)") }
        print(
            "exported ring=\(ring) records=\(summary.records) gaps=\(summary.gaps) "
                + "rows=\(summary.rows.values.reduce(0, +)) files=\(summary.files.count) bytes=\(summary.bytes) "
                + "seconds=\(format3(seconds)) session_date=\(summary.sessionDate)"
        )
        flushOut()
    }
}
