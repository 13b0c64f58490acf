/// Any supported model, loaded from a file whose format is detected from its content.
/// An enum (not an existential): each call switches once to a specialised evaluator.
public enum Model {
    case lightgbm(LightGBMModel)
    case xgboost(XGBoostModel)
    case linear(LinearModel)
    case mlp(MLPModel)

    /// Loads and compiles a model file: LightGBM text, XGBoost JSON, linear JSON or ONNX.
    public static func load(
        path: String,
        lightgbm options: LightGBMOptions = .default
    ) throws(ModelError) -> LoadedModel {
        let bytes = try ModelFile.read(path)
        return LoadedModel(
            model: try load(bytes: bytes, lightgbm: options),
            id: ModelFile.contentHash(bytes),
            path: path
        )
    }

    public static func load(bytes: [UInt8], lightgbm options: LightGBMOptions = .default) throws(ModelError) -> Model {
        guard !bytes.isEmpty else { throw .unknownFormat("empty file") }
        if LightGBMText.detect(bytes) { return .lightgbm(try LightGBMText.load(bytes, options: options)) }
        var k = 0
        while k < bytes.count, bytes[k] == 32 || bytes[k] == 10 || bytes[k] == 13 || bytes[k] == 9 { k += 1 }
        if k < bytes.count, bytes[k] == UInt8(ascii: "{") {
            let json = try JSONValue.parse(bytes)
            if XGBoostJSON.detect(json) { return .xgboost(try XGBoostJSON.load(json)) }
            if LinearJSON.detect(json) { return .linear(try LinearJSON.load(json)) }
            throw .unknownFormat("a JSON document with neither 'learner' (XGBoost) nor 'coefficients' (linear)")
        }
        if ONNXModel.detect(bytes) { return .mlp(try ONNXModel.load(bytes)) }
        throw .unknownFormat("first bytes \(bytes.prefix(8).map { String($0, radix: 16) }.joined(separator: " "))")
    }

    public var kindName: String {
        switch self {
        case .lightgbm: return "lightgbm"
        case .xgboost: return "xgboost"
        case .linear: return "linear"
        case .mlp: return "onnx-mlp"
        }
    }

    public var numFeatures: Int {
        switch self {
        case .lightgbm(let m): return m.numFeatures
        case .xgboost(let m): return m.numFeatures
        case .linear(let m): return m.numFeatures
        case .mlp(let m): return m.numFeatures
        }
    }

    public var numOutputs: Int {
        switch self {
        case .lightgbm(let m): return m.numOutputs
        case .xgboost(let m): return m.objective == .softmax ? 1 : m.numOutputs
        case .linear: return 1
        case .mlp(let m): return m.numOutputs
        }
    }

    public var featureNames: [String] {
        switch self {
        case .lightgbm(let m): return m.featureNames
        case .xgboost(let m): return m.featureNames
        case .linear(let m): return m.featureNames
        case .mlp(let m): return m.featureNames
        }
    }

    /// Refuses a model whose feature count disagrees with a feature definition.
    public func check(featureCount: Int) throws(ModelError) {
        guard numFeatures == featureCount else {
            throw .featureCountMismatch(model: numFeatures, definition: featureCount)
        }
    }

    /// `predict`'s output into `out[0..<numOutputs]` (raw scores with `raw`). Allocates nothing.
    /// One model value is evaluated by one thread at a time (its scratch memory is shared by copies).
    @inlinable
    public func predict(_ x: UnsafePointer<Double>, into out: UnsafeMutablePointer<Double>, raw: Bool = false) {
        switch self {
        case .lightgbm(let m): if raw { m.predictRaw(x, into: out) } else { m.predict(x, into: out) }
        case .xgboost(let m): if raw { m.predictRaw(x, into: out) } else { m.predict(x, into: out) }
        case .linear(let m): out[0] = raw ? m.predictRaw(x) : m.predict(x)
        case .mlp(let m): m.predict(x, into: out)
        }
    }
}

/// A model with its id (FNV-1a 64 of the file) and where it came from.
public struct LoadedModel {
    public var model: Model
    public let id: UInt64
    public let path: String
    public init(model: Model, id: UInt64, path: String) {
        self.model = model
        self.id = id
        self.path = path
    }
}
