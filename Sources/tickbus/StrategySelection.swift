import ArgumentParser
import Registry
import Strategy

/// Where `strategy` and `replay --verify-decisions` take their models from: files
/// (`--features F --model M [--shadow M2]`) or registry versions
/// (`--registry DIR --live ID [--shadow ID]`). Exactly one of the two; `--shadow` is a file in the
/// first and a version in the second.
struct StrategySelection {
    var features: String?
    var model: String?
    var shadow: String?
    var registry: String?
    var live: String?

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
        }
    }

    /// Loads the strategy; a registry version's objects are re-hashed first, so a tampered one is
    /// refused here, before any ring exists. `log` gets the versions loaded.
    func load(log: (String) -> Void) throws -> LoadedStrategy {
        if let registry, let live {
            let loaded: Registry.LoadedVersions
            do { loaded = try Registry(root: registry).loadStrategy(live: live, shadow: shadow) } catch {
                throw RuntimeFailure(error)
            }
            log(
                "registry \(registry): live \(loaded.live.manifest.name) \(loaded.live.id)"
                    + (loaded.shadow.map { ", shadow \($0.manifest.name) \($0.id)" } ?? "")
            )
            return loaded.strategy
        }
        do { return try LoadedStrategy.load(features: features!, model: model!, shadow: shadow) } catch {
            throw RuntimeFailure(error)
        }
    }
}
