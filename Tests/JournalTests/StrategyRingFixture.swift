import Journal
import TickBusCore

/// A strategy's ring written by hand from the byte tables of Docs/JOURNAL.md ("Records in a
/// strategy's ring"): decisions of layout 2 in each role state, one of layout 1, control records
/// applied and rejected, a record of a kind no build defines, a gap (sequence = index), and an
/// order, its acknowledgment, a fill and a risk event.
enum StrategyRingFixture {
    static let slotSize = 256
    static let ring = "decisions.S"
    static let liveId: UInt64 = 0x1111_2222_3333_4444
    static let shadowId: UInt64 = 0x0000_0000_0000_00ab
    static let canaryId: UInt64 = 0xfedc_ba98_7654_3210
    /// Version ids: bytes 1...32, and 0xa0...0xbf.
    static let versionA = VersionDigest(hex: (1...32).map { hex2($0) }.joined())!
    static let versionC = VersionDigest(hex: (0xa0...0xbf).map { hex2($0) }.joined())!
    /// The sequence the gap record starts at, and how many it stands for.
    static let gapFrom: UInt64 = 8
    static let gapCount: UInt64 = 3

    static func hex2(_ b: Int) -> String {
        let d = Array("0123456789abcdef")
        return String([d[b >> 4], d[b & 15]])
    }

    /// A decision record of layout 2 (all fields given; roles from `flags`).
    struct Decision {
        var flags: UInt16
        var signal: Int8
        var marketSequence: UInt64
        var exchangeTime: Int64
        var instrument: UInt32
        var percent: UInt8 = 0
        var live = Double.nan
        var shadow = Double.nan
        var canary = Double.nan
        var liveId: UInt64 = 0
        var shadowId: UInt64 = 0
        var canaryId: UInt64 = 0
        var features: [Double] = []
        var receiveTime: Int64 = 0
        var publishTime: Int64 = 0

        func store(_ p: UnsafeMutableRawPointer) {
            p.storeBytes(of: UInt16(100), toByteOffset: 8, as: UInt16.self)
            p.storeBytes(of: flags, toByteOffset: 10, as: UInt16.self)
            p.storeBytes(of: UInt16(features.count), toByteOffset: 12, as: UInt16.self)
            p.storeBytes(of: signal, toByteOffset: 14, as: Int8.self)
            p.storeBytes(of: UInt8(2), toByteOffset: 15, as: UInt8.self)
            p.storeBytes(of: marketSequence, toByteOffset: 16, as: UInt64.self)
            p.storeBytes(of: exchangeTime, toByteOffset: 24, as: Int64.self)
            p.storeBytes(of: instrument, toByteOffset: 32, as: UInt32.self)
            p.storeBytes(of: percent, toByteOffset: 36, as: UInt8.self)
            p.storeBytes(of: receiveTime, toByteOffset: 40, as: Int64.self)
            p.storeBytes(of: publishTime, toByteOffset: 48, as: Int64.self)
            p.storeBytes(of: live, toByteOffset: 56, as: Double.self)
            p.storeBytes(of: shadow, toByteOffset: 64, as: Double.self)
            p.storeBytes(of: canary, toByteOffset: 72, as: Double.self)
            p.storeBytes(of: liveId, toByteOffset: 80, as: UInt64.self)
            p.storeBytes(of: shadowId, toByteOffset: 88, as: UInt64.self)
            p.storeBytes(of: canaryId, toByteOffset: 96, as: UInt64.self)
            for (i, x) in features.enumerated() { p.storeBytes(of: x, toByteOffset: 112 + 8 * i, as: Double.self) }
        }
    }

    /// A control record (kind 101, layout 1).
    struct Control {
        var verb: UInt8
        var role: UInt8 = 0
        var applied: Bool
        var paused = false
        var percent: UInt8 = 0
        var rejection: UInt32 = 0
        var firstMarketSequence: UInt64
        var exchangeTime: Int64
        var commandId: UInt64
        var commandPublishTime: Int64 = 0
        var publishTime: Int64 = 0
        var liveId: UInt64 = 0
        var shadowId: UInt64 = 0
        var canaryId: UInt64 = 0
        var live = VersionDigest.zero
        var shadow = VersionDigest.zero
        var canary = VersionDigest.zero
        var message = ""

        func store(_ p: UnsafeMutableRawPointer) {
            p.storeBytes(of: UInt16(101), toByteOffset: 8, as: UInt16.self)
            p.storeBytes(of: UInt16((applied ? 1 : 0) | (paused ? 2 : 0)), toByteOffset: 10, as: UInt16.self)
            p.storeBytes(of: verb, toByteOffset: 12, as: UInt8.self)
            p.storeBytes(of: role, toByteOffset: 13, as: UInt8.self)
            p.storeBytes(of: percent, toByteOffset: 14, as: UInt8.self)
            p.storeBytes(of: UInt8(1), toByteOffset: 15, as: UInt8.self)
            p.storeBytes(of: firstMarketSequence, toByteOffset: 16, as: UInt64.self)
            p.storeBytes(of: exchangeTime, toByteOffset: 24, as: Int64.self)
            p.storeBytes(of: rejection, toByteOffset: 32, as: UInt32.self)
            p.storeBytes(of: commandPublishTime, toByteOffset: 40, as: Int64.self)
            p.storeBytes(of: publishTime, toByteOffset: 48, as: Int64.self)
            p.storeBytes(of: commandId, toByteOffset: 56, as: UInt64.self)
            p.storeBytes(of: liveId, toByteOffset: 64, as: UInt64.self)
            p.storeBytes(of: shadowId, toByteOffset: 72, as: UInt64.self)
            p.storeBytes(of: canaryId, toByteOffset: 80, as: UInt64.self)
            live.store(to: p, at: 88)
            shadow.store(to: p, at: 120)
            canary.store(to: p, at: 152)
            for (i, b) in message.utf8.prefix(72).enumerated() {
                p.storeBytes(of: b, toByteOffset: 184 + i, as: UInt8.self)
            }
        }
    }

    /// The records, sequence = index, with `nil` where the gap stands.
    static func slots() -> [[UInt8]?] {
        var out: [[UInt8]?] = []
        func add(_ fill: (UnsafeMutableRawPointer) -> Void) {
            var b = [UInt8](repeating: 0, count: slotSize)
            b.withUnsafeMutableBytes { raw in
                raw.baseAddress!.storeBytes(of: UInt64(out.count), as: UInt64.self)
                fill(raw.baseAddress!)
            }
            out.append(b)
        }
        // 0: the live model alone.
        add {
            Decision(
                flags: DecisionFlags.live,
                signal: 1,
                marketSequence: 10,
                exchangeTime: 1000,
                instrument: 1,
                live: 0.5,
                liveId: liveId,
                features: [1.5, -2.25, 0.125],
                receiveTime: 77,
                publishTime: 99
            ).store($0)
        }
        // 1: a load of version A live (command 7), applied from market sequence 12; shadow without a version.
        add {
            Control(
                verb: 1,
                role: 1,
                applied: true,
                firstMarketSequence: 12,
                exchangeTime: 1000,
                commandId: 7,
                commandPublishTime: 500,
                publishTime: 620,
                liveId: liveId,
                shadowId: shadowId,
                live: versionA
            ).store($0)
        }
        // 2: live, shadow and a 30% canary; instrument 4 (bucket 5) is routed to the canary.
        add {
            Decision(
                flags: DecisionFlags.live | DecisionFlags.shadow | DecisionFlags.canary | DecisionFlags.canaryActed,
                signal: -1,
                marketSequence: 12,
                exchangeTime: 2000,
                instrument: 4,
                percent: 30,
                live: 0.25,
                shadow: -0.75,
                canary: -1.0,
                liveId: liveId,
                shadowId: shadowId,
                canaryId: canaryId,
                features: [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]
            ).store($0)
        }
        // 3: a 30% canary (command 8) with version C in the canary role.
        add {
            Control(
                verb: 2,
                applied: true,
                percent: 30,
                firstMarketSequence: 13,
                exchangeTime: 2000,
                commandId: 8,
                liveId: liveId,
                shadowId: shadowId,
                canaryId: canaryId,
                live: versionA,
                canary: versionC
            ).store($0)
        }
        // 4: paused: the live model evaluated, the signal flat.
        add {
            Decision(
                flags: DecisionFlags.live | DecisionFlags.paused,
                signal: 0,
                marketSequence: 15,
                exchangeTime: 3000,
                instrument: 2,
                live: 2.0,
                liveId: liveId,
                features: [0]
            ).store($0)
        }
        // 5: a record of a kind no build defines (199): only its header is read.
        add { p in
            p.storeBytes(of: UInt16(199), toByteOffset: 8, as: UInt16.self)
            p.storeBytes(of: UInt64(20), toByteOffset: 16, as: UInt64.self)
            p.storeBytes(of: Int64(5000), toByteOffset: 24, as: Int64.self)
            p.storeBytes(of: UInt32(2), toByteOffset: 32, as: UInt32.self)
        }
        // 6: a load into canary (command 9) rejected: the version's features differ; roles unchanged.
        add {
            Control(
                verb: 1,
                role: 3,
                applied: false,
                percent: 30,
                rejection: 2,
                firstMarketSequence: 21,
                exchangeTime: 5000,
                commandId: 9,
                liveId: liveId,
                shadowId: shadowId,
                canaryId: canaryId,
                live: versionA,
                canary: versionC,
                message: "features differ: f3 is 'spread', not 'imbalance'"
            ).store($0)
        }
        // 7: a decision of layout 1 (byte 15 zero): ids at 72 and 80, features at 96, bit 0 shadow.
        add { p in
            p.storeBytes(of: UInt16(100), toByteOffset: 8, as: UInt16.self)
            p.storeBytes(of: UInt16(1), toByteOffset: 10, as: UInt16.self)
            p.storeBytes(of: UInt16(2), toByteOffset: 12, as: UInt16.self)
            p.storeBytes(of: Int8(1), toByteOffset: 14, as: Int8.self)
            p.storeBytes(of: UInt64(21), toByteOffset: 16, as: UInt64.self)
            p.storeBytes(of: Int64(6000), toByteOffset: 24, as: Int64.self)
            p.storeBytes(of: UInt32(3), toByteOffset: 32, as: UInt32.self)
            p.storeBytes(of: 0.75, toByteOffset: 56, as: Double.self)
            p.storeBytes(of: 0.5, toByteOffset: 64, as: Double.self)
            p.storeBytes(of: liveId, toByteOffset: 72, as: UInt64.self)
            p.storeBytes(of: shadowId, toByteOffset: 80, as: UInt64.self)
            p.storeBytes(of: 42.0, toByteOffset: 96, as: Double.self)
            p.storeBytes(of: -1.0, toByteOffset: 104, as: Double.self)
        }
        for _ in 0..<gapCount { out.append(nil) }
        // 11: demoted: no live model, the shadow evaluated, the signal flat.
        add {
            Decision(
                flags: DecisionFlags.shadow,
                signal: 0,
                marketSequence: 40,
                exchangeTime: 9000,
                instrument: 1,
                shadow: 0.125,
                shadowId: liveId,
                features: [1, 2]
            ).store($0)
        }
        // 12..<16: the execution records of one order, written from the tables of Docs/JOURNAL.md.
        func header(_ p: UnsafeMutableRawPointer, kind: UInt16, mseq: UInt64, t: Int64) {
            p.storeBytes(of: kind, toByteOffset: 8, as: UInt16.self)
            p.storeBytes(of: UInt8(1), toByteOffset: 15, as: UInt8.self)
            p.storeBytes(of: mseq, toByteOffset: 16, as: UInt64.self)
            p.storeBytes(of: t, toByteOffset: 24, as: Int64.self)
            p.storeBytes(of: UInt32(1), toByteOffset: 32, as: UInt32.self)
            p.storeBytes(of: Int64(500), toByteOffset: 40, as: Int64.self)
            p.storeBytes(of: Int64(700), toByteOffset: 48, as: Int64.self)
        }
        // 12: an order: buy 100 at 100.0100, DAY, sent on a join signal of the live model.
        add { p in
            header(p, kind: 102, mseq: 41, t: 9100)
            p.storeBytes(of: UInt64(7), toByteOffset: 56, as: UInt64.self)
            p.storeBytes(of: Int64(1_000_100), toByteOffset: 64, as: Int64.self)
            p.storeBytes(of: UInt32(100), toByteOffset: 72, as: UInt32.self)
            p.storeBytes(of: UInt8(0x42), toByteOffset: 76, as: UInt8.self)
            p.storeBytes(of: UInt8(1), toByteOffset: 77, as: UInt8.self)
            p.storeBytes(of: UInt8(1), toByteOffset: 78, as: UInt8.self)
            p.storeBytes(of: UInt8(1), toByteOffset: 79, as: UInt8.self)
            p.storeBytes(of: Int64(9100), toByteOffset: 80, as: Int64.self)
            p.storeBytes(of: Int64(29100), toByteOffset: 88, as: Int64.self)
            p.storeBytes(of: liveId, toByteOffset: 96, as: UInt64.self)
        }
        // 13: its acknowledgment, with the per-order fee.
        add { p in
            header(p, kind: 103, mseq: 42, t: 30000)
            p.storeBytes(of: UInt64(7), toByteOffset: 56, as: UInt64.self)
            p.storeBytes(of: UInt8(1), toByteOffset: 64, as: UInt8.self)
            p.storeBytes(of: 0.0035, toByteOffset: 72, as: Double.self)
            p.storeBytes(of: Int64(29100), toByteOffset: 88, as: Int64.self)
        }
        // 14: a maker fill of 60 (rebate 0.002 a share); 40 remain.
        add { p in
            header(p, kind: 104, mseq: 43, t: 31000)
            p.storeBytes(of: UInt64(7), toByteOffset: 56, as: UInt64.self)
            p.storeBytes(of: Int64(1_000_100), toByteOffset: 64, as: Int64.self)
            p.storeBytes(of: UInt32(60), toByteOffset: 72, as: UInt32.self)
            p.storeBytes(of: UInt8(0x42), toByteOffset: 76, as: UInt8.self)
            p.storeBytes(of: UInt8(1), toByteOffset: 77, as: UInt8.self)
            p.storeBytes(of: -0.12, toByteOffset: 80, as: Double.self)
            p.storeBytes(of: Int64(60), toByteOffset: 88, as: Int64.self)
            p.storeBytes(of: -6000.4835, toByteOffset: 96, as: Double.self)
            p.storeBytes(of: UInt32(40), toByteOffset: 104, as: UInt32.self)
            p.storeBytes(of: Int64(30500), toByteOffset: 112, as: Int64.self)
        }
        // 15: the next order (8) refused: it would take the position to 1060, past 1000.
        add { p in
            header(p, kind: 105, mseq: 44, t: 31000)
            p.storeBytes(of: UInt8(1), toByteOffset: 56, as: UInt8.self)
            p.storeBytes(of: 1060.0, toByteOffset: 64, as: Double.self)
            p.storeBytes(of: 1000.0, toByteOffset: 72, as: Double.self)
            p.storeBytes(of: UInt64(8), toByteOffset: 80, as: UInt64.self)
        }
        return out
    }

    /// Writes the fixture as a sealed journal of ring `decisions.S` in `dir`.
    static func writeJournal(_ dir: String) throws {
        var w = try JournalWriter.create(
            directory: dir,
            ring: ring,
            bus: "test",
            schema: .decisions,
            slotSize: slotSize,
            generation: 1,
            firstSequence: 0,
            options: smallBlocks()
        )
        var s = 0
        let all = slots()
        while s < all.count {
            if let slot = all[s] {
                try appendSlot(&w, slot)
                s += 1
            } else {
                try w.appendGap(from: UInt64(s), count: gapCount)
                s += Int(gapCount)
            }
        }
        try w.seal(reason: .endOfSession)
    }

    /// The lines `journal cat` and `tap --print` print for the records, as Docs/JOURNAL.md defines them.
    static let printed: [String] = [
        "decision mseq=10 inst=1 t=1000 live=0.5 shadow=nan signal=1 canary=nan model=1111222233334444 "
            + "live_model=1111222233334444 shadow_model=0000000000000000 canary_model=0000000000000000 pct=0 roles=live",
        "control cmd=7 load applied mseq=12 live=010203040506 shadow=model:00000000000000ab canary=- pct=0 "
            + "role=live paused=false",
        "decision mseq=12 inst=4 t=2000 live=0.25 shadow=-0.75 signal=-1 canary=-1.0 model=fedcba9876543210 "
            + "live_model=1111222233334444 shadow_model=00000000000000ab canary_model=fedcba9876543210 pct=30 "
            + "roles=live+shadow+canary+acted",
        "control cmd=8 canary applied mseq=13 live=010203040506 shadow=model:00000000000000ab "
            + "canary=a0a1a2a3a4a5 pct=30 role=- paused=false",
        "decision mseq=15 inst=2 t=3000 live=2.0 shadow=nan signal=0 canary=nan model=1111222233334444 "
            + "live_model=1111222233334444 shadow_model=0000000000000000 canary_model=0000000000000000 pct=0 "
            + "roles=live+paused",
        "record kind=199 mseq=20 inst=2 t=5000",
        "control cmd=9 load rejected:feature-mismatch mseq=21 live=010203040506 shadow=model:00000000000000ab "
            + "canary=a0a1a2a3a4a5 pct=30 role=canary paused=false features differ: f3 is 'spread', not 'imbalance'",
        "decision mseq=21 inst=3 t=6000 live=0.75 shadow=0.5 signal=1 canary=nan model=1111222233334444 "
            + "live_model=1111222233334444 shadow_model=00000000000000ab canary_model=0000000000000000 pct=0 "
            + "roles=live+shadow layout=1",
        "decision mseq=40 inst=1 t=9000 live=nan shadow=0.125 signal=0 canary=nan model=0000000000000000 "
            + "live_model=0000000000000000 shadow_model=1111222233334444 canary_model=0000000000000000 pct=0 "
            + "roles=shadow",
        "order mseq=41 inst=1 t=9100 id=7 action=new side=B px=1000100 qty=100 tif=DAY reason=join sent=9100 "
            + "arrival=29100 model=1111222233334444",
        "order_event mseq=42 inst=1 t=30000 id=7 event=ack reason=- fee=0.0035 qty=0 event_t=29100",
        "fill mseq=43 inst=1 t=31000 id=7 side=B px=1000100 qty=60 liquidity=maker fee=-0.12 position=60 "
            + "cash=-6000.4835 remaining=40 fill_t=30500",
        "risk mseq=44 inst=1 t=31000 code=refused:max_position value=1060.0 limit=1000.0 id=8",
    ]
}
