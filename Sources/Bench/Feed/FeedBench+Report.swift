import Foundation

extension FeedBench {
    public struct StatsJSON: Encodable, Sendable {
        var median: Double, p99: Double, mean: Double
        init(_ s: Stats) { (median, p99, mean) = (rounded(s.median, 2), rounded(s.p99, 2), rounded(s.mean, 2)) }
    }
    public struct ResultJSON: Encodable, Sendable {
        var parseOnly: StatsJSON, parseBook: StatsJSON, ringMsgsPerS: Int, ringInputMsgsPerS: Int
        var mallocsParseBook: Double, mallocsRing: Double
        enum CodingKeys: String, CodingKey {
            case parseOnly = "parse_only_ns_per_msg"
            case parseBook = "parse_book_ns_per_msg"
            case ringMsgsPerS = "ring_msgs_per_s"
            case ringInputMsgsPerS = "ring_input_msgs_per_s"
            case mallocsParseBook = "mallocs_per_msg_parse_book"
            case mallocsRing = "mallocs_per_msg_ring"
        }
    }
    public struct BaselineJSON: Encodable, Sendable {
        var cWalk: StatsJSON
        enum CodingKeys: String, CodingKey { case cWalk = "c_walk_ns_per_msg" }
    }
    public struct RatioJSON: Encodable, Sendable {
        var parseOnlyMedian: Double, parseOnlyP99: Double, parseBookMedian: Double
        enum CodingKeys: String, CodingKey {
            case parseOnlyMedian = "parse_only_vs_c_median"
            case parseOnlyP99 = "parse_only_vs_c_p99"
            case parseBookMedian = "parse_book_vs_c_median"
        }
    }
    public struct ConfigJSON: Encodable, Sendable {
        var messages: Int, bytes: Int, rounds: Int, chunk: Int, checksum: UInt64
    }
}

extension FeedBench.Outcome {
    public var report:
        BenchReport<FeedBench.ResultJSON, FeedBench.BaselineJSON, FeedBench.RatioJSON, FeedBench.ConfigJSON>
    {
        func int(_ x: Double) -> Int { x.isFinite ? Int(x) : 0 }
        return BenchReport(
            bench: "feed",
            result: .init(
                parseOnly: .init(parse),
                parseBook: .init(book),
                ringMsgsPerS: int(ringMsgsPerS),
                ringInputMsgsPerS: int(ringInputMsgsPerS),
                mallocsParseBook: mallocsPerMessage,
                mallocsRing: ringMallocsPerMessage
            ),
            baseline: .init(cWalk: .init(c)),
            ratio: .init(
                parseOnlyMedian: rounded(parse.median / c.median, 3),
                parseOnlyP99: rounded(parse.p99 / c.p99, 3),
                parseBookMedian: rounded(book.median / c.median, 3)
            ),
            config: .init(
                messages: messages,
                bytes: bytes,
                rounds: rounds,
                chunk: FeedBench.chunk,
                checksum: checksum & 0xFF
            )
        )
    }

    public var text: String {
        var lines = [
            "bench feed: \(messages) ITCH messages (\(bytes) bytes, memory-mapped), \(rounds) rounds interleaved",
            "  ns/message (per 4,096-message chunk)   median      p99     mean   vs C median",
        ]
        func f(_ x: Double, _ d: Int = 2) -> String { TextTable.fixed(x, d) }
        func row(_ name: String, _ x: FeedBench.Stats) {
            lines.append(
                "  " + TextTable.rightPad(name, 36) + TextTable.leftPad(f(x.median), 9) + TextTable.leftPad(f(x.p99), 9)
                    + TextTable.leftPad(f(x.mean), 9) + TextTable.leftPad(f(x.median / c.median, 3), 12)
            )
        }
        row("C loop (length walk + type switch)", c)
        row("parse only", parse)
        row("parse + book", book)
        lines.append(
            "  through to the ring: \(Int(ringInputMsgsPerS)) input msgs/s, \(Int(ringMsgsPerS)) ring msgs/s (events + tops)"
        )
        lines.append(
            "  mallocs per message after warm-up: parse+book \(mallocsPerMessage), ring \(ringMallocsPerMessage)"
        )
        return lines.joined(separator: "\n")
    }
}
