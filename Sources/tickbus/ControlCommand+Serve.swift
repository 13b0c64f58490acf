import ArgumentParser
import Control
import Foundation
import TickBusCore

/// `tickbus control serve`: the bus's control server, the one producer of ring `control`.
struct ControlServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Own ring control: take commands on the bus's control.sock, check them against the registry, publish."
    )

    @OptionGroup var busOption: ControlBusOption
    @Option(help: "Registry directory.") var registry: String = "./registry"
    @Option(help: "Slots of ring control (a power of two).") var capacity: Int = ControlServer.defaultCapacity
    @Option(help: "Create the ring and socket 0660 for this group id (default 0600, owner only).") var group: UInt32?

    func run() throws {
        guard let bus = busOption.bus else { throw ValidationError("--bus is required") }
        installStopSignalsUnblocked()
        // Absolute: the registry is opened for every submission, whatever the process does later.
        let root = URL(fileURLWithPath: registry).standardizedFileURL.path
        var server: ControlServer
        do {
            server = try ControlServer(
                bus: bus,
                registry: root,
                capacity: capacity,
                access: group.map { .group(gid_t($0)) } ?? .owner
            )
        } catch { throw RuntimeFailure(error) }
        if !FileManager.default.fileExists(atPath: root) {
            warn("control serve: registry \(root) does not exist: load and rollback are refused until it does")
        }
        print(
            "control serve: bus=\(bus) ring=\(server.ringPath) socket=\(server.socketPath) registry=\(root) "
                + "first_command=\(server.nextCommandId)"
        )
        flushOut()
        server.run(stop: { stopRequested() }) { line in
            print(line)
            flushOut()
        }
        server.close()
        print(
            "control serve: stopped accepted=\(server.accepted) refused=\(server.refused) published=\(server.published)"
        )
        flushOut()
    }
}
