/// The plots' data, downsampled as it streams into at most `capacity` buckets of equal
/// exchange-time width: each keeps the minimum, maximum and last P&L, net position and drawdown
/// of the samples that fell into it. When a sample falls past the last bucket the width doubles
/// and neighbouring buckets merge, so the array never grows past `capacity` whatever the length.
public struct EquityCurve: Sendable {
    /// One bucket; `samples == 0` means nothing fell into it (the plots draw a gap's edges flat).
    public struct Bucket: Sendable, Equatable {
        public var samples: Int = 0
        public var pnlMin = 0.0, pnlMax = 0.0, pnlLast = 0.0
        public var positionMin: Int64 = 0, positionMax: Int64 = 0, positionLast: Int64 = 0
        public var drawdownMin = 0.0, drawdownMax = 0.0, drawdownLast = 0.0

        mutating func merge(_ b: Bucket) {
            guard b.samples > 0 else { return }
            guard samples > 0 else {
                self = b
                return
            }
            samples += b.samples
            pnlMin = min(pnlMin, b.pnlMin)
            pnlMax = max(pnlMax, b.pnlMax)
            positionMin = min(positionMin, b.positionMin)
            positionMax = max(positionMax, b.positionMax)
            drawdownMin = min(drawdownMin, b.drawdownMin)
            drawdownMax = max(drawdownMax, b.drawdownMax)
            (pnlLast, positionLast, drawdownLast) = (b.pnlLast, b.positionLast, b.drawdownLast)
        }
    }

    /// The most buckets ever held.
    public let capacity: Int
    /// Exchange time of bucket 0's start (the first sample's time).
    public private(set) var start: Int64 = 0
    /// Bucket width, ns (starts at 1 µs, doubles as the data grows).
    public private(set) var width: Int64 = 1000
    /// Buckets in use (≤ capacity).
    public private(set) var count = 0
    public private(set) var buckets: [Bucket]

    /// - Parameter capacity: buckets kept (an even number ≥ 2; 2,000 by default).
    public init(capacity: Int = 2000) {
        self.capacity = max(2, capacity & ~1)
        self.buckets = [Bucket](repeating: Bucket(), count: self.capacity)
    }

    /// Adds a sample at exchange time `t`; a time before the last bucket counts in the last one.
    mutating func add(_ t: Int64, pnl: Double, position: Int64, drawdown: Double) {
        if count == 0 { start = t }
        var i = t > start ? Int((t - start) / width) : 0
        while i >= capacity {
            halve()
            i = Int((t - start) / width)
        }
        if i < count - 1 { i = count - 1 }
        if i >= count { count = i + 1 }
        buckets[i].merge(
            Bucket(
                samples: 1,
                pnlMin: pnl,
                pnlMax: pnl,
                pnlLast: pnl,
                positionMin: position,
                positionMax: position,
                positionLast: position,
                drawdownMin: drawdown,
                drawdownMax: drawdown,
                drawdownLast: drawdown
            )
        )
    }

    private mutating func halve() {
        let half = capacity / 2
        for j in 0..<half {
            var b = buckets[2 * j]
            b.merge(buckets[2 * j + 1])
            buckets[j] = b
        }
        for j in half..<capacity { buckets[j] = Bucket() }
        count = (count + 1) / 2
        width *= 2
    }

    /// The buckets in use, each with its start time.
    public var used: [(start: Int64, bucket: Bucket)] {
        (0..<count).map { (start + Int64($0) * width, buckets[$0]) }
    }
}
