import CTickBus

#if canImport(Glibc)
import Glibc
#endif

/// What a reader does when there is nothing to read, chosen at attach. On a machine with few
/// cores, more spinning threads than cores turn nanoseconds into scheduler quanta: tests and
/// background readers use `.backoff`.
public enum IdleStrategy: Sendable, Equatable {
    /// Spin with a pause instruction: for a strategy pinned to an isolated core.
    case busySpin
    /// Spin a while, then `sched_yield`.
    case spinThenYield
    /// Spin, yield, then sleep with exponential back-off from 1 µs up to `maxSleepMicros`.
    case backoff

    public var code: UInt32 {
        switch self {
        case .busySpin: return 1
        case .spinThenYield: return 2
        case .backoff: return 3
        }
    }

    public init?(name: String) {
        switch name {
        case "spin", "busy-spin": self = .busySpin
        case "yield", "spin-then-yield": self = .spinThenYield
        case "backoff", "sleep": self = .backoff
        default: return nil
        }
    }
}

/// The state of one reader's idling: how long it has been idle.
public struct Idler {
    public let strategy: IdleStrategy
    public var idleRounds: UInt32 = 0
    public let maxSleepMicros: UInt32

    public init(_ strategy: IdleStrategy, maxSleepMicros: UInt32 = 1000) {
        self.strategy = strategy
        self.maxSleepMicros = maxSleepMicros
    }

    /// Called after a poll found nothing.
    @inlinable public mutating func idle() {
        idleRounds &+= 1
        switch strategy {
        case .busySpin:
            tb_cpu_relax()
        case .spinThenYield:
            if idleRounds < 1000 { tb_cpu_relax() } else { sched_yield() }
        case .backoff:
            if idleRounds < 100 {
                tb_cpu_relax()
            } else if idleRounds < 110 {
                sched_yield()
            } else {
                let shift = Swift.min(idleRounds - 110, 10)
                let micros = Swift.min(UInt32(1) << shift, maxSleepMicros)
                usleep(micros)
            }
        }
    }

    /// Called after a poll found a message.
    @inlinable public mutating func reset() { idleRounds = 0 }
}
