import Testing
import TickBusCore

/// The execution records (kinds 102–105): what `store` writes is, byte for byte, the table of
/// Docs/JOURNAL.md (offsets written here by hand, not taken from the layout enums), the rest of
/// the slot is zero, the ring's sequence word is left alone, and the views read back every field.
@Suite("Execution records: layouts, store and views")
struct ExecutionRecordTests {
    static let slotSize = 256

    /// One field as the spec states it: offset, width, value (little-endian bytes).
    struct Field {
        var offset: Int
        var bytes: [UInt8]
        init<T: FixedWidthInteger>(_ offset: Int, _ v: T) {
            self.offset = offset
            bytes = (0..<(T.bitWidth / 8)).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) }
        }
        init(_ offset: Int, _ d: Double) { self.init(offset, d.bitPattern) }
    }

    /// The header fields shared by the fixtures below, and the spec's kind and layout version.
    static func header(kind: UInt16) -> [Field] {
        [
            Field(8, kind), Field(15, UInt8(1)), Field(16, UInt64(0x0102_0304_0506_0708)),
            Field(24, Int64(34_200_000_000_123)), Field(32, UInt32(0xdead_beef)), Field(40, Int64(-5)),
            Field(48, Int64(987_654_321)),
        ]
    }

    /// A slot of garbage (0xAA) with 16 guard bytes past `slotSize`, stored into by `write`; then
    /// every byte is checked: sequence and guard untouched, the fields as given, the rest zero.
    func check(_ fields: [Field], _ write: (UnsafeMutableRawPointer) -> Void) -> [UInt8] {
        var slot = [UInt8](repeating: 0xaa, count: Self.slotSize + 16)
        slot.withUnsafeMutableBytes { write($0.baseAddress!) }
        var want = [UInt8](repeating: 0, count: Self.slotSize + 16)
        for i in 0..<8 { want[i] = 0xaa }
        for i in Self.slotSize..<(Self.slotSize + 16) { want[i] = 0xaa }
        for f in fields { for (i, b) in f.bytes.enumerated() { want[f.offset + i] = b } }
        for i in 0..<want.count where slot[i] != want[i] {
            Issue.record("byte \(i) is \(slot[i]), the spec says \(want[i])")
        }
        return slot
    }

    @Test func orderRecord() {
        let fields =
            Self.header(kind: 102) + [
                Field(56, UInt64(77)), Field(64, Int64(1_234_500)), Field(72, UInt32(300)), Field(76, UInt8(0x53)),
                Field(77, UInt8(1)), Field(78, UInt8(2)), Field(79, UInt8(2)), Field(80, Int64(34_200_000_000_000)),
                Field(88, Int64(34_200_000_020_000)), Field(96, UInt64(0xfedc_ba98_7654_3210)),
            ]
        let slot = check(fields) { p in
            OrderRecordLayout.store(
                to: p,
                slotSize: Self.slotSize,
                marketSequence: 0x0102_0304_0506_0708,
                exchangeTime: 34_200_000_000_123,
                instrument: 0xdead_beef,
                receiveTime: -5,
                publishTime: 987_654_321,
                orderId: 77,
                price: 1_234_500,
                quantity: 300,
                side: .sell,
                action: OrderRecordLayout.actionNew,
                tif: OrderRecordLayout.tifIOC,
                policyReason: OrderPolicyReason.cross.rawValue,
                sentTime: 34_200_000_000_000,
                arrivalTime: 34_200_000_020_000,
                actingModelId: 0xfedc_ba98_7654_3210
            )
        }
        slot.withUnsafeBytes { b in
            let v = OrderRecordView(b.baseAddress!)
            #expect(v.kind == RecordKind.order.rawValue && v.layoutVersion == 1)
            #expect(v.marketSequence == 0x0102_0304_0506_0708 && v.exchangeTime == 34_200_000_000_123)
            #expect(v.instrument == 0xdead_beef && v.receiveTime == -5 && v.publishTime == 987_654_321)
            #expect(v.orderId == 77 && v.price == 1_234_500 && v.quantity == 300 && v.side == .sell)
            #expect(v.action == 1 && v.tif == 2 && v.policyReason == .cross)
            #expect(v.sentTime == 34_200_000_000_000 && v.arrivalTime == 34_200_000_020_000)
            #expect(v.actingModelId == 0xfedc_ba98_7654_3210)
            #expect(
                v.description
                    == "order mseq=72623859790382856 inst=3735928559 t=34200000000123 id=77 action=new side=S "
                    + "px=1234500 qty=300 tif=IOC reason=cross sent=34200000000000 arrival=34200000020000 "
                    + "model=fedcba9876543210"
            )
            #expect(
                RecordText.line(b.baseAddress!, slotSize: Self.slotSize, schema: .decisions) == v.description
            )
        }
    }

    @Test func orderEventRecord() {
        let fields =
            Self.header(kind: 103) + [
                Field(56, UInt64(78)), Field(64, UInt8(2)), Field(65, UInt8(3)), Field(72, Double(0.0035)),
                Field(80, UInt32(40)), Field(88, Int64(34_200_000_010_000)),
            ]
        let slot = check(fields) { p in
            OrderEventRecordLayout.store(
                to: p,
                slotSize: Self.slotSize,
                marketSequence: 0x0102_0304_0506_0708,
                exchangeTime: 34_200_000_000_123,
                instrument: 0xdead_beef,
                receiveTime: -5,
                publishTime: 987_654_321,
                orderId: 78,
                event: 2,
                reason: 3,
                fee: 0.0035,
                quantity: 40,
                eventTime: 34_200_000_010_000
            )
        }
        slot.withUnsafeBytes { b in
            let v = OrderEventRecordView(b.baseAddress!)
            #expect(v.kind == RecordKind.orderEvent.rawValue && v.layoutVersion == 1)
            #expect(v.orderId == 78 && v.event == 2 && v.reason == 3 && v.fee == 0.0035 && v.quantity == 40)
            #expect(v.eventTime == 34_200_000_010_000 && v.instrument == 0xdead_beef)
            #expect(
                v.description
                    == "order_event mseq=72623859790382856 inst=3735928559 t=34200000000123 id=78 event=reject "
                    + "reason=bad_price fee=0.0035 qty=40 event_t=34200000010000"
            )
            #expect(RecordText.line(b.baseAddress!, slotSize: Self.slotSize, schema: .decisions) == v.description)
        }
    }

    @Test func fillRecord() {
        let fields =
            Self.header(kind: 104) + [
                Field(56, UInt64(79)), Field(64, Int64(1_000_100)), Field(72, UInt32(60)), Field(76, UInt8(0x42)),
                Field(77, UInt8(1)), Field(80, Double(-0.12)), Field(88, Int64(-140)), Field(96, Double(-6000.5)),
                Field(104, UInt32(40)), Field(112, Int64(34_200_000_005_000)),
            ]
        let slot = check(fields) { p in
            FillRecordLayout.store(
                to: p,
                slotSize: Self.slotSize,
                marketSequence: 0x0102_0304_0506_0708,
                exchangeTime: 34_200_000_000_123,
                instrument: 0xdead_beef,
                receiveTime: -5,
                publishTime: 987_654_321,
                orderId: 79,
                price: 1_000_100,
                quantity: 60,
                side: .buy,
                liquidity: FillRecordLayout.maker,
                fee: -0.12,
                positionAfter: -140,
                cashAfter: -6000.5,
                remaining: 40,
                fillTime: 34_200_000_005_000
            )
        }
        slot.withUnsafeBytes { b in
            let v = FillRecordView(b.baseAddress!)
            #expect(v.kind == RecordKind.fill.rawValue && v.layoutVersion == 1)
            #expect(v.orderId == 79 && v.price == 1_000_100 && v.quantity == 60 && v.side == .buy)
            #expect(v.liquidity == 1 && v.fee == -0.12 && v.positionAfter == -140 && v.cashAfter == -6000.5)
            #expect(v.remaining == 40 && v.fillTime == 34_200_000_005_000)
            #expect(
                v.description
                    == "fill mseq=72623859790382856 inst=3735928559 t=34200000000123 id=79 side=B px=1000100 qty=60 "
                    + "liquidity=maker fee=-0.12 position=-140 cash=-6000.5 remaining=40 fill_t=34200000005000"
            )
            #expect(RecordText.line(b.baseAddress!, slotSize: Self.slotSize, schema: .decisions) == v.description)
        }
    }

    @Test func riskRecord() {
        let fields =
            Self.header(kind: 105) + [
                Field(56, UInt8(1)), Field(64, Double(1100)), Field(72, Double(1000)), Field(80, UInt64(80)),
            ]
        let slot = check(fields) { p in
            RiskRecordLayout.store(
                to: p,
                slotSize: Self.slotSize,
                marketSequence: 0x0102_0304_0506_0708,
                exchangeTime: 34_200_000_000_123,
                instrument: 0xdead_beef,
                receiveTime: -5,
                publishTime: 987_654_321,
                code: RiskEventCode.refusedMaxPosition.rawValue,
                value: 1100,
                limit: 1000,
                orderId: 80
            )
        }
        slot.withUnsafeBytes { b in
            let v = RiskRecordView(b.baseAddress!)
            #expect(v.kind == RecordKind.risk.rawValue && v.layoutVersion == 1)
            #expect(v.code == .refusedMaxPosition && v.value == 1100 && v.limit == 1000 && v.orderId == 80)
            #expect(
                v.description
                    == "risk mseq=72623859790382856 inst=3735928559 t=34200000000123 code=refused:max_position "
                    + "value=1100.0 limit=1000.0 id=80"
            )
            #expect(RecordText.line(b.baseAddress!, slotSize: Self.slotSize, schema: .decisions) == v.description)
        }
    }

    /// Codes and bytes this build does not know print as their numbers, never trap; a slot too small
    /// for its kind prints as a bare record; another layout version is named.
    @Test func unknownValuesPrintAsNumbers() {
        var slot = [UInt8](repeating: 0, count: Self.slotSize)
        slot.withUnsafeMutableBytes { b in
            let p = b.baseAddress!
            RiskRecordLayout.store(
                to: p,
                slotSize: Self.slotSize,
                marketSequence: 1,
                exchangeTime: 2,
                instrument: 3,
                receiveTime: 0,
                publishTime: 0,
                code: 200,
                value: 0,
                limit: 0,
                orderId: 0
            )
            #expect(RiskRecordView(p).description.hasPrefix("risk mseq=1 inst=3 t=2 code=code200 "))
            OrderEventRecordLayout.store(
                to: p,
                slotSize: Self.slotSize,
                marketSequence: 1,
                exchangeTime: 2,
                instrument: 3,
                receiveTime: 0,
                publishTime: 0,
                orderId: 5,
                event: 9,
                reason: 99,
                fee: 0,
                quantity: 0,
                eventTime: 0
            )
            p.storeBytes(of: UInt8(2), toByteOffset: 15, as: UInt8.self)
            let line = OrderEventRecordView(p).description
            #expect(line.contains("event=event9 reason=reason99") && line.hasSuffix(" layout=2"), "\(line)")
            OrderRecordLayout.store(
                to: p,
                slotSize: Self.slotSize,
                marketSequence: 1,
                exchangeTime: 2,
                instrument: 3,
                receiveTime: 0,
                publishTime: 0,
                orderId: 5,
                price: 0,
                quantity: 0,
                side: .buy,
                action: 7,
                tif: 7,
                policyReason: 77,
                sentTime: 0,
                arrivalTime: 0,
                actingModelId: 0
            )
            p.storeBytes(of: UInt8(0x51), toByteOffset: 76, as: UInt8.self)
            let order = OrderRecordView(p).description
            #expect(
                order.contains("action=action7 side=?81 ") && order.contains("tif=tif7 reason=reason77"),
                "\(order)"
            )
            #expect(
                RecordText.line(p, slotSize: OrderRecordLayout.size - 8, schema: .decisions)
                    == "record kind=102 mseq=1 inst=3 t=2"
            )
        }
    }

    /// The names `journal cat` prints for the order policy's reasons and the risk codes.
    @Test func codeNames() {
        #expect(OrderPolicyReason.allCases.map(\.rawValue) == Array(0...7))
        #expect(RiskEventCode.allCases.map(\.rawValue) == Array(1...5))
        #expect(OrderEventRecordLayout.eventNames.count == 5 && OrderEventRecordLayout.reasonNames.count == 11)
    }
}
