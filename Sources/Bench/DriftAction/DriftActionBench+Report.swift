extension DriftActionBench {
    public struct ResultJSON: Encodable, Sendable {
        var p50Ns: Double, p99Ns: Double, toCommandP50Ns: Double, toCommandP99Ns: Double, rollbacks: Int, rounds: Int
        var window: Int
        enum CodingKeys: String, CodingKey {
            case p50Ns = "p50_ns"
            case p99Ns = "p99_ns"
            case toCommandP50Ns = "to_command_p50_ns"
            case toCommandP99Ns = "to_command_p99_ns"
            case rollbacks, rounds, window
        }
    }
    public struct BaselineJSON: Encodable, Sendable {
        var name = "command publish -> control record (the strategy's part)"
        var p50Ns: Double, p99Ns: Double
        enum CodingKeys: String, CodingKey {
            case name
            case p50Ns = "p50_ns"
            case p99Ns = "p99_ns"
        }
    }
    public struct RatioJSON: Encodable, Sendable {
        var p50: Double, p99: Double
    }
}

extension DriftActionBench.Outcome {
    public var report:
        BenchReport<
            DriftActionBench.ResultJSON, DriftActionBench.BaselineJSON, DriftActionBench.RatioJSON, NoConfig
        >
    {
        BenchReport(
            bench: "drift-action",
            result: .init(
                p50Ns: rounded(total.p50, 1),
                p99Ns: rounded(total.p99, 1),
                toCommandP50Ns: rounded(toCommand.p50, 1),
                toCommandP99Ns: rounded(toCommand.p99, 1),
                rollbacks: rollbacks,
                rounds: rounds,
                window: options.window
            ),
            baseline: .init(p50Ns: rounded(swap.p50, 1), p99Ns: rounded(swap.p99, 1)),
            ratio: .init(p50: rounded(total.p50 / swap.p50, 3), p99: rounded(total.p99 / swap.p99, 3))
        )
    }

    public var text: String {
        func f(_ v: Double) -> String { TextTable.leftPad(TextTable.fixed(v, 1), 12) }
        return [
            "bench drift-action: \(rounds) sessions of \(options.messages) ITCH messages (seed \(options.seed)) at "
                + "\(Int(options.rate)) msg/s; a rollback after every window of \(options.window) decisions; "
                + "\(rollbacks) rollbacks; strategy idle \(options.strategyIdle)",
            "  medians over sessions (ns)                                                      p50         p99",
            TextTable.rightPad("  window end -> the strategy's control record (target p99 < 1 ms)", 80)
                + f(total.p50) + f(total.p99),
            TextTable.rightPad("    window end -> command published (client, server checks)", 80)
                + f(toCommand.p50) + f(toCommand.p99),
            TextTable.rightPad("    command published -> control record (baseline: the strategy)", 80)
                + f(swap.p50) + f(swap.p99),
            "  ratio to the baseline: p50 \(TextTable.fixed(total.p50 / swap.p50, 3)), p99 "
                + TextTable.fixed(total.p99 / swap.p99, 3),
        ].joined(separator: "\n")
    }
}
