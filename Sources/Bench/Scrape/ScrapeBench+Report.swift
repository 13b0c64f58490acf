import Foundation

extension ScrapeBench {
    public struct SideJSON: Encodable, Sendable {
        var publishP50Ns: UInt64, publishP99Ns: UInt64, publishP999Ns: UInt64, pooledP99Ns: UInt64, pooledP999Ns: UInt64
        var messages: UInt64, scrapes: Int, mallocsInPublishLoop: UInt64, roundsP99Ns: [UInt64]
        enum CodingKeys: String, CodingKey {
            case publishP50Ns = "publish_p50_ns"
            case publishP99Ns = "publish_p99_ns"
            case publishP999Ns = "publish_p999_ns"
            case pooledP99Ns = "pooled_p99_ns"
            case pooledP999Ns = "pooled_p999_ns"
            case messages, scrapes
            case mallocsInPublishLoop = "mallocs_in_publish_loop"
            case roundsP99Ns = "rounds_p99_ns"
        }
        init(_ s: Side) {
            publishP50Ns = s.medianP50
            publishP99Ns = s.medianP99
            publishP999Ns = s.medianP999
            pooledP99Ns = s.pooled.percentile(99)
            pooledP999Ns = s.pooled.percentile(99.9)
            messages = s.messages
            scrapes = s.scrapes
            mallocsInPublishLoop = s.mallocs
            roundsP99Ns = s.p99
        }
    }

    /// The subject's side and what the scraper measured.
    public struct ResultJSON: Encodable, Sendable {
        var side: SideJSON
        var scrapeMs: Double, scraper: String, scrapeP50Ns: UInt64, scrapeP99Ns: UInt64, scrapeBytes: Int
        var statsRecordDecisionNs: Double, statsRecordDecisionMallocs: UInt64
        enum CodingKeys: String, CodingKey {
            case scrapeMs = "scrape_ms"
            case scraper
            case scrapeP50Ns = "scrape_p50_ns"
            case scrapeP99Ns = "scrape_p99_ns"
            case scrapeBytes = "scrape_bytes"
            case statsRecordDecisionNs = "stats_record_decision_ns"
            case statsRecordDecisionMallocs = "stats_record_decision_mallocs"
        }
        public func encode(to encoder: any Encoder) throws {
            try side.encode(to: encoder)  // the side's keys, flattened into the same object
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(scrapeMs, forKey: .scrapeMs)
            try c.encode(scraper, forKey: .scraper)
            try c.encode(scrapeP50Ns, forKey: .scrapeP50Ns)
            try c.encode(scrapeP99Ns, forKey: .scrapeP99Ns)
            try c.encode(scrapeBytes, forKey: .scrapeBytes)
            try c.encode(statsRecordDecisionNs, forKey: .statsRecordDecisionNs)
            try c.encode(statsRecordDecisionMallocs, forKey: .statsRecordDecisionMallocs)
        }
    }

    /// Subject over baseline.
    public struct RatioJSON: Encodable, Sendable {
        var publishP50: Double, publishP99: Double, publishP999: Double, pooledP99: Double
        enum CodingKeys: String, CodingKey {
            case publishP50 = "publish_p50"
            case publishP99 = "publish_p99"
            case publishP999 = "publish_p999"
            case pooledP99 = "pooled_p99"
        }
    }
}

extension ScrapeBench.Result {
    var ratio: ScrapeBench.RatioJSON {
        func ratio(_ a: UInt64, _ b: UInt64) -> Double { b == 0 ? 0 : Double(a) / Double(b) }
        return .init(
            publishP50: ratio(subject.medianP50, baseline.medianP50),
            publishP99: ratio(subject.medianP99, baseline.medianP99),
            publishP999: ratio(subject.medianP999, baseline.medianP999),
            pooledP99: ratio(subject.pooled.percentile(99), baseline.pooled.percentile(99))
        )
    }

    public var report: BenchReport<ScrapeBench.ResultJSON, ScrapeBench.SideJSON, ScrapeBench.RatioJSON, NoConfig> {
        BenchReport(
            bench: "scrape",
            result: .init(
                side: .init(subject),
                scrapeMs: options.scrapeMs,
                scraper: options.scraper.rawValue,
                scrapeP50Ns: scrapeDurations.percentile(50),
                scrapeP99Ns: scrapeDurations.percentile(99),
                scrapeBytes: scrapeBytes,
                statsRecordDecisionNs: statsRecordNs,
                statsRecordDecisionMallocs: statsRecordMallocs
            ),
            baseline: .init(baseline),
            ratio: ratio
        )
    }

    public var text: String {
        let o = options
        let r = ratio
        var lines = [
            "bench scrape: producer publish latency (ns, each publish timed), \(o.rounds) interleaved rounds x \(o.roundSeconds) s per side, "
                + "scraper: \(o.scraper.rawValue)",
            "                      p50   p99  p99.9  pooled-p99  messages     scrapes  mallocs",
        ]
        for (label, s) in [("baseline (no scrape)", baseline), ("scrape every \(Int(o.scrapeMs)) ms", subject)] {
            lines.append(
                TextTable.rightPad(label, 20)
                    + String(
                        format: " %5d %5d %6d %11d %9d %11d %8d",
                        s.medianP50,
                        s.medianP99,
                        s.medianP999,
                        s.pooled.percentile(99),
                        s.messages,
                        s.scrapes,
                        s.mallocs
                    )
            )
        }
        lines.append(
            String(
                format: "ratio subject/baseline: p50 %.3f  p99 %.3f  p99.9 %.3f  pooled-p99 %.3f",
                r.publishP50,
                r.publishP99,
                r.publishP999,
                r.pooledP99
            )
        )
        lines.append(
            "scrape: p50 \(scrapeDurations.percentile(50)) ns, p99 \(scrapeDurations.percentile(99)) ns, \(scrapeBytes) bytes"
        )
        lines.append(
            String(
                format: "StatsWriter.recordDecision: %.1f ns per call, %d mallocs in %d calls",
                statsRecordNs,
                statsRecordMallocs,
                statsCalls
            )
        )
        return lines.joined(separator: "\n")
    }
}
