import Feed
import Foundation
import Strategy
import TickBusCore

/// The strategy loop of `tickbus strategy` — features, model, decision publish (`StrategyLoop.step`)
/// — over market messages decoded in memory, in one thread, for instruction counts under callgrind:
/// `bench strategy` runs `bench strategy-instructions` under valgrind, collecting only inside
/// `counted`, and divides by the decisions. Wall-clock percentiles on this VM are dominated by
/// preemption and core placement; an instruction count is the same on every run of the same binary
/// and input, so a change to the loop can be judged on a loaded machine.
public enum StrategyInstructions {
    /// Messages read and decisions made in the counted part.
    public struct Counts: Sendable {
        public var messages: UInt64 = 0
        public var decisions: UInt64 = 0
    }

    /// Decodes `messages` from `source`, warms the loop on the first tenth (books, caches, page
    /// tables: not counted) and runs the rest through `counted`.
    public static func run(
        features: String,
        model: String,
        source: SourceSpec,
        messages: Int
    ) throws(BenchError) -> Counts {
        let decoded = try SimBench.decode(source, limit: messages)
        defer { decoded.release() }
        let strategy: LoadedStrategy
        var loop: StrategyLoop
        do {
            strategy = try LoadedStrategy.load(
                features: BenchProcess.resolve(features),
                model: BenchProcess.resolve(model),
                shadow: nil
            )
            loop = try strategy.makeLoop(slotSize: DecisionLayout.defaultSlotSize)
        } catch { throw .invalid("\(error)") }
        let bus = "benchins-\(getpid())"
        defer { _ = try? Segment.removeBus(bus) }
        var producer = try segment { () throws(SegmentError) in
            try RingProducer(
                bus: bus,
                ring: "decisions.bench",
                schema: .decisions,
                slotSize: DecisionLayout.defaultSlotSize,
                capacity: 1 << 12
            )
        }
        let warm = decoded.count / 10
        _ = warmUp(&loop, decoded, upTo: warm, &producer)
        var c = Counts()
        c.decisions = counted(&loop, decoded, from: warm, &producer)
        c.messages = UInt64(decoded.count - warm)
        return c
    }

    @inline(never)
    static func warmUp(
        _ loop: inout StrategyLoop,
        _ decoded: DecodedMessages,
        upTo end: Int,
        _ producer: inout RingProducer
    ) -> UInt64 {
        var d: UInt64 = 0
        for i in 0..<end where loop.step(decoded.view(i), into: &producer) != nil { d &+= 1 }
        return d
    }

    /// The measured part (its name is what `--toggle-collect` selects).
    @inline(never)
    static func counted(
        _ loop: inout StrategyLoop,
        _ decoded: DecodedMessages,
        from start: Int,
        _ producer: inout RingProducer
    ) -> UInt64 {
        var d: UInt64 = 0
        for i in start..<decoded.count where loop.step(decoded.view(i), into: &producer) != nil { d &+= 1 }
        return d
    }

    /// Instructions per decision and per market message of `counted`, measured by running this
    /// executable's `bench strategy-instructions` under `valgrind --tool=callgrind` (a copy stripped
    /// of its DWARF, which valgrind 3.19 cannot read). Nil, with the reason, when valgrind or strip
    /// is not installed (Tools/setup installs both) or the run fails.
    public static func measure(
        features: String,
        model: String,
        source: String,
        messages: Int
    ) -> Result<(perDecision: Double, perMessage: Double, counts: Counts), BenchError> {
        for tool in ["/usr/bin/valgrind", "/usr/bin/strip"] where !FileManager.default.isExecutableFile(atPath: tool) {
            return .failure(.invalid("\(tool) is not installed (Tools/setup installs it)"))
        }
        let dir = NSTemporaryDirectory() + "tickbus-callgrind-\(getpid())"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let binary = dir + "/tickbus"
        let out = dir + "/callgrind.out"
        guard run("/usr/bin/strip", ["--strip-debug", "-o", binary, BenchProcess.executable]).status == 0 else {
            return .failure(.child("strip --strip-debug \(BenchProcess.executable) failed"))
        }
        let r = run(
            "/usr/bin/valgrind",
            [
                "--tool=callgrind", "--callgrind-out-file=\(out)", "--toggle-collect=*StrategyInstructions*counted*",
                binary, "bench", "strategy-instructions", "--features", BenchProcess.resolve(features), "--model",
                BenchProcess.resolve(model), "--source", source, "--messages", "\(messages)",
            ]
        )
        guard r.status == 0 else { return .failure(.child("bench strategy-instructions under valgrind: \(r.output)")) }
        var c = Counts()
        for part in r.output.split(whereSeparator: { $0 == " " || $0 == "\n" }) {
            if part.hasPrefix("messages=") { c.messages = UInt64(part.dropFirst(9)) ?? 0 }
            if part.hasPrefix("decisions=") { c.decisions = UInt64(part.dropFirst(10)) ?? 0 }
        }
        // callgrind's output file: "summary: N" (or "totals: N") is the collected instruction count.
        let text = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
        let line = text.split(separator: "\n").first { $0.hasPrefix("summary:") || $0.hasPrefix("totals:") }
        guard let line, let total = Double(line.split(separator: " ").last ?? ""), c.decisions > 0, c.messages > 0
        else { return .failure(.child("no instruction count in \(out) (decisions=\(c.decisions))")) }
        return .success((total / Double(c.decisions), total / Double(c.messages), c))
    }

    static func run(_ tool: String, _ arguments: [String]) -> (status: Int32, output: String) {
        do {
            let r = try BenchProcess.capture(tool, arguments, quiet: true)
            return (r.status, String(decoding: r.output, as: UTF8.self))
        } catch { return (-1, "\(error)") }
    }
}
