import Foundation
import TestSupport
import TickBusCore

#if canImport(Glibc)
import Glibc
#endif

/// `tickbus demo`: a whole session in separate processes on a bus of its own — generated ITCH 5.0
/// data → feed (books) → ring `market` → strategy (features, model) → ring `decisions.demo`, with
/// the recorder journaling both rings and a tap on each; the strategy runs registry versions
/// (registered through the gates) under a `control serve`, and during the session a canary is
/// loaded, routed, promoted and rolled back (`DemoLifecycle`); then `replay --verify-decisions`
/// over the journal checks every decision is reproduced bit for bit across those swaps. Each child
/// has a deadline; only the demo's own children are signalled; its bus is removed.
public enum DemoSession {
    public struct Options: Sendable {
        /// Seed of the generated ITCH data.
        public var seed: UInt64 = 42
        /// ITCH messages to generate.
        public var messages = 200_000
        /// Feed rate in messages per second (slow enough that the lifecycle commands land mid-session).
        public var rate: Double = 60_000
        public var features = "Recordings/synthetic-5/features.toml"
        public var model = "Recordings/synthetic-5/model.json"
        /// The strategy paper-trades with this execution file; the session is then backtested with it.
        public var execution = "Tools/backtest/join.toml"
        /// The canary model and the example rows of both (`Tools/make_demo_versions.py`); nil: the
        /// files `model-b.json`, `examples.csv` and `examples-b.csv` beside `model`.
        public var canaryModel: String?
        public var examples: String?
        public var canaryExamples: String?
        /// The session's journal directory (default `Recordings/live/demo-PID`).
        public var record: String?
        /// Seconds before every child is killed.
        public var timeout: Double = 180
        public init() {}
    }

    /// Runs the session and prints its summary through `say`.
    /// - Returns: true when every reader received everything and the replay reproduced every decision.
    /// - Throws: `DemoError` when the session cannot be set up (files, the generated data, rings).
    public static func run(_ o: Options, say: (String) -> Void) throws(DemoError) -> Bool {
        let (seed, messages, rate, features, model, record, timeout) = (
            o.seed, o.messages, o.rate, o.features, o.model, o.record, o.timeout
        )
        let pid = getpid()
        let bus = "demo-\(pid)"
        defer { _ = try? Segment.removeBus(bus) }
        let beside = (model as NSString).deletingLastPathComponent
        let canaryModel = o.canaryModel ?? (beside as NSString).appendingPathComponent("model-b.json")
        let examples = o.examples ?? (beside as NSString).appendingPathComponent("examples.csv")
        let canaryExamples = o.canaryExamples ?? (beside as NSString).appendingPathComponent("examples-b.csv")
        let execution = o.execution
        for f in [features, model, canaryModel, examples, canaryExamples, execution]
        where !FileManager.default.fileExists(atPath: f) {
            throw .missingFile(f)
        }
        let journal = record ?? "Recordings/live/demo-\(pid)"
        do {
            try FileManager.default.createDirectory(
                atPath: (journal as NSString).deletingLastPathComponent,
                withIntermediateDirectories: true
            )
        } catch {
            throw .setup("\(error)")
        }
        let itch = FileManager.default.temporaryDirectory.appendingPathComponent("tickbus-demo-\(pid).itch").path
        defer { try? FileManager.default.removeItem(atPath: itch) }
        let registry = journal + ".registry"
        let deadline = Date().addingTimeInterval(timeout)
        let cpu = sysconf(Int32(_SC_NPROCESSORS_ONLN)) > 1 ? 1 : 0

        say("demo: bus \(bus); \(messages) generated ITCH 5.0 messages (seed \(seed)) at \(Int(rate))/s")
        let synth = try DemoChild.start(
            name: "synth",
            ["synth", "itch", "--seed", "\(seed)", "--messages", "\(messages)", "--out", itch]
        ).wait(until: deadline)
        guard synth.status == 0 else { throw .synthFailed(stderr: synth.stderr) }
        let versions = try DemoLifecycle.register(
            .init(
                features: features,
                champion: model,
                championExamples: examples,
                canary: canaryModel,
                canaryExamples: canaryExamples,
                execution: execution,
                backtestSource: "journal:"
                    + ((features as NSString).deletingLastPathComponent as NSString)
                    .appendingPathComponent("session")
            ),
            registry: registry,
            deadline: deadline,
            say: say
        )
        // The one producer of ring `control`; the strategy attaches to it at start.
        let server = try DemoChild.start(
            name: "control serve",
            ["control", "serve", "--bus", bus, "--registry", registry]
        )
        defer { server.signal(SIGTERM) }
        try DemoChild.waitForRing(bus: bus, ring: "control", timeout: 30)

        // The feed waits for its three market readers (strategy, recorder, tap) before publishing; the
        // strategy gates it (a debug build on a busy machine must not lose what the replay then checks).
        let feed = try DemoChild.start(
            name: "feed",
            ["feed", "--bus", bus, "--source", "itch:\(itch)", "--rate", "\(rate)", "--wait-readers", "3"]
        )
        try DemoChild.waitForRing(bus: bus, ring: "market", timeout: 30)
        let strategy = try DemoChild.start(
            name: "strategy",
            [
                "strategy", "--bus", bus, "--registry", registry, "--live", versions.champion,
                "--preload", versions.canary, "--name", "demo", "--cpu", "\(cpu)", "--gating",
                "--execution", execution,
            ]
        )
        try DemoChild.waitForRing(bus: bus, ring: "decisions.demo", timeout: 30)
        let tapDecisions = try DemoChild.start(
            name: "tap decisions.demo",
            ["tap", "--bus", bus, "--ring", "decisions.demo", "--name", "tap-decisions"]
        )
        let recorder = try DemoChild.start(
            name: "recorder",
            ["record", "--bus", bus, "--rings", "market,decisions.demo", "--dir", journal]
        )
        let tapMarket = try DemoChild.start(name: "tap market", ["tap", "--bus", bus, "--name", "tap-market"])
        let commandLines = try DemoLifecycle.drive(
            DemoLifecycle.commands(versions, bus: bus),
            gap: 0.2,
            deadline: deadline
        )

        let rFeed = feed.wait(until: deadline)
        let rStrategy = strategy.wait(until: deadline)
        let rTapMarket = tapMarket.wait(until: deadline)
        let rTapDecisions = tapDecisions.wait(until: deadline)
        let rRecorder = recorder.wait(until: deadline)

        var ok = true
        func status(_ r: Child.Result) -> String { r.status == 0 ? "" : "  (exit status \(r.status))" }
        let published = UInt64(keyValues(rFeed.line(prefix: "published=") ?? "")["published"] ?? "") ?? 0
        ok = ok && rFeed.status == 0 && published > 0
        say("  feed       published=\(published) (ITCH messages, top-of-book updates, end-of-session)\(status(rFeed))")

        let placement = rStrategy.line(prefix: "strategy demo: placement") ?? "placement unknown"
        let sKV = keyValues(rStrategy.line(prefix: "strategy demo: messages=") ?? "")
        let decisions = UInt64(sKV["decisions"] ?? "") ?? 0
        // Control records share decisions.demo with the decisions (one per command the strategy obeyed).
        let controls = UInt64(sKV["commands"] ?? "") ?? 0
        // Paper trading: orders, order events, fills and risk records share the ring too.
        let paper = keyValues(rStrategy.line(prefix: "strategy demo: orders=") ?? "")
        let tdReceived = UInt64(keyValues(rTapDecisions.lastLine)["received"] ?? "") ?? 0
        let records = tdReceived
        let sent = UInt64(commandLines.count - 1)  // the alias move is the registry's, not a command
        ok = ok && rStrategy.status == 0 && sKV["messages"] == "\(published)" && sKV["lost"] == "0"
        ok = ok && records >= decisions + controls && paper["orders"] != nil
        ok = ok && sKV["rejected"] == "0" && controls == sent
        let where_ = placement.replacingOccurrences(of: "strategy demo: ", with: "")
        say(
            "  strategy   received=\(sKV["messages"] ?? "?") lost=\(sKV["lost"] ?? "?") decisions=\(decisions) commands=\(controls) rejected=\(sKV["rejected"] ?? "?")  [\(where_)]\(status(rStrategy))"
        )
        say(
            "  paper      orders=\(paper["orders"] ?? "?") cancels=\(paper["cancels"] ?? "?") fills=\(paper["fills"] ?? "?") filled_shares=\(paper["filled_shares"] ?? "?") refused=\(paper["refused"] ?? "?") (simulated against the live book, \(execution))"
        )

        let tm = keyValues(rTapMarket.lastLine)
        ok = ok && rTapMarket.status == 0 && tm["received"] == "\(published)" && tm["lost"] == "0"
        say(
            "  tap        market:         received=\(tm["received"] ?? "?") lost=\(tm["lost"] ?? "?") gaps=\(tm["gaps"] ?? "?")\(status(rTapMarket))"
        )
        let td = keyValues(rTapDecisions.lastLine)
        ok = ok && rTapDecisions.status == 0 && td["received"] == "\(records)" && td["lost"] == "0"
        say(
            "  tap        decisions.demo: received=\(td["received"] ?? "?") lost=\(td["lost"] ?? "?") gaps=\(td["gaps"] ?? "?")\(status(rTapDecisions))"
        )

        let rec = keyValues(rRecorder.lastLine)
        ok = ok && rRecorder.status == 0 && rec["recorded"] == "\(published + records)" && rec["lost"] == "0"
        say(
            "  recorder   recorded=\(rec["recorded"] ?? "?") gaps=\(rec["gaps"] ?? "?") lost=\(rec["lost"] ?? "?") into \(journal)\(status(rRecorder))"
        )

        // What the journal holds: each command's control record, and which model decided.
        let timeline = try DemoLifecycle.timeline(journal: journal)
        for c in timeline.controls { say("  control    \(c)") }
        let by = timeline.byModel.sorted { $0.key < $1.key }.map { "\(String($0.key, radix: 16))=\($0.value)" }
        say("  decisions  by acting model: \(by.joined(separator: " ")); the canary acted on \(timeline.canaryActed)")
        ok = ok && UInt64(timeline.controls.count) == controls && timeline.canaryActed > 0

        // Replay the journal through the same strategy code, applying the control records at the
        // same market sequences, and compare every decision.
        let verify = try DemoChild.start(
            name: "replay",
            [
                "replay", "--dir", journal, "--verify-decisions", "--registry", registry, "--live", versions.champion,
                "--execution", execution,
            ]
        ).wait(until: deadline)
        let v = keyValues(verify.lastLine)
        let reproduced = verify.status == 0 && v["identical"] == "true" && v["decisions"] == "\(decisions)"
        ok = ok && reproduced
        say("  replay     \(verify.lastLine)\(status(verify))")

        // A backtest of the session's own market ring with the starting champion and the same
        // execution file: the live code in one process (the live session also swapped models, so
        // its P&L differs from this single-model run).
        let backtestDir = journal + "-backtest"
        let backtest = try DemoChild.start(
            name: "backtest",
            [
                "backtest", "--source", "journal:\(journal)", "--registry", registry, "--version", versions.champion,
                "--execution", execution, "--out", backtestDir, "--name", "demo", "--quiet",
            ]
        ).wait(until: deadline)
        let b = keyValues(backtest.lastLine)
        ok = ok && backtest.status == 0 && b["decisions"] != nil
        say(
            "  backtest   pnl=$\(b["pnl"] ?? "?") fees=$\(b["fees"] ?? "?") fills=\(b["fills"] ?? "?") orders=\(b["orders"] ?? "?") max_drawdown=$\(b["max_drawdown"] ?? "?")\(status(backtest))"
        )
        say("  report     \(b["report"] ?? "?")")

        if ok {
            say(
                "demo: ok — no reader lost a message, and the replay reproduced all \(decisions) decisions bit for bit across \(controls) model changes"
            )
        } else {
            say("demo: FAILED")
            server.signal(SIGTERM)
            for (name, r) in [
                ("feed", rFeed), ("strategy", rStrategy), ("tap market", rTapMarket), ("tap decisions", rTapDecisions),
                ("recorder", rRecorder), ("replay", verify), ("backtest", backtest),
                ("control serve", server.wait(until: deadline)),
            ] where r.status != 0 || !r.stderr.isEmpty && !ok {
                say("--- \(name) (status \(r.status)):\n\(r.stdout.suffix(2000))\(r.stderr.suffix(2000))")
            }
            return false
        }
        return true
    }
}

/// Why the demo could not run its session.
public enum DemoError: Error, CustomStringConvertible {
    /// The feature definition or model is not there.
    case missingFile(String)
    /// The journal's parent directory could not be created.
    case setup(String)
    /// A child process could not be started.
    case spawn(name: String, reason: String)
    /// `synth itch` failed; its stderr.
    case synthFailed(stderr: String)
    /// A step of the session (a registry command, a control command) failed; its output.
    case step(name: String, output: String)
    /// A ring did not appear within the timeout.
    case ringMissing(bus: String, ring: String, timeout: Double)

    public var description: String {
        switch self {
        case .missingFile(let f):
            return "\(f) not found (run the demo from the repository root, or pass --features/--model)"
        case .setup(let s): return s
        case .spawn(let name, let reason): return "cannot start \(name): \(reason)"
        case .synthFailed(let stderr): return "synth itch failed: \(stderr)"
        case .step(let name, let output): return "\(name) failed: \(output)"
        case .ringMissing(let bus, let ring, let timeout):
            return "ring \(ring) did not appear on bus \(bus) within \(timeout) s"
        }
    }
}
