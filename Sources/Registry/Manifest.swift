/// A version's manifest: only deterministic content, so identical inputs give the same bytes and
/// the same id (the sha256 of the canonical JSON). Schema in Docs/REGISTRY.md.
public struct Manifest: Equatable, Sendable {
    /// The manifest format this source writes and reads.
    public static let formatVersion = 1
    /// Referenced files besides the model and the definition, by role.
    public static let objectRoles = ["examples", "snapshot", "backtest", "baseline"]

    public var name: String
    /// `Model.kindName`: lightgbm, xgboost, linear, onnx-mlp.
    public var modelFormat: String
    /// The model's runtime id (FNV-1a 64 of the model file), as decision records carry it.
    public var runtimeId: UInt64
    /// sha256 of the model file.
    public var model: String
    /// The feature definition's names, in order.
    public var features: [String]
    /// sha256 of the feature definition (TOML).
    public var definition: String
    /// sha256 of each further referenced object, by role (`objectRoles`).
    public var objects: [String: String]
    /// `--tag k=v`: part of the id (tags are inputs, not annotations; a new tag is a new version).
    public var tags: [String: String]

    public init(
        name: String,
        modelFormat: String,
        runtimeId: UInt64,
        model: String,
        features: [String],
        definition: String,
        objects: [String: String],
        tags: [String: String]
    ) {
        self.name = name
        self.modelFormat = modelFormat
        self.runtimeId = runtimeId
        self.model = model
        self.features = features
        self.definition = definition
        self.objects = objects
        self.tags = tags
    }

    /// The runtime id as 16 lowercase hex digits.
    public var runtimeIdHex: String {
        let h = String(runtimeId, radix: 16)
        return String(repeating: "0", count: 16 - h.count) + h
    }

    /// The manifest as a JSON value.
    public var json: CanonicalJSON {
        .object([
            "format": .integer(Self.formatVersion),
            "name": .string(name),
            "model": .object([
                "format": .string(modelFormat), "runtime_id": .string(runtimeIdHex), "sha256": .string(model),
            ]),
            "features": .object(["names": .array(features.map { .string($0) }), "sha256": .string(definition)]),
            "objects": .object(objects.mapValues { .string($0) }),
            "tags": .object(tags.mapValues { .string($0) }),
        ])
    }

    /// The canonical bytes whose sha256 is the version id.
    public var bytes: [UInt8] { json.bytes }

    /// Reads a stored manifest, refusing anything that this source would not have written.
    /// - Parameter what: the file, for messages.
    public init(bytes: [UInt8], what: String) throws(RegistryError) {
        let j = try CanonicalJSON.parseCanonical(bytes, what: what)
        func field(_ v: CanonicalJSON?, _ name: String) throws(RegistryError) -> CanonicalJSON {
            guard let v else { throw .malformed(what: what, reason: "missing field '\(name)'") }
            return v
        }
        func str(_ v: CanonicalJSON?, _ name: String) throws(RegistryError) -> String {
            guard let s = try field(v, name).string else {
                throw .malformed(what: what, reason: "'\(name)' is not a string")
            }
            return s
        }
        func digest(_ v: CanonicalJSON?, _ name: String) throws(RegistryError) -> String {
            let s = try str(v, name)
            guard Digest.isDigest(s) else {
                throw .malformed(what: what, reason: "'\(name)' is not 64 lowercase hex digits: '\(s)'")
            }
            return s
        }
        guard let format = try field(j["format"], "format").integer, format == Self.formatVersion else {
            throw .malformed(
                what: what,
                reason: "format is \(j["format"].map(\.text) ?? "?"), this tickbus reads \(Self.formatVersion)"
            )
        }
        guard let keys = j.object?.keys, Set(keys) == ["format", "name", "model", "features", "objects", "tags"] else {
            throw .malformed(
                what: what,
                reason:
                    "fields are \(j.object?.keys.sorted() ?? []), expected features, format, model, name, objects, tags"
            )
        }
        let model = try field(j["model"], "model")
        let feats = try field(j["features"], "features")
        // Exactly the members the writer writes: anything more would be content outside `json`,
        // in a file whose hash is still the id.
        for (name, value, members) in [
            ("model", model, ["format", "runtime_id", "sha256"]), ("features", feats, ["names", "sha256"]),
        ] {
            guard let keys = value.object?.keys, Set(keys) == Set(members) else {
                throw .malformed(
                    what: what,
                    reason:
                        "'\(name)' has members \(value.object?.keys.sorted() ?? []), expected \(members.joined(separator: ", "))"
                )
            }
        }
        let runtime = try str(model["runtime_id"], "model.runtime_id")
        // Lowercase hex only, as `runtimeIdHex` writes it (UInt64(_:radix:) would take "+" and capitals).
        guard runtime.utf8.count == 16, runtime.utf8.allSatisfy(Digest.isHex), let rid = UInt64(runtime, radix: 16)
        else {
            throw .malformed(what: what, reason: "'model.runtime_id' is not 16 lowercase hex digits: '\(runtime)'")
        }
        guard let names = try field(feats["names"], "features.names").array else {
            throw .malformed(what: what, reason: "'features.names' is not an array")
        }
        var featureNames: [String] = []
        for n in names {
            guard let s = n.string else { throw .malformed(what: what, reason: "'features.names' holds a non-string") }
            featureNames.append(s)
        }
        guard let objs = try field(j["objects"], "objects").object, let tagValues = try field(j["tags"], "tags").object
        else {
            throw .malformed(what: what, reason: "'objects' and 'tags' must be objects")
        }
        var objects: [String: String] = [:]
        var tags: [String: String] = [:]
        for (role, v) in objs {
            guard Self.objectRoles.contains(role) else {
                throw .malformed(what: what, reason: "unknown object role '\(role)'")
            }
            objects[role] = try digest(v, "objects.\(role)")
        }
        for (k, v) in tagValues { tags[k] = try str(v, "tags.\(k)") }
        self.init(
            name: try str(j["name"], "name"),
            modelFormat: try str(model["format"], "model.format"),
            runtimeId: rid,
            model: try digest(model["sha256"], "model.sha256"),
            features: featureNames,
            definition: try digest(feats["sha256"], "features.sha256"),
            objects: objects,
            tags: tags
        )
    }

    /// Every object this manifest references, by role (`model`, `definition`, then `objects`).
    public var references: [(role: String, hash: String)] {
        [("model", model), ("definition", definition)] + objects.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }
}
