import Foundation
import Journal
import TestSupport
import Testing
import TickBusCore

/// Tools/journal_reader.py, written from Docs/JOURNAL.md, reads what the Swift writer wrote and
/// stops where the Swift reader stops.
@Suite struct PythonReaderTests {
    func python(_ args: [String]) throws -> (status: Int32, out: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments =
            ["python3", TickBusTest.repositoryRoot.appendingPathComponent("Tools/journal_reader.py").path] + args
        let out = TickBusTest.temporaryDirectory("py").appendingPathComponent("out.txt")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        p.standardOutput = try FileHandle(forWritingTo: out)
        p.standardError = p.standardOutput
        try p.run()
        p.waitUntilExit()
        let text = (try? String(contentsOf: out, encoding: .utf8)) ?? ""
        try? FileManager.default.removeItem(at: out.deletingLastPathComponent())
        return (p.terminationStatus, text)
    }

    @Test func pythonReaderAgreesWithSwift() throws {
        let dir = temporaryDirectory("py")
        defer { removeDirectory(dir) }
        let slots = syntheticSlots(seed: 4, count: 3000)
        _ = try writeJournal(
            dir,
            slots: slots,
            gaps: [10..<20, 2500..<2600],
            options: smallBlocks(segmentBytes: 64 * 1024)
        )
        let clean = try python([dir, "market"])
        #expect(clean.status == 0, "\(clean.out)")
        #expect(
            clean.out.contains("ring=market records=2890 gaps=2 lost=110 sealed reason=end-of-session"),
            "\(clean.out)"
        )
        // The first data record decodes to the right fields (a directory message of AAPL).
        #expect(clean.out.contains("directory"))

        // Corrupt one payload byte in segment 1: both readers stop at the same block.
        let file = dir + "/" + JournalFormat.segmentFileName(ring: "market", segment: 1)
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: file)))
        bytes[JournalFormat.headerSize + JournalFormat.alignment + 100] ^= 0x10
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        let (entries, _, error, reader) = try readJournal(dir)
        #expect(error?.reasonCode == "crc-mismatch")
        let bad = try python([dir, "market"])
        #expect(bad.status == 1)
        let records = entries.filter { if case .record = $0 { return true } else { return false } }.count
        #expect(bad.out.contains("ring=market records=\(records) gaps=\(reader.gapRecords)"), "\(bad.out)")
        #expect(bad.out.contains("offset \(error?.location?.offset ?? 0): crc-mismatch"), "\(bad.out)")
    }

    /// A strategy's ring with decisions of layouts 1 and 2, control records, a record of an unknown
    /// kind, a gap, and an order, order event, fill and risk record: the Python frames
    /// (`decision_frame`, `control_frame`, `order_frame`, `order_event_frame`, `fill_frame`,
    /// `risk_frame`, `other_records_frame`, printed by `--dump`) hold, record by record, what the
    /// Swift reader and views read.
    @Test func pythonFramesAgreeWithSwiftOnAStrategysRing() throws {
        let dir = temporaryDirectory("py-kinds")
        defer { removeDirectory(dir) }
        try StrategyRingFixture.writeJournal(dir)
        let out = try python([dir, StrategyRingFixture.ring, "--dump"])
        #expect(out.status == 0, "\(out.out)")
        let lines = out.out.split(separator: "\n").map(String.init)
        #expect(lines.first == "ring=decisions.S records=13 gaps=1 lost=3 sealed reason=end-of-session", "\(out.out)")
        let rows = lines.dropFirst().map { line -> (String, [String: String]) in
            var l = Substring(line)
            var message: String?
            if let r = l.range(of: " message=") {
                message = String(l[r.upperBound...])
                l = l[..<r.lowerBound]
            }
            var kv = keyValues(String(l))
            if let message { kv["message"] = message }
            return (String(line.prefix { $0 != " " }), kv)
        }

        let (entries, _, error, _) = try readJournal(dir, ring: StrategyRingFixture.ring)
        #expect(error == nil)
        var swift: [(String, [String: String])] = []
        for case .record(let bytes) in entries {
            bytes.withUnsafeBytes { raw in swift.append(Self.expected(raw.baseAddress!)) }
        }
        #expect(rows.count == swift.count)
        for ((tag, py), (wantTag, want)) in zip(rows, swift) {
            #expect(tag == wantTag, "\(py)")
            for (k, v) in want {
                let got = py[k] ?? "<missing>"
                if let a = Double(v), let b = Double(got), v.contains(".") || v == "nan" {
                    #expect(a.bitPattern == b.bitPattern || (a.isNaN && b.isNaN), "\(k): \(got) != \(v) in \(py)")
                } else {
                    // Empty text columns print as `-`; the message is the rest of the line as it is.
                    #expect(got == (v.isEmpty && k != "message" ? "-" : v), "\(k) in record \(want["sequence"] ?? "?")")
                }
            }
        }
    }

    /// What the Swift views read from one record, keyed as the Python frames' columns.
    static func expected(_ p: UnsafeRawPointer) -> (String, [String: String]) {
        let kind = p.load(fromByteOffset: RecordHeader.kind, as: UInt16.self)
        var e: [String: String] = [
            "sequence": "\(p.load(as: UInt64.self))", "kind": "\(kind)",
            "market_sequence": "\(p.load(fromByteOffset: RecordHeader.marketSequence, as: UInt64.self))",
            "exchange_time": "\(p.load(fromByteOffset: RecordHeader.exchangeTime, as: Int64.self))",
        ]
        func f(_ x: Double) -> String { x.isNaN ? "nan" : "\(x)" }
        func b(_ x: Bool) -> String { x ? "True" : "False" }
        if kind == DecisionLayout.kindValue {
            let d = DecisionRecordView(p)
            let v1 = d.layoutVersion == 0
            e["layout_version"] = "\(d.layoutVersion)"
            e["instrument"] = "\(d.instrument)"
            e["flags"] = "\(d.flags)"
            e["signal"] = "\(d.signal)"
            e["feature_count"] = "\(d.featureCount)"
            e["receive_time"] = "\(d.receiveTime)"
            e["publish_time"] = "\(d.publishTime)"
            if v1 {
                e["live_prediction"] = f(p.load(fromByteOffset: DecisionLayoutV1.livePrediction, as: Double.self))
                e["shadow_prediction"] = f(p.load(fromByteOffset: DecisionLayoutV1.shadowPrediction, as: Double.self))
                e["model_id"] = "\(p.load(fromByteOffset: DecisionLayoutV1.modelId, as: UInt64.self))"
                e["acting_model_id"] = e["model_id"]
                e["shadow_model_id"] = "\(p.load(fromByteOffset: DecisionLayoutV1.shadowModelId, as: UInt64.self))"
                e["canary_prediction"] = "nan"
                e["canary_model_id"] = "0"
                e["canary_percent"] = "0"
                (e["has_live"], e["has_shadow"], e["has_canary"]) = ("True", b(d.flags & 1 != 0), "False")
                (e["canary_acted"], e["paused"]) = ("False", "False")
                for i in 0..<d.featureCount {
                    e["f\(i)"] = f(p.load(fromByteOffset: DecisionLayoutV1.features + 8 * i, as: Double.self))
                }
            } else {
                e["live_prediction"] = f(d.livePrediction)
                e["shadow_prediction"] = f(d.shadowPrediction)
                e["canary_prediction"] = f(d.canaryPrediction)
                e["model_id"] = "\(d.modelId)"
                e["shadow_model_id"] = "\(d.shadowModelId)"
                e["canary_model_id"] = "\(d.canaryModelId)"
                e["acting_model_id"] = "\(d.actingModelId)"
                e["canary_percent"] = "\(d.canaryPercent)"
                e["has_live"] = b(d.flags & DecisionFlags.live != 0)
                e["has_shadow"] = b(d.hasShadow)
                e["has_canary"] = b(d.hasCanary)
                e["canary_acted"] = b(d.canaryActed)
                e["paused"] = b(d.flags & DecisionFlags.paused != 0)
                for i in 0..<d.featureCount { e["f\(i)"] = f(d.feature(i)) }
                // Past the feature count the frame holds NaN, not the slot's zero bytes.
                if d.featureCount < DecisionLayout.maxFeatures(slotSize: StrategyRingFixture.slotSize) {
                    e["f\(d.featureCount)"] = "nan"
                }
            }
            return ("decision", e)
        }
        if kind == ControlRecordLayout.kindValue {
            let c = ControlRecordView(p)
            let r = c.roles
            func version(_ v: VersionDigest) -> String { v.isZero ? "" : v.hex }
            e["first_market_sequence"] = e.removeValue(forKey: "market_sequence")
            e["command_id"] = "\(c.commandId)"
            e["verb"] = c.verb.map(\.description) ?? "?"
            e["role"] =
                ModelRole(rawValue: p.load(fromByteOffset: ControlRecordLayout.role, as: UInt8.self))?
                .description ?? ""
            e["applied"] = b(c.applied)
            e["rejection"] = c.rejection?.description ?? ""
            e["rejection_code"] = "\(c.rawRejection)"
            e["command_publish_time"] = "\(c.commandPublishTime)"
            e["publish_time"] = "\(c.publishTime)"
            e["live_model_id"] = "\(r.liveModelId)"
            e["shadow_model_id"] = "\(r.shadowModelId)"
            e["canary_model_id"] = "\(r.canaryModelId)"
            e["live_version"] = version(r.liveVersion)
            e["shadow_version"] = version(r.shadowVersion)
            e["canary_version"] = version(r.canaryVersion)
            e["canary_percent"] = "\(r.canaryPercent)"
            e["paused"] = b(r.paused)
            e["message"] = c.message
            return ("control", e)
        }
        e["instrument"] = "\(p.load(fromByteOffset: RecordHeader.instrument, as: UInt32.self))"
        if let x = executionExpected(p, &e) { return x }
        e["kind_name"] =
            RecordKind(rawValue: kind).map { "\($0)" == "orderEvent" ? "order_event" : "\($0)" } ?? "unknown"
        return ("record", e)
    }

    /// An execution record (kinds 102–105) as its Python frame names the columns, read through the
    /// Swift views; nil for another kind.
    static func executionExpected(_ p: UnsafeRawPointer, _ e: inout [String: String]) -> (String, [String: String])? {
        let kind = p.load(fromByteOffset: RecordHeader.kind, as: UInt16.self)
        func side(_ raw: UInt8) -> String { raw == 0x42 ? "B" : raw == 0x53 ? "S" : "?\(raw)" }
        func header<V: RecordHeaderView>(_ v: V) {
            e["layout_version"] = "\(v.layoutVersion)"
            e["receive_time"] = "\(v.receiveTime)"
            e["publish_time"] = "\(v.publishTime)"
        }
        switch kind {
        case OrderRecordLayout.kindValue:
            let v = OrderRecordView(p)
            header(v)
            e["order_id"] = "\(v.orderId)"
            e["price"] = "\(v.price)"
            e["quantity"] = "\(v.quantity)"
            e["side"] = side(v.rawSide)
            e["action"] = v.action == 1 ? "new" : v.action == 2 ? "cancel" : "action\(v.action)"
            e["tif"] = v.tif == 1 ? "DAY" : v.tif == 2 ? "IOC" : "tif\(v.tif)"
            e["policy_reason"] = v.policyReason.map { $0 == .none ? "" : $0.description } ?? "?"
            e["sent_time"] = "\(v.sentTime)"
            e["arrival_time"] = "\(v.arrivalTime)"
            e["acting_model_id"] = "\(v.actingModelId)"
            return ("order", e)
        case OrderEventRecordLayout.kindValue:
            let v = OrderEventRecordView(p)
            header(v)
            e["order_id"] = "\(v.orderId)"
            e["event"] = OrderEventRecordLayout.eventNames[Int(v.event)]
            e["reason"] = v.reason == 0 ? "" : OrderEventRecordLayout.reasonNames[Int(v.reason)]
            e["fee"] = "\(v.fee)"
            e["quantity"] = "\(v.quantity)"
            e["event_time"] = "\(v.eventTime)"
            return ("order_event", e)
        case FillRecordLayout.kindValue:
            let v = FillRecordView(p)
            header(v)
            e["order_id"] = "\(v.orderId)"
            e["price"] = "\(v.price)"
            e["quantity"] = "\(v.quantity)"
            e["side"] = side(v.rawSide)
            e["liquidity"] = v.liquidity == 1 ? "maker" : v.liquidity == 2 ? "taker" : "liquidity\(v.liquidity)"
            e["fee"] = "\(v.fee)"
            e["position_after"] = "\(v.positionAfter)"
            e["cash_after"] = "\(v.cashAfter)"
            e["remaining"] = "\(v.remaining)"
            e["fill_time"] = "\(v.fillTime)"
            return ("fill", e)
        case RiskRecordLayout.kindValue:
            let v = RiskRecordView(p)
            header(v)
            e["code"] = v.code?.description ?? "code\(v.rawCode)"
            e["code_value"] = "\(v.rawCode)"
            e["value"] = "\(v.value)"
            e["limit"] = "\(v.limit)"
            e["order_id"] = "\(v.orderId)"
            return ("risk", e)
        default:
            return nil
        }
    }
}
