import CMallocCounter
import CTickBus
import Features
import Foundation
import Models
import Strategy
import TickBusCore

extension ControlBench {
    /// The strategy thread: pinned, prepares both versions (compile excluded from the figures),
    /// attaches to `market` (gating, so no message is lost) and `control`, runs the loop to the end
    /// of the session, then reads its own decisions ring back.
    static func strategyThread(_ o: Options, bus: String, capacity: Int, shared: Shared, patience: Double) {
        do throws(BenchError) {
            try runStrategy(o, bus: bus, capacity: capacity, shared: shared, patience: patience)
        } catch {
            shared.strategyError = "\(error)"
            shared.set(5)
        }
    }

    static func runStrategy(
        _ o: Options,
        bus: String,
        capacity: Int,
        shared: Shared,
        patience: Double
    ) throws(BenchError) {
        do { _ = try Placement.apply(cpu: Int32(o.strategyCpu), node: nil) } catch { throw .strategy(error) }
        let definition: FeatureDefinition
        do { definition = try FeatureDefinition.load(path: o.features) } catch { throw .features(error) }
        // Two versions of equal cost on the same definition: the bench model compiled twice, the
        // second under another runtime id, so that a difference between the sides is the swaps'
        // and not a cheaper or dearer model's.
        let a: LoadedModel
        let second: LoadedModel
        do {
            a = try Model.load(path: o.model)
            second = try Model.load(path: o.model)
        } catch { throw .model(path: o.model, error) }
        let b = LoadedModel(model: second.model, id: a.id ^ 0x0b0b_0b0b_0b0b_0b0b, path: second.path)
        let va = PreparedVersion(version: versionA, model: a, features: definition.names, definition: nil, label: "A")
        let vb = PreparedVersion(version: versionB, model: b, features: definition.names, definition: nil, label: "B")
        var loop: StrategyLoop
        do {
            loop = try StrategyLoop(
                engine: FeatureEngine(definition: definition),
                live: va,
                shadow: nil,
                preload: [va, vb],
                slotSize: DecisionLayout.defaultSlotSize
            )
        } catch { throw .strategy(error) }

        let commands = Int(Double(o.messages) / o.rate * 1000 / o.intervalMs) + 64
        let decisionsCapacity = 1 << Int(log2(Double(o.messages + commands + 16)).rounded(.up))
        var decisions = try segment { () throws(SegmentError) in
            try RingProducer(
                bus: bus,
                ring: "decisions.bench",
                schema: .decisions,
                slotSize: DecisionLayout.defaultSlotSize,
                capacity: decisionsCapacity
            )
        }
        var market = try segment { () throws(SegmentError) in
            try RingReader(
                bus: bus,
                ring: "market",
                name: "bench-strategy",
                mode: .gating,
                from: .start,
                idle: .busySpin,
                expecting: .market
            )
        }
        guard shared.wait(0, seconds: patience) else { throw .check("the control ring did not appear") }
        let controlReader = try segment { () throws(SegmentError) in
            try RingReader(bus: bus, ring: "control", name: "bench-control", from: .start, expecting: .control)
        }
        var port = ControlPort(reader: controlReader, strategy: "bench")
        shared.runtimeIdA = a.id
        shared.runtimeIdB = b.id
        shared.set(1)

        let m0 = tb_thread_malloc_count()
        let summary = loop.run(
            reader: &market,
            producer: &decisions,
            control: &port,
            idle: .busySpin,
            stop: { shared.isSet(5) }
        )
        shared.mallocs = tb_thread_malloc_count() - m0
        guard summary.endOfSession else { throw .check("the strategy stopped before the end of the session") }
        guard summary.lost == 0 else { throw .check("the strategy lost \(summary.lost) market messages") }
        try collect(o, bus: bus, shared: shared)
        decisions.close()
    }

    /// Reads `decisions.bench` from its start: tick-to-decision of every decision and the swap
    /// latency of every applied control record after the warm-up (the first 10% of the market
    /// sequences: caches, the book, page tables); rejected commands are kept to fail the round.
    static func collect(_ o: Options, bus: String, shared: Shared) throws(BenchError) {
        var reader = try segment { () throws(SegmentError) in
            try RingReader(bus: bus, ring: "decisions.bench", name: "bench-collect", expecting: .decisions)
        }
        let warm = UInt64(o.messages / 10)
        var latencies: [UInt64] = []
        latencies.reserveCapacity(o.messages)
        var swaps: [UInt64] = []
        var decisions: UInt64 = 0
        var applied: UInt64 = 0
        loop: while true {
            switch reader.poll() {
            case .message(let bytes):
                let kind = bytes.base.load(fromByteOffset: RecordHeader.kind, as: UInt16.self)
                if kind == DecisionLayout.kindValue {
                    decisions += 1
                    let d = DecisionRecordView(bytes.base)
                    if d.marketSequence >= warm { latencies.append(UInt64(max(0, d.latencyNs))) }
                } else if kind == ControlRecordLayout.kindValue {
                    let c = ControlRecordView(bytes.base)
                    if !c.applied {
                        shared.rejected.append(c.description)
                        continue
                    }
                    applied += 1
                    if c.firstMarketSequence >= warm {
                        swaps.append(UInt64(max(0, c.publishTime &- c.commandPublishTime)))
                    }
                }
            case .gap(_, let count): throw .check("the decisions ring lapped its reader: \(count) records lost")
            case .empty: break loop
            }
        }
        shared.latencies = latencies
        shared.swapLatencies = swaps
        shared.decisions = decisions
        shared.applied = applied
    }
}
