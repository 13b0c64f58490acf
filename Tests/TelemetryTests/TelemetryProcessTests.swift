import Foundation
import TestSupport
import Testing
import TickBusCore

@testable import Telemetry

#if canImport(Glibc)
import Glibc
#endif

// Multi-process tests: real `tickbus feed`, `tap`, `metrics` and `stat` processes on a unique bus
// each, with deadlines; every child is killed by the test that started it.

/// The value of one sample in Prometheus text: `name{labels} value`, labels matched exactly.
func sample(_ text: String, _ name: String, _ labels: [String: String] = [:]) -> String? {
    for line in text.split(separator: "\n") where !line.hasPrefix("#") {
        guard let space = line.lastIndex(of: " ") else { continue }
        let series = line[..<space]
        let value = String(line[line.index(after: space)...])
        let seriesName: Substring
        var got: [String: String] = [:]
        if let brace = series.firstIndex(of: "{") {
            seriesName = series[..<brace]
            let body = series[series.index(after: brace)..<series.index(before: series.endIndex)]
            // Label values here never contain '",' so a plain split is enough.
            for part in body.components(separatedBy: "\",") {
                let kv = part.split(separator: "=", maxSplits: 1)
                guard kv.count == 2 else { continue }
                got[String(kv[0])] = String(kv[1]).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            }
        } else {
            seriesName = series
        }
        guard seriesName == name else { continue }
        if labels.allSatisfy({ got[$0.key] == $0.value }) { return value }
    }
    return nil
}

/// `GET` on loopback through Telemetry's own client (10 s socket timeouts: a silent server cannot hang a test).
func httpGet(port: Int, path: String) -> (status: Int, body: String) {
    LoopbackHTTP.get(port: port, path: path)
}

/// The body of `GET http://127.0.0.1:PORT/PATH` when the status is 200, else "".
func fetch(_ url: String) -> String {
    guard let rest = url.split(separator: "//").last, let slash = rest.firstIndex(of: "/"),
        let port = Int(rest[..<slash].split(separator: ":").last ?? "")
    else { return "" }
    let r = httpGet(port: port, path: String(rest[slash...]))
    return r.status == 200 ? r.body : ""
}

extension TickBusTest {
    @discardableResult
    static func run(_ arguments: [String], timeout: TimeInterval, executable: String) throws -> Child.Result {
        try Child(arguments, executable: executable).wait(timeout: timeout)
    }
}

/// `tickbus metrics --listen 127.0.0.1:0`: returns the child and the port it bound.
func startMetrics(bus: String) throws -> (Child, Int) {
    let child = try Child(["metrics", "--bus", bus, "--listen", "127.0.0.1:0"])
    #expect(child.waitFor(timeout: 20) { $0.contains("listening=") }, "metrics did not start: \(child.stderr)")
    let line = child.stdout.split(separator: "\n").first { $0.hasPrefix("listening=") } ?? ""
    let port = Int(line.split(separator: ":").last ?? "") ?? 0
    return (child, port)
}

func processState(_ pid: Int32) -> Character? {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
        let close = text.lastIndex(of: ")")
    else { return nil }
    return text[text.index(close, offsetBy: 2)]
}

func promtool(_ text: String) throws -> Child.Result {
    let dir = TickBusTest.temporaryDirectory("promtool")
    defer { try? FileManager.default.removeItem(at: dir) }
    let file = dir.appendingPathComponent("metrics.txt")
    try text.write(to: file, atomically: true, encoding: .utf8)
    // promtool reads the exposition from stdin; a shell redirect keeps Child's file-based capture.
    return try TickBusTest.run(["-c", "promtool check metrics < '\(file.path)'"], timeout: 30, executable: "/bin/sh")
}

func decodeSnapshot(_ json: String) throws -> BusSnapshot {
    let d = JSONDecoder()
    d.keyDecodingStrategy = .convertFromSnakeCase
    return try d.decode(BusSnapshot.self, from: Data(json.utf8))
}

@Suite(.serialized) struct TelemetryProcessTests {
    /// Acceptance 1 and 2: a feed of N messages, a reader lapped on purpose and a strategy's stats
    /// block; `/metrics` (over HTTP) and `stat --json` give the exact figures, compared with the
    /// tap's own `received= lost= gaps=` line and the decisions the test recorded; promtool accepts
    /// the exposition.
    @Test func exactFiguresForAFeedALappedReaderAndAStrategy() throws {
        let bus = TickBusTest.uniqueBus("tel-exact")
        defer { TickBusTest.removeBus(bus) }
        let n: UInt64 = 40_000
        let capacity = 1024

        // The strategy side: this test process writes a stats block like a strategy does.
        let stats = try StatsWriter(bus: bus, name: "alpha", kind: .strategy, modelId: 0x1234_5678_9abc_def0)
        var latencies: [UInt64] = []
        var signals: UInt64 = 0
        var disagreements: UInt64 = 0
        for i in 0..<3000 {
            let latency = UInt64(800 + (i * 104_729) % 90_000)
            let signal = Int8(i % 3) - 1
            let shadow: Int8 = i % 7 == 0 ? 0 : signal
            latencies.append(latency)
            if signal != 0 { signals += 1 }
            if shadow != signal { disagreements += 1 }
            stats.count(.messages)
            stats.recordDecision(latencyNs: latency, signal: signal, shadowSignal: shadow)
        }

        let (metrics, port) = try startMetrics(bus: bus)
        defer {
            metrics.signal(SIGKILL)
            _ = metrics.wait(timeout: 5)
        }
        #expect(port > 0)

        // A real strategy too (gating, so it decides on every message): its stats block must hold
        // one latency per decision it published.
        let recording = TickBusTest.repositoryRoot.appendingPathComponent("Recordings/synthetic-5")
        let feed = try Child([
            "feed", "--bus", bus, "--source", "synthetic:7", "--messages", "\(n)", "--capacity", "\(capacity)",
            "--wait-readers", "2",
        ])
        let strategy = try Child([
            "strategy", "--bus", bus, "--features", recording.appendingPathComponent("features.toml").path,
            "--model", recording.appendingPathComponent("model.json").path, "--name", "S", "--cpu", "0",
            "--gating", "--attach-timeout", "20",
        ])
        let tap = try Child(["tap", "--bus", bus, "--name", "slow", "--delay-us", "500", "--attach-timeout", "20"])
        defer {
            tap.signal(SIGKILL)
            feed.signal(SIGKILL)
            strategy.signal(SIGKILL)
        }
        let fed = feed.wait(timeout: 120)
        #expect(fed.status == 0 && !fed.timedOut, "feed failed: \(fed.stderr)")
        #expect(fed.stdout.contains("published=\(n + 1) "), "feed said: \(fed.stdout)")
        let decided = strategy.wait(timeout: 60)
        let strategySummary = keyValues(decided.lastLine)
        let decisions = UInt64(strategySummary["decisions"] ?? "") ?? 0
        #expect(
            decided.status == 0 && decisions > 0 && strategySummary["messages"] == "\(n + 1)"
                && strategySummary["lost"] == "0",
            "strategy: \(decided.lastLine) \(decided.stderr)"
        )

        // Once the reader is within a ring of the (stopped) cursor it can lose nothing more: freeze
        // it there (SIGSTOP keeps its reader entry) so the figures hold still while we look.
        let mapping = try Segment.attach(bus: bus, ring: "market", expecting: .market)
        let deadline = Date().addingTimeInterval(60)
        var frozen = false
        while Date() < deadline, tap.isRunning {
            if let r = ReaderTable.snapshot(mapping).first(where: { $0.name == "slow" }),
                mapping.cursor - r.position <= UInt64(capacity)
            {
                kill(tap.pid, SIGSTOP)
                frozen = true
                break
            }
            usleep(200)
        }
        #expect(frozen, "the slow tap never got within a ring of the cursor before it ended")
        guard frozen else { return }
        while processState(tap.pid) != "T" && Date() < deadline { usleep(1000) }

        let text = fetch("http://127.0.0.1:\(port)/metrics")
        let json = try TickBusTest.run(["stat", "--bus", bus, "--once", "--json"], timeout: 30)
        #expect(json.status == 0, "stat failed: \(json.stderr)")
        let snap = try decodeSnapshot(json.stdout)

        kill(tap.pid, SIGCONT)
        let tapped = tap.wait(timeout: 60)
        let kv = keyValues(tapped.lastLine)
        let received = UInt64(kv["received"] ?? "") ?? 0
        let lost = UInt64(kv["lost"] ?? "") ?? 0
        let gaps = UInt64(kv["gaps"] ?? "") ?? 0
        #expect(
            tapped.status == 0 && lost > 0 && gaps > 0,
            "the tap was meant to be lapped: \(tapped.lastLine) \(tapped.stderr.suffix(300))"
        )
        #expect(received + lost == n + 1, "tap: \(tapped.lastLine)")

        // /metrics over HTTP.
        let ring = ["bus": bus, "ring": "market"]
        let reader = ["bus": bus, "ring": "market", "reader": "slow"]
        #expect(sample(text, "tickbus_ring_published_total", ring) == "\(n + 1)")
        #expect(sample(text, "tickbus_ring_cursor", ring) == "\(n + 1)")
        #expect(sample(text, "tickbus_ring_capacity_slots", ring) == "\(capacity)")
        #expect(sample(text, "tickbus_ring_generation", ring) == "1")
        #expect(sample(text, "tickbus_ring_producer_closed", ring) == "1")
        let position = UInt64(sample(text, "tickbus_reader_position", reader) ?? "") ?? 0
        let lag = UInt64(sample(text, "tickbus_reader_lag_messages", reader) ?? "") ?? 0
        #expect(sample(text, "tickbus_reader_lost_messages_total", reader) == "\(lost)")
        #expect(sample(text, "tickbus_reader_laps_total", reader) == "\(gaps)")
        #expect(position + lag == n + 1)
        let receivedAtFreeze = UInt64(sample(text, "tickbus_reader_received_messages_total", reader) ?? "") ?? 0
        #expect(receivedAtFreeze == position - lost)
        // What it had read at the freeze plus the lag it still had to read is what it read in all.
        #expect(
            receivedAtFreeze + lag == received,
            "metrics: position \(position) lag \(lag) lost \(lost); tap: \(tapped.lastLine)"
        )
        #expect(sample(text, "tickbus_reader_gating", reader) == "0")

        let strat = ["bus": bus, "strategy": "alpha", "model_id": "123456789abcdef0"]
        #expect(sample(text, "tickbus_strategy_decisions_total", strat) == "3000")
        #expect(sample(text, "tickbus_strategy_messages_total", strat) == "3000")
        #expect(sample(text, "tickbus_strategy_signals_total", strat) == "\(signals)")
        #expect(sample(text, "tickbus_strategy_disagreements_total", strat) == "\(disagreements)")
        #expect(sample(text, "tickbus_strategy_tick_to_decision_seconds_count", strat) == "3000")
        #expect(
            sample(text, "tickbus_strategy_tick_to_decision_seconds_bucket", strat.merging(["le": "+Inf"]) { $1 })
                == "3000"
        )
        #expect(
            sample(text, "tickbus_strategy_tick_to_decision_seconds_sum", strat)
                == PrometheusExposition.seconds(latencies.reduce(0, +))
        )
        // Below 256 ns buckets are exact; 1 µs and 100 µs boundaries within the 1% bucket width.
        let le1us =
            UInt64(
                sample(
                    text,
                    "tickbus_strategy_tick_to_decision_seconds_bucket",
                    strat.merging(["le": "0.000001"]) { $1 }
                ) ?? ""
            ) ?? 0
        let exact1us = UInt64(latencies.filter { $0 <= 1000 }.count)
        #expect(le1us >= exact1us && le1us <= UInt64(latencies.filter { $0 <= 1008 }.count))

        // The real strategy: decisions, messages and one latency per decision; its ring holds them all.
        let real = ["bus": bus, "strategy": "S"]
        #expect(sample(text, "tickbus_strategy_decisions_total", real) == "\(decisions)")
        #expect(sample(text, "tickbus_strategy_messages_total", real) == "\(n + 1)")
        #expect(sample(text, "tickbus_strategy_tick_to_decision_seconds_count", real) == "\(decisions)")
        #expect(sample(text, "tickbus_strategy_alive", real) == "0")
        #expect(sample(text, "tickbus_ring_published_total", ["bus": bus, "ring": "decisions.S"]) == "\(decisions)")
        let realJSON = snap.strategies.first { $0.name == "S" }
        #expect(realJSON?.decisions == decisions && realJSON?.latency.count == decisions && realJSON?.state == "closed")

        // stat --json: the same figures.
        let jr = snap.rings.first { $0.name == "market" }
        #expect(jr?.published == n + 1)
        let jreader = jr?.readers.first { $0.name == "slow" }
        #expect(jreader?.lost == lost && jreader?.laps == gaps && jreader?.position == position && jreader?.lag == lag)
        #expect(jreader?.state == "live")
        let js = snap.strategies.first { $0.name == "alpha" }
        #expect(js?.decisions == 3000 && js?.latency.count == 3000 && js?.disagreements == disagreements)
        let sorted = latencies.sorted()
        for (p, got) in [(50.0, js?.latency.p50Ns), (99.0, js?.latency.p99Ns), (99.9, js?.latency.p999Ns)] {
            let exact = sorted[Int((p / 100 * Double(sorted.count)).rounded(.up)) - 1]
            #expect(
                got.map { $0 >= exact && Double($0 - exact) <= Double(exact) / 100 } == true,
                "p\(p): \(String(describing: got)) vs \(exact)"
            )
        }

        // Acceptance 1: promtool accepts what the endpoint served.
        let check = try promtool(text)
        #expect(check.status == 0, "promtool check metrics: \(check.stdout) \(check.stderr)")
        stats.close()
    }
}
