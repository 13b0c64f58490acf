import Journal
import Parquet
import TickBusCore

#if canImport(Glibc)
import Glibc
#endif

/// One table of an export and its writers, one per partition (the date is the same for the whole
/// journal, so a partition is told by its instrument; without `--instrument` partitioning all rows
/// share one writer).
final class TableState {
    let table: ExportTable
    var writers: [UInt32: ParquetWriter] = [:]
    var rows: Int64 = 0
    var lastInstrument: UInt32 = 0
    var last: ParquetWriter?

    init(_ table: ExportTable) { self.table = table }
}

/// The open tables of one export.
struct ExportSink {
    let options: JournalExport.Options
    let date: SessionDate
    let slotSize: Int
    let keyValues: [(key: String, value: String)]
    let byInstrument: Bool
    var tables: [TableState] = []
    var byName: [String: Int] = [:]
    var market: MarketColumns?
    var decision: DecisionColumns?
    var decisionTable = -1
    var buffered = 0
    let memoryRows: Int

    init(options: JournalExport.Options, reader: JournalReader, date: SessionDate) throws(ExportError) {
        self.options = options
        self.date = date
        slotSize = reader.slotSize
        byInstrument = options.partition.contains(.instrument)
        memoryRows = max(options.memoryRows ?? options.rowGroupRows * 4, 1)
        let h = reader.header
        keyValues = [
            ("tickbus.export_format", "\(JournalExport.formatVersion)"),
            ("tickbus.version", "tickbus export (journal format \(h.version))"),
            ("tickbus.ring", h.ring), ("tickbus.bus", h.bus), ("tickbus.schema", "\(h.schema.rawValue)"),
            ("tickbus.slot_size", "\(h.slotSize)"), ("tickbus.generation", "\(h.generation)"),
            ("tickbus.first_sequence", "\(h.firstSequence)"), ("tickbus.journal_created_ns", "\(h.createdRealtimeNs)"),
            ("tickbus.session_date", date.text), ("tickbus.price_scale", "1e-4"),
            (
                "tickbus.time",
                "t, sent, arrival, event_t, fill_t: ns since the session's midnight (exchange time); "
                    + "event_time: session date (UTC) + t; receive_t, publish_t: monotonic ns"
            ),
        ]
        try Self.makeDirectories(options.out)
    }

    mutating func add(_ t: ExportTable) {
        byName[t.name] = tables.count
        tables.append(TableState(t))
    }

    mutating func defineMarketTable() {
        let t = ExportTable.market()
        market = MarketColumns(t, midnight: date.midnightNs)
        add(t)
    }

    mutating func defineStrategyTables(_ names: [String], features: Int) {
        for name in names {
            if name == "decision" {
                let t = ExportTable.decision(features: features)
                decision = DecisionColumns(t, features: features, midnight: date.midnightNs)
                decisionTable = tables.count
                add(t)
            } else if let t = ExportTable.printed(name) {
                add(t)
            }
        }
    }

    // MARK: Rows

    mutating func record(_ p: UnsafeRawPointer) throws(ExportError) {
        if let market {
            let m = MarketMessageView(p)
            let w = try writer(0, instrument: m.instrument)
            market.fill(w, m)
            try endRow(w, 0)
            return
        }
        let kind = p.load(fromByteOffset: RecordHeader.kind, as: UInt16.self)
        let inst = p.load(fromByteOffset: RecordHeader.instrument, as: UInt32.self)
        if kind == DecisionLayout.kindValue, let decision {
            let w = try writer(decisionTable, instrument: inst)
            decision.fill(w, p, slotSize: slotSize)
            try endRow(w, decisionTable)
            return
        }
        let line = RecordText.line(p, slotSize: slotSize, schema: .decisions)
        guard let t = byName[PrintedRow.tableName(line)] else { return }  // every name is defined by the first pass
        let w = try writer(t, instrument: inst)
        PrintedRow.fill(w, tables[t].table, line: line, p, midnight: date.midnightNs)
        try endRow(w, t)
    }

    /// A journal gap record: a row with `gap`, `from`, `count` in every table (instrument 0).
    mutating func gap(from: UInt64, count: UInt64) throws(ExportError) {
        for t in tables.indices {
            let table = tables[t].table
            let w = try writer(t, instrument: 0)
            w.uint64(table.from, from)
            w.uint64(table.count, count)
            try endRow(w, t, gap: true)
        }
    }

    @inline(__always)
    mutating func endRow(_ w: ParquetWriter, _ t: Int, gap: Bool = false) throws(ExportError) {
        let state = tables[t]
        w.bool(state.table.gap, gap)  // never null
        do { try w.endRow() } catch { throw .parquet(error) }
        state.rows += 1
        buffered += 1
        if buffered >= memoryRows {
            // Every partition writes its row group: memory stays bounded whatever the partition count.
            for s in tables {
                for w in s.writers.values {
                    do { try w.flushRowGroup() } catch { throw .parquet(error) }
                }
            }
            buffered = 0
        }
    }

    /// The writer of table `t` for the partition of `instrument`, created on first use.
    @inline(__always)
    mutating func writer(_ t: Int, instrument: UInt32) throws(ExportError) -> ParquetWriter {
        let state = tables[t]
        let key = byInstrument ? instrument : 0
        if let w = state.last, state.lastInstrument == key { return w }
        let w: ParquetWriter
        if let existing = state.writers[key] { w = existing } else { w = try open(state, key) }
        state.last = w
        state.lastInstrument = key
        return w
    }

    func open(_ state: TableState, _ instrument: UInt32) throws(ExportError) -> ParquetWriter {
        let path: String
        if options.partition.isEmpty {
            path = "\(options.out)/\(state.table.name).parquet"
        } else {
            var dir = "\(options.out)/\(state.table.name)"
            for k in options.partition { dir += k == .date ? "/date=\(date.text)" : "/instrument=\(instrument)" }
            try Self.makeDirectories(dir)
            path = "\(dir)/part-0.parquet"
        }
        var o = ParquetWriter.Options()
        o.rowGroupRows = options.rowGroupRows
        o.zstdLevel = options.zstdLevel
        let w: ParquetWriter
        do { w = try ParquetWriter(path: path, columns: state.table.columns, options: o) } catch {
            throw .parquet(error)
        }
        state.writers[instrument] = w
        return w
    }

    mutating func close(into summary: inout JournalExport.Summary) throws(ExportError) {
        for state in tables {
            summary.rows[state.table.name] = state.rows
            // A table of the ring with no rows still gets its (empty) file, so its schema is known.
            if state.writers.isEmpty { _ = try open(state, 0) }
            for (_, w) in state.writers.sorted(by: { $0.key < $1.key }) {
                do { try w.close(keyValues: keyValues + [("tickbus.table", state.table.name)]) } catch {
                    throw .parquet(error)
                }
                summary.files.append(w.path)
                var st = stat()
                if stat(w.path, &st) == 0 { summary.bytes += Int64(st.st_size) }
            }
        }
    }

    /// `mkdir -p`.
    static func makeDirectories(_ path: String) throws(ExportError) {
        var prefix = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            prefix += "/\(part)"
            if mkdir(prefix, 0o755) != 0 && errno != EEXIST {
                throw .output(path: prefix, SystemCallError(call: "mkdir", argument: prefix, errno: errno))
            }
        }
    }
}
