import CTickBus
import Drift
import Journal
import TickBusCore

#if canImport(Glibc)
import Glibc
#endif

/// The monitor's two drivers: a journal directory, or the live rings of a bus. Both hand the
/// monitor every market message up to a decision's market sequence before the decision.
public enum MonitorRun {
    /// What a run read and lost.
    public struct Summary: Sendable {
        public var decisionRecords: UInt64 = 0
        public var marketMessages: UInt64 = 0
        /// Why a journal stopped early (a truncated or corrupt file), if it did.
        public var journalStop: String?
    }

    /// Runs the monitor over `directory`'s `decisions.<strategy>` and `market` journals.
    /// - Throws: `.journal` when the decisions journal cannot be opened, `.schema` when it is
    ///   not a decisions ring, and what `Monitor.record` throws.
    public static func journal(_ directory: String, _ monitor: Monitor) throws(MonitorError) -> Summary {
        let ring = "decisions.\(monitor.options.strategy)"
        let decisions: JournalReader
        do { decisions = try JournalReader(directory: directory, ring: ring) } catch {
            throw .journal(directory: directory, ring: ring, error)
        }
        guard decisions.schema == .decisions else {
            throw .schema(
                source: "journal \(directory), ring \(ring)",
                message: "holds schema \(decisions.schema), not decisions"
            )
        }
        var market: JournalReader?
        do { market = try JournalReader(directory: directory, ring: "market") } catch {
            warnLine("drift: journal \(directory) has no readable ring market (\(error)): every outcome is unknown")
        }
        if let m = market, m.schema != .market {
            throw .schema(source: "journal \(directory), ring market", message: "holds schema \(m.schema), not market")
        }
        var summary = Summary()
        // One market record read ahead of the decisions, copied (the reader's pointer lasts one call).
        let held = UnsafeMutableRawPointer.allocate(byteCount: MarketLayout.slotSize, alignment: 64)
        defer { held.deallocate() }
        var holding = false
        var marketDone = market == nil
        func advance(through s: UInt64?) {
            while !marketDone {
                if !holding {
                    guard let e = market!.next() else {
                        marketDone = true
                        return
                    }
                    switch e {
                    case .record(let p):
                        // Safe: a market journal's records are `slotSize` (64) bytes.
                        held.copyMemory(from: p, byteCount: MarketLayout.slotSize)
                        holding = true
                    case .gap(_, let count):
                        monitor.marketLost(count)
                        continue
                    }
                }
                let seq = held.load(as: UInt64.self)
                if let s, seq > s { return }
                holding = false
                summary.marketMessages += 1
                monitor.market(MarketMessageView(UnsafeRawPointer(held)))
            }
        }
        while let e = decisions.next() {
            switch e {
            case .record(let p):
                summary.decisionRecords += 1
                try monitor.validate(p, count: decisions.slotSize)
                advance(through: p.load(fromByteOffset: RecordHeader.marketSequence, as: UInt64.self))
                try monitor.record(p, count: decisions.slotSize)
            case .gap(_, let count):
                monitor.decisionsLost(count)
            }
        }
        advance(through: nil)
        monitor.finish()
        if let e = decisions.stopError { summary.journalStop = "\(ring): \(e)" }
        if let e = market?.stopError {
            summary.journalStop = (summary.journalStop.map { $0 + "; " } ?? "") + "market: \(e)"
        }
        return summary
    }

    /// Runs the monitor on a bus as a live reader of `decisions.<strategy>` and `market`: the
    /// producers never wait for it; what it loses to laps is counted. Ends when the strategy's
    /// ring is closed (or its producer gone) and read to its end, or when `stop` says so.
    /// - Parameter from: where the decisions start (`.start`: the ring's oldest; `.now`).
    public static func bus(
        _ bus: String,
        _ monitor: Monitor,
        from: StartPosition = .start,
        attachTimeout: Double = 10,
        stop: () -> Bool
    ) throws(MonitorError) -> Summary {
        let ring = "decisions.\(monitor.options.strategy)"
        var decisions: RingReader
        do {
            decisions = try RingReader.attach(
                bus: bus,
                ring: ring,
                name: "drift",
                mode: .live,
                from: from,
                idle: .backoff,
                expecting: .decisions,
                timeout: attachTimeout,
                stop: stop
            )
        } catch { throw .ring(bus: bus, ring: ring, error) }
        var market: RingReader
        do {
            market = try RingReader.attach(
                bus: bus,
                ring: "market",
                name: "drift",
                mode: .live,
                from: .start,
                idle: .backoff,
                expecting: .market,
                timeout: attachTimeout,
                stop: stop
            )
        } catch { throw .ring(bus: bus, ring: "market", error) }
        var summary = Summary()
        var idle = 0
        reading: while !stop() {
            switch decisions.poll() {
            case .message(let slot):
                idle = 0
                summary.decisionRecords += 1
                try monitor.validate(slot.base, count: slot.count)
                let s = slot.base.load(fromByteOffset: RecordHeader.marketSequence, as: UInt64.self)
                advance(&market, through: s, monitor, &summary, stop: stop)
                try monitor.record(slot.base, count: slot.count)
            case .gap(_, let count):
                monitor.decisionsLost(count)
            case .empty:
                idle += 1
                if idle % 256 == 0 {
                    decisions.heartbeat()
                    market.heartbeat()
                    if decisions.producerStatus() != .running, decisions.caughtUp { break reading }
                }
                usleep(idle < 64 ? 50 : 500)
            }
        }
        // What the market holds now settles the outcomes it can.
        drain(&market, monitor, &summary)
        monitor.finish()
        return summary
    }

    /// Reads `market` through sequence `s`: the strategy read it before deciding, so it is
    /// published; a lap is counted and skipped.
    static func advance(
        _ market: inout RingReader,
        through s: UInt64,
        _ monitor: Monitor,
        _ summary: inout Summary,
        stop: () -> Bool
    ) {
        var idle = 0
        while market.nextSequence <= s {
            switch market.poll() {
            case .message(let slot):
                summary.marketMessages += 1
                monitor.market(slot.market)
            case .gap(_, let count): monitor.marketLost(count)
            case .empty:
                idle += 1
                if idle % 1024 == 0, market.producerStatus() != .running || stop() { return }
                usleep(20)
            }
        }
    }

    static func drain(_ market: inout RingReader, _ monitor: Monitor, _ summary: inout Summary) {
        while true {
            switch market.poll() {
            case .message(let slot):
                summary.marketMessages += 1
                monitor.market(slot.market)
            case .gap(_, let count): monitor.marketLost(count)
            case .empty: return
            }
        }
    }

    static func warnLine(_ s: String) {
        let line = s + "\n"
        _ = line.utf8CString.withUnsafeBufferPointer { write(2, $0.baseAddress, $0.count - 1) }
    }
}
