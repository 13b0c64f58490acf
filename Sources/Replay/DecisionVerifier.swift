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
public enum DecisionVerifier {
    /// The decision record's fields compared (all but the publish time at 48..<56).
    static let fields: [(name: String, offset: Int, size: Int)] = [
        ("sequence", 0, 8), ("kind", 8, 2), ("flags", 10, 2), ("feature_count", 12, 2), ("signal", 14, 1),
        ("pad15", 15, 1),
        ("market_sequence", 16, 8), ("exchange_time", 24, 8), ("instrument", 32, 4), ("pad36", 36, 4),
        ("receive_time", 40, 8),
        ("live_prediction", 56, 8), ("shadow_prediction", 64, 8), ("model_id", 72, 8), ("shadow_model_id", 80, 8),
        ("pad88", 88, 8),
    ]

    /// What a verification found.
    public struct Outcome: Sendable, Equatable {
        /// Market records read (up to and including end-of-session).
        public var market: UInt64 = 0
        /// Decisions reproduced and equal to the recorded ones.
        public var decisions: UInt64 = 0
        /// The first difference, nil when every decision was reproduced.
        public var firstDifference: String?
        /// `verified market=M decisions=D identical=BOOL`, the contract line.
        public var line: String {
            "verified market=\(market) decisions=\(decisions) identical=\(firstDifference == nil)"
        }
    }

    /// Verifies the decisions ring of the journal in `directory` against a re-run of `strategy`.
    /// - Parameters:
    ///   - market: the market ring to feed.
    ///   - decisions: the recorded decisions ring; nil: the journal's only `decisions.*` ring.
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
        let loop: StrategyLoop
        do { loop = try strategy.makeLoop(slotSize: recorded.slotSize) } catch { throw .strategy(error) }
        let bus = "verify-\(getpid())"
        defer { _ = try? Segment.removeBus(bus) }
        do {
            var producer = try RingProducer(
                bus: bus,
                ring: "decisions.verify",
                schema: .decisions,
                slotSize: recorded.slotSize,
                capacity: 1024
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
                loop: loop,
                strategy: strategy,
                producer: &producer,
                reader: &reader,
                log: log
            )
        } catch { throw .ring(error) }
    }

    /// The comparison loop: one market record in, at most one decision out and compared.
    static func compare(
        _ marketReader: JournalReader,
        _ recorded: JournalReader,
        loop: borrowing StrategyLoop,
        strategy: LoadedStrategy,
        producer: inout RingProducer,
        reader: inout RingReader,
        log: (String) -> Void
    ) -> Outcome {
        let engine = loop.engine
        let slotSize = recorded.slotSize
        var outcome = Outcome()
        var failure: String?
        loop: while let e = marketReader.next() {
            guard case .record(let p) = e else {
                log(
                    "replay: the market journal has a gap; the live strategy saw it too only if it read the same ring lossless"
                )
                continue
            }
            let m = MarketMessageView(p)
            outcome.market += 1
            if m.rawKind == MessageKind.endOfSession.rawValue { break }
            guard engine.update(m) else { continue }
            loop.decide(m, into: &producer)
            guard case .message(let mine) = reader.poll() else {
                failure = "internal: the verification ring returned nothing"
                break
            }
            let compared = outcome.decisions
            var rec: UnsafeRawPointer?
            while rec == nil {
                switch recorded.next() {
                case .record(let q)?: rec = q
                case .gap(let from, let count)?:
                    failure =
                        "the recorded decisions have a gap of \(count) from sequence \(from): nothing to compare with"
                    break loop
                case nil:
                    failure =
                        "replay made decision \(compared) (market sequence \(m.sequence)) but the recording has only \(compared) decisions"
                        + (recorded.stopError.map { " (the decisions journal stops early: \($0))" } ?? "")
                    break loop
                }
            }
            let q = rec!
            // Safe: both records are `slotSize` bytes (the private ring has the recording's slot size).
            if let d = difference(
                mine.base,
                q,
                slotSize: slotSize,
                features: engine.count,
                names: strategy.definition.names
            ) {
                failure = "decision \(compared) (market sequence \(m.sequence)): \(d)"
                break loop
            }
            outcome.decisions += 1
        }
        // A market journal that stops early (a bad block, a torn tail) is a failure that names where:
        // the decisions after that point cannot be reproduced, and "N reproduced" alone would hide why.
        if failure == nil, let e = marketReader.stopError {
            failure = "the market journal stops early: \(e); \(outcome.decisions) decisions reproduced before it"
        }
        if failure == nil, case .record? = recorded.next() {
            failure = "the recording has more decisions than the replay made (\(outcome.decisions) reproduced)"
        }
        outcome.firstDifference = failure
        return outcome
    }

    /// The first field or feature where a replayed record differs from the recorded one, or nil.
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

    /// A field as printed in a difference: predictions as a double and its bit pattern, others as integers.
    static func fieldValue(_ p: UnsafeRawPointer, _ f: (name: String, offset: Int, size: Int)) -> String {
        switch f.name {
        case "live_prediction", "shadow_prediction":
            let v = p.load(fromByteOffset: f.offset, as: Double.self)
            return "\(v) (0x\(String(v.bitPattern, radix: 16)))"
        default:
            var v: UInt64 = 0
            for i in 0..<f.size { v |= UInt64(p.load(fromByteOffset: f.offset + i, as: UInt8.self)) << (8 * UInt64(i)) }
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
