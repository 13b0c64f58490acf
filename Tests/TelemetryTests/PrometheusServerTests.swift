import Foundation
import TestSupport
import Testing
import TickBusCore

@testable import Telemetry

#if canImport(Glibc)
import Glibc
#endif

/// A loopback TCP port that was free a moment ago (bound to port 0, then closed).
func freePort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    addr.sin_port = 0
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    let ok = withUnsafeMutablePointer(to: &addr) { p in
        p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
    }
    return ok ? Int(UInt16(bigEndian: addr.sin_port)) : 0
}

/// The first value of an instant-query answer of Prometheus's HTTP API, or nil.
func queryValue(port: Int, _ query: String) -> String? {
    var allowed = CharacterSet.alphanumerics
    allowed.insert(charactersIn: "-._~")
    guard let encoded = query.addingPercentEncoding(withAllowedCharacters: allowed) else { return nil }
    let r = httpGet(port: port, path: "/api/v1/query?query=\(encoded)")
    guard r.status == 200, let object = try? JSONSerialization.jsonObject(with: Data(r.body.utf8)) as? [String: Any],
        let data = object["data"] as? [String: Any], let result = data["result"] as? [[String: Any]],
        let value = result.first?["value"] as? [Any], value.count == 2
    else { return nil }
    return value[1] as? String
}

extension TelemetryProcessTests {
    /// Acceptance 1 (plus): the real Prometheus server scrapes `tickbus metrics` on loopback and
    /// answers queries about it through its HTTP API.
    @Test func prometheusScrapesTheEndpointAndAnswersQueries() throws {
        let bus = TickBusTest.uniqueBus("tel-prom")
        defer { TickBusTest.removeBus(bus) }
        let dir = TickBusTest.temporaryDirectory("prometheus")
        defer { try? FileManager.default.removeItem(at: dir) }

        let stats = try StatsWriter(bus: bus, name: "alpha", kind: .strategy, modelId: 7)
        for i in 0..<100 { stats.recordDecision(latencyNs: UInt64(1000 + i), signal: 1) }
        let fed = try TickBusTest.run(
            ["feed", "--bus", bus, "--source", "synthetic:11", "--messages", "5000"],
            timeout: 60
        )
        #expect(fed.status == 0, "feed: \(fed.stderr)")

        let (metrics, port) = try startMetrics(bus: bus)
        defer {
            metrics.signal(SIGKILL)
            _ = metrics.wait(timeout: 5)
        }
        let promPort = freePort()
        let config = dir.appendingPathComponent("prometheus.yml")
        try """
        global:
          scrape_interval: 1s
          evaluation_interval: 1s
        scrape_configs:
          - job_name: tickbus
            static_configs:
              - targets: ['127.0.0.1:\(port)']
        """.write(to: config, atomically: true, encoding: .utf8)
        let prometheus = try Child(
            [
                "--config.file=\(config.path)", "--storage.tsdb.path=\(dir.appendingPathComponent("data").path)",
                "--web.listen-address=127.0.0.1:\(promPort)", "--log.level=warn",
            ],
            executable: "/usr/bin/prometheus"
        )
        defer {
            prometheus.signal(SIGKILL)
            _ = prometheus.wait(timeout: 10)
        }

        let deadline = Date().addingTimeInterval(60)
        var published: String?
        while Date() < deadline && prometheus.isRunning {
            published = queryValue(port: promPort, "tickbus_ring_published_total{bus=\"\(bus)\",ring=\"market\"}")
            if published != nil { break }
            usleep(500_000)
        }
        #expect(
            published == "5001",
            "prometheus answered \(String(describing: published)); its log: \(prometheus.stderr.suffix(2000))"
        )
        #expect(queryValue(port: promPort, "up{job=\"tickbus\"}") == "1")
        #expect(
            queryValue(port: promPort, "tickbus_strategy_tick_to_decision_seconds_count{strategy=\"alpha\"}") == "100"
        )
        #expect(
            queryValue(
                port: promPort,
                "tickbus_strategy_decisions_total{strategy=\"alpha\",model_id=\"0000000000000007\"}"
            ) == "100"
        )
        stats.close()
    }
}

extension TelemetryProcessTests {
    /// The scrape-overhead benchmark runs, scrapes only in subject rounds, and allocates nothing
    /// in the publish loop or in StatsWriter.recordDecision (figures are not checked: wall clock).
    @Test func scrapeBenchReportsBothSidesWithoutAllocating() throws {
        let r = try TickBusTest.run(
            ["metrics", "--bench-scrape", "--rounds", "1", "--round-seconds", "0.3", "--json"],
            timeout: 120
        )
        #expect(r.status == 0, "bench: \(r.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(r.lastLine.utf8)) as? [String: Any]
        #expect(object?["bench"] as? String == "scrape")
        let result = object?["result"] as? [String: Any]
        let baseline = object?["baseline"] as? [String: Any]
        #expect((result?["scrapes"] as? Int ?? 0) >= 1 && baseline?["scrapes"] as? Int == 0)
        #expect((result?["messages"] as? Int ?? 0) > 0 && (baseline?["messages"] as? Int ?? 0) > 0)
        #expect(result?["mallocs_in_publish_loop"] as? Int == 0 && baseline?["mallocs_in_publish_loop"] as? Int == 0)
        #expect(result?["stats_record_decision_mallocs"] as? Int == 0)
        #expect((object?["ratio"] as? [String: Any])?["publish_p99"] != nil)
    }

    /// The endpoint answers `/` and refuses other paths with 404.
    @Test func endpointServesOnlyMetrics() throws {
        let bus = TickBusTest.uniqueBus("tel-http")
        defer { TickBusTest.removeBus(bus) }
        let (metrics, port) = try startMetrics(bus: bus)
        defer {
            metrics.signal(SIGKILL)
            _ = metrics.wait(timeout: 5)
        }
        func status(_ path: String) -> String { "\(httpGet(port: port, path: path).status)" }
        #expect(status("/metrics") == "200")
        #expect(status("/") == "200")
        #expect(status("/nope") == "404")
        // An empty bus still gives a valid exposition.
        let check = try promtool(fetch("http://127.0.0.1:\(port)/metrics"))
        #expect(check.status == 0, "\(check.stdout) \(check.stderr)")
        // SIGTERM stops it (the stop signals are unblocked even when the parent blocked them).
        metrics.signal(SIGTERM)
        let ended = metrics.wait(timeout: 10)
        #expect(!ended.timedOut && ended.status == 0)
    }
}

extension TelemetryProcessTests {
    /// A reader killed while its producer runs: the producer reclaims its entry (~ every 4096
    /// messages), yet `/metrics` keeps it, with `tickbus_reader_alive 0` and its last figures.
    @Test func aReclaimedDeadReaderStaysListedAsDead() throws {
        let bus = TickBusTest.uniqueBus("tel-reclaim")
        defer { TickBusTest.removeBus(bus) }
        let (metrics, port) = try startMetrics(bus: bus)
        defer {
            metrics.signal(SIGKILL)
            _ = metrics.wait(timeout: 5)
        }
        let feed = try Child([
            "feed", "--bus", bus, "--source", "synthetic:9", "--rate", "20000", "--messages", "100000000",
            "--wait-readers", "1",
        ])
        let victim = try Child(["tap", "--bus", bus, "--name", "victim", "--attach-timeout", "20"])
        defer {
            victim.signal(SIGKILL)
            feed.signal(SIGKILL)
        }
        let labels = ["bus": bus, "ring": "market", "reader": "victim", "pid": "\(victim.pid)"]
        var deadline = Date().addingTimeInterval(30)
        var text = ""
        while Date() < deadline {
            text = fetch("http://127.0.0.1:\(port)/metrics")
            if sample(text, "tickbus_reader_alive", labels) == "1" { break }
            usleep(100_000)
        }
        #expect(sample(text, "tickbus_reader_alive", labels) == "1", "\(text)")
        kill(victim.pid, SIGKILL)
        _ = victim.wait(timeout: 10)
        deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            text = fetch("http://127.0.0.1:\(port)/metrics")
            if sample(text, "tickbus_ring_readers_reclaimed_total", ["bus": bus, "ring": "market"]) == "1" { break }
            usleep(300_000)
        }
        #expect(
            sample(text, "tickbus_ring_readers_reclaimed_total", ["bus": bus, "ring": "market"]) == "1",
            "never reclaimed"
        )
        // Reclaimed: not in the reader table any more, still listed as dead, its lag growing.
        let table = ReaderTable.snapshot(try Segment.attach(bus: bus, ring: "market", expecting: .market))
        #expect(!table.contains { $0.name == "victim" })
        #expect(sample(text, "tickbus_reader_alive", labels) == "0", "\(text)")
        #expect(sample(text, "tickbus_ring_readers", ["bus": bus, "ring": "market"]) == "0")
        usleep(300_000)
        let later = fetch("http://127.0.0.1:\(port)/metrics")
        let lag0 = UInt64(sample(text, "tickbus_reader_lag_messages", labels) ?? "") ?? 0
        let lag1 = UInt64(sample(later, "tickbus_reader_lag_messages", labels) ?? "") ?? 0
        #expect(lag1 > lag0, "a dead reader falls further behind: \(lag0) then \(lag1)")
    }
}
