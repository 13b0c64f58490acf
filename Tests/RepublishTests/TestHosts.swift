import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Test hosts: one network namespace per host, each with a veth whose peer sits on a bridge in a
/// namespace of its own (the "switch"), addresses 10.77.0.(index+1)/24, multicast routed on the
/// veth, bridge multicast snooping off (the switch floods groups). Names are unique per test run
/// (pid and a counter); `tearDown` deletes every namespace it made (their veths and bridge go
/// with them), also after a failure (call it in a `defer`).
final class TestHosts {
    static let ip = "/usr/sbin/ip"
    nonisolated(unsafe) static var counter = 0

    let id: String
    let hosts: [String]
    private(set) var made: [String] = []

    /// Makes the hosts, or returns nil with a loud message when namespaces cannot be created here
    /// (not root, no iproute2): the only case a multi-host test may skip.
    static func make(_ hosts: [String]) throws -> TestHosts? {
        counter += 1
        let t = TestHosts(id: "\(getpid() % 100_000)\(counter)", hosts: hosts)
        guard FileManager.default.isExecutableFile(atPath: ip) else {
            print("SKIPPED (LOUDLY): \(ip) is missing; run Tools/setup (iproute2) to run the multi-host tests")
            return nil
        }
        let probe = try run(ip, ["netns", "add", t.namespace("switch")])
        guard probe.status == 0 else {
            print("SKIPPED (LOUDLY): cannot create network namespaces here: \(probe.stderr)")
            return nil
        }
        t.made.append(t.namespace("switch"))
        do {
            try t.ns("switch", ["link", "add", "br0", "type", "bridge", "mcast_snooping", "0"])
            try t.ns("switch", ["link", "set", "br0", "up"])
            for (i, h) in hosts.enumerated() {
                try t.check(run(ip, ["netns", "add", t.namespace(h)]))
                t.made.append(t.namespace(h))
                let peer = "p\(t.id)\(h)"
                try t.ns(
                    h,
                    [
                        "link", "add", t.interface(h), "type", "veth", "peer", "name", peer, "netns",
                        t.namespace("switch"),
                    ]
                )
                try t.ns("switch", ["link", "set", peer, "master", "br0"])
                try t.ns("switch", ["link", "set", peer, "up"])
                try t.ns(h, ["addr", "add", "\(t.address(i))/24", "dev", t.interface(h)])
                try t.ns(h, ["link", "set", t.interface(h), "up"])
                try t.ns(h, ["link", "set", "lo", "up"])
                try t.ns(h, ["route", "add", "224.0.0.0/4", "dev", t.interface(h)])
            }
        } catch {
            t.tearDown()
            throw error
        }
        return t
    }

    private init(id: String, hosts: [String]) {
        self.id = id
        self.hosts = hosts
    }

    func namespace(_ host: String) -> String { "tb\(id)\(host)" }
    func interface(_ host: String) -> String { "v\(id)\(host)" }
    func address(_ index: Int) -> String { "10.77.0.\(index + 1)" }
    func address(_ host: String) -> String { address(hosts.firstIndex(of: host)!) }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func run(_ exe: String, _ args: [String], timeout: TimeInterval = 20) throws -> Child.Result {
        try Child(args, executable: exe).wait(timeout: timeout)
    }

    func check(_ r: Child.Result) throws {
        guard r.status == 0, !r.timedOut else { throw Failure(description: "command failed: \(r.stderr)") }
    }

    /// `ip -n NS ARGS`.
    func ns(_ host: String, _ args: [String]) throws {
        try check(Self.run(Self.ip, ["-n", namespace(host)] + args))
    }

    /// Runs `PROGRAM ARGS` inside a host (`ip netns exec`; the child is the program itself).
    func child(_ host: String, _ program: String, _ args: [String]) throws -> Child {
        try Child(["netns", "exec", namespace(host), program] + args, executable: Self.ip)
    }

    /// A `tickbus` process inside a host.
    func tickbus(_ host: String, _ args: [String]) throws -> Child { try child(host, TickBusTest.binary, args) }

    /// Drops `percent`% of the UDP datagrams to `port` arriving at a host (nftables, inside its
    /// namespace), counting them.
    func dropUDP(_ host: String, port: UInt16, percent: Int) throws {
        let nft = "/usr/sbin/nft"
        try check(Self.run(Self.ip, ["netns", "exec", namespace(host), nft, "add", "table", "inet", "t"]))
        try check(
            Self.run(
                Self.ip,
                [
                    "netns", "exec", namespace(host), nft, "add", "chain", "inet", "t", "in",
                    "{ type filter hook input priority 0; }",
                ]
            )
        )
        try check(
            Self.run(
                Self.ip,
                [
                    "netns", "exec", namespace(host), nft, "add", "rule", "inet", "t", "in", "udp", "dport", "\(port)",
                    "numgen", "random", "mod", "100", "<", "\(percent)", "counter", "drop",
                ]
            )
        )
    }

    /// Packets the host's drop rule dropped so far.
    func dropped(_ host: String) throws -> Int {
        let r = try Self.run(
            Self.ip,
            ["netns", "exec", namespace(host), "/usr/sbin/nft", "list", "table", "inet", "t"]
        )
        guard let range = r.stdout.range(of: "counter packets ") else { return -1 }
        return Int(r.stdout[range.upperBound...].prefix { $0.isNumber }) ?? -1
    }

    /// Deletes every namespace made (veths and the bridge go with them).
    func tearDown() {
        for n in made.reversed() { _ = try? Self.run(Self.ip, ["netns", "del", n]) }
        made.removeAll()
    }

    deinit { tearDown() }
}

/// Ports for one test: distinct per process and call (a test's request port is its port + 1).
enum TestPorts {
    nonisolated(unsafe) static var next = 0
    static func take() -> UInt16 {
        next += 1
        return UInt16(20_000 + (Int(getpid()) % 1_500) * 20 + next * 2)
    }
}

/// `journal cat DIR --ring RING` output lines (fails the test if cat fails).
func journalLines(_ dir: String, ring: String = "market") throws -> [Substring] {
    let r = try TickBusTest.run(["journal", "cat", dir, "--ring", ring], timeout: 60)
    #expect(r.status == 0, "journal cat \(dir) \(ring): \(r.stderr)")
    return r.stdout.split(separator: "\n")
}

/// The first line where two listings differ, for a short failure message.
func firstDifference(_ a: [Substring], _ b: [Substring]) -> String {
    for i in 0..<min(a.count, b.count) where a[i] != b[i] { return "line \(i): \(a[i]) | \(b[i])" }
    return "lengths \(a.count) and \(b.count)"
}

/// Writes the definition and a linear model over its features (as the replay tests do); returns
/// their paths.
func strategyFixtures(_ dir: String) throws -> (features: String, model: String) {
    let features = TickBusTest.repositoryRoot.appendingPathComponent("Recordings/synthetic-5/features.toml").path
    let names = ["mid", "spread", "imb", "ofi50", "ret1s", "vol_ev"]
    let json =
        "{\"type\": \"linear\", \"feature_names\": [\(names.map { "\"\($0)\"" }.joined(separator: ","))], "
        + "\"coefficients\": [1e-7, 0.1, 0.5, 0.001, 1, 2], \"intercept\": 0.01}"
    let model = dir + "/live.json"
    try json.write(toFile: model, atomically: true, encoding: .utf8)
    return (features, model)
}

/// The `published=N` of a feed's result line (the last line may be the malformed counts).
func publishedCount(_ stdout: String) -> String {
    stdout.split(separator: "\n").first { $0.hasPrefix("published=") }.flatMap { keyValues(String($0))["published"] }
        ?? "?"
}

/// A capture process (`tshark` inside a host), started with `posix_spawn` and reaped with
/// `waitpid` by the test itself: it must stop on SIGINT to write its file, so it gets a default
/// signal mask and dispositions (not the test runner's), and it is killed at its deadline.
final class Capture {
    let pid: pid_t
    let errPath: String
    private var reaped = false

    init(_ net: TestHosts, host: String, arguments: [String], stderr: String) throws {
        errPath = stderr
        let argv = ["ip", "netns", "exec", net.namespace(host), "/usr/bin/tshark"] + arguments
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var none = sigset_t()
        sigemptyset(&none)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attr, &none)
        posix_spawnattr_setsigdefault(&attr, &all)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var cargs = argv.map { strdup($0) } + [nil]
        defer { for p in cargs { free(p) } }
        var child: pid_t = 0
        let rc = posix_spawn(&child, TestHosts.ip, &actions, &attr, &cargs, environ)
        guard rc == 0 else {
            throw TestHosts.Failure(description: "posix_spawn tshark: \(String(cString: strerror(rc)))")
        }
        pid = child
    }

    var stderr: String { (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "" }

    /// Waits until its stderr says the capture started.
    func started(timeout: TimeInterval) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if stderr.contains("Capturing on") { return true }
            usleep(20_000)
        }
        return false
    }

    /// SIGINT (tshark writes and closes the file), then waits; SIGKILL at the deadline.
    @discardableResult
    func stop(timeout: TimeInterval) -> Bool {
        guard !reaped else { return true }
        kill(pid, SIGINT)
        let deadline = Date().addingTimeInterval(timeout)
        var status: Int32 = 0
        while Date() < deadline {
            if waitpid(pid, &status, WNOHANG) == pid {
                reaped = true
                return true
            }
            usleep(20_000)
        }
        kill(pid, SIGKILL)
        _ = waitpid(pid, &status, 0)
        reaped = true
        return false
    }

    deinit { stop(timeout: 5) }
}
