import ArgumentParser
import Foundation
import Models

// Issue 5: features, strategy, model, bench model, bench strategy.

/// `%.17g`: 17 significant digits, enough to round-trip a double.
func g17(_ v: Double) -> String { String(format: "%.17g", v) }

/// A CSV of feature rows: a header of names, then numbers; an empty field or `nan` is missing.
struct FeatureCSV {
    var names: [String]
    var rows: [[Double]]

    static func read(_ path: String) throws -> FeatureCSV {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw ValidationError("cannot read \(path)") }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: true).map { $0.hasSuffix("\r") ? $0.dropLast() : $0 }
        guard !lines.isEmpty else { throw ValidationError("\(path): empty file (expected a header row of feature names)") }
        let names = lines.removeFirst().split(separator: ",", omittingEmptySubsequences: false).map { String($0).trimmingCharacters(in: .whitespaces) }
        var rows: [[Double]] = []
        rows.reserveCapacity(lines.count)
        for (i, line) in lines.enumerated() {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            guard fields.count == names.count else {
                throw ValidationError("\(path) line \(i + 2): \(fields.count) fields, header has \(names.count)")
            }
            var row: [Double] = []
            row.reserveCapacity(fields.count)
            for (k, f) in fields.enumerated() {
                let t = f.trimmingCharacters(in: .whitespaces)
                if t.isEmpty || t.lowercased() == "nan" { row.append(.nan); continue }
                guard let v = Double(t) else { throw ValidationError("\(path) line \(i + 2), column \(names[k]): '\(t)' is not a number") }
                row.append(v)
            }
            rows.append(row)
        }
        return FeatureCSV(names: names, rows: rows)
    }

    /// Column order that feeds the model: by name when the header holds every model feature name,
    /// else by position when the counts agree.
    func columns(for model: Model) throws -> [Int] {
        let want = model.featureNames
        if want.allSatisfy({ names.contains($0) }) { return want.map { names.firstIndex(of: $0)! } }
        guard names.count == model.numFeatures else {
            throw ValidationError("input has \(names.count) columns, the model expects \(model.numFeatures) features (\(want.joined(separator: ",")))")
        }
        return Array(0..<names.count)
    }
}

struct ModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model", abstract: "Inspect and evaluate model files.", subcommands: [ModelPredictCommand.self, ModelInfoCommand.self])
}

struct ModelPredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Predict every row of a CSV: one line per row, 17 significant digits, classes comma-separated.")

    @Option(help: "LightGBM text, XGBoost JSON, linear JSON or ONNX model (detected from the content).") var model: String
    @Flag(help: "Raw scores (margins) instead of the library's default predict output.") var raw = false
    @Option(help: "CSV with a header row of feature names; an empty field or 'nan' is missing.") var input: String

    func run() throws {
        let loaded: LoadedModel
        do { loaded = try Model.load(path: model) } catch { throw ValidationError("\(error)") }
        let csv = try FeatureCSV.read(input)
        let cols = try csv.columns(for: loaded.model)
        var x = [Double](repeating: .nan, count: loaded.model.numFeatures)
        var out = [Double](repeating: 0, count: max(loaded.model.numOutputs, 1))
        var text = ""
        text.reserveCapacity(csv.rows.count * 24 * out.count)
        for row in csv.rows {
            for (k, c) in cols.enumerated() { x[k] = row[c] }
            x.withUnsafeBufferPointer { xb in
                out.withUnsafeMutableBufferPointer { ob in loaded.model.predict(xb.baseAddress!, into: ob.baseAddress!, raw: raw) }
            }
            text += out.map(g17).joined(separator: ",")
            text += "\n"
        }
        FileHandle.standardOutput.write(text.data(using: .utf8)!)
    }
}

struct ModelInfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "info", abstract: "Print a model's kind, features, outputs and id.")
    @Argument(help: "Model file.") var path: String
    func run() throws {
        let loaded: LoadedModel
        do { loaded = try Model.load(path: path) } catch { throw ValidationError("\(error)") }
        print("kind=\(loaded.model.kindName) features=\(loaded.model.numFeatures) outputs=\(loaded.model.numOutputs) id=\(String(loaded.id, radix: 16))")
        print("feature_names=\(loaded.model.featureNames.joined(separator: ","))")
    }
}

struct FeaturesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "features", abstract: "Not built yet (issue 5).", shouldDisplay: false)
    func run() throws { throw ValidationError("'features' is not built yet (issue 5)") }
}

struct StrategyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "strategy", abstract: "Not built yet (issue 5).", shouldDisplay: false)
    func run() throws { throw ValidationError("'strategy' is not built yet (issue 5)") }
}

struct ModelBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "model", abstract: "Not built yet (issue 5).", shouldDisplay: false)
    func run() throws { throw ValidationError("'model' is not built yet (issue 5)") }
}

struct StrategyBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "strategy", abstract: "Not built yet (issue 5).", shouldDisplay: false)
    func run() throws { throw ValidationError("'strategy' is not built yet (issue 5)") }
}
