import Book
import CTickBus
import Execution
import Features
import Models
import TickBusCore

/// The scalar a decision records from a model's outputs: the single output, or for a
/// multiclass model P(last class) − P(first class) (e.g. up − down for down/flat/up labels).
@inlinable @inline(__always)
func _decisionScalar(_ out: UnsafePointer<Double>, _ n: Int) -> Double {
    n == 1 ? out[0] : out[n - 1] - out[0]
}

/// What a strategy run saw.
public struct StrategySummary: Sendable {
    public var messages: UInt64 = 0
    public var decisions: UInt64 = 0
    public var lost: UInt64 = 0
    public var gaps: UInt64 = 0
    public var endOfSession = false
    /// Control commands addressed to this strategy (malformed ones included) and those rejected.
    public var commands: UInt64 = 0
    public var rejected: UInt64 = 0
    /// The last swap's latency: the command's publish time to the first decision under it (ns).
    public var lastSwapLatencyNs: UInt64 = 0
    /// What paper trading did (nil without an execution file).
    public var execution: PaperTradingSummary?
    public init() {}
}

/// Placement: pins the calling thread to a CPU and binds memory to a NUMA node, then reports
/// where the thread actually runs.
public enum Placement {
    public struct Report: Sendable, Equatable {
        public var cpu: Int32
        public var node: Int32
    }

    /// Pins to `cpu` (sched_setaffinity) and, when given or when libnuma is available, binds memory
    /// to `node` (default: the CPU's node). Throws a message when the kernel refuses.
    public static func apply(cpu: Int32, node: Int32?) throws(StrategyError) -> Report {
        // NUMA first: binding runs the thread on all CPUs of the node, which would undo a pin made before it.
        let target = node ?? (tb_numa_available() != 0 ? tb_numa_node_of_cpu(cpu) : -1)
        if target >= 0, tb_numa_available() != 0, tb_numa_bind(target) != 0 {
            throw .placement("cannot bind memory to NUMA node \(target)")
        }
        if let node, tb_numa_available() == 0, node != 0 {
            throw .placement("libnuma unavailable: cannot bind to node \(node)")
        }
        if tb_pin_to_cpu(cpu) != 0 { throw .placement("cannot pin to CPU \(cpu) (sched_setaffinity failed)") }
        let now = tb_current_cpu()
        return Report(cpu: now, node: tb_numa_available() != 0 ? tb_numa_node_of_cpu(now) : 0)
    }
}

/// Why a strategy could not be set up. A model's refusal is kept as the `ModelError` value.
public enum StrategyError: Error, CustomStringConvertible {
    case placement(String)
    case configuration(String)
    /// A model (live, shadow or canary) does not fit the feature definition, or could not be loaded.
    case model(ModelError)
    public var description: String {
        switch self {
        case .placement(let s): return "placement: \(s)"
        case .configuration(let s): return s
        case .model(let e): return "\(e)"
        }
    }
}

/// The strategy loop: polls `market`, updates features, evaluates the live, shadow and canary
/// models at each decision point, and publishes one decision record (v2, `DecisionLayout`) per
/// decision point into `decisions.<name>`; before each market message it polls ring `control`
/// and applies what is addressed to it (`StrategyLoop+Control.swift`).
///
/// Per message: one control poll (one acquire load when idle), one market poll, one feature
/// update, one evaluation per filled role, one publish — no allocation, no lock, no syscall (the
/// monotonic clock is a vDSO read), no existential, no retain or release: the roles hold
/// unretained evaluators (`_RoleModel`) whose models the cache of prepared versions keeps alive.
///
/// In-process driving (tests, `bench control`):
/// ```swift
/// var loop = try strategy.makeLoop(slotSize: 256, loader: loader)
/// try loop.prepare(versionB)                        // off the message path: read, verify, compile
/// var control = ControlPort(reader: controlReader, strategy: "S")
/// let summary = loop.run(reader: &market, producer: &decisions, control: &control, idle: .backoff) { false }
/// // or, between two messages: loop.apply(command, nextMarketSequence: s, into: &decisions)
/// ```
public struct StrategyLoop: ~Copyable {
    public let engine: FeatureEngine
    /// Invariant: holds `outCapacity` doubles, owned here; grown (off the message path) when a
    /// version with more outputs is prepared.
    @usableFromInline var out: UnsafeMutablePointer<Double>
    @usableFromInline var outCapacity: Int
    /// Telemetry (Docs/TELEMETRY.md): messages, decisions, signals, live/shadow disagreement and
    /// tick-to-decision latency in this strategy's shared-memory stats block; nil records nothing.
    public let stats: StatsWriter?

    // The roles: trivial values (an unretained evaluator, output count, ids), so a swap is a few
    // stores and `decide` copies nothing reference-counted.
    @usableFromInline var live: _RoleModel
    @usableFromInline var shadow: _RoleModel
    @usableFromInline var canary: _RoleModel
    @usableFromInline var canaryPercent: UInt8
    @usableFromInline var paused: Bool
    @usableFromInline let rule: SignalRule
    @usableFromInline let featureValues: UnsafeMutablePointer<Double>
    @usableFromInline let featureCount: Int
    /// The decisions ring's slot size: a decision zeroes its slot up to here.
    @usableFromInline let slotSize: Int
    /// The exchange time of the last market message processed (control records carry it).
    @usableFromInline var lastExchangeTime: Int64 = 0

    /// The prepared versions: the owners of every model a role may point at (`cache`), and a
    /// flat table of their role values searched by `_swap` without allocating.
    // Not @usableFromInline: its setter would inline the cache's deinit into fragile code, which
    // crashes the release compiler ("inlining a resilient function into a fragile function").
    var cache: _VersionCache
    let loader: VersionLoader?
    /// The running definition's digest when it came from a registry version (versions loaded
    /// later must store the same definition), else nil.
    public let definitionDigest: String?
    /// Paper trading (the order policy, risk limits and simulator) when an execution file was
    /// given; nil: decisions only. Not @usableFromInline, like `cache` (its deinit must not be
    /// inlined into fragile code); `step` reaches it.
    var paper: PaperTrading?
    /// The engine and its book as unretained references for `step` (which mutates `paper` while
    /// passing them: a strong load there would retain and release). Invariant: `engine` keeps
    /// both alive for the loop's lifetime.
    let _engine: Unmanaged<FeatureEngine>
    let _books: Unmanaged<OrderBooks>

    /// A loop over `engine` with the given roles. Every version is checked against the
    /// definition (`PreparedVersion.mismatch`) and the slot size.
    /// - Parameters:
    ///   - engine: the feature engine (its definition is the running one).
    ///   - live: the model whose signal is acted on.
    ///   - shadow: evaluated and recorded on every decision point, never acted on.
    ///   - canary: evaluated and recorded on every decision point; acts for the instruments
    ///     `CanaryRouting.routesToCanary(_:percent: canaryPercent)` routes to it.
    ///   - preload: further versions prepared now, so that a later `load` of one is a swap.
    ///   - slotSize: the decisions ring's slot size (the features must fit).
    ///   - stats: this strategy's telemetry block, or nil.
    ///   - loader: prepares a version a `load` or `rollback` names; nil: loads are refused with
    ///     `ControlRejection.noRegistry`.
    ///   - definitionDigest: the running definition's registry digest, if it has one.
    ///   - execution: an execution file: paper trading after each decision (`PaperTrading`).
    public init(
        engine: FeatureEngine,
        live: PreparedVersion,
        shadow: PreparedVersion?,
        canary: PreparedVersion? = nil,
        canaryPercent: UInt8 = 0,
        preload: [PreparedVersion] = [],
        slotSize: Int,
        stats: StatsWriter? = nil,
        loader: VersionLoader? = nil,
        definitionDigest: String? = nil,
        execution: ExecutionSettings? = nil
    ) throws(StrategyError) {
        let n = engine.count
        guard n <= DecisionLayout.maxFeatures(slotSize: slotSize) else {
            throw .configuration(
                "\(n) features do not fit a \(slotSize)-byte decision slot (at most \(DecisionLayout.maxFeatures(slotSize: slotSize)))"
            )
        }
        guard slotSize >= ControlRecordLayout.size else {
            throw .configuration(
                "a \(slotSize)-byte decision slot cannot hold a control record (\(ControlRecordLayout.size) bytes)"
            )
        }
        guard canaryPercent <= 100 else { throw .configuration("canary percent \(canaryPercent) is more than 100") }
        guard canary != nil || canaryPercent == 0 else {
            throw .configuration("a canary percent of \(canaryPercent) needs a canary model")
        }
        let names = engine.definition.names
        for v in [live] + [shadow, canary].compactMap({ $0 }) + preload {
            if let m = v.mismatch(names: names, definition: definitionDigest) {
                // A count mismatch keeps its ModelError (the message users know).
                do throws(ModelError) { try v.model.model.check(featureCount: n) } catch { throw .model(error) }
                throw .configuration(m.message)
            }
        }
        self.engine = engine
        _engine = .passUnretained(engine)
        _books = .passUnretained(engine.books)
        self.stats = stats
        self.loader = loader
        self.definitionDigest = definitionDigest
        rule = engine.definition.signalRule
        featureValues = engine.values
        featureCount = n
        self.slotSize = slotSize
        outCapacity = 1
        out = .allocate(capacity: 1)
        cache = _VersionCache()
        self.live = .empty
        self.shadow = .empty
        self.canary = .empty
        self.canaryPercent = canaryPercent
        paused = false
        if let execution {
            let d = engine.definition
            paper = PaperTrading(
                settings: execution,
                slotSize: slotSize,
                stats: stats,
                maxInstruments: d.instrument != nil ? 1 : d.maxInstruments,
                watch: d.instrument
            )
        }
        for v in [live] + [shadow, canary].compactMap({ $0 }) + preload { _ = remember(v) }
        self.live = cache.roleModel(live)
        if let shadow { self.shadow = cache.roleModel(shadow) }
        if let canary { self.canary = cache.roleModel(canary) }
    }

    /// A loop with a live (and shadow) model from files: no versions, no loader.
    public init(
        engine: FeatureEngine,
        live: LoadedModel,
        shadow: LoadedModel?,
        slotSize: Int,
        stats: StatsWriter? = nil
    ) throws(StrategyError) {
        try self.init(
            engine: engine,
            live: PreparedVersion(file: live),
            shadow: shadow.map { PreparedVersion(file: $0) },
            slotSize: slotSize,
            stats: stats
        )
    }

    deinit { out.deallocate() }

    /// Keeps a prepared version (and grows the output buffer for it); returns its cache index.
    /// Off the message path.
    mutating func remember(_ v: PreparedVersion) -> Int {
        if let i = cache.index(of: v) { return i }
        let outputs = max(v.model.model.numOutputs, 1)
        if outputs > outCapacity {
            out.deallocate()
            out = .allocate(capacity: outputs)
            outCapacity = outputs
        }
        return cache.add(v)
    }

    /// Evaluates the models for the engine's current values and publishes a decision record.
    /// Reads only trivial stored values (no retain/release, no copy of the definition).
    /// - Returns: the record's publish time (monotonic ns).
    @inlinable @discardableResult
    public func decide(_ m: MarketMessageView, into producer: inout RingProducer) -> Int64 {
        _decide(m, into: &producer).publishTime
    }

    /// `decide`, returning the decision as paper trading reads it (instrument, acting signal and model).
    @inlinable
    public func _decide(_ m: MarketMessageView, into producer: inout RingProducer) -> DecisionOutcome {
        let x = UnsafePointer(featureValues)
        let n = featureCount
        var flags: UInt16 = 0
        var livePrediction = Double.nan
        var shadowPrediction = Double.nan
        var canaryPrediction = Double.nan
        var shadowSignal: Int8? = nil
        if let e = live.evaluator {
            e.predict(x, into: out)
            livePrediction = _decisionScalar(out, live.outputs)
            flags |= DecisionFlags.live
        }
        if let e = shadow.evaluator {
            e.predict(x, into: out)
            shadowPrediction = _decisionScalar(out, shadow.outputs)
            shadowSignal = rule.signal(shadowPrediction)
            flags |= DecisionFlags.shadow
        }
        let instrument = engine.instrument  // the instrument of this decision point (set by update)
        let percent = canaryPercent
        var routed = false
        if let e = canary.evaluator {
            e.predict(x, into: out)
            canaryPrediction = _decisionScalar(out, canary.outputs)
            flags |= DecisionFlags.canary
            routed = CanaryRouting.routesToCanary(instrument, percent: percent)
        }
        var signal: Int8 = 0
        if routed {
            flags |= DecisionFlags.canaryActed
            signal = rule.signal(canaryPrediction)
        } else if live.evaluator != nil {
            signal = rule.signal(livePrediction)
        }
        if paused {
            flags |= DecisionFlags.paused
            signal = 0
        }
        let liveId = live.id
        let shadowId = shadow.id
        let canaryId = canary.id
        let end = slotSize
        var publishTime: Int64 = 0
        _ = producer.publish { p in
            p.storeBytes(of: DecisionLayout.kindValue, toByteOffset: DecisionLayout.kind, as: UInt16.self)
            p.storeBytes(of: flags, toByteOffset: DecisionLayout.flags, as: UInt16.self)
            p.storeBytes(of: UInt16(n), toByteOffset: DecisionLayout.featureCount, as: UInt16.self)
            p.storeBytes(of: signal, toByteOffset: DecisionLayout.signal, as: Int8.self)
            p.storeBytes(
                of: DecisionLayout.layoutVersionValue,
                toByteOffset: DecisionLayout.layoutVersion,
                as: UInt8.self
            )
            p.storeBytes(of: m.sequence, toByteOffset: DecisionLayout.marketSequence, as: UInt64.self)
            p.storeBytes(of: m.exchangeTime, toByteOffset: DecisionLayout.exchangeTime, as: Int64.self)
            p.storeBytes(of: instrument, toByteOffset: DecisionLayout.instrument, as: UInt32.self)
            // The percent byte and three zero bytes (37..<40) in one store.
            p.storeBytes(of: UInt32(percent), toByteOffset: DecisionLayout.canaryPercent, as: UInt32.self)
            p.storeBytes(of: m.receiveTime, toByteOffset: DecisionLayout.receiveTime, as: Int64.self)
            p.storeBytes(of: livePrediction, toByteOffset: DecisionLayout.livePrediction, as: Double.self)
            p.storeBytes(of: shadowPrediction, toByteOffset: DecisionLayout.shadowPrediction, as: Double.self)
            p.storeBytes(of: canaryPrediction, toByteOffset: DecisionLayout.canaryPrediction, as: Double.self)
            p.storeBytes(of: liveId, toByteOffset: DecisionLayout.modelId, as: UInt64.self)
            p.storeBytes(of: shadowId, toByteOffset: DecisionLayout.shadowModelId, as: UInt64.self)
            p.storeBytes(of: canaryId, toByteOffset: DecisionLayout.canaryModelId, as: UInt64.self)
            p.storeBytes(of: UInt64(0), toByteOffset: DecisionLayout.canaryModelId + 8, as: UInt64.self)
            for i in 0..<n { p.storeBytes(of: x[i], toByteOffset: DecisionLayout.features + 8 * i, as: Double.self) }
            // The rest of the slot is zero: a control record may have used it a lap ago.
            var o = DecisionLayout.features + 8 * n
            while o < end {
                p.storeBytes(of: UInt64(0), toByteOffset: o, as: UInt64.self)
                o &+= 8
            }
            // Last: the publish time, as close to the release store as the record allows.
            publishTime = Int64(bitPattern: tb_monotonic_ns())
            p.storeBytes(of: publishTime, toByteOffset: DecisionLayout.publishTime, as: Int64.self)
        }
        // Relaxed stores into the stats block: no syscall, lock or allocation.
        stats?.recordDecision(
            latencyNs: UInt64(clamping: publishTime &- m.receiveTime),
            signal: signal,
            shadowSignal: shadowSignal
        )
        return DecisionOutcome(
            instrument: instrument,
            signal: signal,
            actingModelId: routed ? canaryId : liveId,
            publishTime: publishTime
        )
    }

    /// Publishes a record for every market message with no features and no model: the baseline of
    /// `bench strategy` (the cost of the two ring hops alone).
    @inlinable
    public func passThrough(_ m: MarketMessageView, into producer: inout RingProducer) {
        _ = producer.publish { p in
            p.storeBytes(of: DecisionLayout.kindValue, toByteOffset: DecisionLayout.kind, as: UInt16.self)
            p.storeBytes(of: UInt16(0), toByteOffset: DecisionLayout.flags, as: UInt16.self)
            p.storeBytes(of: UInt16(0), toByteOffset: DecisionLayout.featureCount, as: UInt16.self)
            p.storeBytes(
                of: DecisionLayout.layoutVersionValue,
                toByteOffset: DecisionLayout.layoutVersion,
                as: UInt8.self
            )
            p.storeBytes(of: m.sequence, toByteOffset: DecisionLayout.marketSequence, as: UInt64.self)
            p.storeBytes(of: m.exchangeTime, toByteOffset: DecisionLayout.exchangeTime, as: Int64.self)
            p.storeBytes(of: m.instrument, toByteOffset: DecisionLayout.instrument, as: UInt32.self)
            p.storeBytes(of: m.receiveTime, toByteOffset: DecisionLayout.receiveTime, as: Int64.self)
            p.storeBytes(
                of: Int64(bitPattern: tb_monotonic_ns()),
                toByteOffset: DecisionLayout.publishTime,
                as: Int64.self
            )
        }
    }

    /// Runs without a control ring (the roles stay as they are).
    public mutating func run(
        reader: inout RingReader,
        producer: inout RingProducer,
        idle: IdleStrategy,
        passThrough: Bool = false,
        stop: () -> Bool
    ) -> StrategySummary {
        var control = ControlPort.disabled()
        return run(
            reader: &reader,
            producer: &producer,
            control: &control,
            idle: idle,
            passThrough: passThrough,
            stop: stop
        )
    }

    /// Runs until end-of-session, the producer closing or dying, or `stop()`. Before each market
    /// message it polls `control` and applies every command addressed to it (publishing a control
    /// record for each); the first decision after a swap reports the swap latency. With
    /// `passThrough`, every market message gets a bare record instead (no features, no model).
    /// - Parameter log: a line per applied or rejected command (and the control ring attaching),
    ///   written after the first decision under the new state so the write does not delay it; nil:
    ///   none, and no line is built (the bench's strategy thread then allocates nothing per swap).
    public mutating func run(
        reader: inout RingReader,
        producer: inout RingProducer,
        control: inout ControlPort,
        idle: IdleStrategy,
        passThrough: Bool = false,
        log: ((String) -> Void)? = nil,
        stop: () -> Bool
    ) -> StrategySummary {
        var summary = StrategySummary()
        var idler = Idler(idle)
        var lastCheck = tb_monotonic_ns()
        var lastControlCheck = lastCheck
        // Set by a command: its publish time, until the first decision under the new state.
        var swapFrom: Int64 = 0
        // Outcomes waiting to be logged, described only after the first decision under the new state
        // (describing allocates); the capacity is reserved here so that appending one does not.
        var pendingLog: [ControlOutcome] = []
        pendingLog.reserveCapacity(64)
        var hasPending = false
        while true {
            // Control first: a command applies before the market message read next.
            if let slot = control._poll() {
                if let outcome = _control(
                    slot,
                    strategy: control.strategy,
                    nextMarketSequence: reader.nextSequence,
                    into: &producer
                ) {
                    summary.commands &+= 1
                    if !outcome.applied { summary.rejected &+= 1 }
                    if outcome.applied, outcome.commandPublishTime > 0 { swapFrom = outcome.commandPublishTime }
                    pendingLog.append(outcome)
                    hasPending = true
                }
                continue
            }
            switch reader.poll() {
            case .message(let bytes):
                idler.reset()
                let m = bytes.market
                summary.messages &+= 1
                stats?.count(.messages)
                if m.rawKind == MessageKind.endOfSession.rawValue {
                    summary.endOfSession = true
                    finishSession(into: &producer)
                    summary.execution = executionSummary()
                    if let log { for outcome in pendingLog { log(outcome.description) } }
                    return summary
                }
                if passThrough {
                    if m.kind != nil {
                        self.passThrough(m, into: &producer)
                        summary.decisions &+= 1
                    }
                    lastExchangeTime = m.exchangeTime
                } else if let decision = step(m, into: &producer) {
                    summary.decisions &+= 1
                    if _slowPath(swapFrom != 0) {
                        let published = decision.publishTime
                        _swapped(latencyNs: UInt64(clamping: published &- swapFrom))
                        summary.lastSwapLatencyNs = UInt64(clamping: published &- swapFrom)
                        swapFrom = 0
                    }
                }
                if _slowPath(hasPending) && swapFrom == 0 {
                    if let log { for outcome in pendingLog { log(outcome.description) } }
                    pendingLog.removeAll(keepingCapacity: true)
                    hasPending = false
                }
                if summary.messages & 4095 == 0 {
                    reader.heartbeat()
                    stats?.heartbeat()
                    producer.housekeeping()
                    let now = tb_monotonic_ns()
                    if now &- lastControlCheck >= 100_000_000 {
                        lastControlCheck = now
                        if let line = control.maintain(now: now) { log?(line) }
                    }
                    if stop() {
                        summary.execution = executionSummary()
                        return summary
                    }
                }
            case .gap(_, let count):
                summary.lost &+= count
                summary.gaps &+= 1
                stats?.count(.gaps)
                stats?.count(.lost, by: count)
            case .empty:
                idler.idle()
                let now = tb_monotonic_ns()
                if now &- lastCheck < 50_000_000 { continue }
                lastCheck = now
                if hasPending {
                    if let log { for outcome in pendingLog { log(outcome.description) } }
                    pendingLog.removeAll(keepingCapacity: true)
                    hasPending = false
                }
                reader.heartbeat(now: now)
                producer.heartbeat(now: now)
                stats?.heartbeat(now: now)
                lastControlCheck = now
                if let line = control.maintain(now: now) { log?(line) }
                if stop() {
                    summary.execution = executionSummary()
                    return summary
                }
                switch reader.producerStatus() {
                case .running: continue
                case .closed, .dead:
                    if reader.caughtUp {
                        summary.execution = executionSummary()
                        return summary
                    }
                case .replaced:
                    summary.execution = executionSummary()
                    return summary
                }
            }
        }
    }
}

/// A model as an unretained reference to its compiled evaluator. Invariant: the `LoadedModel` it
/// was made from outlives it (the loop's `_VersionCache` owns every prepared model until the loop ends).
@usableFromInline
enum _Evaluator {
    case lightgbm(Unmanaged<LightGBMModel>)
    case xgboost(Unmanaged<XGBoostModel>)
    case linear(Unmanaged<LinearModel>)
    case mlp(Unmanaged<MLPModel>)

    init(_ model: Model) {
        switch model {
        case .lightgbm(let m): self = .lightgbm(.passUnretained(m))
        case .xgboost(let m): self = .xgboost(.passUnretained(m))
        case .linear(let m): self = .linear(.passUnretained(m))
        case .mlp(let m): self = .mlp(.passUnretained(m))
        }
    }

    /// The same as `Model.predict(_:into:raw: false)`, without retaining the model.
    @inlinable @inline(__always)
    func predict(_ x: UnsafePointer<Double>, into out: UnsafeMutablePointer<Double>) {
        // Safe: the models are alive for the loop's lifetime (see the invariant above).
        switch self {
        case .lightgbm(let u): u._withUnsafeGuaranteedRef { $0.predict(x, into: out) }
        case .xgboost(let u): u._withUnsafeGuaranteedRef { $0.predict(x, into: out) }
        case .linear(let u): out[0] = u._withUnsafeGuaranteedRef { $0.predict(x) }
        case .mlp(let u): u._withUnsafeGuaranteedRef { $0.predict(x, into: out) }
        }
    }
}
