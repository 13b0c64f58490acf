#if canImport(Glibc)
import Glibc
#endif

/// A registry version id as the rings carry it: the 32 raw bytes of the manifest's sha256
/// (the registry prints them as 64 lowercase hex digits). All zero means "no version".
public struct VersionDigest: Hashable, Sendable, CustomStringConvertible {
    /// The digest's bytes 0..<8, 8..<16, 16..<24, 24..<32, each as a little-endian word.
    public var words: (UInt64, UInt64, UInt64, UInt64)

    public static let zero = VersionDigest(words: (0, 0, 0, 0))

    @inlinable public init(words: (UInt64, UInt64, UInt64, UInt64)) { self.words = words }

    /// From 64 hex digits (either case); nil for anything else.
    public init?(hex: String) {
        let u = Array(hex.utf8)
        guard u.count == 64 else { return nil }
        var w: [UInt64] = [0, 0, 0, 0]
        for i in 0..<32 {
            guard let hi = Self.nibble(u[2 * i]), let lo = Self.nibble(u[2 * i + 1]) else { return nil }
            w[i / 8] |= UInt64(hi << 4 | lo) << (8 * UInt64(i % 8))
        }
        words = (w[0], w[1], w[2], w[3])
    }

    /// Reads 32 bytes at `p + offset`.
    @inlinable
    public init(loading p: UnsafeRawPointer, at offset: Int) {
        words = (
            UInt64(littleEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt64.self)),
            UInt64(littleEndian: p.loadUnaligned(fromByteOffset: offset + 8, as: UInt64.self)),
            UInt64(littleEndian: p.loadUnaligned(fromByteOffset: offset + 16, as: UInt64.self)),
            UInt64(littleEndian: p.loadUnaligned(fromByteOffset: offset + 24, as: UInt64.self))
        )
    }

    /// Writes the 32 bytes at `p + offset`.
    @inlinable
    public func store(to p: UnsafeMutableRawPointer, at offset: Int) {
        p.storeBytes(of: words.0.littleEndian, toByteOffset: offset, as: UInt64.self)
        p.storeBytes(of: words.1.littleEndian, toByteOffset: offset + 8, as: UInt64.self)
        p.storeBytes(of: words.2.littleEndian, toByteOffset: offset + 16, as: UInt64.self)
        p.storeBytes(of: words.3.littleEndian, toByteOffset: offset + 24, as: UInt64.self)
    }

    public var isZero: Bool { self == .zero }

    /// 64 lowercase hex digits, as the registry prints version ids.
    public var hex: String {
        var s = ""
        s.reserveCapacity(64)
        for w in [words.0, words.1, words.2, words.3] {
            for i in 0..<8 {
                let b = UInt8(truncatingIfNeeded: w >> (8 * UInt64(i)))
                s.append(Self.digits[Int(b >> 4)])
                s.append(Self.digits[Int(b & 15)])
            }
        }
        return s
    }

    public var description: String { hex }

    public static func == (a: VersionDigest, b: VersionDigest) -> Bool {
        a.words.0 == b.words.0 && a.words.1 == b.words.1 && a.words.2 == b.words.2 && a.words.3 == b.words.3
    }

    public func hash(into h: inout Hasher) {
        h.combine(words.0)
        h.combine(words.1)
        h.combine(words.2)
        h.combine(words.3)
    }

    static let digits = Array("0123456789abcdef")
    static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case 48...57: return c - 48
        case 97...102: return c - 87
        case 65...70: return c - 55
        default: return nil
        }
    }
}

/// What a control command asks of a strategy (u8 at `ControlCommandLayout.command`).
public enum ControlVerb: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    /// Load a version into a role (live, shadow or canary).
    case load = 1
    /// Set the canary percent (0...100).
    case canary = 2
    /// The canary becomes live; the canary role is emptied and the percent set to 0.
    case promote = 3
    /// The live version becomes shadow; signals stay flat until a version is loaded live or rolled back.
    case demote = 4
    /// Load the named version live (the server resolves the `champion` alias's previous version).
    case rollback = 5
    /// Signals stay flat (decisions are still made and recorded).
    case pause = 6
    /// Signals follow the acting model again.
    case resume = 7

    public var description: String {
        switch self {
        case .load: return "load"
        case .canary: return "canary"
        case .promote: return "promote"
        case .demote: return "demote"
        case .rollback: return "rollback"
        case .pause: return "pause"
        case .resume: return "resume"
        }
    }
}

/// A model role in a strategy (u8 in control commands and records).
public enum ModelRole: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    case live = 1
    case shadow = 2
    case canary = 3

    public var description: String {
        switch self {
        case .live: return "live"
        case .shadow: return "shadow"
        case .canary: return "canary"
        }
    }

    public init?(name: String) {
        switch name {
        case "live": self = .live
        case "shadow": self = .shadow
        case "canary": self = .canary
        default: return nil
        }
    }
}

/// Byte offsets of a command in ring `control` (schema 3, 256-byte slots). Its one producer is
/// `tickbus control serve`, which has checked the command against the registry.
///
/// ```
/// 0   sequence (ring)   8 kind u16 (1: command)   10 command u8 (ControlVerb)   11 role u8 (ModelRole, 0 none)
/// 12  percent u8 (canary)   13 layout version u8 (1)   14..<16 zero
/// 16  command id u64 (nonzero, unique per server)   24 runtime model id u64 (load/rollback; else 0)
/// 32  publish time i64 (monotonic, the server's clock read just before publishing)
/// 40  submit time i64 (ns since the Unix epoch, when the server accepted it)
/// 48  version id, 32 bytes (load/rollback; else zero)
/// 80  strategy name, 32 bytes UTF-8, NUL padded (empty: every strategy)
/// 112 issuer, 32 bytes UTF-8, NUL padded
/// 144 reason, 112 bytes UTF-8, NUL padded (cut at a character boundary)
/// ```
public enum ControlCommandLayout {
    public static let slotSize = 256
    public static let kindValue: UInt16 = 1
    public static let layoutVersionValue: UInt8 = 1
    public static let kind = 8
    public static let command = 10
    public static let role = 11
    public static let percent = 12
    public static let layoutVersion = 13
    public static let commandId = 16
    public static let runtimeId = 24
    public static let publishTime = 32
    public static let submitTime = 40
    public static let version = 48
    public static let strategy = 80
    public static let strategySize = 32
    public static let issuer = 112
    public static let issuerSize = 32
    public static let reason = 144
    public static let reasonSize = 112
}

/// A control command, decoded and checked (`ControlCommand.decode`), or to be encoded.
public struct ControlCommand: Sendable, Equatable {
    public var verb: ControlVerb
    /// The role a `load` fills; nil for the other verbs.
    public var role: ModelRole?
    /// The canary percent of a `canary` command (0...100); 0 otherwise.
    public var percent: UInt8
    public var commandId: UInt64
    /// The version a `load` or `rollback` names, and its runtime model id.
    public var version: VersionDigest
    public var runtimeId: UInt64
    /// The strategy addressed; empty for every strategy on the bus.
    public var strategy: String
    public var issuer: String
    public var reason: String
    /// Monotonic ns when the server published it (0 until then).
    public var publishTime: Int64
    /// Ns since the Unix epoch when the server accepted it.
    public var submitTime: Int64

    public init(
        verb: ControlVerb,
        role: ModelRole? = nil,
        percent: UInt8 = 0,
        commandId: UInt64,
        version: VersionDigest = .zero,
        runtimeId: UInt64 = 0,
        strategy: String = "",
        issuer: String,
        reason: String,
        publishTime: Int64 = 0,
        submitTime: Int64 = 0
    ) {
        self.verb = verb
        self.role = role
        self.percent = percent
        self.commandId = commandId
        self.version = version
        self.runtimeId = runtimeId
        self.strategy = strategy
        self.issuer = issuer
        self.reason = reason
        self.publishTime = publishTime
        self.submitTime = submitTime
    }

    /// Whether the command is addressed to strategy `name`.
    public func addresses(_ name: String) -> Bool { strategy.isEmpty || strategy == name }

    /// Checks the command's own consistency (what a decoder and the server both refuse).
    public func validate() throws(ControlDecodeError) {
        guard commandId != 0 else { throw .field("command id", "is 0") }
        // A NUL would end the text early in its NUL-padded field, and the bytes after it would
        // make the slot one that `decode` refuses.
        if strategy.utf8.contains(0) { throw .field("strategy", "contains a NUL byte") }
        if issuer.utf8.contains(0) { throw .field("issuer", "contains a NUL byte") }
        if reason.utf8.contains(0) { throw .field("reason", "contains a NUL byte") }
        switch verb {
        case .load:
            guard role != nil else { throw .field("role", "a load needs a role (live, shadow or canary)") }
            guard !version.isZero else { throw .field("version", "a load needs a version id") }
        case .rollback:
            guard role == nil || role == .live else { throw .field("role", "a rollback loads into live") }
        case .canary:
            guard role == nil else { throw .field("role", "only a load has a role") }
            guard percent <= 100 else { throw .field("percent", "is \(percent), more than 100") }
        case .promote, .demote, .pause, .resume:
            guard role == nil else { throw .field("role", "only a load has a role") }
        }
        if verb != .canary, percent != 0 { throw .field("percent", "is \(percent) on a \(verb) command") }
    }

    /// Writes the command into a zeroed or reused `ControlCommandLayout.slotSize`-byte slot
    /// (bytes 8..<256; the ring writes the sequence). Strings longer than their field are cut at a
    /// character boundary.
    public func encode(into p: UnsafeMutableRawPointer) {
        (p + 8).initializeMemory(as: UInt8.self, repeating: 0, count: ControlCommandLayout.slotSize - 8)
        p.storeBytes(
            of: ControlCommandLayout.kindValue.littleEndian,
            toByteOffset: ControlCommandLayout.kind,
            as: UInt16.self
        )
        p.storeBytes(of: verb.rawValue, toByteOffset: ControlCommandLayout.command, as: UInt8.self)
        p.storeBytes(of: role?.rawValue ?? 0, toByteOffset: ControlCommandLayout.role, as: UInt8.self)
        p.storeBytes(of: percent, toByteOffset: ControlCommandLayout.percent, as: UInt8.self)
        p.storeBytes(
            of: ControlCommandLayout.layoutVersionValue,
            toByteOffset: ControlCommandLayout.layoutVersion,
            as: UInt8.self
        )
        p.storeBytes(of: commandId.littleEndian, toByteOffset: ControlCommandLayout.commandId, as: UInt64.self)
        p.storeBytes(of: runtimeId.littleEndian, toByteOffset: ControlCommandLayout.runtimeId, as: UInt64.self)
        p.storeBytes(of: publishTime.littleEndian, toByteOffset: ControlCommandLayout.publishTime, as: Int64.self)
        p.storeBytes(of: submitTime.littleEndian, toByteOffset: ControlCommandLayout.submitTime, as: Int64.self)
        version.store(to: p, at: ControlCommandLayout.version)
        FixedText.store(strategy, to: p + ControlCommandLayout.strategy, size: ControlCommandLayout.strategySize)
        FixedText.store(issuer, to: p + ControlCommandLayout.issuer, size: ControlCommandLayout.issuerSize)
        FixedText.store(reason, to: p + ControlCommandLayout.reason, size: ControlCommandLayout.reasonSize)
    }

    /// Decodes and checks a command slot of `size` bytes: every field is validated, nothing traps
    /// whatever the bytes (a fuzz harness holds it to that).
    /// - Throws: `ControlDecodeError` naming the field and what was wrong.
    /// - Parameter text: false: the strategy, issuer and reason fields are checked (padding, UTF-8)
    ///   exactly as when kept, but left empty in the result, so the decode builds no String and
    ///   allocates nothing — the strategy's control branch, which needs none of them (it matches its
    ///   own name with `FixedText.addresses`).
    public static func decode(
        _ p: UnsafeRawPointer,
        size: Int,
        text: Bool = true
    ) throws(ControlDecodeError) -> ControlCommand {
        guard size >= ControlCommandLayout.slotSize else {
            throw .size(found: size, expected: ControlCommandLayout.slotSize)
        }
        let kind = UInt16(littleEndian: p.loadUnaligned(fromByteOffset: ControlCommandLayout.kind, as: UInt16.self))
        guard kind == ControlCommandLayout.kindValue else { throw .field("kind", "is \(kind), not 1 (command)") }
        let lv = p.load(fromByteOffset: ControlCommandLayout.layoutVersion, as: UInt8.self)
        guard lv == ControlCommandLayout.layoutVersionValue else {
            throw .field("layout version", "is \(lv); this build reads 1")
        }
        // Reserved: a slot with anything there is not one `encode` wrote.
        let reserved = UInt16(littleEndian: p.loadUnaligned(fromByteOffset: 14, as: UInt16.self))
        guard reserved == 0 else { throw .field("bytes 14..<16", "are \(reserved), not zero (reserved)") }
        let rawVerb = p.load(fromByteOffset: ControlCommandLayout.command, as: UInt8.self)
        guard let verb = ControlVerb(rawValue: rawVerb) else { throw .field("command", "\(rawVerb) is not a command") }
        let rawRole = p.load(fromByteOffset: ControlCommandLayout.role, as: UInt8.self)
        var role: ModelRole?
        if rawRole != 0 {
            guard let r = ModelRole(rawValue: rawRole) else { throw .field("role", "\(rawRole) is not a role") }
            role = r
        }
        let strategy: String
        let issuer: String
        let reason: String
        if text {
            strategy = try FixedText.load(
                p + ControlCommandLayout.strategy,
                size: ControlCommandLayout.strategySize,
                field: "strategy"
            )
            issuer = try FixedText.load(
                p + ControlCommandLayout.issuer,
                size: ControlCommandLayout.issuerSize,
                field: "issuer"
            )
            reason = try FixedText.load(
                p + ControlCommandLayout.reason,
                size: ControlCommandLayout.reasonSize,
                field: "reason"
            )
        } else {
            try FixedText.check(
                p + ControlCommandLayout.strategy,
                size: ControlCommandLayout.strategySize,
                field: "strategy"
            )
            try FixedText.check(p + ControlCommandLayout.issuer, size: ControlCommandLayout.issuerSize, field: "issuer")
            try FixedText.check(p + ControlCommandLayout.reason, size: ControlCommandLayout.reasonSize, field: "reason")
            (strategy, issuer, reason) = ("", "", "")
        }
        let c = ControlCommand(
            verb: verb,
            role: role,
            percent: p.load(fromByteOffset: ControlCommandLayout.percent, as: UInt8.self),
            commandId: UInt64(
                littleEndian: p.loadUnaligned(fromByteOffset: ControlCommandLayout.commandId, as: UInt64.self)
            ),
            version: VersionDigest(loading: p, at: ControlCommandLayout.version),
            runtimeId: UInt64(
                littleEndian: p.loadUnaligned(fromByteOffset: ControlCommandLayout.runtimeId, as: UInt64.self)
            ),
            strategy: strategy,
            issuer: issuer,
            reason: reason,
            publishTime: Int64(
                littleEndian: p.loadUnaligned(fromByteOffset: ControlCommandLayout.publishTime, as: Int64.self)
            ),
            submitTime: Int64(
                littleEndian: p.loadUnaligned(fromByteOffset: ControlCommandLayout.submitTime, as: Int64.self)
            )
        )
        try c.validate()
        return c
    }
}

/// Why a control command or control record was refused: the field and what was wrong with it.
public enum ControlDecodeError: Error, Equatable, CustomStringConvertible {
    case size(found: Int, expected: Int)
    case field(String, String)

    public var description: String {
        switch self {
        case .size(let found, let expected): return "control record of \(found) bytes, expected \(expected)"
        case .field(let name, let what): return "control record field '\(name)' \(what)"
        }
    }
}

/// NUL-padded UTF-8 text in a fixed-size field.
public enum FixedText {
    /// Writes `s` cut to at most `size` bytes at a character boundary; the rest stays as it is
    /// (the encoder zeroes the slot first).
    public static func store(_ s: String, to p: UnsafeMutableRawPointer, size: Int) {
        var n = 0
        for ch in s {
            let u = Array(String(ch).utf8)
            guard n + u.count <= size else { break }
            for b in u {
                p.storeBytes(of: b, toByteOffset: n, as: UInt8.self)
                n += 1
            }
        }
    }

    /// Checks a field as `load` does (bytes after the first NUL all zero, valid UTF-8 before it)
    /// without building a String: no allocation on success.
    public static func check(_ p: UnsafeRawPointer, size: Int, field: StaticString) throws(ControlDecodeError) {
        let b = UnsafeRawBufferPointer(start: p, count: size)
        let end = b.firstIndex(of: 0) ?? size
        guard b[end...].allSatisfy({ $0 == 0 }) else { throw .field("\(field)", "has bytes after its NUL padding") }
        var bytes = UnsafeRawBufferPointer(rebasing: b[..<end]).makeIterator()
        var parser = Unicode.UTF8.ForwardParser()
        while true {
            switch parser.parseScalar(from: &bytes) {
            case .valid: continue
            case .emptyInput: return
            case .error: throw .field("\(field)", "is not UTF-8")
            }
        }
    }

    /// Whether a command's strategy field addresses `name`: empty (every strategy) or exactly its
    /// UTF-8 bytes. Compares bytes; builds nothing.
    public static func addresses(_ p: UnsafeRawPointer, size: Int, _ name: String) -> Bool {
        let b = UnsafeRawBufferPointer(start: p, count: size)
        if b[0] == 0 { return true }
        var name = name
        return name.withUTF8 { n in
            guard let base = n.baseAddress, n.count <= size else { return false }
            return memcmp(p, base, n.count) == 0 && (n.count == size || b[n.count] == 0)
        }
    }

    /// Reads the text up to the first NUL; refuses invalid UTF-8 and bytes after the padding starts.
    public static func load(_ p: UnsafeRawPointer, size: Int, field: String) throws(ControlDecodeError) -> String {
        let b = UnsafeRawBufferPointer(start: p, count: size)
        let end = b.firstIndex(of: 0) ?? size
        guard b[end...].allSatisfy({ $0 == 0 }) else { throw .field(field, "has bytes after its NUL padding") }
        guard let s = String(validating: b[..<end], as: UTF8.self) else { throw .field(field, "is not UTF-8") }
        return s
    }
}

/// Byte offsets of a control record (kind 101) in `decisions.<name>`: a command the strategy
/// applied or rejected, and the state it runs under from then on. Bytes 0..<56 are the
/// `RecordHeader`; its market sequence is the **first market sequence processed under the new
/// state** (the strategy applies the command before reading the market message with that
/// sequence or any later one), its exchange time that of the last market message processed
/// before it (0 if none).
///
/// ```
/// 0   sequence   8 kind u16 (101)   10 flags u16 (bit 0 applied, bit 1 paused after it, bit 2 risk)
/// 12  command u8 (ControlVerb)   13 role u8   14 canary percent u8 (after it)   15 layout version u8 (1)
/// 16  first market sequence u64   24 exchange time i64   32 rejection code u32 (0 when applied)
/// 36  zero u32   40 command publish time i64 (monotonic, from the command)   48 publish time i64
/// 56  command id u64   64 live model id u64   72 shadow model id u64   80 canary model id u64
/// 88  live version id (32 bytes)   120 shadow version id   152 canary version id
/// 184 message, 72 bytes UTF-8, NUL padded: why it was rejected, empty when applied
/// ```
public enum ControlRecordLayout {
    public static let kindValue: UInt16 = RecordKind.control.rawValue
    public static let layoutVersionValue: UInt8 = 1
    public static let kind = RecordHeader.kind
    public static let flags = RecordHeader.flags
    public static let command = 12
    public static let role = 13
    public static let canaryPercent = 14
    public static let layoutVersion = RecordHeader.layoutVersion
    public static let marketSequence = RecordHeader.marketSequence
    public static let exchangeTime = RecordHeader.exchangeTime
    public static let rejection = 32
    public static let commandPublishTime = 40
    public static let publishTime = RecordHeader.publishTime
    public static let commandId = 56
    public static let liveModelId = 64
    public static let shadowModelId = 72
    public static let canaryModelId = 80
    public static let liveVersion = 88
    public static let shadowVersion = 120
    public static let canaryVersion = 152
    public static let message = 184
    public static let messageSize = 72
    /// The smallest slot a control record fits.
    public static let size = 256

    public static let applied: UInt16 = 1 << 0
    public static let paused: UInt16 = 1 << 1
    /// Published by the strategy's risk limits (a breached `max_loss`), not by a command.
    public static let risk: UInt16 = 1 << 2
}

/// Why a strategy rejected a command (`ControlRecordLayout.rejection`).
public enum ControlRejection: UInt32, Sendable, CaseIterable, CustomStringConvertible {
    /// The version could not be read, verified or compiled.
    case unloadable = 1
    /// The version's features differ from the running definition.
    case featureMismatch = 2
    /// The command needs a role that is empty (promote without a canary, canary percent without one).
    case emptyRole = 3
    /// The command's fields are inconsistent.
    case malformed = 4
    /// The strategy has no registry to load versions from.
    case noRegistry = 5

    public var description: String {
        switch self {
        case .unloadable: return "unloadable"
        case .featureMismatch: return "feature-mismatch"
        case .emptyRole: return "empty-role"
        case .malformed: return "malformed"
        case .noRegistry: return "no-registry"
        }
    }
}

/// The roles a strategy runs with, as a control record states them.
public struct RoleState: Sendable, Equatable {
    public var liveModelId: UInt64 = 0
    public var shadowModelId: UInt64 = 0
    public var canaryModelId: UInt64 = 0
    public var liveVersion: VersionDigest = .zero
    public var shadowVersion: VersionDigest = .zero
    public var canaryVersion: VersionDigest = .zero
    public var canaryPercent: UInt8 = 0
    public var paused = false
    public init() {}
}

/// A zero-copy view of a control record (kind 101). Invariant: `base` points at
/// `ControlRecordLayout.size` readable bytes.
public struct ControlRecordView {
    public let base: UnsafeRawPointer
    @inlinable public init(_ base: UnsafeRawPointer) { self.base = base }

    @inlinable public var sequence: UInt64 { base.load(as: UInt64.self) }
    @inlinable public var flags: UInt16 { base.load(fromByteOffset: ControlRecordLayout.flags, as: UInt16.self) }
    @inlinable public var applied: Bool { flags & ControlRecordLayout.applied != 0 }
    /// The strategy's own risk limits wrote it (no command): an output of a replay, not an input.
    @inlinable public var isRisk: Bool { flags & ControlRecordLayout.risk != 0 }
    @inlinable public var rawCommand: UInt8 { base.load(fromByteOffset: ControlRecordLayout.command, as: UInt8.self) }
    public var verb: ControlVerb? { ControlVerb(rawValue: rawCommand) }
    @inlinable public var firstMarketSequence: UInt64 {
        base.load(fromByteOffset: ControlRecordLayout.marketSequence, as: UInt64.self)
    }
    @inlinable public var exchangeTime: Int64 {
        base.load(fromByteOffset: ControlRecordLayout.exchangeTime, as: Int64.self)
    }
    @inlinable public var rawRejection: UInt32 {
        base.load(fromByteOffset: ControlRecordLayout.rejection, as: UInt32.self)
    }
    public var rejection: ControlRejection? { ControlRejection(rawValue: rawRejection) }
    @inlinable public var commandPublishTime: Int64 {
        base.load(fromByteOffset: ControlRecordLayout.commandPublishTime, as: Int64.self)
    }
    @inlinable public var publishTime: Int64 {
        base.load(fromByteOffset: ControlRecordLayout.publishTime, as: Int64.self)
    }
    @inlinable public var commandId: UInt64 {
        base.load(fromByteOffset: ControlRecordLayout.commandId, as: UInt64.self)
    }
    /// The roles in force after the record.
    public var roles: RoleState {
        var r = RoleState()
        r.liveModelId = base.load(fromByteOffset: ControlRecordLayout.liveModelId, as: UInt64.self)
        r.shadowModelId = base.load(fromByteOffset: ControlRecordLayout.shadowModelId, as: UInt64.self)
        r.canaryModelId = base.load(fromByteOffset: ControlRecordLayout.canaryModelId, as: UInt64.self)
        r.liveVersion = VersionDigest(loading: base, at: ControlRecordLayout.liveVersion)
        r.shadowVersion = VersionDigest(loading: base, at: ControlRecordLayout.shadowVersion)
        r.canaryVersion = VersionDigest(loading: base, at: ControlRecordLayout.canaryVersion)
        r.canaryPercent = base.load(fromByteOffset: ControlRecordLayout.canaryPercent, as: UInt8.self)
        r.paused = flags & ControlRecordLayout.paused != 0
        return r
    }
    /// Why it was rejected (empty when applied); invalid bytes read as U+FFFD.
    public var message: String {
        let b = UnsafeRawBufferPointer(
            start: base + ControlRecordLayout.message,
            count: ControlRecordLayout.messageSize
        )
        return String(decoding: b[..<(b.firstIndex(of: 0) ?? b.count)], as: UTF8.self)
    }
}
