import Models
import TickBusCore

/// A model version read, verified and compiled, ready to be swapped into a role. Made by the
/// caller's `VersionLoader` (the CLI's is built on the registry, which re-hashes every object, so a
/// tampered version never gets here) or from model files (`PreparedVersion(file:)`).
public struct PreparedVersion {
    /// The registry version id; zero for a model loaded from a file.
    public let version: VersionDigest
    /// The compiled model and its 64-bit runtime id (what decision records carry).
    public let model: LoadedModel
    /// The feature names the version was trained on, in order (its manifest's); empty when unknown
    /// (a model file), in which case the model's own names or its feature count are checked.
    public let features: [String]
    /// The feature definition the version stores (its digest, as the registry names objects);
    /// nil when unknown. When both this and the running strategy's are known they must be equal.
    public let definition: String?
    /// A short name for logs (the registry version's name, or the file's path).
    public let label: String

    /// - Parameters:
    ///   - version: the registry version id (zero for a file).
    ///   - model: the compiled model with its runtime id.
    ///   - features: the manifest's feature names, in order (empty when unknown).
    ///   - definition: the digest of the feature definition the version stores, if known.
    ///   - label: a name for logs.
    public init(version: VersionDigest, model: LoadedModel, features: [String], definition: String?, label: String) {
        self.version = version
        self.model = model
        self.features = features
        self.definition = definition
        self.label = label
    }

    /// A model loaded from a file: no version id, no manifest.
    public init(file model: LoadedModel) {
        self.init(version: .zero, model: model, features: [], definition: nil, label: model.path)
    }
}

/// Why a version could not be prepared or used: the rejection code a control record carries and
/// the cause's own message (the registry's error: unknown id, altered object, …).
public struct VersionFailure: Error, Equatable, CustomStringConvertible {
    public var rejection: ControlRejection
    public var message: String
    public init(_ rejection: ControlRejection, _ message: String) {
        self.rejection = rejection
        self.message = message
    }
    public var description: String { "\(rejection): \(message)" }
}

/// Reads, verifies and compiles a version by id. Supplied by the caller: Strategy cannot import
/// the registry (the registry depends on Strategy). Called off the message path only (in the
/// control branch, between two market messages, or before the loop starts).
public typealias VersionLoader = (VersionDigest) throws(VersionFailure) -> PreparedVersion

extension PreparedVersion {
    /// Whether this version can run on a definition with feature names `names` (and, when known,
    /// definition digest `definition`): the manifest's names must equal them, and the model's
    /// feature count theirs (a model file without a manifest is checked by count alone; a model's
    /// own names are not compared, since trainers often write placeholders such as `Column_0`).
    /// - Returns: nil when it fits, else why not (`ControlRejection.featureMismatch`).
    public func mismatch(names: [String], definition running: String?) -> VersionFailure? {
        let what = version.isZero ? "model \(label)" : "version \(version.hex)"
        if !features.isEmpty, features != names {
            return VersionFailure(
                .featureMismatch,
                "\(what) has features \(features.joined(separator: ",")), the running definition \(names.joined(separator: ","))"
            )
        }
        if let definition, let running, definition != running {
            return VersionFailure(
                .featureMismatch,
                "\(what) stores feature definition \(definition), the running one is \(running)"
            )
        }
        do throws(ModelError) { try model.model.check(featureCount: names.count) } catch {
            return VersionFailure(.featureMismatch, "\(what): \(error)")
        }
        return nil
    }
}
