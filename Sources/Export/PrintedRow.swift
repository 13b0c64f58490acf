import Parquet
import TickBusCore

/// The rarer records of a strategy's ring (control records, orders, order events, fills, risk
/// events, kinds this build does not know) as rows: their `journal cat` line (`RecordText.line`, the
/// very text `journal cat` prints) split into `key=value` fields, each parsed to its column's type,
/// plus the header fields the line leaves out (from the record's bytes).
enum PrintedRow {
    /// The table a line belongs to: its first word (`control`, `order`, `order_event`, `fill`, `risk`, `record`).
    static func tableName(_ line: String) -> String {
        String(line.prefix { $0 != " " })
    }

    /// The line's fields: `key=value` words, and the positional words of a control line (`verb`,
    /// `outcome`, and `message`: the rest of the line after `paused=…`).
    static func fields(_ line: String) -> [Substring: Substring] {
        var out: [Substring: Substring] = [:]
        let words = line.split(separator: " ", omittingEmptySubsequences: false)
        let control = words.first == "control"
        var position = 0
        for (i, word) in words.enumerated() {
            if i == 0 { continue }
            if let eq = word.firstIndex(of: "=") {
                let key = word[..<eq]
                out[key] = word[word.index(after: eq)...]
                if control && key == "paused" && i + 1 < words.count {
                    out["message"] = words[(i + 1)...].joined(separator: " ")[...]
                    break
                }
            } else if control {
                position += 1
                if position == 1 { out["verb"] = word } else if position == 2 { out["outcome"] = word }
            }
        }
        return out
    }

    static func fill(_ w: ParquetWriter, _ table: ExportTable, line: String, _ p: UnsafeRawPointer, midnight: Int64) {
        let f = fields(line)
        let time = p.load(fromByteOffset: RecordHeader.exchangeTime, as: Int64.self)
        w.uint64(table.seq, p.load(as: UInt64.self))
        for (k, field) in table.fields.enumerated() {
            let c = k + 1  // after seq
            let text: Substring? = f[Substring(field.name)]
            // Header fields a line does not print (a control record's exchange time) come from the record.
            guard let text else {
                switch field.name {
                case "t": w.int64(c, time)
                case "mseq": w.uint64(c, p.load(fromByteOffset: RecordHeader.marketSequence, as: UInt64.self))
                case "inst": w.uint32(c, p.load(fromByteOffset: RecordHeader.instrument, as: UInt32.self))
                default: break
                }
                continue
            }
            switch field.type {
            case .u64: if let v = UInt64(text) { w.uint64(c, v) }
            case .i64: if let v = Int64(text) { w.int64(c, v) }
            case .u32: if let v = UInt32(text) { w.uint32(c, v) }
            case .i32: if let v = Int32(text) { w.int32(c, v) }
            case .f64: if let v = Double(text) { w.double(c, v) }
            case .bool: w.bool(c, text == "true")
            case .string: w.string(c, String(text))
            }
        }
        w.int32(table.layout, Int32(p.load(fromByteOffset: RecordHeader.layoutVersion, as: UInt8.self)))
        let (at, overflow) = midnight.addingReportingOverflow(time)
        if !overflow { w.int64(table.eventTime, at) }
        w.int64(table.receive, p.load(fromByteOffset: RecordHeader.receiveTime, as: Int64.self))
        w.int64(table.publish, p.load(fromByteOffset: RecordHeader.publishTime, as: Int64.self))
    }
}
