import BacktestReport
import Execution
import Foundation
import TestSupport
import Testing
import TickBusCore

@Suite("BacktestReport: report.json, report.html, bounded memory")
struct BacktestOutputTests {
    @Test("report.json reads back equal, with every documented key and null for what is undefined")
    func jsonRoundTrip() throws {
        let dir = TickBusTest.temporaryDirectory("backtest-json")
        defer { try? FileManager.default.removeItem(at: dir) }
        let l = try BacktestLedger(pnlCSV: nil)
        BacktestLedgerTests.feed(BacktestLedgerTests.session(seed: 3, minutes: 5), l)
        let r = try l.finish(inputs: ["model": String(repeating: "b", count: 64)], counters: ["market_messages": 42])
        try l.write(r, directory: dir.path)
        let bytes = try [UInt8](Data(contentsOf: dir.appendingPathComponent("report.json")))
        #expect(try BacktestReport.decode(bytes, what: "report.json") == r)
        let object = try JSONSerialization.jsonObject(with: Data(bytes)) as! [String: Any]
        #expect(Set(object.keys) == Set(BacktestReport.keys))
        #expect(r.counters["market_messages"] == 42 && r.counters["marks"]! > 0)
        // Documented: every key has a row in Docs/EXECUTION.md's "report.json" section.
        let doc = try String(
            contentsOf: TickBusTest.repositoryRoot.appendingPathComponent("Docs/EXECUTION.md"),
            encoding: .utf8
        )
        let section = doc.components(separatedBy: "## report.json").last ?? ""
        for key in BacktestReport.keys { #expect(section.contains("`\(key)`"), "\(key) undocumented") }

        // An empty run: nulls, not missing keys.
        let empty = try BacktestLedger(pnlCSV: nil).finish(inputs: [:])
        let text = String(decoding: try empty.json(), as: UTF8.self)
        for key in ["sharpe", "fill_rate", "slippage", "hit_rate"] {
            #expect(text.contains("\"\(key)\" : null"), "\(key)")
        }
        #expect(try BacktestReport.decode(try empty.json(), what: "empty") == empty)
    }

    @Test("a report.json that is not one is refused naming the file and the reason")
    func badReports() throws {
        let good = String(decoding: try BacktestLedger(pnlCSV: nil).finish(inputs: [:]).json(), as: UTF8.self)
        func reason(_ text: String) -> String {
            do {
                _ = try BacktestReport.decode(Array(text.utf8), what: "r.json")
                return "accepted"
            } catch { return "\(error)" }
        }
        #expect(reason("{").contains("r.json: not a backtest report: not JSON"))
        #expect(reason("[]").contains("not a JSON object"))
        #expect(reason(good.replacingOccurrences(of: "\"format\" : 1", with: "\"format\" : 2")).contains("format is 2"))
        #expect(
            reason(good.replacingOccurrences(of: "\"turnover\"", with: "\"turnover_x\"")).contains(
                "missing keys turnover"
            )
        )
        #expect(reason(good.replacingOccurrences(of: "\"pnl\" : 0", with: "\"pnl\" : \"x\"")).contains("'pnl' is not"))
    }

    @Test("report.html: three labelled SVG plots with axes, no script, nothing fetched from the network")
    func html() throws {
        let l = try BacktestLedger(pnlCSV: nil)
        BacktestLedgerTests.feed(BacktestLedgerTests.session(seed: 5, minutes: 10), l)
        let r = try l.finish(inputs: ["model": "<script>"])
        let html = ReportHTML.render(r, curve: l.curve, title: "GOOG & co")
        for id in ["pnl", "position", "drawdown"] {
            #expect(html.contains("<svg id=\"\(id)\""), "\(id) plot")
        }
        #expect(html.components(separatedBy: "<polyline").count == 4)
        #expect(html.components(separatedBy: "exchange time (HH:MM:SS)").count == 4)
        #expect(html.contains("09:3"))  // time axis labels in clock time
        #expect(html.contains("GOOG &amp; co") && html.contains("&lt;script&gt;"))
        #expect(!html.lowercased().contains("<script") && !html.contains("src=") && !html.contains("href="))
        let urls = html.components(separatedBy: "http").count - 1
        #expect(urls == html.components(separatedBy: "xmlns=\"http://www.w3.org/2000/svg\"").count - 1)
    }

    @Test("10 M decisions: the plot buckets stay at their capacity, nothing else grows")
    func boundedMemory() throws {
        let l = try BacktestLedger(pnlCSV: nil, options: .init(horizonNs: 1_000_000_000, plotBuckets: 2000))
        var t: Int64 = 34_200_000_000_000
        var mid: Int64 = 1_000_000
        var id: UInt64 = 0
        var peakPending = 0
        var peakOrders = 0
        for i in 0..<10_000_000 {
            t += 20_000  // 20 µs: 50 decisions per ms, 200 s of exchange time
            if i % 8 == 0 {
                mid += i & 16 == 0 ? 100 : -100
                l.mark(time: t, instrument: UInt32((i / 8) & 3), mid: mid)  // each instrument every 32
            }
            l.decision(
                time: t,
                instrument: UInt32(i & 3),
                marketSequence: UInt64(i),
                mid: mid,
                signal: Int8(i % 3 - 1),
                latencyNs: UInt64(i % 5000)
            )
            if i % 1000 == 0 {
                id += 1
                l.order(.new(id: id, at: t, instrument: 0, side: .buy, price: mid, quantity: 100), decisionMid: mid)
                l.fill(
                    Fill(
                        orderId: id,
                        instrument: 0,
                        side: i % 2000 == 0 ? .buy : .sell,
                        time: t,
                        marketSequence: UInt64(i),
                        price: mid,
                        quantity: 100,
                        liquidity: .maker,
                        fee: 0.1,
                        remaining: 0
                    )
                )
            }
            if i % 100_000 == 0 {
                let s = l.storage
                peakPending = max(peakPending, s.pendingOutcomes)
                peakOrders = max(peakOrders, s.openOrders)
                #expect(s.plotBuckets == 2000 && s.instruments <= 4)
            }
        }
        let s = l.storage
        #expect(s.plotBuckets == 2000 && l.curve.count <= 2000 && s.openOrders == 0)
        // Outcomes in flight: the decisions with a signal within one horizon (1 s at 50 per ms).
        #expect(peakPending <= 2 * 50_000 / 3 + 100, "\(peakPending)")
        #expect(peakOrders <= 1)
        let r = try l.finish(inputs: [:])
        #expect(r.decisions == 10_000_000 && r.latency.count == 10_000_000)
    }
}
