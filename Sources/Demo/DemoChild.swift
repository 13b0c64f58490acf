import Foundation
import TickBusCore
#if canImport(Glibc)
import Glibc
#endif

/// A child `tickbus` process of the demo, output captured to temporary files.
public final class DemoChild {
    public let name: String
    public let process = Process()
    let out: URL
    let err: URL

    public struct Result: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
        public var lastLine: String { stdout.split(separator: "\n").last.map(String.init) ?? "" }
        /// The last stdout line that starts with `prefix`.
        public func line(prefix: String) -> String? { stdout.split(separator: "\n").last { $0.hasPrefix(prefix) }.map(String.init) }
    }

    /// This executable (children run the same `tickbus`).
    public static var executable: URL {
        URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0])
    }

    /// Starts `tickbus ARGUMENTS`, stdout and stderr to temporary files.
    public init(name: String, _ arguments: [String]) throws {
        self.name = name
        let dir = FileManager.default.temporaryDirectory
        out = dir.appendingPathComponent("tickbus-demo-\(getpid())-\(name).out")
        err = dir.appendingPathComponent("tickbus-demo-\(getpid())-\(name).err")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        process.executableURL = DemoChild.executable
        process.arguments = arguments
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        try process.run()
    }

    /// Starts a child, reporting a failure to start as a `DemoError`.
    public static func start(name: String, _ arguments: [String]) throws(DemoError) -> DemoChild {
        do { return try DemoChild(name: name, arguments) } catch { throw .spawn(name: name, reason: "\(error)") }
    }

    /// Waits for the child; at the deadline it is sent SIGKILL. Removes the output files.
    public func wait(until deadline: Date) -> Result {
        while process.isRunning && Date() < deadline { usleep(5000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        let r = Result(status: process.terminationStatus,
                       stdout: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
                       stderr: (try? String(contentsOf: err, encoding: .utf8)) ?? "")
        try? FileManager.default.removeItem(at: out)
        try? FileManager.default.removeItem(at: err)
        return r
    }

    /// Waits until `ring` of `bus` has a readable header.
    public static func waitForRing(bus: String, ring: String, timeout: Double) throws(DemoError) {
        let deadline = Date().addingTimeInterval(timeout)
        while (try? Segment.readHeader(path: BusPaths.ring(bus: bus, ring: ring), expecting: nil)) == nil {
            if Date() > deadline { throw .ringMissing(bus: bus, ring: ring, timeout: timeout) }
            usleep(2000)
        }
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
    }
}

/// `key=value` pairs of a line.
public func keyValues(_ line: String) -> [String: String] {
    var out: [String: String] = [:]
    for part in line.split(separator: " ") {
        let kv = part.split(separator: "=", maxSplits: 1)
        if kv.count == 2 { out[String(kv[0])] = String(kv[1]) }
    }
    return out
}
