import Foundation
import TickBusCore

/// `tickbus bench strategy`: tick-to-decision latency across processes — from the feed's publish
/// (receive time stamped into the market message) to the strategy's decision publish — at a steady
/// feed rate, for the full strategy (features + LightGBM) and for a pass-through strategy (the two
/// ring hops alone) in alternating rounds of the same run. Feed and strategy are child processes
/// of this executable.
public enum StrategyBench {
    public struct Options: Sendable {
        /// Relative paths under `Tools/` are found in the repository when absent from the working directory.
        public var features = "Tools/strategy/features.toml"
        public var model = "Tools/strategy/lightgbm.txt"
        public var source = "synthetic:11"
        public var rate = 100_000.0
        public var messages = 200_000
        public var rounds = 3
        public var feedCpu = 0
        public var strategyCpu = 1
        /// Messages of the one-thread loop counted under callgrind (`StrategyInstructions`); 0: skip.
        public var instructionMessages = 50_000
        public init() {}
    }

    /// The loop's instruction counts under callgrind.
    public struct Instructions: Sendable {
        public var perDecision: Double
        public var perMessage: Double
        public var decisions: UInt64
        public var messages: UInt64
    }

    public struct Outcome: Sendable {
        public var full: Percentiles
        public var passThrough: Percentiles
        public var decisions: UInt64
        public var mallocs: UInt64
        public var options: Options
        /// Nil when skipped or unavailable (`instructionsNote` says why).
        public var instructions: Instructions?
        public var instructionsNote: String?
    }

    public static func run(_ o: Options) throws(BenchError) -> Outcome {
        var o = o
        o.features = BenchProcess.resolve(o.features)
        o.model = BenchProcess.resolve(o.model)
        var full: [Percentiles] = []
        var base: [Percentiles] = []
        var decisions: UInt64 = 0
        var mallocs: UInt64 = 0
        try InterleavedRounds.run(rounds: o.rounds, [false, true]) { (_, pass) throws(BenchError) in
            let (p, c, m) = try round(o, passThrough: pass)
            if pass {
                base.append(p)
            } else {
                full.append(p)
                decisions = c
                mallocs = m
            }
        }
        var out = Outcome(
            full: .median(full),
            passThrough: .median(base),
            decisions: decisions,
            mallocs: mallocs,
            options: o
        )
        if o.instructionMessages > 0 {
            switch StrategyInstructions.measure(
                features: o.features,
                model: o.model,
                source: o.source,
                messages: o.instructionMessages
            ) {
            case .success(let m):
                out.instructions = Instructions(
                    perDecision: m.perDecision,
                    perMessage: m.perMessage,
                    decisions: m.counts.decisions,
                    messages: m.counts.messages
                )
            case .failure(let e): out.instructionsNote = "\(e)"
            }
        } else {
            out.instructionsNote = "skipped (--instruction-messages 0)"
        }
        return out
    }

    /// One round: a strategy and a feed on a bus of their own; the decisions' latencies after a 10% warm-up.
    static func round(_ o: Options, passThrough: Bool) throws(BenchError) -> (Percentiles, UInt64, UInt64) {
        let bus = "benchstrat-\(getpid())-\(passThrough ? "p" : "f")"
        let exe = BenchProcess.executable
        defer { try? FileManager.default.removeItem(atPath: "/dev/shm/tickbus/\(bus)") }
        let capacity = 1 << Int((log2(Double(o.messages + 16))).rounded(.up))
        var args = [
            "strategy", "--bus", bus, "--features", o.features, "--model", o.model, "--name", "bench", "--cpu",
            "\(o.strategyCpu)",
            "--gating", "--idle", "spin", "--capacity", "\(capacity)", "--attach-timeout", "30",
        ]
        if passThrough { args.append("--pass-through") }
        let outURL = URL(fileURLWithPath: NSTemporaryDirectory() + "\(bus).out")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: outURL) }
        let strategy = Process()
        strategy.executableURL = URL(fileURLWithPath: exe)
        strategy.arguments = args
        let feed = Process()
        feed.executableURL = URL(fileURLWithPath: "/usr/bin/taskset")
        feed.arguments = [
            "-c", "\(o.feedCpu)", exe, "feed", "--bus", bus, "--source", o.source, "--rate", "\(Int(o.rate))",
            "--messages",
            "\(o.messages)", "--wait-readers", "1", "--wait-timeout", "30",
        ]
        feed.standardError = FileHandle.nullDevice
        feed.standardOutput = FileHandle.nullDevice
        do {
            strategy.standardOutput = try FileHandle(forWritingTo: outURL)
            try strategy.run()
            try feed.run()
        } catch {
            if strategy.isRunning { kill(strategy.processIdentifier, SIGKILL) }
            throw .child("bench strategy: cannot start the strategy or the feed: \(error)")
        }
        feed.waitUntilExit()
        strategy.waitUntilExit()
        guard feed.terminationStatus == 0, strategy.terminationStatus == 0 else {
            throw .child(
                "bench strategy: feed exited \(feed.terminationStatus), strategy \(strategy.terminationStatus)"
            )
        }
        let summaryLine =
            (try? String(contentsOf: outURL, encoding: .utf8))?.split(separator: "\n").last.map(String.init) ?? ""
        var mallocs: UInt64 = 0
        for part in summaryLine.split(separator: " ") where part.hasPrefix("mallocs=") {
            mallocs = UInt64(part.dropFirst(8)) ?? 0
        }
        var reader = try segment { () throws(SegmentError) in
            try RingReader(
                bus: bus,
                ring: "decisions.bench",
                name: "bench-\(getpid())",
                mode: .live,
                from: .start,
                expecting: .decisions
            )
        }
        var samples: [UInt64] = []
        samples.reserveCapacity(o.messages)
        var count: UInt64 = 0
        loop: while true {
            switch reader.poll() {
            case .message(let bytes):
                count += 1
                let d = DecisionRecordView(bytes.base)
                // The first 10% warm up caches, the book and the page tables.
                if count > UInt64(o.messages / 10) { samples.append(UInt64(max(0, d.latencyNs))) }
            case .gap: continue
            case .empty: break loop
            }
        }
        return (Percentiles(sorting: &samples), count, mallocs)
    }
}

extension StrategyBench {
    public struct ResultJSON: Encodable, Sendable {
        var p50Ns: Double, p99Ns: Double, p999Ns: Double, decisions: UInt64, rate: Int, mallocsInLoop: UInt64
        /// callgrind, one thread, features + model + publish; null when not measured.
        var instructionsPerDecision: Double?
        var instructionsPerMessage: Double?
        enum CodingKeys: String, CodingKey {
            case p50Ns = "p50_ns"
            case p99Ns = "p99_ns"
            case p999Ns = "p999_ns"
            case decisions, rate
            case mallocsInLoop = "mallocs_in_loop"
            case instructionsPerDecision = "instructions_per_decision"
            case instructionsPerMessage = "instructions_per_message"
        }
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(p50Ns, forKey: .p50Ns)
            try c.encode(p99Ns, forKey: .p99Ns)
            try c.encode(p999Ns, forKey: .p999Ns)
            try c.encode(decisions, forKey: .decisions)
            try c.encode(rate, forKey: .rate)
            try c.encode(mallocsInLoop, forKey: .mallocsInLoop)
            try c.encode(instructionsPerDecision, forKey: .instructionsPerDecision)  // null when absent
            try c.encode(instructionsPerMessage, forKey: .instructionsPerMessage)
        }
    }
    public struct BaselineJSON: Encodable, Sendable {
        var name = "pass-through strategy"
        var p50Ns: Double, p99Ns: Double, p999Ns: Double
        enum CodingKeys: String, CodingKey {
            case name
            case p50Ns = "p50_ns"
            case p99Ns = "p99_ns"
            case p999Ns = "p999_ns"
        }
    }
    public struct RatioJSON: Encodable, Sendable {
        var p50: Double, p99: Double, p999: Double
    }
}

extension StrategyBench.Outcome {
    public var report:
        BenchReport<StrategyBench.ResultJSON, StrategyBench.BaselineJSON, StrategyBench.RatioJSON, NoConfig>
    {
        let f = full
        let b = passThrough
        return BenchReport(
            bench: "strategy",
            result: .init(
                p50Ns: rounded(f.p50, 1),
                p99Ns: rounded(f.p99, 1),
                p999Ns: rounded(f.p999, 1),
                decisions: decisions,
                rate: Int(options.rate),
                mallocsInLoop: mallocs,
                instructionsPerDecision: instructions.map { rounded($0.perDecision, 1) },
                instructionsPerMessage: instructions.map { rounded($0.perMessage, 1) }
            ),
            baseline: .init(p50Ns: rounded(b.p50, 1), p99Ns: rounded(b.p99, 1), p999Ns: rounded(b.p999, 1)),
            ratio: .init(
                p50: rounded(f.p50 / b.p50, 3),
                p99: rounded(f.p99 / b.p99, 3),
                p999: rounded(f.p999 / b.p999, 3)
            )
        )
    }

    public var text: String {
        let o = options
        let f = full
        let b = passThrough
        func f1(_ v: Double) -> String { TextTable.leftPad(TextTable.fixed(v, 1), 11) }
        func f3(_ v: Double) -> String { TextTable.fixed(v, 3) }
        return [
            "bench strategy: feed \(o.source) at \(Int(o.rate)) msg/s on CPU \(o.feedCpu) -> strategy on CPU \(o.strategyCpu); "
                + "\(o.rounds) rounds x \(o.messages) messages each",
            "  tick-to-decision (feed publish -> decision publish), medians over rounds (ns)      p50        p99      p99.9",
            TextTable.rightPad("  strategy (\(o.features), \(o.model))", 80) + [f.p50, f.p99, f.p999].map(f1).joined(),
            TextTable.rightPad("  pass-through strategy (ring hops only)", 80)
                + [b.p50, b.p99, b.p999].map(f1).joined(),
            "  ratio: p50 \(f3(f.p50 / b.p50)), p99 \(f3(f.p99 / b.p99)), p99.9 \(f3(f.p999 / b.p999)); "
                + "mallocs in the strategy loop: \(mallocs) over \(o.messages) messages (order-book warm-up)",
            instructions.map {
                "  instructions (callgrind, one thread: features + model + decision publish): "
                    + "\(TextTable.fixed($0.perDecision, 1)) per decision, \(TextTable.fixed($0.perMessage, 1)) per market "
                    + "message (\($0.decisions) decisions over \($0.messages) messages after a 10% warm-up)"
            } ?? "  instructions: not measured: \(instructionsNote ?? "")",
        ].joined(separator: "\n")
    }
}
