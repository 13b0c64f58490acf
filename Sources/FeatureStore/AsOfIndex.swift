/// Point-in-time lookup over bitemporal rows: for a query time, the row the system knew last —
/// the greatest knowledge time at or before the query, ties to the highest sequence — never a row
/// known later, whatever its event time. Per instrument, rows are sorted by (knowledge time,
/// sequence) once; each query is a binary search.
public struct AsOfIndex: Sendable {
    /// The answer's status.
    public enum Status: String, Sendable {
        /// A row was known at the query time and its event time is within the TTL.
        case ok
        /// A row was known, but its event time is more than the TTL before the query time.
        case stale
        /// No row of the instrument was known at the query time.
        case missing
    }

    /// Row indices per instrument, sorted by (knowledge time, sequence).
    let order: [UInt32: [Int]]
    let knowledgeTime: [Int64]
    let eventTime: [Int64]
    let sequence: [UInt64]

    /// Indexes rows given column-wise (equal lengths).
    public init(instrument: [UInt32], sequence: [UInt64], eventTime: [Int64], knowledgeTime: [Int64]) {
        precondition(
            instrument.count == sequence.count && sequence.count == eventTime.count
                && eventTime.count == knowledgeTime.count,
            "AsOfIndex: columns of different lengths"
        )
        var order: [UInt32: [Int]] = [:]
        for (row, i) in instrument.enumerated() { order[i, default: []].append(row) }
        for key in Array(order.keys) {
            // Sorted by (knowledge time, sequence, row): a total order, so duplicate keys resolve
            // the same way every time.
            order[key]!.sort { (knowledgeTime[$0], sequence[$0], $0) < (knowledgeTime[$1], sequence[$1], $1) }
        }
        self.order = order
        self.knowledgeTime = knowledgeTime
        self.eventTime = eventTime
        self.sequence = sequence
    }

    /// The instruments that have rows, ascending.
    public var instruments: [UInt32] { order.keys.sorted() }

    /// The row of `instrument` known last at `at` (nil: missing), and its status under `ttl` (nil: no TTL).
    public func lookup(instrument: UInt32, at: Int64, ttl: Int64?) -> (row: Int?, status: Status) {
        guard let rows = order[instrument] else { return (nil, .missing) }
        // First position whose knowledge time is after `at`; the answer is the one before it.
        var lo = 0
        var hi = rows.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if knowledgeTime[rows[mid]] <= at { lo = mid + 1 } else { hi = mid }
        }
        guard lo > 0 else { return (nil, .missing) }
        let row = rows[lo - 1]
        if let ttl {
            // Stale when at - event > ttl, computed without overflow (untrusted times).
            let (age, overflow) = at.subtractingReportingOverflow(eventTime[row])
            if overflow ? at > eventTime[row] : age > ttl { return (row, .stale) }
        }
        return (row, .ok)
    }
}
