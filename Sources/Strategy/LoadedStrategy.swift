import Execution
import Features
import Models
import TickBusCore

/// What a strategy runs: a feature definition, a live model and an optional shadow model, loaded
/// from their files. `tickbus strategy`, `replay --verify-decisions` and the backtest load one
/// through `load(features:model:shadow:)` and build their loop with `makeLoop(slotSize:stats:)`,
/// so the live run and every re-run check the same things in the same order.
public struct LoadedStrategy {
    public let definition: FeatureDefinition
    /// The live version (or model file) and the shadow one, with their version ids when they
    /// came from a registry.
    public var liveVersion: PreparedVersion
    public var shadowVersion: PreparedVersion?
    /// A canary at start and its percent (`--canary ID --canary-percent P`).
    public var canaryVersion: PreparedVersion?
    public var canaryPercent: UInt8 = 0
    /// Versions prepared at start (`--preload ID`), so that a later `load` of one is a swap.
    public var preload: [PreparedVersion] = []
    /// The running definition's registry digest (versions loaded later must store the same one).
    public var definitionDigest: String?
    /// Prepares the versions `load` and `rollback` commands name; nil: refused (`noRegistry`).
    public var loader: VersionLoader?
    /// The execution file (`--execution E.toml`): paper trading after each decision; nil: none.
    /// The live run, `replay --verify-decisions` and the backtest give it to the same loop.
    public var execution: ExecutionSettings?

    /// The live model.
    public var live: LoadedModel { liveVersion.model }
    /// The shadow model, if any.
    public var shadow: LoadedModel? { shadowVersion?.model }

    /// A strategy from parts already loaded and checked elsewhere: the registry loader
    /// (`Registry.loadStrategy`) verifies a version's hashes, compiles its objects and hands them
    /// here, so Strategy need not know the registry.
    /// - Parameters:
    ///   - definition: the feature definition the models are evaluated on.
    ///   - live: the model whose signal is acted on.
    ///   - shadow: a model evaluated beside the live one and recorded, never acted on.
    public init(definition: FeatureDefinition, live: LoadedModel, shadow: LoadedModel?) {
        self.init(
            definition: definition,
            live: PreparedVersion(file: live),
            shadow: shadow.map { PreparedVersion(file: $0) }
        )
    }

    /// A strategy from prepared versions (registry versions carry their ids into control records).
    /// - Parameters:
    ///   - definition: the feature definition the models are evaluated on.
    ///   - live: the version whose signal is acted on.
    ///   - shadow: a version evaluated beside the live one and recorded, never acted on.
    ///   - definitionDigest: the definition's registry digest, if it came from a registry.
    public init(
        definition: FeatureDefinition,
        live: PreparedVersion,
        shadow: PreparedVersion?,
        definitionDigest: String? = nil
    ) {
        self.definition = definition
        liveVersion = live
        shadowVersion = shadow
        self.definitionDigest = definitionDigest
    }

    /// Loads the definition, then the live model, then the shadow model.
    /// - Parameters:
    ///   - features: a feature definition (TOML).
    ///   - model: the live model (LightGBM text, XGBoost JSON, linear JSON, ONNX).
    ///   - shadow: a model evaluated beside the live one and recorded, never acted on.
    /// - Throws: `StrategyLoadError` with the file's own error.
    public static func load(
        features: String,
        model: String,
        shadow: String?
    ) throws(StrategyLoadError) -> LoadedStrategy {
        let definition: FeatureDefinition
        do { definition = try FeatureDefinition.load(path: features) } catch { throw .features(error) }
        let live: LoadedModel
        do { live = try Model.load(path: model) } catch { throw .model(path: model, error) }
        var shadowModel: LoadedModel?
        if let shadow {
            do { shadowModel = try Model.load(path: shadow) } catch { throw .model(path: shadow, error) }
        }
        return LoadedStrategy(definition: definition, live: live, shadow: shadowModel)
    }

    /// A fresh feature engine and a strategy loop over it, checked against the decision slot.
    /// - Parameters:
    ///   - slotSize: the decisions ring's slot size (the features must fit).
    ///   - stats: this strategy's telemetry block, or nil.
    public func makeLoop(slotSize: Int, stats: StatsWriter? = nil) throws(StrategyLoadError) -> StrategyLoop {
        do {
            return try StrategyLoop(
                engine: FeatureEngine(definition: definition),
                live: liveVersion,
                shadow: shadowVersion,
                canary: canaryVersion,
                canaryPercent: canaryPercent,
                preload: preload,
                slotSize: slotSize,
                stats: stats,
                loader: loader,
                definitionDigest: definitionDigest,
                execution: execution
            )
        } catch { throw .loop(error) }
    }

    /// `model <kind> id=<hex>[ shadow <kind> id=<hex>][ canary <kind> id=<hex> percent=P]`, as the
    /// strategy logs at start.
    public var modelsDescription: String {
        "model \(live.model.kindName) id=\(String(live.id, radix: 16))"
            + (shadow.map { " shadow \($0.model.kindName) id=\(String($0.id, radix: 16))" } ?? "")
            + (canaryVersion.map {
                " canary \($0.model.model.kindName) id=\(String($0.model.id, radix: 16)) percent=\(canaryPercent)"
            } ?? "")
    }
}

/// Why a strategy could not be loaded; the message is the cause's own.
public enum StrategyLoadError: Error, CustomStringConvertible {
    /// The feature definition did not load or parse.
    case features(FeatureError)
    /// A model file (live or shadow, at `path`) did not load.
    case model(path: String, ModelError)
    /// The loop refused the combination (feature count, slot size).
    case loop(StrategyError)

    public var description: String {
        switch self {
        case .features(let e): return "\(e)"
        case .model(_, let e): return "\(e)"
        case .loop(let e): return "\(e)"
        }
    }
}
