import Journal
import Parquet
import TickBusCore

#if canImport(Glibc)
import Glibc
#endif

/// `tickbus export`: a journal ring as Parquet tables (Docs/PARQUET.md). Ring `market` is one table
/// of every message; a strategy's ring (`decisions.<name>`) one table per record kind (`decision`,
/// `control`, `order`, `order_event`, `fill`, `risk`, `record` for kinds this build does not know),
/// each with `journal cat`'s fields as columns. The journal's gap records are rows with `gap` true
/// (and `from`, `count`) in every table of the ring: lost records could have been of any kind.
///
/// Memory is bounded by the row group size: each table (and partition) buffers at most one row group,
/// and when the partitions together hold more than `memoryRows` rows every one is written out.
public enum JournalExport {
    /// What `--partition` asks for, in folder order.
    public enum PartitionKey: String, Sendable { case date, instrument }

    public struct Options: Sendable {
        public var journal: String
        public var ring: String
        public var out: String
        public var partition: [PartitionKey] = []
        public var rowGroupRows = 131_072
        public var zstdLevel: Int32 = 1
        /// Rows all partitions may buffer together before each writes its row group (default 4 row groups).
        public var memoryRows: Int?

        public init(journal: String, ring: String, out: String) {
            self.journal = journal
            self.ring = ring
            self.out = out
        }

        /// Parses `date`, `instrument`, `date,instrument` or `instrument,date`.
        public static func partition(_ text: String) throws(ExportError) -> [PartitionKey] {
            var keys: [PartitionKey] = []
            for part in text.split(separator: ",", omittingEmptySubsequences: false) {
                guard let k = PartitionKey(rawValue: String(part)), !keys.contains(k) else { throw .badPartition(text) }
                keys.append(k)
            }
            return keys
        }
    }

    /// What an export wrote.
    public struct Summary: Sendable {
        public var records: UInt64 = 0
        public var gaps: UInt64 = 0
        public var rows: [String: Int64] = [:]
        public var files: [String] = []
        public var bytes: Int64 = 0
        public var sessionDate = ""
    }

    /// Format version of the tables (`tickbus.export_format` in each file's key-value metadata).
    public static let formatVersion = 1

    /// Writes the Parquet tables of `options.ring`.
    /// - Parameter progress: called every 65,536 records with the records read so far.
    public static func run(
        _ options: Options,
        progress: (UInt64) -> Void = { _ in }
    ) throws(ExportError) -> Summary {
        let reader: JournalReader
        do { reader = try JournalReader(directory: options.journal, ring: options.ring) } catch {
            throw .journal(error)
        }
        let schema = reader.schema
        guard schema == .market || schema == .decisions else {
            throw .unsupportedSchema(ring: options.ring, schema: schema)
        }
        let date = SessionDate(epochNs: reader.header.createdRealtimeNs)
        var sink = try ExportSink(options: options, reader: reader, date: date)
        if schema == .decisions {
            // A first pass finds the tables present and the widest feature vector: every file's schema is fixed.
            let scan: JournalReader
            do { scan = try JournalReader(directory: options.journal, ring: options.ring) } catch {
                throw .journal(error)
            }
            var names: Set<String> = []
            var features = 0
            while let e = scan.next() {
                guard case .record(let p) = e else { continue }
                let kind = p.load(fromByteOffset: RecordHeader.kind, as: UInt16.self)
                if kind == DecisionLayout.kindValue {
                    names.insert("decision")
                    features = max(features, DecisionColumns.featureCount(p, slotSize: scan.slotSize))
                } else {
                    names.insert(PrintedRow.tableName(RecordText.line(p, slotSize: scan.slotSize, schema: .decisions)))
                }
            }
            if names.isEmpty { names.insert("decision") }
            sink.defineStrategyTables(names.sorted(), features: features)
        } else {
            sink.defineMarketTable()
        }
        var summary = Summary()
        summary.sessionDate = date.text
        var n: UInt64 = 0
        while let e = reader.next() {
            switch e {
            case .record(let p):
                try sink.record(p)
                summary.records += 1
            case .gap(let from, let count):
                try sink.gap(from: from, count: count)
                summary.gaps += 1
            }
            n += 1
            if n & 0xFFFF == 0 { progress(n) }
        }
        try sink.close(into: &summary)
        if let stop = reader.stopError { throw .journalStopped(records: summary.records, stop) }
        return summary
    }
}
