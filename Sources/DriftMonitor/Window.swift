import Drift

/// One window of the monitor: a block of `capacity` consecutive decision records, its column
/// values (the features, then the live prediction), and the outcomes of its signals as they
/// become known. Its line is printed once it is full (or the input ended) and no outcome of it
/// is pending.
///
/// Column `c`'s values are `values[c * capacity ..< c * capacity + records]`: one allocation per
/// window buffer, reused for the next window (`reset`).
public struct DriftWindow: Sendable {
    public private(set) var index: Int
    public let capacity: Int
    public let columnCount: Int
    public private(set) var values: [Double]
    public private(set) var records = 0
    /// Decision-ring sequences of the first and last record.
    public private(set) var firstSequence: UInt64 = 0
    public private(set) var lastSequence: UInt64 = 0
    /// Exchange time of the last record (ns since midnight).
    public private(set) var lastTime: Int64 = 0
    /// Signals whose outcome is not known yet.
    public var pending = 0
    public var hits = 0
    public var misses = 0
    public var zeroMoves = 0
    public var unknown = 0
    /// The paired canary analysis of this window's decisions.
    public var canary = CanaryWindow()
    /// Full, or closed by the end of the input.
    public var closed = false

    public init(index: Int, capacity: Int, columnCount: Int) {
        self.index = index
        self.capacity = capacity
        self.columnCount = columnCount
        values = [Double](repeating: .nan, count: capacity * columnCount)
    }

    /// Empties the window for window `index`, keeping its storage.
    public mutating func reset(index: Int) {
        self.index = index
        records = 0
        firstSequence = 0
        lastSequence = 0
        lastTime = 0
        pending = 0
        hits = 0
        misses = 0
        zeroMoves = 0
        unknown = 0
        canary = CanaryWindow()
        closed = false
    }

    public var isFull: Bool { records == capacity }
    public var isReady: Bool { closed && pending == 0 }

    /// Appends one record: its ring sequence, time and column values (`column(c)` for c in
    /// 0..<columnCount). The caller checks `isFull` first.
    public mutating func append(sequence: UInt64, time: Int64, _ column: (Int) -> Double) {
        if records == 0 { firstSequence = sequence }
        lastSequence = sequence
        lastTime = time
        let r = records
        values.withUnsafeMutableBufferPointer { v in
            for c in 0..<columnCount { v[c * capacity + r] = column(c) }
        }
        records += 1
    }

    /// The values of column `c` so far.
    public func withColumn<R>(_ c: Int, _ body: (UnsafeBufferPointer<Double>) -> R) -> R {
        values.withUnsafeBufferPointer { v in
            body(UnsafeBufferPointer(rebasing: v[c * capacity..<c * capacity + records]))
        }
    }

    /// hits / (hits + misses); nil when no signal had a known, non-zero outcome.
    public var hitRate: Double? {
        let n = hits + misses
        return n > 0 ? Double(hits) / Double(n) : nil
    }
}
