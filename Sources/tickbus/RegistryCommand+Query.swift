import ArgumentParser
import Registry

struct RegistryListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "Every version: id, name, model format, runtime id, aliases."
    )

    @OptionGroup var options: RegistryOptions

    func run() throws {
        let registry = try options.open()
        let (versions, aliases) = try registryCall { () throws(RegistryError) in
            (try registry.versions(), try registry.currentAliases())
        }
        for v in versions {
            let held = aliases.filter { $0.value == v.id }.map(\.key).sorted()
            if options.json {
                print(v.manifest.reportJSON(id: v.id, aliases: held).text)
            } else {
                print(
                    "\(v.id) name=\(v.manifest.name) format=\(v.manifest.modelFormat) runtime_id=\(v.manifest.runtimeIdHex)"
                        + " features=\(v.manifest.features.count) aliases=\(held.isEmpty ? "-" : held.joined(separator: ","))"
                )
            }
        }
    }
}

struct RegistryShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "One version's manifest (by id, prefix or NAME@ALIAS)."
    )

    @OptionGroup var options: RegistryOptions
    @Argument(help: "Version id, a unique prefix (12+ hex digits) or NAME@ALIAS.") var version: String

    func run() throws {
        let registry = try options.open()
        let ref = version
        let (v, aliases) = try registryCall { () throws(RegistryError) in
            (try registry.resolve(ref), try registry.currentAliases())
        }
        let held = aliases.filter { $0.value == v.id }.map(\.key).sorted()
        if options.json {
            print(v.manifest.reportJSON(id: v.id, aliases: held).text)
            return
        }
        let m = v.manifest
        print("id=\(v.id)")
        print("name=\(m.name)")
        print("model.format=\(m.modelFormat) model.runtime_id=\(m.runtimeIdHex) model.sha256=\(m.model)")
        print("features=\(m.features.joined(separator: ",")) features.sha256=\(m.definition)")
        for (role, hash) in m.objects.sorted(by: { $0.key < $1.key }) { print("\(role).sha256=\(hash)") }
        for (k, value) in m.tags.sorted(by: { $0.key < $1.key }) { print("tag.\(k)=\(value)") }
        print("aliases=\(held.isEmpty ? "-" : held.joined(separator: ","))")
    }
}

struct RegistryHistoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "The moves of NAME@ALIAS, or with --at the one in effect at TIME."
    )

    @OptionGroup var options: RegistryOptions
    @Argument(help: "NAME@ALIAS.") var alias: String
    @Option(help: "ISO 8601 UTC (2026-12-02T05:30:00Z, fractions allowed) or ns since the epoch.") var at: String?

    func run() throws {
        let registry = try options.open()
        let (ref, time) = (alias, at)
        let (entries, atNs) = try registryCall { () throws(RegistryError) -> ([AliasEntry], Int64?) in
            let (n, a) = try Registry.splitAlias(ref)
            let atNs = try time.map { (t: String) throws(RegistryError) -> Int64 in try Registry.parseTime(t) }
            let all = try registry.aliasLog(name: n, alias: a).entries()
            guard !all.isEmpty else { throw .noSuchAlias(ref) }
            return (all, atNs)
        }
        guard let atNs else {
            for e in entries { print(options.json ? e.reportJSON.text : e.reportText) }
            return
        }
        let inEffect = entries.last { $0.timeNs <= atNs }
        if options.json {
            var o: [String: CanonicalJSON] = [
                "alias": .string(ref), "at": .string(Registry.formatTime(atNs)), "at_ns": .string(String(atNs)),
            ]
            if let inEffect {
                o["entry"] = inEffect.reportJSON
                o["version"] = .string(inEffect.to)
            } else {
                o["version"] = .string("")
            }
            print(CanonicalJSON.object(o).text)
        } else if let inEffect {
            print(inEffect.reportText)
            print(inEffect.to)
        } else {
            print(
                "\(ref) was not set at \(Registry.formatTime(atNs)) (first move \(Registry.formatTime(entries[0].timeNs)))"
            )
        }
    }
}
