import ArgumentParser
import CTickBus
import Foundation
import TickBusCore

/// Runs a whole session in separate processes on a bus of its own and prints a summary:
/// feed → ring `market` → readers. Each child has a deadline; only the demo's own children are
/// signalled, and its bus is removed at the end.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo", abstract: "Run feed → ring → readers in separate processes and print a summary.")

    @Option(help: "Synthetic seed.") var seed: UInt64 = 42
    @Option(help: "Messages to publish.") var messages: Int = 200_000
    @Option(help: "Feed rate in messages per second.") var rate: Double = 500_000
    @Option(help: "Seconds before every child is killed.") var timeout: Double = 120

    func run() throws {
        let bus = "demo-\(getpid())"
        defer { try? Segment.removeBus(bus) }
        print("demo: bus \(bus), \(messages) synthetic messages (seed \(seed)) at \(Int(rate))/s")
        let feed = try DemoChild(name: "feed", ["feed", "--bus", bus, "--source", "synthetic:\(seed)", "--messages", "\(messages)",
                                                "--rate", "\(rate)", "--wait-readers", "2"])
        try DemoChild.waitForRing(bus: bus, ring: "market", timeout: 30)
        let taps = try (1...2).map { i in
            try DemoChild(name: "tap-\(i)", ["tap", "--bus", bus, "--name", "tap-\(i)"])
        }
        let deadline = Date().addingTimeInterval(timeout)
        let feedResult = feed.wait(until: deadline)
        let tapResults = taps.map { $0.wait(until: deadline) }

        var ok = feedResult.status == 0
        let published = UInt64(keyValues(feedResult.stdout.split(separator: "\n").first { $0.hasPrefix("published=") }.map(String.init) ?? "")["published"] ?? "") ?? 0
        print("  feed   published=\(published) (\(messages) messages + end-of-session)  status=\(feedResult.status)")
        for (child, r) in zip(taps, tapResults) {
            let kv = keyValues(r.lastLine)
            let received = UInt64(kv["received"] ?? "") ?? 0
            let lost = UInt64(kv["lost"] ?? "") ?? 0
            ok = ok && r.status == 0 && received == published && lost == 0
            print("  \(child.name)  received=\(received) lost=\(lost) gaps=\(kv["gaps"] ?? "?")  status=\(r.status)")
        }
        print(ok ? "demo: ok — every reader received every message, none lost" : "demo: FAILED")
        if !ok {
            for (child, r) in zip([feed] + taps, [feedResult] + tapResults) where r.status != 0 {
                print("--- \(child.name) stderr:\n\(r.stderr)")
            }
            throw ExitCode(1)
        }
    }
}

/// A child `tickbus` process of the demo, output captured to temporary files.
final class DemoChild {
    let name: String
    let process = Process()
    let out: URL
    let err: URL

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
        var lastLine: String { stdout.split(separator: "\n").last.map(String.init) ?? "" }
    }

    static var executable: URL {
        URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0])
    }

    init(name: String, _ arguments: [String]) throws {
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

    func wait(until deadline: Date) -> Result {
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

    static func waitForRing(bus: String, ring: String, timeout: Double) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while (try? Segment.readHeader(path: BusPaths.ring(bus: bus, ring: ring), expecting: nil)) == nil {
            if Date() > deadline { throw ValidationError("ring \(ring) did not appear on bus \(bus) within \(timeout) s") }
            usleep(2000)
        }
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
    }
}

/// `key=value` pairs of a line.
func keyValues(_ line: String) -> [String: String] {
    var out: [String: String] = [:]
    for part in line.split(separator: " ") {
        let kv = part.split(separator: "=", maxSplits: 1)
        if kv.count == 2 { out[String(kv[0])] = String(kv[1]) }
    }
    return out
}
