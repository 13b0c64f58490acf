import CTickBus
import Feed
import Foundation
import Republish
import TickBusCore

/// `tickbus bench republish`: ring → `Republisher` → UDP → `TickBusMoldUDP64Source` → ring, in one
/// process (three threads: producer, republisher, receiver), against a raw UDP send/receive loop
/// of the same packet sizes, interleaved round by round.
///
/// - **Latency** (paced at `rate` msg/s): the producer stamps each message's exchange time with
///   the monotonic clock at publish on ring A; the receiver takes the clock right after publishing
///   it on ring B: one-way ring→ring. The baseline sends one datagram of the subject's median
///   packet size per message, stamped at send, and takes the clock at receive.
/// - **Throughput** (flat out): `messages` published as fast as the ring takes them, until the
///   receiver has published all of them (losses recovered by retransmission); the baseline sends
///   the same messages in datagrams of the subject's packet size and counts what arrives.
///
/// With `senderNetns`/`receiverNetns` (names under /run/netns) the sending and receiving threads
/// enter those network namespaces before making their sockets: the figures across a veth pair.
public enum RepublishBench {
    public struct Options: Sendable {
        public var messages = 200_000
        public var latencyMessages = 20_000
        public var rate = 20_000.0
        public var rounds = 3
        public var group = "127.0.0.1:0"
        public var request: String?
        public var senderInterface: String?
        public var receiverInterface: String?
        public var senderNetns: String?
        public var receiverNetns: String?
        public init() {}
    }

    /// One round of one side.
    struct Side {
        var latency: [UInt64] = []
        var seconds = 0.0
        var received = 0
        var packetBytes = 0
        var flatPacketBytes = 0
        var retransmitted: UInt64 = 0
    }

    public struct Outcome: Sendable {
        public let options: Options
        public let latency: Percentiles
        public let baselineLatency: Percentiles
        public let messagesPerS: Double
        public let baselineMessagesPerS: Double
        public let packetBytes: Int
        public let flatPacketBytes: Int
        public let retransmitted: UInt64
        public let baselineLost: Int
    }

    /// Ports for a round: the given group's port, or a fresh one per round on loopback.
    static func ports(_ o: Options, round: Int, phase: Int) throws(BenchError) -> (group: String, request: String) {
        let parts = o.group.split(separator: ":")
        guard parts.count == 2, let base = UInt16(parts[1]) else {
            throw .invalid("--group: expected ADDR:PORT, got \(o.group)")
        }
        let port = base == 0 ? UInt16(30_000 + Int(getpid()) % 10_000 * 2 % 20_000 + round * 8 + phase * 4) : base
        let group = "\(parts[0]):\(port)"
        let host = MoldUDP64.isMulticast(try address(group)) ? "127.0.0.1" : String(parts[0])
        let request = o.request ?? "\(host):\(port &+ 1)"
        return (group, request)
    }

    static func address(_ s: String) throws(BenchError) -> sockaddr_in {
        do { return try MoldUDP64.address(s) } catch { throw .feed(error) }
    }

    /// Moves the calling thread into a network namespace by name.
    static func enter(_ netns: String?) {
        guard let netns else { return }
        let fd = open("/run/netns/\(netns)", O_RDONLY)
        guard fd >= 0 else { fatalError("bench republish: no network namespace \(netns)") }
        let rc = tb_enter_network_namespace(fd)
        close(fd)
        guard rc == 0 else { fatalError("bench republish: setns(\(netns)): \(String(cString: strerror(rc)))") }
    }

    public static func run(_ o: Options, progress: (String) -> Void) throws(BenchError) -> Outcome {
        guard o.messages > 0, o.latencyMessages > 0, o.rounds > 0, o.rate > 0 else {
            throw .invalid("--messages, --latency-messages, --rounds and --rate must be positive")
        }
        var subject: [Side] = []
        var baseline: [Side] = []
        var packetBytes = (86, 1472)
        for round in 0..<o.rounds {
            for contender in InterleavedRounds.order([0, 1], round: round) {
                if contender == 0 {
                    let s = try subjectRound(o, round: round)
                    packetBytes = (s.packetBytes, s.flatPacketBytes)
                    subject.append(s)
                } else {
                    baseline.append(try baselineRound(o, round: round, paced: packetBytes.0, flat: packetBytes.1))
                }
            }
            progress("bench republish: round \(round + 1) of \(o.rounds)")
        }
        func pct(_ sides: [Side]) -> Percentiles {
            Percentiles.median(
                sides.map { s in
                    var l = s.latency
                    return Percentiles(sorting: &l)
                }
            )
        }
        func rate(_ sides: [Side]) -> Double {
            Rank.median(sides.map { $0.seconds > 0 ? Double($0.received) / $0.seconds : 0 })
        }
        return Outcome(
            options: o,
            latency: pct(subject),
            baselineLatency: pct(baseline),
            messagesPerS: rate(subject),
            baselineMessagesPerS: rate(baseline),
            packetBytes: packetBytes.0,
            flatPacketBytes: packetBytes.1,
            retransmitted: subject.reduce(0) { $0 + $1.retransmitted },
            baselineLost: baseline.reduce(0) { $0 + (o.messages - $1.received) }
        )
    }
}
