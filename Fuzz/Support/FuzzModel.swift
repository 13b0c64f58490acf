import Models

/// The body of the four model harnesses: load, check the shape, evaluate.
enum FuzzModel {
    static func run(_ bytes: [UInt8]) -> Int32 {
        // The LightGBM evaluator variants (8 or 16 trees at a time, QuickScorer) compile differently.
        let variant = bytes.count % 3
        let options = LightGBMOptions(width: variant == 1 ? 16 : 8, quickScorer: variant == 2)
        let model: Model
        do { model = try Model.load(bytes: bytes, lightgbm: options) } catch {
            _ = error.description
            return 0
        }
        let features = model.numFeatures
        let outputs = max(model.numOutputs, 1)
        _ = model.featureNames.count
        _ = model.kindName
        // A model the loader accepted must have a shape the evaluator can be called with.
        precondition(features >= 0 && outputs >= 1, "fuzz: model with \(features) features, \(outputs) outputs")
        // Counts are bounded by the file (issue 11): rows of this width are affordable.
        precondition(features <= 1 << 24, "fuzz: a \(bytes.count)-byte model accepted with \(features) features")
        var out = [Double](repeating: 0, count: outputs)
        var sink = 0.0
        for row in FuzzInput.rows(features: features, from: bytes) {
            for raw in [false, true] {
                row.withUnsafeBufferPointer { x in
                    out.withUnsafeMutableBufferPointer { o in
                        model.predict(x.baseAddress!, into: o.baseAddress!, raw: raw)
                    }
                }
                sink += out[0]
            }
        }
        return sink == 42.4242 ? 1 : 0
    }
}
