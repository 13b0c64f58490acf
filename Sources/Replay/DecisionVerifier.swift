import Features
import Journal
import Strategy
import TickBusCore

#if canImport(Glibc)
import Glibc
#endif

/// `replay --verify-decisions` and the demo's check: feeds a journal's market ring, record by
/// record (the exact slot bytes the live strategy read), through the same `StrategyLoop.decide`
/// into a private ring, and compares each decision with the recorded one field by field. Publish
/// time (a clock read) is the one field not compared; everything else must be equal bit for bit.
///
/// Across swaps: the recorded ring holds control records (kind 101) between the decisions. An
/// applied one sets the replayed loop's state exactly as the record states it (roles by version
/// id, each prepared through the strategy's loader, i.e. the registry given to replay; canary
/// percent; paused) before the market message with the record's first market sequence; a
/// rejected one changes nothing. Either way the replay republishes it (`StrategyLoop.replay`) and
/// compares it with the recorded one, so the replay must reach it at the same market sequence,
/// after the same exchange time, with the same model ids.
///
/// Paper trading (the strategy ran with `--execution E.toml`; give the same file): the replay
/// runs the same `StrategyLoop.step`, so it publishes the same orders (102), order events (103),
/// fills (104), risk records (105) and risk pauses (control records with the `risk` flag, outputs
/// never re-applied) in the same places of the sequence; every record is compared with the
/// recorded one, all bytes of the slot but the publish time.
public enum DecisionVerifier {
    typealias Field = (name: String, offset: Int, size: Int)

    /// The decision record's fields compared (all but the publish time at 48..<56), layout v2.
    static let fields: [Field] = [
        ("sequence", 0, 8), ("kind", 8, 2), ("flags", 10, 2), ("feature_count", 12, 2), ("signal", 14, 1),
        ("layout_version", 15, 1), ("market_sequence", 16, 8), ("exchange_time", 24, 8), ("instrument", 32, 4),
        ("canary_percent", 36, 1), ("pad37", 37, 3), ("receive_time", 40, 8),
        ("live_prediction", 56, 8), ("shadow_prediction", 64, 8), ("canary_prediction", 72, 8),
        ("model_id", 80, 8), ("shadow_model_id", 88, 8), ("canary_model_id", 96, 8), ("pad104", 104, 8),
    ]

    /// The control record's fields compared (all but its publish time at 48..<56).
    static let controlFields: [Field] = [
        ("sequence", 0, 8), ("kind", 8, 2), ("flags", 10, 2), ("command", 12, 1), ("role", 13, 1),
        ("canary_percent", 14, 1), ("layout_version", 15, 1), ("first_market_sequence", 16, 8),
        ("exchange_time", 24, 8), ("rejection", 32, 4), ("pad36", 36, 4), ("command_publish_time", 40, 8),
        ("command_id", 56, 8), ("live_model_id", 64, 8), ("shadow_model_id", 72, 8), ("canary_model_id", 80, 8),
        ("live_version", 88, 32), ("shadow_version", 120, 32), ("canary_version", 152, 32), ("message", 184, 72),
    ]

    /// What a verification found.
    public struct Outcome: Sendable, Equatable {
        /// Market records read (up to and including end-of-session).
        public var market: UInt64 = 0
        /// Decisions reproduced and equal to the recorded ones.
        public var decisions: UInt64 = 0
        /// Control records re-applied (or, rejected ones, passed) and equal to the recorded ones
        /// (risk pauses included).
        public var controls: UInt64 = 0
        /// Execution records (orders, order events, fills, risk events) reproduced and equal.
        public var execution: UInt64 = 0
        /// The first difference, nil when every decision was reproduced.
        public var firstDifference: String?
        /// `verified market=M decisions=D [controls=C ][execution=E ]identical=BOOL`, the contract
        /// line (`controls=` only when the recording has control records, `execution=` only when it
        /// has execution records).
        public var line: String {
            "verified market=\(market) decisions=\(decisions) "
                + (controls > 0 ? "controls=\(controls) " : "") + (execution > 0 ? "execution=\(execution) " : "")
                + "identical=\(firstDifference == nil)"
        }
    }

    /// Verifies the decisions ring of the journal in `directory` against a re-run of `strategy`.
    /// - Parameters:
    ///   - market: the market ring to feed.
    ///   - decisions: the recorded decisions ring; nil: the journal's only `decisions.*` ring.
    ///   - strategy: the models the session started with; its `loader` prepares the versions
    ///     control records name (nil: a record naming a version not prepared is a difference).
    ///   - log: warnings (a gap in the market journal, a journal that stops early).
    /// - Throws: `DecisionVerifierError` when the journal or the strategy cannot be opened.
    public static func run(
        directory: String,
        market: String = "market",
        decisions: String?,
        strategy: LoadedStrategy,
        log: (String) -> Void = { _ in }
    ) throws(DecisionVerifierError) -> Outcome {
        let decisionRing: String
        if let decisions {
            decisionRing = decisions
        } else {
            let found: [String]
            do { found = try JournalDirectory.rings(directory).map(\.ring).filter { $0.hasPrefix("decisions.") } } catch
            { throw .journal(error) }
            guard found.count == 1 else { throw .decisionsRing(directory: directory, found: found) }
            decisionRing = found[0]
        }
        let marketReader: JournalReader
        let recorded: JournalReader
        do {
            marketReader = try JournalReader(directory: directory, ring: market)
            recorded = try JournalReader(directory: directory, ring: decisionRing)
        } catch { throw .journal(error) }
        guard marketReader.schema == .market, recorded.schema == .decisions else {
            throw .schemas(directory: directory, market: market, decisions: decisionRing)
        }
        var loop: StrategyLoop
        do { loop = try strategy.makeLoop(slotSize: recorded.slotSize) } catch { throw .strategy(error) }
        let bus = "verify-\(getpid())"
        defer { _ = try? Segment.removeBus(bus) }
        do {
            var producer = try RingProducer(
                bus: bus,
                ring: "decisions.verify",
                schema: .decisions,
                slotSize: recorded.slotSize,
                // One market message may publish many records (a pause cancels every order): drained after each.
                capacity: 1 << 14
            )
            var reader = try RingReader(
                bus: bus,
                ring: "decisions.verify",
                name: "verify",
                mode: .live,
                from: .start,
                idle: .backoff
            )
            return compare(
                marketReader,
                recorded,
                loop: &loop,
                strategy: strategy,
                producer: &producer,
                reader: &reader,
                log: log
            )
        } catch { throw .ring(error) }
    }

    /// The recorded ring, one record ahead: control records are looked at before the market
    /// message they precede.
    struct Recorded {
        let reader: JournalReader
        var pending: UnsafeRawPointer?
        var failure: String?

        /// The next decision or control record, kept until `consume`; nil at the end (or a gap: `failure`).
        mutating func peek() -> UnsafeRawPointer? {
            while pending == nil {
                switch reader.next() {
                case .record(let q)?: pending = q
                case .gap(let from, let count)?:
                    failure =
                        "the recorded decisions have a gap of \(count) from sequence \(from): nothing to compare with"
                    return nil
                case nil: return nil
                }
            }
            return pending
        }
        mutating func consume() { pending = nil }
    }

    /// The comparison loop: control records due are re-applied, then one market record through
    /// `StrategyLoop.step`, and every record it published compared with the recorded ones.
    static func compare(
        _ marketReader: JournalReader,
        _ recordedReader: JournalReader,
        loop: inout StrategyLoop,
        strategy: LoadedStrategy,
        producer: inout RingProducer,
        reader: inout RingReader,
        log: (String) -> Void
    ) -> Outcome {
        let engine = loop.engine
        let slotSize = recordedReader.slotSize
        var recorded = Recorded(reader: recordedReader)
        var outcome = Outcome()
        var failure: String?
        var next: UInt64?  // the market sequence after the last one fed

        /// Compares every record the replay published since the last call with the next recorded
        /// ones, in order; `at` names the market sequence being processed.
        func drain(at s: UInt64) -> String? {
            while case .message(let mine) = reader.poll() {
                let kind = mine.base.load(fromByteOffset: RecordHeader.kind, as: UInt16.self)
                guard let q = recorded.peek() else {
                    return recorded.failure
                        ?? "the replay published a record of kind \(kind) at market sequence \(s) (after \(outcome.decisions) decisions) but the recording has no more"
                        + (recordedReader.stopError.map { " (the decisions journal stops early: \($0))" } ?? "")
                }
                let recordedKind = q.load(fromByteOffset: RecordHeader.kind, as: UInt16.self)
                let at = "record \(mine.base.load(as: UInt64.self)) (market sequence \(s))"
                guard recordedKind == kind else {
                    return
                        "\(at): the replay published a record of kind \(kind), the recording has kind \(recordedKind)"
                        + (recordedKind == ControlRecordLayout.kindValue
                            ? " (control record of command \(ControlRecordView(q).commandId))" : "")
                }
                // Safe: both records are `slotSize` bytes (the private ring has the recording's slot size).
                switch kind {
                case DecisionLayout.kindValue:
                    if let d = difference(
                        mine.base,
                        q,
                        slotSize: slotSize,
                        features: engine.count,
                        names: strategy.definition.names
                    ) {
                        return "decision \(outcome.decisions) (market sequence \(s)): \(d)"
                    }
                    outcome.decisions += 1
                case ControlRecordLayout.kindValue:
                    if let d = difference(mine.base, q, controlFields, slotSize: slotSize) {
                        return
                            "control record of command \(ControlRecordView(q).commandId) (market sequence \(s)): \(d)"
                    }
                    outcome.controls += 1
                default:
                    if let d = executionDifference(mine.base, q, kind: kind, slotSize: slotSize) {
                        return "\(at), kind \(kind): \(d)"
                    }
                    outcome.execution += 1
                }
                recorded.consume()
            }
            return nil
        }

        /// Re-applies every control record due before market sequence `s` (commands; a risk
        /// pause is the output of a market message, compared when the replay publishes it); a
        /// difference ends it.
        func controls(before s: UInt64) -> String? {
            while let q = recorded.peek(), q.load(fromByteOffset: RecordHeader.kind, as: UInt16.self) == 101 {
                let r = ControlRecordView(q)
                if r.isRisk { return nil }
                let f = r.firstMarketSequence
                if f > s { return nil }
                if f < s {
                    return
                        "control record of command \(r.commandId) takes effect from market sequence \(f), but the replay had already processed up to \(s - 1)"
                }
                do throws(ControlReplayError) {
                    try loop.replay(r, nextMarketSequence: s, into: &producer)
                } catch {
                    return "control record of command \(r.commandId) (market sequence \(f)): \(error)"
                }
                if let d = drain(at: s) { return d }
            }
            return recorded.failure
        }

        loop: while let e = marketReader.next() {
            guard case .record(let p) = e else {
                log(
                    "replay: the market journal has a gap; the live strategy saw it too only if it read the same ring lossless"
                )
                continue
            }
            let m = MarketMessageView(p)
            outcome.market += 1
            if let f = controls(before: m.sequence) {
                failure = f
                break
            }
            next = m.sequence &+ 1
            if m.rawKind == MessageKind.endOfSession.rawValue {
                loop.finishSession(into: &producer)
                failure = drain(at: m.sequence)
                break
            }
            loop.step(m, into: &producer)
            if let f = drain(at: m.sequence) {
                failure = f
                break loop
            }
        }
        // Control records applied after the last market message (while the strategy was idle).
        if failure == nil, let next { failure = controls(before: next) }
        // A market journal that stops early (a bad block, a torn tail) is a failure that names where:
        // the decisions after that point cannot be reproduced, and "N reproduced" alone would hide why.
        if failure == nil, let e = marketReader.stopError {
            failure = "the market journal stops early: \(e); \(outcome.decisions) decisions reproduced before it"
        }
        if failure == nil, recorded.peek() != nil {
            failure =
                "the recording has more records than the replay made (\(outcome.decisions) decisions, \(outcome.controls) control records and \(outcome.execution) execution records reproduced)"
        }
        if failure == nil, let f = recorded.failure { failure = f }
        outcome.firstDifference = failure
        return outcome
    }

    /// The first byte range where a replayed execution record (kinds 102–105) differs from the
    /// recorded one, or nil: every byte of the slot but the publish time (48..<56).
    static func executionDifference(
        _ mine: UnsafeRawPointer,
        _ q: UnsafeRawPointer,
        kind: UInt16,
        slotSize: Int
    )
        -> String?
    {
        var o = 0
        while o < slotSize {
            if o != RecordHeader.publishTime, memcmp(mine + o, q + o, 8) != 0 {
                let a = q.loadUnaligned(fromByteOffset: o, as: UInt64.self)
                let b = mine.loadUnaligned(fromByteOffset: o, as: UInt64.self)
                return
                    "bytes \(o)..<\(o + 8) differ: recorded 0x\(String(a, radix: 16)), replayed 0x\(String(b, radix: 16))"
            }
            o += 8
        }
        return nil
    }

    /// The first field where a replayed record differs from the recorded one, or nil.
    static func difference(_ mine: UnsafeRawPointer, _ q: UnsafeRawPointer, _ table: [Field], slotSize: Int) -> String?
    {
        for f in table where memcmp(mine + f.offset, q + f.offset, f.size) != 0 {
            return "field \(f.name) differs: recorded \(fieldValue(q, f)), replayed \(fieldValue(mine, f))"
        }
        let end = ControlRecordLayout.size
        if slotSize > end, memcmp(mine + end, q + end, slotSize - end) != 0 {
            return "bytes \(end)..<\(slotSize) after the record differ"
        }
        return nil
    }

    /// The first field or feature where a replayed decision differs from the recorded one, or nil.
    static func difference(
        _ mine: UnsafeRawPointer,
        _ q: UnsafeRawPointer,
        slotSize: Int,
        features: Int,
        names: [String]
    ) -> String? {
        for f in fields where memcmp(mine + f.offset, q + f.offset, f.size) != 0 {
            return "field \(f.name) differs: recorded \(fieldValue(q, f)), replayed \(fieldValue(mine, f))"
        }
        for i in 0..<((slotSize - DecisionLayout.features) / 8) {
            let o = DecisionLayout.features + 8 * i
            if memcmp(mine + o, q + o, 8) != 0 {
                let a = q.load(fromByteOffset: o, as: Double.self)
                let b = mine.load(fromByteOffset: o, as: Double.self)
                let what = i < features ? "feature \(i) (\(names[i]))" : "bytes \(o)..<\(o + 8) after the features"
                return
                    "\(what) differs: recorded \(a) (0x\(String(a.bitPattern, radix: 16))), replayed \(b) (0x\(String(b.bitPattern, radix: 16)))"
            }
        }
        return nil
    }

    /// A field as printed in a difference: predictions as a double and its bit pattern, version
    /// ids as hex, the message as text, others as integers.
    static func fieldValue(_ p: UnsafeRawPointer, _ f: Field) -> String {
        switch f.name {
        case "live_prediction", "shadow_prediction", "canary_prediction":
            let v = p.load(fromByteOffset: f.offset, as: Double.self)
            return "\(v) (0x\(String(v.bitPattern, radix: 16)))"
        case "live_version", "shadow_version", "canary_version":
            return VersionDigest(loading: p, at: f.offset).hex
        case "message":
            let b = UnsafeRawBufferPointer(start: p + f.offset, count: f.size)
            return "'\(String(decoding: b[..<(b.firstIndex(of: 0) ?? b.count)], as: UTF8.self))'"
        default:
            var v: UInt64 = 0
            for i in 0..<min(f.size, 8) {
                v |= UInt64(p.load(fromByteOffset: f.offset + i, as: UInt8.self)) << (8 * UInt64(i))
            }
            return "\(v)"
        }
    }
}

/// Why a verification could not start.
public enum DecisionVerifierError: Error, CustomStringConvertible {
    /// The journal directory or one of its rings cannot be read.
    case journal(JournalError)
    /// No `--decisions` given and the journal has not exactly one `decisions.*` ring.
    case decisionsRing(directory: String, found: [String])
    /// The rings named are not a market ring and a decisions ring.
    case schemas(directory: String, market: String, decisions: String)
    /// The strategy's loop refused the recording's slot size.
    case strategy(StrategyLoadError)
    /// The private verification ring could not be created.
    case ring(SegmentError)

    public var description: String {
        switch self {
        case .journal(let e): return "\(e)"
        case .decisionsRing(let directory, let found):
            return
                "\(directory): \(found.isEmpty ? "no decisions.* ring" : "several decisions rings (\(found.joined(separator: ",")))"); name one with --decisions"
        case .schemas(let directory, let market, let decisions):
            return "\(directory): \(market) must be a market ring and \(decisions) a decisions ring"
        case .strategy(let e): return "\(e)"
        case .ring(let e): return "\(e)"
        }
    }
}
