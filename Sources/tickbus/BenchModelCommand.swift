import ArgumentParser
import Bench
import Models

/// `tickbus bench model`: single-row LightGBM evaluation against LightGBM's C API, same run (see `ModelBench`).
struct ModelBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract:
            "Single-row LightGBM evaluation (the 500-tree bench model, or --model/--rows) against LightGBM's C API, same run."
    )

    @Option(help: "Directory of the bench model (trained there by Tools/make_bench_model.py when absent).") var dir:
        String = "/tmp/tickbus-bench"
    @Option(name: .customLong("train-script"), help: "Script that trains the bench model (default: the repository's).")
    var trainScript: String = "Tools/make_bench_model.py"
    @Option(help: "A LightGBM text model to benchmark instead of the bench model (with --rows).") var model: String?
    @Option(help: "Rows for --model: float64, little-endian, row-major, the model's feature count per row.") var rows:
        String?
    @Option(help: "lib_lightgbm.so (default: the lightgbm wheel's).") var lib: String?
    @Option(help: "Rounds (baseline and ours alternate every round).") var rounds: Int = 21
    @Option(help: "Calls per round, each on a different row.") var calls: Int = 4000
    @Flag(help: "Print one JSON object.") var json = false
    @Option(name: .customLong("evaluator"), help: "walk (16-wide binned walk) | quickscorer") var evaluator: String =
        "walk"
    @Option(help: "Trees walked together: 8 or 16.") var width: Int = 8
    @Option(name: .customLong("fixed-steps"), help: "Branch-free steps of the walk before per-tree finishing.")
    var fixedSteps: Int?

    func run() throws {
        var o = ModelBench.Options()
        o.dir = dir
        o.trainScript = trainScript
        o.modelPath = model
        o.rowsPath = rows
        o.lib = lib
        o.rounds = rounds
        o.calls = calls
        o.lightgbm = LightGBMOptions(
            width: width,
            fixedSteps: fixedSteps ?? LightGBMOptions.default.fixedSteps,
            quickScorer: evaluator == "quickscorer"
        )
        let outcome = try runBenchmark { () throws(BenchError) in try ModelBench.run(o) }
        printBench(outcome.report, text: outcome.text, json: json)
    }
}
