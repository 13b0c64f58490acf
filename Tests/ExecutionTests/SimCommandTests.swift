import Foundation
import TestSupport
import Testing

/// `tickbus sim` on bad input (issue 13, acceptance 5): an order CSV with malformed lines, an
/// unknown instrument, zero and negative quantities and prices off the tick grid is refused line by
/// line with the line number, and the rest runs.
@Suite(.serialized) struct SimCommandTests {
    @Test func badLinesRefusedLineByLineTheRestRuns() throws {
        let m = try TickBusTest.sharedData(ReferenceSimTests.messages)
        let b = try TickBusTest.sharedData(ReferenceSimTests.orderbook)
        let dir = TickBusTest.temporaryDirectory("xsimcli").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // The first row's best ask is 5802300: a buy there crosses at once.
        let orders = """
            id,time_ns,action,instrument,side,price,qty,tif
            1,34200100000000,new,1,B,5802300,10,IOC
            2,34200100000000,new,1,B,5802300,0,IOC
            3,34200100000000,new,1,B,5802300,-7,IOC
            4,34200100000000,new,1,B,5802350,10,IOC
            5,34200100000000,new,1,B,5802300,10
            6,34200100000000,new,1,B,5802300,ten,IOC
            7,34200100000000,new,9,B,5802300,10,IOC
            8,1,new,1,B,5802300,10,IOC
            9,34200200000000,new,1,S,5790000,5,IOC

            """
        try orders.write(toFile: dir + "/orders.csv", atomically: true, encoding: .utf8)
        let r = try TickBusTest.run(
            [
                "sim", "--source", "lobster:\(m),\(b)", "--orders", dir + "/orders.csv", "--out", dir + "/fills.csv",
                "--events", dir + "/events.csv",
            ],
            timeout: 120
        )
        #expect(r.status == 1 && !r.timedOut, "\(r.stderr)")
        let err = r.stderr
        #expect(err.contains("orders line 3: qty is zero"), "\(err)")
        #expect(err.contains("orders line 4: qty -7 is negative"), "\(err)")
        #expect(err.contains("orders line 5: price 5802350 (1e-4) is off the tick grid"), "\(err)")
        #expect(err.contains("orders line 6: 7 fields, expected 8"), "\(err)")
        #expect(err.contains("orders line 7: qty 'ten' is not a decimal integer"), "\(err)")
        // Instrument 9 has no message in the source: the simulator rejects it at arrival, named by its line.
        #expect(err.contains("orders line 8: order 7 rejected at 34200100000000: unknown_instrument"), "\(err)")
        // Order 8 arrives before the first message: nothing of instrument 1 seen yet.
        #expect(err.contains("orders line 9: order 8 rejected at 1: unknown_instrument"), "\(err)")
        #expect(!err.contains("USAGE"), "a runtime refusal prints no usage banner: \(err)")
        let summary = keyValues(err.split(separator: "\n").last.map(String.init) ?? "")
        #expect(summary["orders"] == "4" && summary["rejected"] == "2" && summary["refused_lines"] == "5", "\(err)")
        // The rest ran: orders 1 and 9 filled as takers.
        let fills = try String(contentsOfFile: dir + "/fills.csv", encoding: .utf8).split(separator: "\n")
        #expect(fills.first == "order_id,time_ns,market_sequence,price,qty,liquidity,fee")
        #expect(fills.dropFirst().map { $0.split(separator: ",")[0] }.sorted() == ["1", "9"], "\(fills)")
        #expect(fills.dropFirst().allSatisfy { $0.hasSuffix(",taker,0.0") }, "\(fills)")
        let events = try String(contentsOfFile: dir + "/events.csv", encoding: .utf8)
        #expect(events.contains("7,34200100000000,reject,unknown_instrument,0.0"), "\(events)")
    }

    @Test func wrongArgumentsAndMissingFiles() throws {
        let m = try TickBusTest.sharedData(ReferenceSimTests.messages)
        let b = try TickBusTest.sharedData(ReferenceSimTests.orderbook)
        let src = "lobster:\(m),\(b)"
        let badLatency = try TickBusTest.run(["sim", "--source", src, "--orders", "x", "--out", "y", "--latency", "5"])
        #expect(badLatency.status != 0 && badLatency.stderr.contains("--latency must be ORDER_NS,RESPONSE_NS"))
        let badFees = try TickBusTest.run([
            "sim", "--source", src, "--orders", "x", "--out", "y", "--fees", "maker=nan",
        ])
        #expect(badFees.status != 0 && badFees.stderr.contains("'maker=nan'"), "\(badFees.stderr)")
        let missing = try TickBusTest.run(["sim", "--source", src, "--orders", "/nonexistent/o.csv", "--out", "/tmp/x"])
        #expect(missing.status != 0 && missing.stderr.contains("/nonexistent/o.csv"), "\(missing.stderr)")
        #expect(!missing.stderr.contains("USAGE"), "\(missing.stderr)")
    }

    /// The order-csv fuzz seeds and regression inputs through the real CLI on a real ITCH sample:
    /// each run ends by itself (status 0 or 1, a whole-file refusal 64), never by a trap.
    @Test func fuzzCorpusThroughTheCLI() throws {
        let itch = try TickBusTest.sharedData("itch50/sample.itch")
        let out = TickBusTest.temporaryDirectory("xsimfz").path
        defer { try? FileManager.default.removeItem(atPath: out) }
        var inputs: [String] = []
        for base in ["Fuzz/seeds/order-csv", "Fuzz/regressions/order-csv"] {
            let dir = TickBusTest.repositoryRoot.appendingPathComponent(base).path
            for n in ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted() {
                inputs.append(dir + "/" + n)
            }
        }
        #expect(inputs.count >= 5)
        for input in inputs {
            let r = try TickBusTest.run(
                [
                    "sim", "--source", "itch:\(itch)", "--orders", input, "--out", out + "/f.csv", "--events",
                    out + "/e.csv",
                ],
                timeout: 60
            )
            #expect(!r.timedOut && [0, 1, 64].contains(r.status), "\(input): \(r.status) \(r.stderr)")
            #expect(!r.stderr.contains("Fatal error") && !r.stderr.contains("*** Signal"), "\(input): \(r.stderr)")
        }
    }
}
