import Feed
import Foundation
import TestSupport
import Testing
import TickBusCore

/// Socket failures in the MoldUDP64 receiver and server: the error holds the failed call and its
/// errno as a value, and no descriptor is left open behind it.
@Suite("MoldUDP64 socket errors", .serialized)
struct MoldUDP64SocketErrorTests {
    /// Entries of /proc/self/fd (other suites open and close descriptors at the same time).
    static func openDescriptors() -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? -1
    }

    /// A UDP socket bound to a free loopback port *without* SO_REUSEADDR, so that any later bind
    /// of that port fails with EADDRINUSE (even from a socket that sets SO_REUSEADDR).
    static func takenPort() throws -> (fd: Int32, port: UInt16) {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        try #require(fd >= 0)
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        a.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &a) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { p in
                bind(fd, p, len) == 0 && getsockname(fd, p, &len) == 0
            }
        }
        if !bound { close(fd) }
        try #require(bound)
        return (fd, UInt16(bigEndian: a.sin_port))
    }

    /// Runs `attempt` (which must fail) until the descriptor count is the same before and after,
    /// at most 20 times: a leak adds one descriptor on every attempt, while another suite's open
    /// or close only disturbs the odd one. Returns whether any attempt left the count unchanged,
    /// and the last error.
    static func leavesNoDescriptor(_ attempt: () throws -> Void) -> (clean: Bool, error: (any Error)?) {
        var last: (any Error)?
        for _ in 0..<20 {
            let before = openDescriptors()
            do { try attempt() } catch { last = error }
            if openDescriptors() == before { return (true, last) }
        }
        return (false, last)
    }

    @Test("a receiver whose bind fails closes its socket and says why, with errno as a value")
    func receiverBindFailureClosesTheSocket() throws {
        let (holder, port) = try Self.takenPort()
        defer { close(holder) }
        var accepted = false
        let (clean, error) = Self.leavesNoDescriptor {
            _ = try MoldUDP64Source(group: "127.0.0.1:\(port)", idleTimeout: 0.1)
            accepted = true  // the port was free after all; the source is dropped here
        }
        #expect(!accepted, "bound a port that is taken")
        #expect(clean, "a descriptor stays open after each failed bind")
        guard case .network(let cause, _)? = error as? FeedError else {
            Issue.record("got \(String(describing: error))")
            return
        }
        #expect(cause.call == "bind")
        #expect(cause.errno == EADDRINUSE)
        #expect(cause.argument == "127.0.0.1:\(port)")
        #expect("\(error!)".contains("Address already in use (errno \(EADDRINUSE))"), "\(error!)")
    }

    @Test("a server whose request port is taken closes both its sockets")
    func serverBindFailureClosesTheSockets() throws {
        let (holder, port) = try Self.takenPort()
        defer { close(holder) }
        let dir = TickBusTest.temporaryDirectory("moldsock")
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("empty.itch").path
        try Data().write(to: URL(fileURLWithPath: file))
        var server = try MoldUDP64Server(file: file, group: "127.0.0.1:\(port &- 1)", requestPort: port)
        let (clean, error) = Self.leavesNoDescriptor {
            try server.run(rate: 0, drop: 0, seed: 1, linger: 0, log: { _ in })
        }
        #expect(clean, "a descriptor stays open after each failed bind")
        guard case .network(let cause, _)? = error as? FeedError else {
            Issue.record("got \(String(describing: error))")
            return
        }
        #expect(cause.call == "bind" && cause.errno == EADDRINUSE)
    }
}
