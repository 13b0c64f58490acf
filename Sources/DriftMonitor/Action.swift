import CTickBus
import Control
import ControlWire
import Drift
import DriftPolicy
import TickBusCore

#if canImport(Glibc)
import Glibc
#endif

/// What a level's firing had to go on: the window, the level, its breaches, and the version.
struct ActionContext {
    var window: DriftWindow
    var level: PolicyLevel
    var breaches: [PolicyBreach]
    var columnNames: [String]
    /// Monotonic ns when the window's line was computed (its last outcome known): where the
    /// action latency starts.
    var windowEndNs: Int64
    var liveModel: UInt64
    var version: VersionInfo?
    /// The window's statistics as JSON (for the retrain request).
    var statistics: String

    /// `psi(imb)=0.41>0.25`, …: the breaches in a few words each.
    var breachSummary: String {
        breaches.map { b in
            let col = b.column.map { "(\(columnNames[$0]))" } ?? ""
            let op = b.statistic.isPValue ? "<" : ">"
            return "\(b.statistic.rawValue)\(col)=\(Self.short(b.value))\(op)\(Self.short(b.threshold))"
        }.joined(separator: ", ")
    }

    var breachesJSON: String {
        var parts: [String] = []
        for b in breaches {
            var j = JSONText()
            j.open()
            j.string("column", b.column.map { columnNames[$0] })
            j.string("statistic", b.statistic.rawValue)
            j.number("value", b.value)
            j.number("threshold", b.threshold)
            j.close()
            parts.append(j.text)
        }
        return "[" + parts.joined(separator: ", ") + "]"
    }

    static func short(_ x: Double) -> String {
        if x != 0, abs(x) < 1e-3 || abs(x) >= 1e6 {
            // Two significant digits in exponent form, without Foundation.
            var e = 0
            var m = abs(x)
            while m >= 10 {
                m /= 10
                e += 1
            }
            while m < 1 {
                m *= 10
                e -= 1
            }
            let r = (m * 10).rounded() / 10
            return (x < 0 ? "-" : "") + "\(r)e\(e)"
        }
        return "\((x * 10000).rounded() / 10000)"
    }
}

/// One action taken (or not) for a window: the `actions` element of its line.
public struct ActionOutcome: Sendable, Equatable {
    public var action: String
    public var level: String
    /// `done` (alert, retrain, or a canary verdict's own step), `accepted`/`refused` by the control
    /// server, `failed` (no server, a socket error), `not_sent` (no bus to send to).
    public var status: String
    public var commandId: UInt64?
    public var detail: String?

    var json: String {
        var j = JSONText()
        j.open()
        j.string("action", action)
        j.string("level", level)
        j.string("status", status)
        if let id = commandId { j.string("command_id", String(id)) }
        if let d = detail { j.string("detail", d) }
        j.close()
        return j.text
    }
}

/// Carries out the policy's actions: alert lines and files, retrain requests, control commands
/// through the control server (`ControlClient`), and closes the loop when the strategy's control
/// record for a command it sent comes by (the action latency).
struct ActionRunner {
    let options: MonitorOptions
    let emit: (String) -> Void
    /// Commands sent and not yet seen applied: command id → (verb, window, window end).
    var sent: [UInt64: (verb: String, window: Int, endNs: Int64)] = [:]
    /// Alert commands still running.
    var children: [pid_t] = []

    init(options: MonitorOptions, emit: @escaping (String) -> Void) {
        self.options = options
        self.emit = emit
    }

    mutating func run(_ list: [PolicyAction], _ c: ActionContext, metrics: inout MonitorMetrics) -> [ActionOutcome] {
        var out: [ActionOutcome] = []
        for a in list {
            var o: ActionOutcome
            switch a {
            case .alert: o = alert(c)
            case .retrain: o = retrain(c)
            case .shadow:
                o = submit(.demote, c.level.name, c.window.index, c.windowEndNs, reason: reason(c, "shadow"))
            case .rollback:
                o = submit(.rollback, c.level.name, c.window.index, c.windowEndNs, reason: reason(c, "rollback"))
            }
            o.action = a.rawValue
            metrics.countAction(a.rawValue, status: o.status)
            out.append(o)
        }
        return out
    }

    func reason(_ c: ActionContext, _ what: String) -> String {
        ControlText.cut("drift w\(c.window.index) \(c.level.name) \(what): \(c.breachSummary)", to: 112)
    }

    mutating func alert(_ c: ActionContext) -> ActionOutcome {
        var j = JSONText()
        j.open()
        j.string("alert", c.level.name)
        j.string("strategy", options.strategy)
        j.int("window", c.window.index)
        j.int("first_sequence", c.window.firstSequence)
        j.int("last_sequence", c.window.lastSequence)
        j.raw("breaches", c.breachesJSON)
        j.close()
        let line = j.text
        emit(line)
        var detail: String?
        if let path = options.policy?.alertsFile {
            if let e = FileText.append(line + "\n", to: path) { detail = "alerts file \(path): \(e)" }
        }
        if let cmd = c.level.alertCommand {
            switch Spawn.shell(cmd, environment: ["TICKBUS_DRIFT_ALERT=\(line)"]) {
            case .success(let pid): children.append(pid)
            case .failure(let e): detail = (detail.map { $0 + "; " } ?? "") + "alert_command: \(e)"
            }
        }
        return ActionOutcome(
            action: "alert",
            level: c.level.name,
            status: detail == nil ? "done" : "failed",
            detail: detail
        )
    }

    func retrain(_ c: ActionContext) -> ActionOutcome {
        var j = JSONText()
        j.open()
        j.string("request", "retrain")
        j.string("strategy", options.strategy)
        j.string("version", c.version?.id)
        j.string("model_id", c.liveModel == 0 ? nil : ControlText.hex16(c.liveModel))
        j.int("window", c.window.index)
        j.int("first_sequence", c.window.firstSequence)
        j.int("last_sequence", c.window.lastSequence)
        j.int("records", c.window.records)
        j.string("level", c.level.name)
        j.raw("breaches", c.breachesJSON)
        j.raw("statistics", c.statistics)
        j.close()
        let dir = options.policy?.retrainDirectory ?? "."
        let path = "\(dir)/retrain-\(options.strategy)-window-\(c.window.index).json"
        if let e = FileText.write(j.text + "\n", to: path) {
            return ActionOutcome(action: "retrain", level: c.level.name, status: "failed", detail: "\(path): \(e)")
        }
        return ActionOutcome(action: "retrain", level: c.level.name, status: "done", detail: path)
    }

    /// Sends one command to the bus's control server for this strategy.
    mutating func submit(
        _ verb: ControlVerb,
        _ level: String,
        _ window: Int,
        _ endNs: Int64,
        reason: String,
        percent: UInt8 = 0
    ) -> ActionOutcome {
        var o = ActionOutcome(action: verb.description, level: level, status: "not_sent")
        guard let bus = options.controlBus else {
            o.detail = "no bus (a journal run): nothing sent"
            return o
        }
        let s = Submission(
            verb: verb,
            percent: percent,
            strategy: options.strategy,
            issuer: options.policy?.issuer ?? "drift",
            reason: reason
        )
        do {
            switch try ControlClient.submit(s, bus: bus, timeout: options.controlTimeout) {
            case .accepted(let id, _, let version, _, _):
                o.status = "accepted"
                o.commandId = id
                if !version.isEmpty { o.detail = "version \(version)" }
                sent[id] = (verb.description, window, endNs)
            case .refused(let why):
                o.status = "refused"
                o.detail = why
            }
        } catch {
            o.status = "failed"
            o.detail = "\(error)"
        }
        return o
    }

    /// A control record in the strategy's ring: when it answers a command this monitor sent,
    /// prints `{"applied": VERB, …, "latency_ns": N}` (window end → the record's publish).
    mutating func observed(_ v: ControlRecordView, metrics: inout MonitorMetrics) {
        guard let s = sent.removeValue(forKey: v.commandId) else { return }
        let latency = v.publishTime &- s.endNs
        var j = JSONText()
        j.open()
        j.string(v.applied ? "applied" : "rejected", s.verb)
        j.string("strategy", options.strategy)
        j.string("command_id", String(v.commandId))
        j.int("window", s.window)
        j.int("first_market_sequence", v.firstMarketSequence)
        j.int("latency_ns", latency)
        // The two parts: window end → the server's publish of the command, then → the record.
        j.int("to_command_ns", v.commandPublishTime &- s.endNs)
        j.int("swap_ns", v.publishTime &- v.commandPublishTime)
        if !v.applied { j.string("message", v.message) }
        j.close()
        emit(j.text)
        metrics.actionApplied(verb: s.verb, applied: v.applied, latencyNs: latency)
    }

    /// Reaps finished alert commands (never waits).
    mutating func reap() {
        children.removeAll { pid in
            var status: Int32 = 0
            return waitpid(pid, &status, WNOHANG) == pid
        }
    }
}

/// Text helpers for control fields.
enum ControlText {
    /// `s` cut to at most `n` UTF-8 bytes at a character boundary.
    static func cut(_ s: String, to n: Int) -> String {
        if s.utf8.count <= n { return s }
        var out = ""
        for ch in s {
            if out.utf8.count + String(ch).utf8.count > n { break }
            out.append(ch)
        }
        return out
    }

    static func hex16(_ v: UInt64) -> String {
        let h = String(v, radix: 16)
        return String(repeating: "0", count: 16 - h.count) + h
    }
}

/// Small file writes for alerts and retrain requests (errors as text: an action that fails is
/// reported in the window's line; the monitor keeps running).
enum FileText {
    static func append(_ s: String, to path: String) -> String? {
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return "open failed: \(String(cString: strerror(errno))) (errno \(errno))" }
        defer { close(fd) }
        return writeAll(fd, s)
    }

    /// Writes `path` whole: a temporary file, then `rename`, so a reader never sees half of it.
    static func write(_ s: String, to path: String) -> String? {
        let tmp = path + ".tmp.\(getpid())"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return "open failed: \(String(cString: strerror(errno))) (errno \(errno))" }
        if let e = writeAll(fd, s) {
            close(fd)
            unlink(tmp)
            return e
        }
        close(fd)
        guard rename(tmp, path) == 0 else {
            let e = errno
            unlink(tmp)
            return "rename failed: \(String(cString: strerror(e))) (errno \(e))"
        }
        return nil
    }

    static func writeAll(_ fd: Int32, _ s: String) -> String? {
        var bytes = Array(s.utf8)
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeMutableBytes { Glibc.write(fd, $0.baseAddress! + done, $0.count - done) }
            if n < 0 {
                if errno == EINTR { continue }
                return "write failed: \(String(cString: strerror(errno))) (errno \(errno))"
            }
            done += n
        }
        return nil
    }
}

/// Starts `/bin/sh -c COMMAND` without waiting (an alert's command).
enum Spawn {
    struct Failure: Error, CustomStringConvertible {
        var code: Int32
        var description: String { "posix_spawn /bin/sh failed: \(String(cString: strerror(code))) (errno \(code))" }
    }

    static func shell(_ command: String, environment extra: [String]) -> Result<pid_t, Failure> {
        var env: [String] = extra
        var e = environ
        while let p = e.pointee {
            env.append(String(cString: p))
            e += 1
        }
        let argv = ["/bin/sh", "-c", command]
        var pid: pid_t = 0
        let rc = withCStrings(argv) { a in withCStrings(env) { en in posix_spawn(&pid, "/bin/sh", nil, nil, a, en) } }
        return rc == 0 ? .success(pid) : .failure(Failure(code: rc))
    }

    static func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
        let ptrs = strings.map { strdup($0) } + [nil]
        defer { for p in ptrs { free(p) } }
        return ptrs.withUnsafeBufferPointer { body($0.baseAddress!) }
    }
}
