import CTickBus
import TickBusCore
#if canImport(Glibc)
import Glibc
#endif

extension FeedPublisher {
    /// How a wait for readers ended.
    public enum ReaderWait: Sendable, Equatable {
        case ready
        /// A stop was requested (SIGINT/SIGTERM).
        case stopped
        /// Fewer than the readers wanted were attached at the deadline.
        case timedOut
    }

    /// Waits (keeping the producer's heartbeat fresh) until `count` readers are attached — only
    /// gating ones when `gatingOnly` — before a feed or a replay publishes its first message, so a
    /// reader started beside it sees the whole session.
    /// - Parameters:
    ///   - timeout: seconds before giving up.
    ///   - stop: polled every millisecond.
    public static func waitForReaders(_ producer: inout RingProducer, count: Int, gatingOnly: Bool = false, timeout: Double,
                                      stop: () -> Bool) -> ReaderWait {
        let deadline = tb_monotonic_ns() + UInt64(max(0, timeout) * 1e9)
        while ReaderTable.snapshot(producer.mapping).filter({ !gatingOnly || $0.mode == .gating }).count < count {
            if stop() { return .stopped }
            if tb_monotonic_ns() > deadline { return .timedOut }
            producer.heartbeat()
            usleep(1000)
        }
        return .ready
    }
}
