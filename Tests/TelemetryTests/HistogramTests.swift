import Foundation
import TestSupport
import Testing
import TickBusCore

@testable import Telemetry

@Suite struct HistogramTests {
    @Test func bucketsCoverTheRangeContiguouslyWithTwoSignificantDigits() {
        // Every bucket starts where the previous one ended, up to 10 s, and is at most 1/128 of its value wide.
        var expectedLow: UInt64 = 0
        for i in 0..<LatencyHistogramLayout.bucketCount {
            let lo = LatencyHistogramLayout.lowestValue(i)
            let hi = LatencyHistogramLayout.highestValue(i)
            #expect(lo == expectedLow, "bucket \(i) starts at \(lo), expected \(expectedLow)")
            #expect(hi >= lo)
            if lo >= 256 {
                #expect(Double(hi - lo + 1) / Double(lo) <= 1.0 / 128.0 + 1e-12, "bucket \(i) [\(lo), \(hi)] too wide")
            }
            expectedLow = hi + 1
        }
        #expect(
            LatencyHistogramLayout.highestValue(LatencyHistogramLayout.bucketCount - 1)
                >= LatencyHistogramLayout.highestTrackable
        )
        #expect(
            LatencyHistogramLayout.index(LatencyHistogramLayout.highestTrackable) < LatencyHistogramLayout.bucketCount
        )
    }

    @Test func indexPutsEachValueInTheBucketThatContainsIt() {
        var rng = SplitMix64(state: 1)
        var values: [UInt64] = Array(0..<2048)
        for _ in 0..<20_000 { values.append(UInt64.random(in: 0...10_000_000_000, using: &rng)) }
        for e in 0..<34 {
            values.append(1 << UInt64(e))
            values.append((1 << UInt64(e)) - 1)
        }
        for v in values {
            let i = LatencyHistogramLayout.index(v)
            #expect(
                LatencyHistogramLayout.lowestValue(i) <= v && v <= LatencyHistogramLayout.highestValue(i),
                "value \(v) in bucket \(i)"
            )
        }
        // Above the trackable maximum: clamped into the last tracked bucket.
        #expect(
            LatencyHistogramLayout.index(.max) == LatencyHistogramLayout.index(LatencyHistogramLayout.highestTrackable)
        )
    }

    @Test func percentilesMatchASortedReferenceWithin1Percent() {
        var rng = SplitMix64(state: 42)
        var h = LatencyHistogram.empty
        var values: [UInt64] = []
        for _ in 0..<100_000 {
            // Log-uniform from 10 ns to 10 s.
            let v = UInt64(10 * pow(10, Double.random(in: 0..<9, using: &rng)))
            values.append(v)
            h.record(v)
        }
        values.sort()
        for p in [50.0, 90, 99, 99.9, 99.99, 100] {
            let rank = max(1, Int((p / 100 * Double(values.count)).rounded(.up)))
            let exact = values[rank - 1]
            let got = h.percentile(p)
            #expect(got >= exact, "p\(p): \(got) < exact \(exact)")
            #expect(Double(got - exact) <= Double(exact) / 100, "p\(p): \(got) vs exact \(exact)")
        }
        #expect(h.count == 100_000)
        #expect(h.sumNs == values.reduce(0, +))
        // Below 256 ns the buckets are exact.
        #expect(h.countAtOrBelow(200) == UInt64(values.filter { $0 <= 200 }.count))
    }

    @Test func statsBlockCountsExactlyAndReplacesWithANewGeneration() throws {
        let bus = "t-telemetry-unit-\(getpidValue())"
        defer { _ = try? Segment.removeBus(bus) }
        var reference: [UInt64] = []
        do {
            let w = try StatsWriter(bus: bus, name: "alpha", kind: .strategy, modelId: 0xabc, shadowModelId: 0xdef)
            for i in 0..<5000 {
                let latency = UInt64(500 + (i * 7919) % 200_000)
                reference.append(latency)
                w.count(.messages, by: 3)
                w.recordDecision(
                    latencyNs: latency,
                    signal: Int8(i % 3) - 1,
                    shadowSignal: i % 5 == 0 ? 1 : Int8(i % 3) - 1
                )
            }
            #expect(w.generation == 1)
            let s = StatsBlock.snapshot(try StatsBlock.attach(path: w.path))
            #expect(s.name == "alpha")
            #expect(s.kind == .strategy)
            #expect(s.pid == getpidValue())
            #expect(s.counter(.messages) == 15_000)
            #expect(s.counter(.decisions) == 5000)
            #expect(s.counter(.signals) == UInt64((0..<5000).filter { $0 % 3 != 1 }.count))
            #expect(s.counter(.shadowDecisions) == 5000)
            #expect(
                s.counter(.disagreements) == UInt64((0..<5000).filter { $0 % 5 == 0 && Int8($0 % 3) - 1 != 1 }.count)
            )
            #expect(s.latency.count == 5000)
            #expect(s.latency.sumNs == reference.reduce(0, +))
            #expect(s.latency.minNs == reference.min())
            #expect(s.latency.maxNs == reference.max())
            #expect(s.modelId == 0xabc && s.shadowModelId == 0xdef)
            w.close()
        }
        // Same name again: a new generation with fresh counters; the ring listing ignores stats files.
        let again = try StatsWriter(bus: bus, name: "alpha")
        #expect(again.generation == 2)
        let s2 = StatsBlock.snapshot(try StatsBlock.attach(path: again.path))
        #expect(s2.counter(.decisions) == 0 && s2.latency.count == 0)
        #expect(StatsBlock.list(bus: bus) == ["alpha"])
        #expect(try Segment.list(bus: bus) == [])
    }

    @Test func procStatParsesCommandNamesWithSpacesAndParentheses() {
        let text =
            "1234 (my (odd) proc) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 1 0 12345 1000000 300 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n"
        let r = ProcStat.parse(text)
        #expect(r?.cpuSeconds == 300 / ProcStat.ticksPerSecond)
        #expect(r?.residentBytes == 300 * ProcStat.pageSize)
        // Our own process: CPU time and memory are positive.
        let me = ProcStat.read(pid: getpidValue())
        #expect((me?.residentBytes ?? 0) > 0)
    }

    @Test func secondsAreExactDecimals() {
        #expect(PrometheusExposition.seconds(10) == "0.00000001")
        #expect(PrometheusExposition.seconds(2_500_000_000) == "2.5")
        #expect(PrometheusExposition.seconds(3_000_000_000) == "3")
        #expect(PrometheusExposition.latencyBucketBoundsNs.first == 10)
        #expect(PrometheusExposition.latencyBucketBoundsNs.last == 10_000_000_000)
    }
}

extension HistogramTests {
    /// A strategy that dies shows as dead; its restart shows as the next generation, running.
    @Test func aDeadStrategyShowsDeadThenItsNewGeneration() throws {
        let bus = "t-telemetry-dead-\(getpidValue())"
        defer { _ = try? Segment.removeBus(bus) }
        let w = try StatsWriter(bus: bus, name: "beta", kind: .strategy)
        w.recordDecision(latencyNs: 1000, signal: 1)
        #expect(BusSnapshot.take(bus: bus).strategies.first?.state == "running")
        // Make the block look like a process that is gone: a pid that just exited.
        let done = Process()
        done.executableURL = URL(fileURLWithPath: "/bin/true")
        try done.run()
        done.waitUntilExit()
        w.mapping.base.storeBytes(of: done.processIdentifier, toByteOffset: StatsLayout.pidOffset, as: Int32.self)
        let dead = BusSnapshot.take(bus: bus).strategies.first
        #expect(dead?.state == "dead" && dead?.alive == false && dead?.decisions == 1)
        let text = PrometheusExposition.render(BusSnapshot.take(bus: bus))
        #expect(text.contains("tickbus_strategy_alive{bus=\"\(bus)\",strategy=\"beta\""))
        #expect(text.split(separator: "\n").contains { $0.hasPrefix("tickbus_strategy_alive{") && $0.hasSuffix(" 0") })
        // The restart: the dead writer's file is replaced by generation 2, running, fresh counters.
        let again = try StatsWriter(bus: bus, name: "beta", kind: .strategy)
        let restarted = BusSnapshot.take(bus: bus).strategies.first
        #expect(
            again.generation == 2 && restarted?.generation == 2 && restarted?.state == "running"
                && restarted?.decisions == 0
        )
    }
}
