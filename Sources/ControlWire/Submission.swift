import TickBusCore

/// A command as a client submits it to `tickbus control serve` over the bus's Unix socket, before
/// the server has resolved its version reference against the registry. The server turns an
/// accepted one into a `ControlCommand` (with a command id and the resolved version) and publishes
/// it on ring `control`; a refused one is never published.
///
/// The frame (Docs/CONTROL.md), all integers little-endian:
///
/// ```
/// header, 8 bytes (read first):
/// 0  magic "TBCS" (54 42 43 53)   4 format version u16 (1)   6 body length u16 (≤ 4088)
/// body, exactly `body length` bytes:
/// 8  verb u8 (ControlVerb)   9 role u8 (ModelRole; 0 none)   10 percent u8   11 zero u8
/// 12 four fields, each a u16 length then that many UTF-8 bytes, in this order:
///    strategy (≤ 32 bytes; empty: every strategy), version reference (≤ 300: a full id, a
///    12+ hex digit prefix or NAME@ALIAS; load needs one, rollback may have one, others none),
///    issuer (1…32), reason (1…112, not only spaces)
/// ```
///
/// Why this shape: the header alone says how much follows, so the server refuses an oversize
/// frame before reading it and reads a body into one fixed buffer; every length is checked
/// against what is left, so no count from the wire is ever used to allocate or index.
public struct Submission: Sendable, Equatable {
    public var verb: ControlVerb
    /// The role a `load` fills; nil for every other verb.
    public var role: ModelRole?
    /// The canary percent of a `canary` command (0...100); 0 otherwise.
    public var percent: UInt8
    /// The strategy addressed; empty for every strategy on the bus.
    public var strategy: String
    /// What `load` (required) or `rollback` (optional) names, as the registry resolves it.
    public var reference: String
    public var issuer: String
    public var reason: String

    public init(
        verb: ControlVerb,
        role: ModelRole? = nil,
        percent: UInt8 = 0,
        strategy: String = "",
        reference: String = "",
        issuer: String,
        reason: String
    ) {
        self.verb = verb
        self.role = role
        self.percent = percent
        self.strategy = strategy
        self.reference = reference
        self.issuer = issuer
        self.reason = reason
    }

    /// The frame's constants and limits.
    public enum Frame {
        /// "TBCS" read as a little-endian u32.
        public static let magic: UInt32 = 0x5343_4254
        public static let version: UInt16 = 1
        public static let headerSize = 8
        /// The largest frame, header included: a server reads no more than this per submission.
        public static let maxSize = 4096
        public static let maxBodySize = maxSize - headerSize
        /// The fixed bytes at the start of the body (verb, role, percent, zero).
        public static let fixedBodySize = 4
        public static let maxStrategy = ControlCommandLayout.strategySize
        public static let maxReference = 300
        public static let maxIssuer = ControlCommandLayout.issuerSize
        public static let maxReason = ControlCommandLayout.reasonSize
    }

    /// Checks the fields the way the server does before it looks at the registry.
    /// - Throws: `SubmissionError.field` naming the field.
    public func validate() throws(SubmissionError) {
        try Self.checkText(strategy, field: "strategy", max: Frame.maxStrategy, empty: true)
        if !strategy.isEmpty {
            // The strategy's ring is `decisions.<name>`: the name must be a safe ring-name part.
            do throws(SegmentError) { try BusPaths.validate(strategy) } catch {
                throw .field("strategy", "'\(strategy)' must be letters, digits, '.', '_' or '-'")
            }
        }
        try Self.checkText(reference, field: "version reference", max: Frame.maxReference, empty: true)
        try Self.checkText(issuer, field: "issuer", max: Frame.maxIssuer, empty: false)
        try Self.checkText(reason, field: "reason", max: Frame.maxReason, empty: false)
        guard reason.utf8.contains(where: { $0 != 0x20 }) else { throw .field("reason", "is only spaces") }
        switch verb {
        case .load:
            guard role != nil else { throw .field("role", "a load needs a role (live, shadow or canary)") }
            guard !reference.isEmpty else { throw .field("version reference", "a load needs a version") }
        case .rollback:
            guard role == nil else { throw .field("role", "only a load has a role (a rollback loads live)") }
        case .canary, .promote, .demote, .pause, .resume:
            guard role == nil else { throw .field("role", "only a load has a role") }
            guard reference.isEmpty else { throw .field("version reference", "only load and rollback name a version") }
        }
        if verb == .canary {
            guard percent <= 100 else { throw .field("percent", "is \(percent), more than 100") }
        } else if percent != 0 {
            throw .field("percent", "is \(percent) on a \(verb) command (only canary has one)")
        }
    }

    /// Text fields: UTF-8 of at most `max` bytes, no control characters (a NUL would cut the
    /// ring's fixed field; a newline would split the server's log line).
    static func checkText(_ s: String, field: String, max: Int, empty: Bool) throws(SubmissionError) {
        let n = s.utf8.count
        guard n <= max else { throw .field(field, "is \(n) bytes, at most \(max)") }
        guard empty || n > 0 else { throw .field(field, "is empty") }
        guard !s.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) else {
            throw .field(field, "holds a control character")
        }
    }

    /// The whole frame, header included.
    /// - Throws: `SubmissionError.field` when a field is out of its domain (nothing is sent).
    public func encode() throws(SubmissionError) -> [UInt8] {
        try validate()
        var out: [UInt8] = []
        out.reserveCapacity(
            Frame.headerSize + Frame.fixedBodySize + 8 + strategy.utf8.count + reference.utf8.count
                + issuer.utf8.count + reason.utf8.count
        )
        Self.append(Frame.magic, to: &out)
        Self.append(Frame.version, to: &out)
        Self.append(UInt16(0), to: &out)  // body length, set below
        out += [verb.rawValue, role?.rawValue ?? 0, percent, 0]
        for s in [strategy, reference, issuer, reason] {
            Self.append(UInt16(s.utf8.count), to: &out)
            out += s.utf8
        }
        let body = UInt16(out.count - Frame.headerSize)
        out[6] = UInt8(truncatingIfNeeded: body)
        out[7] = UInt8(truncatingIfNeeded: body >> 8)
        return out
    }

    static func append<T: FixedWidthInteger>(_ v: T, to out: inout [UInt8]) {
        for i in 0..<(T.bitWidth / 8) { out.append(UInt8(truncatingIfNeeded: v >> (8 * i))) }
    }

    /// Checks a frame's 8-byte header and returns the body length that follows it.
    /// - Throws: `.truncated` for fewer than 8 bytes, `.magic`, `.version`, `.length` (too long
    ///   or too short for the body's fixed part) — before any body byte is read.
    public static func bodyLength(header: UnsafeRawBufferPointer) throws(SubmissionError) -> Int {
        guard header.count >= Frame.headerSize, let p = header.baseAddress else {
            throw .truncated(have: header.count, need: Frame.headerSize, what: "header")
        }
        let magic = p.loadLittleEndian(fromByteOffset: 0, as: UInt32.self)
        guard magic == Frame.magic else { throw .magic(found: magic) }
        let version = p.loadLittleEndian(fromByteOffset: 4, as: UInt16.self)
        guard version == Frame.version else { throw .version(found: version) }
        let length = Int(p.loadLittleEndian(fromByteOffset: 6, as: UInt16.self))
        guard length <= Frame.maxBodySize else { throw .length(length, reason: "more than \(Frame.maxBodySize)") }
        guard length >= Frame.fixedBodySize + 8 else {
            throw .length(length, reason: "less than the \(Frame.fixedBodySize + 8) bytes of an empty body")
        }
        return length
    }

    /// Decodes a whole frame (header and body, nothing after it) and validates it. Nothing traps
    /// whatever the bytes, and nothing is allocated from a count the bytes give (a fuzz harness,
    /// `Fuzz/Targets/control-submission.swift`, holds it to that).
    /// - Throws: `SubmissionError` naming what was wrong and, for a field, where it starts.
    public static func decode(_ frame: UnsafeRawBufferPointer) throws(SubmissionError) -> Submission {
        let length = try bodyLength(header: frame)
        guard frame.count == Frame.headerSize + length else {
            if frame.count < Frame.headerSize + length {
                throw .truncated(have: frame.count - Frame.headerSize, need: length, what: "body")
            }
            throw .trailing(count: frame.count - Frame.headerSize - length)
        }
        return try decode(body: UnsafeRawBufferPointer(rebasing: frame[Frame.headerSize...]))
    }

    /// Decodes a body whose header `bodyLength` accepted (the server reads the two apart).
    public static func decode(body: UnsafeRawBufferPointer) throws(SubmissionError) -> Submission {
        guard body.count >= Frame.fixedBodySize else {
            throw .truncated(have: body.count, need: Frame.fixedBodySize, what: "body")
        }
        guard let verb = ControlVerb(rawValue: body[0]) else { throw .field("verb", "\(body[0]) is not a command") }
        var role: ModelRole?
        if body[1] != 0 {
            guard let r = ModelRole(rawValue: body[1]) else { throw .field("role", "\(body[1]) is not a role") }
            role = r
        }
        guard body[3] == 0 else { throw .field("byte 11", "is \(body[3]), must be 0") }
        var at = Frame.fixedBodySize
        func text(_ field: String, max: Int) throws(SubmissionError) -> String {
            let offset = Frame.headerSize + at
            guard body.count - at >= 2 else {
                throw .truncated(have: body.count - at, need: 2, what: "\(field) length")
            }
            let n = Int(body[at]) | Int(body[at + 1]) << 8
            at += 2
            guard n <= max else { throw .field(field, "length \(n) at byte \(offset) is more than \(max)") }
            guard body.count - at >= n else { throw .truncated(have: body.count - at, need: n, what: field) }
            let bytes = UnsafeRawBufferPointer(rebasing: body[at..<(at + n)])
            at += n
            guard let s = String(validating: bytes, as: UTF8.self) else {
                throw .field(field, "at byte \(offset + 2) is not UTF-8")
            }
            return s
        }
        let strategy = try text("strategy", max: Frame.maxStrategy)
        let reference = try text("version reference", max: Frame.maxReference)
        let issuer = try text("issuer", max: Frame.maxIssuer)
        let reason = try text("reason", max: Frame.maxReason)
        guard at == body.count else { throw .trailing(count: body.count - at) }
        let s = Submission(
            verb: verb,
            role: role,
            percent: body[2],
            strategy: strategy,
            reference: reference,
            issuer: issuer,
            reason: reason
        )
        try s.validate()
        return s
    }
}

/// Why a submission frame was refused: what was wrong, with the sizes or the field.
public enum SubmissionError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Fewer bytes than the part named needs (the connection ended early).
    case truncated(have: Int, need: Int, what: String)
    /// The first 4 bytes are not "TBCS".
    case magic(found: UInt32)
    /// A format version this build does not read.
    case version(found: UInt16)
    /// A body length out of bounds (refused before the body is read).
    case length(Int, reason: String)
    /// Bytes after the last field.
    case trailing(count: Int)
    /// A field out of its domain.
    case field(String, String)

    public var description: String {
        switch self {
        case .truncated(let have, let need, let what):
            return "submission truncated: \(what) needs \(need) bytes, \(have) there"
        case .magic(let m):
            var hex = String(m, radix: 16)
            hex = String(repeating: "0", count: max(0, 8 - hex.count)) + hex
            return "not a control submission: magic 0x\(hex), expected 0x53434254 (\"TBCS\")"
        case .version(let v): return "submission format version \(v); this server reads \(Submission.Frame.version)"
        case .length(let n, let why): return "submission body length \(n) is \(why)"
        case .trailing(let n): return "submission has \(n) bytes after its last field"
        case .field(let name, let what): return "submission field '\(name)' \(what)"
        }
    }
}
