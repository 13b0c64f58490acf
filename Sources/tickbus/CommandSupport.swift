import ArgumentParser
import CTickBus
import Foundation
import TickBusCore

/// A failure at run time (a file, a ring, a socket, a model that does not load), as opposed to
/// wrong arguments: `TickBusCommand.main` prints it as `Error: MESSAGE` without the usage banner
/// (ArgumentParser shows usage for parse and validation errors only) and exits with `status`.
struct RuntimeFailure: Error, CustomStringConvertible {
    let message: String
    let status: Int32

    init(_ message: String, status: Int32 = ExitStatus.failed) {
        self.message = message
        self.status = status
    }

    init(_ error: some Error, status: Int32 = ExitStatus.failed) {
        self.init("\(error)", status: status)
    }

    var description: String { message }
}

/// Exit statuses the commands keep (tools outside the repository test them).
enum ExitStatus {
    /// A runtime failure that was reported as a validation error before errors were told apart:
    /// it exited 64 (ArgumentParser's EX_USAGE), and still does.
    static let failed: Int32 = 64
    /// A library error reported by ArgumentParser's catch-all (EXIT_FAILURE).
    static let error: Int32 = 1
}

/// Prints to standard error (diagnostics; stdout carries data and contract lines).
func warn(_ s: String) {
    let line = s + "\n"
    _ = line.utf8CString.withUnsafeBufferPointer { Glibc.write(2, $0.baseAddress, $0.count - 1) }
}

/// Prints to standard error (the name the feed and bench commands use).
func printError(_ s: String) { warn(s) }

/// Flushes stdout so that a contract line reaches a pipe even if the process is then killed.
func flushOut() { fflush(nil) }

/// Three decimals, without Foundation's formatting (contract lines print seconds this way).
func format3(_ x: Double) -> String {
    let scaled = (x * 1000).rounded()
    let whole = Int(scaled) / 1000
    let frac = abs(Int(scaled)) % 1000
    return "\(whole).\(String(repeating: "0", count: 3 - String(frac).count))\(frac)"
}

/// `%.17g`: 17 significant digits, enough to round-trip a double.
func g17(_ v: Double) -> String { String(format: "%.17g", v) }

/// Installs the stop handlers and unblocks SIGINT and SIGTERM: a process may inherit a mask that
/// blocks them (test harnesses do), and a recorder, replay or strategy must hear them to finish cleanly.
func installStopSignalsUnblocked() {
    var set = sigset_t()
    sigemptyset(&set)
    sigaddset(&set, SIGINT)
    sigaddset(&set, SIGTERM)
    pthread_sigmask(SIG_UNBLOCK, &set, nil)
    tb_install_stop_signals()
}

/// True once SIGINT or SIGTERM arrived (after `tb_install_stop_signals`).
func stopRequested() -> Bool { tb_stop_requested() != 0 }

/// `--from start | now`.
func startPosition(_ from: String) throws -> StartPosition {
    switch from {
    case "start": return .start
    case "now": return .now
    default: throw ValidationError("--from must be start or now")
    }
}
