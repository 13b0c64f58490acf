import Foundation

extension RingBench {
    /// Nearest-rank latency percentiles in ns.
    public struct LatencyJSON: Encodable, Sendable {
        public var p50: Double, p90: Double, p99: Double, p999: Double, max: Double
        init(_ p: Percentiles) {
            (p50, p90, p99, p999, max) = (p.p50, p.p90, p.p99, p.p999, p.max)
        }
    }

    /// One ring's side of the report.
    public struct SideJSON: Encodable, Sendable {
        /// Clock-free phase (since the clock-free phase was added; before, this key was the clocked figure).
        public var throughputMsgsPerS: Int
        public var throughputClockedMsgsPerS: Int
        public var latencyNs: LatencyJSON
        public var mallocsPerPublish: Double
        public var mallocsPerPoll: Double

        enum CodingKeys: String, CodingKey {
            case throughputMsgsPerS = "throughput_msgs_per_s"
            case throughputClockedMsgsPerS = "throughput_clocked_msgs_per_s"
            case latencyNs = "latency_ns"
            case mallocsPerPublish = "mallocs_per_publish"
            case mallocsPerPoll = "mallocs_per_poll"
        }

        init(_ s: Summary) {
            throughputMsgsPerS = Int(s.throughput.isFinite ? s.throughput : 0)
            throughputClockedMsgsPerS = Int(s.clocked.isFinite ? s.clocked : 0)
            latencyNs = LatencyJSON(s.latency)
            mallocsPerPublish = s.mallocsPerPublish
            mallocsPerPoll = s.mallocsPerPoll
        }
    }

    /// TickBus over C.
    public struct RatioJSON: Encodable, Sendable {
        public var throughput: Double
        public var throughputClocked: Double
        public var p50: Double
        enum CodingKeys: String, CodingKey {
            case throughput
            case throughputClocked = "throughput_clocked"
            case p50
        }
    }

    public struct ConfigJSON: Encodable, Sendable {
        public var messages: UInt64
        public var clockFreeMessages: UInt64
        public var latencyMessages: UInt64
        public var intervalNs: UInt64
        public var rounds: Int
        public var producerCpu: Int32
        public var readerCpu: Int32
        enum CodingKeys: String, CodingKey {
            case messages
            case clockFreeMessages = "clock_free_messages"
            case latencyMessages = "latency_messages"
            case intervalNs = "interval_ns"
            case rounds
            case producerCpu = "producer_cpu"
            case readerCpu = "reader_cpu"
        }
    }
}

extension RingBench.Outcome {
    /// The `--json` report.
    public var report: BenchReport<RingBench.SideJSON, RingBench.SideJSON, RingBench.RatioJSON, RingBench.ConfigJSON> {
        let o = options
        return BenchReport(
            bench: "ring",
            result: .init(swift),
            baseline: .init(c),
            ratio: .init(
                throughput: rounded(swift.throughput / c.throughput, 3),
                throughputClocked: rounded(swift.clocked / c.clocked, 3),
                p50: rounded(swift.latency.p50 / c.latency.p50, 3)
            ),
            config: .init(
                messages: o.messages,
                clockFreeMessages: o.clockFreeMessages,
                latencyMessages: o.latencyMessages,
                intervalNs: o.intervalNs,
                rounds: o.rounds,
                producerCpu: o.producerCPU,
                readerCpu: o.readerCPU
            )
        )
    }

    /// The human-readable table.
    public var text: String {
        let o = options
        var lines = [
            "bench ring: \(o.rounds) rounds (TickBus and C interleaved), producer CPU \(o.producerCPU), reader CPU \(o.readerCPU)",
            "  throughput: \(o.clockFreeMessages) messages/round clock-free and \(o.messages) clocked, reader gating; "
                + "latency: \(o.latencyMessages) messages/round, one per \(o.intervalNs) ns",
            "  medians over rounds            tickbus       C ring    ratio",
        ]
        func row(_ name: String, _ a: Double, _ b: Double, ratio: Bool = true) {
            lines.append(
                "  " + TextTable.rightPad(name, 26) + TextTable.leftPad(TextTable.fixed(a, 1), 13)
                    + TextTable.leftPad(TextTable.fixed(b, 1), 13)
                    + (ratio && b > 0 ? TextTable.leftPad(TextTable.fixed(a / b, 3), 9) : "")
            )
        }
        row("throughput msgs/s", swift.throughput, c.throughput)
        row("throughput clocked msgs/s", swift.clocked, c.clocked)
        row("latency p50 ns", swift.latency.p50, c.latency.p50)
        row("latency p90 ns", swift.latency.p90, c.latency.p90)
        row("latency p99 ns", swift.latency.p99, c.latency.p99)
        row("latency p99.9 ns", swift.latency.p999, c.latency.p999)
        row("latency max ns", swift.latency.max, c.latency.max)
        row("mallocs per publish", swift.mallocsPerPublish, c.mallocsPerPublish, ratio: false)
        row("mallocs per poll", swift.mallocsPerPoll, c.mallocsPerPoll, ratio: false)
        let lost = swift.lost + c.lost
        if lost > 0 { lines.append("  warning: \(lost) messages lost (a gating reader should lose none)") }
        return lines.joined(separator: "\n")
    }
}
