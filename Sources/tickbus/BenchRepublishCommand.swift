import ArgumentParser
import Bench

/// `tickbus bench republish`: ring→ring over MoldUDP64 against a raw UDP loop of the same
/// packet sizes (see `RepublishBench`).
struct RepublishBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "republish",
        abstract: "Ring→ring over MoldUDP64 (republish + tickbus+moldudp64:) vs raw UDP: one-way latency and msg/s."
    )
    @Option(help: "Messages of the flat-out throughput phase per round.") var messages: Int = 200_000
    @Option(name: .customLong("latency-messages"), help: "Messages of the paced latency phase per round.")
    var latencyMessages: Int = 20_000
    @Option(help: "Rate of the latency phase (msg/s).") var rate: Double = 20_000
    @Option(help: "Rounds (baseline and subject interleaved).") var rounds: Int = 3
    @Option(help: "ADDR:PORT (port 0: loopback ports chosen per round).") var group: String = "127.0.0.1:0"
    @Option(help: "Request server ADDR:PORT (default: PORT+1 on the group's host, 127.0.0.1 for multicast).")
    var request: String?
    @Option(name: .customLong("sender-interface"), help: "Multicast interface of the sender.") var senderInterface:
        String?
    @Option(name: .customLong("receiver-interface"), help: "Multicast interface of the receiver.")
    var receiverInterface: String?
    @Option(name: .customLong("sender-netns"), help: "Network namespace (/run/netns/NAME) of the sending thread.")
    var senderNetns: String?
    @Option(name: .customLong("receiver-netns"), help: "Network namespace of the receiving thread.")
    var receiverNetns: String?
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        var o = RepublishBench.Options()
        o.messages = messages
        o.latencyMessages = latencyMessages
        o.rate = rate
        o.rounds = rounds
        o.group = group
        o.request = request
        o.senderInterface = senderInterface
        o.receiverInterface = receiverInterface
        o.senderNetns = senderNetns
        o.receiverNetns = receiverNetns
        let outcome = try runBenchmark { () throws(BenchError) in try RepublishBench.run(o, progress: warn) }
        printBench(outcome.report, text: outcome.text, json: json)
    }
}
