import CMallocCounter
import CTickBus
import Foundation
import TickBusCore

extension RingBench {
    /// Runs every round (this process is the producer; readers are child processes of this
    /// executable, `tickbus bench ring-child`) on a bus of its own, removed at the end.
    public static func run(_ o: Options) throws(BenchError) -> Outcome {
        try pin(o.producerCPU, "producer")
        let bus = "bench-\(getpid())"
        // The C ring carries no TickBus magic, so `rm` would keep it (and the bus): remove it first.
        defer {
            _ = unlink(BusPaths.ring(bus: bus, ring: "cbaseline"))
            _ = try? Segment.removeBus(bus)
        }
        var figures: [Implementation: Figures] = [.swift: Figures(), .c: Figures()]
        try InterleavedRounds.run(rounds: o.rounds, Implementation.allCases) { (_, impl) throws(BenchError) in
            for phase in Phase.allCases {
                let n: UInt64
                let interval: UInt64
                switch phase {
                case .throughput: (n, interval) = (o.clockFreeMessages, 0)
                case .throughputClocked: (n, interval) = (o.messages, 0)
                case .latency: (n, interval) = (o.latencyMessages, o.intervalNs)
                }
                let (publishMallocs, startNs, r) = try runOnce(
                    bus: bus,
                    impl: impl,
                    phase: phase,
                    messages: n,
                    intervalNs: interval,
                    readerCPU: o.readerCPU
                )
                figures[impl]!.lost += r.lost
                figures[impl]!.mallocsPerPublish.append(publishMallocs)
                figures[impl]!.mallocsPerPoll.append(r.mallocsPerPoll)
                switch phase {
                case .throughput:
                    if r.bad != 0 { throw .check("bench ring (\(impl)): \(r.bad) messages out of sequence") }
                    figures[impl]!.throughput.append(Double(r.messages) / (Double(r.endNs &- startNs) / 1e9))
                case .throughputClocked:
                    figures[impl]!.clocked.append(Double(r.messages) / r.seconds)
                case .latency:
                    figures[impl]!.latency.append(r.latency)
                }
            }
        }
        return Outcome(options: o, swift: Summary(figures[.swift]!), c: Summary(figures[.c]!))
    }

    /// One phase of one ring: mallocs per publish, the producer's start time, the reader's result.
    static func runOnce(
        bus: String,
        impl: Implementation,
        phase: Phase,
        messages n: UInt64,
        intervalNs: UInt64,
        readerCPU: Int32
    ) throws(BenchError) -> (Double, UInt64, ReaderResult) {
        let args = [
            "bench", "ring-child", "--bus", bus, "--impl", impl.rawValue, "--phase", phase.rawValue, "--messages",
            "\(n)",
            "--cpu", "\(readerCPU)",
        ]
        switch impl {
        case .swift:
            var producer = try segment { () throws(SegmentError) in
                try RingProducer(bus: bus, ring: "bench", schema: .market, slotSize: 64, capacity: ringCapacity)
            }
            let child = try BenchChild(args)
            try child.waitUntil { ReaderTable.snapshot(producer.mapping).count >= 1 }
            var mallocs = 0.0
            let start = tb_monotonic_ns()
            if phase == .throughput {
                let m0 = tb_thread_malloc_count()
                produceSwiftClockFree(&producer, messages: n)
                mallocs = Double(tb_thread_malloc_count() - m0) / Double(n)
            } else {
                mallocs = produceSwift(&producer, messages: n, intervalNs: intervalNs)
            }
            producer.close()
            return (mallocs, start, try result(child))
        case .c:
            // Creates (or checks) the bus directory safely: ours, 0700, not a link, in the sticky root.
            _ = try segment { () throws(SegmentError) in try BusDirectory(bus: bus, creating: .owner) }
            let ring = try _CRing(path: BusPaths.ring(bus: bus, ring: "cbaseline"), create: true)
            let child = try BenchChild(args)
            try child.waitUntil { tb_load_acquire_u64(ring.ready) == 1 }
            var mallocs = 0.0
            let start = tb_monotonic_ns()
            if phase == .throughput {
                let m0 = tb_thread_malloc_count()
                produceCClockFree(ring, messages: n)
                mallocs = Double(tb_thread_malloc_count() - m0) / Double(n)
            } else {
                mallocs = produceC(ring, messages: n, intervalNs: intervalNs)
            }
            return (mallocs, start, try result(child))
        }
    }

    static func result(_ child: BenchChild) throws(BenchError) -> ReaderResult {
        let line = try child.lastLine()
        guard let r = ReaderResult(line: line) else { throw .child("bench reader printed '\(line)'") }
        return r
    }

    /// The reader half (`tickbus bench ring-child`): attaches, reads `messages`, returns what it measured.
    public static func runReader(
        bus: String,
        impl: Implementation,
        phase: Phase,
        messages: UInt64,
        cpu: Int32
    ) throws(BenchError) -> ReaderResult {
        try pin(cpu, "reader")
        switch impl {
        case .swift:
            var reader = try segment { () throws(SegmentError) in
                try RingReader(
                    bus: bus,
                    ring: "bench",
                    name: "bench-reader",
                    mode: .gating,
                    from: .start,
                    idle: .busySpin
                )
            }
            guard phase == .throughput else {
                return readSwift(&reader, messages: messages, sampleLatency: phase == .latency)
            }
            let m0 = tb_thread_malloc_count()
            let n = readSwiftClockFree(&reader, messages: messages)
            return clockFreeResult(n, end: tb_monotonic_ns(), mallocs: tb_thread_malloc_count() - m0)
        case .c:
            let ring = try _CRing(path: BusPaths.ring(bus: bus, ring: "cbaseline"), create: false)
            tb_store_release_u64(ring.ready, 1)
            guard phase == .throughput else { return readC(ring, messages: messages, sampleLatency: phase == .latency) }
            let m0 = tb_thread_malloc_count()
            let n = readCClockFree(ring, messages: messages)
            return clockFreeResult(n, end: tb_monotonic_ns(), mallocs: tb_thread_malloc_count() - m0)
        }
    }

    static func clockFreeResult(_ n: ClockFreeCount, end: UInt64, mallocs: UInt64) -> ReaderResult {
        var r = ReaderResult(
            messages: n.received,
            seconds: 0,
            endNs: end,
            latency: Percentiles(p50: 0, p90: 0, p99: 0, p999: 0, max: 0),
            mallocsPerPoll: Double(mallocs) / Double(max(n.received, 1)),
            lost: n.lost
        )
        r.checksum = n.checksum
        r.bad = n.bad
        return r
    }

    /// `tickbus bench ring-instructions`: both single-thread loops on a bus of its own; the two checks.
    public static func runInstructions(messages: UInt64) throws(BenchError) -> (swift: UInt64, c: UInt64) {
        let bus = "bench-ins-\(getpid())"
        // The C ring carries no TickBus magic, so `rm` would keep it (and the bus): remove it first.
        defer {
            _ = unlink(BusPaths.ring(bus: bus, ring: "cbaseline"))
            _ = try? Segment.removeBus(bus)
        }
        var producer = try segment { () throws(SegmentError) in
            try RingProducer(bus: bus, ring: "bench", schema: .market, slotSize: 64, capacity: ringCapacity)
        }
        var reader = try segment { () throws(SegmentError) in
            try RingReader(bus: bus, ring: "bench", name: "ins", mode: .gating, from: .start, idle: .busySpin)
        }
        let a = RingInstructions.loopSwift(&producer, &reader, messages: messages)
        let ring = try _CRing(path: BusPaths.ring(bus: bus, ring: "cbaseline"), create: true)
        let b = RingInstructions.loopC(ring, messages: messages)
        return (a, b)
    }
}
