import ArgumentParser
import CTickBus
import Feed
import Replay
import TickBusCore

#if canImport(Glibc)
import Glibc
#endif

struct FeedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "feed",
        abstract: "Read a market-data source and publish normalised messages into ring `market`."
    )

    @Option(help: "Bus name (a directory under /dev/shm/tickbus).") var bus: String
    @Option(
        help:
            "synthetic:SEED | itch:FILE | itch+moldudp64:ADDR:PORT | tickbus+moldudp64:ADDR:PORT[,request=ADDR:PORT] | lobster:MESSAGES.csv,ORDERBOOK.csv | journal:DIR"
    )
    var source: String
    @Option(help: "Stop after this many messages (end-of-session is sent after them).") var messages: UInt64?
    @Option(help: "Messages per second (default: as fast as the ring takes them).") var rate: Double?
    @Option(help: "Ring capacity in slots (a power of two).") var capacity: Int = 1 << 16
    @Option(help: "Create the segment 0660 for this group id (default 0600, owner only).") var group: UInt32?
    @Option(name: .customLong("wait-readers"), help: "Wait until this many readers are attached before publishing.")
    var waitReaders: Int = 0
    @Option(name: .customLong("wait-timeout"), help: "Seconds to wait for --wait-readers.") var waitTimeout: Double = 30
    @Option(
        name: .customLong("session-timeout"),
        help:
            "itch+moldudp64:, tickbus+moldudp64: seconds of silence of the current MoldUDP64 session before another may take over."
    )
    var sessionTimeout: Double = Double(MoldUDP64Options.defaultSessionTimeoutNs) / 1e9
    @Option(
        help:
            "itch+moldudp64:, tickbus+moldudp64: accept only this MoldUDP64 session (up to 10 characters); others are counted and dropped."
    )
    var session: String?

    func validate() throws {
        _ = try parsedSource()
        _ = try moldOptions()
    }

    func moldOptions() throws -> MoldUDP64Options {
        guard sessionTimeout.isFinite, sessionTimeout > 0, sessionTimeout < 1e9 else {
            throw ValidationError("--session-timeout must be a positive number of seconds, got \(sessionTimeout)")
        }
        let mold = MoldUDP64Options(sessionTimeoutNs: UInt64(sessionTimeout * 1e9), pinnedSession: session)
        do { try mold.validate() } catch { throw ValidationError("--\(error.description)") }
        return mold
    }

    func parsedSource() throws -> SourceSpec {
        do { return try SourceSpec(parsing: source) } catch { throw ValidationError(error.description) }
    }

    func run() throws {
        tb_install_stop_signals()
        let spec = try parsedSource()
        let mold = try moldOptions()
        var producer = try RingProducer(
            bus: bus,
            ring: "market",
            schema: .market,
            slotSize: MarketLayout.slotSize,
            capacity: capacity,
            access: group.map { .group(gid_t($0)) } ?? .owner
        )
        warn(
            "feed: ring market on bus \(bus), generation \(producer.header.generation), capacity \(capacity), pid \(getpid())"
        )
        if waitReaders > 0 {
            switch FeedPublisher.waitForReaders(
                &producer,
                count: waitReaders,
                timeout: waitTimeout,
                stop: stopRequested
            ) {
            case .ready: break
            case .stopped: throw ExitCode(130)
            case .timedOut:
                throw RuntimeFailure("feed: fewer than \(waitReaders) readers attached after \(waitTimeout) s")
            }
        }
        let pace: FeedPace = rate.map { .rate($0) } ?? .max
        let summary: FeedPublisher.Summary
        do {
            summary = try MarketSources.publish(
                spec,
                into: producer,
                pace: pace,
                limit: messages ?? .max,
                stop: stopRequested,
                mold: mold,
                log: warn
            )
        } catch {
            throw sourceFailure(error)
        }
        let rateText = summary.seconds > 0 ? Int(Double(summary.published) / summary.seconds) : 0
        print("published=\(summary.published) seconds=\(String(format3(summary.seconds))) rate=\(rateText)")
        let r = summary.report
        if r.malformedTotal > 0 || r.unknownReferences > 0 {
            print(
                "malformed=\(r.malformedTotal) unknown_references=\(r.unknownReferences) "
                    + r.malformed.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            )
            for s in r.malformedSamples { warn("feed: skipped \(s)") }
        }
        flushOut()
        if r.stoppedEarly {  // a truncated tail: the data after it was never published
            warn("feed: stopped early at a truncated tail; the rest of the input was not read")
            throw ExitCode(1)
        }
    }
}

/// A source that does not open, as `feed` and `features` report it: a journal the reader refuses
/// exits 1 (it was ArgumentParser's plain `Error:`), every other source 64.
func sourceFailure(_ error: MarketSourceError) -> RuntimeFailure {
    if case .journal(.journal) = error { return RuntimeFailure(error, status: ExitStatus.error) }
    return RuntimeFailure(error)
}
