import ArgumentParser
import Bench
import CMallocCounter
import CTickBus
import Features
import Feed
import Foundation
import Models
import Strategy
import TickBusCore

// Issue 5: features, strategy, model, bench model, bench strategy.

/// `tickbus bench strategy`: tick-to-decision latency across processes — from the feed's publish
/// (receive time stamped into the market message) to the strategy's decision publish — at a steady
/// feed rate, for the full strategy (features + LightGBM) and for a pass-through strategy (the two
/// ring hops alone) in alternating rounds of the same run.
struct StrategyBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "strategy", abstract: "Tick-to-decision latency across processes (feed → strategy → decision), vs a pass-through strategy.")

    @Option(help: "Feature definition.") var features: String = "Tools/strategy/features.toml"
    @Option(help: "Model.") var model: String = "Tools/strategy/lightgbm.txt"
    @Option(help: "Market data source of the feed.") var source: String = "synthetic:11"
    @Option(help: "Feed rate, messages per second.") var rate: Double = 100_000
    @Option(help: "Messages per round.") var messages: Int = 200_000
    @Option(help: "Rounds per subject (alternating).") var rounds: Int = 3
    @Option(name: .customLong("feed-cpu"), help: "CPU of the feed.") var feedCpu: Int = 0
    @Option(name: .customLong("strategy-cpu"), help: "CPU of the strategy.") var strategyCpu: Int = 1
    @Flag(help: "Print one JSON object.") var json = false

    func round(passThrough: Bool) throws -> (Percentiles, UInt64, UInt64) {
        let bus = "benchstrat-\(getpid())-\(passThrough ? "p" : "f")"
        let exe = CommandLine.arguments[0].hasPrefix("/") ? CommandLine.arguments[0]
            : FileManager.default.currentDirectoryPath + "/" + CommandLine.arguments[0]
        defer { try? Segment.removeBus(bus) }
        func spawn(_ args: [String]) throws -> Process {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: exe)
            p.arguments = args
            p.standardOutput = FileHandle.nullDevice
            try p.run()
            return p
        }
        let capacity = 1 << Int((log2(Double(messages + 16))).rounded(.up))
        var args = ["strategy", "--bus", bus, "--features", features, "--model", model, "--name", "bench", "--cpu", "\(strategyCpu)",
                    "--gating", "--idle", "spin", "--capacity", "\(capacity)", "--attach-timeout", "30"]
        if passThrough { args.append("--pass-through") }
        let outURL = URL(fileURLWithPath: NSTemporaryDirectory() + "\(bus).out")
        FileManager.default.createFile(atPath: outURL.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: outURL) }
        let strategy = Process()
        strategy.executableURL = URL(fileURLWithPath: exe)
        strategy.arguments = args
        strategy.standardOutput = try FileHandle(forWritingTo: outURL)
        try strategy.run()
        let feed = Process()
        feed.executableURL = URL(fileURLWithPath: "/usr/bin/taskset")
        feed.arguments = ["-c", "\(feedCpu)", exe, "feed", "--bus", bus, "--source", source, "--rate", "\(Int(rate))", "--messages", "\(messages)",
                          "--wait-readers", "1", "--wait-timeout", "30"]
        feed.standardError = FileHandle.nullDevice
        feed.standardOutput = FileHandle.nullDevice
        try feed.run()
        feed.waitUntilExit()
        strategy.waitUntilExit()
        guard feed.terminationStatus == 0, strategy.terminationStatus == 0 else {
            throw ValidationError("bench strategy: feed exited \(feed.terminationStatus), strategy \(strategy.terminationStatus)")
        }
        let summaryLine = (try? String(contentsOf: outURL, encoding: .utf8))?.split(separator: "\n").last.map(String.init) ?? ""
        var mallocs: UInt64 = 0
        for part in summaryLine.split(separator: " ") where part.hasPrefix("mallocs=") { mallocs = UInt64(part.dropFirst(8)) ?? 0 }
        var reader = try RingReader(bus: bus, ring: "decisions.bench", name: "bench-\(getpid())", mode: .live, from: .start, expecting: .decisions)
        var samples: [UInt64] = []
        samples.reserveCapacity(messages)
        var count: UInt64 = 0
        loop: while true {
            switch reader.poll() {
            case .message(let bytes):
                count += 1
                let d = DecisionRecordView(bytes.base)
                // The first 10% warm up caches, the book and the page tables.
                if count > UInt64(messages / 10) { samples.append(UInt64(max(0, d.latencyNs))) }
            case .gap: continue
            case .empty: break loop
            }
        }
        return (Percentiles(sorting: &samples), count, mallocs)
    }

    func run() throws {
        var full: [Percentiles] = [], base: [Percentiles] = []
        var decisions: UInt64 = 0, mallocs: UInt64 = 0
        for r in 0..<rounds {
            for pass in (r % 2 == 0 ? [false, true] : [true, false]) {
                let (p, c, m) = try round(passThrough: pass)
                if pass { base.append(p) } else { full.append(p); decisions = c; mallocs = m }
            }
        }
        let f = Percentiles.median(full), b = Percentiles.median(base)
        func f1(_ v: Double) -> String { String(format: "%.1f", v) }
        func f3(_ v: Double) -> String { String(format: "%.3f", v) }
        if json {
            print("{\"bench\": \"strategy\", \"result\": {\"p50_ns\": \(f1(f.p50)), \"p99_ns\": \(f1(f.p99)), \"p999_ns\": \(f1(f.p999)), "
                  + "\"decisions\": \(decisions), \"rate\": \(Int(rate)), \"mallocs_in_loop\": \(mallocs)}, "
                  + "\"baseline\": {\"name\": \"pass-through strategy\", \"p50_ns\": \(f1(b.p50)), \"p99_ns\": \(f1(b.p99)), \"p999_ns\": \(f1(b.p999))}, "
                  + "\"ratio\": {\"p50\": \(f3(f.p50 / b.p50)), \"p99\": \(f3(f.p99 / b.p99)), \"p999\": \(f3(f.p999 / b.p999))}}")
        } else {
            print("bench strategy: feed \(source) at \(Int(rate)) msg/s on CPU \(feedCpu) -> strategy on CPU \(strategyCpu); \(rounds) rounds x \(messages) messages each")
            print("  tick-to-decision (feed publish -> decision publish), medians over rounds (ns)      p50        p99      p99.9")
            print("  strategy (\(features), \(model))".padding(toLength: 80, withPad: " ", startingAt: 0) + [f.p50, f.p99, f.p999].map { f1($0).leftPadded(11) }.joined())
            print("  pass-through strategy (ring hops only)".padding(toLength: 80, withPad: " ", startingAt: 0) + [b.p50, b.p99, b.p999].map { f1($0).leftPadded(11) }.joined())
            print("  ratio: p50 \(f3(f.p50 / b.p50)), p99 \(f3(f.p99 / b.p99)), p99.9 \(f3(f.p999 / b.p999)); "
                  + "mallocs in the strategy loop: \(mallocs) over \(messages) messages (order-book warm-up)")
        }
    }
}
