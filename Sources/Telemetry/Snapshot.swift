import CTickBus
import TickBusCore
#if canImport(Glibc)
import Glibc
#endif

/// One reader-table entry as telemetry shows it.
public struct ReaderStatus: Sendable, Codable, Equatable {
    public var ring: String
    /// Generation of the ring this reader is attached to.
    public var ringGeneration: UInt64
    public var entry: Int
    public var name: String
    public var pid: Int32
    public var gating: Bool
    public var start: UInt64
    public var position: UInt64
    /// Messages published but not read yet: cursor - position.
    public var lag: UInt64
    /// Messages lost to laps.
    public var lost: UInt64
    /// Laps (gap reports).
    public var laps: UInt64
    /// Messages read: position - start - lost.
    public var received: UInt64
    public var heartbeatAgeSeconds: Double
    /// The reader's process exists and its entry is still active.
    public var alive: Bool
    /// "live", or "dead" (process gone, or entry reclaimed since an earlier snapshot).
    public var state: String
}

/// One ring (segment) as telemetry shows it.
public struct RingStatus: Sendable, Codable, Equatable {
    public var name: String
    public var schema: String
    public var generation: UInt64
    public var capacity: Int
    public var slotSize: Int
    public var producerPid: Int32
    /// running, closed or dead (state says running but the pid is gone).
    public var producerState: String
    public var producerAlive: Bool
    /// The cursor: messages published in this generation (sequence of the next one).
    public var published: UInt64
    public var heartbeatAgeSeconds: Double
    public var gateWaits: UInt64
    public var readersUngated: UInt64
    public var readersReclaimed: UInt64
    /// Messages per second since the previous snapshot of the same generation (nil on the first).
    public var messagesPerSecond: Double?
    public var readers: [ReaderStatus]
    /// Set when the file could not be read as a segment.
    public var error: String?
}

/// Latency summary of a histogram (nanoseconds).
public struct LatencySummary: Sendable, Codable, Equatable {
    public var count: UInt64
    public var sumNs: UInt64
    public var minNs: UInt64
    public var maxNs: UInt64
    public var p50Ns: UInt64
    public var p99Ns: UInt64
    public var p999Ns: UInt64

    public init(_ h: LatencyHistogram) {
        count = h.count
        sumNs = h.sumNs
        minNs = h.minNs
        maxNs = h.maxNs
        p50Ns = h.percentile(50)
        p99Ns = h.percentile(99)
        p999Ns = h.percentile(99.9)
    }
}

/// One stats block (a strategy or another process that writes counters) as telemetry shows it.
public struct StrategyStatus: Sendable, Codable, Equatable {
    public var name: String
    public var kind: String
    public var pid: Int32
    public var generation: UInt64
    /// running, closed or dead.
    public var state: String
    public var alive: Bool
    /// Model ids as 16 hex digits (the registry's content address prefix).
    public var modelId: String
    public var shadowModelId: String
    public var messages: UInt64
    public var decisions: UInt64
    public var signals: UInt64
    public var disagreements: UInt64
    public var shadowDecisions: UInt64
    public var gaps: UInt64
    public var lost: UInt64
    public var heartbeatAgeSeconds: Double
    public var decisionsPerSecond: Double?
    /// Tick-to-decision latency.
    public var latency: LatencySummary
    /// The full histogram, for `/metrics` (not in the JSON).
    public var histogram: LatencyHistogram

    enum CodingKeys: String, CodingKey {
        case name, kind, pid, generation, state, alive, modelId, shadowModelId, messages, decisions, signals
        case disagreements, shadowDecisions, gaps, lost, heartbeatAgeSeconds, decisionsPerSecond, latency
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        kind = try c.decode(String.self, forKey: .kind)
        pid = try c.decode(Int32.self, forKey: .pid)
        generation = try c.decode(UInt64.self, forKey: .generation)
        state = try c.decode(String.self, forKey: .state)
        alive = try c.decode(Bool.self, forKey: .alive)
        modelId = try c.decode(String.self, forKey: .modelId)
        shadowModelId = try c.decode(String.self, forKey: .shadowModelId)
        messages = try c.decode(UInt64.self, forKey: .messages)
        decisions = try c.decode(UInt64.self, forKey: .decisions)
        signals = try c.decode(UInt64.self, forKey: .signals)
        disagreements = try c.decode(UInt64.self, forKey: .disagreements)
        shadowDecisions = try c.decode(UInt64.self, forKey: .shadowDecisions)
        gaps = try c.decode(UInt64.self, forKey: .gaps)
        lost = try c.decode(UInt64.self, forKey: .lost)
        heartbeatAgeSeconds = try c.decode(Double.self, forKey: .heartbeatAgeSeconds)
        decisionsPerSecond = try c.decodeIfPresent(Double.self, forKey: .decisionsPerSecond)
        latency = try c.decode(LatencySummary.self, forKey: .latency)
        histogram = .empty
    }

    init(_ s: StatsSnapshot, now: UInt64) {
        name = s.name
        kind = "\(s.kind)"
        pid = s.pid
        generation = s.generation
        switch s.state {
        case .closed: state = "closed"
        case .running, .initializing: state = s.alive ? "running" : "dead"
        }
        alive = s.alive && s.state != .closed
        modelId = hex16(s.modelId)
        shadowModelId = hex16(s.shadowModelId)
        messages = s.counter(.messages)
        decisions = s.counter(.decisions)
        signals = s.counter(.signals)
        disagreements = s.counter(.disagreements)
        shadowDecisions = s.counter(.shadowDecisions)
        gaps = s.counter(.gaps)
        lost = s.counter(.lost)
        heartbeatAgeSeconds = ageSeconds(now: now, then: s.heartbeatNs)
        decisionsPerSecond = nil
        latency = LatencySummary(s.latency)
        histogram = s.latency
    }
}

/// CPU time and resident memory of a process on the bus, from /proc/PID/stat.
public struct ProcessStatus: Sendable, Codable, Equatable {
    public var pid: Int32
    /// What the process does on this bus: `producer:market`, `reader:market/tap-1`, `strategy:alpha`.
    public var roles: [String]
    public var cpuSeconds: Double
    public var residentBytes: UInt64
}

/// Everything telemetry knows about a bus at one instant.
public struct BusSnapshot: Sendable, Codable, Equatable {
    public var bus: String
    public var takenAtRealtimeNs: UInt64
    public var takenAtMonotonicNs: UInt64
    public var rings: [RingStatus]
    public var strategies: [StrategyStatus]
    public var processes: [ProcessStatus]

    /// Reads every segment header, reader table and stats block of a bus. Maps each segment
    /// (without claiming a reader entry) and only loads from it: producers are never slowed.
    public static func take(bus: String) -> BusSnapshot {
        let now = tb_monotonic_ns()
        var rings: [RingStatus] = []
        let names = (try? Segment.list(bus: bus)) ?? []
        for name in names {
            let path = BusPaths.ring(bus: bus, ring: name)
            do {
                let m = try Segment.attachMapping(path: path, expecting: nil)
                rings.append(ringStatus(m, now: now))
            } catch {
                rings.append(RingStatus(
                    name: name, schema: "?", generation: 0, capacity: 0, slotSize: 0, producerPid: 0, producerState: "invalid",
                    producerAlive: false, published: 0, heartbeatAgeSeconds: 0, gateWaits: 0, readersUngated: 0,
                    readersReclaimed: 0, messagesPerSecond: nil, readers: [], error: "\(error)"))
            }
        }
        var strategies: [StrategyStatus] = []
        for name in StatsBlock.list(bus: bus) {
            guard let m = try? StatsBlock.attach(path: StatsLayout.path(bus: bus, name: name)) else { continue }
            strategies.append(StrategyStatus(StatsBlock.snapshot(m), now: now))
        }
        var snapshot = BusSnapshot(
            bus: bus, takenAtRealtimeNs: tb_realtime_ns(), takenAtMonotonicNs: now, rings: rings,
            strategies: strategies, processes: [])
        snapshot.processes = processStatuses(snapshot)
        return snapshot
    }

    static func ringStatus(_ m: _SegmentMapping, now: UInt64) -> RingStatus {
        let h = m.header
        let cursor = m.cursor
        let alive = tb_pid_alive(h.producerPid) != 0
        let state: String
        switch m.producerState {
        case .closed: state = "closed"
        case .running, .initializing: state = alive ? "running" : "dead"
        }
        let counters = ProducerCounters(m)
        let readers = ReaderTable.snapshot(m).map { r in
            ReaderStatus(
                ring: h.name, ringGeneration: h.generation, entry: r.index, name: r.name, pid: r.pid,
                gating: r.mode == .gating, start: r.start, position: r.position,
                lag: cursor > r.position ? cursor - r.position : 0, lost: r.lost, laps: r.gaps, received: r.received,
                heartbeatAgeSeconds: ageSeconds(now: now, then: r.heartbeatNs), alive: r.alive,
                state: r.alive ? "live" : "dead")
        }
        return RingStatus(
            name: h.name, schema: "\(h.schema)", generation: h.generation, capacity: h.capacity, slotSize: h.slotSize,
            producerPid: h.producerPid, producerState: state, producerAlive: alive && state == "running",
            published: cursor, heartbeatAgeSeconds: ageSeconds(now: now, then: m.producerHeartbeat),
            gateWaits: counters.gateWaits, readersUngated: counters.readersUngated,
            readersReclaimed: counters.readersReclaimed, messagesPerSecond: nil, readers: readers, error: nil)
    }

    static func processStatuses(_ s: BusSnapshot) -> [ProcessStatus] {
        var roles: [Int32: [String]] = [:]
        for r in s.rings where r.error == nil {
            if r.producerState == "running" { roles[r.producerPid, default: []].append("producer:\(r.name)") }
            for reader in r.readers where reader.alive { roles[reader.pid, default: []].append("reader:\(r.name)/\(reader.name)") }
        }
        for st in s.strategies where st.alive { roles[st.pid, default: []].append("\(st.kind):\(st.name)") }
        return roles.keys.sorted().compactMap { pid in
            guard let p = ProcStat.read(pid: pid) else { return nil }
            return ProcessStatus(pid: pid, roles: roles[pid]!.sorted(), cpuSeconds: p.cpuSeconds, residentBytes: p.residentBytes)
        }
    }
}

func ageSeconds(now: UInt64, then: UInt64) -> Double {
    now > then ? Double(now - then) / 1e9 : 0
}

func hex16(_ v: UInt64) -> String {
    let s = String(v, radix: 16)
    return String(repeating: "0", count: max(0, 16 - s.count)) + s
}

/// CPU time and resident set size from /proc/PID/stat (fields 14, 15 and 24).
public enum ProcStat {
    public struct Reading: Sendable, Equatable {
        public var cpuSeconds: Double
        public var residentBytes: UInt64
    }

    static let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))
    static let pageSize = UInt64(sysconf(Int32(_SC_PAGESIZE)))

    public static func read(pid: Int32) -> Reading? {
        let fd = open("/proc/\(pid)/stat", O_RDONLY | O_CLOEXEC)
        if fd < 0 { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        guard n > 0 else { return nil }
        return parse(String(decoding: buffer[0..<n], as: UTF8.self))
    }

    /// Parses the text of /proc/PID/stat. The command name (field 2) may hold spaces and
    /// parentheses, so fields are counted after the last ')'.
    public static func parse(_ text: String) -> Reading? {
        guard let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // fields[0] is field 3 (state): field k is fields[k - 3].
        guard fields.count > 21, let utime = UInt64(fields[11]), let stime = UInt64(fields[12]),
            let rss = Int64(fields[21])
        else { return nil }
        return Reading(cpuSeconds: Double(utime + stime) / ticksPerSecond, residentBytes: UInt64(max(0, rss)) * pageSize)
    }
}

/// Keeps what one snapshot cannot know: rates (messages/s since the previous snapshot) and
/// readers that vanished (a killed reader's entry is reclaimed by the producer within ~100 ms;
/// it stays listed as dead for `retainDeadSeconds`). Used by the live `stat` view and `metrics`.
public final class SnapshotTracker: @unchecked Sendable {
    struct RingKey: Hashable { var name: String; var generation: UInt64 }
    struct ReaderKey: Hashable { var ring: String; var generation: UInt64; var entry: Int; var pid: Int32; var name: String }

    public let retainDeadSeconds: Double
    private var lastCursor: [RingKey: (cursor: UInt64, at: UInt64)] = [:]
    private var lastDecisions: [RingKey: (count: UInt64, at: UInt64)] = [:]
    private var dead: [ReaderKey: (status: ReaderStatus, since: UInt64)] = [:]
    private var lastReaders: [ReaderKey: ReaderStatus] = [:]
    private var lastReclaims: [RingKey: UInt64] = [:]
    private let lock = NSLockLike()

    public init(retainDeadSeconds: Double = 300) {
        self.retainDeadSeconds = retainDeadSeconds
    }

    /// Takes a snapshot of `bus` and completes it with rates and retained dead readers.
    public func take(bus: String) -> BusSnapshot {
        update(BusSnapshot.take(bus: bus))
    }

    public func update(_ input: BusSnapshot) -> BusSnapshot {
        lock.lock()
        defer { lock.unlock() }
        var s = input
        let now = s.takenAtMonotonicNs
        var current: [ReaderKey: ReaderStatus] = [:]
        for i in s.rings.indices {
            let key = RingKey(name: s.rings[i].name, generation: s.rings[i].generation)
            if let prev = lastCursor[key], now > prev.at {
                s.rings[i].messagesPerSecond = Double(s.rings[i].published &- prev.cursor) / (Double(now - prev.at) / 1e9)
            }
            lastCursor[key] = (s.rings[i].published, now)
            for r in s.rings[i].readers {
                current[ReaderKey(ring: r.ring, generation: r.ringGeneration, entry: r.entry, pid: r.pid, name: r.name)] = r
            }
        }
        for i in s.strategies.indices {
            let key = RingKey(name: s.strategies[i].name, generation: s.strategies[i].generation)
            if let prev = lastDecisions[key], now > prev.at {
                s.strategies[i].decisionsPerSecond = Double(s.strategies[i].decisions &- prev.count) / (Double(now - prev.at) / 1e9)
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
        lastReclaims = Dictionary(s.rings.map { (RingKey(name: $0.name, generation: $0.generation), $0.readersReclaimed + $0.readersUngated) }, uniquingKeysWith: { a, _ in a })
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

/// A pthread mutex (Foundation-free, so this file compiles without it).
final class NSLockLike: @unchecked Sendable {
    private var m = pthread_mutex_t()
    init() { pthread_mutex_init(&m, nil) }
    deinit { pthread_mutex_destroy(&m) }
    func lock() { pthread_mutex_lock(&m) }
    func unlock() { pthread_mutex_unlock(&m) }
}
