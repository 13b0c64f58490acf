import Foundation

extension RepublishBench {
    public struct ResultJSON: Encodable, Sendable {
        var messagesPerS: Double, latencyP50Ns: Double, latencyP90Ns: Double, latencyP99Ns: Double
        var latencyP999Ns: Double, retransmitted: UInt64
        enum CodingKeys: String, CodingKey {
            case messagesPerS = "messages_per_s"
            case latencyP50Ns = "latency_p50_ns"
            case latencyP90Ns = "latency_p90_ns"
            case latencyP99Ns = "latency_p99_ns"
            case latencyP999Ns = "latency_p999_ns"
            case retransmitted
        }
    }
    public struct BaselineJSON: Encodable, Sendable {
        var messagesPerS: Double, latencyP50Ns: Double, latencyP90Ns: Double, latencyP99Ns: Double
        var latencyP999Ns: Double, lost: Int
        enum CodingKeys: String, CodingKey {
            case messagesPerS = "udp_messages_per_s"
            case latencyP50Ns = "udp_latency_p50_ns"
            case latencyP90Ns = "udp_latency_p90_ns"
            case latencyP99Ns = "udp_latency_p99_ns"
            case latencyP999Ns = "udp_latency_p999_ns"
            case lost = "udp_lost"
        }
    }
    public struct RatioJSON: Encodable, Sendable {
        var latencyP50: Double, latencyP99: Double, throughput: Double
        enum CodingKeys: String, CodingKey {
            case latencyP50 = "latency_p50"
            case latencyP99 = "latency_p99"
            case throughput
        }
    }
    public struct ConfigJSON: Encodable, Sendable {
        var messages: Int, latencyMessages: Int, rate: Double, rounds: Int, packetBytes: Int, flatPacketBytes: Int
        var group: String, senderNetns: String?, receiverNetns: String?
        enum CodingKeys: String, CodingKey {
            case messages
            case latencyMessages = "latency_messages"
            case rate, rounds
            case packetBytes = "packet_bytes"
            case flatPacketBytes = "flat_packet_bytes"
            case group
            case senderNetns = "sender_netns"
            case receiverNetns = "receiver_netns"
        }
    }
}

extension RepublishBench.Outcome {
    public var report:
        BenchReport<
            RepublishBench.ResultJSON, RepublishBench.BaselineJSON, RepublishBench.RatioJSON, RepublishBench.ConfigJSON
        >
    {
        BenchReport(
            bench: "republish",
            result: .init(
                messagesPerS: rounded(messagesPerS, 0),
                latencyP50Ns: latency.p50,
                latencyP90Ns: latency.p90,
                latencyP99Ns: latency.p99,
                latencyP999Ns: latency.p999,
                retransmitted: retransmitted
            ),
            baseline: .init(
                messagesPerS: rounded(baselineMessagesPerS, 0),
                latencyP50Ns: baselineLatency.p50,
                latencyP90Ns: baselineLatency.p90,
                latencyP99Ns: baselineLatency.p99,
                latencyP999Ns: baselineLatency.p999,
                lost: baselineLost
            ),
            ratio: .init(
                latencyP50: rounded(baselineLatency.p50 > 0 ? latency.p50 / baselineLatency.p50 : 0, 3),
                latencyP99: rounded(baselineLatency.p99 > 0 ? latency.p99 / baselineLatency.p99 : 0, 3),
                throughput: rounded(baselineMessagesPerS > 0 ? messagesPerS / baselineMessagesPerS : 0, 3)
            ),
            config: .init(
                messages: options.messages,
                latencyMessages: options.latencyMessages,
                rate: options.rate,
                rounds: options.rounds,
                packetBytes: packetBytes,
                flatPacketBytes: flatPacketBytes,
                group: options.group,
                senderNetns: options.senderNetns,
                receiverNetns: options.receiverNetns
            )
        )
    }

    public var text: String {
        func f3(_ x: Double) -> String { TextTable.fixed(x, 3) }
        let where_ =
            options.senderNetns.map { "netns \($0) → \(options.receiverNetns ?? "?")" } ?? "one network namespace"
        return [
            "bench republish (\(where_), group \(options.group); medians of \(options.rounds) interleaved rounds)",
            "ring→ring one-way ns at \(Int(options.rate)) msg/s: p50=\(latency.p50) p90=\(latency.p90) p99=\(latency.p99) p99.9=\(latency.p999)",
            "raw UDP (\(packetBytes)-byte datagrams):  p50=\(baselineLatency.p50) p90=\(baselineLatency.p90) p99=\(baselineLatency.p99) p99.9=\(baselineLatency.p999)",
            "latency ratio p50 = \(f3(latency.p50 / max(baselineLatency.p50, 1))), p99 = \(f3(latency.p99 / max(baselineLatency.p99, 1)))",
            "throughput: ring→ring \(Int(messagesPerS)) msg/s (retransmitted \(retransmitted)); raw UDP \(Int(baselineMessagesPerS)) msg/s in \(flatPacketBytes)-byte datagrams (lost \(baselineLost)); ratio \(f3(messagesPerS / max(baselineMessagesPerS, 1)))",
        ].joined(separator: "\n")
    }
}
