import Registry

/// The server's answer to one submission: one line of canonical JSON (sorted keys, no
/// whitespace, ended by a newline, at most `maxSize` bytes), then the server closes.
///
/// ```
/// {"command_id":"1764771234000000001","runtime_id":"…16 hex…","sequence":"3","status":"accepted","verb":"load","version":"…64 hex…"}
/// {"reason":"no version matches 0123456789ab","status":"refused"}
/// ```
///
/// Numbers are decimal strings (command ids are wall-clock nanoseconds, beyond what a JSON
/// number keeps exactly); `version` and `runtime_id` are empty for verbs without a version;
/// `sequence` is the command's sequence in ring `control`.
public enum ControlReply: Equatable, Sendable {
    case accepted(commandId: UInt64, verb: String, version: String, runtimeId: String, sequence: UInt64)
    case refused(reason: String)

    /// The longest reply a client reads.
    public static let maxSize = 4096

    /// The JSON line, newline included.
    public var bytes: [UInt8] { json.bytes + [10] }

    public var json: CanonicalJSON {
        switch self {
        case .accepted(let id, let verb, let version, let runtime, let sequence):
            return .object([
                "status": .string("accepted"), "command_id": .string(String(id)), "verb": .string(verb),
                "version": .string(version), "runtime_id": .string(runtime), "sequence": .string(String(sequence)),
            ])
        case .refused(let reason):
            // Bounded whatever the cause's text: the reply must fit the client's buffer.
            return .object(["status": .string("refused"), "reason": .string(String(reason.prefix(1024)))])
        }
    }

    /// Parses a reply line (without its newline).
    /// - Throws: `ControlClientError.badReply` for anything that is not a reply of this format.
    public init(line: [UInt8]) throws(ControlClientError) {
        let j: CanonicalJSON
        do { j = try CanonicalJSON.parseCanonical(line, what: "control server reply") } catch {
            throw .badReply("\(error)")
        }
        switch j["status"]?.string {
        case "accepted":
            guard let id = j["command_id"]?.string.flatMap({ UInt64($0) }), let verb = j["verb"]?.string,
                let version = j["version"]?.string, let runtime = j["runtime_id"]?.string,
                let sequence = j["sequence"]?.string.flatMap({ UInt64($0) })
            else { throw .badReply("accepted reply without command_id, verb, version, runtime_id or sequence") }
            self = .accepted(commandId: id, verb: verb, version: version, runtimeId: runtime, sequence: sequence)
        case "refused":
            guard let reason = j["reason"]?.string else { throw .badReply("refused reply without a reason") }
            self = .refused(reason: reason)
        default:
            throw .badReply("status is neither accepted nor refused")
        }
    }
}
