/// The drift baseline of a model version: per feature (definition order) and for the prediction,
/// a seeded sample of the training table and what the window scores need from it (bins frozen at
/// the sample's deciles, counts, moments, categories). Stored with the version in the registry;
/// read by the monitor (`init(contentsOf:)`), written by `tickbus drift baseline` (`build`, `write`).
public struct DriftBaseline: Sendable, Equatable {
    /// The name of the prediction's column (in the table and here).
    public static let predictionColumn = "prediction"

    /// Features in definition order, then `prediction` when the table had one.
    public var columns: [ColumnBaseline]
    /// sha256 (64 lowercase hex digits) of the feature definition file's bytes — the registry's
    /// name of that object — so a monitor refuses a baseline of another definition.
    public var definitionHash: String
    /// The definition's feature names, in order (the first `featureNames.count` columns).
    public var featureNames: [String]
    /// The subsample's seed and its size limit (rows).
    public var seed: UInt64
    public var maxSample: Int
    /// Rows in the table, and in the sample (min(tableRows, maxSample)).
    public var tableRows: UInt64
    public var sampleRows: UInt64

    public init(
        columns: [ColumnBaseline],
        definitionHash: String,
        featureNames: [String],
        seed: UInt64,
        maxSample: Int,
        tableRows: UInt64,
        sampleRows: UInt64
    ) {
        self.columns = columns
        self.definitionHash = definitionHash
        self.featureNames = featureNames
        self.seed = seed
        self.maxSample = maxSample
        self.tableRows = tableRows
        self.sampleRows = sampleRows
    }

    /// The column of a feature (or "prediction"), nil when there is none.
    public func column(named name: String) -> ColumnBaseline? { columns.first { $0.name == name } }

    /// The prediction's column, when the table had one.
    public var prediction: ColumnBaseline? {
        columns.count > featureNames.count ? columns[featureNames.count] : nil
    }

    /// Refuses a baseline of another feature definition: the names (or their order) differ, or,
    /// with a hash, the definition file's sha256 differs.
    /// - Parameters:
    ///   - baselinePath: named in the error.
    ///   - definitionHash: the definition file's sha256 hex; nil checks the names only.
    public func check(
        featureNames names: [String],
        definitionHash hash: String?,
        baselinePath: String = "baseline"
    ) throws(DriftError) {
        if names != featureNames {
            let same = Set(names) == Set(featureNames)
            var detail = ""
            if same {
                let i = (0..<names.count).first { names[$0] != featureNames[$0] } ?? 0
                detail =
                    "the same names in another order (position \(i): '\(featureNames[i])' in the baseline, "
                    + "'\(names[i])' in use)"
            } else {
                let missing = names.filter { !featureNames.contains($0) }
                let extra = featureNames.filter { !names.contains($0) }
                detail =
                    "features differ (not in the baseline: \(missing.joined(separator: ",")); only in the baseline: "
                    + "\(extra.joined(separator: ",")))"
            }
            throw .definitionMismatch(baseline: baselinePath, message: detail)
        }
        if let hash, hash != definitionHash {
            throw .definitionMismatch(
                baseline: baselinePath,
                message: "definition sha256 \(hash) in use, the baseline was built from \(definitionHash)"
            )
        }
    }
}
