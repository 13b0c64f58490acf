import CTickBus
import Execution
import Features
import Feed
import Foundation
import Models
import Strategy
import TestSupport
import Testing
import TickBusCore

/// Paper trading in the strategy loop (in-process: the test is the producer of `market`): each
/// risk limit driven to breach, the records in `decisions.<name>` checked against what the rules
/// say, recomputed here from the records themselves (windows of send times, sums of fills).
@Suite("Paper trading (in-process)", .serialized)
struct PaperTradingTests {
    /// Every instrument, a decision at every message, a model that always says buy (its
    /// intercept alone is above buy_above).
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
        """

    static func alwaysBuy() throws -> LoadedModel {
        let json =
            "{\"type\": \"linear\", \"feature_names\": [\"mid\", \"spread\"], \"coefficients\": [0, 0], \"intercept\": 1.0}"
        let bytes = Array(json.utf8)
        return LoadedModel(model: try Model.load(bytes: bytes), id: ModelFile.contentHash(bytes), path: "inline")
    }

    /// A record of `decisions.<name>` as bytes (the slot) and its kind.
    struct Slot {
        var bytes: [UInt8]
        var kind: UInt16 { UInt16(bytes[8]) | UInt16(bytes[9]) << 8 }
        func with<R>(_ body: (UnsafeRawPointer) -> R) -> R { bytes.withUnsafeBytes { body($0.baseAddress!) } }
    }

    /// Runs the loop over `messages` synthetic messages (seed 11, 4 instruments) with the execution
    /// file `toml`; `between` runs after `pauseAt` messages (a command, e.g. resume).
    static func run(
        _ toml: String,
        messages: Int = 20_000,
        bus: String,
        between: ((inout StrategyLoop, inout RingProducer, UInt64) -> Void)? = nil,
        pauseAt: Int = 0
    ) throws -> (records: [Slot], summary: PaperTradingSummary?) {
        var strategy = LoadedStrategy(
            definition: try FeatureDefinition.parse(Self.definition),
            live: try alwaysBuy(),
            shadow: nil
        )
        strategy.execution = try ExecutionSettings.parse(toml)
        var loop = try strategy.makeLoop(slotSize: DecisionLayout.defaultSlotSize)
        var market = try RingProducer(bus: bus, ring: "market", schema: .market, capacity: 1 << 16)
        var decisions = try RingProducer(
            bus: bus,
            ring: "decisions.P",
            schema: .decisions,
            slotSize: DecisionLayout.defaultSlotSize,
            capacity: 1 << 18
        )
        var reader = try RingReader(bus: bus, ring: "market", name: "P", from: .start)
        var out = try RingReader(bus: bus, ring: "decisions.P", name: "test", from: .start)
        var source = SyntheticSource(seed: 11, instruments: 4)
        var records: [Slot] = []
        func drain() {
            while case .message(let b) = out.poll() {
                records.append(Slot(bytes: Array(UnsafeRawBufferPointer(start: b.base, count: b.count))))
            }
        }
        var fed = 0
        var summary: StrategySummary?
        while fed < messages {
            let chunk = min(4096, messages - fed, pauseAt > fed ? pauseAt - fed : messages)
            for _ in 0..<chunk {
                guard let m = source.next() else { break }
                _ = market.publish(m)
            }
            fed += chunk
            summary = loop.run(reader: &reader, producer: &decisions, idle: .backoff) { true }
            drain()
            if fed == pauseAt, let between { between(&loop, &decisions, market.published) }
            drain()
        }
        _ = summary
        return (records, loop.executionSummary())
    }

    static func orders(_ r: [Slot]) -> [Slot] { r.filter { $0.kind == OrderRecordLayout.kindValue } }
    static func risks(_ r: [Slot]) -> [Slot] { r.filter { $0.kind == RiskRecordLayout.kindValue } }
    static func fills(_ r: [Slot]) -> [Slot] { r.filter { $0.kind == FillRecordLayout.kindValue } }

    @Test("max_position: IOC buys until position + working reach the limit, then refused with code 1")
    func maxPosition() throws {
        let bus = TickBusTest.uniqueBus("papos")
        defer { TickBusTest.removeBus(bus) }
        let (records, summary) = try Self.run(
            "[orders]\nmode = \"cross\"\nsize = 100\n[risk]\nmax_position = 300",
            bus: bus
        )
        let refused = Self.risks(records).map { s in s.with { RiskRecordView($0) } }
        #expect(!refused.isEmpty)
        for r in refused {
            #expect(r.code == .refusedMaxPosition)
            #expect(r.limit == 300 && r.value > 300, "\(r.value)")
            #expect(r.orderId != 0)
        }
        // Recomputed from the fills: the position per instrument never passes 300, and each fill
        // record's position is the running sum of the fills before it.
        var position: [UInt32: Int64] = [:]
        for f in Self.fills(records).map({ s in s.with { FillRecordView($0) } }) {
            position[f.instrument, default: 0] += f.side == .buy ? Int64(f.quantity) : -Int64(f.quantity)
            #expect(f.positionAfter == position[f.instrument])
            #expect(abs(f.positionAfter) <= 300)
        }
        #expect(position.values.contains(300), "\(position)")
        #expect(summary?.refused == UInt64(refused.count))
        // No refused order id was sent.
        let sent = Set(Self.orders(records).map { s in s.with { OrderRecordView($0).orderId } })
        for r in refused { #expect(!sent.contains(r.orderId)) }
    }

    @Test(
        "max_orders_per_second: no rolling second of exchange time holds more than the limit; each refusal had it full"
    )
    func maxOrdersPerSecond() throws {
        let bus = TickBusTest.uniqueBus("parate")
        defer { TickBusTest.removeBus(bus) }
        // 100,000 synthetic messages are about 2.5 s of exchange time (1 to 50 µs apart): several windows.
        let (records, _) = try Self.run(
            "[orders]\nmode = \"quote\"\nsize = 10\n[risk]\nmax_orders_per_second = 5",
            messages: 100_000,
            bus: bus
        )
        let news = Self.orders(records).map { s in s.with { OrderRecordView($0) } }
            .filter { $0.action == OrderRecordLayout.actionNew }.map(\.sentTime)
        #expect(news.count >= 10)
        // Reference: for each new order at t, the new orders in (t − 1 s, t] (itself included).
        for (i, t) in news.enumerated() {
            let inWindow = news[...i].filter { $0 > t - 1_000_000_000 }.count
            #expect(inWindow <= 5, "\(inWindow) orders in the second up to \(t)")
        }
        let refused = Self.risks(records).map { s in s.with { RiskRecordView($0) } }
        #expect(!refused.isEmpty)
        for r in refused {
            #expect(r.code == .refusedMaxOrders)
            let t = r.exchangeTime
            let sentBefore = news.filter { $0 > t - 1_000_000_000 && $0 <= t }.count
            #expect(sentBefore == 5, "refused at \(t) with \(sentBefore) in the window")
        }
    }

    /// A taker fee of $2 a share on 100-share IOCs loses $200 an order: a loss limit of $120 is
    /// reached on the first fill; resumed while still beyond, the next message pauses again.
    @Test(
        "max_loss: pause (risk record 4 and a risk control record), signals 0 and no new order until resume (risk record 5)"
    )
    func maxLossPausesUntilResume() throws {
        let bus = TickBusTest.uniqueBus("paloss")
        defer { TickBusTest.removeBus(bus) }
        let toml = "[simulator]\ntaker_fee = 2.0\n[orders]\nmode = \"cross\"\nsize = 100\n[risk]\nmax_loss = 120"
        var resumeSequence: UInt64 = 0
        let (records, summary) = try Self.run(
            toml,
            messages: 12_000,
            bus: bus,
            between: { loop, producer, next in
                resumeSequence = next
                let c = ControlCommand(
                    verb: .resume,
                    role: nil,
                    percent: 0,
                    commandId: 77,
                    version: .zero,
                    strategy: "P",
                    issuer: "test",
                    reason: "resume",
                    publishTime: Int64(bitPattern: tb_monotonic_ns())
                )
                loop.apply(c, nextMarketSequence: next, into: &producer)
            },
            pauseAt: 6_000
        )
        let kinds = records.map(\.kind)
        guard let pauseIndex = records.firstIndex(where: { $0.kind == RiskRecordLayout.kindValue }) else {
            Issue.record("no risk record")
            return
        }
        let pause = records[pauseIndex].with { RiskRecordView($0) }
        #expect(pause.code == .pausedMaxLoss)
        #expect(pause.limit == 120 && pause.value >= 120)
        // Recomputed: the loss at the pause is at least the fees of the fills before it.
        let feesBefore = records[..<pauseIndex].filter { $0.kind == FillRecordLayout.kindValue }
            .map { s in s.with { FillRecordView($0).fee } }.reduce(0, +)
        #expect(feesBefore >= 200, "\(feesBefore)")
        // The control record right after: pause, applied, paused, marked risk, command id 0.
        let controlIndex = kinds[pauseIndex...].firstIndex(of: ControlRecordLayout.kindValue)!
        let control = records[controlIndex].with { ControlRecordView($0) }
        #expect(control.isRisk && control.applied && control.verb == .pause && control.commandId == 0)
        #expect(control.roles.paused)
        // Between the pause and the resume: decisions say paused with signal 0, no new order.
        let resumeIndex = records.firstIndex { s in
            s.kind == ControlRecordLayout.kindValue && s.with { ControlRecordView($0).commandId } == 77
        }!
        #expect(resumeIndex > controlIndex)
        for s in records[(controlIndex + 1)..<resumeIndex] {
            switch s.kind {
            case DecisionLayout.kindValue:
                let d = s.with { DecisionRecordView($0) }
                #expect(d.signal == 0 && d.flags & DecisionFlags.paused != 0)
            case OrderRecordLayout.kindValue:
                #expect(s.with { OrderRecordView($0).action } == OrderRecordLayout.actionCancel)
            default: break
            }
        }
        // The resume ends the pause (risk record 5 right after its control record); the loss is
        // still beyond the limit, so the next message pauses again.
        let resumed = records[resumeIndex + 1].with { RiskRecordView($0) }
        #expect(records[resumeIndex + 1].kind == RiskRecordLayout.kindValue && resumed.code == .resumed)
        let again = records[(resumeIndex + 2)...].first { $0.kind == RiskRecordLayout.kindValue }
        #expect(again.map { s in s.with { RiskRecordView($0).code } } == .pausedMaxLoss)
        #expect(again.map { s in s.with { RiskRecordView($0).marketSequence } } == resumeSequence)
        #expect(summary?.pauses == 2)

        // The same run again: every record equal but the publish time (determinism).
        TickBusTest.removeBus(bus)
        let (twice, _) = try Self.run(
            toml,
            messages: 12_000,
            bus: bus,
            between: { loop, producer, next in
                let c = ControlCommand(
                    verb: .resume,
                    role: nil,
                    percent: 0,
                    commandId: 77,
                    version: .zero,
                    strategy: "P",
                    issuer: "test",
                    reason: "resume",
                    publishTime: 0
                )
                loop.apply(c, nextMarketSequence: next, into: &producer)
            },
            pauseAt: 6_000
        )
        #expect(twice.count == records.count)
        var differing = 0
        for (a, b) in zip(records, twice) {
            var x = a.bytes
            var y = b.bytes
            for i in 40..<56 {  // receive time (stamped at publish) and publish time
                x[i] = 0
                y[i] = 0
            }
            // A control record's command publish time is the command's.
            if a.kind == ControlRecordLayout.kindValue { for i in 40..<48 { (x[i], y[i]) = (0, 0) } }
            if x != y { differing += 1 }
        }
        #expect(differing == 0)
    }

    @Test("without an execution file the loop publishes decisions only, and step is the same as before")
    func noExecutionNoRecords() throws {
        let bus = TickBusTest.uniqueBus("panone")
        defer { TickBusTest.removeBus(bus) }
        var loop = try LoadedStrategy(
            definition: try FeatureDefinition.parse(Self.definition),
            live: try Self.alwaysBuy(),
            shadow: nil
        ).makeLoop(slotSize: DecisionLayout.defaultSlotSize)
        let paperTrading = loop.isPaperTrading
        #expect(!paperTrading)
        #expect(loop.executionSummary() == nil)
        var market = try RingProducer(bus: bus, ring: "market", schema: .market, capacity: 1 << 14)
        var decisions = try RingProducer(
            bus: bus,
            ring: "decisions.N",
            schema: .decisions,
            slotSize: DecisionLayout.defaultSlotSize,
            capacity: 1 << 14
        )
        var reader = try RingReader(bus: bus, ring: "market", name: "N", from: .start)
        var source = SyntheticSource(seed: 3, instruments: 2)
        for _ in 0..<2_000 { _ = market.publish(source.next()!) }
        let s = loop.run(reader: &reader, producer: &decisions, idle: .backoff) { true }
        #expect(s.execution == nil)
        #expect(decisions.published == s.decisions)
    }
}
