extension Registry {
    /// One thing `verify` found wrong.
    public struct Problem: Equatable, Sendable, CustomStringConvertible {
        /// The file or entry concerned.
        public var what: String
        public var reason: String
        public var description: String { "\(what): \(reason)" }
    }

    /// Re-hashes every object and manifest, re-reads every alias log (chain, head, referenced
    /// versions and objects) and re-checks every approval's signature. Empty when all is intact.
    public func verify() throws(RegistryError) -> [Problem] {
        var problems: [Problem] = []
        func note(_ what: String, _ reason: String) { problems.append(Problem(what: what, reason: reason)) }
        let store = objects
        let names = try store.names()
        let present = Set(names)
        for name in names {
            guard Digest.isDigest(name) else {
                note(store.path(name), "not a sha256 name (stray file)")
                continue
            }
            do { _ = try store.get(name) } catch { note(store.path(name), "\(error)") }
        }
        func need(_ hash: String, _ role: String, _ by: String) {
            if !present.contains(hash) { note(by, "\(role) object \(hash) is missing") }
        }
        let ids = try FileIO.list(manifestDirectory)
        for id in ids {
            let path = manifestDirectory + "/" + id
            guard Digest.isDigest(id) else {
                note(path, "not a sha256 name (stray file)")
                continue
            }
            do {
                let v = try version(id: id)
                for r in v.manifest.references { need(r.hash, r.role, path) }
            } catch { note(path, "\(error)") }
        }
        let known = Set(ids)
        var logged = Set<String>()
        for file in try FileIO.list(aliasDirectory) where file.hasSuffix(".log") || file.hasSuffix(".head") {
            let base = file.hasSuffix(".log") ? String(file.dropLast(4)) : String(file.dropLast(5))
            guard !logged.contains(base) else { continue }
            logged.insert(base)
            let what = aliasDirectory + "/" + base + ".log"
            guard FileIO.exists(what) else {
                note(what, "missing, but its head file exists (log deleted)")
                continue
            }
            let entries: [AliasEntry]
            do {
                let (name, alias) = try Self.splitAlias(base)
                entries = try aliasLog(name: name, alias: alias).entries()
            } catch {
                note(what, "\(error)")
                continue
            }
            for e in entries {
                let at = "\(what):\(e.seq + 1)"
                if !known.contains(e.to) { note(at, "version \(e.to) is missing") }
                need(e.policy, "policy", at)
                if !e.evidence.isEmpty { need(e.evidence, "gate results", at) }
                guard let policyBytes = try? store.get(e.policy),
                    let policy = try? Policy(bytes: policyBytes, what: "policy \(e.policy)")
                else {
                    if present.contains(e.policy) { note(at, "policy object \(e.policy) is unreadable") }
                    continue
                }
                for a in e.approvals {
                    need(a, "approval", at)
                    guard let bytes = try? store.get(a) else { continue }
                    do {
                        let approval = try Approval(bytes: bytes, what: "approval \(a)")
                        if let p = approval.problem(
                            version: e.to,
                            alias: "\(e.name)@\(e.alias)",
                            policy: policy,
                            role: approval.role
                        ) {
                            note(at, "approval \(a.prefix(12)): \(p)")
                        }
                    } catch { note(at, "\(error)") }
                }
            }
        }
        for version in try FileIO.list(approvalDirectory) {
            for hash in try FileIO.list(approvalDirectory + "/" + version) {
                let what = approvalDirectory + "/" + version + "/" + hash
                guard Digest.isDigest(hash), present.contains(hash), let bytes = try? store.get(hash) else {
                    note(what, "indexes a missing or altered approval object")
                    continue
                }
                do {
                    let a = try Approval(bytes: bytes, what: what)
                    if a.version != version {
                        note(
                            what,
                            "signed for version \(a.version.prefix(12)), indexed under \(version.prefix(12)) (copied)"
                        )
                    }
                    if !a.signatureValid { note(what, "signature does not verify (forged or altered)") }
                } catch { note(what, "\(error)") }
            }
        }
        return problems
    }
}
