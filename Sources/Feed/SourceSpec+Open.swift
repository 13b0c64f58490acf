import TickBusCore

/// What to do with an opened source: publish it into a ring, compute the offline feature table,
/// drive a backtest. The source is handed over as a generic parameter, never as an existential,
/// so each source's `next` is specialised into the visitor's loop.
public protocol MarketSourceVisitor: ~Copyable {
    associatedtype Result
    /// Runs over `source`; called once per open.
    mutating func visit<Source: MarketSource & ~Copyable>(_ source: inout Source) -> Result
}

/// Publishes a source into a ring through `FeedPublisher.run`: the feed's loop.
public struct PublishVisitor: MarketSourceVisitor, ~Copyable {
    public var producer: RingProducer
    public let pace: FeedPace
    public let limit: UInt64
    public let stop: () -> Bool

    /// - Parameters:
    ///   - producer: the ring to publish into; take it back with `producer` after the visit.
    ///   - limit: messages to publish before end-of-session.
    ///   - stop: polled every 4,096 messages.
    public init(producer: consuming RingProducer, pace: FeedPace, limit: UInt64 = .max, stop: @escaping () -> Bool) {
        self.producer = producer
        self.pace = pace
        self.limit = limit
        self.stop = stop
    }

    @inlinable
    public mutating func visit<Source: MarketSource & ~Copyable>(_ source: inout Source) -> FeedPublisher.Summary {
        FeedPublisher.run(&source, into: &producer, pace: pace, limit: limit, stop: stop)
    }
}

extension SourceSpec {
    /// Opens the sources this module holds (every kind but `journal`, whose source lives in
    /// `Replay`: open specs through `MarketSources.open` there) and hands it to `visitor`.
    /// - Parameters:
    ///   - mold: session handling of an `itch+moldudp64:` source.
    ///   - log: diagnostics (a MoldUDP64 source's packet counts at its end).
    /// - Returns: the visitor's result; nil for `.journal`.
    /// - Throws: `SourceOpenError` with the source's own error when it cannot be opened.
    ///
    /// Inlinable, with the visitor's `visit`, so that the caller specialises the whole chain for
    /// its visitor and each source: the publish loop calls `next` directly, not through a witness table.
    @inlinable
    public func openFeedSource<Visitor: MarketSourceVisitor & ~Copyable>(
        _ visitor: inout Visitor,
        mold: MoldUDP64Options = MoldUDP64Options(),
        log: (String) -> Void = { _ in }
    ) throws(SourceOpenError) -> Visitor.Result? {
        do {
            switch self {
            case .synthetic(let seed):
                var source = SyntheticSource(seed: seed)
                return visitor.visit(&source)
            case .itch(let path):
                var source = try ITCHSource(path: path)
                return visitor.visit(&source)
            case .itchMoldUDP64(let group):
                // The source owns its socket and buffers; its deinit releases them.
                var source = try MoldUDP64Source(group: group, options: mold)
                let result = visitor.visit(&source)
                log(
                    "moldudp64: packets=\(source.packets) gaps=\(source.gaps) requests=\(source.requests) messages=\(source.report.messagesIn) "
                        + "other_session=\(source.otherSessionPackets) session_changes=\(source.sessionChanges)"
                )
                return result
            case .tickbusMoldUDP64(let endpoint):
                var source = try TickBusMoldUDP64Source(endpoint, options: mold)
                let result = visitor.visit(&source)
                log(source.counts.line(malformed: source.report.malformedTotal))
                for sample in source.report.malformedSamples { log("tickbus+moldudp64: malformed \(sample)") }
                return result
            case .lobster(let messages, let orderbook):
                var source = try LOBSTERSource(
                    messages: messages,
                    orderbook: orderbook,
                    levels: try LOBSTERSource.levels(orderbook: orderbook)
                )
                return visitor.visit(&source)
            case .journal:
                return nil
            }
        } catch {
            throw SourceOpenError(spec: self, cause: error)
        }
    }
}
