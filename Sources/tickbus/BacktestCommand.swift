import ArgumentParser
import BacktestReport
import Feed
import Journal
import Registry
import Replay
import Strategy

/// `tickbus backtest`: the live strategy loop, order policy, risk checks and simulator over a
/// source, in one process (`Backtest`), or `--reconcile` against a recorded paper session.
struct BacktestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backtest",
        abstract:
            "Run the strategy, order policy, risk checks and execution simulator over a source; write the decision journal, orders.csv, fills.csv, pnl.csv, report.json and report.html."
    )
    @Option(help: "Market source: SOURCE spec (journal:DIR, itch:FILE, lobster:M,O, synthetic:SEED).") var source:
        String?
    @Option(help: "Feature definition (TOML).") var features: String?
    @Option(help: "Model file (LightGBM, XGBoost JSON, linear, ONNX).") var model: String?
    @Option(help: "Model registry directory (with --version).") var registry: String?
    @Option(help: "Registry version: full id, unique prefix of 12+ hex digits, or NAME@ALIAS.") var version: String?
    @Option(help: "Execution file (E.toml): simulator latency and fees, order policy, risk limits.") var execution:
        String
    @Option(help: "Output directory (created).") var out: String?
    @Option(
        help:
            "A recorded live paper session (journal directory): re-run its market ring and report every decision, order and fill that differs."
    ) var reconcile: String?
    /// The file (or journal directory) a source spec reads, for its hash.
    func sourcePath(_ spec: SourceSpec) -> String? {
        switch spec {
        case .itch(let path): return path
        case .lobster(let messages, _): return messages
        case .journal(let dir): return dir
        case .synthetic, .itchMoldUDP64, .tickbusMoldUDP64: return nil
        }
    }

    @Option(help: "Strategy name: the journal's ring decisions.<name>.") var name: String = "backtest"
    @Option(name: .customLong("horizon-ns"), help: "Hit-rate horizon in exchange-time ns.") var horizonNs: Int64 =
        1_000_000_000
    @Flag(help: "No progress lines on stderr.") var quiet = false

    var selection: StrategySelection {
        StrategySelection(features: features, model: model, shadow: nil, registry: registry, live: version)
    }

    func validate() throws {
        try selection.validate()
        if reconcile == nil {
            guard source != nil else { throw ValidationError("--source is required (or --reconcile DIR)") }
            guard out != nil else { throw ValidationError("--out is required") }
        } else {
            guard source == nil else {
                throw ValidationError("--reconcile reads the journal's market ring: no --source")
            }
        }
        guard horizonNs > 0 else { throw ValidationError("--horizon-ns must be positive") }
    }

    func run() throws {
        installStopSignalsUnblocked()
        let strategy = try selection.load { if !quiet { warn("backtest: \($0)") } }
        let settings: ExecutionSettings
        do { settings = try ExecutionSettings.load(path: execution) } catch { throw RuntimeFailure(error) }
        if let reconcile { return try reconcileSession(reconcile, strategy: strategy, settings: settings) }
        let spec: SourceSpec
        do { spec = try SourceSpec(parsing: source!) } catch { throw ValidationError("\(error)") }
        var o = BacktestSession.Options(source: spec, out: out!, name: name, settings: settings)
        o.horizonNs = horizonNs
        o.inputs = InputHashes.hashes(
            ["source": sourcePath(spec), "features": features, "model": model, "execution": execution]
        )
        if let registry, let version {
            // A registry version: its model and definition as the manifest names them (what the
            // registry's backtest gate checks against).
            do {
                let v = try Registry(root: registry).resolve(version)
                o.inputs["registry_version"] = v.id
                o.inputs["model"] = v.manifest.model
                o.inputs["features"] = v.manifest.definition
            } catch { throw RuntimeFailure(error) }
        }
        if case .lobster(_, let book) = spec {
            o.inputs["source_orderbook"] = InputHashes.sha256(path: book) ?? "unreadable"
        }
        let result: BacktestSession.Result
        do {
            result = try BacktestSession.run(o, strategy: strategy, stop: stopRequested) { line in
                if !quiet { warn(line) }
            }
        } catch { throw RuntimeFailure(error) }
        print(result.line)
        flushOut()
    }

    func reconcileSession(_ dir: String, strategy: LoadedStrategy, settings: ExecutionSettings) throws {
        var strategy = strategy
        strategy.execution = settings
        let outcome: DecisionVerifier.Outcome
        do {
            outcome = try DecisionVerifier.run(directory: dir, decisions: nil, strategy: strategy, log: warn)
        } catch { throw RuntimeFailure(error, status: ExitStatus.error) }
        if let d = outcome.firstDifference { print("difference: \(d)") }
        print("reconcile: " + outcome.line)
        flushOut()
        if outcome.firstDifference != nil { throw ExitCode(1) }
    }
}
