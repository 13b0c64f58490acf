import ArgumentParser
import Drift
import Registry

/// `tickbus registry …`: the model registry (Docs/REGISTRY.md). Wiring only; the work is in `Registry`.
struct RegistryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "registry",
        abstract: "Content-addressed model versions, gated aliases with a hash-chained log, approvals.",
        subcommands: [
            RegistryAddCommand.self, RegistryVerifyCommand.self, RegistryListCommand.self, RegistryShowCommand.self,
            RegistryAliasCommand.self, RegistryHistoryCommand.self, RegistryKeygenCommand.self,
            RegistryApproveCommand.self,
        ]
    )
}

/// Options every registry command takes.
struct RegistryOptions: ParsableArguments {
    @Option(help: "Registry directory.") var registry: String = "./registry"
    @Flag(help: "Print JSON (one canonical JSON document per line).") var json = false

    func open() throws -> Registry {
        do { return try Registry(root: registry) } catch { throw RuntimeFailure(error) }
    }
}

/// Runs a registry call, turning its error into a `RuntimeFailure` (message, exit 64).
func registryCall<T>(_ body: () throws(RegistryError) -> T) throws -> T {
    do { return try body() } catch { throw RuntimeFailure(error) }
}

struct RegistryAddCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Store a version; prints its id (64 hex digits) as the last line."
    )

    @OptionGroup var options: RegistryOptions
    @Option(help: "Model name (letters, digits, . _ -).") var name: String
    @Option(help: "Model file (LightGBM text, XGBoost JSON, linear JSON, ONNX).") var model: String
    @Option(help: "Feature definition (TOML).") var features: String
    @Option(help: "Example rows and the library's outputs (Tools/export_examples.py).") var examples: String?
    @Option(help: "Feature snapshot (opaque here).") var snapshot: String?
    @Option(help: "Backtest report (report.json of tickbus backtest; the backtest gate reads it).") var backtest:
        String?
    @Option(help: "Drift baseline (tickbus drift baseline; must be of this feature definition).") var baseline: String?
    @Option(help: "A tag k=v (part of the version id); repeatable.") var tag: [String] = []

    func run() throws {
        var request = Registry.AddRequest(name: name, model: model, features: features)
        for (role, path) in [
            ("examples", examples), ("snapshot", snapshot), ("backtest", backtest), ("baseline", baseline),
        ] {
            if let path { request.objects[role] = path }
        }
        request.objectChecks["baseline"] = DriftBaseline.registryCheck
        for t in tag {
            guard let eq = t.firstIndex(of: "="), eq != t.startIndex else {
                throw ValidationError("--tag needs k=v, found '\(t)'")
            }
            let key = String(t[..<eq])
            guard request.tags[key] == nil else { throw ValidationError("--tag \(key) given twice") }
            request.tags[key] = String(t[t.index(after: eq)...])
        }
        let root = options.registry
        let id = try registryCall { () throws(RegistryError) -> String in try Registry.create(root: root).add(request) }
        print(options.json ? CanonicalJSON.object(["id": .string(id), "name": .string(name)]).text : id)
    }
}

struct RegistryVerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Re-hash every object, manifest and alias log; name what is altered or missing."
    )

    @OptionGroup var options: RegistryOptions

    func run() throws {
        let registry = try options.open()
        let problems = try registryCall { () throws(RegistryError) -> [Registry.Problem] in try registry.verify() }
        if options.json {
            let list = problems.map { CanonicalJSON.object(["what": .string($0.what), "reason": .string($0.reason)]) }
            print(
                CanonicalJSON.object(["ok": .string(problems.isEmpty ? "yes" : "no"), "problems": .array(list)]).text
            )
        } else {
            for p in problems { print("problem \(p)") }
            print(
                problems.isEmpty
                    ? "registry \(options.registry): ok" : "registry \(options.registry): \(problems.count) problem(s)"
            )
        }
        flushOut()
        if !problems.isEmpty {
            throw RuntimeFailure("verify found \(problems.count) problem(s) in \(options.registry)")
        }
    }
}
