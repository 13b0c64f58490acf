/// Why a model file was refused. Every case says what was wrong and where (line, field or byte
/// offset), so a quant can fix the export without reading our source.
public enum ModelError: Error, Equatable, CustomStringConvertible {
    /// The file could not be opened or read.
    case io(path: String, reason: String)
    /// None of the supported formats recognised the content.
    case unknownFormat(String)
    /// Malformed syntax (JSON, LightGBM text, protobuf) at a line/column or byte offset.
    case syntax(format: String, location: String, message: String)
    /// A required field is absent.
    case missingField(format: String, field: String, location: String)
    /// A field is present but its value is wrong (length, range, type).
    case invalidField(format: String, field: String, location: String, message: String)
    /// The file declares a different number of trees than it contains.
    case treeCount(declared: Int, found: Int, location: String)
    /// A feature the file uses but this evaluator does not support (linear trees, categorical XGBoost splits, ...).
    case unsupported(format: String, what: String, location: String)
    /// An ONNX operator outside Gemm, MatMul, Add, Relu, Tanh, Sigmoid, Softmax.
    case unsupportedOperator(name: String, node: String)
    /// The model's feature count does not match the feature definition it is used with.
    case featureCountMismatch(model: Int, definition: Int)
    /// A count read from the file is above its limit (`ModelLimits`, or what the file's size can
    /// hold): refused before anything is allocated from it.
    case tooLarge(format: String, field: String, location: String, value: String, limit: String)

    public var description: String {
        switch self {
        case .io(let path, let reason): return "cannot read model \(path): \(reason)"
        case .unknownFormat(let what): return "unrecognised model format: \(what) (expected LightGBM text, XGBoost JSON, linear JSON or ONNX)"
        case .syntax(let format, let location, let message): return "\(format): syntax error at \(location): \(message)"
        case .missingField(let format, let field, let location): return "\(format): missing field '\(field)' in \(location)"
        case .invalidField(let format, let field, let location, let message): return "\(format): invalid '\(field)' in \(location): \(message)"
        case .treeCount(let declared, let found, let location): return "LightGBM: \(location) declares \(declared) trees but the file has \(found) (truncated or edited file?)"
        case .unsupported(let format, let what, let location): return "\(format): \(what) is not supported (\(location))"
        case .unsupportedOperator(let name, let node): return "ONNX: operator '\(name)' (node '\(node)') is not supported; supported: Gemm, MatMul, Add, Relu, Tanh, Sigmoid, Softmax"
        case .featureCountMismatch(let model, let definition): return "model expects \(model) features but the feature definition has \(definition)"
        case .tooLarge(let format, let field, let location, let value, let limit):
            return "\(format): '\(field)' in \(location) is \(value), above the limit of \(limit)"
        }
    }
}
