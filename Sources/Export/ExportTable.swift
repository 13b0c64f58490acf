import Parquet

/// A table of an export: its name (the first word of `journal cat`'s line for its records: `market`
/// for a market ring) and its columns, named as `journal cat`'s fields, then the columns that
/// `journal cat` does not print (times, the gap flag).
struct ExportTable {
    var name: String
    var columns: [ParquetColumn]
    /// The text fields of a table filled from the printed line: (column, type), in line order.
    var fields: [(name: String, type: FieldType)] = []
    /// Column indices of the trailing columns every table has.
    var gap = 0, from = 0, count = 0, eventTime = 0, receive = 0, publish = 0, layout = 0, seq = 0

    enum FieldType { case u64, i64, u32, i32, f64, string, bool }

    static func column(_ name: String, _ t: FieldType) -> ParquetColumn {
        switch t {
        case .u64: return .uint64(name, dictionary: .auto)
        case .i64: return .int64(name, dictionary: .auto)
        case .u32: return .uint32(name)
        case .i32: return .int32(name)
        case .f64: return .double(name)
        case .string: return .string(name)
        case .bool: return .bool(name)
        }
    }

    /// A table of `fields` after `seq`, then the common trailing columns.
    /// - Parameter strategyRing: a table of a strategy's ring, with `layout` and `publish_t` (-1 in a market table).
    init(name: String, fields: [(String, FieldType)], extra: [ParquetColumn] = [], strategyRing: Bool = true) {
        self.name = name
        self.fields = fields.map { (name: $0.0, type: $0.1) }
        columns = [.uint64("seq")] + fields.map { Self.column($0.0, $0.1) } + extra
        seq = 0
        layout = -1
        publish = -1
        if strategyRing {
            layout = columns.count
            columns.append(.int32("layout"))
        }
        eventTime = columns.count
        columns.append(.timestampNanos("event_time"))
        receive = columns.count
        columns.append(.int64("receive_t"))
        if strategyRing {
            publish = columns.count
            columns.append(.int64("publish_t"))
        }
        gap = columns.count
        columns.append(.bool("gap"))
        from = columns.count
        columns.append(.uint64("from"))
        count = columns.count
        columns.append(.uint64("count"))
    }

    func index(_ name: String) -> Int { columns.firstIndex { $0.name == name }! }
}

extension ExportTable {
    /// Ring `market`: every message kind in one table, the fields of kinds that lack them null.
    /// `bid`/`ask` (cat's `bid=PxQ/N`) are split into `bid`, `bid_qty`, `bid_orders` and the same for ask.
    static func market() -> ExportTable {
        var t = ExportTable(
            name: "market",
            fields: [
                ("kind", .string), ("inst", .u32), ("t", .i64), ("id", .u64), ("px", .i64), ("qty", .u32),
                ("side", .string), ("match", .u64), ("old", .u64), ("new", .u64), ("bid", .i64), ("bid_qty", .u32),
                ("bid_orders", .u32), ("ask", .i64), ("ask_qty", .u32), ("ask_orders", .u32), ("symbol", .string),
                ("lot", .u32), ("state", .string), ("messages", .u64),
            ],
            extra: [.int32("flags")],
            strategyRing: false
        )
        // `from`/`count` are shared by the feed's gap messages and the journal's gap records.
        t.fields = []
        return t
    }

    /// Decision records (kind 100): cat's fields, then the feature count `n` and `f0…f{features-1}`.
    static func decision(features: Int) -> ExportTable {
        var extra: [ParquetColumn] = [.int32("n")]
        for k in 0..<features { extra.append(.double("f\(k)")) }
        var t = ExportTable(
            name: "decision",
            fields: [
                ("mseq", .u64), ("inst", .u32), ("t", .i64), ("live", .f64), ("shadow", .f64), ("signal", .i32),
                ("canary", .f64), ("model", .string), ("live_model", .string), ("shadow_model", .string),
                ("canary_model", .string), ("pct", .i32), ("roles", .string),
            ],
            extra: extra
        )
        t.fields = []
        return t
    }

    /// The other kinds of a strategy's ring, filled from their printed lines (`RecordText`).
    static func printed(_ name: String) -> ExportTable? {
        let header: [(String, FieldType)] = [("mseq", .u64), ("inst", .u32), ("t", .i64)]
        switch name {
        case "control":
            return ExportTable(
                name: name,
                fields: [
                    ("cmd", .u64), ("verb", .string), ("outcome", .string), ("mseq", .u64), ("live", .string),
                    ("shadow", .string), ("canary", .string), ("pct", .i32), ("role", .string), ("paused", .bool),
                    ("message", .string), ("t", .i64),
                ]
            )
        case "order":
            return ExportTable(
                name: name,
                fields: header + [
                    ("id", .u64), ("action", .string), ("side", .string), ("px", .i64), ("qty", .u32), ("tif", .string),
                    ("reason", .string), ("sent", .i64), ("arrival", .i64), ("model", .string),
                ]
            )
        case "order_event":
            return ExportTable(
                name: name,
                fields: header + [
                    ("id", .u64), ("event", .string), ("reason", .string), ("fee", .f64), ("qty", .u32),
                    ("event_t", .i64),
                ]
            )
        case "fill":
            return ExportTable(
                name: name,
                fields: header + [
                    ("id", .u64), ("side", .string), ("px", .i64), ("qty", .u32), ("liquidity", .string), ("fee", .f64),
                    ("position", .i64), ("cash", .f64), ("remaining", .u32), ("fill_t", .i64),
                ]
            )
        case "risk":
            return ExportTable(
                name: name,
                fields: header + [("code", .string), ("value", .f64), ("limit", .f64), ("id", .u64)]
            )
        case "record":
            return ExportTable(name: name, fields: [("kind", .i32)] + header)
        default:
            return nil
        }
    }
}
