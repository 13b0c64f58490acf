import TickBusCore

/// The CSV files of `tickbus sim` (Docs/EXECUTION.md, "fills.csv" and "events.csv"). The formats
/// are a contract users check their own order logs against: one header line, one row per fill
/// or event, `\n` line ends, integers in decimal, fees in dollars as Swift's shortest round-trip
/// `Double.description` (the text Python's `repr` gives for the same value).
public enum ExecutionCSV {
    /// The header of fills.csv.
    public static let fillsHeader = "order_id,time_ns,market_sequence,price,qty,liquidity,fee"
    /// The header of events.csv.
    public static let eventsHeader = "order_id,time_ns,event,reason,fee"

    /// Appends one fills.csv row: `order_id,time_ns,market_sequence,price,qty,liquidity,fee`.
    public static func appendRow(_ f: Fill, to out: inout [UInt8]) {
        out.append(contentsOf: "\(f.orderId),\(f.time),\(f.marketSequence),\(f.price),\(f.quantity),".utf8)
        out.append(contentsOf: "\(f.liquidity),\(f.fee)\n".utf8)
    }

    /// Appends one events.csv row: `order_id,time_ns,event,reason,fee` (`reason` empty when none).
    public static func appendRow(_ e: OrderEvent, to out: inout [UInt8]) {
        out.append(contentsOf: "\(e.orderId),\(e.time),\(e.kind),\(e.reason),\(e.fee)\n".utf8)
    }
}

/// An `ExecutionSink` that keeps fills.csv and events.csv in memory (with their headers) and
/// counts what `tickbus sim` summarises. Not for the hot path: each row formats a `String`.
public struct ExecutionCSVSink: ExecutionSink {
    /// fills.csv so far, header included.
    public private(set) var fills: [UInt8]
    /// events.csv so far, header included.
    public private(set) var events: [UInt8]
    public private(set) var fillCount = 0
    public private(set) var filledShares: UInt64 = 0
    /// Fees of every fill and event, dollars.
    public private(set) var fees: Double = 0
    /// Events by kind (`OrderEventKind.rawValue` 1...4 at the same index; 0 unused).
    public private(set) var eventCounts = [Int](repeating: 0, count: 5)
    /// The `reject` and `cancel_rejected` events, in order, for a caller that names their lines.
    public private(set) var refusals: [OrderEvent] = []

    public init() {
        fills = Array((ExecutionCSV.fillsHeader + "\n").utf8)
        events = Array((ExecutionCSV.eventsHeader + "\n").utf8)
    }

    /// Events of one kind so far.
    public func count(_ kind: OrderEventKind) -> Int { eventCounts[Int(kind.rawValue)] }

    public mutating func fill(_ fill: Fill) {
        ExecutionCSV.appendRow(fill, to: &fills)
        fillCount += 1
        filledShares += UInt64(fill.quantity)
        fees += fill.fee
    }

    public mutating func orderEvent(_ event: OrderEvent) {
        ExecutionCSV.appendRow(event, to: &events)
        eventCounts[Int(event.kind.rawValue)] += 1
        fees += event.fee
        if event.kind == .reject || event.kind == .cancelRejected { refusals.append(event) }
    }
}
