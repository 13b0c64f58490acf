import Foundation
import TestSupport
import Testing
import TickBusCore

@testable import Telemetry

#if canImport(Glibc)
import Glibc
#endif

/// A version id from 64 hex digits written out here (the reference the labels must equal).
func digest(_ hex: String) -> VersionDigest { VersionDigest(hex: hex)! }

/// Roles whose every field is a function of `k`, so a reader can tell one state from a mix.
func rolesFor(_ k: UInt64) -> RoleState {
    var r = RoleState()
    r.liveModelId = k
    r.shadowModelId = k &* 3
    r.canaryModelId = k &* 5
    r.liveVersion = VersionDigest(words: (k, k &+ 1, k &+ 2, k &+ 3))
    r.shadowVersion = VersionDigest(words: (~k, k, ~k, k))
    r.canaryVersion = VersionDigest(words: (k << 1, k << 2, k << 3, k << 4))
    r.canaryPercent = UInt8(k % 101)
    r.paused = k % 2 == 1
    return r
}

@Suite struct RoleTelemetryTests {
    static let live = "0123456789abcdef00112233445566778899aabbccddeeff0f1e2d3c4b5a6978"
    static let shadow = "ffeeddccbbaa99887766554433221100fedcba98765432100123456789abcdef"
    static let canary = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90"

    /// Every new field written through StatsWriter comes back through the snapshot `stat` and
    /// `/metrics` use, with the exact label values.
    @Test func rolesControlCountersAndSwapLatencyReachStatAndMetrics() throws {
        let bus = TickBusTest.uniqueBus("tel-roles")
        defer { TickBusTest.removeBus(bus) }
        // Before any command: the live role is the model named at start, no version, no swap.
        let fresh = try StatsWriter(bus: bus, name: "fresh", kind: .strategy, modelId: 0x11)
        let before = strategyStatus(bus, "fresh")
        #expect(before?.roles == [RoleStatus(role: "live", version: "", modelId: "0000000000000011")])
        #expect(before?.rolesAvailable == true && before?.lastSwapNs == 0 && before?.controlApplied == 0)
        fresh.close()

        let w = try writeKnownRoles(bus: bus)
        let r = knownRoles()
        let latencies: [UInt64] = [12_000, 15_000, 9_000, 40_000, 21_000]
        let raw = StatsBlock.snapshot(try StatsBlock.attach(path: w.path))
        #expect(raw.roles == r)
        #expect(raw.modelId == 0xaaaa_0000_0000_0001 && raw.shadowModelId == 0xbb)
        #expect(raw.lastSwapRealtimeNs == 1_764_000_001_500_000_000)
        #expect(raw.lastSwapLatencyNs == 21_000)
        #expect(raw.counter(.controlApplied) == 2 && raw.counter(.controlRejected) == 1)
        #expect(raw.counter(.controlMalformed) == 2)
        #expect(raw.swapLatency.count == 5 && raw.swapLatency.sumNs == latencies.reduce(0, +))
        #expect(raw.swapLatency.minNs == 9_000 && raw.swapLatency.maxNs == 40_000)
        #expect(raw.latency.count == 0, "swap latencies stay out of tick-to-decision")

        let s = try #require(strategyStatus(bus, "alpha"))
        #expect(
            s.roles == [
                RoleStatus(role: "live", version: Self.live, modelId: "aaaa000000000001"),
                RoleStatus(role: "shadow", version: Self.shadow, modelId: "00000000000000bb"),
                RoleStatus(role: "canary", version: Self.canary, modelId: "00000000000000cc"),
            ]
        )
        #expect(s.canaryPercent == 30 && s.paused)
        #expect(s.controlApplied == 2 && s.controlRejected == 1 && s.controlMalformed == 2)
        #expect(s.lastSwapNs == 1_764_000_001_500_000_000 && s.lastSwapLatencyNs == 21_000)
        // p50 of five values is the third smallest (15 us), p99 the largest; within the 1% buckets.
        #expect(s.swapLatency.p50Ns >= 15_000 && s.swapLatency.p50Ns <= 15_150)
        #expect(s.swapLatency.p99Ns == 40_000)

        let text = PrometheusExposition.render(BusSnapshot.take(bus: bus))
        let c = ["bus": bus, "strategy": "alpha", "kind": "strategy"]
        for (role, version, id) in [
            ("live", Self.live, "aaaa000000000001"), ("shadow", Self.shadow, "00000000000000bb"),
            ("canary", Self.canary, "00000000000000cc"),
        ] {
            #expect(
                sample(
                    text,
                    "tickbus_strategy_model_info",
                    c.merging(["role": role, "version": version, "model_id": id]) { a, _ in a }
                ) == "1",
                "\(role) in \(text)"
            )
        }
        let infos = text.split(separator: "\n").filter {
            $0.hasPrefix("tickbus_strategy_model_info{") && $0.contains("strategy=\"alpha\"")
        }
        #expect(infos.count == 3, "\(infos)")
        // The fresh block's live model, loaded without a registry: an empty version label.
        #expect(
            sample(
                text,
                "tickbus_strategy_model_info",
                ["strategy": "fresh", "role": "live", "model_id": "0000000000000011"]
            ) == "1"
        )
        #expect(sample(text, "tickbus_strategy_canary_percent", c) == "30")
        #expect(sample(text, "tickbus_strategy_paused", c) == "1")
        #expect(sample(text, "tickbus_strategy_roles_readable", c) == "1")
        #expect(sample(text, "tickbus_strategy_control_applied_total", c) == "2")
        #expect(sample(text, "tickbus_strategy_control_rejected_total", c) == "1")
        #expect(sample(text, "tickbus_strategy_control_malformed_total", c) == "2")
        #expect(sample(text, "tickbus_strategy_last_swap_timestamp_seconds", c) == "1764000001.5")
        #expect(sample(text, "tickbus_strategy_last_swap_latency_seconds", c) == "0.000021")
        #expect(sample(text, "tickbus_strategy_swap_latency_seconds_count", c) == "5")
        #expect(sample(text, "tickbus_strategy_swap_latency_seconds_sum", c) == "0.000097")
        #expect(
            sample(text, "tickbus_strategy_swap_latency_seconds_bucket", c.merging(["le": "0.00001"]) { a, _ in a })
                == "1"
        )
        #expect(
            sample(text, "tickbus_strategy_swap_latency_seconds_bucket", c.merging(["le": "0.00002"]) { a, _ in a })
                == "3"
        )
        #expect(
            sample(text, "tickbus_strategy_swap_latency_seconds_bucket", c.merging(["le": "+Inf"]) { a, _ in a }) == "5"
        )
        // The older families keep their names and labels; their model id labels follow the live role.
        #expect(
            sample(
                text,
                "tickbus_strategy_decisions_total",
                ["strategy": "alpha", "model_id": "aaaa000000000001", "shadow_model_id": "00000000000000bb"]
            ) == "0"
        )
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/promtool") {
            let check = try promtool(text)
            #expect(check.status == 0, "\(check.stdout) \(check.stderr)")
        }
        w.close()
    }

    /// A writer that stopped in the middle of a change (generation odd) never shows a mixed
    /// state: the reader gives up after its bounded retries and says the roles are unreadable.
    @Test func rolesLeftMidChangeAreReportedUnreadable() throws {
        let bus = TickBusTest.uniqueBus("tel-roles-odd")
        defer { TickBusTest.removeBus(bus) }
        let w = try StatsWriter(bus: bus, name: "alpha", kind: .strategy)
        w.recordControl(applied: true, roles: rolesFor(7), wallTimeNs: 1)
        let g = w.mapping.base + StatsLayout.rolesGenerationOffset
        let even = g.load(as: UInt64.self)
        #expect(even == 2)
        g.storeBytes(of: even + 1, as: UInt64.self)
        w.mapping.base.storeBytes(of: UInt64(99), toByteOffset: StatsLayout.liveModelIdOffset, as: UInt64.self)
        #expect(StatsBlock.roles(w.mapping.base) == nil)
        let s = try #require(BusSnapshot.take(bus: bus).strategies.first)
        #expect(!s.rolesAvailable && s.roles.isEmpty)
        let text = PrometheusExposition.render(BusSnapshot.take(bus: bus))
        #expect(sample(text, "tickbus_strategy_roles_readable", ["strategy": "alpha"]) == "0")
        #expect(!text.contains("tickbus_strategy_model_info{"))
        // The writer's next change completes (generation even again) and is read whole.
        g.storeBytes(of: even, as: UInt64.self)
        w.recordControl(applied: true, roles: rolesFor(8), wallTimeNs: 2)
        #expect(StatsBlock.roles(w.mapping.base) == rolesFor(8))
    }

    /// A writer thread changes the roles as fast as it can while this thread reads them through
    /// the telemetry reader: every state read is one the writer wrote, never a mix of two.
    @Test func concurrentReadersNeverSeeTornRoles() throws {
        let bus = TickBusTest.uniqueBus("tel-roles-race")
        defer { TickBusTest.removeBus(bus) }
        let w = try StatsWriter(bus: bus, name: "alpha", kind: .strategy)
        let m = try StatsBlock.attach(path: w.path)
        let last: UInt64 = 300_000
        let writer = Thread {
            for k in 1...last { w.recordControl(applied: true, roles: rolesFor(k), wallTimeNs: Int64(k)) }
        }
        writer.start()
        var reads = 0
        var unreadable = 0
        var distinct = Set<UInt64>()
        var torn: [String] = []
        // Bounded by reads, not by time: stops once the writer's last state is seen.
        while reads < 50_000_000 {
            reads += 1
            guard let (r, swap) = StatsBlock.rolesAndLastSwap(m.base) else {
                unreadable += 1
                continue
            }
            let k = r.liveModelId
            if k != 0 && (r != rolesFor(k) || swap != Int64(k)) {
                torn.append("k=\(k): \(r), swap \(swap)")
                if torn.count > 5 { break }
            }
            distinct.insert(k)
            if k == last { break }
        }
        #expect(torn.isEmpty, "\(torn)")
        #expect(distinct.contains(last), "never saw the last state in \(reads) reads")
        #expect(unreadable < reads / 2, "\(unreadable) of \(reads) reads found the writer mid-change every attempt")
        // The snapshot path (what stat and /metrics read) gives the final state whole.
        #expect(StatsBlock.snapshot(m).roles == rolesFor(last))
    }
}

/// Writes known roles into a fresh block `alpha` on `bus`: live/shadow/canary with
/// versions, 30% canary, paused, 2 applied, 1 rejected, 2 malformed, 5 swap latencies.
func writeKnownRoles(bus: String) throws -> StatsWriter {
    let w = try StatsWriter(bus: bus, name: "alpha", kind: .strategy, modelId: 0x11)
    var r = knownRoles()
    r.paused = false
    w.recordControl(applied: true, roles: r, wallTimeNs: 1_764_000_000_123_456_789)
    r.paused = true
    w.recordControl(applied: true, roles: r, wallTimeNs: 1_764_000_001_500_000_000)
    // A rejection counts, keeps the roles it states and does not move the last swap time.
    w.recordControl(applied: false, roles: r, wallTimeNs: 1_764_000_009_000_000_000)
    w.recordMalformedControl()
    w.recordMalformedControl()
    for l: UInt64 in [12_000, 15_000, 9_000, 40_000, 21_000] { w.recordSwapLatency(ns: l) }
    return w
}

/// The roles `writeKnownRoles` leaves in force.
func knownRoles() -> RoleState {
    var r = RoleState()
    r.liveModelId = 0xaaaa_0000_0000_0001
    r.shadowModelId = 0xbb
    r.canaryModelId = 0xcc
    r.liveVersion = digest(RoleTelemetryTests.live)
    r.shadowVersion = digest(RoleTelemetryTests.shadow)
    r.canaryVersion = digest(RoleTelemetryTests.canary)
    r.canaryPercent = 30
    r.paused = true
    return r
}

/// The status of stats block `name` as `stat` and `/metrics` read it.
func strategyStatus(_ bus: String, _ name: String) -> StrategyStatus? {
    BusSnapshot.take(bus: bus).strategies.first { $0.name == name }
}

/// The whitespace-separated columns of every line of `text` that starts with `prefix` + " ".
func rows(_ text: String, _ prefix: String) -> [[String]] {
    text.split(separator: "\n").filter { $0.hasPrefix(prefix + " ") }.map { $0.split(separator: " ").map(String.init) }
}

extension RoleTelemetryTests {
    /// `stat`'s frame: one row per filled role with the version's 12-digit prefix and the model id;
    /// the control row with the canary percent, paused, counts, last swap time (UTC) and swap p50/p99.
    @Test func statShowsRolesVersionPrefixesAndControlFigures() throws {
        let bus = TickBusTest.uniqueBus("tel-roles-stat")
        defer { TickBusTest.removeBus(bus) }
        let w = try writeKnownRoles(bus: bus)
        let frame = StatView.render(BusSnapshot.take(bus: bus))
        #expect(frame.split(separator: "\n").allSatisfy { $0.count <= 100 }, "\(frame)")
        let lines = rows(frame, "alpha")
        #expect(lines.contains(["alpha", "live", "0123456789ab", "aaaa000000000001"]), "\(frame)")
        #expect(lines.contains(["alpha", "shadow", "ffeeddccbbaa", "00000000000000bb"]), "\(frame)")
        #expect(lines.contains(["alpha", "canary", "a1b2c3d4e5f6", "00000000000000cc"]), "\(frame)")
        // 1764000001.5 s since the epoch is 2025-11-24 16:00:01 UTC; p50 15 us, p99 40 us.
        #expect(
            lines.contains(["alpha", "yes", "30", "2", "1", "2", "2025-11-24", "16:00:01", "15.0us", "40.0us"]),
            "\(frame)"
        )
        #expect(frame.contains("LAST SWAP (UTC)") && frame.contains("SWAP P99"))
        w.close()
    }
}

extension TelemetryProcessTests {
    /// The roles over real HTTP from `tickbus metrics` (another process), checked by promtool, and
    /// in `tickbus stat --once --json` with snake_case keys.
    @Test func rolesAndSwapsOverHTTPAndInStatJSON() throws {
        let bus = TickBusTest.uniqueBus("tel-roles-http")
        defer { TickBusTest.removeBus(bus) }
        let w = try writeKnownRoles(bus: bus)
        let (metrics, port) = try startMetrics(bus: bus)
        defer {
            metrics.signal(SIGKILL)
            _ = metrics.wait(timeout: 5)
        }
        let text = fetch("http://127.0.0.1:\(port)/metrics")
        let c = ["bus": bus, "strategy": "alpha", "kind": "strategy"]
        #expect(
            sample(
                text,
                "tickbus_strategy_model_info",
                c.merging(["role": "canary", "version": RoleTelemetryTests.canary, "model_id": "00000000000000cc"]) {
                    a,
                    _ in a
                }
            ) == "1",
            "\(text)"
        )
        #expect(sample(text, "tickbus_strategy_control_applied_total", c) == "2")
        #expect(sample(text, "tickbus_strategy_last_swap_timestamp_seconds", c) == "1764000001.5")
        #expect(sample(text, "tickbus_strategy_swap_latency_seconds_count", c) == "5")
        let check = try promtool(text)
        #expect(check.status == 0, "\(check.stdout) \(check.stderr)")

        let stat = try TickBusTest.run(["stat", "--bus", bus, "--once", "--json"], timeout: 30)
        #expect(stat.status == 0, "stat: \(stat.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(stat.lastLine.utf8)) as? [String: Any]
        let alpha = (object?["strategies"] as? [[String: Any]])?.first
        #expect(alpha?["canary_percent"] as? Int == 30 && alpha?["paused"] as? Bool == true)
        #expect(alpha?["control_applied"] as? Int == 2 && alpha?["control_rejected"] as? Int == 1)
        #expect(alpha?["control_malformed"] as? Int == 2)
        #expect(alpha?["last_swap_ns"] as? Int == 1_764_000_001_500_000_000)
        #expect((alpha?["swap_latency"] as? [String: Any])?["count"] as? Int == 5)
        let roles = alpha?["roles"] as? [[String: Any]] ?? []
        #expect(roles.map { $0["role"] as? String } == ["live", "shadow", "canary"])
        #expect(roles.first?["version"] as? String == RoleTelemetryTests.live)
        #expect(roles.first?["model_id"] as? String == "aaaa000000000001")
        w.close()
    }
}
