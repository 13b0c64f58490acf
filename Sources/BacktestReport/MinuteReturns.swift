/// The Sharpe ratio's input, streaming: P&L changes over fixed one-minute exchange-time buckets
/// (`floor(time / 60 s)`, so buckets are clock minutes), every minute from the first event's to
/// the last one's (a quiet minute is a change of 0). A bucket's change is its last P&L minus the
/// previous bucket's last (the first bucket's minus 0). Mean and variance by Welford's method,
/// quiet minutes merged in one step (Chan et al.), so memory is constant.
struct MinuteReturns {
    static let bucketNs: Int64 = 60_000_000_000
    /// Minutes in a trading year: 252 days × 390 minutes.
    static let minutesPerYear = 252.0 * 390.0

    private var minute: Int64?
    private var base = 0.0
    private var last = 0.0
    private(set) var count = 0
    private var mean = 0.0
    private var m2 = 0.0

    /// The P&L after an event at exchange time `t`. Times before the current bucket count in it.
    mutating func record(_ t: Int64, pnl: Double) {
        let m = t >= 0 ? t / Self.bucketNs : (t - Self.bucketNs + 1) / Self.bucketNs
        if let cur = minute {
            if m > cur {
                add(last - base)
                addZeros(m - cur - 1)
                base = last
                minute = m
            }
        } else {
            minute = m
        }
        last = pnl
    }

    private mutating func add(_ x: Double) {
        count += 1
        let d = x - mean
        mean += d / Double(count)
        m2 += d * (x - mean)
    }

    private mutating func addZeros(_ k: Int64) {
        guard k > 0 else { return }
        let nb = Double(k)
        let na = Double(count)
        let n = na + nb
        let d = 0 - mean
        m2 += d * d * na * nb / n
        mean += d * nb / n
        count += Int(k)
    }

    /// Closes the last bucket: (annualised Sharpe or nil, bucket count). Sample standard deviation
    /// (ddof 1); nil below two buckets or when every change is equal.
    func sharpe() -> (Double?, Int) {
        var s = self
        if s.minute != nil { s.add(s.last - s.base) }
        guard s.count >= 2 else { return (nil, s.count) }
        let variance = s.m2 / Double(s.count - 1)
        guard variance > 0, variance.isFinite else { return (nil, s.count) }
        return (s.mean / variance.squareRoot() * Self.minutesPerYear.squareRoot(), s.count)
    }
}

/// Decisions with a signal waiting for their outcome, per instrument, in time order: a ring that
/// grows to the most outcomes in flight at once (decisions within one horizon), never with the
/// length of the data.
struct OutcomeQueue {
    struct Pending {
        var due: Int64
        var mid: Int64
        var signal: Int8
    }
    private(set) var storage: [Pending] = []
    private var head = 0
    private(set) var count = 0

    var isEmpty: Bool { count == 0 }
    var front: Pending { storage[head] }

    mutating func push(_ p: Pending) {
        if count == storage.count { grow() }
        storage[(head + count) & (storage.count - 1)] = p
        count += 1
    }

    mutating func pop() {
        head = (head + 1) & (storage.count - 1)
        count -= 1
    }

    private mutating func grow() {
        let cap = max(16, storage.count * 2)
        var next = [Pending](repeating: Pending(due: 0, mid: 0, signal: 0), count: cap)
        for i in 0..<count { next[i] = storage[(head + i) & (storage.count - 1)] }
        storage = next
        head = 0
    }
}
