/// Scores windows of one column (or of several, one after the other) against their baselines.
///
/// The scratch (the window's non-NaN values, the sort's keys, bin and category counts) is sized at
/// `init` for windows of up to `capacity` values and for the largest baseline seen; a larger window
/// or a baseline with more categories grows it once, so after the first window of each size
/// `score` allocates nothing (`tickbus bench drift` counts the mallocs of every scored window).
/// Undefined statistics are nil (see `NumericScores`).
public struct WindowScorer {
    @usableFromInline var values: [Double]
    @usableFromInline var keys: [UInt64]
    @usableFromInline var temp: [UInt64]
    @usableFromInline var radixCounts: [Int]
    @usableFromInline var windowBins: [Double]
    @usableFromInline var baselineBins: [Double]
    @usableFromInline var observed: [UInt64]

    /// The floor of a bin proportion in PSI and KL.
    public static let proportionFloor = 1e-4

    /// - Parameter capacity: the largest window expected (values per column).
    public init(capacity: Int) {
        let c = max(capacity, 1)
        values = [Double](repeating: 0, count: c)
        keys = [UInt64](repeating: 0, count: c)
        temp = [UInt64](repeating: 0, count: c)
        radixCounts = [Int](repeating: 0, count: Statistics.radixCountsSize)
        windowBins = [Double](repeating: 0, count: Bins.levels.count + 2)
        baselineBins = [Double](repeating: 0, count: Bins.levels.count + 2)
        observed = []
    }

    /// The scores of one window of a column (NaN marks a missing value) against its baseline.
    public mutating func score(_ window: UnsafeBufferPointer<Double>, against baseline: ColumnBaseline) -> ColumnScores
    {
        reserve(window.count, baseline)
        switch baseline.kind {
        case .numeric: return .numeric(scoreNumeric(window, baseline))
        case .categorical: return .categorical(scoreCategorical(window, baseline))
        }
    }

    /// `score` of an array.
    public mutating func score(_ window: [Double], against baseline: ColumnBaseline) -> ColumnScores {
        window.withUnsafeBufferPointer { score($0, against: baseline) }
    }

    /// Grows the scratch for this window and baseline (only the first time a size is seen).
    @usableFromInline mutating func reserve(_ n: Int, _ baseline: ColumnBaseline) {
        if values.count < n {
            values = [Double](repeating: 0, count: n)
            keys = [UInt64](repeating: 0, count: n)
            temp = [UInt64](repeating: 0, count: n)
        }
        let bins = baseline.binCounts.count
        if windowBins.count < bins {
            windowBins = [Double](repeating: 0, count: bins)
            baselineBins = [Double](repeating: 0, count: bins)
        }
        if observed.count < baseline.categoryValues.count {
            observed = [UInt64](repeating: 0, count: baseline.categoryValues.count)
        }
    }

    /// Copies the non-NaN values into the scratch and sorts them; returns their count.
    mutating func sortedValues(_ window: UnsafeBufferPointer<Double>) -> Int {
        var m = 0
        values.withUnsafeMutableBufferPointer { v in
            for x in window where !x.isNaN {
                v[m] = x
                m += 1
            }
            keys.withUnsafeMutableBufferPointer { k in
                temp.withUnsafeMutableBufferPointer { t in
                    radixCounts.withUnsafeMutableBufferPointer { c in
                        Statistics.radixSort(
                            UnsafeMutableBufferPointer(rebasing: v[0..<m]),
                            keys: k,
                            temp: t,
                            counts: c
                        )
                    }
                }
            }
        }
        return m
    }

    mutating func scoreNumeric(_ window: UnsafeBufferPointer<Double>, _ baseline: ColumnBaseline) -> NumericScores {
        let total = window.count
        guard total > 0 else { return NumericScores() }
        let m = sortedValues(window)
        let binCount = baseline.binCounts.count
        let nanBin = binCount - 1
        let baseTotal = Double(baseline.sampleCount)
        var scores = NumericScores()
        scores.nanShare = Double(total - m) / Double(total)
        // Mutable access even to read: a read of one stored array while another is mutated would
        // copy (retain) it; Tools/hot-path-check holds this function to no retain/release.
        values.withUnsafeMutableBufferPointer { v in
            windowBins.withUnsafeMutableBufferPointer { wb in
                baselineBins.withUnsafeMutableBufferPointer { bb in
                    // Window counts by merging the sorted values with the edges (bin = edges below).
                    for i in 0..<binCount { wb[i] = 0 }
                    baseline.edges.withUnsafeBufferPointer { edges in
                        var bin = 0
                        for i in 0..<m {
                            while bin < edges.count && edges[bin] < v[i] { bin += 1 }
                            wb[bin] += 1
                        }
                    }
                    wb[nanBin] = Double(total - m)
                    for i in 0..<binCount {
                        wb[i] /= Double(total)
                        bb[i] = Double(baseline.binCounts[i]) / baseTotal
                    }
                    guard baseTotal > 0 else { return }
                    let p = UnsafeBufferPointer(rebasing: wb[0..<binCount])
                    let q = UnsafeBufferPointer(rebasing: bb[0..<binCount])
                    let (psi, kl) = Statistics.psiAndKL(p, q, floor: Self.proportionFloor)
                    scores.psi = defined(psi)
                    scores.kl = defined(kl)
                    scores.js = defined(Statistics.jensenShannon(p, q))
                }
            }
            baseline.distinctValues.withUnsafeBufferPointer { distinct in
                baseline.cumulativeShare.withUnsafeBufferPointer { cumulative in
                    let a = UnsafeBufferPointer(rebasing: v[0..<m])
                    let (ks, w1) = Statistics.empiricalDistances(a, distinct: distinct, cumulative: cumulative)
                    guard !ks.isNaN else { return }
                    scores.ks = ks
                    let n = baseline.sortedSample.count
                    let en = Double(m * n) / Double(m + n)
                    scores.ksPValue = defined(Statistics.kolmogorovSF(ks * en.squareRoot()))
                    scores.w1 = defined(w1)
                    if baseline.std > 0 { scores.w1Norm = defined(w1 / baseline.std) }
                }
            }
        }
        return scores
    }

    mutating func scoreCategorical(
        _ window: UnsafeBufferPointer<Double>,
        _ baseline: ColumnBaseline
    ) -> CategoricalScores {
        let total = window.count
        guard total > 0 else { return CategoricalScores() }
        let k = baseline.categoryValues.count
        var scores = CategoricalScores()
        var nan = 0
        var unseen = 0
        var inCategories = 0
        observed.withUnsafeMutableBufferPointer { obs in
            for i in 0..<k { obs[i] = 0 }
            baseline.categoryValues.withUnsafeBufferPointer { cats in
                for x in window {
                    if x.isNaN {
                        nan += 1
                        continue
                    }
                    var lo = 0
                    var hi = k
                    while lo < hi {
                        let mid = (lo + hi) >> 1
                        if cats[mid] < x { lo = mid + 1 } else { hi = mid }
                    }
                    if lo < k && cats[lo] == x {
                        obs[lo] += 1
                        inCategories += 1
                    } else {
                        unseen += 1
                    }
                }
            }
            scores.nanShare = Double(nan) / Double(total)
            if total > nan { scores.newShare = Double(unseen) / Double(total - nan) }
            guard inCategories > 0 else { return }
            // scipy.stats.chisquare(obs, f_exp = freq / freq.sum() * obs.sum()).
            var baseSum: UInt64 = 0
            for c in baseline.categoryCounts { baseSum += c }
            var statistic = 0.0
            for i in 0..<k {
                let e = Double(baseline.categoryCounts[i]) / Double(baseSum) * Double(inCategories)
                let d = Double(obs[i]) - e
                statistic += d * d / e
            }
            scores.chi2 = defined(statistic)
            if k > 1 { scores.chi2PValue = defined(Statistics.chi2SF(statistic, dof: Double(k - 1))) }
        }
        return scores
    }
}

/// nil for NaN: the statistics return NaN where scipy does, the scores carry nil.
@inline(__always) func defined(_ x: Double) -> Double? { x.isNaN ? nil : x }
