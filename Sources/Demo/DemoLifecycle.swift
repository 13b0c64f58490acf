import Foundation
import Journal
import TestSupport
import TickBusCore

/// The model lifecycle part of `tickbus demo`: the bundled model (champion) and a second model
/// (canary) registered through the gates, a `control serve` on the demo's bus, and during the
/// session a canary, its promotion and a rollback, each confirmed by the strategy's control record.
enum DemoLifecycle {
    /// The registry inputs beside the bundled model (Recordings/synthetic-5, Tools/make_demo_versions.py).
    struct Inputs {
        var features: String
        var champion: String
        var championExamples: String
        var canary: String
        var canaryExamples: String
        /// The execution file both models are backtested with before registering.
        var execution: String
        /// The market data of those backtests (the bundled recording).
        var backtestSource: String
    }

    /// The two registered versions.
    struct Versions {
        var registry: String
        var champion: String
        var canary: String
    }

    /// Backtests both models, `registry add`s them with their reports and moves `demo@champion` and
    /// `demo@canary` through the default policy's gates (features, predictions against numpy's,
    /// single-row latency, the backtest report).
    static func register(
        _ i: Inputs,
        registry: String,
        deadline: Date,
        say: (String) -> Void
    ) throws(DemoError)
        -> Versions
    {
        func run(_ name: String, _ args: [String]) throws(DemoError) -> Child.Result {
            let r = try DemoChild.start(name: name, args).wait(until: deadline)
            guard r.status == 0 else { throw .step(name: name, output: r.stdout + r.stderr) }
            return r
        }
        func backtest(_ model: String, _ tag: String) throws(DemoError) -> String {
            let out = registry + "-backtest-" + tag
            _ = try run(
                "backtest \(tag)",
                [
                    "backtest", "--source", i.backtestSource, "--features", i.features, "--model", model,
                    "--execution", i.execution, "--out", out, "--quiet",
                ]
            )
            return out + "/report.json"
        }
        let a = try run(
            "registry add",
            [
                "registry", "add", "--registry", registry, "--name", "demo", "--model", i.champion, "--features",
                i.features, "--examples", i.championExamples, "--backtest", try backtest(i.champion, "champion"),
            ]
        ).lastLine
        let c = try run(
            "registry add",
            [
                "registry", "add", "--registry", registry, "--name", "demo", "--model", i.canary, "--features",
                i.features, "--examples", i.canaryExamples, "--backtest", try backtest(i.canary, "canary"),
            ]
        ).lastLine
        _ = try run(
            "registry alias set",
            [
                "registry", "alias", "set", "--registry", registry, "demo@champion", a, "--reason",
                "demo: the bundled model",
            ]
        )
        _ = try run(
            "registry alias set",
            ["registry", "alias", "set", "--registry", registry, "demo@canary", c, "--reason", "demo: a challenger"]
        )
        say(
            "  registry   \(registry): champion \(a.prefix(12)) (bundled), canary \(c.prefix(12)); both passed the gates"
        )
        return Versions(registry: registry, champion: a, canary: c)
    }

    /// The commands sent during the session, each waited for until the strategy's control record:
    /// load the canary, route 50% of instruments to it, make it champion and promote it, roll back.
    static func commands(_ v: Versions, bus: String) -> [(what: String, args: [String])] {
        func control(_ rest: [String], _ reason: String) -> [String] {
            ["control", "--bus", bus, "--strategy", "demo", "--timeout", "20"] + rest + ["--reason", reason]
        }
        return [
            ("load canary", control(["load", v.canary, "--role", "canary"], "demo: try the challenger")),
            ("canary 50%", control(["canary", "50"], "demo: route half the instruments")),
            (
                "champion -> canary",
                [
                    "registry", "alias", "set", "--registry", v.registry, "demo@champion", v.canary, "--reason",
                    "demo: the challenger won",
                ]
            ),
            ("promote", control(["promote"], "demo: the canary becomes live")),
            ("rollback", control(["rollback"], "demo: back to the previous champion")),
        ]
    }

    /// Runs the commands during the session, `gap` seconds apart; returns each one's last line.
    static func drive(
        _ steps: [(what: String, args: [String])],
        gap: Double,
        deadline: Date
    ) throws(DemoError) -> [String] {
        var lines: [String] = []
        for s in steps {
            usleep(UInt32(gap * 1_000_000))
            let r = try DemoChild.start(name: s.what, s.args).wait(until: deadline)
            guard r.status == 0 else { throw .step(name: s.what, output: r.stdout + r.stderr) }
            lines.append(r.lastLine)
        }
        return lines
    }

    /// What the journal of `decisions.demo` shows: the control records, and decisions per acting model.
    struct Timeline {
        var controls: [String] = []
        var decisions = 0
        var byModel: [UInt64: Int] = [:]
        var canaryActed = 0
    }

    static func timeline(journal: String) throws(DemoError) -> Timeline {
        let reader: JournalReader
        do { reader = try JournalReader(directory: journal, ring: "decisions.demo") } catch {
            throw .setup("\(error)")
        }
        var t = Timeline()
        while let e = reader.next() {
            guard case .record(let p) = e else { continue }
            let d = DecisionRecordView(p)
            if d.kind == RecordKind.control.rawValue {
                let c = ControlRecordView(p)
                let r = c.roles
                t.controls.append(
                    "\(c.verb.map { "\($0)" } ?? "?") \(c.applied ? "applied" : "rejected") at market sequence "
                        + "\(c.firstMarketSequence): live \(r.liveVersion.hex.prefix(12))"
                        + (r.canaryVersion.isZero
                            ? "" : ", canary \(r.canaryVersion.hex.prefix(12)) \(r.canaryPercent)%")
                )
            } else if d.isDecision {
                t.decisions += 1
                t.byModel[d.actingModelId, default: 0] += 1
                if d.canaryActed { t.canaryActed += 1 }
            }
        }
        return t
    }
}
