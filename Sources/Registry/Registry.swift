import BacktestReport
import Features
import Foundation
import Models

/// A model registry directory (layout in Docs/REGISTRY.md): immutable versions, the alias logs,
/// the policy and the approvals. Not a hot module: it runs at the command line and at load time.
public struct Registry: Sendable {
    /// The registry's directory.
    public let root: String

    var objects: ObjectStore { ObjectStore(directory: root + "/objects/sha256") }
    var manifestDirectory: String { root + "/manifests/sha256" }
    var aliasDirectory: String { root + "/aliases" }
    var approvalDirectory: String { root + "/approvals" }

    /// Opens an existing registry.
    /// - Throws: `.noRegistry` when `root` does not exist; `.io` naming `root` and the errno when
    ///   it is not a directory or this user may not read it (a registry that cannot be listed
    ///   would otherwise read as empty).
    public init(root: String) throws(RegistryError) {
        var st = stat()
        guard stat(root, &st) == 0 else {
            let e = errno
            if e == ENOENT || e == ENOTDIR { throw .noRegistry(path: root) }
            throw .io(path: root, operation: "open registry", reason: FileIO.reason(errno: e))
        }
        guard st.st_mode & S_IFMT == S_IFDIR else {
            throw .io(path: root, operation: "open registry", reason: "not a directory")
        }
        guard faccessat(AT_FDCWD, root, R_OK | X_OK, AT_EACCESS) == 0 else {
            throw .io(path: root, operation: "read registry", reason: FileIO.reason(errno: errno))
        }
        self.root = root
    }

    /// Opens a registry, creating its directories first.
    public static func create(root: String) throws(RegistryError) -> Registry {
        for d in ["/objects/sha256", "/manifests/sha256", "/aliases", "/approvals"] {
            try FileIO.makeDirectory(root + d)
        }
        return try Registry(root: root)
    }

    /// What `add` stores.
    public struct AddRequest: Sendable {
        public var name: String
        public var model: String
        public var features: String
        /// Further files by role (`Manifest.objectRoles`): path.
        public var objects: [String: String] = [:]
        public var tags: [String: String] = [:]
        /// Checks of an object's bytes before it is stored, by role, given the feature definition
        /// file's bytes: a returned message refuses the add. For objects whose format lives in a
        /// target the registry cannot depend on (the drift baseline: `Drift` depends on `Registry`).
        public var objectChecks: [String: @Sendable (_ bytes: [UInt8], _ definition: [UInt8]) -> String?] = [:]
        public init(name: String, model: String, features: String) {
            self.name = name
            self.model = model
            self.features = features
        }
    }

    /// Stores a version's objects and manifest; returns the version id. Identical inputs give the
    /// same id (and store nothing new).
    public func add(_ r: AddRequest) throws(RegistryError) -> String {
        try Self.checkName(r.name, what: "--name")
        for k in r.tags.keys where k.isEmpty { throw .invalidArgument("--tag needs k=v with a non-empty key") }
        let modelBytes = try FileIO.read(r.model)
        let model: Model
        do { model = try Model.load(bytes: modelBytes) } catch { throw .model(path: r.model, error) }
        let definitionBytes = try FileIO.read(r.features)
        let definition: FeatureDefinition
        do { definition = try FeatureDefinition.parse(String(decoding: definitionBytes, as: UTF8.self)) } catch {
            throw .features(path: r.features, error)
        }
        var stored: [String: String] = [:]
        for (role, path) in r.objects {
            guard Manifest.objectRoles.contains(role) else { throw .invalidArgument("unknown object role \(role)") }
            let bytes = try FileIO.read(path)
            if role == "examples" { _ = try ExampleRows(bytes: bytes, what: path) }  // refuse a malformed file now, not at the gate
            if role == "backtest" {
                // Its error names the file and the key; RegistryError keeps no BacktestReport type
                // (the fuzz build compiles RegistryError without Foundation).
                do { _ = try BacktestReport.decode(bytes, what: path) } catch {
                    throw .malformed(what: "--backtest", reason: "\(error)")
                }
            }
            if let check = r.objectChecks[role], let why = check(bytes, definitionBytes) {
                throw .malformed(what: "--\(role) \(path)", reason: why)
            }
            stored[role] = try objects.put(bytes)
        }
        let manifest = Manifest(
            name: r.name,
            modelFormat: model.kindName,
            runtimeId: ModelFile.contentHash(modelBytes),
            model: try objects.put(modelBytes),
            features: definition.names,
            definition: try objects.put(definitionBytes),
            objects: stored,
            tags: r.tags
        )
        let id = manifest.id
        let path = manifestDirectory + "/" + id
        if !FileIO.exists(path) { try FileIO.writeAtomically(manifest.bytes, to: path, mode: 0o444) }
        return id
    }

    /// A stored version.
    public struct Version: Sendable {
        public let id: String
        public let manifest: Manifest
    }

    /// Every stored version id.
    public func versionIds() throws(RegistryError) -> [String] {
        try FileIO.list(manifestDirectory).filter(Digest.isDigest)
    }

    /// The version with this full id, its manifest checked against the id.
    public func version(id: String) throws(RegistryError) -> Version {
        let path = manifestDirectory + "/" + id
        guard FileIO.exists(path) else { throw .unknownVersion(id) }
        let bytes = try FileIO.read(path)
        guard ObjectStore.sha256(bytes) == id else {
            throw .malformed(what: path, reason: "manifest does not hash to its id (altered)")
        }
        return Version(id: id, manifest: try Manifest(bytes: bytes, what: path))
    }

    /// Every version, by id.
    public func versions() throws(RegistryError) -> [Version] {
        var out: [Version] = []
        for id in try versionIds() { out.append(try version(id: id)) }
        return out
    }

    /// Resolves a full id, a unique prefix of at least 12 hex digits, or NAME@ALIAS (now).
    public func resolve(_ reference: String) throws(RegistryError) -> Version {
        if reference.contains("@") {
            let (name, alias) = try Self.splitAlias(reference)
            guard let entry = try aliasLog(name: name, alias: alias).entries().last else {
                throw .noSuchAlias(reference)
            }
            return try version(id: entry.to)
        }
        let ref = reference.lowercased()
        guard ref.utf8.allSatisfy(Digest.isHex) else {
            throw .badReference(reference, reason: "not hex digits, nor NAME@ALIAS")
        }
        guard ref.utf8.count >= 12 else {
            throw .badReference(reference, reason: "a prefix needs at least 12 hex digits")
        }
        guard ref.utf8.count <= 64 else { throw .badReference(reference, reason: "longer than 64 hex digits") }
        let matches = try versionIds().filter { $0.hasPrefix(ref) }
        guard !matches.isEmpty else { throw .unknownVersion(reference) }
        guard matches.count == 1 else { throw .ambiguousPrefix(reference, matches: matches) }
        return try version(id: matches[0])
    }

    /// NAME@ALIAS split, each part checked.
    public static func splitAlias(_ s: String) throws(RegistryError) -> (name: String, alias: String) {
        let parts = s.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2 else { throw .badReference(s, reason: "expected NAME@ALIAS") }
        try checkName(String(parts[0]), what: "name in \(s)")
        try checkName(String(parts[1]), what: "alias in \(s)")
        return (String(parts[0]), String(parts[1]))
    }

    /// Names and aliases become file names: letters, digits, `.`, `_`, `-`; not starting with `.`.
    static func checkName(_ s: String, what: String) throws(RegistryError) {
        let ok =
            !s.isEmpty && s.utf8.count <= 128 && !s.hasPrefix(".")
            && s.utf8.allSatisfy {
                ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) || $0 == 46 || $0 == 95
                    || $0 == 45
            }
        guard ok else {
            throw .invalidArgument(
                "\(what) '\(s)' must be 1–128 letters, digits, '.', '_' or '-' (not starting with '.')"
            )
        }
    }
}

extension Registry {
    /// A version's files for a loader: the manifest, the model bytes and the definition bytes,
    /// each checked against its hash, so a tampered artifact is refused before it is compiled.
    public func artifact(
        _ reference: String
    ) throws(RegistryError) -> (version: Version, model: [UInt8], definition: [UInt8]) {
        let v = try resolve(reference)
        let model = try objects.get(v.manifest.model)
        guard ModelFile.contentHash(model) == v.manifest.runtimeId else {
            throw .malformed(
                what: objects.path(v.manifest.model),
                reason: "runtime id differs from the manifest's \(v.manifest.runtimeIdHex)"
            )
        }
        return (v, model, try objects.get(v.manifest.definition))
    }
}
