import ArgumentParser
import CTickBus
import TickBusCore
#if canImport(Glibc)
import Glibc
#endif

struct RingsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rings", abstract: "List the rings of a bus with their header fields and readers.")
    @Option(help: "Bus name.") var bus: String

    func run() throws {
        let names = try Segment.list(bus: bus)
        for name in names {
            do {
                let m = try Segment.attach(bus: bus, ring: name, expecting: nil)
                let h = m.header
                let c = ProducerCounters(m)
                let alive = tb_pid_alive(h.producerPid) != 0
                let state: String
                switch m.producerState {
                case .closed: state = "closed"
                case .running: state = alive ? "running" : "dead"
                case .initializing: state = "initializing"
                }
                print("ring=\(name) schema=\(h.schema) version=\(h.version) slot_size=\(h.slotSize) capacity=\(h.capacity) "
                      + "generation=\(h.generation) producer_pid=\(h.producerPid) state=\(state) published=\(m.cursor) file_size=\(h.fileSize) "
                      + "gate_waits=\(c.gateWaits) ungated=\(c.readersUngated) reclaimed=\(c.readersReclaimed)")
                for r in ReaderTable.snapshot(m) {
                    print("  reader=\(r.index) name=\(r.name) pid=\(r.pid) mode=\(r.mode == .gating ? "gating" : "live") position=\(r.position) "
                          + "lag=\(m.cursor &- r.position) lost=\(r.lost) gaps=\(r.gaps) alive=\(r.alive)")
                }
            } catch {
                print("ring=\(name) invalid: \(error)")
            }
        }
    }
}

struct RmCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rm", abstract: "Remove a bus: its rings and stats blocks (files you own with a TickBus magic), then the directory.")
    @Option(help: "Bus name.") var bus: String
    func run() throws {
        try Segment.removeBus(bus)
    }
}
