import ArgumentParser
import Bench

/// `tickbus metrics --bench-scrape`: what scraping every 100 ms costs a full-speed producer (see `ScrapeBench`).
extension MetricsCommand {
    func runBench() throws {
        var o = ScrapeBench.Options()
        o.rounds = rounds
        o.roundSeconds = roundSeconds
        o.scrapeMs = scrapeMs
        guard let kind = ScrapeBench.Scraper(rawValue: scraper) else {
            throw ValidationError("--scraper must be process or thread")
        }
        o.scraper = kind
        let result = try runBenchmark { () throws(BenchError) in try ScrapeBench.run(o) }
        printBench(result.report, text: result.text, json: json)
    }
}
