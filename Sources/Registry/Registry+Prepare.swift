import Models
import Strategy
import TickBusCore

extension Registry {
    /// A version read, re-hashed (`artifact`: a tampered object is refused) and compiled, ready
    /// for a strategy's role: what a `load` or `rollback` command names, or `--preload`.
    /// - Parameter reference: a full id, a unique prefix of at least 12 hex digits, or NAME@ALIAS.
    /// - Throws: `RegistryError` naming the version, object or file concerned.
    public func prepare(_ reference: String) throws(RegistryError) -> PreparedVersion {
        let (v, bytes, _) = try artifact(reference)
        return try prepared(v, compile(bytes, of: v))
    }

    func prepared(_ v: Version, _ model: LoadedModel) throws(RegistryError) -> PreparedVersion {
        guard let digest = VersionDigest(hex: v.id) else {
            throw .malformed(what: manifestDirectory + "/" + v.id, reason: "version id is not 64 hex digits")
        }
        return PreparedVersion(
            version: digest,
            model: model,
            features: v.manifest.features,
            definition: v.manifest.definition,
            label: v.manifest.name
        )
    }

    /// The strategy's version loader over this registry: every version it prepares is re-hashed
    /// as it is read, so a strategy refuses a tampered version (`ControlRejection.unloadable`,
    /// with the registry's message).
    public var versionLoader: VersionLoader {
        { (digest: VersionDigest) throws(VersionFailure) -> PreparedVersion in
            do { return try self.prepare(digest.hex) } catch { throw VersionFailure(.unloadable, "\(error)") }
        }
    }
}
