import Feed
import TickBusCore

/// Sources beyond `synthetic` (issue 4 adds itch, itch+moldudp64, lobster; issue 6 adds journal).
/// Returns nil for a kind it does not know.
enum FeedSourcesExtra {
    static func run(kind: String, argument: String, into producer: inout RingProducer, pace: FeedPace, limit: UInt64,
                    stop: () -> Bool) throws -> FeedPublisher.Summary? {
        switch kind {
        case "journal":  // journal:DIR — the market ring of a recorded session
            var source = try JournalSource(directory: argument)
            return FeedPublisher.run(&source, into: &producer, pace: pace, limit: limit, stop: stop)
        default:
            return nil
        }
    }
}
