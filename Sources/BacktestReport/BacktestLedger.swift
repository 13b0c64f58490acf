import Execution
import TickBusCore

/// The backtest's accounts, streaming: the driver feeds it every decision, own order, fill, order
/// event and mid change in stream order, and it books cash, fees and positions, writes one
/// `pnl.csv` row per decision, and keeps what `report.json` and `report.html` need in memory that
/// does not grow with the data (fixed buckets for the plots, running sums, a latency histogram;
/// only open own orders, instruments and outcomes within one horizon are held, each bounded by
/// the simulator's order capacity, the source's instruments and the decision rate).
///
/// Units: prices and mids in 1e-4 dollars, money in dollars. A fill books
/// `cash += -side × price × quantity / 1e4 - fee` at its exchange time (Docs/EXECUTION.md rule 7);
/// the per-order fee comes with the `ack` order event. P&L is `cash + Σ position × mid / 1e4`
/// (cash after fees, each instrument marked to its last mid; an instrument with a fill but no mid
/// yet is marked at its last fill price).
///
/// Sits beside the simulator as its `ExecutionSink` (fills and order events), so the driver can
/// pass the ledger itself, or forward from its own sink.
public final class BacktestLedger: ExecutionSink {
    /// What the ledger measures beyond the books.
    public struct Options: Sendable {
        /// The hit rate's horizon (issue 14's concept drift): the outcome of a decision at `t` is
        /// the sign of the mid move to the first mark at or after `t + horizonNs`.
        public var horizonNs: Int64
        /// Buckets of the plots' curve.
        public var plotBuckets: Int
        public init(horizonNs: Int64 = 1_000_000_000, plotBuckets: Int = 2000) {
            self.horizonNs = horizonNs
            self.plotBuckets = plotBuckets
        }
    }

    struct Instrument {
        var position: Int64 = 0
        /// Last mid (1e-4), 0 before the first.
        var mid: Int64 = 0
        /// Average cost of the open position (1e-4 per share), 0 when flat.
        var averageCost = 0.0
        var traded = false
        var outcomes = OutcomeQueue()
    }

    struct OpenOrder {
        var side: Side
        var decisionMid: Int64
    }

    public let options: Options
    private var csv: BufferedFileWriter
    private var writesCSV: Bool

    private var instruments: [Instrument] = []
    /// Instrument id -> index into `instruments`, for ids below 65,536 (ITCH locates, LOBSTER).
    private var slotOf: [Int32] = []
    private var largeIds: [UInt32: Int] = [:]
    private var openOrders: [UInt64: OpenOrder] = [:]

    /// Σ −side × price × quantity over fills (1e-4 dollars, exact).
    private var tradeCash: Int64 = 0
    /// Σ position × mid over instruments (1e-4 dollars, exact), kept as marks and fills change.
    private var markValue: Int64 = 0
    private var netPosition: Int64 = 0
    public private(set) var fees = 0.0
    private var realized = 0.0
    private var turnover = 0.0
    private var peak = 0.0
    private var maxDrawdown = 0.0
    private var minutes = MinuteReturns()
    /// The plots' data (read it for `report.html` after `finish`).
    public private(set) var curve: EquityCurve
    private var latency = LatencyHistogram.empty

    private var decisions = 0
    private var orders = 0
    private var orderedShares = 0
    private var cancels = 0
    private var fills = 0
    private var filledShares = 0
    private var slippageSum = 0.0
    private var slippageShares = 0
    private var hits = 0
    private var misses = 0
    private var counters = Counters()
    private var firstTime: Int64?
    private var lastTime: Int64 = 0

    struct Counters {
        var marks = 0
        var acks = 0
        var rejects = 0
        var cancelled = 0
        var cancelRejected = 0
        var outcomesZero = 0
        var fillsWithoutOrder = 0
        var noMidDecisions = 0
    }

    /// - Parameters:
    ///   - pnlCSV: where to write `pnl.csv` (created or truncated), or nil for none.
    ///   - options: the hit rate's horizon and the plots' bucket count.
    /// - Throws: `BacktestReportError.open` when the file cannot be created.
    public init(pnlCSV: String?, options: Options = Options()) throws(BacktestReportError) {
        self.options = options
        self.curve = EquityCurve(capacity: options.plotBuckets)
        writesCSV = pnlCSV != nil
        if let pnlCSV { csv = try BufferedFileWriter(path: pnlCSV) } else { csv = BufferedFileWriter() }
        if writesCSV { csv.append("time_ns,market_sequence,instrument,position,cash,fees,mid,pnl\n") }
    }

    /// Cash after fees, dollars.
    public var cash: Double { Double(tradeCash) / 1e4 - fees }
    /// Mark-to-mid P&L after fees, dollars.
    public var pnl: Double { Double(tradeCash &+ markValue) / 1e4 - fees }

    /// Storage the ledger holds now, for tests of its bound: plot buckets (fixed), open own orders,
    /// instruments, outcomes waiting for their horizon.
    public var storage: (plotBuckets: Int, openOrders: Int, instruments: Int, pendingOutcomes: Int) {
        (curve.buckets.count, openOrders.count, instruments.count, instruments.reduce(0) { $0 + $1.outcomes.count })
    }

    private func index(_ id: UInt32) -> Int {
        if id < 65_536 {
            let i = Int(id)
            if i < slotOf.count, slotOf[i] >= 0 { return Int(slotOf[i]) }
            if i >= slotOf.count { slotOf.append(contentsOf: repeatElement(-1, count: i + 1 - slotOf.count)) }
            slotOf[i] = Int32(instruments.count)
        } else {
            if let i = largeIds[id] { return i }
            largeIds[id] = instruments.count
        }
        instruments.append(Instrument())
        return instruments.count - 1
    }

    private func seen(_ t: Int64) {
        if firstTime == nil { firstTime = t }
        lastTime = t
    }

    /// The P&L changed (or was sampled) at `t`: drawdown, the minute buckets and the plots.
    private func sample(_ t: Int64) {
        let p = pnl
        if p > peak { peak = p }
        let dd = peak - p
        if dd > maxDrawdown { maxDrawdown = dd }
        minutes.record(t, pnl: p)
        curve.add(t, pnl: p, position: netPosition, drawdown: dd)
    }

    private func setMid(_ i: Int, _ mid: Int64) {
        let old = instruments[i].mid
        guard mid > 0, mid != old else { return }
        markValue &+= instruments[i].position &* (mid &- old)
        instruments[i].mid = mid
    }

    /// The mid of `instrument` at a top-of-book message (call it for every one, before the
    /// decisions that message leads to): marks the position and settles the hit-rate outcomes
    /// due at or before `time`. A mid ≤ 0 (a one-sided book) marks nothing and settles nothing.
    public func mark(time: Int64, instrument: UInt32, mid: Int64) {
        guard mid > 0 else { return }
        seen(time)
        counters.marks += 1
        let i = index(instrument)
        while !instruments[i].outcomes.isEmpty, instruments[i].outcomes.front.due <= time {
            let p = instruments[i].outcomes.front
            instruments[i].outcomes.pop()
            let move = mid - p.mid
            if move == 0 {
                counters.outcomesZero += 1
            } else if (move > 0) == (p.signal > 0) {
                hits += 1
            } else {
                misses += 1
            }
        }
        setMid(i, mid)
        sample(time)
    }

    /// A decision: writes its `pnl.csv` row and records its latency; a non-zero `signal` waits
    /// for its outcome at `time + horizonNs`.
    /// - Parameters:
    ///   - mid: the instrument's mid when it was made (1e-4; 0 when the book is one-sided); it
    ///     also marks the instrument.
    ///   - signal: -1, 0 or 1 (only the sign counts).
    ///   - latencyNs: receive to publish of the decision record.
    public func decision(
        time: Int64,
        instrument: UInt32,
        marketSequence: UInt64,
        mid: Int64,
        signal: Int8,
        latencyNs: UInt64
    ) {
        seen(time)
        decisions += 1
        latency.record(latencyNs)
        let i = index(instrument)
        if mid > 0 {
            setMid(i, mid)
            if signal != 0 {
                instruments[i].outcomes.push(.init(due: time &+ options.horizonNs, mid: mid, signal: signal))
            }
        } else {
            counters.noMidDecisions += 1
        }
        sample(time)
        if writesCSV {
            csv.append(time)
            csv.append(byte: UInt8(ascii: ","))
            csv.append(marketSequence)
            csv.append(byte: UInt8(ascii: ","))
            csv.append(Int64(instrument))
            csv.append(byte: UInt8(ascii: ","))
            csv.append(instruments[i].position)
            csv.append(byte: UInt8(ascii: ","))
            csv.append(cash)
            csv.append(byte: UInt8(ascii: ","))
            csv.append(fees)
            csv.append(byte: UInt8(ascii: ","))
            csv.append(mid)
            csv.append(byte: UInt8(ascii: ","))
            csv.append(pnl)
            csv.append(byte: UInt8(ascii: "\n"))
        }
    }

    /// An own action sent: a new order counts as ordered shares and remembers the mid of the
    /// decision that sent it (for slippage); a cancel is counted.
    /// - Parameter decisionMid: the mid at that decision (1e-4; 0 when unknown: no slippage).
    public func order(_ action: OwnAction, decisionMid: Int64) {
        seen(action.sentTime)
        switch action.kind {
        case .new:
            orders += 1
            orderedShares += Int(action.quantity)
            openOrders[action.orderId] = OpenOrder(side: action.side, decisionMid: decisionMid)
        case .cancel:
            cancels += 1
        }
    }

    /// A fill, booked at `f.time`: cash, fee, position (average cost for `realized`), turnover,
    /// slippage against the sending decision's mid.
    public func fill(_ f: Fill) {
        seen(f.time)
        let i = index(f.instrument)
        let q = Int64(f.quantity)
        let signed = f.side == .buy ? q : -q
        fills += 1
        filledShares += Int(f.quantity)
        tradeCash &-= signed &* f.price
        fees += f.fee
        turnover += Double(f.price) * Double(q) / 1e4
        var s = instruments[i]
        s.traded = true
        if s.mid == 0 { s.mid = f.price }  // marked at the fill until a mid comes
        let pos = s.position
        if pos == 0 || (pos > 0) == (signed > 0) {
            let held = Double(pos.magnitude)
            s.averageCost = (s.averageCost * held + Double(f.price) * Double(q)) / (held + Double(q))
        } else {
            let closing = min(q, Int64(pos.magnitude))
            let direction = pos > 0 ? 1.0 : -1.0
            realized += Double(closing) * (Double(f.price) - s.averageCost) * direction / 1e4
            if q > closing {
                s.averageCost = Double(f.price)
            } else if closing == Int64(pos.magnitude) {
                s.averageCost = 0
            }
        }
        s.position = pos &+ signed
        markValue &+= signed &* s.mid
        netPosition &+= signed
        instruments[i] = s
        if let o = openOrders[f.orderId] {
            if o.decisionMid > 0 {
                let d = Double(o.side == .buy ? f.price - o.decisionMid : o.decisionMid - f.price)
                slippageSum += d * Double(q) / 1e4
                slippageShares += Int(q)
            }
            if f.remaining == 0 { openOrders[f.orderId] = nil }
        } else {
            counters.fillsWithoutOrder += 1
        }
        sample(f.time)
    }

    /// An order event: its fee (the per-order fee on `ack`) is booked; a reject or a cancel ends
    /// the order.
    public func orderEvent(_ e: OrderEvent) {
        seen(e.time)
        switch e.kind {
        case .ack: counters.acks += 1
        case .reject: counters.rejects += 1
        case .cancelled: counters.cancelled += 1
        case .cancelRejected: counters.cancelRejected += 1
        }
        if e.kind == .reject || e.kind == .cancelled { openOrders[e.orderId] = nil }
        if e.fee != 0 {
            fees += e.fee
            sample(e.time)
        }
    }

    /// Ends the run: flushes and closes `pnl.csv` and returns the report.
    /// - Parameters:
    ///   - inputs: sha256 of every input by name (the registry's gate matches `model` and
    ///     `features` with the version's objects).
    ///   - counters: the driver's counts (market messages, records, …), merged with the ledger's
    ///     (a driver's key wins).
    /// - Throws: the first write error of `pnl.csv`.
    public func finish(
        inputs: [String: String],
        counters driver: [String: Int] = [:]
    ) throws(BacktestReportError)
        -> BacktestReport
    {
        if writesCSV {
            writesCSV = false
            try csv.close()
        }
        let (sharpe, buckets) = minutes.sharpe()
        var unrealized = 0.0
        var positions: [String: Int64] = [:]
        var pending = 0
        for id in allIds() {
            let s = instruments[id.index]
            if s.traded { positions[String(id.id)] = s.position }
            if s.position != 0 { unrealized += Double(s.position) * (Double(s.mid) - s.averageCost) / 1e4 }
            pending += s.outcomes.count
        }
        let c = self.counters
        var all: [String: Int] = [
            "marks": c.marks, "acks": c.acks, "rejects": c.rejects, "cancelled": c.cancelled,
            "cancel_rejected": c.cancelRejected, "outcomes_zero_move": c.outcomesZero,
            "outcomes_unknown": pending, "fills_without_order": c.fillsWithoutOrder,
            "decisions_without_mid": c.noMidDecisions, "instruments": instruments.count,
        ]
        all.merge(driver) { _, d in d }
        let signals = hits + misses
        return BacktestReport(
            pnl: pnl,
            realized: realized,
            unrealized: unrealized,
            fees: fees,
            cash: cash,
            maxDrawdown: maxDrawdown,
            sharpe: sharpe,
            sharpeBuckets: buckets,
            fillRate: orderedShares > 0 ? Double(filledShares) / Double(orderedShares) : nil,
            orders: orders,
            orderedShares: orderedShares,
            cancels: cancels,
            fills: fills,
            filledShares: filledShares,
            slippage: slippageShares > 0 ? slippageSum / Double(slippageShares) : nil,
            hitRate: signals > 0 ? Double(hits) / Double(signals) : nil,
            hits: hits,
            signals: signals,
            horizonNs: options.horizonNs,
            turnover: turnover,
            latency: .init(
                p50: latency.percentile(50),
                p99: latency.percentile(99),
                max: latency.maxNs,
                count: latency.count
            ),
            decisions: decisions,
            firstTimeNs: firstTime ?? 0,
            lastTimeNs: lastTime,
            positions: positions,
            inputs: inputs,
            counters: all
        )
    }

    private func allIds() -> [(id: UInt32, index: Int)] {
        var out: [(UInt32, Int)] = []
        for (id, s) in slotOf.enumerated() where s >= 0 { out.append((UInt32(id), Int(s))) }
        for (id, s) in largeIds { out.append((id, s)) }
        return out
    }
}
