import Foundation

/// `report.json`: what a backtest measured (every key is documented in Docs/EXECUTION.md,
/// "report.json"). Money in dollars, times in exchange-time ns, shares as integers. Keys that are
/// undefined for a run (a Sharpe ratio over fewer than two one-minute buckets, a fill rate with no
/// order) are JSON `null`, never omitted, so a reader sees every key of the format.
public struct BacktestReport: Codable, Equatable, Sendable {
    /// The decision-latency distribution (receive to publish of each decision record), ns.
    public struct Latency: Codable, Equatable, Sendable {
        /// HdrHistogram-style percentiles (within 1% above 256 ns, exact below); `max` is exact.
        public var p50: UInt64
        public var p99: UInt64
        public var max: UInt64
        /// Decisions measured.
        public var count: UInt64
        public init(p50: UInt64, p99: UInt64, max: UInt64, count: UInt64) {
            self.p50 = p50
            self.p99 = p99
            self.max = max
            self.count = count
        }
    }

    /// The report format this source writes and reads.
    public static let formatVersion = 1

    public var format: Int = Self.formatVersion
    /// Final mark-to-mid P&L after fees: `cash + Σ position × mid / 1e4`.
    public var pnl: Double
    /// Gains on closed quantity (average cost per instrument), before fees.
    public var realized: Double
    /// Open positions marked to the last mid against their average cost.
    public var unrealized: Double
    /// Every fee paid (fills and orders; a rebate counts negative).
    public var fees: Double
    /// Final cash, after fees.
    public var cash: Double
    /// Largest fall of `pnl` from a previous peak (the peak starts at 0), ≥ 0.
    public var maxDrawdown: Double
    /// Annualised Sharpe ratio of one-minute P&L changes; nil below two buckets or with no variance.
    public var sharpe: Double?
    /// One-minute exchange-time buckets the Sharpe ratio is over.
    public var sharpeBuckets: Int
    /// Filled shares / ordered shares; nil with no order.
    public var fillRate: Double?
    public var orders: Int
    public var orderedShares: Int
    public var cancels: Int
    public var fills: Int
    public var filledShares: Int
    /// Dollars per filled share, positive = worse than the mid at the sending decision; nil with no fill.
    public var slippage: Double?
    /// hits / signals; nil when no signal had a known, non-zero outcome.
    public var hitRate: Double?
    public var hits: Int
    public var signals: Int
    /// The hit rate's horizon.
    public var horizonNs: Int64
    /// Dollars traded (Σ price × quantity over fills).
    public var turnover: Double
    public var latency: Latency
    public var decisions: Int
    /// Exchange time of the first and last event the ledger saw (0 when none).
    public var firstTimeNs: Int64
    public var lastTimeNs: Int64
    /// Final position per instrument (shares), for every instrument that had a fill.
    public var positions: [String: Int64]
    /// sha256 (lowercase hex) of every input, by name (`model`, `features`, `execution`, `source`, …).
    public var inputs: [String: String]
    /// Event counts: the ledger's own and the driver's.
    public var counters: [String: Int]

    enum CodingKeys: String, CodingKey {
        case format, pnl, realized, unrealized, fees, cash
        case maxDrawdown = "max_drawdown"
        case sharpe
        case sharpeBuckets = "sharpe_buckets"
        case fillRate = "fill_rate"
        case orders
        case orderedShares = "ordered_shares"
        case cancels, fills
        case filledShares = "filled_shares"
        case slippage
        case hitRate = "hit_rate"
        case hits, signals
        case horizonNs = "horizon_ns"
        case turnover, latency, decisions
        case firstTimeNs = "first_time_ns"
        case lastTimeNs = "last_time_ns"
        case positions, inputs, counters
    }

    /// Every key of the format, in order (what `encode` writes and `decode` requires).
    public static var keys: [String] {
        [
            "format", "pnl", "realized", "unrealized", "fees", "cash", "max_drawdown", "sharpe", "sharpe_buckets",
            "fill_rate", "orders", "ordered_shares", "cancels", "fills", "filled_shares", "slippage", "hit_rate",
            "hits", "signals", "horizon_ns", "turnover", "latency", "decisions", "first_time_ns", "last_time_ns",
            "positions", "inputs", "counters",
        ]
    }

    public init(
        pnl: Double,
        realized: Double,
        unrealized: Double,
        fees: Double,
        cash: Double,
        maxDrawdown: Double,
        sharpe: Double?,
        sharpeBuckets: Int,
        fillRate: Double?,
        orders: Int,
        orderedShares: Int,
        cancels: Int,
        fills: Int,
        filledShares: Int,
        slippage: Double?,
        hitRate: Double?,
        hits: Int,
        signals: Int,
        horizonNs: Int64,
        turnover: Double,
        latency: Latency,
        decisions: Int,
        firstTimeNs: Int64,
        lastTimeNs: Int64,
        positions: [String: Int64],
        inputs: [String: String],
        counters: [String: Int]
    ) {
        self.pnl = pnl
        self.realized = realized
        self.unrealized = unrealized
        self.fees = fees
        self.cash = cash
        self.maxDrawdown = maxDrawdown
        self.sharpe = sharpe
        self.sharpeBuckets = sharpeBuckets
        self.fillRate = fillRate
        self.orders = orders
        self.orderedShares = orderedShares
        self.cancels = cancels
        self.fills = fills
        self.filledShares = filledShares
        self.slippage = slippage
        self.hitRate = hitRate
        self.hits = hits
        self.signals = signals
        self.horizonNs = horizonNs
        self.turnover = turnover
        self.latency = latency
        self.decisions = decisions
        self.firstTimeNs = firstTimeNs
        self.lastTimeNs = lastTimeNs
        self.positions = positions
        self.inputs = inputs
        self.counters = counters
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(format, forKey: .format)
        try c.encode(pnl, forKey: .pnl)
        try c.encode(realized, forKey: .realized)
        try c.encode(unrealized, forKey: .unrealized)
        try c.encode(fees, forKey: .fees)
        try c.encode(cash, forKey: .cash)
        try c.encode(maxDrawdown, forKey: .maxDrawdown)
        try c.encode(sharpe, forKey: .sharpe)  // Optional.encode writes null
        try c.encode(sharpeBuckets, forKey: .sharpeBuckets)
        try c.encode(fillRate, forKey: .fillRate)
        try c.encode(orders, forKey: .orders)
        try c.encode(orderedShares, forKey: .orderedShares)
        try c.encode(cancels, forKey: .cancels)
        try c.encode(fills, forKey: .fills)
        try c.encode(filledShares, forKey: .filledShares)
        try c.encode(slippage, forKey: .slippage)
        try c.encode(hitRate, forKey: .hitRate)
        try c.encode(hits, forKey: .hits)
        try c.encode(signals, forKey: .signals)
        try c.encode(horizonNs, forKey: .horizonNs)
        try c.encode(turnover, forKey: .turnover)
        try c.encode(latency, forKey: .latency)
        try c.encode(decisions, forKey: .decisions)
        try c.encode(firstTimeNs, forKey: .firstTimeNs)
        try c.encode(lastTimeNs, forKey: .lastTimeNs)
        try c.encode(positions, forKey: .positions)
        try c.encode(inputs, forKey: .inputs)
        try c.encode(counters, forKey: .counters)
    }

    /// The report as JSON text: keys sorted, indented, one key per line.
    public func json() throws(BacktestReportError) -> [UInt8] {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        do { return Array(try e.encode(self)) + [UInt8(ascii: "\n")] } catch {
            throw .encode(what: "report.json", reason: "\(error)")
        }
    }

    /// Reads a report.json, requiring every key of this format (a missing key is an older or
    /// foreign file, not a zero).
    /// - Parameter what: the file, for messages.
    public static func decode(_ bytes: [UInt8], what: String) throws(BacktestReportError) -> BacktestReport {
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: Data(bytes)) } catch {
            throw .malformed(what: what, reason: "not JSON (\(error.localizedDescription))")
        }
        guard let dict = object as? [String: Any] else { throw .malformed(what: what, reason: "not a JSON object") }
        guard let format = dict["format"] as? Int, format == formatVersion else {
            throw .malformed(
                what: what,
                reason: "format is \(dict["format"].map { "\($0)" } ?? "missing"), this tickbus reads \(formatVersion)"
            )
        }
        let missing = keys.filter { dict[$0] == nil }
        guard missing.isEmpty else {
            throw .malformed(what: what, reason: "missing keys \(missing.joined(separator: ", "))")
        }
        do { return try JSONDecoder().decode(BacktestReport.self, from: Data(bytes)) } catch let e as DecodingError {
            throw .malformed(what: what, reason: Self.describe(e))
        } catch { throw .malformed(what: what, reason: "\(error)") }
    }

    static func describe(_ e: DecodingError) -> String {
        func path(_ c: DecodingError.Context) -> String {
            c.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
        }
        switch e {
        case .typeMismatch(let t, let c): return "'\(path(c))' is not \(t)"
        case .valueNotFound(let t, let c): return "'\(path(c))' is null, expected \(t)"
        case .keyNotFound(let k, let c): return "missing key '\(path(c).isEmpty ? "" : path(c) + ".")\(k.stringValue)'"
        case .dataCorrupted(let c): return "'\(path(c))': \(c.debugDescription)"
        @unknown default: return "\(e)"
        }
    }
}
