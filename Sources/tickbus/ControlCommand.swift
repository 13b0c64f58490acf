import ArgumentParser
import Control
import ControlWire
import Foundation
import TickBusCore

/// `tickbus control …`: the control server and its client (Docs/CONTROL.md). Wiring only; the
/// work is in `Control`.
struct ControlCLICommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "control",
        abstract: "Send commands to strategies through the bus's control server, or run it (serve).",
        subcommands: [
            ControlServeCommand.self, ControlLoadCommand.self, ControlCanaryCommand.self, ControlPromoteCommand.self,
            ControlDemoteCommand.self, ControlRollbackCommand.self, ControlPauseCommand.self,
            ControlResumeCommand.self,
        ]
    )

    @OptionGroup var bus: ControlBusOption
    @OptionGroup var options: ControlClientOptions
}

/// `--bus`, of the server and of every client command. ArgumentParser gives an option before the
/// subcommand's name to the parent: a subcommand declaring the same group sees it too.
struct ControlBusOption: ParsableArguments {
    @Option(help: "Bus name.") var bus: String?
}

/// Options of every client command; they may stand before or after the command's name.
struct ControlClientOptions: ParsableArguments {
    @Option(help: "Strategy to address; the client then waits for its control record. Default: every strategy.")
    var strategy: String?
    @Option(help: "Why (required; recorded with the command).") var reason: String?
    @Option(help: "Who issues it (default $USER, else uid N).") var issuer: String?
    @Option(help: "Seconds to wait for the server and the strategy.") var timeout: Double = 10
    @Flag(help: "Print the server's reply and the control record as JSON lines.") var json = false

    /// The issuer given, or $USER, or "uid N".
    var resolvedIssuer: String {
        if let issuer { return issuer }
        if let user = ProcessInfo.processInfo.environment["USER"], !user.isEmpty { return user }
        return "uid \(getuid())"
    }
}

/// Exit statuses of the client (Docs/CONTROL.md).
enum ControlExit {
    /// The server refused the submission (nothing was published).
    static let refused: Int32 = 2
    /// The strategy rejected the command (its control record says why).
    static let rejected: Int32 = 3
    /// No control record within --timeout.
    static let timedOut: Int32 = 4
}

/// Submits one command and, with --strategy, waits for the strategy's control record.
func runControlClient(_ b: ControlBusOption, _ o: ControlClientOptions, _ make: (String) -> Submission) throws {
    guard let bus = b.bus else { throw ValidationError("--bus is required") }
    guard let reason = o.reason, !reason.trimmingCharacters(in: .whitespaces).isEmpty else {
        throw ValidationError("--reason is required: say why")
    }
    var s = make(reason)
    s.strategy = o.strategy ?? ""
    s.issuer = o.resolvedIssuer
    do { try s.validate() } catch { throw ValidationError("\(error)") }
    // Attached before submitting: the record cannot come before the reader is there.
    var waiter: ControlRecordWaiter? = nil
    if let strategy = o.strategy {
        do { waiter = try ControlRecordWaiter(bus: bus, strategy: strategy) } catch { throw RuntimeFailure(error) }
    }
    let reply: ControlReply
    do { reply = try ControlClient.submit(s, bus: bus, timeout: o.timeout) } catch { throw RuntimeFailure(error) }
    print(o.json ? reply.json.text : ControlReport.text(reply))
    flushOut()
    guard case .accepted(let id, _, _, _, _) = reply else {
        throw RuntimeFailure(ControlReport.refusal(reply), status: ControlExit.refused)
    }
    guard var w = waiter.take() else { return }
    let outcome: ControlOutcome
    do { outcome = try w.wait(for: id, timeout: o.timeout) } catch {
        let status = if case .timedOut = error { ControlExit.timedOut } else { ExitStatus.failed }
        throw RuntimeFailure(error, status: status)
    }
    print(o.json ? ControlReport.json(outcome).text : ControlReport.text(outcome, strategy: o.strategy ?? ""))
    flushOut()
    if !outcome.applied {
        throw RuntimeFailure(
            "strategy \(o.strategy ?? "") rejected command \(id): \(outcome.rejection?.description ?? "code \(outcome.rawRejection)") \(outcome.message)",
            status: ControlExit.rejected
        )
    }
}
