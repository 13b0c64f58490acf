import ArgumentParser
import CTickBus
import Feed
import TickBusCore
#if canImport(Glibc)
import Glibc
#endif

struct MoldUDP64Command: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "moldudp64", abstract: "MoldUDP64 publisher with a retransmission server.", subcommands: [MoldUDP64ServeCommand.self])
}

struct MoldUDP64ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Publish an ITCH file as MoldUDP64 packets to ADDR:PORT and answer retransmission requests on PORT+1.")
    @Option(help: "ITCH 5.0 file (BinaryFILE framing, plain or gzip).") var file: String
    @Option(help: "Destination ADDR:PORT (multicast group or unicast, e.g. 127.0.0.1:31000).") var group: String
    @Option(help: "Messages per second (default: as fast as possible).") var rate: Double = 0
    @Option(help: "Probability of dropping each packet on purpose (0...1).") var drop: Double = 0
    @Option(help: "Seed of the drop decisions.") var seed: UInt64 = 1
    @Option(help: "Request server port (default: the group port + 1).") var requestPort: UInt16?
    @Option(help: "After the file, keep sending end-of-session and answering requests until none came for this many seconds.")
    var linger: Double = 2
    @Option(help: "MoldUDP64 session name (10 characters).") var session: String = "TICKBUS001"

    func run() throws {
        tb_install_stop_signals()
        guard drop >= 0 && drop < 1 else { throw ValidationError("--drop must be in [0, 1), got \(drop)") }
        var server: MoldUDP64Server
        do { server = try MoldUDP64Server(file: file, group: group, requestPort: requestPort, session: session) } catch {
            throw RuntimeFailure(error)
        }
        do { try server.run(rate: rate, drop: drop, seed: seed, linger: linger, log: printError) } catch { throw RuntimeFailure(error) }
        let s = server.stats
        print("messages=\(s.messages) packets=\(s.packets) dropped=\(s.dropped) requests=\(s.requests) retransmitted=\(s.retransmitted)")
        if s.zeroLengthFrames > 0 { printError("moldudp64 serve: skipped \(s.zeroLengthFrames) zero-length frames") }
        if let at = server.truncatedTail {  // the messages after it were never served
            printError("moldudp64 serve: stopped early at a truncated tail at offset \(at) of \(file)")
            throw ExitCode(1)
        }
    }
}
