import ArgumentParser
import Drift

/// `tickbus drift baseline`: the drift baseline of a training table (Docs/DRIFT.md, "Baseline file").
struct DriftBaselineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "baseline",
        abstract: "Build a drift baseline (bins, counts, moments, categories, a seeded sample) from a feature table."
    )

    @Option(help: "The offline feature table (tickbus features --out), with a 'prediction' column when present.")
    var table: String
    @Option(help: "The feature definition the table was computed with (its sha256 is recorded).") var features: String
    @Option(help: "Output baseline file (.tbbaseline).") var out: String
    @Option(help: "Rows in the sample at most; a larger table is subsampled uniformly.") var maxSample: Int =
        DriftBaseline.defaultMaxSample
    @Option(help: "Seed of the subsample.") var seed: UInt64 = 0

    func validate() throws {
        guard maxSample >= 1 else { throw ValidationError("--max-sample must be at least 1") }
    }

    func run() throws {
        let baseline: DriftBaseline
        do {
            baseline = try DriftBaseline.build(
                table: table,
                features: features,
                maxSample: maxSample,
                seed: seed,
                progress: { warn("drift baseline: \($0) rows read") }
            )
            try baseline.write(to: out)
        } catch {
            throw RuntimeFailure(error)
        }
        print(
            "drift baseline: columns=\(baseline.columns.count) features=\(baseline.featureNames.count) "
                + "prediction=\(baseline.prediction != nil) table_rows=\(baseline.tableRows) "
                + "sample_rows=\(baseline.sampleRows) seed=\(baseline.seed) definition=\(baseline.definitionHash) "
                + "out=\(out)"
        )
    }
}
