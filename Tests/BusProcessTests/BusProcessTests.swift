import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Sums the `count=` of every `tap: gap from=F count=C` line, checking the gaps are in order.
func gapReport(_ stderr: String) -> (total: UInt64, froms: [UInt64]) {
    var total: UInt64 = 0
    var froms: [UInt64] = []
    for line in stderr.split(separator: "\n") where line.hasPrefix("tap: gap ") {
        let kv = keyValues(String(line))
        froms.append(UInt64(kv["from"] ?? "") ?? .max)
        total += UInt64(kv["count"] ?? "") ?? 0
    }
    return (total, froms)
}

func tapLine(_ r: Child.Result) -> (received: UInt64, lost: UInt64, gaps: UInt64)? {
    let line = r.lastLine
    guard line.hasPrefix("received=") else { return nil }
    let kv = keyValues(line)
    guard let a = UInt64(kv["received"] ?? ""), let b = UInt64(kv["lost"] ?? ""), let c = UInt64(kv["gaps"] ?? "")
    else { return nil }
    return (a, b, c)
}

func published(_ r: Child.Result) -> UInt64? {
    for line in r.stdout.split(separator: "\n") where line.hasPrefix("published=") {
        return UInt64(keyValues(String(line))["published"] ?? "")
    }
    return nil
}

/// The producer's counters from `tickbus rings`.
func ringInfo(_ bus: String) throws -> [String: String] {
    let r = try TickBusTest.run(["rings", "--bus", bus], timeout: 20)
    return keyValues(r.stdout.split(separator: "\n").first.map(String.init) ?? "")
}

/// Waits until `n` readers are attached to the market ring (the feed waits too, with --wait-readers).
@Suite("Bus processes", .serialized)
struct BusProcessTests {
    @Test(
        "one producer, three readers: the slowed one is lapped and reports exactly what it lost, the others lose nothing"
    )
    func threeReaders() throws {
        let bus = TickBusTest.uniqueBus("three")
        defer { TickBusTest.removeBus(bus) }
        let n = 30_000
        let feed = try Child([
            "feed", "--bus", bus, "--source", "synthetic:11", "--messages", "\(n)", "--rate", "15000",
            "--capacity", "4096", "--wait-readers", "3",
        ])
        #expect(feed.waitFor(timeout: 30) { $0.contains("feed: ring market") })
        let a = try Child(["tap", "--bus", bus, "--name", "fast-a"])
        let b = try Child(["tap", "--bus", bus, "--name", "fast-b"])
        let slow = try Child(["tap", "--bus", bus, "--name", "slow", "--delay-us", "2000"])
        let f = feed.wait(timeout: 60)
        let ra = a.wait(timeout: 30)
        let rb = b.wait(timeout: 30)
        slow.signal(SIGINT)
        let rs = slow.wait(timeout: 30)
        #expect(f.status == 0 && !f.timedOut, "feed: \(f.stderr)")
        let total = try #require(published(f))
        #expect(total == UInt64(n) + 1)  // + end-of-session
        for r in [ra, rb] {
            let t = try #require(tapLine(r), "\(r.stdout) \(r.stderr)")
            #expect(t.received == total && t.lost == 0 && t.gaps == 0)
        }
        // The slow reader was interrupted, so its count is what it had when it stopped: every
        // message up to its position was either received or reported lost, exactly.
        let ts = try #require(tapLine(rs), "\(rs.stdout) \(rs.stderr)")
        #expect(ts.lost > 0 && ts.gaps >= 1)
        let report = gapReport(rs.stderr)
        #expect(report.total == ts.lost)
        #expect(report.froms.count == Int(ts.gaps))
        #expect(report.froms == report.froms.sorted())
        #expect(ts.received + ts.lost <= total)
        // The first lap happens when the producer is a full ring (4096) ahead: the reader had read
        // exactly `from` messages before it.
        if let first = report.froms.first { #expect(first > 0 && first < total) }
    }

    @Test("a slow reader that runs to the end: received + lost equals the producer's count")
    func slowReaderAccounting() throws {
        let bus = TickBusTest.uniqueBus("acct")
        defer { TickBusTest.removeBus(bus) }
        let n = 20_000
        let feed = try Child([
            "feed", "--bus", bus, "--source", "synthetic:5", "--messages", "\(n)", "--rate", "20000",
            "--capacity", "1024", "--wait-readers", "1",
        ])
        #expect(feed.waitFor(timeout: 30) { $0.contains("feed: ring market") })
        let slow = try Child(["tap", "--bus", bus, "--name", "slow", "--delay-us", "300"])
        let f = feed.wait(timeout: 60)
        let rs = slow.wait(timeout: 60)
        let total = try #require(published(f))
        let ts = try #require(tapLine(rs), "\(rs.stdout) \(rs.stderr)")
        #expect(ts.lost > 0)
        #expect(ts.received + ts.lost == total)
        #expect(gapReport(rs.stderr).total == ts.lost)
    }

    @Test("a reader killed with SIGKILL leaves the producer and the other readers running; its entry is reclaimed")
    func killedReader() throws {
        let bus = TickBusTest.uniqueBus("kill")
        defer { TickBusTest.removeBus(bus) }
        let n = 40_000
        let feed = try Child([
            "feed", "--bus", bus, "--source", "synthetic:3", "--messages", "\(n)", "--rate", "20000",
            "--capacity", "65536", "--wait-readers", "3",
        ])
        #expect(feed.waitFor(timeout: 30) { $0.contains("feed: ring market") })
        let a = try Child(["tap", "--bus", bus, "--name", "a"])
        let victim = try Child(["tap", "--bus", bus, "--name", "victim"])
        let c = try Child(["tap", "--bus", bus, "--name", "c"])
        #expect(victim.waitFor(timeout: 30) { $0.contains("attached") })
        usleep(500_000)
        victim.signal(SIGKILL)
        let rv = victim.wait(timeout: 10)
        #expect(rv.status != 0)
        let f = feed.wait(timeout: 60)
        let ra = a.wait(timeout: 30)
        let rc = c.wait(timeout: 30)
        #expect(f.status == 0 && !f.timedOut)
        let total = try #require(published(f))
        #expect(total == UInt64(n) + 1)
        for r in [ra, rc] {
            let t = try #require(tapLine(r))
            #expect(t.received == total && t.lost == 0)
        }
        let info = try ringInfo(bus)
        #expect(info["reclaimed"] == "1", "\(info)")
        let rings = try TickBusTest.run(["rings", "--bus", bus])
        #expect(!rings.stdout.contains("victim"))
    }

    @Test("gating: a slow gating reader loses nothing, and the producer waited for it")
    func gatingSlowReader() throws {
        let bus = TickBusTest.uniqueBus("gating")
        defer { TickBusTest.removeBus(bus) }
        let n = 5_000
        let feed = try Child([
            "feed", "--bus", bus, "--source", "synthetic:9", "--messages", "\(n)", "--capacity", "64", "--wait-readers",
            "1",
        ])
        #expect(feed.waitFor(timeout: 30) { $0.contains("feed: ring market") })
        let slow = try Child(["tap", "--bus", bus, "--gating", "--delay-us", "100", "--print"])
        let f = feed.wait(timeout: 60)
        let rs = slow.wait(timeout: 60)
        let total = try #require(published(f))
        let ts = try #require(tapLine(rs))
        #expect(ts.received == total && ts.lost == 0 && ts.gaps == 0)
        #expect(UInt64(ringInfoInt(bus, "gate_waits")) > 0)
        // And in order: the printed stream is the synthetic stream, message for message.
        #expect(rs.stdout.split(separator: "\n").count == Int(total) + 1)
    }

    @Test("a killed gating reader does not stall the producer")
    func killedGatingReader() throws {
        let bus = TickBusTest.uniqueBus("gatekill")
        defer { TickBusTest.removeBus(bus) }
        let n = 20_000
        let feed = try Child([
            "feed", "--bus", bus, "--source", "synthetic:4", "--messages", "\(n)", "--capacity", "256",
            "--wait-readers", "2",
        ])
        #expect(feed.waitFor(timeout: 30) { $0.contains("feed: ring market") })
        let victim = try Child(["tap", "--bus", bus, "--gating", "--name", "victim", "--delay-us", "1000"])
        let other = try Child(["tap", "--bus", bus, "--gating", "--name", "other"])
        #expect(victim.waitFor(timeout: 30) { $0.contains("attached") })
        usleep(300_000)
        victim.signal(SIGKILL)
        _ = victim.wait(timeout: 10)
        let f = feed.wait(timeout: 60)
        #expect(f.status == 0 && !f.timedOut, "the producer stalled: \(f.stderr)")
        let total = try #require(published(f))
        let t = try #require(tapLine(other.wait(timeout: 30)))
        #expect(t.received == total && t.lost == 0)
        #expect(ringInfoInt(bus, "ungated") == 1)
    }

    @Test("a reader started after the producer died reports the producer gone")
    func producerGone() throws {
        let bus = TickBusTest.uniqueBus("gone")
        defer { TickBusTest.removeBus(bus) }
        let feed = try Child([
            "feed", "--bus", bus, "--source", "synthetic:2", "--messages", "1000000", "--rate", "2000",
        ])
        #expect(feed.waitFor(timeout: 30) { $0.contains("feed: ring market") })
        usleep(300_000)
        feed.signal(SIGKILL)
        _ = feed.wait(timeout: 10)
        let tap = try TickBusTest.run(["tap", "--bus", bus], timeout: 30)
        #expect(tap.status == 3)
        #expect(tap.stderr.contains("producer gone"))
        let t = try #require(tapLine(tap))
        #expect(t.received > 0 && t.lost == 0)
    }

    @Test("a restarted producer starts a new generation that readers re-attach to")
    func restart() throws {
        let bus = TickBusTest.uniqueBus("restart")
        defer { TickBusTest.removeBus(bus) }
        let first = try Child([
            "feed", "--bus", bus, "--source", "synthetic:2", "--messages", "1000000", "--rate", "2000",
        ])
        #expect(first.waitFor(timeout: 30) { $0.contains("generation 1") })
        let tap = try Child(["tap", "--bus", bus, "--reattach", "30"])
        #expect(tap.waitFor(timeout: 30) { $0.contains("attached to market generation 1") })
        usleep(300_000)
        first.signal(SIGKILL)
        _ = first.wait(timeout: 10)
        #expect(tap.waitFor(timeout: 30) { $0.contains("producer gone") })
        let second = try TickBusTest.run(
            ["feed", "--bus", bus, "--source", "synthetic:8", "--messages", "3000", "--wait-readers", "1"],
            timeout: 60
        )
        #expect(second.stderr.contains("generation 2"))
        let r = tap.wait(timeout: 30)
        #expect(r.stderr.contains("attached to market generation 2"), "\(r.stderr)")
        let t = try #require(tapLine(r))
        #expect(t.lost == 0)
        #expect(t.received > 3001)  // some of generation 1, then all of generation 2 with its end-of-session
    }

    @Test("the same seed gives the same messages")
    func deterministicSynthetic() throws {
        func capture(_ seed: Int) throws -> String {
            let bus = TickBusTest.uniqueBus("seed")
            defer { TickBusTest.removeBus(bus) }
            let feed = try Child([
                "feed", "--bus", bus, "--source", "synthetic:\(seed)", "--messages", "3000", "--capacity", "64",
                "--wait-readers", "1",
            ])
            let tap = try Child(["tap", "--bus", bus, "--gating", "--print", "--attach-timeout", "30"])
            _ = feed.wait(timeout: 60)
            return tap.wait(timeout: 60).stdout
        }
        let a = try capture(21)
        let b = try capture(21)
        let c = try capture(22)
        #expect(a == b)
        #expect(a != c)
        #expect(a.split(separator: "\n").count == 3002)
        // Several instruments, and adds, cancels or deletes, and executions all occur.
        for kind in ["directory", "add ", "execute ", "delete ", "cancel ", "replace ", "eos "] {
            #expect(a.contains(kind), "\(kind)")
        }
    }

    @Test("bad segments are refused by the command line too, with the field named")
    func badSegmentCLI() throws {
        let bus = TickBusTest.uniqueBus("bad")
        defer { TickBusTest.removeBus(bus) }
        _ = try TickBusTest.run([
            "feed", "--bus", bus, "--source", "synthetic:1", "--messages", "10", "--capacity", "64",
        ])
        let path = "/dev/shm/tickbus/\(bus)/market"
        let fd = open(path, O_RDWR)
        var bad: UInt32 = 3
        _ = pwrite(fd, &bad, 4, 8)
        close(fd)
        let tap = try TickBusTest.run(["tap", "--bus", bus], timeout: 20)
        #expect(tap.status == 2)
        #expect(tap.stderr.contains("'version' is 3"))
    }
}

func ringInfoInt(_ bus: String, _ key: String) -> Int {
    Int((try? ringInfo(bus))?[key] ?? "") ?? -1
}

/// Another user: only meaningful when the tests run as root (as CI does), which can switch users.
@Suite(
    "Segment permissions across users",
    .serialized,
    .enabled(if: getuid() == 0, "needs root to run a reader as another user")
)
struct CrossUserTests {
    /// Runs `tickbus ARGS` as uid/gid 65534 with the given supplementary groups.
    func runAsNobody(_ args: [String], groups: [UInt32]) throws -> Child.Result {
        let setpriv =
            ["--reuid=65534", "--regid=65534"]
            + (groups.isEmpty ? ["--clear-groups"] : ["--groups=" + groups.map(String.init).joined(separator: ",")])
        let child = try Child(setpriv + [TickBusTest.binary] + args, executable: "/usr/bin/setpriv")
        return child.wait(timeout: 30)
    }

    @Test(
        "a reader of another user is refused a 0600 segment with a clear error; a reader in the group may attach a 0660 one"
    )
    func otherUser() throws {
        let bus = TickBusTest.uniqueBus("perm")
        defer { TickBusTest.removeBus(bus) }
        _ = try TickBusTest.run(["feed", "--bus", bus, "--source", "synthetic:1", "--messages", "10"])
        let refused = try runAsNobody(["tap", "--bus", bus], groups: [])
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("permission denied"), "\(refused.stderr)")

        let shared = TickBusTest.uniqueBus("permg")
        defer { TickBusTest.removeBus(shared) }
        let gid: UInt32 = 54321
        _ = try TickBusTest.run([
            "feed", "--bus", shared, "--source", "synthetic:1", "--messages", "10", "--group", "\(gid)",
        ])
        let member = try runAsNobody(["tap", "--bus", shared], groups: [gid])
        #expect(member.lastLine == "received=11 lost=0 gaps=0", "\(member.stdout) \(member.stderr)")
        let outsider = try runAsNobody(["tap", "--bus", shared], groups: [])
        #expect(outsider.status == 2 && outsider.stderr.contains("permission denied"))
    }
}

@Suite("Demo", .serialized)
struct DemoTests {
    @Test(
        "the demo runs feed → strategy → recorder and taps, a canary and a rollback, and the replay reproduces every decision"
    )
    func demo() throws {
        let root = TickBusTest.repositoryRoot
        let dir = TickBusTest.temporaryDirectory("demo")
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try TickBusTest.run(
            [
                // About 4 s of feed: the canary, its promotion and the rollback land mid-session.
                "demo", "--messages", "100000", "--rate", "30000",
                "--features", root.appendingPathComponent("Recordings/synthetic-5/features.toml").path,
                "--model", root.appendingPathComponent("Recordings/synthetic-5/model.json").path,
                "--record", dir.appendingPathComponent("session").path,
            ],
            timeout: 170
        )
        #expect(r.status == 0, "\(r.stdout)\n\(r.stderr)")
        #expect(r.stdout.contains("demo: ok"))
        #expect(r.stdout.contains("identical=true"))
        // The lifecycle: four commands obeyed, each with its control record, and the canary acted.
        #expect(r.stdout.contains("commands=4 rejected=0"), "\(r.stdout)")
        for verb in ["load", "canary", "promote", "rollback"] {
            #expect(r.stdout.contains("  control    \(verb) applied at market sequence"), "\(verb): \(r.stdout)")
        }
        // The replay verified the control records and the paper-trading records (orders, events,
        // fills) too, and the session's own market ring was backtested.
        let replayLine = r.stdout.split(separator: "\n").first { $0.contains("  replay ") }.map(String.init) ?? ""
        let replay = keyValues(replayLine)
        #expect(replay["controls"] == "4" && replay["identical"] == "true", "\(r.stdout)")
        #expect((replay["execution"].flatMap { Int($0) } ?? 0) > 0, "\(r.stdout)")
        #expect(r.stdout.contains("  backtest   pnl="), "\(r.stdout)")
        let feedLine = r.stdout.split(separator: "\n").first { $0.contains("feed ") }.map(String.init) ?? ""
        #expect(
            keyValues(feedLine.replacingOccurrences(of: "feed", with: ""))["published"].flatMap { Int($0) } ?? 0 > 5000
        )
    }
}
