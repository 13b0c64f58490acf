import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Acceptance 1 and 2 of issue 16 on three test hosts (network namespaces joined by a bridge):
/// host A feeds a real LOBSTER sample, runs a strategy and republishes its market ring to a
/// multicast group; hosts B and C rebuild the ring from the group through 5% UDP loss (nftables
/// inside their namespaces) and run the same strategy. Their market rings equal A's message for
/// message, B's decisions equal A's bit for bit, and Wireshark's own MoldUDP64 dissector reads a
/// capture made on C.
@Suite(.serialized) struct MultiHostTests {
    static let group = "239.77.0.1"

    /// Starts recorder + strategy + `feed --source tickbus+moldudp64:` on a receiving host.
    func receiver(
        _ net: TestHosts,
        _ host: String,
        bus: String,
        dir: String,
        port: UInt16,
        fx: (features: String, model: String)
    ) throws -> [Child] {
        let recorder = try net.tickbus(
            host,
            [
                "record", "--bus", bus, "--rings", "market,decisions.S", "--dir", dir, "--gating", "--attach-timeout",
                "60",
            ]
        )
        let strategy = try net.tickbus(
            host,
            [
                "strategy", "--bus", bus, "--features", fx.features, "--model", fx.model, "--name", "S", "--cpu", "1",
                "--gating", "--attach-timeout", "60",
            ]
        )
        let source =
            "tickbus+moldudp64:\(Self.group):\(port),request=\(net.address("a")):\(port + 1),interface=\(net.interface(host)),idle=30"
        let feed = try net.tickbus(
            host,
            [
                "feed", "--bus", bus, "--source", source, "--wait-readers", "2", "--wait-timeout", "60", "--capacity",
                "\(1 << 18)",
            ]
        )
        return [feed, strategy, recorder]
    }

    @Test func threeHostsThroughFivePercentLossRebuildTheRingAndTheDecisions() throws {
        let messages = try TickBusTest.sharedData("lobster/GOOG_2012-06-21_34200000_37800000_message_10.csv")
        let book = try TickBusTest.sharedData("lobster/GOOG_2012-06-21_34200000_37800000_orderbook_10.csv")
        guard let net = try TestHosts.make(["a", "b", "c"]) else { return }
        defer { net.tearDown() }
        let port = TestPorts.take()
        try net.dropUDP("b", port: port, percent: 5)
        try net.dropUDP("c", port: port, percent: 5)
        let dir = TickBusTest.temporaryDirectory("multihost").path
        let buses = ["a", "b", "c"].map { TickBusTest.uniqueBus("mh\($0)") }
        defer {
            for b in buses { TickBusTest.removeBus(b) }
            try? FileManager.default.removeItem(atPath: dir)
        }
        let fx = try strategyFixtures(dir)
        // Wireshark captures on C's link, before C's drop rule (capture sees every datagram).
        let pcap = dir + "/c.pcap"
        let capture = try Capture(
            net,
            host: "c",
            arguments: ["-i", net.interface("c"), "-w", pcap, "-f", "udp port \(port)", "-q"],
            stderr: dir + "/tshark.err"
        )
        #expect(capture.started(timeout: 20), "\(capture.stderr)")
        var children = try receiver(net, "b", bus: buses[1], dir: dir + "/b", port: port, fx: fx)
        children += try receiver(net, "c", bus: buses[2], dir: dir + "/c", port: port, fx: fx)
        let recorder = try net.tickbus(
            "a",
            [
                "record", "--bus", buses[0], "--rings", "market,decisions.S", "--dir", dir + "/a", "--gating",
                "--attach-timeout", "60",
            ]
        )
        let strategy = try net.tickbus(
            "a",
            [
                "strategy", "--bus", buses[0], "--features", fx.features, "--model", fx.model, "--name", "S", "--cpu",
                "0", "--gating", "--attach-timeout", "60",
            ]
        )
        let republish = try net.tickbus(
            "a",
            [
                "republish", "--bus", buses[0], "--group", "\(Self.group):\(port)", "--interface", net.interface("a"),
                "--retransmit-listen", "\(net.address("a")):\(port + 1)", "--linger", "3", "--attach-timeout", "60",
            ]
        )
        let feed = try net.tickbus(
            "a",
            [
                "feed", "--bus", buses[0], "--source", "lobster:\(messages),\(book)", "--wait-readers", "3",
                "--wait-timeout", "60", "--capacity", "\(1 << 18)",
            ]
        )
        let f = feed.wait(timeout: 60)
        #expect(f.status == 0, "feed A: \(f.stderr)")
        let published = Int(publishedCount(f.stdout)) ?? -1
        let r = republish.wait(timeout: 30)
        #expect(r.status == 0 && !r.timedOut, "republish: \(r.stderr)")
        let sent = keyValues(r.lastLine)
        #expect(sent["republished"] == "\(published)" && sent["lost"] == "0", "\(r.stdout)")
        #expect((Int(sent["retransmitted"] ?? "") ?? 0) > 0, "5% loss must have caused retransmissions: \(r.stdout)")
        for c in [strategy, recorder] {
            let x = c.wait(timeout: 30)
            #expect(x.status == 0 && !x.timedOut, "\(c.arguments.prefix(1)): \(x.stderr)")
        }
        var receiverLines: [String] = []
        for c in children {
            let x = c.wait(timeout: 30)
            #expect(x.status == 0 && !x.timedOut, "\(c.arguments.prefix(5)): \(x.stderr) \(x.stdout)")
            if c.arguments.contains("feed") {
                receiverLines.append(x.stderr)
                #expect(publishedCount(x.stdout) == "\(published)", "\(x.stdout)")
            }
        }
        #expect(capture.stop(timeout: 20), "tshark did not stop on SIGINT: \(capture.stderr)")
        #expect(try net.dropped("b") > 0 && net.dropped("c") > 0, "the drop rules must have dropped packets")
        // Every receiver line: nothing unrecovered, no gap record.
        for text in receiverLines {
            let line = text.split(separator: "\n").first { $0.hasPrefix("tickbus+moldudp64:") }.map(String.init) ?? ""
            let kv = keyValues(line)
            #expect(kv["gap_records"] == "0" && kv["unrecovered"] == "0" && kv["malformed"] == "0", "\(line)")
            #expect((Int(kv["requests"] ?? "") ?? 0) > 0, "\(line)")
        }
        let a = try journalLines(dir + "/a")
        #expect(a.count == published)
        for h in ["b", "c"] {
            let other = try journalLines(dir + "/\(h)")
            #expect(other == a, "market ring of \(h): \(firstDifference(a, other))")
        }
        let decisionsA = try journalLines(dir + "/a", ring: "decisions.S")
        let decisionsB = try journalLines(dir + "/b", ring: "decisions.S")
        #expect(decisionsA.count > 100)
        #expect(decisionsB == decisionsA, "decisions of B: \(firstDifference(decisionsA, decisionsB))")
        try checkCapture(pcap, port: port, published: published)
    }

    /// Acceptance 2: tshark's MoldUDP64 dissector decodes every packet of the capture (session,
    /// sequence, count, each block) without a malformed or warning expert item, and the live
    /// packets' sequences cover 1...published exactly.
    func checkCapture(_ pcap: String, port: UInt16, published: Int) throws {
        let decode = ["-r", pcap, "-d", "udp.port==\(port),moldudp64"]
        let problems = try TestHosts.run(
            "/usr/bin/tshark",
            decode + [
                "-Y",
                "_ws.malformed || _ws.expert.severity >= warning || moldudp64.msglen.invalid || moldudp64.count.invalid",
            ],
            timeout: 120
        )
        #expect(problems.status == 0, "\(problems.stderr)")
        #expect(problems.stdout.isEmpty, "tshark flags packets: \(problems.stdout.prefix(2000))")
        let fields = try TestHosts.run(
            "/usr/bin/tshark",
            decode + [
                "-Y", "udp.dstport==\(port) && ip.dst==\(Self.group)", "-T", "fields", "-e", "moldudp64.session",
                "-e", "moldudp64.sequence", "-e", "moldudp64.count", "-e", "moldudp64.msgseq", "-e",
                "moldudp64.msglen",
            ],
            timeout: 120
        )
        #expect(fields.status == 0, "\(fields.stderr)")
        var covered = Set<UInt64>()
        var sessions = Set<String>()
        var packets = 0
        for line in fields.stdout.split(separator: "\n") {
            let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard f.count >= 5, let seq = UInt64(f[1]), let count = Int(f[2]) else {
                Issue.record("tshark line without session, sequence and count: \(line)")
                continue
            }
            packets += 1
            sessions.insert(f[0])
            if count == 0 || count == 0xFFFF { continue }
            let blockSequences = f[3].split(separator: ",").compactMap { UInt64($0) }
            let lengths = f[4].split(separator: ",").compactMap { Int($0) }
            #expect(blockSequences == (0..<UInt64(count)).map { seq + $0 }, "\(line)")
            #expect(lengths == Array(repeating: 64, count: count), "\(line)")
            for s in blockSequences { covered.insert(s) }
        }
        #expect(packets > 0)
        #expect(sessions.count == 1, "\(sessions)")
        #expect(covered == Set((1...UInt64(published)).map { $0 }), "live sequences: \(covered.count) of \(published)")
    }
}

extension MultiHostTests {
    /// Acceptance 2 with `--format itch`: the blocks Wireshark decodes from a capture made in host
    /// B, framed back into an ITCH BinaryFILE, give `tickbus book itch` the sender's book.
    @Test func itchBlocksCapturedInANamespaceRebuildTheSendersBook() throws {
        let data = try TickBusTest.sharedData("itch50/12302019_SNIPPET.NASDAQ_ITCH50")
        guard let net = try TestHosts.make(["a", "b"]) else { return }
        defer { net.tearDown() }
        let port = TestPorts.take()
        let dir = TickBusTest.temporaryDirectory("itchcap").path
        let bus = TickBusTest.uniqueBus("itcha")
        defer {
            TickBusTest.removeBus(bus)
            try? FileManager.default.removeItem(atPath: dir)
        }
        let pcap = dir + "/b.pcap"
        let capture = try Capture(
            net,
            host: "b",
            arguments: ["-i", net.interface("b"), "-w", pcap, "-f", "udp port \(port)", "-q"],
            stderr: dir + "/tshark.err"
        )
        #expect(capture.started(timeout: 20), "\(capture.stderr)")
        let republish = try net.tickbus(
            "a",
            [
                "republish", "--bus", bus, "--group", "\(Self.group):\(port)", "--interface", net.interface("a"),
                "--format", "itch", "--linger", "0.3", "--attach-timeout", "30",
            ]
        )
        let feed = try net.tickbus(
            "a",
            ["feed", "--bus", bus, "--source", "itch:\(data)", "--wait-readers", "1", "--wait-timeout", "30"]
        )
        let f = feed.wait(timeout: 30)
        #expect(f.status == 0, "\(f.stderr)")
        let r = republish.wait(timeout: 30)
        #expect(r.status == 0, "\(r.stderr)")
        usleep(200_000)
        #expect(capture.stop(timeout: 20), "\(capture.stderr)")
        let sent = Int(keyValues(r.lastLine)["republished"] ?? "") ?? -1
        #expect(sent > 500, "\(r.stdout)")
        let fields = try TestHosts.run(
            "/usr/bin/tshark",
            [
                "-r", pcap, "-d", "udp.port==\(port),moldudp64", "-T", "fields", "-e", "moldudp64.msgseq", "-e",
                "moldudp64.msgdata",
            ],
            timeout: 60
        )
        #expect(fields.status == 0, "\(fields.stderr)")
        var blocks: [UInt64: [UInt8]] = [:]
        for line in fields.stdout.split(separator: "\n") {
            let f = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard f.count == 2, !f[0].isEmpty else { continue }  // heartbeats, end of session
            let seqs = f[0].split(separator: ",").compactMap { UInt64($0) }
            let hex = f[1].split(separator: ",")
            #expect(seqs.count == hex.count, "\(line)")
            for (s, h) in zip(seqs, hex) {
                var bytes: [UInt8] = []
                var i = h.startIndex
                while i < h.endIndex, let j = h.index(i, offsetBy: 2, limitedBy: h.endIndex) {
                    bytes.append(UInt8(h[i..<j], radix: 16) ?? 0)
                    i = j
                }
                blocks[s] = bytes
            }
        }
        #expect(blocks.count == sent && blocks.keys.max() == UInt64(sent), "captured \(blocks.count) of \(sent)")
        var file: [UInt8] = []
        for s in 1...UInt64(max(sent, 1)) {
            let b = blocks[s] ?? []
            file += [UInt8(b.count >> 8), UInt8(b.count & 0xFF)] + b
        }
        let rebuilt = dir + "/rebuilt.itch"
        try Data(file).write(to: URL(fileURLWithPath: rebuilt))
        let original = try TickBusTest.run(["book", "itch", "--file", data, "--dump", "final"], timeout: 60)
        let fromWire = try TickBusTest.run(["book", "itch", "--file", rebuilt, "--dump", "final"], timeout: 60)
        #expect(original.status == 0 && fromWire.status == 0, "\(original.stderr) \(fromWire.stderr)")
        #expect(!original.stdout.isEmpty)
        // The ring carries instruments, not symbols: a symbol reaches the ITCH stream only from a
        // directory (R) message, and this sample starts after the directory. So the books are
        // compared without the stock column (both are listed by stock locate, in the same order).
        func withoutStock(_ s: String) -> [Substring] {
            s.split(separator: "\n").map { line in line.firstIndex(of: ",").map { line[$0...] } ?? line }
        }
        #expect(withoutStock(fromWire.stdout) == withoutStock(original.stdout))
        #expect(withoutStock(original.stdout).count > 100)
    }
}
