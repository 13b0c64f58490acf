import ArgumentParser
import Registry

struct RegistryAliasCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alias",
        abstract: "Move aliases.",
        subcommands: [RegistryAliasSetCommand.self]
    )
}

struct RegistryAliasSetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set",
        abstract: "Move NAME@ALIAS to a version through the policy's gates; a refusal names every failing gate."
    )

    @OptionGroup var options: RegistryOptions
    @Argument(help: "NAME@ALIAS.") var alias: String
    @Argument(help: "Version id or a unique prefix (12+ hex digits).") var version: String
    @Option(help: "Why the alias moves (recorded in the log).") var reason: String

    func run() throws {
        let registry = try options.open()
        let (a, v, r) = (alias, version, reason)
        let entry: AliasEntry
        do { entry = try registry.setAlias(a, to: v, reason: r) } catch {
            if options.json, case .refused(let al, let ver, let failures) = error {
                let list = failures.map {
                    CanonicalJSON.object(["gate": .string($0.gate), "detail": .string($0.detail)])
                }
                print(
                    CanonicalJSON.object([
                        "refused": .string("yes"), "alias": .string(al), "version": .string(ver),
                        "failures": .array(list),
                    ]).text
                )
                flushOut()
            }
            throw RuntimeFailure(error)
        }
        print(options.json ? entry.reportJSON.text : entry.reportText)
    }
}

struct RegistryKeygenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Make an Ed25519 key pair: the private key to --out (mode 0600); prints the public key."
    )

    @OptionGroup var options: RegistryOptions
    @Option(help: "File for the private key (must not exist).") var out: String

    func run() throws {
        let path = out
        let publicKey = try registryCall { () throws(RegistryError) -> String in try Registry.keygen(out: path) }
        print(
            options.json
                ? CanonicalJSON.object(["public_key": .string(publicKey), "key_file": .string(path)]).text : publicKey
        )
    }
}

struct RegistryApproveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "approve",
        abstract: "Sign (version, NAME@ALIAS, policy) as a role; prints the approval's object hash."
    )

    @OptionGroup var options: RegistryOptions
    @Argument(help: "Version id or a unique prefix (12+ hex digits).") var version: String
    @Option(help: "NAME@ALIAS the approval is for.") var alias: String
    @Option(name: .customLong("as"), help: "Role (as the policy's [keys] table names it).") var role: String
    @Option(help: "Private key file (from keygen).") var key: String

    func run() throws {
        let registry = try options.open()
        let (v, a, r, k) = (version, alias, role, key)
        let hash = try registryCall { () throws(RegistryError) -> String in
            try registry.approve(v, alias: a, role: r, keyPath: k)
        }
        print(
            options.json
                ? CanonicalJSON.object(["approval": .string(hash), "role": .string(r), "alias": .string(a)]).text : hash
        )
    }
}
