import ArgumentParser
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
        abstract: "Serve /metrics (Prometheus text format) for every ring, reader and strategy of a bus."
    )

    @Option(help: "Bus name.") var bus: String?
    @Option(help: "HOST:PORT to listen on (port 0 picks a free port; the line `listening=HOST:PORT` says which).")
    var listen: String = "127.0.0.1:9464"
    @Flag(help: "Print one exposition to stdout and exit.") var once: Bool = false
    @Option(name: .customLong("retain-dead"), help: "Seconds a dead reader stays listed after its entry is reclaimed.")
    var retainDead: Double = 300

    @Flag(
        name: .customLong("bench-scrape"),
        help: "Benchmark: producer publish latency with and without a concurrent scraper."
    )
    var benchScrape: Bool = false
    @Option(name: .customLong("scrape-ms"), help: "Benchmark: scrape interval in ms.") var scrapeMs: Double = 100
    @Option(help: "Benchmark: rounds per side (baseline and subject alternate).") var rounds: Int = 6
    @Option(name: .customLong("round-seconds"), help: "Benchmark: seconds per round.") var roundSeconds: Double = 1
    @Option(
        help:
            "Benchmark: the scraper is a separate `tickbus metrics` process over HTTP (process) or a thread rendering in this process (thread)."
    )
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
            server = try MetricsServer.start(
                host: host,
                port: port,
                bus: bus,
                tracker: SnapshotTracker(retainDeadSeconds: retainDead)
            )
        } catch {
            throw RuntimeFailure("metrics: cannot listen on \(listen): \(error)")
        }
        warn("metrics: serving http://\(host):\(server.port)/metrics for bus \(bus), pid \(getpid())")
        print("listening=\(host):\(server.port)")
        flushOut()
        while tb_stop_requested() == 0 { usleep(50_000) }
        server.shutdown()
    }
}

/// `tickbus stat --bus B [--once] [--json]`: a live view refreshed every second.
struct StatCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stat",
        abstract: "Live view of a bus: rings, readers (lag, loss), strategies (latency percentiles), messages/s."
    )

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
            if s.error != nil { throw ExitCode(1) }  // the bus directory was refused: not an empty bus
            return
        }
        installTelemetryStopSignals()
        while tb_stop_requested() == 0 {
            let s = tracker.take(bus: bus)
            if json {
                print(StatView.json(s))
            } else {
                // Home, clear, frame: one write per refresh.
                print(
                    "\u{1B}[H\u{1B}[2J" + StatView.render(s, width: width) + "(refresh \(interval) s; Ctrl-C quits)",
                    terminator: ""
                )
            }
            if fflush(nil) != 0 { return }  // the terminal went away
            let end = tb_monotonic_ns() + UInt64(max(0.05, interval) * 1e9)
            while tb_monotonic_ns() < end && tb_stop_requested() == 0 { usleep(20_000) }
        }
        if !json { print("") }
    }
}
