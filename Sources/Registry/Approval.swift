import Crypto

/// A sign-off: an Ed25519 signature over (version id, NAME@ALIAS, policy hash) by a key the
/// policy lists for a role. Stored as an object; `approvals/<version id>/<object hash>` indexes it.
public struct Approval: Equatable, Sendable {
    public var version: String
    public var alias: String
    public var policy: String
    public var role: String
    public var publicKey: String
    public var signature: String

    /// The signed bytes: a domain label, then the three bound values, one per line.
    public static func message(version: String, alias: String, policy: String) -> [UInt8] {
        Array("tickbus-registry-approval-v1\n\(version)\n\(alias)\n\(policy)\n".utf8)
    }

    /// Signs with a private key (32 bytes, hex).
    public static func sign(
        version: String,
        alias: String,
        policy: String,
        role: String,
        privateKeyHex: String,
        keyPath: String
    )
        throws(RegistryError) -> Approval
    {
        guard let raw = Hex.decode(privateKeyHex), raw.count == 32 else {
            throw .key(path: keyPath, reason: "not 64 hex digits of an Ed25519 private key")
        }
        let key: Curve25519.Signing.PrivateKey
        let sig: [UInt8]
        do {
            key = try Curve25519.Signing.PrivateKey(rawRepresentation: raw)
            sig = Array(try key.signature(for: message(version: version, alias: alias, policy: policy)))
        } catch { throw .key(path: keyPath, reason: "cannot sign: \(error)") }
        return Approval(
            version: version,
            alias: alias,
            policy: policy,
            role: role,
            publicKey: Hex.encode(Array(key.publicKey.rawRepresentation)),
            signature: Hex.encode(sig)
        )
    }

    /// True when the signature verifies with `publicKey` over this approval's own fields.
    public var signatureValid: Bool {
        guard let pk = Hex.decode(publicKey), let sig = Hex.decode(signature),
            let key = try? Curve25519.Signing.PublicKey(rawRepresentation: pk)
        else { return false }
        return key.isValidSignature(sig, for: Self.message(version: version, alias: alias, policy: policy))
    }

    /// Why this approval does not count for `role` on (version, alias, policy), or nil if it does.
    public func problem(version: String, alias: String, policy: Policy, role: String) -> String? {
        if self.version != version {
            return "signed for version \(self.version.prefix(12)), not \(version.prefix(12)) (copied)"
        }
        if self.alias != alias { return "signed for \(self.alias), not \(alias) (copied)" }
        if self.policy != policy.hash {
            return "signed under policy \(self.policy.prefix(12)), the policy is now \(policy.hash.prefix(12))"
        }
        if self.role != role { return "role \(self.role), not \(role)" }
        if !(policy.keys[role] ?? []).contains(publicKey) {
            return "key \(publicKey.prefix(16))… is not listed for role \(role)"
        }
        if !signatureValid { return "signature does not verify (forged or altered)" }
        return nil
    }

    var json: CanonicalJSON {
        .object([
            "kind": .string("approval"), "version": .string(version), "alias": .string(alias),
            "policy": .string(policy),
            "role": .string(role), "public_key": .string(publicKey), "signature": .string(signature),
        ])
    }

    /// The object's bytes.
    public var bytes: [UInt8] { json.bytes }

    public init(version: String, alias: String, policy: String, role: String, publicKey: String, signature: String) {
        (self.version, self.alias, self.policy, self.role, self.publicKey, self.signature) = (
            version, alias, policy, role, publicKey, signature
        )
    }

    public init(bytes: [UInt8], what: String) throws(RegistryError) {
        let j = try CanonicalJSON.parseCanonical(bytes, what: what)
        func s(_ k: String) throws(RegistryError) -> String {
            guard let v = j[k]?.string else { throw .malformed(what: what, reason: "approval has no string '\(k)'") }
            return v
        }
        guard try s("kind") == "approval" else { throw .malformed(what: what, reason: "not an approval object") }
        self.init(
            version: try s("version"),
            alias: try s("alias"),
            policy: try s("policy"),
            role: try s("role"),
            publicKey: try s("public_key"),
            signature: try s("signature")
        )
    }
}

/// Lowercase hex.
enum Hex {
    static func encode(_ b: [UInt8]) -> String { b.map(ObjectStore.hexByte).joined() }
    static func decode(_ s: String) -> [UInt8]? {
        let u = Array(s.utf8)
        guard u.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        for i in stride(from: 0, to: u.count, by: 2) {
            guard let v = UInt8(String(decoding: u[i..<i + 2], as: UTF8.self), radix: 16) else { return nil }
            out.append(v)
        }
        return out
    }
}

extension Registry {
    /// Makes a key pair: writes the private key (hex, mode 0600) to `out`; returns the public key (hex).
    public static func keygen(out: String) throws(RegistryError) -> String {
        guard !FileIO.exists(out) else { throw .key(path: out, reason: "exists; refusing to overwrite a key") }
        let key = Curve25519.Signing.PrivateKey()
        try FileIO.writeAtomically(Array((Hex.encode(Array(key.rawRepresentation)) + "\n").utf8), to: out, mode: 0o600)
        return Hex.encode(Array(key.publicKey.rawRepresentation))
    }

    /// Signs (version, NAME@ALIAS, current policy) as `role` with the key in `keyPath`, stores the
    /// approval and indexes it under the version; returns the approval object's hash.
    public func approve(
        _ reference: String,
        alias: String,
        role: String,
        keyPath: String
    ) throws(RegistryError) -> String {
        let v = try resolve(reference)
        let (name, _) = try Self.splitAlias(alias)
        guard name == v.manifest.name else {
            throw .invalidArgument("version \(v.id.prefix(12)) is '\(v.manifest.name)', not '\(name)'")
        }
        let policy = try policy()
        let text = String(decoding: try FileIO.read(keyPath), as: UTF8.self).trimmingSpaces.replacingNewlines
        let approval = try Approval.sign(
            version: v.id,
            alias: alias,
            policy: policy.hash,
            role: role,
            privateKeyHex: text,
            keyPath: keyPath
        )
        guard (policy.keys[role] ?? []).contains(approval.publicKey) else {
            throw .key(
                path: keyPath,
                reason: "its public key \(approval.publicKey) is not listed for role '\(role)' in the policy"
            )
        }
        return try store(approval)
    }

    /// Stores an approval object and indexes it under its version.
    public func store(_ approval: Approval) throws(RegistryError) -> String {
        let hex = try objects.put(approval.bytes)
        let dir = approvalDirectory + "/" + approval.version
        try FileIO.makeDirectory(dir)
        if !FileIO.exists(dir + "/" + hex) { try FileIO.writeAtomically([], to: dir + "/" + hex, mode: 0o444) }
        return hex
    }

    /// Approvals indexed under a version (object hash and content; unreadable ones skipped by the
    /// gate and reported by `verify`).
    func approvals(of version: String) throws(RegistryError) -> [(hash: String, approval: Approval?)] {
        try FileIO.list(approvalDirectory + "/" + version).filter(Digest.isDigest).map { h in
            (h, (try? objects.get(h)).flatMap { try? Approval(bytes: $0, what: h) })
        }
    }
}

extension String {
    var replacingNewlines: String { filter { $0 != "\n" && $0 != "\r" } }
}
