import CTickBus

/// Keeps what one snapshot cannot know: rates (messages/s since the previous snapshot) and
/// readers that vanished (a killed reader's entry is reclaimed by the producer within ~100 ms;
/// it stays listed as dead for `retainDeadSeconds`). Used by the live `stat` view and `metrics`.
public final class SnapshotTracker: @unchecked Sendable {
    struct RingKey: Hashable {
        var name: String
        var generation: UInt64
    }
    struct ReaderKey: Hashable {
        var ring: String
        var generation: UInt64
        var entry: Int
        var pid: Int32
        var name: String
    }

    public let retainDeadSeconds: Double
    private var lastCursor: [RingKey: (cursor: UInt64, at: UInt64)] = [:]
    private var lastDecisions: [RingKey: (count: UInt64, at: UInt64)] = [:]
    private var dead: [ReaderKey: (status: ReaderStatus, since: UInt64)] = [:]
    private var lastReaders: [ReaderKey: ReaderStatus] = [:]
    private var lastReclaims: [RingKey: UInt64] = [:]
    private let lock = PthreadLock()

    public init(retainDeadSeconds: Double = 300) {
        self.retainDeadSeconds = retainDeadSeconds
    }

    /// Takes a snapshot of `bus` and completes it with rates and retained dead readers.
    public func take(bus: String) -> BusSnapshot {
        update(BusSnapshot.take(bus: bus))
    }

    /// Completes `input` with rates against the previous snapshot of the same ring generation, and
    /// with the readers that vanished since then and are retained as dead. Safe from any thread.
    public func update(_ input: BusSnapshot) -> BusSnapshot {
        lock.withLock { _update(input) }
    }

    /// `update` with `lock` held.
    private func _update(_ input: BusSnapshot) -> BusSnapshot {
        var s = input
        let now = s.takenAtMonotonicNs
        var current: [ReaderKey: ReaderStatus] = [:]
        for i in s.rings.indices {
            let key = RingKey(name: s.rings[i].name, generation: s.rings[i].generation)
            if let prev = lastCursor[key], now > prev.at {
                s.rings[i].messagesPerSecond =
                    Double(s.rings[i].published &- prev.cursor) / (Double(now - prev.at) / 1e9)
            }
            lastCursor[key] = (s.rings[i].published, now)
            for r in s.rings[i].readers {
                current[
                    ReaderKey(ring: r.ring, generation: r.ringGeneration, entry: r.entry, pid: r.pid, name: r.name)
                ] = r
            }
        }
        for i in s.strategies.indices {
            let key = RingKey(name: s.strategies[i].name, generation: s.strategies[i].generation)
            if let prev = lastDecisions[key], now > prev.at {
                s.strategies[i].decisionsPerSecond =
                    Double(s.strategies[i].decisions &- prev.count) / (Double(now - prev.at) / 1e9)
            }
            lastDecisions[key] = (s.strategies[i].decisions, now)
        }
        // A reader seen before and gone now either detached (its process freed the entry) or died
        // and the producer reclaimed its entry (or ungated it): then the ring's reclaim counters
        // moved. Only the dead are kept, shown as dead with their last figures.
        for (key, r) in lastReaders where current[key] == nil && dead[key] == nil {
            let ring = s.rings.first { $0.name == key.ring && $0.generation == key.generation }
            let before = lastReclaims[RingKey(name: key.ring, generation: key.generation)] ?? 0
            let reclaimed = ring.map { $0.readersReclaimed + $0.readersUngated > before } ?? false
            guard !r.alive || (tb_pid_alive(r.pid) == 0 && reclaimed) else { continue }
            var d = r
            d.alive = false
            d.state = "dead"
            dead[key] = (d, now)
        }
        lastReclaims = Dictionary(
            s.rings.map {
                (RingKey(name: $0.name, generation: $0.generation), $0.readersReclaimed + $0.readersUngated)
            },
            uniquingKeysWith: { a, _ in a }
        )
        for key in current.keys { dead[key] = nil }
        lastReaders = current
        dead = dead.filter { Double(now &- $0.value.since) / 1e9 < retainDeadSeconds }
        for (key, d) in dead.sorted(by: { $0.key.entry < $1.key.entry }) {
            if let i = s.rings.firstIndex(where: { $0.name == key.ring }) {
                var r = d.status
                if s.rings[i].generation == key.generation {
                    r.lag = s.rings[i].published > r.position ? s.rings[i].published - r.position : 0
                }
                s.rings[i].readers.append(r)
            }
        }
        return s
    }
}
