import Foundation
import TestSupport
import TickBusCore
#if canImport(Glibc)
import Glibc
#endif

/// The demo's children: `tickbus` processes of this same executable, run through the process
/// harness the multi-process tests use (`TestSupport.Child`: output captured to files, a deadline,
/// SIGKILL only for its own child).
public enum DemoChild {
    /// This executable (children run the same `tickbus`).
    public static var executable: URL {
        URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0])
    }

    /// Starts `tickbus ARGUMENTS`, reporting a failure to start as a `DemoError`.
    static func start(name: String, _ arguments: [String]) throws(DemoError) -> Child {
        do { return try Child(arguments, executable: executable.path) } catch { throw .spawn(name: name, reason: "\(error)") }
    }

    /// Waits until `ring` of `bus` has a readable header.
    static func waitForRing(bus: String, ring: String, timeout: Double) throws(DemoError) {
        let deadline = Date().addingTimeInterval(timeout)
        while (try? Segment.readHeader(path: BusPaths.ring(bus: bus, ring: ring), expecting: nil)) == nil {
            if Date() > deadline { throw .ringMissing(bus: bus, ring: ring, timeout: timeout) }
            usleep(2000)
        }
    }
}

extension Child {
    /// Waits for the child until `deadline`; then it is sent SIGKILL.
    func wait(until deadline: Date) -> Result { wait(timeout: deadline.timeIntervalSinceNow) }
}

extension Child.Result {
    /// The last stdout line that starts with `prefix`.
    func line(prefix: String) -> String? { stdout.split(separator: "\n").last { $0.hasPrefix(prefix) }.map(String.init) }
}
