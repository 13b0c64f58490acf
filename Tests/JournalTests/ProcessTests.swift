import Feed
import Foundation
import Journal
import TestSupport
import Testing
import TickBusCore

/// The recorder, `journal verify` and `replay` as separate processes on a real bus.
@Suite(.serialized) struct RecorderProcessTests {
    /// Checks every entry of a journal against the synthetic sequence the feed published
    /// (regenerated in-process): record `s` is message `s` of the source, byte for byte except
    /// receive time (stamped at publish); a gap skips exactly its count. Returns (records, lost).
    func checkAgainstSynthetic(
        _ dir: String,
        seed: UInt64
    ) throws -> (records: UInt64, lost: UInt64, reader: JournalReader) {
        let reader = try JournalReader(directory: dir, ring: "market")
        var source = SyntheticSource(seed: seed)
        var produced: UInt64 = 0
        var mismatches = 0
        var sawEnd = false
        while let e = reader.next() {
            switch e {
            case .record(let p):
                let seq = p.load(as: UInt64.self)
                var got = MarketMessage(MarketMessageView(p))
                got.receiveTime = 0
                if got.kind == .endOfSession {
                    sawEnd = true
                    #expect(seq == produced)
                    continue
                }
                #expect(!sawEnd, "a record after end-of-session")
                while produced < seq {
                    _ = source.next()
                    produced += 1
                }
                let want = source.next()!
                produced += 1
                if got != want { mismatches += 1 }
            case .gap(let from, let count):
                #expect(from == produced || from >= produced, "gap from \(from) before \(produced)")
                #expect(count > 0)
            }
        }
        #expect(mismatches == 0, "\(mismatches) records differ from what the producer published")
        return (reader.records, reader.lost, reader)
    }

    @Test(arguments: [0, 1, 2])
    func sigkillAtRandomMomentsLeavesAValidPrefix(round: Int) throws {
        let bus = TickBusTest.uniqueBus("jcrash")
        let dir = temporaryDirectory("crash\(round)")
        defer {
            TickBusTest.removeBus(bus)
            removeDirectory(dir)
        }
        let seed = UInt64(100 + round)
        var extra: [String] = []
        switch round {
        case 1: extra = ["--block-kb", "64", "--segment-mb", "1", "--buffers", "4"]
        case 2: extra = ["--fsync", "interval", "--block-kb", "256"]
        default: break
        }
        let recorder = try Child(
            ["record", "--bus", bus, "--rings", "market", "--dir", dir, "--attach-timeout", "20"] + extra
        )
        let feed = try Child([
            "feed", "--bus", bus, "--source", "synthetic:\(seed)", "--messages", "20000000", "--rate", "150000",
            "--wait-readers", "1", "--wait-timeout", "20",
        ])
        #expect(recorder.waitFor(timeout: 30) { $0.contains("record: recording") })
        usleep(UInt32.random(in: 300_000...1_500_000))
        recorder.signal(SIGKILL)
        let r = recorder.wait(timeout: 10)
        #expect(r.status == SIGKILL || r.status != 0)
        feed.signal(SIGKILL)  // (the harness's children may inherit a mask blocking SIGTERM)
        _ = feed.wait(timeout: 20)

        // The CLI: every file checked, the stop reported with file, offset and reason.
        let v = try TickBusTest.run(["journal", "verify", dir], timeout: 60)
        #expect(!v.timedOut)
        let ringLine = v.stdout.split(separator: "\n").first { $0.hasPrefix("ring=market") }.map(String.init) ?? ""
        let kv = keyValues(ringLine)
        #expect(kv["status"] == "stopped", "verify: \(v.stdout)")
        #expect(kv["reason"] != nil && kv["offset"] != nil && kv["file"] != nil)
        #expect(v.status == 1)
        #expect(v.stdout.contains("why: "))

        // Everything before the stop equals what the producer published.
        let (records, lost, reader) = try checkAgainstSynthetic(dir, seed: seed)
        #expect(records > 0)
        #expect(kv["records"] == "\(records)")
        #expect(kv["lost"] == "\(lost)")
        #expect(reader.stopError != nil)
        #expect(reader.stopError?.location?.offset == UInt64(kv["offset"] ?? ""))
    }

    @Test(arguments: [SIGINT, SIGTERM])
    func stopSignalFlushesAndSeals(signal: Int32) throws {
        let bus = TickBusTest.uniqueBus("jstop")
        let dir = temporaryDirectory("stop")
        defer {
            TickBusTest.removeBus(bus)
            removeDirectory(dir)
        }
        let recorder = try Child(["record", "--bus", bus, "--rings", "market", "--dir", dir, "--attach-timeout", "20"])
        let feed = try Child([
            "feed", "--bus", bus, "--source", "synthetic:9", "--messages", "20000000", "--rate", "20000",
            "--wait-readers", "1", "--wait-timeout", "20",
        ])
        #expect(recorder.waitFor(timeout: 30) { $0.contains("record: recording") })
        usleep(500_000)
        recorder.signal(signal)
        let r = recorder.wait(timeout: 30)
        feed.signal(SIGKILL)  // (the harness's children may inherit a mask blocking SIGTERM)
        _ = feed.wait(timeout: 20)
        #expect(r.status == 0 && !r.timedOut, "\(r.stderr)")
        let ringKV = keyValues(
            r.stdout.split(separator: "\n").first { $0.hasPrefix("ring=market") }.map(String.init) ?? ""
        )
        #expect(ringKV["reason"] == "stop-signal", "\(r.stdout)")
        let v = try TickBusTest.run(["journal", "verify", dir], timeout: 60)
        #expect(v.status == 0, "\(v.stdout)")
        #expect(v.stdout.contains("status=sealed reason=stop-signal"), "\(v.stdout)")
        let (records, lost, reader) = try checkAgainstSynthetic(dir, seed: 9)
        #expect(records > 0 && "\(records)" == ringKV["records"])
        #expect(lost == 0)
        #expect(reader.seal?.reason == .stopSignal)
        #expect(
            (try? JournalIndexFile.load(directory: dir, ring: "market"))?.count == Int(ringKV["blocks"] ?? "") ?? -1
        )
    }

    @Test func aSlowRecorderWritesGapRecordsForExactlyWhatItMissed() throws {
        let bus = TickBusTest.uniqueBus("jgap")
        let dir = temporaryDirectory("gap")
        defer {
            TickBusTest.removeBus(bus)
            removeDirectory(dir)
        }
        let seed: UInt64 = 77
        let messages = 30000
        let recorder = try Child([
            "record", "--bus", bus, "--rings", "market", "--dir", dir, "--attach-timeout", "20", "--delay-us", "20",
        ])
        let feed = try Child([
            "feed", "--bus", bus, "--source", "synthetic:\(seed)", "--messages", "\(messages)", "--capacity", "1024",
            "--wait-readers", "1", "--wait-timeout", "20",
        ])
        let f = feed.wait(timeout: 120)
        #expect(f.status == 0 && !f.timedOut)
        let published = UInt64(keyValues(f.lastLine)["published"] ?? "") ?? 0
        #expect(published == UInt64(messages) + 1)
        let r = recorder.wait(timeout: 120)
        #expect(r.status == 0 && !r.timedOut, "\(r.stderr)")
        let summary = keyValues(r.lastLine)
        let ringKV = keyValues(
            r.stdout.split(separator: "\n").first { $0.hasPrefix("ring=market") }.map(String.init) ?? ""
        )
        let recorded = UInt64(summary["recorded"] ?? "") ?? 0
        let lost = UInt64(summary["lost"] ?? "") ?? 0
        let gaps = UInt64(summary["gaps"] ?? "") ?? 0
        #expect(gaps > 0, "the recorder was never lapped; the test did not test anything")
        #expect(recorded + lost == published)
        #expect(ringKV["reader_lost"] == "\(lost)")
        #expect(ringKV["reason"] == "end-of-session")

        // verify lists every gap; their counts add up to what the journal misses.
        let v = try TickBusTest.run(["journal", "verify", dir], timeout: 60)
        #expect(v.status == 0, "\(v.stdout)")
        let gapLines = v.stdout.split(separator: "\n").filter { $0.hasPrefix("gap ring=market") }
        #expect(UInt64(gapLines.count) == gaps)
        let listed = gapLines.reduce(UInt64(0)) { $0 + (UInt64(keyValues(String($1))["count"] ?? "") ?? 0) }
        #expect(listed == lost)
        #expect(keyValues(v.lastLine)["ok"] == "true")

        let (records, readLost, reader) = try checkAgainstSynthetic(dir, seed: seed)
        #expect(records == recorded)
        #expect(readLost == lost)
        #expect(reader.nextSequence == published)
        #expect(reader.seal?.reason == .endOfSession)
    }

    @Test func gatingReplayIntoTwoGatingReadersLosesNothing() throws {
        let bus = TickBusTest.uniqueBus("jreplay")
        let dir = temporaryDirectory("replay")
        defer {
            TickBusTest.removeBus(bus)
            removeDirectory(dir)
        }
        let n = 20000
        let slots = syntheticSlots(seed: 21, count: n)
        _ = try writeJournal(dir, slots: slots, options: smallBlocks())
        let expected = slots.map { s in s.withUnsafeBytes { MarketMessageView($0.baseAddress!).description } }

        let replay = try Child([
            "replay", "--dir", dir, "--bus", bus, "--gating", "--wait-readers", "2", "--capacity", "64",
        ])
        let fast = try Child(["tap", "--bus", bus, "--gating", "--print", "--attach-timeout", "20", "--name", "fast"])
        let slow = try Child([
            "tap", "--bus", bus, "--gating", "--print", "--attach-timeout", "20", "--name", "slow", "--delay-us", "10",
        ])
        let rr = replay.wait(timeout: 180)
        let a = fast.wait(timeout: 60)
        let b = slow.wait(timeout: 60)
        #expect(rr.status == 0 && !rr.timedOut, "\(rr.stderr)")
        let rkv = keyValues(rr.lastLine)
        #expect(rkv["replayed"] == "\(n)")
        #expect(rkv["published"] == "\(n + 1)")
        #expect(rkv["complete"] == "true")
        for (name, t) in [("fast", a), ("slow", b)] {
            #expect(t.status == 0 && !t.timedOut, "\(name): \(t.stderr)")
            let kv = keyValues(t.lastLine)
            #expect(kv["received"] == "\(n + 1)", "\(name)")
            #expect(kv["lost"] == "0" && kv["gaps"] == "0", "\(name)")
            let lines = t.stdout.split(separator: "\n").map(String.init)
            let same = Array(lines.prefix(n)) == expected
            #expect(same, "\(name): replayed messages differ from the journal")
            #expect(lines.count > n && lines[n].hasPrefix("eos ") && lines[n].hasSuffix("messages=\(n)"), "\(name)")
        }
    }
}
