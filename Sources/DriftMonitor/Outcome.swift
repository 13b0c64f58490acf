import Book
import Drift
import TickBusCore

/// What became of a decision's signal once its horizon passed (concept drift, Docs/DRIFT.md
/// "Monitor"): the sign of the mid move from the decision's mid to the mid of the first change of
/// its instrument's two-sided top of book at or after `time + horizon` — the backtest ledger's
/// rule, so the hit rate compares with the backtest report's.
public enum OutcomeResult: Sendable, Equatable {
    /// The move had the signal's sign; `move` is the mid move in 1e-4 (signed).
    case hit(move: Int64)
    case miss(move: Int64)
    /// The mid did not move: neither hit nor miss.
    case zeroMove
    /// No mid at the decision (a one-sided or empty book), or the input ended first.
    case unknown
}

/// A decision waiting for its outcome, with what the window and the canary analysis need back.
public struct PendingOutcome: Sendable {
    /// The window the decision counts in.
    public var window: Int
    public var time: Int64
    public var due: Int64
    /// The mid when it was made (1e-4): the book after its market message; -1 when one-sided.
    public var startMid: Int64
    /// The acting signal (what the hit rate judges).
    public var signal: Int8
    /// Each model's own signal, for the paired canary analysis (0 when the role is empty).
    public var liveSignal: Int8
    public var canarySignal: Int8

    public init(window: Int, time: Int64, due: Int64, signal: Int8, liveSignal: Int8 = 0, canarySignal: Int8 = 0) {
        self.window = window
        self.time = time
        self.due = due
        self.startMid = 0
        self.signal = signal
        self.liveSignal = liveSignal
        self.canarySignal = canarySignal
    }
}

/// Decisions waiting for their horizon, per instrument, in exchange-time order, and the mid of
/// every instrument. The caller hands it each decision right after the market message it was
/// made on (`Monitor` advances the market only up to each decision's market sequence), so
/// that the mid at a decision is the book's after that message, as in the backtest.
///
/// Memory is bounded: at most `maxPending` decisions wait at once; a decision beyond that is
/// counted in `overflow` and its outcome is unknown.
public struct OutcomeTracker: Sendable {
    struct Instrument: Sendable {
        var mid: Int64 = 0
        var queue: [PendingOutcome] = []
        /// Index of the first entry in `queue` still live (entries before it were resolved).
        var head = 0
    }
    var instruments: [Instrument] = []
    var index: [UInt32: Int] = [:]
    public let maxPending: Int
    public private(set) var pending = 0
    public private(set) var overflow: UInt64 = 0

    public init(maxPending: Int = 1 << 20) { self.maxPending = maxPending }

    mutating func slot(_ instrument: UInt32) -> Int {
        if let i = index[instrument] { return i }
        instruments.append(Instrument())
        index[instrument] = instruments.count - 1
        return instruments.count - 1
    }

    /// Queues a decision; false (and counted) when `maxPending` are waiting already.
    public mutating func add(instrument: UInt32, _ p: PendingOutcome) -> Bool {
        guard pending < maxPending else {
            overflow += 1
            return false
        }
        let i = slot(instrument)
        var p = p
        p.startMid = instruments[i].mid > 0 ? instruments[i].mid : -1
        instruments[i].queue.append(p)
        pending += 1
        return true
    }

    /// A new mid of `instrument` (a change of its two-sided top): settles the decisions due at or
    /// before `time` (calling `settle` for each, in order), then takes the new mid. A one-sided
    /// top (`mid` ≤ 0) changes nothing, as in the backtest's ledger.
    public mutating func top(
        instrument: UInt32,
        time: Int64,
        mid: Int64,
        _ settle: (PendingOutcome, OutcomeResult) -> Void
    ) {
        guard mid > 0 else { return }
        let i = slot(instrument)
        var s = instruments[i]
        instruments[i] = Instrument()  // keep `s` uniquely referenced while it changes
        while s.head < s.queue.count, s.queue[s.head].due <= time {
            let p = s.queue[s.head]
            s.head += 1
            pending -= 1
            settle(p, Self.result(p, end: mid))
        }
        s.mid = mid
        if s.head == s.queue.count {
            s.queue.removeAll(keepingCapacity: true)
            s.head = 0
        } else if s.head >= 4096, s.head * 2 >= s.queue.count {
            s.queue.removeFirst(s.head)
            s.head = 0
        }
        instruments[i] = s
    }

    /// The end of the input: every decision still waiting is settled as unknown.
    public mutating func finish(_ settle: (PendingOutcome, OutcomeResult) -> Void) {
        for i in instruments.indices {
            for p in instruments[i].queue[instruments[i].head...] { settle(p, .unknown) }
            instruments[i] = Instrument(mid: instruments[i].mid)
        }
        pending = 0
    }

    static func result(_ p: PendingOutcome, end: Int64) -> OutcomeResult {
        guard p.startMid > 0 else { return .unknown }
        let move = end - p.startMid
        if move == 0 { return .zeroMove }
        return (move > 0) == (p.signal > 0) ? .hit(move: move) : .miss(move: move)
    }

    /// The mid of a two-sided top of book in 1e-4, rounded down as the backtest does; 0 when a
    /// side is empty.
    public static func mid(_ top: TopOfBook) -> Int64 {
        guard top.bid.shares > 0, top.ask.shares > 0 else { return 0 }
        let (sum, overflow) = top.bid.price.addingReportingOverflow(top.ask.price)
        guard !overflow, sum > 0 else { return 0 }
        return sum / 2
    }

    /// The last mid taken for `instrument` (0 before the first).
    public func mid(of instrument: UInt32) -> Int64 { index[instrument].map { instruments[$0].mid } ?? 0 }
}
