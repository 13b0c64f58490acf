import ArgumentParser
import CTickBus
import Journal
import Replay
import Strategy
import TickBusCore

#if canImport(Glibc)
import Glibc
#endif

struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract:
            "Publish a journal's market ring into ring `market` through the live feed loop. Last line: replayed=N published=P."
    )

    @Option(help: "Journal directory.") var dir: String
    @Option(help: "Bus name.") var bus: String?
    @Option(help: "max | realtime | xN (N times real time)") var speed: String = "max"
    @Flag(
        help:
            "Lossless replay: wait for gating readers (--wait-readers, default 1) before publishing; the ring then waits for them."
    ) var gating = false
    @Option(name: .customLong("wait-readers"), help: "Wait until this many readers are attached before publishing.")
    var waitReaders: Int?
    @Option(name: .customLong("wait-timeout"), help: "Seconds to wait for --wait-readers.") var waitTimeout: Double = 30
    @Option(help: "Ring capacity in slots (a power of two).") var capacity: Int = 1 << 16
    @Option(help: "The journal's ring to replay.") var ring: String = "market"
    @Flag(
        name: .customLong("verify-decisions"),
        help:
            "Re-run the strategy in-process over the recorded market ring and compare every decision with the recorded one; recorded control records are re-applied at their market sequences (versions from --registry)."
    ) var verifyDecisions = false
    @Option(help: "Feature definition (TOML), with --verify-decisions.") var features: String?
    @Option(help: "Live model, with --verify-decisions.") var model: String?
    @Option(
        help: "Shadow model, with --verify-decisions (if the live strategy had one; with --registry: a version)."
    ) var shadow: String?
    @Option(help: "Model registry directory, with --verify-decisions: load --live (and --shadow) versions from it.")
    var registry: String?
    @Option(help: "Live version, with --registry: full id, unique prefix of 12+ hex digits, or NAME@ALIAS.")
    var live: String?
    @Option(help: "Canary the live strategy started with, with --verify-decisions (with --registry: a version).")
    var canary: String?
    @Option(name: .customLong("canary-percent"), help: "The canary percent the live strategy started with.")
    var canaryPercent: UInt8 = 0
    @Option(help: "Recorded decisions ring (default: the only decisions.* ring of the journal).") var decisions: String?
    @Option(help: "The execution file the live strategy paper-traded with, with --verify-decisions (E.toml).")
    var execution: String?

    /// The models for `--verify-decisions`: files or registry versions.
    var selection: StrategySelection {
        StrategySelection(
            features: features,
            model: model,
            shadow: shadow,
            registry: registry,
            live: live,
            canary: canary,
            canaryPercent: canaryPercent,
            execution: execution
        )
    }

    func validate() throws {
        if verifyDecisions {
            guard registry != nil || live != nil || (features != nil && model != nil) else {
                throw ValidationError("--verify-decisions needs --features and --model")
            }
            try selection.validate()
        } else {
            guard registry == nil, live == nil else {
                throw ValidationError("--registry and --live need --verify-decisions")
            }
            guard bus != nil else { throw ValidationError("--bus is required") }
            guard JournalReplay.Speed(parsing: speed) != nil else {
                throw ValidationError("--speed must be max, realtime or xN (e.g. x10)")
            }
        }
    }

    func run() throws {
        installStopSignalsUnblocked()
        if verifyDecisions { return try verify() }
        var o = JournalReplay.Options(directory: dir, bus: bus!)
        o.ring = ring
        o.speed = JournalReplay.Speed(parsing: speed)!
        o.gating = gating
        o.waitReaders = waitReaders
        o.waitTimeout = waitTimeout
        o.capacity = capacity
        let s: JournalReplay.Summary
        do { s = try JournalReplay.run(o, stop: stopRequested, log: warn) } catch {
            switch error {
            case .source:
                warn("replay: \(error)")
                throw ExitCode(2)
            case .ring: throw RuntimeFailure(error, status: ExitStatus.error)
            case .stopped: throw ExitCode(130)
            case .readersMissing: throw RuntimeFailure(error)
            }
        }
        print(
            "replayed=\(s.replayed) published=\(s.published) seconds=\(format3(s.seconds)) "
                + "journal_gaps=\(s.journalGaps) complete=\(s.stopError == nil)"
        )
        flushOut()
    }

    /// `--verify-decisions`: the strategy re-run over the recorded market ring, compared decision by decision.
    func verify() throws {
        let strategy = try selection.load { warn("replay: \($0)") }
        let outcome: DecisionVerifier.Outcome
        do {
            outcome = try DecisionVerifier.run(
                directory: dir,
                market: ring,
                decisions: decisions,
                strategy: strategy,
                log: warn
            )
        } catch {
            switch error {
            case .journal, .ring: throw RuntimeFailure(error, status: ExitStatus.error)
            case .decisionsRing, .schemas, .strategy: throw RuntimeFailure(error)
            }
        }
        if let difference = outcome.firstDifference { print("first difference: \(difference)") }
        print(outcome.line)
        flushOut()
        if outcome.firstDifference != nil { throw ExitCode(1) }
    }
}
