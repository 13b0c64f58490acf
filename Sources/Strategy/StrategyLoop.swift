import CTickBus
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
    /// A model (live or shadow) does not fit the feature definition, or could not be loaded.
    case model(ModelError)
    public var description: String {
        switch self {
        case .placement(let s): return "placement: \(s)"
        case .configuration(let s): return s
        case .model(let e): return "\(e)"
        }
    }
}

/// The strategy loop: polls `market`, updates features, evaluates the live (and shadow) model at
/// each decision point, and publishes one decision record per decision point into `decisions.<name>`.
///
/// Per message: one poll, one feature update, one or two model evaluations, one publish — no
/// allocation, no lock, no syscall (the monotonic clock is a vDSO read), no existential.
public struct StrategyLoop: ~Copyable {
    public let engine: FeatureEngine
    public let live: LoadedModel
    public let shadow: LoadedModel?
    /// Invariant: holds `max(live outputs, shadow outputs)` doubles, owned here.
    @usableFromInline let out: UnsafeMutablePointer<Double>
    /// Telemetry (Docs/TELEMETRY.md): messages, decisions, signals, live/shadow disagreement and
    /// tick-to-decision latency in this strategy's shared-memory stats block; nil records nothing.
    public let stats: StatsWriter?

    // Resolved once at init so that `decide` copies nothing reference-counted: unretained model
    // references (kept alive by `live` and `shadow`), output counts, thresholds, ids.
    @usableFromInline let liveEvaluator: _Evaluator
    @usableFromInline let shadowEvaluator: _Evaluator?
    @usableFromInline let liveOutputs: Int
    @usableFromInline let shadowOutputs: Int
    @usableFromInline let rule: SignalRule
    @usableFromInline let liveId: UInt64
    @usableFromInline let shadowId: UInt64
    @usableFromInline let featureValues: UnsafeMutablePointer<Double>
    @usableFromInline let featureCount: Int

    public init(
        engine: FeatureEngine,
        live: LoadedModel,
        shadow: LoadedModel?,
        slotSize: Int,
        stats: StatsWriter? = nil
    ) throws(StrategyError) {
        let n = engine.count
        guard n <= DecisionLayout.maxFeatures(slotSize: slotSize) else {
            throw .configuration(
                "\(n) features do not fit a \(slotSize)-byte decision slot (at most \(DecisionLayout.maxFeatures(slotSize: slotSize)))"
            )
        }
        do throws(ModelError) {
            try live.model.check(featureCount: n)
            try shadow?.model.check(featureCount: n)
        } catch {
            throw .model(error)
        }
        self.engine = engine
        self.live = live
        self.shadow = shadow
        self.stats = stats
        out = .allocate(capacity: max(live.model.numOutputs, shadow?.model.numOutputs ?? 1, 1))
        liveEvaluator = _Evaluator(live.model)
        shadowEvaluator = shadow.map { _Evaluator($0.model) }
        liveOutputs = live.model.numOutputs
        shadowOutputs = shadow?.model.numOutputs ?? 1
        rule = engine.definition.signalRule
        liveId = live.id
        shadowId = shadow?.id ?? 0
        featureValues = engine.values
        featureCount = n

    }

    deinit { out.deallocate() }

    /// Evaluates the models for the engine's current values and publishes a decision record.
    /// Reads only values resolved at init (no retain/release, no copy of the definition).
    @inlinable
    public func decide(_ m: MarketMessageView, into producer: inout RingProducer) {
        let x = UnsafePointer(featureValues)
        let n = featureCount
        liveEvaluator.predict(x, into: out)
        let livePrediction = _decisionScalar(out, liveOutputs)
        var shadowPrediction = Double.nan
        var shadowSignal: Int8? = nil
        if let shadowEvaluator {
            shadowEvaluator.predict(x, into: out)
            shadowPrediction = _decisionScalar(out, shadowOutputs)
            shadowSignal = rule.signal(shadowPrediction)
        }
        let signal = rule.signal(livePrediction)
        let liveId = liveId
        let shadowId = shadowId
        let hasShadow: UInt16 = shadowEvaluator != nil ? 1 : 0
        let instrument = engine.instrument  // the instrument of this decision point (set by update)
        var publishTime: Int64 = 0
        _ = producer.publish { p in
            p.storeBytes(of: DecisionLayout.kindValue, toByteOffset: DecisionLayout.kind, as: UInt16.self)
            p.storeBytes(of: hasShadow, toByteOffset: DecisionLayout.flags, as: UInt16.self)
            p.storeBytes(of: UInt16(n), toByteOffset: DecisionLayout.featureCount, as: UInt16.self)
            p.storeBytes(of: signal, toByteOffset: DecisionLayout.signal, as: Int8.self)
            p.storeBytes(of: m.sequence, toByteOffset: DecisionLayout.marketSequence, as: UInt64.self)
            p.storeBytes(of: m.exchangeTime, toByteOffset: DecisionLayout.exchangeTime, as: Int64.self)
            p.storeBytes(of: instrument, toByteOffset: DecisionLayout.instrument, as: UInt32.self)
            p.storeBytes(of: m.receiveTime, toByteOffset: DecisionLayout.receiveTime, as: Int64.self)
            p.storeBytes(of: livePrediction, toByteOffset: DecisionLayout.livePrediction, as: Double.self)
            p.storeBytes(of: shadowPrediction, toByteOffset: DecisionLayout.shadowPrediction, as: Double.self)
            p.storeBytes(of: liveId, toByteOffset: DecisionLayout.modelId, as: UInt64.self)
            p.storeBytes(of: shadowId, toByteOffset: DecisionLayout.shadowModelId, as: UInt64.self)
            for i in 0..<n { p.storeBytes(of: x[i], toByteOffset: DecisionLayout.features + 8 * i, as: Double.self) }
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
    }

    /// Publishes a record for every market message with no features and no model: the baseline of
    /// `bench strategy` (the cost of the two ring hops alone).
    @inlinable
    public func passThrough(_ m: MarketMessageView, into producer: inout RingProducer) {
        _ = producer.publish { p in
            p.storeBytes(of: DecisionLayout.kindValue, toByteOffset: DecisionLayout.kind, as: UInt16.self)
            p.storeBytes(of: UInt16(0), toByteOffset: DecisionLayout.flags, as: UInt16.self)
            p.storeBytes(of: UInt16(0), toByteOffset: DecisionLayout.featureCount, as: UInt16.self)
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

    /// Runs until end-of-session, the producer closing or dying, or `stop()`. With `passThrough`,
    /// every market message gets a bare record instead (no features, no model).
    public func run(
        reader: inout RingReader,
        producer: inout RingProducer,
        idle: IdleStrategy,
        passThrough: Bool = false,
        stop: () -> Bool
    ) -> StrategySummary {
        var summary = StrategySummary()
        var idler = Idler(idle)
        var lastCheck = tb_monotonic_ns()
        while true {
            switch reader.poll() {
            case .message(let bytes):
                idler.reset()
                let m = bytes.market
                summary.messages &+= 1
                stats?.count(.messages)
                if m.rawKind == MessageKind.endOfSession.rawValue {
                    summary.endOfSession = true
                    return summary
                }
                if passThrough {
                    if m.kind != nil {
                        self.passThrough(m, into: &producer)
                        summary.decisions &+= 1
                    }
                } else if engine.update(m) {
                    decide(m, into: &producer)
                    summary.decisions &+= 1
                }
                if summary.messages & 4095 == 0 {
                    reader.heartbeat()
                    stats?.heartbeat()
                    producer.housekeeping()
                    if stop() { return summary }
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
                reader.heartbeat(now: now)
                producer.heartbeat(now: now)
                stats?.heartbeat(now: now)
                if stop() { return summary }
                switch reader.producerStatus() {
                case .running: continue
                case .closed, .dead: if reader.caughtUp { return summary }
                case .replaced: return summary
                }
            }
        }
    }
}

/// A model as an unretained reference to its compiled evaluator. Invariant: the `LoadedModel` it
/// was made from outlives it (both are stored in the same `StrategyLoop`).
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
