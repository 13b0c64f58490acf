import Registry
import TickBusCore

/// The client's output lines (the `tickbus control` output contract, Docs/CONTROL.md).
public enum ControlReport {
    /// `accepted command=ID verb=V [version=HEX runtime=HEX] sequence=N` or `refused reason="…"`.
    public static func text(_ reply: ControlReply) -> String {
        switch reply {
        case .accepted(let id, let verb, let version, let runtime, let sequence):
            let v = version.isEmpty ? "" : " version=\(version) runtime=\(runtime)"
            return "accepted command=\(id) verb=\(verb)\(v) sequence=\(sequence)"
        case .refused(let reason): return "refused reason=\"\(reason)\""
        }
    }

    /// The message of a refusal, for the error line.
    public static func refusal(_ reply: ControlReply) -> String {
        if case .refused(let reason) = reply { return "the control server refused the command: \(reason)" }
        return "accepted"
    }

    /// `VERSIONHEX:MODELHEX` of a role, `-` when it is empty.
    static func role(_ version: VersionDigest, _ model: UInt64) -> String {
        version.isZero && model == 0 ? "-" : "\(version.hex):\(hex16(model))"
    }

    /// 16 hex digits, as the registry prints runtime model ids (`Manifest.runtimeIdHex`).
    public static func hex16(_ v: UInt64) -> String {
        let h = String(v, radix: 16)
        return String(repeating: "0", count: 16 - h.count) + h
    }

    /// `applied|rejected command=ID strategy=S verb=V [code=C message="…"] first_market_sequence=N
    /// live=… shadow=… canary=… canary_percent=P paused=yes|no`.
    public static func text(_ o: ControlOutcome, strategy: String) -> String {
        let r = o.roles
        let head = o.applied ? "applied" : "rejected"
        let why =
            o.applied ? "" : " code=\(o.rejection?.description ?? String(o.rawRejection)) message=\"\(o.message)\""
        return "\(head) command=\(o.commandId) strategy=\(strategy) verb=\(o.verb?.description ?? "?")\(why)"
            + " first_market_sequence=\(o.firstMarketSequence)"
            + " live=\(role(r.liveVersion, r.liveModelId)) shadow=\(role(r.shadowVersion, r.shadowModelId))"
            + " canary=\(role(r.canaryVersion, r.canaryModelId)) canary_percent=\(r.canaryPercent)"
            + " paused=\(r.paused ? "yes" : "no")"
    }

    /// The same as one canonical JSON object (numbers as decimal strings).
    public static func json(_ o: ControlOutcome) -> CanonicalJSON {
        let r = o.roles
        func role(_ v: VersionDigest, _ m: UInt64) -> CanonicalJSON {
            .object(["version": .string(v.isZero ? "" : v.hex), "model_id": .string(m == 0 ? "" : hex16(m))])
        }
        return .object([
            "status": .string(o.applied ? "applied" : "rejected"),
            "command_id": .string(String(o.commandId)),
            "verb": .string(o.verb?.description ?? ""),
            "rejection": .string(o.applied ? "" : (o.rejection?.description ?? String(o.rawRejection))),
            "message": .string(o.message),
            "first_market_sequence": .string(String(o.firstMarketSequence)),
            "live": role(r.liveVersion, r.liveModelId), "shadow": role(r.shadowVersion, r.shadowModelId),
            "canary": role(r.canaryVersion, r.canaryModelId),
            "canary_percent": .integer(Int(r.canaryPercent)), "paused": .string(r.paused ? "yes" : "no"),
            "swap_latency_ns": .string(String(o.publishTime - o.commandPublishTime)),
        ])
    }
}
