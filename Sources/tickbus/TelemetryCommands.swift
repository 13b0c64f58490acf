import ArgumentParser
import CMallocCounter
import CTickBus
import Foundation
import Telemetry
import TickBusCore

/// Installs the stop handlers (SIGINT, SIGTERM) and unblocks them and SIGHUP: a process may
/// inherit a mask that blocks them (test harnesses do), and a live view must end with its terminal.
private func installTelemetryStopSignals() {
    var set = sigset_t()
    sigemptyset(&set)
    for s in [SIGINT, SIGTERM, SIGHUP] { sigaddset(&set, s) }
    pthread_sigmask(SIG_UNBLOCK, &set, nil)
    tb_install_stop_signals()
}

/// `tickbus metrics --bus B --listen 127.0.0.1:PORT`: Prometheus `/metrics` over HTTP (SwiftNIO).
/// `--once` prints one exposition to stdout; `--bench-scrape` measures what scraping every
/// 100 ms costs a full-speed producer.
struct MetricsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "metrics",
        abstract: "Serve /metrics (Prometheus text format) for every ring, reader and strategy of a bus.")

    @Option(help: "Bus name.") var bus: String?
    @Option(help: "HOST:PORT to listen on (port 0 picks a free port; the line `listening=HOST:PORT` says which).")
    var listen: String = "127.0.0.1:9464"
    @Flag(help: "Print one exposition to stdout and exit.") var once: Bool = false
    @Option(name: .customLong("retain-dead"), help: "Seconds a dead reader stays listed after its entry is reclaimed.")
    var retainDead: Double = 300

    @Flag(name: .customLong("bench-scrape"), help: "Benchmark: producer publish latency with and without a concurrent scraper.")
    var benchScrape: Bool = false
    @Option(name: .customLong("scrape-ms"), help: "Benchmark: scrape interval in ms.") var scrapeMs: Double = 100
    @Option(help: "Benchmark: rounds per side (baseline and subject alternate).") var rounds: Int = 6
    @Option(name: .customLong("round-seconds"), help: "Benchmark: seconds per round.") var roundSeconds: Double = 1
    @Option(help: "Benchmark: the scraper is a separate `tickbus metrics` process over HTTP (process) or a thread rendering in this process (thread).")
    var scraper: String = "process"
    @Flag(help: "Benchmark: print one JSON object.") var json: Bool = false

    func validate() throws {
        if !benchScrape && bus == nil { throw ValidationError("--bus is required") }
    }

    func run() throws {
        if benchScrape { return try runBench() }
        let bus = bus!
        if once {
            print(PrometheusExposition.scrape(bus: bus), terminator: "")
            return
        }
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]) else {
            throw ValidationError("--listen '\(listen)': expected HOST:PORT, e.g. 127.0.0.1:9464")
        }
        let host = String(listen[..<colon])
        installTelemetryStopSignals()
        let server: MetricsServer
        do {
            server = try MetricsServer.start(host: host, port: port, bus: bus, tracker: SnapshotTracker(retainDeadSeconds: retainDead))
        } catch {
            throw RuntimeFailure("metrics: cannot listen on \(listen): \(error)")
        }
        warn("metrics: serving http://\(host):\(server.port)/metrics for bus \(bus), pid \(getpid())")
        print("listening=\(host):\(server.port)")
        flushOut()
        while tb_stop_requested() == 0 { usleep(50_000) }
        server.shutdown()
    }

    func runBench() throws {
        var o = ScrapeBench.Options()
        o.rounds = rounds
        o.roundSeconds = roundSeconds
        o.scrapeMs = scrapeMs
        guard let kind = ScrapeBench.Scraper(rawValue: scraper) else { throw ValidationError("--scraper must be process or thread") }
        o.scraper = kind
        let r = try ScrapeBench.run(o, mallocCount: { UInt64(tb_thread_malloc_count()) })
        func side(_ s: ScrapeBench.Side) -> [String: Any] {
            ["publish_p50_ns": s.medianP50, "publish_p99_ns": s.medianP99, "publish_p999_ns": s.medianP999,
             "pooled_p99_ns": s.pooled.percentile(99), "pooled_p999_ns": s.pooled.percentile(99.9),
             "messages": s.messages, "scrapes": s.scrapes, "mallocs_in_publish_loop": s.mallocs,
             "rounds_p99_ns": s.p99]
        }
        func ratio(_ a: UInt64, _ b: UInt64) -> Double { b == 0 ? 0 : Double(a) / Double(b) }
        let ratios: [String: Double] = [
            "publish_p50": ratio(r.subject.medianP50, r.baseline.medianP50),
            "publish_p99": ratio(r.subject.medianP99, r.baseline.medianP99),
            "publish_p999": ratio(r.subject.medianP999, r.baseline.medianP999),
            "pooled_p99": ratio(r.subject.pooled.percentile(99), r.baseline.pooled.percentile(99)),
        ]
        if json {
            var result = side(r.subject)
            result["scrape_ms"] = scrapeMs
            result["scraper"] = scraper
            result["scrape_p50_ns"] = r.scrapeDurations.percentile(50)
            result["scrape_p99_ns"] = r.scrapeDurations.percentile(99)
            result["scrape_bytes"] = r.scrapeBytes
            result["stats_record_decision_ns"] = r.statsRecordNs
            result["stats_record_decision_mallocs"] = r.statsRecordMallocs
            let object: [String: Any] = ["bench": "scrape", "result": result, "baseline": side(r.baseline), "ratio": ratios]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print("bench scrape: producer publish latency (ns, each publish timed), \(rounds) interleaved rounds x \(roundSeconds) s per side, scraper: \(scraper)")
            print("                      p50   p99  p99.9  pooled-p99  messages     scrapes  mallocs")
            for (label, s) in [("baseline (no scrape)", r.baseline), ("scrape every \(Int(scrapeMs)) ms", r.subject)] {
                print(label.padding(toLength: 20, withPad: " ", startingAt: 0)
                      + String(format: " %5d %5d %6d %11d %9d %11d %8d", s.medianP50, s.medianP99, s.medianP999,
                               s.pooled.percentile(99), s.messages, s.scrapes, s.mallocs))
            }
            print(String(format: "ratio subject/baseline: p50 %.3f  p99 %.3f  p99.9 %.3f  pooled-p99 %.3f",
                         ratios["publish_p50"]!, ratios["publish_p99"]!, ratios["publish_p999"]!, ratios["pooled_p99"]!))
            print("scrape: p50 \(r.scrapeDurations.percentile(50)) ns, p99 \(r.scrapeDurations.percentile(99)) ns, \(r.scrapeBytes) bytes")
            print(String(format: "StatsWriter.recordDecision: %.1f ns per call, %d mallocs in %d calls", r.statsRecordNs, r.statsRecordMallocs, r.statsCalls))
        }
    }
}

/// `tickbus stat --bus B [--once] [--json]`: a live view refreshed every second.
struct StatCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stat",
        abstract: "Live view of a bus: rings, readers (lag, loss), strategies (latency percentiles), messages/s.")

    @Option(help: "Bus name.") var bus: String
    @Flag(help: "Print one frame and exit.") var once: Bool = false
    @Flag(help: "Print a machine-readable snapshot (one JSON object per refresh).") var json: Bool = false
    @Option(help: "Seconds between refreshes.") var interval: Double = 1
    @Option(help: "Columns of the frame.") var width: Int = 100

    func run() throws {
        try BusPaths.validate(bus)
        let tracker = SnapshotTracker()
        if once {
            // Two looks a quarter second apart, so messages/s has a value.
            _ = tracker.take(bus: bus)
            usleep(250_000)
            let s = tracker.take(bus: bus)
            print(json ? StatView.json(s) : StatView.render(s, width: width), terminator: json ? "\n" : "")
            flushOut()
            return
        }
        installTelemetryStopSignals()
        while tb_stop_requested() == 0 {
            let s = tracker.take(bus: bus)
            if json {
                print(StatView.json(s))
            } else {
                // Home, clear, frame: one write per refresh.
                print("\u{1B}[H\u{1B}[2J" + StatView.render(s, width: width) + "(refresh \(interval) s; Ctrl-C quits)", terminator: "")
            }
            if fflush(nil) != 0 { return }  // the terminal went away
            let end = tb_monotonic_ns() + UInt64(max(0.05, interval) * 1e9)
            while tb_monotonic_ns() < end && tb_stop_requested() == 0 { usleep(20_000) }
        }
        if !json { print("") }
    }
}
