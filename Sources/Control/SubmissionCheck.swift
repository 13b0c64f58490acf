import ControlWire
import Registry
import TickBusCore

/// The registry's say on a submission, before anything is published: which version a `load` or
/// `rollback` means, that the version verifies, and that a live or canary load names a version
/// holding that role's alias now (aliases move only through the policy's gates).
public struct SubmissionCheck: Sendable {
    /// The registry directory (opened for every submission: it may appear, go, or change while
    /// the server runs).
    public let registryRoot: String

    /// The alias a version must hold now to be loaded into a role; shadow needs none.
    public static func alias(for role: ModelRole) -> String? {
        switch role {
        case .live: return "champion"
        case .canary: return "canary"
        case .shadow: return nil
        }
    }

    public init(registryRoot: String) { self.registryRoot = registryRoot }

    /// The version a submission resolved to.
    public struct Resolved: Sendable, Equatable {
        public var id: String
        public var name: String
        public var runtimeId: UInt64
    }

    /// Checks a decoded submission against the registry.
    /// - Returns: the version it names (nil for verbs without one).
    /// - Throws: `ControlRefusal` saying why; the submission must then not be published.
    public func check(_ s: Submission) throws(ControlRefusal) -> Resolved? {
        switch s.verb {
        case .load:
            guard let role = s.role else { throw .invalid("a load needs a role") }
            let registry = try open()
            let v = try verified(s.reference, in: registry)
            if let alias = Self.alias(for: role) {
                try requireAlias(alias, holds: v, role: role, in: registry)
            }
            return v
        case .rollback:
            let registry = try open()
            if !s.reference.isEmpty { return try verified(s.reference, in: registry) }
            return try verified(try previousChampion(in: registry), in: registry)
        case .canary, .promote, .demote, .pause, .resume:
            return nil
        }
    }

    func open() throws(ControlRefusal) -> Registry {
        do { return try Registry(root: registryRoot) } catch { throw .registry(error) }
    }

    /// Resolves a reference and re-hashes the version's manifest, model and definition.
    func verified(_ reference: String, in registry: Registry) throws(ControlRefusal) -> Resolved {
        do {
            let (v, _, _) = try registry.artifact(reference)
            return Resolved(id: v.id, name: v.manifest.name, runtimeId: v.manifest.runtimeId)
        } catch { throw .registry(error) }
    }

    func requireAlias(_ alias: String, holds v: Resolved, role: ModelRole, in registry: Registry) throws(ControlRefusal)
    {
        let policy: Policy
        do { policy = try registry.policy() } catch { throw .registry(error) }
        // An alias the policy does not gate moves freely: holding it would prove nothing.
        guard policy.aliases[alias] != nil else {
            throw .policy("the policy does not gate '\(alias)', so a \(role) load cannot be checked against it")
        }
        let entries: [AliasEntry]
        do { entries = try registry.aliasLog(name: v.name, alias: alias).entries() } catch { throw .registry(error) }
        guard let now = entries.last else {
            throw .alias("\(v.name)@\(alias) has never been set; a \(role) load needs the version holding it")
        }
        guard now.to == v.id else {
            throw .alias(
                "version \(v.id.prefix(12)) does not hold \(v.name)@\(alias) (it is \(now.to.prefix(12))); "
                    + "a \(role) load needs the version holding it (move the alias through the gates first)"
            )
        }
    }

    /// The `champion` alias's previous version: the `to` of the entry before the last (the last
    /// one that passed the gates before the current one). With no name given, the one model with
    /// a `champion` log.
    func previousChampion(in registry: Registry) throws(ControlRefusal) -> String {
        let names: [String]
        do { names = try registry.aliasNames() } catch { throw .registry(error) }
        let champions = names.filter { $0.hasSuffix("@champion") }.map { String($0.dropLast("@champion".count)) }
        guard champions.count == 1, let name = champions.first else {
            if champions.isEmpty { throw .alias("no champion alias has ever been set: nothing to roll back to") }
            throw .alias(
                "\(champions.count) models have a champion alias (\(champions.sorted().joined(separator: ", "))): "
                    + "name the version to roll back to (rollback ID)"
            )
        }
        let entries: [AliasEntry]
        do { entries = try registry.aliasLog(name: name, alias: "champion").entries() } catch { throw .registry(error) }
        guard entries.count >= 2 else {
            throw .alias("\(name)@champion has moved only once: there is no previous version to roll back to")
        }
        return entries[entries.count - 2].to
    }
}

/// Why the server refused a submission (it was not published).
public enum ControlRefusal: Error, CustomStringConvertible {
    /// The frame did not decode.
    case malformed(SubmissionError)
    /// The registry refused: missing directory, unknown or ambiguous version, a tampered object.
    case registry(RegistryError)
    /// The version does not hold the alias its role needs (or the alias has no history).
    case alias(String)
    /// The policy cannot vouch for the role.
    case policy(String)
    /// Inconsistent fields, or a connection that failed while sending.
    case invalid(String)
    /// The connection ended before sending a byte (not counted: a probe, not a submission).
    case empty

    public var description: String {
        switch self {
        case .malformed(let e): return "\(e)"
        case .registry(let e): return "\(e)"
        case .alias(let s), .policy(let s), .invalid(let s): return s
        case .empty: return "the connection sent nothing"
        }
    }
}
