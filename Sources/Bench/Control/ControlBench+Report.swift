extension ControlBench {
    public struct ResultJSON: Encodable, Sendable {
        var p50Ns: Double, p99Ns: Double, decisions: UInt64, mallocsInLoop: UInt64
        var swapP50Ns: Double, swapP99Ns: Double, swaps: Int, intervalMs: Double, rate: Int
        enum CodingKeys: String, CodingKey {
            case p50Ns = "p50_ns"
            case p99Ns = "p99_ns"
            case decisions
            case mallocsInLoop = "mallocs_in_loop"
            case swapP50Ns = "swap_p50_ns"
            case swapP99Ns = "swap_p99_ns"
            case swaps
            case intervalMs = "interval_ms"
            case rate
        }
    }
    public struct BaselineJSON: Encodable, Sendable {
        var name = "no commands"
        var p50Ns: Double, p99Ns: Double, decisions: UInt64, mallocsInLoop: UInt64
        enum CodingKeys: String, CodingKey {
            case name
            case p50Ns = "p50_ns"
            case p99Ns = "p99_ns"
            case decisions
            case mallocsInLoop = "mallocs_in_loop"
        }
    }
    public struct RatioJSON: Encodable, Sendable {
        var p50: Double, p99: Double
    }
}

extension ControlBench.Outcome {
    public var report: BenchReport<ControlBench.ResultJSON, ControlBench.BaselineJSON, ControlBench.RatioJSON, NoConfig>
    {
        let s = swaps.tickToDecision
        let b = baseline.tickToDecision
        return BenchReport(
            bench: "control",
            result: .init(
                p50Ns: rounded(s.p50, 1),
                p99Ns: rounded(s.p99, 1),
                decisions: swaps.decisions,
                mallocsInLoop: swaps.mallocs,
                swapP50Ns: rounded(swapLatency.p50, 1),
                swapP99Ns: rounded(swapLatency.p99, 1),
                swaps: swapCount,
                intervalMs: options.intervalMs,
                rate: Int(options.rate)
            ),
            baseline: .init(
                p50Ns: rounded(b.p50, 1),
                p99Ns: rounded(b.p99, 1),
                decisions: baseline.decisions,
                mallocsInLoop: baseline.mallocs
            ),
            ratio: .init(p50: rounded(s.p50 / b.p50, 3), p99: rounded(s.p99 / b.p99, 3))
        )
    }

    public var text: String {
        let o = options
        let s = swaps.tickToDecision
        let b = baseline.tickToDecision
        func f1(_ v: Double) -> String { TextTable.leftPad(TextTable.fixed(v, 1), 11) }
        func f3(_ v: Double) -> String { TextTable.fixed(v, 3) }
        return [
            "bench control: synthetic:\(o.seed) at \(Int(o.rate)) msg/s on CPU \(o.feedCpu) -> strategy on CPU \(o.strategyCpu) "
                + "(\(o.model)); a live swap between two prepared versions every \(TextTable.fixed(o.intervalMs, 1)) ms; "
                + "\(o.rounds) rounds x \(o.messages) messages per side",
            "  tick-to-decision (market publish -> decision publish), medians over rounds (ns)    p50        p99",
            TextTable.rightPad("  with swaps", 80) + [s.p50, s.p99].map(f1).joined(),
            TextTable.rightPad("  no commands (baseline)", 80) + [b.p50, b.p99].map(f1).joined(),
            "  ratio: p50 \(f3(s.p50 / b.p50)), p99 \(f3(s.p99 / b.p99)) (target: p50 within 5%)",
            TextTable.rightPad("  swap latency (command publish -> control record publish), \(swapCount) swaps", 80)
                + [swapLatency.p50, swapLatency.p99].map(f1).joined() + "   (target: < 50000)",
            "  mallocs on the strategy thread: \(swaps.mallocs) with swaps, \(baseline.mallocs) without, "
                + "over \(o.messages) messages (last round of each)",
        ].joined(separator: "\n")
    }
}
