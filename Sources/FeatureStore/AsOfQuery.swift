/// `tickbus features asof`: point-in-time rows of a snapshot as CSV.
public enum AsOfQuery {
    /// The CSV header: the query, the answer's status and keys, then the features asked for.
    public static func header(features: [String]) -> String {
        (["query_time", "instrument", "status", "sequence", "event_time", "knowledge_time"] + features)
            .joined(separator: ",")
    }

    /// Answers every query time (in the order given) for `instrument`, or for every instrument of
    /// the snapshot in ascending order when nil; calls `line` with each CSV line, header first.
    /// A `missing` answer leaves the row's fields empty; a `stale` one prints the row it found.
    /// - Parameter features: the feature columns to print (nil: all, in the snapshot's order).
    /// - Throws: `unknownInstrument` / `unknownFeature`, naming what the snapshot holds.
    public static func run(
        _ table: SnapshotTable,
        at times: [Int64],
        instrument: UInt32?,
        features: [String]?,
        ttl: Int64?,
        line: (String) -> Void
    ) throws(SnapshotError) {
        let names = features ?? table.manifest.features
        var columns: [Int] = []
        for name in names {
            guard let c = table.manifest.features.firstIndex(of: name) else {
                throw .unknownFeature(name, snapshot: table.directory, known: table.manifest.features)
            }
            columns.append(c)
        }
        let index = AsOfIndex(
            instrument: table.instrument,
            sequence: table.sequence,
            eventTime: table.eventTime,
            knowledgeTime: table.knowledgeTime
        )
        let known = index.instruments
        if let instrument, !known.contains(instrument) {
            throw .unknownInstrument(instrument, snapshot: table.directory, known: known)
        }
        line(header(features: names))
        for t in times {
            for i in instrument.map({ [$0] }) ?? known {
                let (row, status) = index.lookup(instrument: i, at: t, ttl: ttl)
                var s = "\(t),\(i),\(status.rawValue)"
                if let row {
                    s += ",\(table.sequence[row]),\(table.eventTime[row]),\(table.knowledgeTime[row])"
                    for c in columns { s += "," + number(table.features[c][row]) }
                } else {
                    s += String(repeating: ",", count: 3 + columns.count)
                }
                line(s)
            }
        }
    }

    /// `%.17g` (round-trips a double), `nan` for a missing value: as `tickbus features` prints.
    static func number(_ v: Double) -> String {
        if v.isNaN { return "nan" }
        if v.isInfinite { return v < 0 ? "-inf" : "inf" }
        return "\(v)"
    }
}
