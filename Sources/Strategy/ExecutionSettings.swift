import Execution
import Features

#if canImport(Glibc)
import Glibc
#endif

/// The execution file `E.toml` of a paper-trading strategy or a backtest: the simulator's latency
/// and fees, the order policy, the risk limits (Docs/EXECUTION.md, "The execution file"). It is
/// apart from the feature definition so that a risk limit can change without a new model version.
///
/// ```toml
/// [simulator]
/// order_latency_ns = 20_000       # default 0
/// response_latency_ns = 20_000    # default 0
/// maker_fee = -0.0020             # dollars per share (a rebate is negative); default 0
/// taker_fee = 0.0030
/// order_fee = 0.0                 # dollars per order
/// [orders]
/// mode = "join"                   # join | cross | quote (default join)
/// size = 100                      # shares per order (default 100)
/// cancel_on_flat = true           # default true
/// cancel_on_opposite = true       # default true
/// lifetime_ns = 1_000_000_000     # cancel a resting order this long after it was sent; 0 = none
/// [risk]                          # a limit left out is not enforced
/// max_position = 1000             # shares per instrument, absolute
/// max_orders_per_second = 100     # new orders per rolling second of exchange time
/// max_loss = 5000.0               # dollars (cash + positions marked to mid, after fees)
/// ```
public struct ExecutionSettings: Sendable, Equatable {
    public var latency: ExecutionLatency
    public var fees: ExecutionFees
    public var orders: OrderPolicySettings
    public var risk: RiskSettings

    /// The defaults: no latency, no fees, `join` 100 shares, no risk limit.
    public init(
        latency: ExecutionLatency = .zero,
        fees: ExecutionFees = .zero,
        orders: OrderPolicySettings = OrderPolicySettings(),
        risk: RiskSettings = RiskSettings()
    ) {
        self.latency = latency
        self.fees = fees
        self.orders = orders
        self.risk = risk
    }

    /// Latencies are at most an hour of exchange time (a larger one is a unit mistake).
    public static let maxLatencyNs: Int64 = 3_600_000_000_000
    /// Fees are at most $100 per share or order in absolute value.
    public static let maxFee = 100.0
    /// An order is at most this many shares.
    public static let maxSize = 100_000_000
    /// The rolling window of `max_orders_per_second` keeps one timestamp per order allowed.
    public static let maxOrdersPerSecondLimit = 1_000_000
    public static let maxPositionLimit: Int64 = 1_000_000_000_000

    /// Reads and parses an execution file.
    /// - Throws: `ExecutionSettingsError.io` (with the errno), or the parse error inside `.file`.
    public static func load(path: String) throws(ExecutionSettingsError) -> ExecutionSettings {
        let text: String
        do { text = try TOMLLine.readFile(path: path) } catch {
            if case .io(_, let e) = error { throw .io(path: path, errno: e) }
            throw .io(path: path, errno: EIO)
        }
        do { return try parse(text) } catch { throw .file(path: path, error) }
    }

    /// Parses the text of an execution file (the format above; Features' TOML subset).
    /// - Throws: `ExecutionSettingsError` naming the line and the key.
    public static func parse(_ text: String) throws(ExecutionSettingsError) -> ExecutionSettings {
        var settings = ExecutionSettings()
        var table: ExecutionTable?
        var seen: [String: Int] = [:]  // "table.key" -> line
        var lineNo = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNo += 1
            let parsed: TOMLLine?
            do { parsed = try TOMLLine.parse(rawLine, line: lineNo) } catch {
                if case .syntax(let l, let message) = error { throw .syntax(line: l, message: message) }
                throw .syntax(line: lineNo, message: "\(error)")
            }
            switch parsed {
            case nil: continue
            case .header(let header)?:
                guard header.hasPrefix("["), header.hasSuffix("]"), !header.hasPrefix("[["),
                    let t = ExecutionTable(rawValue: String(header.dropFirst().dropLast()))
                else { throw .unknownTable(line: lineNo, header: header) }
                table = t
            case .pair(let key, let value)?:
                guard let table else { throw .outsideTable(line: lineNo, key: key) }
                if let first = seen["\(table.rawValue).\(key)"] {
                    throw .duplicateKey(line: lineNo, table: table.rawValue, key: key, firstLine: first)
                }
                seen["\(table.rawValue).\(key)"] = lineNo
                let field = ExecutionField(line: lineNo, table: table, key: key, value: value)
                try settings.set(field)
            }
        }
        return settings
    }

    /// Sets the field a `key = value` line names.
    mutating func set(_ f: ExecutionField) throws(ExecutionSettingsError) {
        switch (f.table, f.key) {
        case (.simulator, "order_latency_ns"):
            latency.orderNs = try f.integer(in: 0...Self.maxLatencyNs, "a latency in ns")
        case (.simulator, "response_latency_ns"):
            latency.responseNs = try f.integer(in: 0...Self.maxLatencyNs, "a latency in ns")
        case (.simulator, "maker_fee"): fees.makerPerShare = try f.fee()
        case (.simulator, "taker_fee"): fees.takerPerShare = try f.fee()
        case (.simulator, "order_fee"): fees.perOrder = try f.fee()
        case (.orders, "mode"):
            guard let s = f.value.string, let mode = OrderPolicySettings.Mode(rawValue: s) else {
                throw f.invalid("must be \"join\", \"cross\" or \"quote\"")
            }
            orders.mode = mode
        case (.orders, "size"): orders.size = UInt32(try f.integer(in: 1...Int64(Self.maxSize), "a number of shares"))
        case (.orders, "cancel_on_flat"): orders.cancelOnFlat = try f.boolean()
        case (.orders, "cancel_on_opposite"): orders.cancelOnOpposite = try f.boolean()
        case (.orders, "lifetime_ns"): orders.lifetimeNs = try f.integer(in: 0...Int64.max / 2, "a duration in ns")
        case (.risk, "max_position"):
            risk.maxPosition = try f.integer(in: 0...Self.maxPositionLimit, "a number of shares")
        case (.risk, "max_orders_per_second"):
            risk.maxOrdersPerSecond = Int(
                try f.integer(in: 1...Int64(Self.maxOrdersPerSecondLimit), "a number of orders")
            )
        case (.risk, "max_loss"):
            guard let d = f.value.double, d.isFinite, d > 0 else {
                throw f.invalid("must be a positive number of dollars")
            }
            risk.maxLoss = d
        default: throw .unknownKey(line: f.line, table: f.table.rawValue, key: f.key)
        }
    }
}

/// The tables of an execution file.
enum ExecutionTable: String {
    case simulator, orders, risk
}

/// One `key = value` line of an execution file, with what its errors name.
struct ExecutionField {
    var line: Int
    var table: ExecutionTable
    var key: String
    var value: TOMLValue

    func invalid(_ message: String) -> ExecutionSettingsError {
        .invalid(line: line, table: table.rawValue, key: key, message: message, found: Self.text(value))
    }

    func integer(in range: ClosedRange<Int64>, _ what: String) throws(ExecutionSettingsError) -> Int64 {
        guard let i = value.int, range.contains(Int64(i)) else {
            throw invalid("must be an integer, \(what), in \(range.lowerBound)...\(range.upperBound)")
        }
        return Int64(i)
    }

    func fee() throws(ExecutionSettingsError) -> Double {
        guard let d = value.double, d.isFinite, abs(d) <= ExecutionSettings.maxFee else {
            throw invalid("must be a number of dollars in -\(ExecutionSettings.maxFee)...\(ExecutionSettings.maxFee)")
        }
        return d
    }

    func boolean() throws(ExecutionSettingsError) -> Bool {
        guard let b = value.bool else { throw invalid("must be true or false") }
        return b
    }

    static func text(_ v: TOMLValue) -> String {
        switch v {
        case .string(let s): return "\"\(s)\""
        case .bool(let b): return "\(b)"
        case .number(let d, let i): return i.map { "\($0)" } ?? "\(d)"
        }
    }
}

/// Why an execution file was refused: what (the table and key, the value found) and where (the line).
public enum ExecutionSettingsError: Error, Equatable, CustomStringConvertible {
    /// The file could not be opened or read: the errno of the failing call.
    case io(path: String, errno: Int32)
    /// A parse error inside the file at `path`.
    indirect case file(path: String, ExecutionSettingsError)
    /// A line that is not `key = value`, `[table]` or a comment, or a value that cannot be read.
    case syntax(line: Int, message: String)
    /// A table other than `[simulator]`, `[orders]`, `[risk]`.
    case unknownTable(line: Int, header: String)
    /// A key before any table.
    case outsideTable(line: Int, key: String)
    case unknownKey(line: Int, table: String, key: String)
    case duplicateKey(line: Int, table: String, key: String, firstLine: Int)
    /// A known key with a value out of its range or of the wrong type.
    case invalid(line: Int, table: String, key: String, message: String, found: String)

    /// The line the error names (nil for an I/O error).
    public var line: Int? {
        switch self {
        case .io: return nil
        case .file(_, let e): return e.line
        case .syntax(let l, _), .unknownTable(let l, _), .outsideTable(let l, _), .unknownKey(let l, _, _),
            .duplicateKey(let l, _, _, _), .invalid(let l, _, _, _, _):
            return l
        }
    }

    public var description: String {
        switch self {
        case .io(let path, let e):
            return "cannot read execution file \(path): \(String(cString: strerror(e))) (errno \(e))"
        case .file(let path, let e): return "\(path): \(e)"
        case .syntax(let line, let message): return "execution file line \(line): \(message)"
        case .unknownTable(let line, let header):
            return "execution file line \(line): unknown table \(header) (expected [simulator], [orders] or [risk])"
        case .outsideTable(let line, let key):
            return "execution file line \(line): key '\(key)' outside a table ([simulator], [orders] or [risk])"
        case .unknownKey(let line, let table, let key):
            return "execution file line \(line): unknown key '\(key)' in [\(table)]"
        case .duplicateKey(let line, let table, let key, let first):
            return "execution file line \(line): [\(table)] \(key) set twice (first on line \(first))"
        case .invalid(let line, let table, let key, let message, let found):
            return "execution file line \(line): [\(table)] \(key) \(message), found \(found)"
        }
    }
}
