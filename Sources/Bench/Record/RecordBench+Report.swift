import Foundation

extension RecordBench {
    public struct ResultJSON: Encodable, Sendable {
        var messagesPerS: Double, mbPerS: Double, records: UInt64, lost: UInt64
        var publishP50Ns: Double, publishP99Ns: Double, publishP999Ns: Double
        var recorderMallocsPerMessage: Double, producerMallocsPerMessage: Double, rounds: Int, messagesPerRound: Int
        enum CodingKeys: String, CodingKey {
            case messagesPerS = "messages_per_s"
            case mbPerS = "mb_per_s"
            case records, lost
            case publishP50Ns = "publish_p50_ns"
            case publishP99Ns = "publish_p99_ns"
            case publishP999Ns = "publish_p999_ns"
            case recorderMallocsPerMessage = "recorder_mallocs_per_message"
            case producerMallocsPerMessage = "producer_mallocs_per_message"
            case rounds
            case messagesPerRound = "messages_per_round"
        }
    }
    public struct BaselineJSON: Encodable, Sendable {
        var pwriteMessagesPerS: Double, pwriteMbPerS: Double, pollOnlyMessagesPerS: Double, pollOnlyLost: UInt64
        var publishP50Ns: Double, publishP99Ns: Double, publishP999Ns: Double
        enum CodingKeys: String, CodingKey {
            case pwriteMessagesPerS = "pwrite_messages_per_s"
            case pwriteMbPerS = "pwrite_mb_per_s"
            case pollOnlyMessagesPerS = "poll_only_messages_per_s"
            case pollOnlyLost = "poll_only_lost"
            case publishP50Ns = "publish_p50_ns"
            case publishP99Ns = "publish_p99_ns"
            case publishP999Ns = "publish_p999_ns"
        }
    }
    public struct RatioJSON: Encodable, Sendable {
        var throughput: Double, throughputVsPollOnly: Double, publishP99: Double
        enum CodingKeys: String, CodingKey {
            case throughput
            case throughputVsPollOnly = "throughput_vs_poll_only"
            case publishP99 = "publish_p99"
        }
    }
}

extension RecordBench.Outcome {
    static let megabytesPerMessage = 64.0 / 1e6

    var recorderMallocsPerMessage: Double { Double(recorderMallocs) / Double(max(1, recorded)) }
    var producerMallocsPerMessage: Double { Double(producerMallocs) / Double(options.messages * options.rounds * 2) }

    public var report: BenchReport<RecordBench.ResultJSON, RecordBench.BaselineJSON, RecordBench.RatioJSON, NoConfig> {
        let mb = Self.megabytesPerMessage
        return BenchReport(
            bench: "record",
            result: .init(
                messagesPerS: recordRate,
                mbPerS: recordRate * mb,
                records: recorded,
                lost: lost,
                publishP50Ns: withRecorder.p50,
                publishP99Ns: withRecorder.p99,
                publishP999Ns: withRecorder.p999,
                recorderMallocsPerMessage: recorderMallocsPerMessage,
                producerMallocsPerMessage: producerMallocsPerMessage,
                rounds: options.rounds,
                messagesPerRound: options.messages
            ),
            baseline: .init(
                pwriteMessagesPerS: pwriteRate,
                pwriteMbPerS: pwriteRate * mb,
                pollOnlyMessagesPerS: pollRate,
                pollOnlyLost: pollLost,
                publishP50Ns: alone.p50,
                publishP99Ns: alone.p99,
                publishP999Ns: alone.p999
            ),
            ratio: .init(
                throughput: pwriteRate > 0 ? recordRate / pwriteRate : 0,
                throughputVsPollOnly: pollRate > 0 ? recordRate / pollRate : 0,
                publishP99: alone.p99 > 0 ? withRecorder.p99 / alone.p99 : 0
            )
        )
    }

    public var text: String {
        let mb = Self.megabytesPerMessage
        func f3(_ x: Double) -> String { TextTable.fixed(x, 3) }
        return [
            "recorder: \(Int(recordRate)) msg/s \(f3(recordRate * mb)) MB/s (median of \(options.rounds) rounds; records=\(recorded) lost=\(lost))",
            "pwrite:   \(Int(pwriteRate)) msg/s \(f3(pwriteRate * mb)) MB/s (same bytes, 1 MiB pwrite calls)",
            "poll-only reader (no journal): \(Int(pollRate)) msg/s (lost=\(pollLost)): the ring read limit at full producer speed",
            "throughput ratio recorder/pwrite = \(f3(recordRate / max(pwriteRate, 1)))",
            "publish ns alone:         p50=\(alone.p50) p99=\(alone.p99) p99.9=\(alone.p999)",
            "publish ns with recorder: p50=\(withRecorder.p50) p99=\(withRecorder.p99) p99.9=\(withRecorder.p999)",
            "publish p99 ratio with/without = \(f3(withRecorder.p99 / max(alone.p99, 1)))",
            "mallocs per message: recorder=\(recorderMallocsPerMessage) producer=\(producerMallocsPerMessage)",
        ].joined(separator: "\n")
    }
}
