import ArgumentParser
import CTickBus
import Republish
import TickBusCore

struct RepublishCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "republish",
        abstract:
            "Send a ring as MoldUDP64 over UDP (multicast or unicast) and serve retransmission requests (Docs/MULTIHOST.md)."
    )

    @Option(help: "Bus name.") var bus: String
    @Option(help: "Ring to republish.") var ring: String = "market"
    @Option(help: "Destination ADDR:PORT: a multicast group (e.g. 239.1.1.1:31000) or a unicast address.")
    var group: String
    @Option(help: "Outgoing interface of multicast, by name (e.g. eth0).") var interface: String?
    @Option(help: "MoldUDP64 session (up to 10 characters; default TB + the ring's generation).") var session: String?
    @Option(name: .customLong("retransmit-listen"), help: "Request server ADDR:PORT (default 0.0.0.0:PORT+1).")
    var retransmitListen: String?
    @Option(help: "tickbus (64-byte messages) | itch (ITCH 5.0).") var format: String = "tickbus"
    @Option(name: .customLong("max-packet"), help: "Largest UDP payload in bytes (header and blocks).")
    var maxPacket: Int = 1472
    @Option(help: "Multicast TTL.") var ttl: UInt8 = 1
    @Option(help: "Multicast loopback: on | off.") var loopback: String = "on"
    @Option(help: "Messages kept for retransmission (a power of two).") var window: Int = 1 << 18
    @Option(help: "The recorder's journal directory of this ring: retransmissions older than the window.")
    var journal: String?
    @Option(name: .customLong("retransmit-rate"), help: "Retransmitted messages per second at most.")
    var retransmitRate: Double = 500_000
    @Option(help: "After end of session, answer requests until none came for this many seconds.") var linger: Double =
        2
    @Option(help: "start | now: where in the ring to begin.") var from: String = "start"
    @Option(help: "Idle strategy when the ring is empty: spin | yield | backoff.") var idle: String = "backoff"
    @Option(name: .customLong("attach-timeout"), help: "Seconds to wait for the ring to exist.")
    var attachTimeout: Double = 10

    func options() throws -> RepublishOptions {
        var o = RepublishOptions(bus: bus, group: group)
        o.ring = ring
        o.interface = interface
        o.session = session
        o.retransmitListen = retransmitListen
        guard let f = RepublishFormat(rawValue: format) else {
            throw ValidationError("--format must be tickbus or itch")
        }
        o.format = f
        o.maxPacket = maxPacket
        o.ttl = ttl
        switch loopback {
        case "on": o.loopback = true
        case "off": o.loopback = false
        default: throw ValidationError("--loopback must be on or off")
        }
        o.window = window
        o.journal = journal
        o.retransmitRate = retransmitRate
        o.lingerSeconds = linger
        o.from = try startPosition(from)
        o.attachTimeout = attachTimeout
        guard let strategy = IdleStrategy(name: idle) else {
            throw ValidationError("--idle must be spin, yield or backoff")
        }
        o.idle = strategy
        do { try o.validate() } catch { throw ValidationError(error.description) }
        return o
    }

    func validate() throws { _ = try options() }

    func run() throws {
        tb_install_stop_signals()
        var republisher: Republisher
        do { republisher = try Republisher(try options(), stop: stopRequested) } catch let e as RepublishError {
            throw RuntimeFailure(e)
        }
        let stats = republisher.run(log: warn, stop: stopRequested)
        print(stats.line)
        flushOut()
    }
}
