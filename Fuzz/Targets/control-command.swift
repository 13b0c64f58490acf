// fuzz-modules: TickBusCore
// A command slot of ring `control` as a strategy's control poll hands it over
// (`ControlCommand.decode`), and the same bytes read as a control record (kind 101) in
// `decisions.<name>` as `tap`, `journal cat` and the replay verifier read them
// (`ControlRecordView`, `FixedText.load`). Properties, beside "never traps":
// - a decode of fewer than 256 bytes is refused (`.size`), of the exact input buffer (so ASan
//   sees any read past its end);
// - the strategy's decode without text (`text: false`) refuses exactly what the full one does,
//   keeps every other field, and `FixedText.addresses` agrees with `ControlCommand.addresses`;
// - a slot that decodes re-encodes to the same bytes 8..<256 (the decoder refuses anything the
//   encoder would not write), and decodes again to the same command;
// - a command built from the input that `validate()` accepts encodes to a slot that decodes to
//   it, its strings cut at their fields' sizes on a character boundary.
import TickBusCore

#if canImport(Glibc)
import Glibc
#endif

/// Two 256-byte slots, allocated once (an execution allocates nothing large). libFuzzer runs
/// the inputs one at a time on one thread, which is what makes the shared slots safe.
enum FuzzControl {
    nonisolated(unsafe) static let slot = UnsafeMutableRawPointer.allocate(
        byteCount: ControlCommandLayout.slotSize,
        alignment: 64
    )
    nonisolated(unsafe) static let again = UnsafeMutableRawPointer.allocate(
        byteCount: ControlCommandLayout.slotSize,
        alignment: 64
    )

    static func word(_ b: UnsafeRawBufferPointer, _ at: Int) -> UInt64 {
        var v: UInt64 = 0
        for i in 0..<8 where at + i < b.count { v |= UInt64(b[at + i]) << (8 * UInt64(i)) }
        return v
    }

    /// `s` as the encoder stores it in a field of `size` bytes: every character that still fits.
    static func expected(_ s: String, size: Int) -> String {
        var out = ""
        var n = 0
        for ch in s {
            let c = ch.utf8.count
            if n + c > size { break }
            out.append(ch)
            n += c
        }
        return out
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzControlCommand(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let raw = UnsafeRawPointer(data)
    let n = ControlCommandLayout.slotSize
    var sink = 0

    // 1. The exact buffer: short inputs must be refused by size, before any field is read.
    do {
        let c = try ControlCommand.decode(raw, size: size)
        precondition(size >= n, "decoded a command from \(size) bytes")
        sink &+= c.reason.utf8.count
    } catch {
        if case .size(let found, let want) = error { precondition(size < n && found == size && want == n) }
        sink &+= error.description.utf8.count
    }

    // 2. The input padded with zeros or cut to one slot, as the ring hands it over.
    let slot = FuzzControl.slot
    slot.initializeMemory(as: UInt8.self, repeating: 0, count: n)
    slot.copyMemory(from: raw, byteCount: min(size, n))
    // The strategy's decode (no text) refuses exactly what the full one refuses, keeps every other
    // field, and its byte-wise addressing agrees with the decoded strategy name.
    let full = Result { () throws(ControlDecodeError) in try ControlCommand.decode(UnsafeRawPointer(slot), size: n) }
    let bare = Result { () throws(ControlDecodeError) in
        try ControlCommand.decode(UnsafeRawPointer(slot), size: n, text: false)
    }
    switch (full, bare) {
    case (.success(let c), .success(let d)):
        var want = c
        (want.strategy, want.issuer, want.reason) = ("", "", "")
        precondition(d == want, "decode(text: false) changed a field other than the texts")
        let field = UnsafeRawPointer(slot) + ControlCommandLayout.strategy
        for name in ["alpha", c.strategy, "", String(c.strategy.dropLast())] {
            precondition(
                FixedText.addresses(field, size: ControlCommandLayout.strategySize, name) == c.addresses(name)
                    || (name.isEmpty && c.strategy.isEmpty),
                "FixedText.addresses and ControlCommand.addresses disagree on \(name)"
            )
        }
    case (.failure(let e), .failure(let f)): precondition(e == f, "the two decodes refuse differently: \(e) / \(f)")
    default: preconditionFailure("one decode accepted what the other refused: \(full) / \(bare)")
    }
    if let c = try? ControlCommand.decode(UnsafeRawPointer(slot), size: n) {
        let again = FuzzControl.again
        again.copyMemory(from: slot, byteCount: 8)  // the sequence is the ring's, not the command's
        c.encode(into: again)
        precondition(memcmp(slot, again, n) == 0, "decode → encode changed the slot's bytes")
        let d = try! ControlCommand.decode(UnsafeRawPointer(again), size: n)
        precondition(d == c, "decode → encode → decode changed the command")
        sink &+= Int(truncatingIfNeeded: d.commandId) &+ (d.addresses("alpha") ? 1 : 0)
    }

    // 3. The same bytes as a control record: every field read, the texts checked.
    let v = ControlRecordView(UnsafeRawPointer(slot))
    let roles = v.roles
    sink &+= Int(truncatingIfNeeded: v.sequence &+ v.firstMarketSequence &+ v.commandId &+ roles.liveModelId)
    sink &+= Int(truncatingIfNeeded: v.exchangeTime &+ v.commandPublishTime &+ v.publishTime)
    sink &+= Int(v.rawRejection) &+ Int(v.rawCommand) &+ (v.applied ? 1 : 0) &+ (roles.paused ? 1 : 0)
    sink &+= (v.verb?.description.utf8.count ?? 0) &+ (v.rejection?.description.utf8.count ?? 0)
    sink &+= roles.liveVersion.hex.utf8.count &+ roles.canaryVersion.words.0.nonzeroBitCount
    sink &+= v.message.utf8.count
    let message = UnsafeRawPointer(slot) + ControlRecordLayout.message
    if let m = try? FixedText.load(message, size: ControlRecordLayout.messageSize, field: "message") {
        precondition(m == v.message, "FixedText.load and the view read the message differently")
    }
    for (at, width) in [(0, size % 33), (ControlCommandLayout.reason, ControlCommandLayout.reasonSize), (n - 1, 1)] {
        sink &+= (try? FixedText.load(UnsafeRawPointer(slot) + at, size: width, field: "f"))?.utf8.count ?? 0
    }

    // 4. A command made of the input's bytes (texts are the input cut into three, invalid UTF-8
    //    repaired), encoded and decoded.
    let b = UnsafeRawBufferPointer(start: raw, count: size)
    if size >= 4 {
        let texts = b[4...].split(separator: 0xFF, maxSplits: 2, omittingEmptySubsequences: false)
            .map { String(decoding: $0, as: UTF8.self) }
        let c = ControlCommand(
            verb: ControlVerb(rawValue: b[0] % 7 + 1)!,
            role: ModelRole(rawValue: b[1] % 4),
            percent: b[2],
            commandId: FuzzControl.word(b, 4),
            version: VersionDigest(words: (FuzzControl.word(b, 12), FuzzControl.word(b, 20), 0, b[3] & 1 == 0 ? 0 : 7)),
            runtimeId: FuzzControl.word(b, 28),
            strategy: texts.count > 0 ? texts[0] : "",
            issuer: texts.count > 1 ? texts[1] : "",
            reason: texts.count > 2 ? texts[2] : "",
            publishTime: Int64(bitPattern: FuzzControl.word(b, 36)),
            submitTime: Int64(bitPattern: FuzzControl.word(b, 44))
        )
        if (try? c.validate()) != nil {
            let again = FuzzControl.again
            again.initializeMemory(as: UInt8.self, repeating: 0xA5, count: n)  // a reused slot
            c.encode(into: again)
            let d: ControlCommand
            do { d = try ControlCommand.decode(UnsafeRawPointer(again), size: n) } catch {
                preconditionFailure("a valid command encodes to a slot that does not decode: \(error)")
            }
            var want = c
            want.strategy = FuzzControl.expected(c.strategy, size: ControlCommandLayout.strategySize)
            want.issuer = FuzzControl.expected(c.issuer, size: ControlCommandLayout.issuerSize)
            want.reason = FuzzControl.expected(c.reason, size: ControlCommandLayout.reasonSize)
            precondition(d == want, "encode → decode changed the command")
            precondition(Array(d.reason.utf8) == Array(want.reason.utf8), "the reason's bytes changed")
            sink &+= d.percent == c.percent ? 1 : 0
        }
    }
    return sink == Int.min ? 1 : 0
}
