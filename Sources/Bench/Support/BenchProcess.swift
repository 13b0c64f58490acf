import Foundation

/// Child processes of the benchmarks: this executable (`tickbus`) run with other arguments, stdout
/// captured. Each child is killed by the benchmark that started it, never by name.
public enum BenchProcess {
    /// This executable (through /proc/self/exe, so a relative argv[0] or a changed directory does not matter).
    public static var executable: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    /// The repository checkout this executable was built from, if it can be found: the first
    /// ancestor of the executable holding `Tools/<marker>` (a `.build/…/tickbus` binary), else the
    /// checkout of this source file (#filePath). So `bench model` and `bench strategy` find their
    /// scripts and defaults from any working directory.
    public static func repositoryRoot(containing marker: String) -> String? {
        var candidates: [URL] = []
        var dir = URL(fileURLWithPath: executable).deletingLastPathComponent()
        for _ in 0..<6 {
            candidates.append(dir)
            dir = dir.deletingLastPathComponent()
        }
        // This file is Sources/Bench/Support/BenchProcess.swift.
        candidates.append(
            URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().deletingLastPathComponent()
        )
        for c in candidates
        where FileManager.default.fileExists(
            atPath: c.appendingPathComponent("Tools").appendingPathComponent(marker).path
        ) {
            return c.path
        }
        return nil
    }

    /// `path` itself when it exists (relative to the working directory) or is absolute; else the
    /// same relative path inside the repository checkout, when that exists.
    public static func resolve(_ path: String) -> String {
        if path.hasPrefix("/") || FileManager.default.fileExists(atPath: path) { return path }
        let parts = path.split(separator: "/")
        guard parts.count >= 2, parts[0] == "Tools",
            let root = repositoryRoot(containing: parts.dropFirst().joined(separator: "/"))
        else {
            return path
        }
        return root + "/" + path
    }

    /// Runs `tool ARGUMENTS` to its end with stdout captured (stderr inherited, or discarded when
    /// `quiet`): the Python baselines and valgrind runs of the benches.
    public static func capture(
        _ tool: String,
        _ arguments: [String],
        quiet: Bool = false
    ) throws(BenchError) -> (status: Int32, output: Data) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = arguments
        let pipe = Pipe()
        p.standardOutput = pipe
        if quiet { p.standardError = FileHandle.nullDevice }
        do { try p.run() } catch { throw .child("cannot run \(tool) \(arguments.first ?? ""): \(error)") }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, data)
    }
}

/// A benchmark child process (a ring reader), its stdout captured through a pipe.
public final class BenchChild {
    let process = Process()
    let pipe = Pipe()
    let args: [String]

    /// Starts `tickbus ARGUMENTS`.
    public init(_ arguments: [String]) throws(BenchError) {
        args = arguments
        process.executableURL = URL(fileURLWithPath: BenchProcess.executable)
        process.arguments = arguments
        process.standardOutput = pipe
        do { try process.run() } catch {
            throw .child("cannot start \(BenchProcess.executable) \(arguments.joined(separator: " ")): \(error)")
        }
    }

    /// Polls `ready` until it holds; fails if the child exits first or after `timeout` seconds (the child is then killed).
    public func waitUntil(timeout: Double = 30, _ ready: () -> Bool) throws(BenchError) {
        let deadline = Date().addingTimeInterval(timeout)
        while !ready() {
            if !process.isRunning {
                throw .child("bench reader exited before it was ready (\(args.joined(separator: " ")))")
            }
            if Date() > deadline {
                kill(process.processIdentifier, SIGKILL)
                throw .child("bench reader not ready after \(timeout) s (\(args.joined(separator: " ")))")
            }
            usleep(200)
        }
    }

    /// Waits for the child's exit and returns the last line of its stdout; fails on a non-zero status.
    public func lastLine() throws(BenchError) -> String {
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard process.terminationStatus == 0, let line = text.split(separator: "\n").last else {
            throw .child("bench reader failed (status \(process.terminationStatus)): \(text)")
        }
        return String(line)
    }

    deinit { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
}
