import CTickBus
import Models
import TickBusCore

/// A role's model as the decision path reads it: trivial values only (an unretained evaluator,
/// its output count, the runtime id, the version id), so that a swap is a few stores.
@usableFromInline
struct _RoleModel {
    @inlinable init(evaluator: _Evaluator?, outputs: Int, id: UInt64, version: VersionDigest) {
        self.evaluator = evaluator
        self.outputs = outputs
        self.id = id
        self.version = version
    }
    @usableFromInline var evaluator: _Evaluator?
    @usableFromInline var outputs: Int
    @usableFromInline var id: UInt64
    @usableFromInline var version: VersionDigest

    /// An empty role (computed: a stored static would be a lazily initialised global).
    @inlinable static var empty: _RoleModel { _RoleModel(evaluator: nil, outputs: 1, id: 0, version: .zero) }
}

/// The prepared versions of a loop: `versions` owns every model a role may point at (for the
/// loop's lifetime: a swapped-out version stays prepared, so swapping back is a few stores), and
/// `table[i]` is `versions[i]`'s role value, searched by `_swap` without touching a Swift array.
///
/// Invariant: `table` holds `capacity` entries, the first `count` initialised (`count ==
/// versions.count`); owned here, freed in deinit.
@usableFromInline
struct _VersionCache: ~Copyable {
    var versions: [PreparedVersion] = []
    @usableFromInline var table: UnsafeMutablePointer<_RoleModel>
    @usableFromInline var count = 0
    var capacity = 8

    init() { table = .allocate(capacity: 8) }
    deinit { table.deallocate() }

    /// The index of a version already prepared: by version id, or for a model file (no id) by
    /// runtime id among the models from files.
    func index(of v: PreparedVersion) -> Int? {
        versions.firstIndex { $0.version == v.version && (!v.version.isZero || $0.model.id == v.model.id) }
    }

    /// Adds a version (off the message path); returns its index.
    mutating func add(_ v: PreparedVersion) -> Int {
        if count == capacity {
            let grown = UnsafeMutablePointer<_RoleModel>.allocate(capacity: capacity * 2)
            grown.initialize(from: table, count: count)
            table.deallocate()
            table = grown
            capacity *= 2
        }
        let m = v.model.model
        (table + count).initialize(
            to: _RoleModel(evaluator: _Evaluator(m), outputs: m.numOutputs, id: v.model.id, version: v.version)
        )
        versions.append(v)
        count += 1
        return count - 1
    }

    func roleModel(_ v: PreparedVersion) -> _RoleModel { index(of: v).map { table[$0] } ?? .empty }

    /// The prepared entry for a registry version id, or for a file's runtime id (version zero).
    /// A linear scan of trivial values: no allocation, retain or call.
    @inlinable
    func find(version: VersionDigest, id: UInt64) -> _RoleModel? {
        var i = 0
        while i < count {
            // Safe: i < count, the initialised part of the table.
            let e = table[i]
            if e.version == version, !version.isZero || e.id == id { return e }
            i &+= 1
        }
        return nil
    }
}

/// What a control command did: applied or rejected (and why), and the roles after it.
public struct ControlOutcome: Sendable, CustomStringConvertible {
    public var commandId: UInt64
    /// The verb and role bytes as the command had them (a malformed command's may be invalid).
    public var rawVerb: UInt8
    public var rawRole: UInt8
    public var applied: Bool
    public var rejection: ControlRejection?
    /// Why it was rejected; empty when applied.
    public var message: String
    /// The roles in force after the command.
    public var roles: RoleState
    /// The first market sequence processed under `roles`.
    public var firstMarketSequence: UInt64
    /// The command's publish time (monotonic ns, from the command).
    public var commandPublishTime: Int64
    /// The control record's sequence in `decisions.<name>`; nil when none was published (a
    /// malformed command without a command id).
    public var recordSequence: UInt64?

    /// The line the strategy logs for it.
    public var description: String {
        let verb = ControlVerb(rawValue: rawVerb).map { "\($0)" } ?? "command \(rawVerb)"
        let role = ModelRole(rawValue: rawRole).map { " \($0)" } ?? ""
        let what = applied ? "applied" : "rejected (\(rejection.map { "\($0)" } ?? "malformed")): \(message)"
        return
            "control: command \(commandId) \(verb)\(role) \(what); live=\(Self.short(roles.liveVersion, roles.liveModelId)) "
            + "shadow=\(Self.short(roles.shadowVersion, roles.shadowModelId)) "
            + "canary=\(Self.short(roles.canaryVersion, roles.canaryModelId)) percent=\(roles.canaryPercent) "
            + "paused=\(roles.paused) from market sequence \(firstMarketSequence)"
    }

    static func short(_ v: VersionDigest, _ id: UInt64) -> String {
        if !v.isZero { return String(v.hex.prefix(12)) }
        return id == 0 ? "-" : "model:\(String(id, radix: 16))"
    }
}

/// Why a recorded control record could not be re-applied in a replay.
public struct ControlReplayError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

extension StrategyLoop {
    /// The roles in force now.
    public var roles: RoleState {
        var r = RoleState()
        r.liveModelId = live.id
        r.shadowModelId = shadow.id
        r.canaryModelId = canary.id
        r.liveVersion = live.version
        r.shadowVersion = shadow.version
        r.canaryVersion = canary.version
        r.canaryPercent = canaryPercent
        r.paused = paused
        return r
    }

    /// The exchange time of the last market message processed (a control record's exchange time).
    public var lastMarketExchangeTime: Int64 { lastExchangeTime }

    /// Notes a market message as processed (what `run` does after each one): drivers that call
    /// `decide` themselves (the decision verifier) call it so control records carry the same
    /// exchange time as live.
    @inlinable
    public mutating func processed(_ m: MarketMessageView) { lastExchangeTime = m.exchangeTime }

    /// Prepares a version (read, verify, compile through the loader, check its features), so that
    /// a later `load` of it is a swap. Off the message path.
    /// - Throws: `VersionFailure` (unloadable, feature mismatch, no registry).
    public mutating func prepare(_ version: VersionDigest) throws(VersionFailure) {
        _ = try prepared(version, runtimeId: 0)
    }

    /// Prepares an already loaded version (checked against the definition). Off the message path.
    public mutating func prepare(_ v: PreparedVersion) throws(VersionFailure) {
        if let m = v.mismatch(names: engine.definition.names, definition: definitionDigest) { throw m }
        _ = remember(v)
    }

    /// The role value of `version`, preparing it through the loader when it is not cached yet.
    mutating func prepared(_ version: VersionDigest, runtimeId: UInt64) throws(VersionFailure) -> _RoleModel {
        if cache.find(version: version, id: 0) == nil {
            guard let loader else {
                throw VersionFailure(
                    .noRegistry,
                    "no registry to load version \(version.hex) from (started from files)"
                )
            }
            let v = try loader(version)
            guard v.version == version else {
                throw VersionFailure(.unloadable, "the loader returned version \(v.version.hex) for \(version.hex)")
            }
            if let m = v.mismatch(names: engine.definition.names, definition: definitionDigest) { throw m }
            _ = remember(v)
        }
        // Safe to unwrap: found above or just added.
        let m = cache.find(version: version, id: 0)!
        if runtimeId != 0, m.id != runtimeId {
            throw VersionFailure(
                .unloadable,
                "version \(version.hex) has runtime id \(String(m.id, radix: 16)), the command says \(String(runtimeId, radix: 16))"
            )
        }
        return m
    }

    /// The swap: points `role` at the prepared version `version` — a scan of the cache's trivial
    /// table and a few stores, no allocation, retain, lock or syscall (`Tools/hot-path-check`
    /// reads this function's machine code). False when the version is not prepared.
    @inline(never)
    public mutating func _swap(_ role: ModelRole, to version: VersionDigest) -> Bool {
        guard let m = cache.find(version: version, id: 0) else { return false }
        switch role {
        case .live: live = m
        case .shadow: shadow = m
        case .canary: canary = m
        }
        return true
    }

    /// Applies a command addressed to this strategy between two market messages and publishes its
    /// control record (applied or rejected) into `producer`. A `load` or `rollback` of a version
    /// not prepared yet goes through the loader first (reading and compiling it here, before the
    /// swap); one already prepared is a swap of a few stored values.
    /// - Parameters:
    ///   - command: a decoded, validated command (`ControlCommand.decode`).
    ///   - nextMarketSequence: the market sequence the loop reads next: the first processed
    ///     under the new state.
    ///   - producer: the strategy's `decisions.<name>` ring.
    /// - Returns: what happened, with the roles after it.
    @discardableResult
    public mutating func apply(
        _ command: ControlCommand,
        nextMarketSequence: UInt64,
        into producer: inout RingProducer
    ) -> ControlOutcome {
        var failure: VersionFailure?
        do throws(VersionFailure) {
            try _apply(command)
        } catch { failure = error }
        let sequence = publishControlRecord(
            commandId: command.commandId,
            rawVerb: command.verb.rawValue,
            rawRole: command.role?.rawValue ?? 0,
            applied: failure == nil,
            rejection: failure?.rejection,
            message: failure?.message ?? "",
            commandPublishTime: command.publishTime,
            firstMarketSequence: nextMarketSequence,
            into: &producer
        )
        _controlTelemetry(applied: failure == nil)
        if failure == nil, command.verb == .resume { _resumed(into: &producer) }
        return ControlOutcome(
            commandId: command.commandId,
            rawVerb: command.verb.rawValue,
            rawRole: command.role?.rawValue ?? 0,
            applied: failure == nil,
            rejection: failure?.rejection,
            message: failure?.message ?? "",
            roles: roles,
            firstMarketSequence: nextMarketSequence,
            commandPublishTime: command.publishTime,
            recordSequence: sequence
        )
    }

    /// The state change itself; throws (changing nothing) when the command cannot apply.
    mutating func _apply(_ c: ControlCommand) throws(VersionFailure) {
        switch c.verb {
        case .load:
            guard let role = c.role else { throw VersionFailure(.malformed, "a load needs a role") }
            _ = try prepared(c.version, runtimeId: c.runtimeId)
            _ = _swap(role, to: c.version)
        case .rollback:
            guard !c.version.isZero else {
                throw VersionFailure(.malformed, "a rollback needs the id of the version to load live")
            }
            _ = try prepared(c.version, runtimeId: c.runtimeId)
            _ = _swap(.live, to: c.version)
        case .canary:
            guard c.percent <= 100 else { throw VersionFailure(.malformed, "canary percent \(c.percent) > 100") }
            guard c.percent == 0 || canary.evaluator != nil else {
                throw VersionFailure(.emptyRole, "canary \(c.percent)% needs a canary version loaded first")
            }
            canaryPercent = c.percent
        case .promote:
            guard canary.evaluator != nil else { throw VersionFailure(.emptyRole, "no canary to promote") }
            live = canary
            canary = .empty
            canaryPercent = 0
        case .demote:
            guard live.evaluator != nil else { throw VersionFailure(.emptyRole, "no live version to demote") }
            shadow = live
            live = .empty
        case .pause: paused = true
        case .resume: paused = false
        }
    }

    /// One slot of ring `control`: decoded, filtered by address, applied. A malformed slot is
    /// answered with a rejected control record when it carries a command id, else only counted;
    /// either way the loop keeps running on its current models.
    /// - Returns: nil for a command addressed to another strategy.
    mutating func _control(
        _ slot: SlotBytes,
        strategy: String,
        nextMarketSequence: UInt64,
        into producer: inout RingProducer
    ) -> ControlOutcome? {
        let command: ControlCommand
        do throws(ControlDecodeError) {
            // No text: the strategy needs none of it, and building it would allocate before the swap.
            command = try ControlCommand.decode(slot.base, size: slot.count, text: false)
        } catch {
            guard slot.count >= ControlCommandLayout.slotSize else {
                return malformed(slot, error, nextMarketSequence: nextMarketSequence, into: &producer)
            }
            // The address, if it can be read: another strategy's broken command is not ours to answer.
            if let to = try? FixedText.load(
                slot.base + ControlCommandLayout.strategy,
                size: ControlCommandLayout.strategySize,
                field: "strategy"
            ), !to.isEmpty, to != strategy {
                return nil
            }
            return malformed(slot, error, nextMarketSequence: nextMarketSequence, into: &producer)
        }
        guard
            FixedText.addresses(
                slot.base + ControlCommandLayout.strategy,
                size: ControlCommandLayout.strategySize,
                strategy
            )
        else { return nil }
        return apply(command, nextMarketSequence: nextMarketSequence, into: &producer)
    }

    mutating func malformed(
        _ slot: SlotBytes,
        _ error: ControlDecodeError,
        nextMarketSequence: UInt64,
        into producer: inout RingProducer
    ) -> ControlOutcome {
        let big = slot.count >= ControlCommandLayout.slotSize
        let id =
            big
            ? UInt64(
                littleEndian: slot.base.loadUnaligned(fromByteOffset: ControlCommandLayout.commandId, as: UInt64.self)
            ) : 0
        let verb = big ? slot.base.load(fromByteOffset: ControlCommandLayout.command, as: UInt8.self) : 0
        let role = big ? slot.base.load(fromByteOffset: ControlCommandLayout.role, as: UInt8.self) : 0
        let published =
            big
            ? Int64(
                littleEndian: slot.base.loadUnaligned(fromByteOffset: ControlCommandLayout.publishTime, as: Int64.self)
            ) : 0
        stats?.recordMalformedControl()
        var sequence: UInt64?
        if id != 0 {
            sequence = publishControlRecord(
                commandId: id,
                rawVerb: verb,
                rawRole: role,
                applied: false,
                rejection: .malformed,
                message: "\(error)",
                commandPublishTime: published,
                firstMarketSequence: nextMarketSequence,
                into: &producer
            )
            _controlTelemetry(applied: false)
        }
        return ControlOutcome(
            commandId: id,
            rawVerb: verb,
            rawRole: role,
            applied: false,
            rejection: .malformed,
            message: "\(error)",
            roles: roles,
            firstMarketSequence: nextMarketSequence,
            commandPublishTime: published,
            recordSequence: sequence
        )
    }

    /// Publishes a control record (kind 101, `ControlRecordLayout`) stating the roles now in force.
    /// Off the message path (it writes strings).
    @discardableResult
    mutating func publishControlRecord(
        commandId: UInt64,
        rawVerb: UInt8,
        rawRole: UInt8,
        applied: Bool,
        rejection: ControlRejection?,
        message: String,
        commandPublishTime: Int64,
        firstMarketSequence: UInt64,
        extraFlags: UInt16 = 0,
        into producer: inout RingProducer
    ) -> UInt64 {
        let r = roles
        let size = slotSize
        let exchangeTime = lastExchangeTime
        return producer.publish { p in
            // Safe: the slot is `slotSize` bytes (checked >= ControlRecordLayout.size at init).
            (p + 8).initializeMemory(as: UInt8.self, repeating: 0, count: size - 8)
            var flags: UInt16 = (applied ? ControlRecordLayout.applied : 0) | extraFlags
            if r.paused { flags |= ControlRecordLayout.paused }
            p.storeBytes(of: ControlRecordLayout.kindValue, toByteOffset: ControlRecordLayout.kind, as: UInt16.self)
            p.storeBytes(of: flags, toByteOffset: ControlRecordLayout.flags, as: UInt16.self)
            p.storeBytes(of: rawVerb, toByteOffset: ControlRecordLayout.command, as: UInt8.self)
            p.storeBytes(of: rawRole, toByteOffset: ControlRecordLayout.role, as: UInt8.self)
            p.storeBytes(of: r.canaryPercent, toByteOffset: ControlRecordLayout.canaryPercent, as: UInt8.self)
            p.storeBytes(
                of: ControlRecordLayout.layoutVersionValue,
                toByteOffset: ControlRecordLayout.layoutVersion,
                as: UInt8.self
            )
            p.storeBytes(of: firstMarketSequence, toByteOffset: ControlRecordLayout.marketSequence, as: UInt64.self)
            p.storeBytes(of: exchangeTime, toByteOffset: ControlRecordLayout.exchangeTime, as: Int64.self)
            p.storeBytes(of: rejection?.rawValue ?? 0, toByteOffset: ControlRecordLayout.rejection, as: UInt32.self)
            p.storeBytes(of: commandPublishTime, toByteOffset: ControlRecordLayout.commandPublishTime, as: Int64.self)
            p.storeBytes(of: commandId, toByteOffset: ControlRecordLayout.commandId, as: UInt64.self)
            p.storeBytes(of: r.liveModelId, toByteOffset: ControlRecordLayout.liveModelId, as: UInt64.self)
            p.storeBytes(of: r.shadowModelId, toByteOffset: ControlRecordLayout.shadowModelId, as: UInt64.self)
            p.storeBytes(of: r.canaryModelId, toByteOffset: ControlRecordLayout.canaryModelId, as: UInt64.self)
            r.liveVersion.store(to: p, at: ControlRecordLayout.liveVersion)
            r.shadowVersion.store(to: p, at: ControlRecordLayout.shadowVersion)
            r.canaryVersion.store(to: p, at: ControlRecordLayout.canaryVersion)
            FixedText.store(message, to: p + ControlRecordLayout.message, size: ControlRecordLayout.messageSize)
            p.storeBytes(
                of: Int64(bitPattern: tb_monotonic_ns()),
                toByteOffset: ControlRecordLayout.publishTime,
                as: Int64.self
            )
        }
    }

    /// Replay: sets exactly the state a recorded control record states (an applied one; a
    /// rejected one changes nothing), preparing each version it names through the loader, and
    /// republishes the record with this loop's own view of the roles, first market sequence and
    /// exchange time, so that a verifier can compare it with the recorded one.
    /// - Throws: `ControlReplayError` when a version cannot be prepared or its runtime id
    ///   differs from the record's.
    @discardableResult
    public mutating func replay(
        _ record: ControlRecordView,
        nextMarketSequence: UInt64,
        into producer: inout RingProducer
    ) throws(ControlReplayError) -> UInt64 {
        if record.applied, !record.isRisk {
            let r = record.roles
            let newLive = try restored(r.liveVersion, r.liveModelId, "live")
            let newShadow = try restored(r.shadowVersion, r.shadowModelId, "shadow")
            let newCanary = try restored(r.canaryVersion, r.canaryModelId, "canary")
            live = newLive
            shadow = newShadow
            canary = newCanary
            canaryPercent = r.canaryPercent
            paused = r.paused
        }
        let sequence = publishControlRecord(
            commandId: record.commandId,
            rawVerb: record.rawCommand,
            rawRole: record.base.load(fromByteOffset: ControlRecordLayout.role, as: UInt8.self),
            applied: record.applied,
            rejection: record.rejection,
            message: record.message,
            commandPublishTime: record.commandPublishTime,
            firstMarketSequence: nextMarketSequence,
            extraFlags: record.flags & ControlRecordLayout.risk,
            into: &producer
        )
        if record.applied, !record.isRisk, record.verb == .resume { _resumed(into: &producer) }
        return sequence
    }

    mutating func restored(
        _ version: VersionDigest,
        _ id: UInt64,
        _ role: String
    ) throws(ControlReplayError)
        -> _RoleModel
    {
        if version.isZero {
            if id == 0 { return .empty }
            // A model from a file: one this replay started with.
            guard let m = cache.find(version: .zero, id: id) else {
                throw ControlReplayError(
                    message:
                        "the record's \(role) model \(String(id, radix: 16)) has no version id and is none of the models this replay started with"
                )
            }
            return m
        }
        do throws(VersionFailure) {
            return try prepared(version, runtimeId: id)
        } catch {
            throw ControlReplayError(message: "the record's \(role) version \(version.hex): \(error.message)")
        }
    }

    /// Telemetry of an applied or rejected command: counted, with the roles after it and the
    /// wall-clock time it took effect (telemetry only; nothing a model reads).
    func _controlTelemetry(applied: Bool) {
        stats?.recordControl(applied: applied, roles: roles, wallTimeNs: Int64(bitPattern: tb_realtime_ns()))
    }

    /// Telemetry of the first decision under a new state: the swap latency.
    @usableFromInline
    func _swapped(latencyNs: UInt64) {
        stats?.recordSwapLatency(ns: latencyNs)
    }
}
