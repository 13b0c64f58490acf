import CTickBus
import Foundation
import TestSupport
import Testing

@testable import TickBusCore

/// The reader as a plain model: where it is and what it was told it lost.
struct ReaderModel {
    var position: UInt64
    var delivered: UInt64 = 0
    var lost: UInt64 = 0
    var gaps: UInt64 = 0
    let start: UInt64
    let gating: Bool
}

/// Random operation sequences on one ring against a plain model: bursts of publishes of every
/// size (wrap-around at every slot), polls by several live readers that fall behind by up to
/// several laps, and a gating reader the model never lets the producer overrun.
@Suite("Ring properties", .serialized)
struct RingPropertyTests {
    /// Checks one poll against the model; the contract (Docs/ARCHITECTURE: "the ring contract"):
    /// a message is the next sequence with its own payload; a lap reports exactly where the loss
    /// starts and at least `cursor - capacity - position` lost, never past the cursor; nothing is
    /// returned twice or skipped silently.
    static func check(
        _ r: PollResult,
        _ m: inout ReaderModel,
        cursor c: UInt64,
        capacity: UInt64,
        slotSize: Int,
        _ context: @autoclosure () -> String
    ) {
        switch r {
        case .empty:
            #expect(m.position >= c, "empty with \(c - m.position) unread; \(context())")
        case .message(let b):
            #expect(c - m.position <= capacity, "message \(b.sequence) from a slot already overwritten; \(context())")
            #expect(checkAll(b, m.position), "expected intact message \(m.position), got \(b.sequence); \(context())")
            m.position += 1
            m.delivered += 1
        case .gap(let from, let count):
            #expect(!m.gating, "a gating reader was lapped at \(from); \(context())")
            #expect(from == m.position, "gap from \(from), reader at \(m.position); \(context())")
            #expect(c - m.position > capacity, "gap while the slot still held \(m.position); \(context())")
            #expect(count >= 1 && count >= c - capacity - m.position, "gap of \(count) at cursor \(c); \(context())")
            #expect(from + count <= c, "gap runs past the cursor \(c): \(from)+\(count); \(context())")
            m.position = from + count
            m.lost += count
            m.gaps += 1
        }
    }

    @Test("random bursts and polls: every sequence delivered intact or counted lost exactly once", arguments: 1...24)
    func randomSequences(seed: Int) throws {
        var rng = SplitMix64(seed: UInt64(seed))
        let capacity = 1 << (1 + rng.below(6))  // 2 ... 64
        let slotSize = [64, 128, 256][rng.below(3)]
        let bus = testBus("prop\(seed)")
        defer { removeBus(bus) }
        var producer = try RingProducer(bus: bus, ring: "r", schema: .market, slotSize: slotSize, capacity: capacity)
        let cap = UInt64(capacity)
        let slack = cap / 16
        // Pre-publish some, so readers starting `.now` or at a sequence start mid-ring.
        for _ in 0..<rng.below(3 * capacity) { _ = producer.publish(fillAll(producer.published, slotSize: slotSize)) }
        var readers: [ReaderBox] = []
        var models: [ReaderModel] = []
        for k in 0..<3 {
            let c = producer.published
            let start: StartPosition =
                k == 0 ? .start : k == 1 ? .now : .sequence(c - UInt64(rng.below(Int(min(c, cap)) + 1)))
            let first: UInt64
            switch start {
            case .start: first = 0
            case .now: first = c
            case .sequence(let s): first = s
            }
            readers.append(ReaderBox(try RingReader(bus: bus, ring: "r", name: "live\(k)", mode: .live, from: start)))
            models.append(ReaderModel(position: first, start: first, gating: false))
        }
        // A gating reader starting at the cursor (a gating reader that starts a lap behind has lost already).
        var gate = try RingReader(bus: bus, ring: "r", name: "gate", mode: .gating, from: .now)
        var gateModel = ReaderModel(position: producer.published, start: producer.published, gating: true)

        for op in 0..<600 {
            if rng.below(2) == 0 {
                // A burst, as long as the producer would not have to wait for the gating reader
                // (in one thread it would wait forever); the threaded test covers the waiting.
                let c = producer.published
                let room = gateModel.position + cap - slack - 1 > c ? gateModel.position + cap - slack - 1 - c : 0
                let burst = min(UInt64(rng.below(3 * capacity + 1)), room)
                for _ in 0..<burst { _ = producer.publish(fillAll(producer.published, slotSize: slotSize)) }
            } else {
                let k = rng.below(readers.count + 1)
                let polls = 1 + rng.below(2 * capacity)
                for _ in 0..<polls {
                    let c = producer.published
                    if k == readers.count {
                        Self.check(
                            gate.poll(),
                            &gateModel,
                            cursor: c,
                            capacity: cap,
                            slotSize: slotSize,
                            "seed \(seed) op \(op) gating"
                        )
                    } else {
                        Self.check(
                            readers[k].reader.poll(),
                            &models[k],
                            cursor: c,
                            capacity: cap,
                            slotSize: slotSize,
                            "seed \(seed) op \(op) reader \(k) capacity \(capacity)"
                        )
                    }
                }
            }
        }
        // Drain everyone: delivered + lost covers exactly [start, cursor).
        let c = producer.published
        for k in 0..<readers.count {
            while models[k].position < c {
                Self.check(
                    readers[k].reader.poll(),
                    &models[k],
                    cursor: c,
                    capacity: cap,
                    slotSize: slotSize,
                    "seed \(seed) drain \(k)"
                )
            }
            guard case .empty = readers[k].reader.poll() else {
                Issue.record("seed \(seed): reader \(k) not empty at the cursor")
                return
            }
            #expect(models[k].delivered + models[k].lost == c - models[k].start, "seed \(seed) reader \(k)")
            #expect(
                readers[k].reader.lost == models[k].lost,
                "seed \(seed) reader \(k): table says lost \(readers[k].reader.lost)"
            )
            #expect(
                readers[k].reader.gaps == models[k].gaps,
                "seed \(seed) reader \(k): table says \(readers[k].reader.gaps) gaps"
            )
            #expect(readers[k].reader.nextSequence == c)
        }
        while gateModel.position < c {
            Self.check(
                gate.poll(),
                &gateModel,
                cursor: c,
                capacity: cap,
                slotSize: slotSize,
                "seed \(seed) drain gating"
            )
        }
        #expect(
            gate.lost == 0 && gateModel.delivered == c - gateModel.start,
            "seed \(seed): gating reader lost messages"
        )
    }

    @Test(
        "a gating reader is never lapped by a producer thread running flat out, at any reading pace",
        arguments: 1...4
    )
    func gatingAgainstProducerThread(seed: Int) throws {
        var rng = SplitMix64(seed: UInt64(seed) &+ 1000)
        let capacity = [4, 8, 16, 64][seed - 1]
        let total: UInt64 = 5_000
        let bus = testBus("gateprop\(seed)")
        defer { removeBus(bus) }
        let producerBox = ProducerBox(
            try RingProducer(bus: bus, ring: "r", schema: .market, slotSize: 64, capacity: capacity)
        )
        var gate = try RingReader(bus: bus, ring: "r", name: "gate", mode: .gating, from: .start)
        var live = try RingReader(bus: bus, ring: "r", name: "live", mode: .live, from: .start)
        var gateModel = ReaderModel(position: 0, start: 0, gating: true)
        var liveModel = ReaderModel(position: 0, start: 0, gating: false)
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            for _ in 0..<total {
                _ = producerBox.producer.publish(fillAll(producerBox.producer.published, slotSize: 64))
            }
            done.signal()
        }
        thread.start()
        let deadline = Date().addingTimeInterval(60)
        while gateModel.position < total {
            guard Date() < deadline else {
                Issue.record("seed \(seed): gating reader stalled at \(gateModel.position)")
                break
            }
            // The gating reader reads in random bursts with random pauses; the live one rarely.
            for _ in 0..<(1 + rng.below(2 * capacity)) {
                let cursor = producerBox.cursor
                let r = gate.poll()
                if case .empty = r { break }
                Self.check(
                    r,
                    &gateModel,
                    cursor: cursor,
                    capacity: UInt64(capacity),
                    slotSize: 64,
                    "seed \(seed) gating"
                )
            }
            if rng.below(8) == 0 {
                let cursor = producerBox.cursor
                let r = live.poll()
                if case .gap(let from, let count) = r {
                    #expect(from == liveModel.position && count >= 1, "seed \(seed) live gap \(from)+\(count)")
                    #expect(from + count <= producerBox.cursor, "seed \(seed) live gap past the cursor (at \(cursor))")
                    liveModel.position = from + count
                    liveModel.lost += count
                } else if case .message(let b) = r {
                    #expect(
                        checkAll(b, liveModel.position),
                        "seed \(seed) live read \(b.sequence) at \(liveModel.position)"
                    )
                    liveModel.position += 1
                    liveModel.delivered += 1
                }
            }
            if rng.below(4) == 0 { usleep(UInt32(rng.below(200))) }
        }
        #expect(done.wait(timeout: .now() + 30) == .success, "seed \(seed): producer did not finish")
        #expect(gate.lost == 0 && gate.gaps == 0, "seed \(seed): gating reader lapped (lost \(gate.lost))")
        #expect(gateModel.delivered == total)
        #expect(
            live.lost == liveModel.lost,
            "seed \(seed): live reader table \(live.lost) vs reported \(liveModel.lost)"
        )
    }
}

/// A reader in an array (readers are not copyable).
final class ReaderBox {
    var reader: RingReader
    init(_ r: consuming RingReader) { reader = r }
}

/// The producer, moved to its thread (the test waits for the thread before it leaves scope).
/// Only the producer thread touches `producer`; the reader side reads the cursor through `mapping`
/// (a `let`, so no exclusivity access overlaps the producer's).
final class ProducerBox: @unchecked Sendable {
    var producer: RingProducer
    let mapping: _SegmentMapping
    init(_ p: consuming RingProducer) {
        mapping = p.mapping
        producer = p
    }
    var cursor: UInt64 { mapping.cursor }
}
