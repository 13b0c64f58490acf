import ArgumentParser
import Foundation
import Models
import Strategy

struct ModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model", abstract: "Inspect and evaluate model files.", subcommands: [ModelPredictCommand.self, ModelInfoCommand.self])
}

/// Loads a model file; a file that does not load is a runtime failure (exit 64, no usage banner).
func loadModel(_ path: String) throws -> LoadedModel {
    do { return try Model.load(path: path) } catch { throw RuntimeFailure(error) }
}

struct ModelPredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Predict every row of a CSV: one line per row, 17 significant digits, classes comma-separated.")

    @Option(help: "LightGBM text, XGBoost JSON, linear JSON or ONNX model (detected from the content).") var model: String
    @Flag(help: "Raw scores (margins) instead of the library's default predict output.") var raw = false
    @Option(help: "CSV with a header row of feature names; an empty field or 'nan' is missing.") var input: String

    func run() throws {
        let loaded = try loadModel(model)
        let rows: [[Double]]
        do { rows = try FeatureCSV.read(input).predictions(loaded.model, raw: raw) } catch { throw RuntimeFailure(error) }
        var text = ""
        text.reserveCapacity(rows.count * 24 * max(loaded.model.numOutputs, 1))
        for out in rows {
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
        let loaded = try loadModel(path)
        print("kind=\(loaded.model.kindName) features=\(loaded.model.numFeatures) outputs=\(loaded.model.numOutputs) id=\(String(loaded.id, radix: 16))")
        print("feature_names=\(loaded.model.featureNames.joined(separator: ","))")
    }
}
