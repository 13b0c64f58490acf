import Features
import Models
import Strategy

extension Registry {
    /// A strategy loaded from registry versions, with the versions it came from.
    public struct LoadedVersions {
        /// The definition and models, ready for `makeLoop`.
        public let strategy: LoadedStrategy
        /// The live version (its stored definition is the strategy's).
        public let live: Version
        /// The shadow version, if one was given.
        public let shadow: Version?
    }

    /// Loads a strategy from versions (`resolve` references: a full id, a unique prefix of at
    /// least 12 hex digits, or NAME@ALIAS). Every object is re-hashed as it is read (`artifact`),
    /// so a tampered model or definition is refused before it is compiled. The feature definition
    /// is the live version's stored one; a shadow version must store the same definition, since
    /// it is evaluated on the live version's features.
    /// - Throws: `RegistryError` naming the version, object or file concerned.
    public func loadStrategy(live: String, shadow: String?) throws(RegistryError) -> LoadedVersions {
        let (liveVersion, liveModel, definitionBytes) = try artifact(live)
        let definitionPath = objects.path(liveVersion.manifest.definition)
        let definition: FeatureDefinition
        do { definition = try FeatureDefinition.parse(String(decoding: definitionBytes, as: UTF8.self)) } catch {
            throw .features(path: definitionPath, error)
        }
        // The manifest's names come from this definition at `add`; a mismatch is a forged manifest.
        guard definition.names == liveVersion.manifest.features else {
            throw .malformed(
                what: manifestDirectory + "/" + liveVersion.id,
                reason:
                    "feature names \(liveVersion.manifest.features) differ from its definition's \(definition.names)"
            )
        }
        let liveLoaded = try compile(liveModel, of: liveVersion)
        var shadowVersion: Version?
        var shadowLoaded: PreparedVersion?
        if let shadow {
            let (v, bytes, _) = try artifact(shadow)
            guard v.manifest.definition == liveVersion.manifest.definition else {
                throw .invalidArgument(
                    "shadow version \(v.id) stores feature definition \(v.manifest.definition) "
                        + "(\(v.manifest.features.joined(separator: ","))), not the live version \(liveVersion.id)'s "
                        + "\(liveVersion.manifest.definition) (\(liveVersion.manifest.features.joined(separator: ","))): "
                        + "a shadow is evaluated on the live version's features"
                )
            }
            shadowVersion = v
            shadowLoaded = try prepared(v, compile(bytes, of: v))
        }
        return LoadedVersions(
            strategy: LoadedStrategy(
                definition: definition,
                live: try prepared(liveVersion, liveLoaded),
                shadow: shadowLoaded,
                definitionDigest: liveVersion.manifest.definition
            ),
            live: liveVersion,
            shadow: shadowVersion
        )
    }

    /// Compiles a version's (already verified) model bytes; its id is the manifest's runtime id,
    /// which `artifact` checked against the bytes.
    func compile(_ bytes: [UInt8], of v: Version) throws(RegistryError) -> LoadedModel {
        let path = objects.path(v.manifest.model)
        do { return LoadedModel(model: try Model.load(bytes: bytes), id: v.manifest.runtimeId, path: path) } catch {
            throw .model(path: path, error)
        }
    }
}
