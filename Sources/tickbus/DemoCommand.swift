import ArgumentParser
import CTickBus
import Foundation
import TickBusCore

/// Runs a whole session in separate processes on a bus of its own and prints a summary:
/// generated ITCH 5.0 data → feed (books) → ring `market` → strategy (features, model) → ring
/// `decisions.demo`, with the recorder journaling both rings and a tap on each; then replays the
/// journal through the strategy code and checks every decision is reproduced bit for bit.
/// Each child has a deadline; only the demo's own children are signalled; its bus is removed.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run feed → strategy → recorder (and taps) in separate processes, replay, print a summary.")

    @Option(help: "Seed of the generated ITCH data.") var seed: UInt64 = 42
    @Option(help: "ITCH messages to generate.") var messages: Int = 200_000
    @Option(help: "Feed rate in messages per second.") var rate: Double = 250_000
    @Option(help: "Feature definition.") var features: String = "Recordings/synthetic-5/features.toml"
    @Option(help: "Model file.") var model: String = "Recordings/synthetic-5/model.json"
    @Option(help: "Directory for the session's journal.") var record: String?
    @Option(help: "Seconds before every child is killed.") var timeout: Double = 180

    func run() throws {
        let pid = getpid()
        let bus = "demo-\(pid)"
        defer { try? Segment.removeBus(bus) }
        for f in [features, model] where !FileManager.default.fileExists(atPath: f) {
            throw ValidationError("\(f) not found (run the demo from the repository root, or pass --features/--model)")
        }
        let journal = record ?? "Recordings/live/demo-\(pid)"
        try FileManager.default.createDirectory(atPath: (journal as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let itch = FileManager.default.temporaryDirectory.appendingPathComponent("tickbus-demo-\(pid).itch").path
        defer { try? FileManager.default.removeItem(atPath: itch) }
        let deadline = Date().addingTimeInterval(timeout)
        let cpu = sysconf(Int32(_SC_NPROCESSORS_ONLN)) > 1 ? 1 : 0

        print("demo: bus \(bus); \(messages) generated ITCH 5.0 messages (seed \(seed)) at \(Int(rate))/s")
        let synth = try DemoChild(name: "synth", ["synth", "itch", "--seed", "\(seed)", "--messages", "\(messages)", "--out", itch]).wait(until: deadline)
        guard synth.status == 0 else { throw ValidationError("synth itch failed: \(synth.stderr)") }

        // The feed waits for its three market readers (strategy, recorder, tap) before publishing.
        let feed = try DemoChild(name: "feed", ["feed", "--bus", bus, "--source", "itch:\(itch)", "--rate", "\(rate)", "--wait-readers", "3"])
        try DemoChild.waitForRing(bus: bus, ring: "market", timeout: 30)
        let strategy = try DemoChild(name: "strategy", ["strategy", "--bus", bus, "--features", features, "--model", model,
                                                        "--name", "demo", "--cpu", "\(cpu)"])
        try DemoChild.waitForRing(bus: bus, ring: "decisions.demo", timeout: 30)
        let tapDecisions = try DemoChild(name: "tap decisions.demo", ["tap", "--bus", bus, "--ring", "decisions.demo", "--name", "tap-decisions"])
        let recorder = try DemoChild(name: "recorder", ["record", "--bus", bus, "--rings", "market,decisions.demo", "--dir", journal])
        let tapMarket = try DemoChild(name: "tap market", ["tap", "--bus", bus, "--name", "tap-market"])

        let rFeed = feed.wait(until: deadline)
        let rStrategy = strategy.wait(until: deadline)
        let rTapMarket = tapMarket.wait(until: deadline)
        let rTapDecisions = tapDecisions.wait(until: deadline)
        let rRecorder = recorder.wait(until: deadline)

        var ok = true
        func status(_ r: DemoChild.Result) -> String { r.status == 0 ? "" : "  (exit status \(r.status))" }
        let published = UInt64(keyValues(rFeed.line(prefix: "published=") ?? "")["published"] ?? "") ?? 0
        ok = ok && rFeed.status == 0 && published > 0
        print("  feed       published=\(published) (ITCH messages, top-of-book updates, end-of-session)\(status(rFeed))")

        let placement = rStrategy.line(prefix: "strategy demo: placement") ?? "placement unknown"
        let sKV = keyValues(rStrategy.line(prefix: "strategy demo: messages=") ?? "")
        let decisions = UInt64(sKV["decisions"] ?? "") ?? 0
        ok = ok && rStrategy.status == 0 && sKV["messages"] == "\(published)" && sKV["lost"] == "0"
        print("  strategy   received=\(sKV["messages"] ?? "?") lost=\(sKV["lost"] ?? "?") decisions=\(decisions)  [\(placement.replacingOccurrences(of: "strategy demo: ", with: ""))]\(status(rStrategy))")

        let tm = keyValues(rTapMarket.lastLine)
        ok = ok && rTapMarket.status == 0 && tm["received"] == "\(published)" && tm["lost"] == "0"
        print("  tap        market:         received=\(tm["received"] ?? "?") lost=\(tm["lost"] ?? "?") gaps=\(tm["gaps"] ?? "?")\(status(rTapMarket))")
        let td = keyValues(rTapDecisions.lastLine)
        ok = ok && rTapDecisions.status == 0 && td["received"] == "\(decisions)" && td["lost"] == "0"
        print("  tap        decisions.demo: received=\(td["received"] ?? "?") lost=\(td["lost"] ?? "?") gaps=\(td["gaps"] ?? "?")\(status(rTapDecisions))")

        let rec = keyValues(rRecorder.lastLine)
        ok = ok && rRecorder.status == 0 && rec["recorded"] == "\(published + decisions)" && rec["lost"] == "0"
        print("  recorder   recorded=\(rec["recorded"] ?? "?") gaps=\(rec["gaps"] ?? "?") lost=\(rec["lost"] ?? "?") into \(journal)\(status(rRecorder))")

        // Replay the journal through the same strategy code and compare every decision.
        let verify = try DemoChild(name: "replay", ["replay", "--dir", journal, "--verify-decisions", "--features", features, "--model", model]).wait(until: deadline)
        let v = keyValues(verify.lastLine)
        let reproduced = verify.status == 0 && v["identical"] == "true" && v["decisions"] == "\(decisions)"
        ok = ok && reproduced
        print("  replay     \(verify.lastLine)\(status(verify))")

        if ok {
            print("demo: ok — no reader lost a message, and the replay reproduced all \(decisions) decisions bit for bit")
        } else {
            print("demo: FAILED")
            for (name, r) in [("feed", rFeed), ("strategy", rStrategy), ("tap market", rTapMarket), ("tap decisions", rTapDecisions),
                              ("recorder", rRecorder), ("replay", verify)] where r.status != 0 || !r.stderr.isEmpty && !ok {
                print("--- \(name) (status \(r.status)):\n\(r.stdout.suffix(2000))\(r.stderr.suffix(2000))")
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
        /// The last stdout line that starts with `prefix`.
        func line(prefix: String) -> String? { stdout.split(separator: "\n").last { $0.hasPrefix(prefix) }.map(String.init) }
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
