import ArgumentParser
import Feed
import TickBusCore

/// Sources beyond `synthetic` (issue 4 adds itch, itch+moldudp64, lobster; issue 6 adds journal).
/// Returns nil for a kind it does not know.
enum FeedSourcesExtra {
    static func run(kind: String, argument: String, into producer: inout RingProducer, pace: FeedPace, limit: UInt64,
                    stop: () -> Bool, mold: MoldUDP64Options = MoldUDP64Options()) throws -> FeedPublisher.Summary? {
        switch kind {
        case "journal":  // journal:DIR — the market ring of a recorded session
            var source = try JournalSource(directory: argument)
            return FeedPublisher.run(&source, into: &producer, pace: pace, limit: limit, stop: stop)
        case "itch":  // itch:FILE — ITCH 5.0 BinaryFILE, plain or gzip
            var source: ITCHSource
            do { source = try ITCHSource(path: argument) } catch { throw ValidationError("--source itch:\(argument): \(error)") }
            return FeedPublisher.run(&source, into: &producer, pace: pace, limit: limit, stop: stop)
        case "itch+moldudp64":  // itch+moldudp64:ADDR:PORT — requests go to PORT+1
            // The source owns its socket and buffers; they are released when it goes out of scope.
            var source: MoldUDP64Source
            do { source = try MoldUDP64Source(group: argument, options: mold) } catch { throw ValidationError("--source itch+moldudp64:\(argument): \(error)") }
            let summary = FeedPublisher.run(&source, into: &producer, pace: pace, limit: limit, stop: stop)
            printError("moldudp64: packets=\(source.packets) gaps=\(source.gaps) requests=\(source.requests) messages=\(source.report.messagesIn) "
                       + "other_session=\(source.otherSessionPackets) session_changes=\(source.sessionChanges)")
            return summary
        case "lobster":  // lobster:MESSAGES.csv,ORDERBOOK.csv — levels from the order-book file's column count
            let parts = argument.split(separator: ",", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw ValidationError("--source lobster:MESSAGES.csv,ORDERBOOK.csv, got '\(argument)'") }
            var source: LOBSTERSource
            do {
                source = try LOBSTERSource(messages: parts[0], orderbook: parts[1], levels: try LOBSTERSource.levels(orderbook: parts[1]))
            } catch { throw ValidationError("--source lobster:\(argument): \(error)") }
            return FeedPublisher.run(&source, into: &producer, pace: pace, limit: limit, stop: stop)
        default:
            return nil
        }
    }
}
