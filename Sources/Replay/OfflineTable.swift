import Features
import Feed

/// The offline feature table (`tickbus features`): any source spec, no ring, through the same
/// feature engine as the live strategy, one row per decision point. Online and offline values are
/// equal bit for bit because both run `FeatureEngine.update` over the same slot bytes.
public enum OfflineTable {
    /// Calls `row(sequence, exchangeTime, instrument)` at every decision point of `spec`'s first
    /// `limit` messages; read the values from `engine.values`.
    /// - Returns: what the source read and skipped (`stoppedEarly` when its data ended in a
    ///   truncated tail: the table then lacks whatever followed).
    /// - Throws: `MarketSourceError` when the source cannot be opened.
    @discardableResult
    public static func run(
        _ spec: SourceSpec,
        engine: FeatureEngine,
        limit: UInt64 = .max,
        log: (String) -> Void = { _ in },
        row: @escaping (UInt64, Int64, UInt32) -> Void
    ) throws(MarketSourceError) -> FeedReport {
        var visitor = Visitor(engine: engine, limit: limit, row: row)
        return try MarketSources.open(spec, &visitor, log: log)
    }

    struct Visitor: MarketSourceVisitor, ~Copyable {
        let engine: FeatureEngine
        let limit: UInt64
        let row: (UInt64, Int64, UInt32) -> Void
        let offline = OfflineFeatures()

        mutating func visit<Source: MarketSource & ~Copyable>(_ source: inout Source) -> FeedReport {
            offline.run(next: { source.next() }, engine: engine, limit: limit, row: row)
            return source.report
        }
    }
}
