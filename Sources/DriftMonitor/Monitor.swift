import Book
import CTickBus
import Drift
import DriftPolicy
import Features
import TickBusCore

/// The drift monitor's core (Docs/DRIFT.md, "Monitor"): decision records in, windows of their
/// features and live prediction scored against the baseline, outcomes from the market's tops,
/// the policy's levels and actions, the window lines out. The drivers (`MonitorRun`) feed it a
/// journal or two live rings in the same order: every market message up to a decision's market
/// sequence before that decision.
///
/// Not a hot-path module: it runs beside the strategy as a live reader, never slowing it; per
/// record it copies the columns into the window's preallocated storage and queues the outcome.
public final class Monitor {
    public let options: MonitorOptions
    public let baseline: DriftBaseline
    public let baselinePath: String
    /// Names of the window line's columns: the features, then `prediction` when the baseline has it.
    public let featureNames: [String]
    let predictionColumn: Int?
    let columnCount: Int
    var windows: [DriftWindow] = []
    var spare: [DriftWindow] = []
    var nextWindow = 0
    var tracker = OutcomeTracker()
    /// The market's books, rebuilt from the ring (for the mid at decisions and outcomes).
    let books = OrderBooks()
    var scorer: WindowScorer
    var policyState: PolicyState?
    let emit: (String) -> Void
    var actions: ActionRunner
    public internal(set) var metrics: MonitorMetrics
    var canary: CanaryAnalysis
    /// The live and canary models in force (from the records), for the canary analysis and retrain requests.
    var liveModel: UInt64 = 0
    var canaryModel: UInt64 = 0
    var checkedFirst = false
    var versionInfo: VersionInfo?
    public let source: String
    /// Called after every window's line (the metrics endpoint's text is refreshed here).
    public var onReport: ((Monitor) -> Void)?

    /// - Parameters:
    ///   - source: what the decisions come from (errors name it).
    ///   - emit: receives each output line (window lines and alerts), without its newline.
    public init(
        baseline: DriftBaseline,
        baselinePath: String,
        options: MonitorOptions,
        source: String,
        emit: @escaping (String) -> Void
    ) throws(MonitorError) {
        try options.validate()
        self.options = options
        self.baseline = baseline
        self.baselinePath = baselinePath
        self.source = source
        self.emit = emit
        featureNames = baseline.featureNames
        let prediction = baseline.columns.firstIndex { $0.name == "prediction" }
        predictionColumn = prediction
        guard baseline.columns.count >= featureNames.count,
            zip(baseline.columns, featureNames).allSatisfy({ $0.0.name == $0.1 })
        else {
            throw .baseline(path: baselinePath, .invalid("its columns do not start with its feature names"))
        }
        columnCount = featureNames.count + (prediction == nil ? 0 : 1)
        if let def = options.definition {
            try Self.checkNames(def.names, hash: options.definitionHash, baseline, baselinePath, what: "the definition")
        }
        scorer = WindowScorer(capacity: options.window)
        policyState = options.policy.map { PolicyState(policy: $0) }
        metrics = MonitorMetrics(
            strategy: options.strategy,
            columns: featureNames + (prediction == nil ? [] : ["prediction"])
        )
        metrics.levelNames = options.policy?.levels.map(\.name) ?? []
        actions = ActionRunner(options: options, emit: emit)
        canary = CanaryAnalysis(policy: options.policy?.canary, signalRule: options.definition?.signalRule)
    }

    static func checkNames(
        _ names: [String],
        hash: String?,
        _ b: DriftBaseline,
        _ path: String,
        what: String
    ) throws(MonitorError) {
        if names != b.featureNames {
            throw .definitionMismatch(
                baseline: path,
                message:
                    "\(what) has features \(names), the baseline \(b.featureNames) (names and order must be the same)"
            )
        }
        if let hash, !b.definitionHash.isEmpty, hash != b.definitionHash {
            throw .definitionMismatch(
                baseline: path,
                message: "\(what)'s sha256 is \(hash.prefix(12)), the baseline's \(b.definitionHash.prefix(12))"
            )
        }
    }

    /// A market message (in ring order, up to the market sequence of the next decision): applied
    /// to the monitor's own books; a change of the instrument's two-sided mid settles outcomes
    /// (the backtest's `BacktestOutputs.market` rule: any source, with or without top messages).
    public func market(_ m: MarketMessageView) {
        switch m.rawKind {
        case MessageKind.add.rawValue, MessageKind.execute.rawValue, MessageKind.cancel.rawValue,
            MessageKind.delete.rawValue, MessageKind.replace.rawValue, MessageKind.topOfBook.rawValue:
            break
        default: return
        }
        _ = books.apply(m)
        guard m.instrument < 1 << 16 else { return }
        let mid = OutcomeTracker.mid(books.top(instrument: m.instrument))
        guard mid > 0, mid != tracker.mid(of: m.instrument) else { return }
        tracker.top(instrument: m.instrument, time: m.exchangeTime, mid: mid) { p, r in settle(p, r) }
        printReady()
    }

    /// Records the market ring lost (a lap of the live reader, a gap in the journal).
    public func marketLost(_ count: UInt64) { metrics.marketLost &+= count }

    /// Records the decisions ring lost.
    public func decisionsLost(_ count: UInt64) { metrics.decisionsLost &+= count }

    /// One record of `decisions.<strategy>` (`count` bytes): decisions are windowed, control
    /// records update the roles and close the loop on the monitor's own actions, other kinds
    /// are skipped.
    /// - Throws: `.schema` for a decision record of another layout version, `.definitionMismatch`
    ///   for decisions with another feature count than the baseline's.
    public func record(_ p: UnsafeRawPointer, count: Int) throws(MonitorError) {
        guard count >= RecordHeader.size else {
            metrics.malformed += 1
            return
        }
        let kind = p.load(fromByteOffset: RecordHeader.kind, as: UInt16.self)
        switch kind {
        case DecisionLayout.kindValue: try decision(DecisionRecordView(p), count: count)
        case ControlRecordLayout.kindValue:
            guard count >= ControlRecordLayout.size else {
                metrics.malformed += 1
                return
            }
            control(ControlRecordView(p))
        default: break
        }
    }

    /// Checks the first decision record (its layout version and feature count) before anything
    /// is done for it; the drivers call it before they advance the market to the record, so a
    /// ring of another layout is refused at once. Later records are only counted when malformed.
    /// - Throws: `.schema` for another layout version, `.definitionMismatch` for another feature count.
    public func validate(_ p: UnsafeRawPointer, count: Int) throws(MonitorError) {
        guard !checkedFirst, count >= DecisionLayout.features,
            p.load(fromByteOffset: RecordHeader.kind, as: UInt16.self) == DecisionLayout.kindValue
        else { return }
        let d = DecisionRecordView(p)
        guard d.layoutVersion == DecisionLayout.layoutVersionValue else {
            throw .schema(
                source: source,
                message:
                    "decision record layout version \(d.layoutVersion) at sequence \(d.sequence); this monitor reads version \(DecisionLayout.layoutVersionValue)"
            )
        }
        guard d.featureCount == featureNames.count else {
            throw .definitionMismatch(
                baseline: baselinePath,
                message:
                    "the decisions carry \(d.featureCount) features, the baseline \(featureNames.count) (\(featureNames.joined(separator: ", ")))"
            )
        }
        checkedFirst = true
        liveModel = d.modelId
        if options.registry != nil { try lookUpVersion(runtimeId: d.modelId) }
    }

    func decision(_ d: DecisionRecordView, count: Int) throws(MonitorError) {
        try validate(d.base, count: count)
        guard d.layoutVersion == DecisionLayout.layoutVersionValue, d.featureCount == featureNames.count,
            count >= DecisionLayout.features + 8 * featureNames.count
        else {
            metrics.malformed += 1
            return
        }
        if windows.last.map({ $0.closed }) ?? true { openWindow() }
        let w = windows.count - 1
        let features = featureNames.count
        windows[w].append(sequence: d.sequence, time: d.exchangeTime) { c in
            c < features ? d.feature(c) : d.livePrediction
        }
        metrics.records += 1
        if d.modelId != 0 { liveModel = d.modelId }
        canaryModel = d.hasCanary ? d.canaryModelId : 0
        var pending = PendingOutcome(
            window: windows[w].index,
            time: d.exchangeTime,
            due: d.exchangeTime &+ options.horizonNs,
            signal: d.signal
        )
        let paired = canary.enabled && d.hasCanary && d.flags & DecisionFlags.live != 0
        if paired {
            pending.liveSignal = canary.signal(d.livePrediction)
            pending.canarySignal = canary.signal(d.canaryPrediction)
            windows[w].canary.latency(routedToCanary: d.canaryActed, ns: d.latencyNs)
        }
        if d.signal != 0 || (paired && (pending.liveSignal != 0 || pending.canarySignal != 0)) {
            if tracker.add(instrument: d.instrument, pending) {
                windows[w].pending += 1
            } else if d.signal != 0 {
                windows[w].unknown += 1
            }
        }
        if windows[w].isFull {
            windows[w].closed = true
            printReady()
        }
    }

    /// Windows kept open for their outcomes at most; beyond, the oldest is printed with its
    /// pending outcomes as unknown (a quiet instrument must not hold the monitor's memory).
    public static let maxOpenWindows = 64

    func openWindow() {
        if windows.count >= Self.maxOpenWindows {
            windows[0].unknown += windows[0].pending
            windows[0].pending = 0
            metrics.forcedWindows += 1
            printReady()
        }
        var w = spare.popLast() ?? DriftWindow(index: 0, capacity: options.window, columnCount: columnCount)
        w.reset(index: nextWindow)
        nextWindow += 1
        windows.append(w)
    }

    func control(_ v: ControlRecordView) {
        if v.applied {
            liveModel = v.roles.liveModelId
            canaryModel = v.roles.canaryModelId
        }
        actions.observed(v, metrics: &metrics)
        canary.observed(v)
    }

    func settle(_ p: PendingOutcome, _ r: OutcomeResult) {
        guard let first = windows.first, p.window >= first.index, p.window - first.index < windows.count else { return }
        let i = p.window - first.index
        if p.signal != 0 {
            switch r {
            case .hit: windows[i].hits += 1
            case .miss: windows[i].misses += 1
            case .zeroMove: windows[i].zeroMoves += 1
            case .unknown: windows[i].unknown += 1
            }
        }
        if p.liveSignal != 0 || p.canarySignal != 0 { windows[i].canary.outcome(p, r) }
        windows[i].pending -= 1
    }

    /// Prints every window, in order, that is closed and has all its outcomes.
    func printReady() {
        while let w = windows.first, w.isReady {
            report(w)
            spare.append(windows.removeFirst())
        }
    }

    /// The end of the input: outcomes still pending are unknown, the partial window is closed,
    /// and every window left is printed.
    public func finish() {
        tracker.finish { p, r in settle(p, r) }
        if let last = windows.indices.last { windows[last].closed = true }
        printReady()
        actions.reap()
    }

    /// Scores one window, runs the policy and its actions, and prints the line.
    func report(_ w: DriftWindow) {
        let endNs = Int64(bitPattern: tb_monotonic_ns())
        var scores: [ColumnScores] = []
        scores.reserveCapacity(columnCount)
        for c in 0..<columnCount {
            let b = baseline.columns[c < featureNames.count ? c : predictionColumn!]
            scores.append(w.withColumn(c) { scorer.score($0, against: b) })
        }
        let n = w.hits + w.misses
        let p0 = options.expectedHitRate ?? versionInfo?.expectedHitRate
        let hitP: Double? = (n > 0 && p0 != nil) ? Statistics.binomTestLess(k: w.hits, n: n, p: p0!) : nil
        var line = WindowLine(window: w, scores: scores, hitPValue: hitP)
        var fired: [ActionOutcome] = []
        if var state = policyState {
            let input = PolicyInput(
                columns: scores.enumerated().map { (c, s) in (c < featureNames.count, s.policyValues) },
                hitPValue: hitP
            )
            let (breached, breaches) = state.policy.evaluate(input)
            let step = state.step(breached: breached)
            policyState = state
            line.level = step.level.map { state.policy.levels[$0].name }
            for li in step.fired {
                let level = state.policy.levels[li]
                let mine = breaches.filter { $0.level == li }
                let context = ActionContext(
                    window: w,
                    level: level,
                    breaches: mine,
                    columnNames: metrics.columns,
                    windowEndNs: endNs,
                    liveModel: liveModel,
                    version: versionInfo,
                    statistics: line.statisticsJSON(names: metrics.columns)
                )
                fired += actions.run(level.actions, context, metrics: &metrics)
            }
            metrics.level = step.level.map { $0 + 1 } ?? 0
            metrics.activeLevels = (0..<state.policy.levels.count).map { state.isActive($0) }
        }
        if let verdict = canary.judge(w, liveModel: liveModel, canaryModel: canaryModel) {
            fired += actions.canary(verdict, window: w, windowEndNs: endNs, metrics: &metrics)
            line.canary = verdict
        }
        line.actions = fired
        metrics.windowDone(w, scores: scores, hitPValue: hitP)
        emit(line.json(names: metrics.columns))
        onReport?(self)
    }
}

extension ColumnScores {
    /// The statistics the policy compares, by name (undefined ones left out).
    var policyValues: [PolicyStatistic: Double] {
        var out: [PolicyStatistic: Double] = [:]
        func put(_ s: PolicyStatistic, _ v: Double?) { if let v, !v.isNaN { out[s] = v } }
        switch self {
        case .numeric(let n):
            put(.psi, n.psi)
            put(.kl, n.kl)
            put(.js, n.js)
            put(.ks, n.ks)
            put(.ksPValue, n.ksPValue)
            put(.w1, n.w1)
            put(.w1Norm, n.w1Norm)
            put(.nanShare, n.nanShare)
        case .categorical(let c):
            put(.chi2, c.chi2)
            put(.chi2PValue, c.chi2PValue)
            put(.newShare, c.newShare)
            put(.nanShare, c.nanShare)
        }
        return out
    }
}
