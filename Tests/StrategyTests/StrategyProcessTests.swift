import Foundation
import Models
import TestSupport
import Testing
import TickBusCore

/// A feature definition covering every kind, and two linear models over it.
enum StrategyFixture {
    static let names = [
        "mid", "spread", "imb", "dimb5", "micro", "ofi50", "ret100", "ret1s", "vol_ev", "vol_t", "ntrades10s", "vol10s",
        "tsince",
    ]
    static let definition = """
        instrument = 1
        decide_on = "every"

        [signal]
        buy_above = 0.05
        sell_below = -0.05

        [[feature]]
        name = "mid"
        kind = "mid"
        [[feature]]
        name = "spread"
        kind = "spread"
        [[feature]]
        name = "imb"
        kind = "imbalance"
        [[feature]]
        name = "dimb5"
        kind = "depth_imbalance"
        levels = 5
        [[feature]]
        name = "micro"
        kind = "microprice"
        [[feature]]
        name = "ofi50"
        kind = "ofi"
        events = 50
        [[feature]]
        name = "ret100"
        kind = "return_events"
        events = 100
        [[feature]]
        name = "ret1s"
        kind = "return_time"
        window_ns = 1_000_000_000
        [[feature]]
        name = "vol_ev"
        kind = "volatility_events"
        alpha = 0.05
        [[feature]]
        name = "vol_t"
        kind = "volatility_time"
        halflife_ns = 5_000_000_000
        [[feature]]
        name = "ntrades10s"
        kind = "trade_count"
        window_ns = 10_000_000_000
        [[feature]]
        name = "vol10s"
        kind = "trade_volume"
        window_ns = 10_000_000_000
        [[feature]]
        name = "tsince"
        kind = "time_since_trade"
        """

    static func write(in dir: URL) throws -> (features: String, live: String, shadow: String) {
        let f = dir.appendingPathComponent("f.toml")
        try definition.write(to: f, atomically: true, encoding: .utf8)
        func linear(_ coef: [Double], _ name: String) throws -> String {
            let url = dir.appendingPathComponent(name)
            let json =
                "{\"type\": \"linear\", \"feature_names\": [\(names.map { "\"\($0)\"" }.joined(separator: ","))], "
                + "\"coefficients\": [\(coef.map { "\($0)" }.joined(separator: ","))], \"intercept\": 0.01}"
            try json.write(to: url, atomically: true, encoding: .utf8)
            return url.path
        }
        return (
            f.path, try linear([0, 0.1, 0.5, 0.2, 0, 0.001, 1, 1, 0, 0, 0, 0, 0], "live.json"),
            try linear([0, -0.1, 0.25, 0.4, 0, 0.002, 0, 2, 0, 0, 0.001, 0, -0.01], "shadow.json")
        )
    }

    struct Record {
        var sequence: UInt64, exchangeTime: Int64, instrument: UInt32, live: Double, shadow: Double, signal: Int8
        var modelId: UInt64, shadowModelId: UInt64, hasShadow: Bool, features: [Double], latency: Int64
    }

    static func readDecisions(bus: String, name: String) throws -> [Record] {
        var reader = try RingReader(
            bus: bus,
            ring: "decisions.\(name)",
            name: "test-\(getpid())",
            mode: .live,
            from: .start,
            expecting: .decisions
        )
        var out: [Record] = []
        loop: while true {
            switch reader.poll() {
            case .message(let bytes):
                let d = DecisionRecordView(bytes.base)
                out.append(
                    Record(
                        sequence: d.marketSequence,
                        exchangeTime: d.exchangeTime,
                        instrument: d.instrument,
                        live: d.livePrediction,
                        shadow: d.shadowPrediction,
                        signal: d.signal,
                        modelId: d.modelId,
                        shadowModelId: d.shadowModelId,
                        hasShadow: d.hasShadow,
                        features: (0..<d.featureCount).map { d.feature($0) },
                        latency: d.latencyNs
                    )
                )
            case .gap(_, let count):
                Issue.record("decisions ring lapped: \(count) lost")
                break loop
            case .empty: break loop
            }
        }
        return out
    }
}

@Suite("Strategy process", .serialized)
struct StrategyProcessTests {
    static let messages = 30_000

    @Test(
        "an idle strategy allocates nothing: its producer checks (every 50 ms of idleness) read the header without allocating"
    )
    func idleStrategyDoesNotAllocate() throws {
        let dir = TickBusTest.temporaryDirectory("strategy-idle")
        defer { try? FileManager.default.removeItem(at: dir) }
        let files = try StrategyFixture.write(in: dir)
        let bus = TickBusTest.uniqueBus("stratidle")
        defer { TickBusTest.removeBus(bus) }
        let strategy = try Child([
            "strategy", "--bus", bus, "--features", files.features, "--model", files.live, "--name", "idle",
            "--cpu", "0", "--attach-timeout", "30",
        ])
        // 40 messages at 10 a second: the strategy is idle for about 4 s, ~40 producer checks.
        let feed = try Child([
            "feed", "--bus", bus, "--source", "synthetic:5", "--messages", "40", "--rate", "10", "--wait-readers", "1",
            "--wait-timeout", "30",
        ])
        let f = feed.wait(timeout: 60)
        let s = strategy.wait(timeout: 60)
        #expect(f.status == 0 && !f.timedOut, "feed: \(f.stderr)")
        #expect(s.status == 0 && !s.timedOut, "strategy: \(s.stderr)")
        let summary = keyValues(s.lastLine)
        #expect(summary["eos"] == "true", "\(s.lastLine)")
        // Was about 35 per check (path parsing, a bus directory handle, a header array): 1,476 here.
        #expect((Int(summary["mallocs"] ?? "") ?? .max) <= 64, "\(s.lastLine)")
    }

    @Test("online decision records equal the offline table bit for bit (LOBSTER sample through the ring)")
    func onlineEqualsOffline() throws {
        let msg = try TickBusTest.sharedData("lobster/GOOG_2012-06-21_34200000_57600000_message_5.csv")
        let book = try TickBusTest.sharedData("lobster/GOOG_2012-06-21_34200000_57600000_orderbook_5.csv")
        let source = "lobster:\(msg),\(book)"
        let dir = TickBusTest.temporaryDirectory("strategy-bits")
        defer { try? FileManager.default.removeItem(at: dir) }
        let files = try StrategyFixture.write(in: dir)
        let bus = TickBusTest.uniqueBus("strat")
        defer { TickBusTest.removeBus(bus) }

        let strategy = try Child([
            "strategy", "--bus", bus, "--features", files.features, "--model", files.live, "--shadow", files.shadow,
            "--name", "s1", "--cpu", "0", "--gating", "--capacity", "65536", "--attach-timeout", "30",
        ])
        let feed = try Child([
            "feed", "--bus", bus, "--source", source, "--messages", "\(Self.messages)", "--wait-readers", "1",
            "--wait-timeout", "30",
        ])
        let f = feed.wait(timeout: 120)
        let s = strategy.wait(timeout: 60)
        #expect(f.status == 0, "feed: \(f.stderr)")
        #expect(s.status == 0, "strategy: \(s.stderr)")
        let summary = keyValues(s.lastLine)
        #expect(summary["lost"] == "0")
        #expect(summary["eos"] == "true")
        // The loop allocates only while the order book's level arrays grow (a handful of times), never per message.
        #expect((Int(summary["mallocs"] ?? "") ?? .max) <= 64, "\(s.lastLine)")
        let online = try StrategyFixture.readDecisions(bus: bus, name: "s1")

        let table = dir.appendingPathComponent("table.csv")
        let off = try TickBusTest.run(
            [
                "features", "--source", source, "--features", files.features, "--out", table.path,
                "--messages", "\(Self.messages)",
            ],
            timeout: 120
        )
        #expect(off.status == 0, "features: \(off.stderr)")
        var lines = try String(contentsOf: table, encoding: .utf8).split(separator: "\n")
        #expect(
            lines.removeFirst() == "sequence,exchange_time,instrument," + StrategyFixture.names.joined(separator: ",")
        )
        #expect(online.count == lines.count)
        #expect(online.count > 20_000)
        #expect(summary["decisions"] == "\(lines.count)")

        let live = try Model.load(path: files.live)
        let shadow = try Model.load(path: files.shadow)
        var mismatches = 0
        var finiteSeen = [Int](repeating: 0, count: StrategyFixture.names.count)
        for (record, line) in zip(online, lines) {
            let fields = line.split(separator: ",")
            let values = fields.dropFirst(3).map { $0 == "nan" ? Double.nan : Double($0)! }
            var same =
                record.sequence == UInt64(fields[0])! && record.exchangeTime == Int64(fields[1])!
                && record.instrument == UInt32(fields[2])!
            same = same && record.features.count == values.count
            for (k, (a, b)) in zip(record.features, values).enumerated() {
                same = same && (a.bitPattern == b.bitPattern || (a.isNaN && b.isNaN))
                if a.isFinite { finiteSeen[k] += 1 }
            }
            // The live and shadow predictions are the models' outputs on the offline row.
            var p = 0.0
            values.withUnsafeBufferPointer { x in live.model.predict(x.baseAddress!, into: &p) }
            same = same && p.bitPattern == record.live.bitPattern
            values.withUnsafeBufferPointer { x in shadow.model.predict(x.baseAddress!, into: &p) }
            same = same && p.bitPattern == record.shadow.bitPattern
            same = same && record.signal == (record.live > 0.05 ? 1 : record.live < -0.05 ? -1 : 0)
            same = same && record.hasShadow && record.modelId == live.id && record.shadowModelId == shadow.id
            same = same && record.latency > 0
            if !same {
                mismatches += 1
                if mismatches < 5 { Issue.record("record \(record.sequence) differs from table row: \(line)") }
            }
        }
        #expect(mismatches == 0)
        // Every feature produced real values somewhere (the comparison is not over NaNs only).
        for (k, n) in finiteSeen.enumerated() { #expect(n > 100, "\(StrategyFixture.names[k]) finite in \(n) records") }
    }

    @Test("the strategy runs on the CPU it was told and says so", arguments: [0, 1])
    func placement(cpu: Int) throws {
        let cpus = sysconf(Int32(_SC_NPROCESSORS_ONLN))
        try #require(cpu < cpus, "machine has \(cpus) CPUs")
        let dir = TickBusTest.temporaryDirectory("strategy-place")
        defer { try? FileManager.default.removeItem(at: dir) }
        let files = try StrategyFixture.write(in: dir)
        let bus = TickBusTest.uniqueBus("place")
        defer { TickBusTest.removeBus(bus) }
        let strategy = try Child([
            "strategy", "--bus", bus, "--features", files.features, "--model", files.live, "--name", "p",
            "--cpu", "\(cpu)", "--numa-node", "0", "--attach-timeout", "30",
        ])
        #expect(strategy.waitFor(timeout: 20) { $0.contains("placement cpu=") })
        // The kernel's view of the process: allowed CPUs and the CPU it last ran on.
        let status = try String(contentsOfFile: "/proc/\(strategy.pid)/status", encoding: .utf8)
        let allowed = status.split(separator: "\n").first { $0.hasPrefix("Cpus_allowed_list:") }
        #expect(allowed?.split(separator: "\t").last.map(String.init) == "\(cpu)")
        let stat = try String(contentsOfFile: "/proc/\(strategy.pid)/stat", encoding: .utf8)
        let afterComm = stat[stat.range(of: ")")!.upperBound...].split(separator: " ")
        #expect(Int(afterComm[36]) == cpu)  // field 39 (afterComm starts at field 3): processor last executed on
        strategy.signal(SIGINT)
        let r = strategy.wait(timeout: 20)
        let line = r.stdout.split(separator: "\n").first { $0.contains("placement") }.map(String.init) ?? ""
        let kv = keyValues(line)
        #expect(kv["cpu"] == "\(cpu)")
        #expect(kv["node"] == "0")
        #expect(!r.timedOut)
    }

    @Test("a model whose feature count disagrees with the definition is refused")
    func featureCountMismatch() throws {
        let dir = TickBusTest.temporaryDirectory("strategy-mismatch")
        defer { try? FileManager.default.removeItem(at: dir) }
        let files = try StrategyFixture.write(in: dir)
        let model = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("ModelsTests/Fixtures/lgb_binary.txt").path
        let bus = TickBusTest.uniqueBus("mismatch")
        defer { TickBusTest.removeBus(bus) }
        let r = try TickBusTest.run(
            ["strategy", "--bus", bus, "--features", files.features, "--model", model, "--name", "m", "--cpu", "0"],
            timeout: 30
        )
        #expect(r.status != 0)
        #expect(r.stderr.contains("model expects 6 features but the feature definition has 13"))
    }
}

@Suite("Features against LOBSTER's own order-book file")
struct LOBSTERFeatureReferenceTests {
    /// LOBSTER's time (seconds after midnight, up to 9 decimals) in ns, digit by digit (no rounding).
    static func nanoseconds(_ s: Substring) -> Int64 {
        let parts = s.split(separator: ".", maxSplits: 1)
        var frac = parts.count > 1 ? String(parts[1]) : ""
        frac = String((frac + "000000000").prefix(9))
        return Int64(parts[0])! * 1_000_000_000 + Int64(frac)!
    }

    @Test("mid, spread, level-1 and depth-weighted imbalance equal values computed from the order-book file")
    func bookFeatures() throws {
        let msg = try TickBusTest.sharedData("lobster/GOOG_2012-06-21_34200000_57600000_message_5.csv")
        let book = try TickBusTest.sharedData("lobster/GOOG_2012-06-21_34200000_57600000_orderbook_5.csv")
        let dir = TickBusTest.temporaryDirectory("lobster-ref")
        defer { try? FileManager.default.removeItem(at: dir) }
        let def = dir.appendingPathComponent("f.toml")
        try """
        instrument = 1
        [[feature]]
        name = "mid"
        kind = "mid"
        [[feature]]
        name = "spread"
        kind = "spread"
        [[feature]]
        name = "imb"
        kind = "imbalance"
        [[feature]]
        name = "dimb"
        kind = "depth_imbalance"
        levels = 5
        """.write(to: def, atomically: true, encoding: .utf8)
        let table = dir.appendingPathComponent("t.csv")
        let r = try TickBusTest.run(
            ["features", "--source", "lobster:\(msg),\(book)", "--features", def.path, "--out", table.path],
            timeout: 300
        )
        #expect(r.status == 0, "\(r.stderr)")
        // The state after the last message of each timestamp, from the table ...
        var ours: [Int64: [Double]] = [:]
        for line in try String(contentsOf: table, encoding: .utf8).split(separator: "\n").dropFirst() {
            let f = line.split(separator: ",")
            ours[Int64(f[1])!] = f.dropFirst(3).map { $0 == "nan" ? Double.nan : Double($0)! }
        }
        // ... and from LOBSTER's files: the order-book row after the last message row of each timestamp.
        let times = try String(contentsOfFile: msg, encoding: .utf8).split(separator: "\n").map {
            Self.nanoseconds($0.prefix { $0 != "," })
        }
        let rows = try String(contentsOfFile: book, encoding: .utf8).split(separator: "\n")
        #expect(times.count == rows.count)
        var reference: [Int64: [Double]] = [:]
        for (t, row) in zip(times, rows) {
            let v = row.split(separator: ",").map { Int64($0)! }  // ask px, ask size, bid px, bid size per level
            let askPx = v[0]
            let askSz = v[1]
            let bidPx = v[2]
            let bidSz = v[3]
            let both = askSz > 0 && bidSz > 0
            let bid = Double(bidPx) / 1e4
            let ask = Double(askPx) / 1e4
            let total = bidSz + askSz
            var num = 0.0
            var den = 0.0
            for l in 0..<5 {
                let w = 1.0 / Double(l + 1)
                let b = Double(v[4 * l + 3])
                let a = Double(v[4 * l + 1])
                num += w * (b - a)
                den += w * (b + a)
            }
            reference[t] = [
                both ? (bid + ask) / 2 : .nan, both ? ask - bid : .nan,
                total > 0 ? Double(bidSz - askSz) / Double(total) : .nan,
                den > 0 ? num / den : .nan,
            ]
        }
        #expect(reference.count > 50_000)
        var compared = 0
        var mismatches = 0
        for (t, want) in reference {
            guard let got = ours[t] else { continue }
            compared += 1
            let same = zip(got, want).allSatisfy { $0.bitPattern == $1.bitPattern || ($0.isNaN && $1.isNaN) }
            if !same {
                mismatches += 1
                if mismatches <= 5 { Issue.record("t=\(t): table \(got), order-book file \(want)") }
            }
        }
        #expect(compared == reference.count, "timestamps without a table row: \(reference.count - compared)")
        #expect(mismatches == 0)
    }
}
