import CTickBus
import TickBusCore

/// Everything telemetry knows about a bus at one instant.
public struct BusSnapshot: Sendable, Codable, Equatable {
    public var bus: String
    public var takenAtRealtimeNs: UInt64
    public var takenAtMonotonicNs: UInt64
    public var rings: [RingStatus]
    public var strategies: [StrategyStatus]
    public var processes: [ProcessStatus]
    /// Why the bus directory could not be read (a link, not the caller's, ...); nil when it was,
    /// or when the bus does not exist yet. Absent from the JSON when nil.
    public var error: String?

    /// Reads every segment header, reader table and stats block of a bus. Maps each segment
    /// (without claiming a reader entry) and only loads from it: producers are never slowed.
    public static func take(bus: String) -> BusSnapshot {
        let now = tb_monotonic_ns()
        var rings: [RingStatus] = []
        var names: [String] = []
        var busError: String?
        do { names = try Segment.list(bus: bus) } catch {
            // A bus not created yet is an empty bus; anything else (a planted link, a directory
            // someone else owns) is said, not shown as an empty bus.
            if case .notFound = error {} else { busError = "\(error)" }
        }
        for name in names {
            let path = BusPaths.ring(bus: bus, ring: name)
            do {
                let m = try Segment.attachMapping(path: path, expecting: nil)
                rings.append(ringStatus(m, now: now))
            } catch {
                rings.append(
                    RingStatus(
                        name: name,
                        schema: "?",
                        generation: 0,
                        capacity: 0,
                        slotSize: 0,
                        producerPid: 0,
                        producerState: "invalid",
                        producerAlive: false,
                        published: 0,
                        heartbeatAgeSeconds: 0,
                        gateWaits: 0,
                        readersUngated: 0,
                        readersReclaimed: 0,
                        messagesPerSecond: nil,
                        readers: [],
                        error: "\(error)"
                    )
                )
            }
        }
        var strategies: [StrategyStatus] = []
        for name in StatsBlock.list(bus: bus) {
            guard let m = try? StatsBlock.attach(path: StatsLayout.path(bus: bus, name: name)) else { continue }
            strategies.append(StrategyStatus(StatsBlock.snapshot(m), now: now))
        }
        var snapshot = BusSnapshot(
            bus: bus,
            takenAtRealtimeNs: tb_realtime_ns(),
            takenAtMonotonicNs: now,
            rings: rings,
            strategies: strategies,
            processes: [],
            error: busError
        )
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
                ring: h.name,
                ringGeneration: h.generation,
                entry: r.index,
                name: r.name,
                pid: r.pid,
                gating: r.mode == .gating,
                start: r.start,
                position: r.position,
                lag: cursor > r.position ? cursor - r.position : 0,
                lost: r.lost,
                laps: r.gaps,
                received: r.received,
                heartbeatAgeSeconds: ageSeconds(now: now, then: r.heartbeatNs),
                alive: r.alive,
                state: r.alive ? "live" : "dead"
            )
        }
        return RingStatus(
            name: h.name,
            schema: "\(h.schema)",
            generation: h.generation,
            capacity: h.capacity,
            slotSize: h.slotSize,
            producerPid: h.producerPid,
            producerState: state,
            producerAlive: alive && state == "running",
            published: cursor,
            heartbeatAgeSeconds: ageSeconds(now: now, then: m.producerHeartbeat),
            gateWaits: counters.gateWaits,
            readersUngated: counters.readersUngated,
            readersReclaimed: counters.readersReclaimed,
            messagesPerSecond: nil,
            readers: readers,
            error: nil
        )
    }

    static func processStatuses(_ s: BusSnapshot) -> [ProcessStatus] {
        var roles: [Int32: [String]] = [:]
        for r in s.rings where r.error == nil {
            if r.producerState == "running" { roles[r.producerPid, default: []].append("producer:\(r.name)") }
            for reader in r.readers where reader.alive {
                roles[reader.pid, default: []].append("reader:\(r.name)/\(reader.name)")
            }
        }
        for st in s.strategies where st.alive { roles[st.pid, default: []].append("\(st.kind):\(st.name)") }
        return roles.keys.sorted().compactMap { pid in
            guard let p = ProcStat.read(pid: pid) else { return nil }
            return ProcessStatus(
                pid: pid,
                roles: roles[pid]!.sorted(),
                cpuSeconds: p.cpuSeconds,
                residentBytes: p.residentBytes
            )
        }
    }
}

// MARK: - Shared by the status types

/// Seconds from monotonic `then` to `now` (0 when `then` is later: a heartbeat written after the snapshot began).
func ageSeconds(now: UInt64, then: UInt64) -> Double {
    now > then ? Double(now - then) / 1e9 : 0
}

/// `v` as 16 hex digits, zero-padded (how model ids are shown).
func hex16(_ v: UInt64) -> String {
    let s = String(v, radix: 16)
    return String(repeating: "0", count: max(0, 16 - s.count)) + s
}
