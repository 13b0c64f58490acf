import ArgumentParser
import ControlWire
import TickBusCore

// The client's commands: each builds a `Submission` and hands it to `runControlClient`.

struct ControlLoadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load",
        abstract: "Load a version into a role (live needs the champion alias, canary the canary alias)."
    )
    @OptionGroup var bus: ControlBusOption
    @OptionGroup var options: ControlClientOptions
    @Argument(help: "Version: full id, a unique prefix (12+ hex digits) or NAME@ALIAS.") var version: String
    @Option(help: "live, shadow or canary.") var role: String

    func run() throws {
        guard let r = ModelRole(name: role) else { throw ValidationError("--role must be live, shadow or canary") }
        try runControlClient(bus, options) {
            Submission(verb: .load, role: r, reference: version, issuer: "", reason: $0)
        }
    }
}

struct ControlCanaryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "canary",
        abstract: "Route PERCENT % of instruments (by fnv1a64 of the instrument id) to the canary."
    )
    @OptionGroup var bus: ControlBusOption
    @OptionGroup var options: ControlClientOptions
    @Argument(help: "0…100.") var percent: UInt8

    func validate() throws { guard percent <= 100 else { throw ValidationError("PERCENT must be 0…100") } }

    func run() throws {
        try runControlClient(bus, options) { Submission(verb: .canary, percent: percent, issuer: "", reason: $0) }
    }
}

struct ControlRollbackCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollback",
        abstract: "Load live the champion alias's previous version, or the version named."
    )
    @OptionGroup var bus: ControlBusOption
    @OptionGroup var options: ControlClientOptions
    @Argument(help: "Version (default: the previous version of the champion alias).") var version: String?

    func run() throws {
        try runControlClient(bus, options) {
            Submission(verb: .rollback, reference: version ?? "", issuer: "", reason: $0)
        }
    }
}

/// promote, demote, pause, resume: a verb and nothing else.
protocol ControlPlainVerb: ParsableCommand {
    static var verb: ControlVerb { get }
    var bus: ControlBusOption { get }
    var options: ControlClientOptions { get }
}

extension ControlPlainVerb {
    func run() throws { try runControlClient(bus, options) { Submission(verb: Self.verb, issuer: "", reason: $0) } }
}

struct ControlPromoteCommand: ControlPlainVerb {
    static let configuration = CommandConfiguration(commandName: "promote", abstract: "The canary becomes live.")
    static let verb = ControlVerb.promote
    @OptionGroup var bus: ControlBusOption
    @OptionGroup var options: ControlClientOptions
}

struct ControlDemoteCommand: ControlPlainVerb {
    static let configuration = CommandConfiguration(
        commandName: "demote",
        abstract: "The live version becomes shadow; signals stay flat until a version is loaded live."
    )
    static let verb = ControlVerb.demote
    @OptionGroup var bus: ControlBusOption
    @OptionGroup var options: ControlClientOptions
}

struct ControlPauseCommand: ControlPlainVerb {
    static let configuration = CommandConfiguration(commandName: "pause", abstract: "Signals stay flat.")
    static let verb = ControlVerb.pause
    @OptionGroup var bus: ControlBusOption
    @OptionGroup var options: ControlClientOptions
}

struct ControlResumeCommand: ControlPlainVerb {
    static let configuration = CommandConfiguration(
        commandName: "resume",
        abstract: "Signals follow the acting model again."
    )
    static let verb = ControlVerb.resume
    @OptionGroup var bus: ControlBusOption
    @OptionGroup var options: ControlClientOptions
}
