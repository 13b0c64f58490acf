import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Tools/ops: the Prometheus rules pass `promtool check rules`, the Grafana dashboard parses, and
/// every metric either queries is in a real scrape of a live bus (`tickbus metrics --once`) or of
/// the drift monitor beside it (`tickbus drift --listen`).
@Suite("Operations: Prometheus rules and the Grafana dashboard", .serialized)
struct OpsTests {
    static let ops = TickBusTest.repositoryRoot.appendingPathComponent("Tools/ops").path
    static var rules: String { ops + "/prometheus/tickbus-alerts.yml" }
    static var dashboard: String { ops + "/grafana/tickbus-dashboard.json" }

    /// `tickbus_…` names in a text (metric names in PromQL).
    static func metricNames(_ text: String) -> Set<String> {
        var out = Set<String>()
        let regex = try! NSRegularExpression(pattern: "tickbus_[a-z0-9_]+")
        for m in regex.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
            out.insert(String(text[Range(m.range, in: text)!]))
        }
        return out
    }

    /// Sample names of an exposition (histogram series with their suffixes).
    static func sampleNames(_ exposition: String) -> Set<String> {
        var out = Set<String>()
        for line in exposition.split(separator: "\n") where !line.hasPrefix("#") {
            let end = line.firstIndex { $0 == "{" || $0 == " " } ?? line.endIndex
            out.insert(String(line[..<end]))
        }
        return out
    }

    @Test("promtool check rules")
    func rulesCheck() throws {
        let r = try Child(["promtool", "check", "rules", Self.rules], executable: "/usr/bin/env").wait(timeout: 60)
        #expect(r.status == 0, "promtool (installed by Tools/setup): \(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("SUCCESS: 9 rules found"), "\(r.stdout)")
        let text = try String(contentsOfFile: Self.rules, encoding: .utf8)
        for alert in [
            "TickBusFeatureDrift", "TickBusTickToDecisionP99High", "TickBusFillRateDrop", "TickBusRollbackHappened",
        ] {
            #expect(text.contains("alert: \(alert)"))
        }
    }

    @Test("every metric of the rules and the dashboard is in real scrapes", .timeLimit(.minutes(3)))
    func metricsExist() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: Self.dashboard))
        let dash = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let panels = try #require(dash["panels"] as? [[String: Any]])
        let graphs = panels.filter { $0["type"] as? String != "row" }
        #expect(graphs.count >= 12)
        for p in graphs {
            let targets = p["targets"] as? [[String: Any]] ?? []
            #expect(
                !targets.isEmpty && targets.allSatisfy { ($0["expr"] as? String)?.isEmpty == false },
                "\(p["title"]!)"
            )
        }
        let titles = Set(panels.compactMap { $0["type"] as? String == "row" ? $0["title"] as? String : nil })
        #expect(titles == ["Bus", "Strategies", "Drift", "P&L"])
        let wanted = Self.metricNames(String(decoding: data, as: UTF8.self))
            .union(Self.metricNames(try String(contentsOfFile: Self.rules, encoding: .utf8)))

        // A live bus: the bundled strategy paper-trading, the monitor beside it with /metrics.
        let dir = TickBusTest.temporaryDirectory("drift-ops").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let baseline = try MonitorJournalTests.baseline(in: dir)
        let policy = dir + "/p.toml"
        try "[level.minor]\npsi = 0.1\nactions = [\"alert\"]\n".write(toFile: policy, atomically: true, encoding: .utf8)
        let bus = TickBusTest.uniqueBus("drift-ops")
        defer { TickBusTest.removeBus(bus) }
        let strategy = try Child([
            "strategy", "--bus", bus, "--features", MonitorJournalTests.features, "--model", MonitorJournalTests.model,
            "--name", "S", "--cpu", "0", "--attach-timeout", "30", "--execution",
            TickBusTest.repositoryRoot.appendingPathComponent("Tools/backtest/join.toml").path,
        ])
        defer { strategy.signal(SIGKILL) }
        #expect(
            strategy.waitFor(timeout: 30) { _ in
                FileManager.default.fileExists(atPath: "/dev/shm/tickbus/\(bus)/decisions.S")
            }
        )
        let drift = try Child([
            "drift", "--bus", bus, "--strategy", "S", "--baseline", baseline, "--policy", policy, "--window", "100",
            "--horizon-ns", "1000000", "--listen", "127.0.0.1:0", "--attach-timeout", "30",
        ])
        defer { drift.signal(SIGKILL) }
        let feed = try Child([
            "feed", "--bus", bus, "--source", "synthetic:5", "--messages", "40000", "--rate", "4000", "--wait-readers",
            "2", "--wait-timeout", "30",
        ])
        defer { feed.signal(SIGKILL) }
        #expect(drift.waitFor(timeout: 60) { $0.components(separatedBy: "{\"window\": ").count > 2 }, "\(drift.stderr)")
        let port = try #require(
            drift.stdout.split(separator: "\n").first { $0.hasPrefix("listening=") }?.split(separator: ":").last
        )
        let scrape = try Child(
            [
                "python3", "-c",
                "import urllib.request;print(urllib.request.urlopen('http://127.0.0.1:\(port)/metrics').read().decode(),end='')",
            ],
            executable: "/usr/bin/env"
        ).wait(timeout: 30)
        #expect(scrape.status == 0, "\(scrape.stderr)")
        let busScrape = try TickBusTest.run(["metrics", "--bus", bus, "--once"], timeout: 30)
        #expect(busScrape.status == 0, "\(busScrape.stderr)")
        let have = Self.sampleNames(scrape.stdout).union(Self.sampleNames(busScrape.stdout))
        let missing = wanted.subtracting(have)
        #expect(missing.isEmpty, "not in any scrape: \(missing.sorted())")
        #expect(scrape.stdout.contains("tickbus_drift_feature_psi{strategy=\"S\",bus=\"\(bus)\",feature=\"imb\"}"))
        #expect(scrape.stdout.contains("tickbus_drift_level{strategy=\"S\",bus=\"\(bus)\"} 1"), "\(scrape.stdout)")
        // Both expositions pass promtool's own reader.
        for text in [scrape.stdout, busScrape.stdout] {
            let path = dir + "/scrape.txt"
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            let check = try Child(["sh", "-c", "promtool check metrics < '\(path)'"], executable: "/usr/bin/env")
                .wait(timeout: 30)
            #expect(
                !check.stderr.contains("error") && !check.stdout.contains("error"),
                "\(check.stdout)\(check.stderr)"
            )
        }
        _ = feed.wait(timeout: 60)
        #expect(strategy.wait(timeout: 30).status == 0)
        #expect(drift.wait(timeout: 30).status == 0)
    }
}
