import FeatureStore
import Foundation
import TestSupport
import Testing

/// The reference: every row of the instrument scanned, the one with the greatest knowledge time at
/// or before the query, ties to the highest sequence (then the last row); stale when its event
/// time is more than `ttl` before the query.
func bruteForce(
    _ rows: [(instrument: UInt32, sequence: UInt64, event: Int64, known: Int64)],
    instrument: UInt32,
    at: Int64,
    ttl: Int64?
) -> (row: Int?, status: String) {
    var best: Int?
    for (i, r) in rows.enumerated() where r.instrument == instrument && r.known <= at {
        if let b = best {
            let o = rows[b]
            if r.known > o.known || (r.known == o.known && (r.sequence > o.sequence || r.sequence == o.sequence)) {
                best = i
            }
        } else {
            best = i
        }
    }
    guard let best else { return (nil, "missing") }
    if let ttl, Double(at) - Double(rows[best].event) > Double(ttl) { return (best, "stale") }
    return (best, "ok")
}

/// A deterministic generator (SplitMix64): the tests' random cases repeat.
struct SplitMix {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ n: UInt64) -> UInt64 { next() % n }
}

/// Point-in-time lookup (acceptance 2 of issue 15).
@Suite(.serialized) struct AsOfTests {
    @Test("random rows with varying latency, duplicates and TTLs: the index equals the brute-force scan")
    func randomAgainstBruteForce() {
        var rng = SplitMix(state: 15)
        for round in 0..<40 {
            var rows: [(instrument: UInt32, sequence: UInt64, event: Int64, known: Int64)] = []
            let n = Int(rng.below(200)) + 1
            for _ in 0..<n {
                let event = Int64(rng.below(1_000))
                // Latency 0…500: a later event can be known earlier than an earlier one.
                let known = event + Int64(rng.below(500))
                // Few sequences and times: duplicate (knowledge time, sequence) keys are common.
                rows.append((UInt32(rng.below(3)), rng.below(40), event, known))
            }
            let index = AsOfIndex(
                instrument: rows.map(\.instrument),
                sequence: rows.map(\.sequence),
                eventTime: rows.map(\.event),
                knowledgeTime: rows.map(\.known)
            )
            for _ in 0..<200 {
                let at = Int64(rng.below(1_700)) - 100
                let ttl: Int64? = rng.below(3) == 0 ? nil : Int64(rng.below(600))
                let i = UInt32(rng.below(4))
                let got = index.lookup(instrument: i, at: at, ttl: ttl)
                let want = bruteForce(rows, instrument: i, at: at, ttl: ttl)
                #expect(got.status.rawValue == want.status, "round \(round) at \(at) instrument \(i)")
                #expect(got.row == want.row, "round \(round) at \(at) instrument \(i): \(got) against \(want)")
                if let r = got.row { #expect(rows[r].known <= at, "a row known after the query returned") }
            }
        }
    }

    @Test("a row known after the query is never returned, even with an earlier event time")
    func knowledgeTimeBounds() {
        // Row 0: event 100, known 900 (late). Row 1: event 200, known 300.
        let index = AsOfIndex(
            instrument: [1, 1],
            sequence: [1, 2],
            eventTime: [100, 200],
            knowledgeTime: [900, 300]
        )
        #expect(index.lookup(instrument: 1, at: 250, ttl: nil).status == .missing)
        #expect(index.lookup(instrument: 1, at: 500, ttl: nil).row == 1)
        #expect(index.lookup(instrument: 1, at: 899, ttl: nil).row == 1)
        #expect(index.lookup(instrument: 1, at: 900, ttl: nil).row == 0)
        // TTL: at 500 the row's event (200) is 300 old.
        #expect(index.lookup(instrument: 1, at: 500, ttl: 300).status == .ok)
        #expect(index.lookup(instrument: 1, at: 500, ttl: 299).status == .stale)
        // Extreme times never trap.
        #expect(index.lookup(instrument: 1, at: .max, ttl: 0).status == .stale)
        #expect(index.lookup(instrument: 1, at: .min, ttl: 0).status == .missing)
        // Duplicate keys: the highest sequence, the same answer every time and in any row order.
        let d1 = AsOfIndex(
            instrument: [1, 1, 1],
            sequence: [5, 7, 6],
            eventTime: [1, 2, 3],
            knowledgeTime: [10, 10, 10]
        )
        let d2 = AsOfIndex(
            instrument: [1, 1, 1],
            sequence: [6, 5, 7],
            eventTime: [3, 1, 2],
            knowledgeTime: [10, 10, 10]
        )
        for _ in 0..<3 {
            #expect(d1.lookup(instrument: 1, at: 10, ttl: nil).row == 1)
            #expect(d2.lookup(instrument: 1, at: 10, ttl: nil).row == 2)
        }
    }

    @Test("tickbus features asof on a real LOBSTER snapshot equals a brute-force scan of tickbus features' table")
    func cliAgainstOfflineTable() throws {
        let dir = TickBusTest.temporaryDirectory("asof-cli")
        defer { try? FileManager.default.removeItem(at: dir) }
        let source = try lobsterSubset(dir.appendingPathComponent("in"), lines: 3000)
        let latency: Int64 = 5_000_000
        _ = try snapshot(source, dir.path + "/s", latency: latency)
        let csv = try TickBusTest.run(["features", "--source", source, "--features", featuresToml, "--out", "-"])
        let midnight = SnapshotManifest.midnightNs("2012-06-21")!
        var rows: [(instrument: UInt32, sequence: UInt64, event: Int64, known: Int64)] = []
        var lines: [[Substring]] = []
        for line in csv.stdout.split(separator: "\n").dropFirst() {
            let f = line.split(separator: ",", omittingEmptySubsequences: false)
            let e = midnight + Int64(f[1])!
            rows.append((UInt32(f[2])!, UInt64(f[0])!, e, e + latency))
            lines.append(f)
        }
        #expect(rows.count > 100)
        var rng = SplitMix(state: 2026)
        let first = rows.first!.event
        let span = UInt64(rows.last!.known - first + 20_000_000)
        var times = (0..<60).map { _ in first - 10_000_000 + Int64(rng.below(span)) }
        let ttl: Int64 = latency + 50_000_000
        // Exactly at a knowledge time and 1 ns before; one certainly ok (a row known then is at most
        // the latency old); one certainly stale (past the last row by more than the TTL).
        times += [rows[10].known, rows[10].known - 1, rows[50].known, rows.last!.known + ttl + 1]
        let r = try TickBusTest.run([
            "features", "asof", "--snapshot", dir.path + "/s", "--at", times.map(String.init).joined(separator: ","),
            "--instrument", "1", "--ttl", String(ttl), "--feature", "mid,imb",
        ])
        #expect(r.status == 0, "\(r.stderr)")
        let out = r.stdout.split(separator: "\n")
        #expect(out.first == "query_time,instrument,status,sequence,event_time,knowledge_time,mid,imb")
        #expect(out.count == times.count + 1)
        var statuses: Set<String> = []
        for (q, line) in out.dropFirst().enumerated() where q < times.count {
            let f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            let want = bruteForce(rows, instrument: 1, at: times[q], ttl: ttl)
            statuses.insert(want.status)
            #expect(f[0] == String(times[q]) && f[1] == "1" && f[2] == want.status, "\(line) against \(want)")
            if let w = want.row {
                #expect(f[3] == String(rows[w].sequence) && f[4] == String(rows[w].event), "\(line)")
                let names =
                    ["sequence", "exchange_time", "instrument"]
                    + (csv.stdout.split(separator: "\n").first!)
                    .split(separator: ",").dropFirst(3).map(String.init)
                for (k, name) in ["mid", "imb"].enumerated() {
                    let text = String(lines[w][names.firstIndex(of: name)!])
                    let expected = text == "nan" ? Double.nan : Double(text)!
                    let got = f[6 + k] == "nan" ? Double.nan : Double(f[6 + k])!
                    #expect(got == expected || (got.isNaN && expected.isNaN), "\(line): \(name)")
                }
            } else {
                #expect(f[3...].allSatisfy { $0.isEmpty }, "\(line)")
            }
        }
        #expect(statuses == ["ok", "stale", "missing"], "the random times should reach every status: \(statuses)")
        // The same query again: the same bytes.
        let again = try TickBusTest.run([
            "features", "asof", "--snapshot", dir.path + "/s", "--at", times.map(String.init).joined(separator: ","),
            "--instrument", "1", "--ttl", String(ttl), "--feature", "mid,imb",
        ])
        #expect(again.stdout == r.stdout)
        // Unknown instrument, unknown feature: exit 1 naming it and what the snapshot holds, no usage.
        let i = try TickBusTest.run([
            "features", "asof", "--snapshot", dir.path + "/s", "--at", "0", "--instrument", "9",
        ])
        #expect(i.status == 1 && i.stderr.contains("instrument 9 has no row") && i.stderr.contains("instruments: 1"))
        #expect(!i.stderr.contains("USAGE") && i.stdout.isEmpty, "\(i.stderr)")
        let f = try TickBusTest.run([
            "features", "asof", "--snapshot", dir.path + "/s", "--at", "0", "--feature", "nope",
        ])
        #expect(f.status == 1 && f.stderr.contains("feature 'nope' is not in snapshot") && f.stderr.contains("mid"))
        // A query time that is not a time: a usage error naming it.
        let t = try TickBusTest.run(["features", "asof", "--snapshot", dir.path + "/s", "--at", "12:00"])
        #expect(t.status != 0 && t.stderr.contains("'12:00'"), "\(t.stderr)")
        // ISO time equals its epoch ns.
        #expect(QueryTime.parse("2012-06-21T09:30:00.5Z") == midnight + 34_200_500_000_000)
        #expect(QueryTime.parse("2012-06-21T09:30:00Z") == midnight + 34_200_000_000_000)
        #expect(QueryTime.parse("2012-06-21T24:00:00Z") == nil)
    }
}
