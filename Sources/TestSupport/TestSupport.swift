import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Helpers for tests that run the real `tickbus` executable in separate processes. Every child
/// is started by a test, has a deadline, and is killed by the test that started it, never by name.
public enum TickBusTest {
    /// The `tickbus` executable built beside the test bundle (override with TICKBUS_BIN).
    public static let binary: String = {
        if let b = ProcessInfo.processInfo.environment["TICKBUS_BIN"] { return b }
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent("tickbus").path
    }()

    nonisolated(unsafe) private static var counter = 0
    private static let lock = NSLock()

    /// A bus name no other test (or test run) uses; remove it with `removeBus` when done.
    public static func uniqueBus(_ prefix: String) -> String {
        lock.lock()
        defer { lock.unlock() }
        counter += 1
        return "t-\(prefix)-\(getpid())-\(counter)"
    }

    /// Removes a test's bus: every entry in it, then the directory, all relative to the open
    /// directory and never following a link (a test that plants a link removes the link, not what
    /// it points to). Names that could leave the root are ignored.
    public static func removeBus(_ bus: String) {
        guard !bus.isEmpty, !bus.contains("/"), bus != ".", bus != ".." else { return }
        let root = open("/dev/shm/tickbus", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard root >= 0 else { return }
        defer { close(root) }
        let dir = openat(root, bus, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard dir >= 0 else {
            _ = unlinkat(root, bus, 0)  // a link or a file: the entry itself goes
            return
        }
        if let d = fdopendir(dir) {
            var names: [String] = []
            while let entry = readdir(d) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                if name != "." && name != ".." { names.append(name) }
            }
            for name in names { _ = unlinkat(dirfd(d), name, 0) }
            closedir(d)
        } else {
            close(dir)
        }
        _ = unlinkat(root, bus, AT_REMOVEDIR)
    }

    /// The repository root (this file is Sources/TestSupport/TestSupport.swift).
    public static let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// A file under `../shared/data`. Throws (the test fails loudly) when the data is absent.
    public static func sharedData(_ relative: String) throws -> String {
        let url = repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared/data").appendingPathComponent(relative)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw MissingData(path: url.path)
        }
        return url.path
    }

    public struct MissingData: Error, CustomStringConvertible {
        public let path: String
        public var description: String { "test data missing: \(path) (../shared/data must sit beside the repository)" }
    }

    /// A scratch directory for one test, removed by the caller.
    public static func temporaryDirectory(_ prefix: String) -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("tickbus-\(prefix)-\(getpid())-\(UUID().uuidString.prefix(8))")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Runs `tickbus ARGS` to completion (killed at the deadline) and returns its exit status and output.
    @discardableResult
    public static func run(_ arguments: [String], timeout: TimeInterval = 60) throws -> Child.Result {
        let child = try Child(arguments)
        return child.wait(timeout: timeout)
    }
}

/// A `tickbus` child process with stdout and stderr captured to files (no pipe can fill up).
public final class Child: @unchecked Sendable {
    public struct Result: Sendable {
        public var status: Int32
        public var timedOut: Bool
        public var stdout: String
        public var stderr: String
        /// The last non-empty line of stdout.
        public var lastLine: String { stdout.split(separator: "\n").last.map(String.init) ?? "" }
    }

    public let process = Process()
    let outURL: URL
    let errURL: URL
    public let arguments: [String]

    public init(_ arguments: [String], executable: String = TickBusTest.binary) throws {
        self.arguments = arguments
        let dir = FileManager.default.temporaryDirectory
        let id = UUID().uuidString.prefix(8)
        outURL = dir.appendingPathComponent("tickbus-child-\(id).out")
        errURL = dir.appendingPathComponent("tickbus-child-\(id).err")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = try FileHandle(forWritingTo: outURL)
        process.standardError = try FileHandle(forWritingTo: errURL)
        try process.run()
    }

    public var pid: Int32 { process.processIdentifier }
    public var isRunning: Bool { process.isRunning }
    public var stdout: String { (try? String(contentsOf: outURL, encoding: .utf8)) ?? "" }
    public var stderr: String { (try? String(contentsOf: errURL, encoding: .utf8)) ?? "" }

    public func signal(_ sig: Int32) { if process.isRunning { kill(process.processIdentifier, sig) } }

    /// Waits for the child to exit; at the deadline it is sent SIGKILL.
    public func wait(timeout: TimeInterval) -> Result {
        let deadline = Date().addingTimeInterval(timeout)
        var timedOut = false
        while process.isRunning {
            if Date() > deadline {
                timedOut = true
                kill(process.processIdentifier, SIGKILL)
                break
            }
            usleep(2000)
        }
        process.waitUntilExit()
        let r = Result(status: process.terminationStatus, timedOut: timedOut, stdout: stdout, stderr: stderr)
        try? FileManager.default.removeItem(at: outURL)
        try? FileManager.default.removeItem(at: errURL)
        return r
    }

    /// Waits until `predicate` holds for the child's stderr (or stdout), or the deadline passes.
    public func waitFor(timeout: TimeInterval, _ predicate: (String) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if predicate(stderr + stdout) { return true }
            if !process.isRunning { return predicate(stderr + stdout) }
            usleep(5000)
        }
        return false
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
    }
}

/// Parses `key=value` pairs of a line such as `received=10 lost=0 gaps=0`.
public func keyValues(_ line: String) -> [String: String] {
    var out: [String: String] = [:]
    for part in line.split(separator: " ") {
        let kv = part.split(separator: "=", maxSplits: 1)
        if kv.count == 2 { out[String(kv[0])] = String(kv[1]) }
    }
    return out
}
