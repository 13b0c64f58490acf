import Feed
import Foundation

extension SimBench {
    public struct StatsJSON: Encodable, Sendable {
        var msgsPerS: Int, nsMedian: Double, nsP99: Double
        init(_ s: Stats) {
            msgsPerS = s.msgsPerS.isFinite ? Int(s.msgsPerS) : 0
            nsMedian = rounded(s.nsMedian, 2)
            nsP99 = rounded(s.nsP99, 2)
        }
        enum CodingKeys: String, CodingKey {
            case msgsPerS = "msgs_per_s"
            case nsMedian = "ns_per_msg_median"
            case nsP99 = "ns_per_msg_p99"
        }
    }
    public struct ResultJSON: Encodable, Sendable {
        var sim: StatsJSON, mallocs: Double, fills: Int, filledShares: Int, restingAtEnd: Int
        enum CodingKeys: String, CodingKey {
            case sim
            case mallocs = "mallocs_per_msg"
            case fills
            case filledShares = "filled_shares"
            case restingAtEnd = "resting_at_end"
        }
    }
    public struct BaselineJSON: Encodable, Sendable { var market: StatsJSON }
    public struct RatioJSON: Encodable, Sendable {
        var throughput: Double, nsMedian: Double
        enum CodingKeys: String, CodingKey {
            case throughput = "sim_vs_market_msgs_per_s"
            case nsMedian = "sim_vs_market_ns_median"
        }
    }
    public struct ConfigJSON: Encodable, Sendable {
        var source: String, messages: Int, rounds: Int, passes: Int, orders: Int, chunk: Int
    }
}

extension SimBench.Outcome {
    public var report: BenchReport<SimBench.ResultJSON, SimBench.BaselineJSON, SimBench.RatioJSON, SimBench.ConfigJSON>
    {
        BenchReport(
            bench: "sim",
            result: .init(
                sim: .init(sim),
                mallocs: mallocsPerMessage,
                fills: fills,
                filledShares: filledShares,
                restingAtEnd: restingAtEnd
            ),
            baseline: .init(market: .init(market)),
            ratio: .init(
                throughput: rounded(sim.msgsPerS / market.msgsPerS, 3),
                nsMedian: rounded(sim.nsMedian / market.nsMedian, 3)
            ),
            config: .init(
                source: source,
                messages: messages,
                rounds: rounds,
                passes: passes,
                orders: orders,
                chunk: SimBench.chunk
            )
        )
    }

    public var text: String {
        func f(_ x: Double, _ d: Int = 2) -> String { TextTable.fixed(x, d) }
        func row(_ name: String, _ s: SimBench.Stats) -> String {
            "  " + TextTable.rightPad(name, 40) + TextTable.leftPad(String(Int(s.msgsPerS)), 12)
                + TextTable.leftPad(f(s.nsMedian), 9) + TextTable.leftPad(f(s.nsP99), 9)
        }
        return [
            "bench sim: \(messages) messages of \(source) decoded in memory, \(passes) passes × \(rounds) rounds interleaved",
            "  contender                                    msgs/s   ns p50   ns p99   (per 4,096-message chunk)",
            row("market source alone (book)", market),
            row("+ simulator, \(orders) own orders resting", sim),
            "  ratio sim / market msgs/s: \(f(sim.msgsPerS / market.msgsPerS, 3))",
            "  fills \(fills) (\(filledShares) shares), resting at the end \(restingAtEnd), mallocs per message after warm-up \(mallocsPerMessage)",
        ].joined(separator: "\n")
    }
}

extension SimBench {
    /// The real LOBSTER level-5 day of `../shared/data` beside the repository (the day hftbacktest's
    /// figure was measured on).
    public static func defaultSource() throws(BenchError) -> SourceSpec {
        guard let root = BenchProcess.repositoryRoot(containing: "setup") else {
            throw .invalid("cannot find the repository (Tools/setup) to locate ../shared/data; pass --source")
        }
        let dir = URL(fileURLWithPath: root).deletingLastPathComponent().appendingPathComponent("shared/data/lobster")
            .path
        let m = dir + "/GOOG_2012-06-21_34200000_57600000_message_5.csv"
        let b = dir + "/GOOG_2012-06-21_34200000_57600000_orderbook_5.csv"
        guard FileManager.default.fileExists(atPath: m), FileManager.default.fileExists(atPath: b) else {
            throw .invalid(
                "the LOBSTER sample is missing: \(m) (../shared/data must sit beside the repository); pass --source"
            )
        }
        return .lobster(messages: m, orderbook: b)
    }
}
