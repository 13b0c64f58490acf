import CTickBus
import Features
import Feed
import Foundation
import Models
import Strategy
import TestSupport
import Testing
import TickBusCore

/// The strategy obeys ring `control` in-process: the test is the producer of `market` and
/// `control` and drives the loop phase by phase (each `run` returns once idle), so every command
/// lands before a known market sequence. Expected values come from independent references: the
/// models evaluated directly on the recorded features, FNV-1a written out here, the phase plan.
@Suite("Strategy control (in-process)", .serialized)
struct ControlLoopTests {
    static let names = ["mid", "spread", "imb", "ofi50", "ret1s", "vol_ev"]
    /// Every instrument (no `instrument =` filter), so canary routing has several to route.
    static let definition = """
        decide_on = "every"

        [signal]
        buy_above = 0.05
        sell_below = -0.05

        [[feature]]
        name = "mid"
        kind = "mid"
        [[feature]]
        name = "spread"
        kind = "spread"
        [[feature]]
        name = "imb"
        kind = "imbalance"
        [[feature]]
        name = "ofi50"
        kind = "ofi"
        events = 50
        [[feature]]
        name = "ret1s"
        kind = "return_time"
        window_ns = 1_000_000_000
        [[feature]]
        name = "vol_ev"
        kind = "volatility_events"
        alpha = 0.05
        """

    static func linear(_ coef: [Double], names: [String] = names, intercept: Double = 0.01) throws -> LoadedModel {
        let json =
            "{\"type\": \"linear\", \"feature_names\": [\(names.map { "\"\($0)\"" }.joined(separator: ","))], "
            + "\"coefficients\": [\(coef.map { "\($0)" }.joined(separator: ","))], \"intercept\": \(intercept)}"
        let bytes = Array(json.utf8)
        return LoadedModel(model: try Model.load(bytes: bytes), id: ModelFile.contentHash(bytes), path: "inline")
    }

    static func digest(_ n: UInt64) -> VersionDigest { VersionDigest(words: (n, 0xabcd, 0, 0)) }

    /// Independent FNV-1a 64 over the instrument's 4 little-endian bytes.
    static func bucket(_ instrument: UInt32) -> UInt8 {
        var h: UInt64 = 14_695_981_039_346_656_037
        for b in withUnsafeBytes(of: instrument.littleEndian, Array.init) {
            h ^= UInt64(b)
            h = h &* 1_099_511_628_211
        }
        return UInt8(h % 100)
    }

    struct Versions {
        var a, b, c, wrongCount, wrongNames: PreparedVersion
        var all: [PreparedVersion] { [a, b, c, wrongCount, wrongNames] }
    }

    static func versions() throws -> Versions {
        func v(_ n: UInt64, _ m: LoadedModel, features: [String] = names) -> PreparedVersion {
            PreparedVersion(version: digest(n), model: m, features: features, definition: nil, label: "v\(n)")
        }
        return Versions(
            a: v(1, try linear([1e-7, 0.1, 0.5, 0.001, 1, 2])),
            b: v(2, try linear([1e-7, -0.1, 0.25, 0.002, 2, 1])),
            c: v(3, try linear([0, 0.2, -0.5, 0.003, -1, 3], intercept: -0.02)),
            wrongCount: v(
                4,
                try linear([1, 2, 3, 4, 5], names: ["a", "b", "c", "d", "e"]),
                features: ["a", "b", "c", "d", "e"]
            ),
            wrongNames: v(
                5,
                try linear([1, 2, 3, 4, 5, 6]),
                features: ["mid", "spread", "imb", "ofi50", "ret1s", "other"]
            )
        )
    }

    /// The roles a phase runs under (nil: empty).
    struct State {
        var live: PreparedVersion?
        var shadow: PreparedVersion?
        var canary: PreparedVersion?
        var percent: UInt8 = 0
        var paused = false
    }

    /// What a control record must say.
    struct ExpectedRecord {
        var commandId: UInt64
        var rejection: ControlRejection?
        var phase: Int
        var rawVerb: UInt8
        /// The roles the record states (after the command).
        var after: State
    }

    static func command(
        _ verb: ControlVerb,
        _ id: UInt64,
        role: ModelRole? = nil,
        version: VersionDigest = .zero,
        percent: UInt8 = 0,
        to strategy: String = ""
    ) -> ControlCommand {
        ControlCommand(
            verb: verb,
            role: role,
            percent: percent,
            commandId: id,
            version: version,
            strategy: strategy,
            issuer: "test",
            reason: "phase",
            publishTime: Int64(bitPattern: tb_monotonic_ns())
        )
    }

    @Test(
        "A live + B shadow → B live → canary 30% with C → rollback to A → pause, demote, promote: roles switch exactly at the control records' sequences; bad commands are rejected and the loop keeps deciding"
    )
    func swapsAtControlRecords() throws {
        let bus = TickBusTest.uniqueBus("ctlloop")
        defer { TickBusTest.removeBus(bus) }
        let vs = try Self.versions()
        let known = Dictionary(uniqueKeysWithValues: vs.all.map { ($0.version, $0) })
        nonisolated(unsafe) var loads = 0
        let loader: VersionLoader = { (d: VersionDigest) throws(VersionFailure) -> PreparedVersion in
            loads += 1
            guard let v = known[d] else { throw VersionFailure(.unloadable, "no version matches \(d.hex)") }
            return v
        }
        let def = try FeatureDefinition.parse(Self.definition)
        var strategy = LoadedStrategy(definition: def, live: vs.a, shadow: vs.b)
        strategy.loader = loader
        var loop = try strategy.makeLoop(slotSize: DecisionLayout.defaultSlotSize)

        var market = try RingProducer(bus: bus, ring: "market", schema: .market, capacity: 1 << 15)
        var decisions = try RingProducer(
            bus: bus,
            ring: "decisions.S",
            schema: .decisions,
            slotSize: DecisionLayout.defaultSlotSize,
            capacity: 1 << 16
        )
        var controlRing = try RingProducer(bus: bus, ring: "control", schema: .control, slotSize: 256, capacity: 64)
        var reader = try RingReader(bus: bus, ring: "market", name: "S", from: .start)
        var control = ControlPort(
            reader: try RingReader(bus: bus, ring: "control", name: "S-control", from: .start),
            strategy: "S"
        )
        var source = SyntheticSource(seed: 7)
        var summaries: [StrategySummary] = []
        var phaseStart: [UInt64] = []
        var exchangeTimes: [Int64] = []

        /// Publishes the commands, then `n` market messages, and runs the loop until it is idle.
        func phase(_ n: Int, _ commands: [ControlCommand], raw: [(UnsafeMutableRawPointer) -> Void] = []) {
            for c in commands { _ = controlRing.publish { p in c.encode(into: p) } }
            for r in raw { _ = controlRing.publish(r) }
            phaseStart.append(market.published)
            for _ in 0..<n {
                guard let m = source.next() else { break }
                exchangeTimes.append(m.exchangeTime)
                _ = market.publish(m)
            }
            summaries.append(
                loop.run(reader: &reader, producer: &decisions, control: &control, idle: .backoff) { true }
            )
        }
        var states: [State] = [State(live: vs.a, shadow: vs.b)]
        var records: [ExpectedRecord] = []
        func expect(_ id: UInt64, _ verb: ControlVerb, _ rejection: ControlRejection? = nil, after: State? = nil) {
            records.append(
                ExpectedRecord(
                    commandId: id,
                    rejection: rejection,
                    phase: states.count - 1,
                    rawVerb: verb.rawValue,
                    after: after ?? states.last!
                )
            )
        }

        // Phase 0: A live, B shadow.
        phase(3000, [])
        // Phase 1: B live (already prepared: it is the shadow). A command for another strategy is ignored.
        states.append(State(live: vs.b, shadow: vs.b))
        expect(1, .load)
        phase(
            3000,
            [Self.command(.load, 1, role: .live, version: vs.b.version), Self.command(.pause, 90, to: "other")]
        )
        // Phase 2: C as canary, then 30 %.
        states.append(State(live: vs.b, shadow: vs.b, canary: vs.c, percent: 30))
        expect(2, .load, after: State(live: vs.b, shadow: vs.b, canary: vs.c))
        expect(3, .canary)
        phase(
            3000,
            [Self.command(.load, 2, role: .canary, version: vs.c.version), Self.command(.canary, 3, percent: 30)]
        )
        // Phase 3: bad input — an unknown version, a feature count and feature names that differ,
        // a malformed slot with a command id (verb 99) and one without — refused, nothing changes.
        states.append(states.last!)
        expect(4, .load, .unloadable)
        expect(5, .load, .featureMismatch)
        expect(6, .load, .featureMismatch)
        records.append(ExpectedRecord(commandId: 7, rejection: .malformed, phase: 3, rawVerb: 99, after: states[3]))
        phase(
            3000,
            [
                Self.command(.load, 4, role: .live, version: Self.digest(77)),
                Self.command(.load, 5, role: .shadow, version: vs.wrongCount.version),
                Self.command(.load, 6, role: .canary, version: vs.wrongNames.version),
            ],
            raw: [
                { p in
                    Self.command(.pause, 7).encode(into: p)
                    p.storeBytes(of: UInt8(99), toByteOffset: ControlCommandLayout.command, as: UInt8.self)
                },
                { p in
                    Self.command(.pause, 1).encode(into: p)
                    p.storeBytes(of: UInt64(0), toByteOffset: ControlCommandLayout.commandId, as: UInt64.self)
                },
            ]
        )
        // Phase 4: rollback to A (prepared at start: the loader is not called).
        let loadsBefore = loads
        states.append(State(live: vs.a, shadow: vs.b, canary: vs.c, percent: 30))
        expect(9, .rollback)
        phase(3000, [Self.command(.rollback, 9, version: vs.a.version)])
        #expect(loads == loadsBefore, "a rollback to a prepared version loads nothing")
        // Phase 5: paused.
        states.append(State(live: vs.a, shadow: vs.b, canary: vs.c, percent: 30, paused: true))
        expect(10, .pause)
        phase(2000, [Self.command(.pause, 10)])
        // Phase 6: resumed and demoted: A is the shadow, no live model; the canary still acts where routed.
        states.append(State(live: nil, shadow: vs.a, canary: vs.c, percent: 30))
        expect(11, .resume, after: State(live: vs.a, shadow: vs.b, canary: vs.c, percent: 30))
        expect(12, .demote)
        phase(2000, [Self.command(.resume, 11), Self.command(.demote, 12)])
        // Phase 7: the canary promoted; then a canary percent without a canary is refused.
        states.append(State(live: vs.c, shadow: vs.a))
        expect(13, .promote)
        expect(14, .canary, .emptyRole)
        phase(2000, [Self.command(.promote, 13), Self.command(.canary, 14, percent: 50)])
        phaseStart.append(market.published)

        #expect(summaries.reduce(0) { $0 + $1.messages } == market.published, "every market message read")
        #expect(summaries.allSatisfy { $0.lost == 0 && $0.gaps == 0 })
        #expect(summaries.reduce(0) { $0 + $1.commands } == 14)
        #expect(summaries.reduce(0) { $0 + $1.rejected } == 6)

        // The ring, in order.
        var out = try RingReader(bus: bus, ring: "decisions.S", name: "check", from: .start, expecting: .decisions)
        var ring: [[UInt8]] = []
        while case .message(let b) = out.poll() {
            ring.append(Array(UnsafeRawBufferPointer(start: b.base, count: b.count)))
        }
        #expect(ring.count == Int(decisions.published))

        let rule = def.signalRule
        var controlIndex = 0
        var lastDecisionSequence: UInt64?
        var routed = 0
        var unrouted = 0
        var decided = [Int](repeating: 0, count: states.count)
        var mismatches = 0
        for bytes in ring {
            bytes.withUnsafeBytes { raw in
                let base = raw.baseAddress!
                let d = DecisionRecordView(base)
                if d.kind == ControlRecordLayout.kindValue {
                    let r = ControlRecordView(base)
                    guard controlIndex < records.count else {
                        Issue.record("an unexpected control record \(r.commandId)")
                        return
                    }
                    let e = records[controlIndex]
                    controlIndex += 1
                    let s = e.after
                    let f = phaseStart[e.phase]
                    #expect(r.commandId == e.commandId)
                    #expect(r.rawCommand == e.rawVerb, "command \(e.commandId)")
                    #expect(r.applied == (e.rejection == nil), "command \(e.commandId): \(r.message)")
                    #expect(r.rawRejection == (e.rejection?.rawValue ?? 0), "command \(e.commandId): \(r.message)")
                    #expect(r.message.isEmpty == (e.rejection == nil), "command \(e.commandId): \(r.message)")
                    #expect(r.firstMarketSequence == f, "command \(e.commandId)")
                    #expect(r.exchangeTime == (f > 0 ? exchangeTimes[Int(f) - 1] : 0))
                    // The roles after a rejected command are those before it (its phase's).
                    let roles = r.roles
                    #expect(roles.liveModelId == (s.live?.model.id ?? 0), "command \(e.commandId)")
                    #expect(roles.shadowModelId == (s.shadow?.model.id ?? 0), "command \(e.commandId)")
                    #expect(roles.canaryModelId == (s.canary?.model.id ?? 0), "command \(e.commandId)")
                    #expect(roles.liveVersion == (s.live?.version ?? .zero))
                    #expect(roles.shadowVersion == (s.shadow?.version ?? .zero))
                    #expect(roles.canaryVersion == (s.canary?.version ?? .zero))
                    #expect(roles.paused == s.paused, "command \(e.commandId)")
                    #expect(roles.canaryPercent == s.percent, "command \(e.commandId)")
                    // Every decision before it is for an earlier market message, every one after for a later one.
                    if let l = lastDecisionSequence { #expect(l < f, "command \(e.commandId)") }
                    return
                }
                #expect(d.kind == DecisionLayout.kindValue)
                #expect(d.layoutVersion == DecisionLayout.layoutVersionValue)
                let m = d.marketSequence
                if let l = lastDecisionSequence { #expect(l < m) }
                lastDecisionSequence = m
                // The phase whose range holds m, and a control record of a later phase must not be due yet.
                let k = phaseStart.lastIndex { $0 <= m }!
                decided[k] += 1
                if controlIndex < records.count { #expect(phaseStart[records[controlIndex].phase] > m) }
                let s = states[k]
                let x = (0..<d.featureCount).map { d.feature($0) }
                func predicted(_ v: PreparedVersion?) -> Double {
                    guard let v else { return .nan }
                    var p = 0.0
                    x.withUnsafeBufferPointer { v.model.model.predict($0.baseAddress!, into: &p) }
                    return p
                }
                let live = predicted(s.live)
                let shadow = predicted(s.shadow)
                let canary = predicted(s.canary)
                let acts = s.canary != nil && Self.bucket(d.instrument) < s.percent
                if s.percent > 0 { if acts { routed += 1 } else { unrouted += 1 } }
                let acting = acts ? canary : live
                let signal: Int8 = s.paused || acting.isNaN ? 0 : rule.signal(acting)
                var flags: UInt16 = 0
                if s.live != nil { flags |= DecisionFlags.live }
                if s.shadow != nil { flags |= DecisionFlags.shadow }
                if s.canary != nil { flags |= DecisionFlags.canary }
                if acts { flags |= DecisionFlags.canaryActed }
                if s.paused { flags |= DecisionFlags.paused }
                let same =
                    d.modelId == (s.live?.model.id ?? 0) && d.shadowModelId == (s.shadow?.model.id ?? 0)
                    && d.canaryModelId == (s.canary?.model.id ?? 0) && d.canaryPercent == s.percent
                    && d.flags == flags && d.signal == signal
                    && d.livePrediction.bitPattern == live.bitPattern
                    && d.shadowPrediction.bitPattern == shadow.bitPattern
                    && d.canaryPrediction.bitPattern == canary.bitPattern
                    && d.actingModelId == (acts ? s.canary!.model.id : (s.live?.model.id ?? 0))
                    && (d.featureCount..<18).allSatisfy { d.feature($0).bitPattern == 0 }
                if !same {
                    mismatches += 1
                    if mismatches < 5 {
                        Issue.record(
                            "decision at market sequence \(m) (phase \(k)): ids \(d.modelId)/\(d.shadowModelId)/\(d.canaryModelId) flags \(d.flags) (expected \(flags)) signal \(d.signal) (expected \(signal))"
                        )
                    }
                }
            }
        }
        #expect(controlIndex == records.count, "control records seen: \(controlIndex) of \(records.count)")
        #expect(mismatches == 0)
        #expect(decided.allSatisfy { $0 > 100 }, "decisions per phase: \(decided)")
        #expect(routed > 100 && unrouted > 100, "routed \(routed), unrouted \(unrouted)")
        market.close()
        controlRing.close()
    }
}
