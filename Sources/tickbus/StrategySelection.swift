import ArgumentParser
import Models
import Registry
import Strategy
import TickBusCore

/// Where `strategy` and `replay --verify-decisions` take their models from: files
/// (`--features F --model M [--shadow M2] [--canary M3]`) or registry versions
/// (`--registry DIR --live ID [--shadow ID] [--canary ID] [--preload ID]…`). Exactly one of the
/// two; `--shadow` and `--canary` are files in the first and versions in the second.
struct StrategySelection {
    var features: String?
    var model: String?
    var shadow: String?
    var registry: String?
    var live: String?
    var canary: String? = nil
    var canaryPercent: UInt8 = 0
    var preload: [String] = []
    /// The execution file (paper trading), `--execution E.toml`.
    var execution: String? = nil

    /// Refuses a mixed or incomplete combination (a usage error).
    func validate() throws {
        if registry != nil || live != nil {
            guard features == nil, model == nil else {
                throw ValidationError(
                    "give either --features and --model (files) or --registry and --live (a registry version), not both"
                )
            }
            guard registry != nil else { throw ValidationError("--live needs --registry") }
            guard live != nil else { throw ValidationError("--registry needs --live") }
        } else {
            guard features != nil, model != nil else {
                throw ValidationError("needs --features and --model, or --registry and --live")
            }
            guard preload.isEmpty else { throw ValidationError("--preload needs --registry") }
        }
        guard canaryPercent <= 100 else { throw ValidationError("--canary-percent must be 0...100") }
        guard canaryPercent == 0 || canary != nil else { throw ValidationError("--canary-percent needs --canary") }
    }

    /// Loads the strategy; a registry version's objects are re-hashed first, so a tampered one is
    /// refused here, before any ring exists. `log` gets the versions loaded. With a registry, the
    /// strategy's version loader (for `load` and `rollback` commands) is built on it.
    func load(log: (String) -> Void) throws -> LoadedStrategy {
        var strategy: LoadedStrategy
        if let registry, let live {
            do {
                let r = try Registry(root: registry)
                let loaded = try r.loadStrategy(live: live, shadow: shadow)
                strategy = loaded.strategy
                if let canary { strategy.canaryVersion = try r.prepare(canary) }
                strategy.preload = try preload.map { (id: String) throws(RegistryError) in try r.prepare(id) }
                strategy.loader = r.versionLoader
                log(
                    "registry \(registry): live \(loaded.live.manifest.name) \(loaded.live.id)"
                        + (loaded.shadow.map { ", shadow \($0.manifest.name) \($0.id)" } ?? "")
                        + (strategy.canaryVersion.map { ", canary \($0.label) \($0.version.hex)" } ?? "")
                        + (preload.isEmpty ? "" : ", \(preload.count) preloaded")
                )
            } catch { throw RuntimeFailure(error) }
        } else {
            do { strategy = try LoadedStrategy.load(features: features!, model: model!, shadow: shadow) } catch {
                throw RuntimeFailure(error)
            }
            if let canary {
                do { strategy.canaryVersion = PreparedVersion(file: try Model.load(path: canary)) } catch {
                    throw RuntimeFailure(error)
                }
            }
        }
        strategy.canaryPercent = canaryPercent
        if let execution {
            do { strategy.execution = try ExecutionSettings.load(path: execution) } catch {
                throw RuntimeFailure(error)
            }
        }
        return strategy
    }
}
