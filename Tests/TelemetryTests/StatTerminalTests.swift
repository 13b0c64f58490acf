import Foundation
import TestSupport
import Testing
import TickBusCore

@testable import Telemetry

#if canImport(Glibc)
import Glibc
#endif

/// Runs `/bin/sh -c command` with posix_spawn and waitpid (tmux forks a server that outlives its
/// client; reaping the client ourselves keeps the wait exact), killed at the deadline.
func shell(_ command: String, timeout: TimeInterval = 20) -> (status: Int32, output: String) {
    let out = FileManager.default.temporaryDirectory.appendingPathComponent(
        "tickbus-sh-\(getpid())-\(UUID().uuidString.prefix(8))"
    )
    defer { try? FileManager.default.removeItem(at: out) }
    var pid: pid_t = 0
    let args = ["/bin/sh", "-c", "(\(command)) > '\(out.path)' 2>&1 < /dev/null"]
    var argv: [UnsafeMutablePointer<CChar>?] = args.map { strdup($0) } + [nil]
    defer { for a in argv { free(a) } }
    guard posix_spawn(&pid, "/bin/sh", nil, nil, &argv, environ) == 0 else { return (-1, "") }
    let deadline = Date().addingTimeInterval(timeout)
    var status: Int32 = 0
    while waitpid(pid, &status, WNOHANG) == 0 {
        if Date() > deadline {
            kill(pid, SIGKILL)
            waitpid(pid, &status, 0)
            break
        }
        usleep(2000)
    }
    return (status, (try? String(contentsOf: out, encoding: .utf8)) ?? "")
}

/// A tmux session of our own (100 x 40), killed by name at the end; only this test uses the name.
final class TmuxSession {
    let name: String
    init(command: String) {
        name = "tickbus-stat-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let r = shell("tmux new-session -d -s \(name) -x 100 -y 40 \"\(command)\"")
        #expect(r.status == 0, "tmux new-session: \(r.output)")
    }
    func capture() -> String { shell("tmux capture-pane -p -t \(name)").output }
    /// Captures until `predicate` holds (the view refreshes every second) or the deadline passes.
    func waitFor(_ timeout: TimeInterval, _ predicate: (String) -> Bool) -> String {
        let deadline = Date().addingTimeInterval(timeout)
        var screen = capture()
        while !predicate(screen) && Date() < deadline {
            usleep(200_000)
            screen = capture()
        }
        return screen
    }
    /// Kills the session and the program in its pane (it may outlive the session: children of
    /// the test harness inherit a signal mask that blocks SIGHUP and SIGTERM).
    func kill() {
        let pid =
            Int32(
                shell("tmux display-message -p -t \(name) '#{pane_pid}'").output.trimmingCharacters(
                    in: .whitespacesAndNewlines
                )
            ) ?? 0
        _ = shell("tmux kill-session -t \(name)")
        if pid > 0 { Glibc.kill(pid, SIGKILL) }
    }
}

/// The whitespace-separated columns of the first screen line that starts with `prefix` + " ".
func columns(_ screen: String, _ prefix: String) -> [String]? {
    screen.split(separator: "\n").first { $0.hasPrefix(prefix + " ") }.map { $0.split(separator: " ").map(String.init) }
}

extension TelemetryProcessTests {
    /// Acceptance 4: `tickbus stat` in a real terminal (tmux), while a feed, two readers and a
    /// strategy's stats block are live. The screen shows each ring and reader with the right
    /// numbers (checked against the reader's own count), a killed reader as dead, a killed
    /// producer as dead, then its new generation.
    @Test func statInATerminalShowsRingsReadersStrategiesAndTheDead() throws {
        let bus = TickBusTest.uniqueBus("tel-tmux")
        defer { TickBusTest.removeBus(bus) }
        let stats = try StatsWriter(bus: bus, name: "alpha", kind: .strategy, modelId: 0xcafe_f00d)
        for i in 0..<500 {
            stats.recordDecision(
                latencyNs: UInt64(2000 + i * 10),
                signal: i % 2 == 0 ? 1 : 0,
                shadowSignal: i % 10 == 0 ? -1 : nil
            )
        }

        // A feed, a real strategy (the bundled synthetic-5 features and model), a recorder of both
        // rings, and two taps: one to check counts against, one to kill.
        let journal = TickBusTest.temporaryDirectory("tel-tmux-journal")
        defer { try? FileManager.default.removeItem(at: journal) }
        let recording = TickBusTest.repositoryRoot.appendingPathComponent("Recordings/synthetic-5")
        let feed = try Child([
            "feed", "--bus", bus, "--source", "synthetic:3", "--rate", "2000", "--messages", "100000000",
            "--wait-readers", "4",
        ])
        let strategy = try Child([
            "strategy", "--bus", bus, "--features", recording.appendingPathComponent("features.toml").path,
            "--model", recording.appendingPathComponent("model.json").path, "--name", "S", "--cpu", "0",
            "--attach-timeout", "20",
        ])
        #expect(strategy.waitFor(timeout: 30) { $0.contains("decisions.S") }, "strategy: \(strategy.stderr)")
        let recorder = try Child([
            "record", "--bus", bus, "--rings", "market,decisions.S", "--dir", journal.path, "--attach-timeout", "20",
        ])
        let keeper = try Child(["tap", "--bus", bus, "--name", "keeper", "--attach-timeout", "20"])
        let victim = try Child(["tap", "--bus", bus, "--name", "victim", "--attach-timeout", "20"])
        var feed2: Child?
        defer {
            for c in [feed, strategy, recorder, keeper, victim] + (feed2.map { [$0] } ?? []) {
                c.signal(SIGCONT)
                c.signal(SIGKILL)
            }
        }
        let tmux = TmuxSession(command: "'\(TickBusTest.binary)' stat --bus \(bus)")
        defer { tmux.kill() }

        // Let the feed run, then hold it still so every figure on screen can be checked exactly.
        #expect(feed.waitFor(timeout: 30) { $0.contains("generation 1") })
        let mapping = try Segment.attach(bus: bus, ring: "market", expecting: .market)
        var deadline = Date().addingTimeInterval(30)
        while mapping.cursor < 3000 && Date() < deadline { usleep(10_000) }
        kill(feed.pid, SIGSTOP)
        while processState(feed.pid) != "T" && Date() < deadline { usleep(1000) }
        let cursor = mapping.cursor
        let decisionsRing = try Segment.attach(bus: bus, ring: "decisions.S", expecting: .decisions)
        deadline = Date().addingTimeInterval(30)
        while Date() < deadline, ReaderTable.snapshot(mapping).contains(where: { $0.position != cursor }) {
            usleep(10_000)
        }
        // The strategy has read everything: its decisions ring is still now; wait for the recorder there too.
        let decisions = decisionsRing.cursor
        while Date() < deadline, ReaderTable.snapshot(decisionsRing).contains(where: { $0.position != decisions }) {
            usleep(10_000)
        }
        #expect(decisions > 0, "the strategy made no decision on \(cursor) messages")

        let screen = tmux.waitFor(20) { s in
            columns(s, "market")?[3] == "\(cursor)" && columns(s, "market/victim")?[4] == "\(cursor)"
                && columns(s, "market/keeper")?[4] == "\(cursor)" && columns(s, "market/recorder")?[4] == "\(cursor)"
                && columns(s, "market/strategy-S")?[4] == "\(cursor)"
                && columns(s, "decisions.S/recorder")?[4] == "\(decisions)"
        }
        let ring = columns(screen, "market")
        #expect(
            ring?[1] == "1" && ring?[2] == "running" && ring?[3] == "\(cursor)" && ring?[5] == "65536"
                && ring?[6] == "4",
            "ring row: \(String(describing: ring))\n\(screen)"
        )
        let dring = columns(screen, "decisions.S")
        #expect(
            dring?[1] == "1" && dring?[2] == "running" && dring?[3] == "\(decisions)" && dring?[6] == "1"
                && dring?[7] == "\(strategy.pid)",
            "decisions ring row: \(String(describing: dring))\n\(screen)"
        )
        for (name, child, n) in [
            ("market/keeper", keeper, cursor), ("market/victim", victim, cursor),
            ("market/strategy-S", strategy, cursor),
            ("market/recorder", recorder, cursor), ("decisions.S/recorder", recorder, decisions),
        ] {
            let row = columns(screen, name)
            // RING/READER PID MODE STAT POSITION LAG LAG/CAP LOST LAPS HB
            #expect(
                row?[1] == "\(child.pid)" && row?[2] == "live" && row?[3] == "live" && row?[4] == "\(n)"
                    && row?[5] == "0" && row?[7] == "0" && row?[8] == "0",
                "\(name) row: \(String(describing: row))\n\(screen)"
            )
        }
        // The real strategy's stats block: every decision it published, each with a latency.
        let real = columns(screen, "S")
        #expect(
            real?[1] == "1" && real?[2] == "running" && real?[4] == "\(decisions)",
            "strategy S row: \(String(describing: real))\n\(screen)"
        )
        let realStats = BusSnapshot.take(bus: bus).strategies.first { $0.name == "S" }
        #expect(
            realStats?.decisions == decisions && realStats?.latency.count == decisions && realStats?.messages == cursor
        )
        #expect(realStats?.pid == strategy.pid && realStats?.kind == "strategy")
        let alpha = columns(screen, "alpha")
        // STRATEGY GEN STATE MODEL DECISIONS SIGNALS DISAGREE DEC/S P50 P99 P99.9
        #expect(
            alpha?[1] == "1" && alpha?[2] == "running" && alpha?[3] == "cafef00d" && alpha?[4] == "500"
                && alpha?[5] == "250" && alpha?[6] == "50",
            "strategy row: \(String(describing: alpha))\n\(screen)"
        )
        // p50 of 2000 + 10 i for i < 500 is 4490 ns (exact rank 250): shown as 4.5us.
        #expect(alpha?[8] == "4.5us", "\(screen)")
        #expect(screen.split(separator: "\n").allSatisfy { $0.count <= 100 })

        // A killed reader shows as dead (its entry stays: the stopped producer cannot reclaim it).
        kill(victim.pid, SIGKILL)
        _ = victim.wait(timeout: 10)
        let afterKill = tmux.waitFor(20) { columns($0, "market/victim")?[3] == "dead" }
        #expect(columns(afterKill, "market/victim")?[3] == "dead", "\(afterKill)")
        #expect(columns(afterKill, "market/keeper")?[3] == "live", "\(afterKill)")

        // The producer dies: its ring row says dead, and the keeper, caught up, sees it gone and
        // prints its own count, which must be what the screen showed. (SIGKILL, not SIGTERM: the
        // test harness's children inherit a signal mask that blocks SIGTERM.)
        kill(feed.pid, SIGKILL)
        _ = feed.wait(timeout: 10)
        let kept = keeper.wait(timeout: 20)
        #expect(
            keyValues(kept.lastLine)["received"] == "\(cursor)",
            "keeper: status \(kept.status) timedOut \(kept.timedOut) out \(kept.stdout) err \(kept.stderr)"
        )
        #expect(keyValues(kept.lastLine)["lost"] == "0")
        // The strategy's own summary: what it read and the decisions it published, as on screen.
        let ran = strategy.wait(timeout: 20)
        let summary = keyValues(ran.lastLine)
        #expect(
            summary["messages"] == "\(cursor)" && summary["decisions"] == "\(decisions)",
            "strategy: \(ran.lastLine) \(ran.stderr)"
        )
        let deadFeed = tmux.waitFor(20) { columns($0, "market")?[2] == "dead" }
        #expect(columns(deadFeed, "market")?[2] == "dead", "\(deadFeed)")
        feed2 = try Child(["feed", "--bus", bus, "--source", "synthetic:4", "--messages", "1000"])
        let restarted = tmux.waitFor(20) { columns($0, "market")?[1] == "2" && columns($0, "market")?[3] == "1001" }
        #expect(
            columns(restarted, "market")?[1] == "2" && columns(restarted, "market")?[2] == "closed"
                && columns(restarted, "market")?[3] == "1001",
            "\(restarted)"
        )
        _ = feed2?.wait(timeout: 30)
        stats.close()
    }
}
