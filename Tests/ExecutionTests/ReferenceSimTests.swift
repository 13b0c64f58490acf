import Foundation
import TestSupport
import Testing

/// `tickbus sim` on the real LOBSTER sample (GOOG 2012-06-21, level 10, 09:30-10:30) against the
/// independent reference `reference_sim.py` (written from the rules of Docs/EXECUTION.md, not from
/// the Swift code): fills.csv and events.csv must be equal byte for byte, for order files generated
/// here around the real best bid and ask — joining the best (queues depleted by cancels and by
/// executions), improving it (crossing adds), below it (trade-through), crossing the spread (taker
/// sweeps, partial fills, IOC and DAY), cancels at random delays (some after the fill: too late) —
/// with and without latency. The reference also counts what the run exercised, so a generator
/// that stops reaching a case fails here rather than passing vacuously.
@Suite(.serialized) struct ReferenceSimTests {
    static let messages = "lobster/GOOG_2012-06-21_34200000_37800000_message_10.csv"
    static let orderbook = "lobster/GOOG_2012-06-21_34200000_37800000_orderbook_10.csv"
    static let reference = TickBusTest.repositoryRoot.appendingPathComponent("Tests/ExecutionTests/reference_sim.py")
        .path

    /// One order line (and maybe its cancel) for every `every`-th row of the files, placed relative
    /// to that row's best bid and ask; sent at the row's time.
    static func orders(messages: String, orderbook: String, seed: UInt64, every: Int) throws -> String {
        var rng = SplitMix64(seed: seed)
        let m = try String(contentsOfFile: messages, encoding: .utf8).split(separator: "\n")
        let b = try String(contentsOfFile: orderbook, encoding: .utf8).split(separator: "\n")
        var out = "id,time_ns,action,instrument,side,price,qty,tif\n"
        var id = 0
        for row in stride(from: 0, to: min(m.count, b.count), by: every) {
            let time = m[row].split(separator: ",")[0].split(separator: ".")
            let ns = Int(time[0])! * 1_000_000_000 + Int(time[1].padding(toLength: 9, withPad: "0", startingAt: 0))!
            let book = b[row].split(separator: ",")
            let ask = Int(book[0])!
            let bid = Int(book[2])!
            id += 1
            let buy = rng.below(2) == 0
            let (best, opposite, sign) = buy ? (bid, ask, 1) : (ask, bid, -1)
            let quantity = 1 + rng.below(399)
            var tif = "DAY"
            let price: Int
            switch rng.below(6) {
            case 1: price = ask - bid > 100 ? best + sign * 100 : best  // improves the best
            case 2: price = best - sign * 100 * (1 + rng.below(3))  // behind the best
            case 3:  // crosses the spread
                price = opposite + sign * 100 * rng.below(3)
                tif = rng.below(2) == 0 ? "IOC" : "DAY"
            default: price = best  // joins the best
            }
            out += "\(id),\(ns),new,1,\(buy ? "B" : "S"),\(price),\(quantity),\(tif)\n"
            if rng.below(10) < 6 { out += "\(id),\(ns + 1 + rng.below(5_000_000_000)),cancel,,,,,\n" }
        }
        return out
    }

    /// Records the LOBSTER pair as the feed publishes it (feed → recorder, lossless).
    static func record(_ m: String, _ b: String, into dir: String) throws {
        let bus = TickBusTest.uniqueBus("xsim")
        defer { TickBusTest.removeBus(bus) }
        let recorder = try Child(["record", "--bus", bus, "--dir", dir, "--gating", "--attach-timeout", "30"])
        let feed = try Child([
            "feed", "--bus", bus, "--source", "lobster:\(m),\(b)", "--wait-readers", "1", "--wait-timeout", "30",
        ])
        let f = feed.wait(timeout: 120)
        let r = recorder.wait(timeout: 60)
        try #require(f.status == 0 && !f.timedOut, "feed: \(f.stderr)")
        try #require(r.status == 0 && !r.timedOut, "recorder: \(r.stderr)")
        try #require(keyValues(r.lastLine)["lost"] == "0", "\(r.stdout)")
    }

    func file(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "<missing \(path)>" }

    /// The first differing line of two files, for the failure message.
    func firstDifference(_ a: String, _ b: String) -> String {
        let x = a.split(separator: "\n", omittingEmptySubsequences: false)
        let y = b.split(separator: "\n", omittingEmptySubsequences: false)
        for i in 0..<max(x.count, y.count) where i >= x.count || i >= y.count || x[i] != y[i] {
            return "line \(i + 1): sim '\(i < x.count ? x[i] : "")' reference '\(i < y.count ? y[i] : "")'"
        }
        return "none"
    }

    @Test func simEqualsTheReferenceOnTheLOBSTERHour() throws {
        let m = try TickBusTest.sharedData(Self.messages)
        let b = try TickBusTest.sharedData(Self.orderbook)
        let dir = TickBusTest.temporaryDirectory("xsim").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let journal = dir + "/journal"
        try Self.record(m, b, into: journal)
        let runs: [(seed: UInt64, every: Int, latency: String)] = [
            (1, 97, "20000,20000"), (2, 13, "0,0"), (4, 41, "50000000,20000"),
        ]
        for run in runs {
            let orders = dir + "/orders-\(run.seed).csv"
            try Self.orders(messages: m, orderbook: b, seed: run.seed, every: run.every)
                .write(toFile: orders, atomically: true, encoding: .utf8)
            let common = ["--latency", run.latency, "--fees", "maker=-0.0021,taker=0.003,order=0.0001"]
            let what = "seed \(run.seed), latency \(run.latency)"
            // The simulator on the journal and on the LOBSTER files directly: the same stream.
            for (name, source) in [("journal", "journal:\(journal)"), ("lobster", "lobster:\(m),\(b)")] {
                let sim = try TickBusTest.run(
                    [
                        "sim", "--source", source, "--orders", orders, "--out", "\(dir)/\(name).fills.csv",
                        "--events", "\(dir)/\(name).events.csv",
                    ] + common,
                    timeout: 120
                )
                #expect(sim.status == 0 && !sim.timedOut, "\(what) \(name): \(sim.stderr)")
                #expect(
                    keyValues(sim.stderr.split(separator: "\n").last.map(String.init) ?? "")["refused_lines"] == "0"
                )
            }
            let ref = try Child(
                [
                    "python3", Self.reference, journal, orders, "--out", "\(dir)/ref.fills.csv",
                    "--events", "\(dir)/ref.events.csv",
                ] + common,
                executable: "/usr/bin/env"
            ).wait(timeout: 180)
            try #require(ref.status == 0 && !ref.timedOut, "reference: \(ref.stderr)")
            for kind in ["fills", "events"] {
                let sim = file("\(dir)/journal.\(kind).csv")
                let expected = file("\(dir)/ref.\(kind).csv")
                #expect(sim == expected, "\(what) \(kind).csv: \(firstDifference(sim, expected))")
                #expect(file("\(dir)/lobster.\(kind).csv") == sim, "\(what) \(kind).csv: journal vs lobster source")
            }
            // Every case the rules name was reached.
            let stats = keyValues(ref.stderr.split(separator: "\n").last.map(String.init) ?? "")
            for key in [
                "depleted_by_cancel", "depleted_by_execution", "filled_behind", "traded_through", "crossing_adds",
                "taker_level_fills", "shared_events", "late_cancels", "partial_then_cancelled",
            ] {
                #expect((Int(stats[key] ?? "") ?? 0) > 0, "\(what): the run never reached \(key): \(ref.stderr)")
            }
            #expect((Int(stats["fills"] ?? "") ?? 0) > 100, "\(ref.stderr)")
        }
    }
}
