#if canImport(Glibc)
import Glibc
#endif

/// A linear model: `intercept + Σ coefficients[i] * x[i]` summed in double in feature order;
/// a missing value (NaN) contributes nothing. `"link": "logistic"` applies a sigmoid in `predict`.
///
/// ```json
/// {"type": "linear", "feature_names": ["f0", "f1"], "coefficients": [0.5, -1.25], "intercept": 0.1, "link": "identity"}
/// ```
public final class LinearModel {
    public let featureNames: [String]
    public let coefficients: [Double]
    public let intercept: Double
    public let logistic: Bool
    public var numFeatures: Int { coefficients.count }

    public init(featureNames: [String], coefficients: [Double], intercept: Double, logistic: Bool) {
        self.featureNames = featureNames
        self.coefficients = coefficients
        self.intercept = intercept
        self.logistic = logistic
    }

    @inlinable
    public func predictRaw(_ x: UnsafePointer<Double>) -> Double {
        var s = intercept
        coefficients.withUnsafeBufferPointer { c in
            for i in 0..<c.count {
                let v = x[i]
                s += v.isNaN ? 0 : c[i] * v
            }
        }
        return s
    }

    @inlinable
    public func predict(_ x: UnsafePointer<Double>) -> Double {
        let r = predictRaw(x)
        return logistic ? 1.0 / (1.0 + exp(-r)) : r
    }
}

public enum LinearJSON {
    static let format = "linear JSON"

    public static func detect(_ json: JSONValue) -> Bool { json["coefficients"] != nil }

    public static func load(_ json: JSONValue) throws(ModelError) -> LinearModel {
        guard let coef = json["coefficients"]?.array else { throw .missingField(format: format, field: "coefficients", location: "document") }
        var c: [Double] = []
        for (i, v) in coef.enumerated() {
            guard case .number(let d) = v else { throw .invalidField(format: format, field: "coefficients", location: "coefficients[\(i)]", message: "not a number") }
            c.append(d)
        }
        guard !c.isEmpty else { throw .invalidField(format: format, field: "coefficients", location: "document", message: "empty") }
        _ = try ModelLimits.check(c.count, limit: ModelLimits.features, format: format, field: "coefficients", location: "document")
        var intercept = 0.0
        if let v = json["intercept"] {
            guard case .number(let d) = v else { throw .invalidField(format: format, field: "intercept", location: "document", message: "not a number") }
            intercept = d
        }
        var names = (0..<c.count).map { "f\($0)" }
        if let fn = json["feature_names"]?.array {
            let n = fn.compactMap { $0.string }
            guard n.count == c.count else {
                throw .invalidField(format: format, field: "feature_names", location: "document", message: "\(n.count) names for \(c.count) coefficients")
            }
            names = n
        }
        let link = json["link"]?.string ?? "identity"
        guard link == "identity" || link == "logistic" else {
            throw .unsupported(format: format, what: "link '\(link)'", location: "link")
        }
        return LinearModel(featureNames: names, coefficients: c, intercept: intercept, logistic: link == "logistic")
    }
}
