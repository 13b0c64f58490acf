import CTickBus
import Foundation
import Testing
@testable import TickBusCore

/// A bus name unique to this process and test.
func testBus(_ tag: String) -> String { "u-\(tag)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))" }

/// Removes a test bus whatever it holds (a corrupted segment has no magic, so `rm` would keep it).
func removeBus(_ bus: String) { removeEntry(bus) }

/// Writes the sequence into every payload word, so a torn copy is detectable.
func fillAll(_ s: UInt64, slotSize: Int) -> (UnsafeMutableRawPointer) -> Void {
    { slot in
        var o = 8
        while o < slotSize { slot.storeBytes(of: s, toByteOffset: o, as: UInt64.self); o += 8 }
    }
}

func checkAll(_ bytes: SlotBytes, _ s: UInt64) -> Bool {
    guard bytes.sequence == s else { return false }
    var o = 8
    while o < bytes.count {
        if bytes.base.load(fromByteOffset: o, as: UInt64.self) != s { return false }
        o += 8
    }
    return true
}

/// Serialized: the racing tests use two threads each, and must not run beside each other on 2 cores.
@Suite("Ring", .serialized)
struct RingTests {
    @Test("wrap-around at every position of a small ring, across several laps")
    func wrapAround() throws {
        let capacity = 8
        for offset in 0..<capacity {
            let bus = testBus("wrap")
            defer { removeBus(bus) }
            var producer = try RingProducer(bus: bus, ring: "r", schema: .market, slotSize: 64, capacity: capacity)
            var reader = try RingReader(bus: bus, ring: "r", name: "t", from: .start)
            // Move the start position to `offset`, then run three laps in bursts of every size.
            for s in 0..<UInt64(offset) { _ = producer.publish(fillAll(s, slotSize: 64)) }
            for s in 0..<UInt64(offset) {
                guard case .message(let b) = reader.poll() else { Issue.record("no message \(s)"); return }
                #expect(checkAll(b, s))
            }
            var next = UInt64(offset)
            for burst in 1...capacity {
                for _ in 0..<burst { _ = producer.publish(fillAll(producer.published, slotSize: 64)) }
                for _ in 0..<burst {
                    guard case .message(let b) = reader.poll() else { Issue.record("offset \(offset) burst \(burst): missing \(next)"); return }
                    #expect(checkAll(b, next), "offset \(offset) burst \(burst) seq \(next)")
                    next += 1
                }
                guard case .empty = reader.poll() else { Issue.record("expected empty after burst"); return }
            }
            #expect(reader.lost == 0)
        }
    }

    @Test("a lapped reader is told exactly how many messages it lost and from where")
    func lapDetection() throws {
        let bus = testBus("lap")
        defer { removeBus(bus) }
        let capacity = 16
        var producer = try RingProducer(bus: bus, ring: "r", schema: .market, slotSize: 64, capacity: capacity)
        var reader = try RingReader(bus: bus, ring: "r", name: "t", from: .start)
        for s in 0..<UInt64(3) { _ = producer.publish(fillAll(s, slotSize: 64)) }
        for _ in 0..<3 { _ = reader.poll() }
        // 40 more: the reader at 3 is overwritten by 3 + 16, ... (cursor 43).
        for _ in 0..<40 { _ = producer.publish(fillAll(producer.published, slotSize: 64)) }
        var received: UInt64 = 3, lost: UInt64 = 0, firstGapFrom: UInt64?
        loop: while true {
            switch reader.poll() {
            case .message(let b):
                #expect(checkAll(b, b.sequence))
                received += 1
            case .gap(let from, let count):
                if firstGapFrom == nil { firstGapFrom = from }
                lost += count
            case .empty:
                break loop
            }
        }
        #expect(firstGapFrom == 3)
        #expect(received + lost == 43)
        #expect(reader.lost == lost)
        #expect(lost >= 43 - 16 - 3)
        #expect(reader.gaps >= 1)
    }

    @Test("a reader racing the producer never returns a message whose sequence word disagrees with its payload")
    func tornReads() throws {
        let bus = testBus("torn")
        defer { removeBus(bus) }
        let total: UInt64 = 400_000
        let slotSize = 256  // a long copy window makes a torn read likely if the check were missing
        // The producer lives on its own thread (one producer + this reader: two threads, two cores).
        let created = DispatchSemaphore(value: 0)
        let go = DispatchSemaphore(value: 0)
        let thread = Thread {
            do {
                var producer = try RingProducer(bus: bus, ring: "r", schema: .market, slotSize: slotSize, capacity: 8)
                created.signal()
                go.wait()
                for s in 0..<total { _ = producer.publish(fillAll(s, slotSize: slotSize)) }
                producer.close()
            } catch {
                created.signal()
            }
        }
        thread.start()
        created.wait()
        var reader = try RingReader(bus: bus, ring: "r", name: "racer", from: .start, idle: .spinThenYield)
        var idler = Idler(.spinThenYield)
        go.signal()
        var received: UInt64 = 0, lost: UInt64 = 0, torn = 0, expected: UInt64 = 0
        while received + lost < total {
            switch reader.poll() {
            case .message(let b):
                idler.reset()
                if !checkAll(b, expected) { torn += 1 }
                expected += 1
                received += 1
            case .gap(let from, let count):
                #expect(from == expected)
                expected = from + count
                lost += count
            case .empty:
                if reader.mapping.producerState == .closed && reader.caughtUp { break }
                idler.idle()
            }
            if reader.mapping.producerState == .closed && reader.caughtUp && received + lost >= total { break }
        }
        #expect(torn == 0)
        #expect(received + lost == total)
        #expect(received > 0)
    }

    @Test("gating: an in-process gating reader loses nothing on a tiny ring")
    func gatingNoLoss() throws {
        let bus = testBus("gate")
        defer { removeBus(bus) }
        let total: UInt64 = 100_000
        let created = DispatchSemaphore(value: 0)
        let attached = DispatchSemaphore(value: 0)
        let thread = Thread {
            do {
                var producer = try RingProducer(bus: bus, ring: "r", schema: .market, slotSize: 64, capacity: 4)
                created.signal()
                attached.wait()
                for s in 0..<total { _ = producer.publish(fillAll(s, slotSize: 64)) }
                producer.close()
            } catch { created.signal() }
        }
        thread.start()
        created.wait()
        var reader = try RingReader(bus: bus, ring: "r", name: "g", mode: .gating, from: .start, idle: .spinThenYield)
        attached.signal()
        var expected: UInt64 = 0
        var idler = Idler(.spinThenYield)
        while expected < total {
            switch reader.poll() {
            case .message(let b):
                #expect(checkAll(b, expected))
                expected += 1
                idler.reset()
            case .gap(let from, let count):
                Issue.record("gating reader lost \(count) from \(from)")
                return
            case .empty:
                idler.idle()
            }
        }
        #expect(reader.lost == 0)
    }

    @Test("reader table: claim, snapshot, release")
    func readerTable() throws {
        let bus = testBus("table")
        defer { removeBus(bus) }
        let producer = try RingProducer(bus: bus, ring: "r", schema: .market)
        do {
            let a = try RingReader(bus: bus, ring: "r", name: "alpha", mode: .gating)
            let b = try RingReader(bus: bus, ring: "r", name: "beta")
            #expect(a.entryIndex != b.entryIndex)
            let snap = ReaderTable.snapshot(producer.mapping)
            #expect(snap.map(\.name).sorted() == ["alpha", "beta"])
            #expect(snap.first { $0.name == "alpha" }?.mode == .gating)
            #expect(snap.allSatisfy { $0.pid == getpid() && $0.alive })
        }
        #expect(ReaderTable.snapshot(producer.mapping).isEmpty)
    }

    @Test("idle strategies parse and back off")
    func idle() {
        #expect(IdleStrategy(name: "spin") == .busySpin)
        #expect(IdleStrategy(name: "yield") == .spinThenYield)
        #expect(IdleStrategy(name: "backoff") == .backoff)
        #expect(IdleStrategy(name: "nap") == nil)
        var idler = Idler(.backoff, maxSleepMicros: 50)
        for _ in 0..<200 { idler.idle() }
        #expect(idler.idleRounds == 200)
        idler.reset()
        #expect(idler.idleRounds == 0)
    }
}
