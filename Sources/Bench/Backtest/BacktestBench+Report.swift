import Foundation

extension BacktestBench {
    public struct FiguresJSON: Encodable, Sendable {
        var msgsPerS: Int, mallocs: Double, decisions: UInt64, orders: UInt64, fills: UInt64
        init(_ f: Figures) {
            msgsPerS = f.msgsPerS.isFinite ? Int(f.msgsPerS) : 0
            mallocs = rounded(f.mallocsPerMessage, 4)
            decisions = f.decisions
            orders = f.orders
            fills = f.fills
        }
        enum CodingKeys: String, CodingKey {
            case msgsPerS = "msgs_per_s"
            case mallocs = "mallocs_per_msg"
            case decisions, orders, fills
        }
    }
    public struct ResultJSON: Encodable, Sendable {
        var contenders: [String: FiguresJSON]
        var peakKBOne: Int?, peakKBTen: Int?
        enum CodingKeys: String, CodingKey {
            case contenders
            case peakKBOne = "peak_kb_day"
            case peakKBTen = "peak_kb_ten_days"
        }
    }
    public struct BaselineJSON: Encodable, Sendable {
        var sourceMsgsPerS: Int
        enum CodingKeys: String, CodingKey { case sourceMsgsPerS = "source_msgs_per_s" }
    }
    public struct RatioJSON: Encodable, Sendable {
        var vsSource: [String: Double]
        var peakTenVsOne: Double?
        enum CodingKeys: String, CodingKey {
            case vsSource = "vs_source_msgs_per_s"
            case peakTenVsOne = "peak_ten_days_vs_day"
        }
    }
    public struct ConfigJSON: Encodable, Sendable { var source: String, messages: Int, rounds: Int }
}

extension BacktestBench.Outcome {
    public var report:
        BenchReport<
            BacktestBench.ResultJSON, BacktestBench.BaselineJSON, BacktestBench.RatioJSON, BacktestBench.ConfigJSON
        >
    {
        var figures: [String: BacktestBench.FiguresJSON] = [:]
        var ratios: [String: Double] = [:]
        for (name, f) in contenders {
            figures[name] = .init(f)
            ratios[name] = rounded(f.msgsPerS / source.msgsPerS, 4)
        }
        return BenchReport(
            bench: "backtest",
            result: .init(contenders: figures, peakKBOne: peakKB?.one, peakKBTen: peakKB?.ten),
            baseline: .init(sourceMsgsPerS: source.msgsPerS.isFinite ? Int(source.msgsPerS) : 0),
            ratio: .init(
                vsSource: ratios,
                peakTenVsOne: peakKB.map { rounded(Double($0.ten) / Double(max(1, $0.one)), 4) }
            ),
            config: .init(source: sourceName, messages: messages, rounds: rounds)
        )
    }

    public var text: String {
        var lines = [
            "bench backtest: \(messages) messages of \(sourceName) decoded in memory, \(rounds) rounds interleaved",
            "  contender                        msgs/s   vs source   mallocs/msg   decisions     orders      fills",
            "  " + TextTable.rightPad("market source alone", 28) + TextTable.leftPad(String(Int(source.msgsPerS)), 12),
        ]
        for (name, f) in contenders {
            lines.append(
                "  " + TextTable.rightPad(name, 28) + TextTable.leftPad(String(Int(f.msgsPerS)), 12)
                    + TextTable.leftPad(TextTable.fixed(f.msgsPerS / source.msgsPerS, 3), 12)
                    + TextTable.leftPad(TextTable.fixed(f.mallocsPerMessage, 4), 14)
                    + TextTable.leftPad(String(f.decisions), 12) + TextTable.leftPad(String(f.orders), 11)
                    + TextTable.leftPad(String(f.fills), 11)
            )
        }
        if let p = peakKB {
            lines.append(
                "  peak memory (VmHWM) of the model backtest: day \(p.one) kB, ten days \(p.ten) kB (ratio \(TextTable.fixed(Double(p.ten) / Double(max(1, p.one)), 3)))"
            )
        }
        return lines.joined(separator: "\n")
    }
}
