import Feed
import TickBusCore

/// Opens any `SourceSpec`, the journal kind included: the one dispatch from a spec to a concrete
/// source, used by `feed`, `features` and the backtest. Each kind is opened into its own concrete
/// type and handed to the visitor as a generic parameter (no existential in the loop).
public enum MarketSources {
    /// Opens `spec` and runs `visitor` over its source.
    /// - Parameter log: diagnostics from the sources (a MoldUDP64 source's packet counts).
    /// - Throws: `MarketSourceError` with the source's own error.
    ///
    /// Inlinable (as `SourceSpec.openFeedSource` is) so that each caller's visitor is specialised
    /// for each concrete source: no witness-table call per message.
    @inlinable
    public static func open<Visitor: MarketSourceVisitor & ~Copyable>(
        _ spec: SourceSpec, _ visitor: inout Visitor, mold: MoldUDP64Options = MoldUDP64Options(),
        log: (String) -> Void = { _ in }
    ) throws(MarketSourceError) -> Visitor.Result {
        if case .journal(let directory) = spec {
            var source: JournalSource
            do { source = try JournalSource(directory: directory) } catch { throw .journal(error) }
            return visitor.visit(&source)
        }
        do {
            // Every other kind is Feed's; nil only for .journal, handled above.
            guard let result = try spec.openFeedSource(&visitor, mold: mold, log: log) else { preconditionFailure("journal spec") }
            return result
        } catch {
            throw .feed(error)
        }
    }

    /// Publishes `spec` into `producer` through the feed's loop, then closes the ring (readers see
    /// the producer's end after the end-of-session).
    @inlinable
    public static func publish(
        _ spec: SourceSpec, into producer: consuming RingProducer, pace: FeedPace, limit: UInt64 = .max,
        stop: @escaping () -> Bool, mold: MoldUDP64Options = MoldUDP64Options(), log: (String) -> Void = { _ in }
    ) throws(MarketSourceError) -> FeedPublisher.Summary {
        var visitor = PublishVisitor(producer: producer, pace: pace, limit: limit, stop: stop)
        let summary = try open(spec, &visitor, mold: mold, log: log)
        visitor.producer.close()
        return summary
    }
}

/// Why a source spec could not be opened.
public enum MarketSourceError: Error, CustomStringConvertible {
    /// A Feed source refused (file, socket); the spec and the `FeedError` inside.
    case feed(SourceOpenError)
    /// The journal of `journal:DIR` cannot be read as a market ring.
    case journal(JournalSourceError)

    public var description: String {
        switch self {
        case .feed(let e): return "\(e)"
        case .journal(let e): return "\(e)"
        }
    }
}
