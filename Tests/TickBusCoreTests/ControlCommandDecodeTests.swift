import Foundation
import TestSupport
import Testing
import TickBusCore

/// The control command slot's decoder and encoder agree: what `validate()` accepts encodes to a
/// slot that decodes to it, and a slot that decodes is byte for byte what `encode` writes. The
/// two inputs the `control-command` fuzz harness found (Fuzz/regressions/control-command) are
/// checked here against the layout in ControlRecords.swift, written by hand.
@Suite("Control command slot: decode and encode agree")
struct ControlCommandDecodeTests {
    func slot(_ bytes: [UInt8]) -> [UInt8] {
        Array(
            (bytes + [UInt8](repeating: 0, count: ControlCommandLayout.slotSize)).prefix(ControlCommandLayout.slotSize)
        )
    }

    func decode(_ s: [UInt8]) -> Result<ControlCommand, ControlDecodeError> {
        s.withUnsafeBytes { b in
            Result { () throws(ControlDecodeError) -> ControlCommand in
                try ControlCommand.decode(b.baseAddress!, size: b.count)
            }
        }
    }

    static func regression(_ name: String) throws -> [UInt8] {
        Array(
            try Data(
                contentsOf: TickBusTest.repositoryRoot.appendingPathComponent(
                    "Fuzz/regressions/control-command/\(name)"
                )
            )
        )
    }

    @Test("a command with a NUL in a text field is refused by validate(), not encoded into a slot decode refuses")
    func nulInText() throws {
        for (i, field) in ["strategy", "issuer", "reason"].enumerated() {
            var c = ControlCommand(verb: .pause, commandId: 9, issuer: "ops", reason: "why")
            if i == 0 { c.strategy = "a\u{0}b" } else if i == 1 { c.issuer = "\u{0}" } else { c.reason = "x\u{0}" }
            #expect(throws: ControlDecodeError.field(field, "contains a NUL byte")) { try c.validate() }
        }
        // The input the fuzzer found: a canary command whose strategy field came out of bytes with NULs.
        let b = try Self.regression("control-command-nul-in-text")
        let c = ControlCommand(
            verb: ControlVerb(rawValue: b[0] % 7 + 1)!,
            commandId: 1,
            strategy: String(decoding: b[4..<36], as: UTF8.self),
            issuer: "ops",
            reason: "why"
        )
        #expect(throws: ControlDecodeError.field("strategy", "contains a NUL byte")) { try c.validate() }
    }

    @Test("reserved bytes 14..<16 must be zero: a slot encode would not write is refused")
    func reservedBytes() throws {
        // kind 1, pause, no role, percent 0, layout 1, command id 5, issuer "ops", reason "why".
        var s = slot([0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 6, 0, 0, 1, 0, 0, 5])
        s.replaceSubrange(112..<115, with: Array("ops".utf8))
        s.replaceSubrange(144..<147, with: Array("why".utf8))
        guard case .success(let c) = decode(s) else {
            Issue.record("the hand-written slot does not decode: \(decode(s))")
            return
        }
        #expect(c == ControlCommand(verb: .pause, commandId: 5, issuer: "ops", reason: "why"))
        var encoded = [UInt8](repeating: 0xA5, count: ControlCommandLayout.slotSize)
        encoded.withUnsafeMutableBytes { c.encode(into: $0.baseAddress!) }
        #expect(Array(encoded[8...]) == Array(s[8...]))
        s[14] = 0x72
        #expect(throws: ControlDecodeError.field("bytes 14..<16", "are 114, not zero (reserved)")) {
            try decode(s).get()
        }
        s[14] = 0
        s[15] = 1
        #expect(throws: ControlDecodeError.self) { try decode(s).get() }
        // The fuzzer's input: a rollback slot with 'r' in byte 14.
        let found = slot(try Self.regression("control-command-reserved-bytes-nonzero"))
        #expect(throws: ControlDecodeError.field("bytes 14..<16", "are 114, not zero (reserved)")) {
            try decode(found).get()
        }
    }

    @Test(
        "decode(text: false) refuses exactly what decode refuses and keeps every other field; addresses matches names by bytes"
    )
    func textFreeDecode() throws {
        func both(
            _ s: [UInt8]
        ) -> (Result<ControlCommand, ControlDecodeError>, Result<ControlCommand, ControlDecodeError>) {
            s.withUnsafeBytes { b in
                (
                    Result { () throws(ControlDecodeError) -> ControlCommand in
                        try ControlCommand.decode(b.baseAddress!, size: b.count)
                    },
                    Result { () throws(ControlDecodeError) -> ControlCommand in
                        try ControlCommand.decode(b.baseAddress!, size: b.count, text: false)
                    }
                )
            }
        }
        var good = [UInt8](repeating: 0, count: ControlCommandLayout.slotSize)
        let c = ControlCommand(
            verb: .load,
            role: .canary,
            commandId: 77,
            version: VersionDigest(hex: String(repeating: "ab", count: 32))!,
            runtimeId: 5,
            strategy: "alpha",
            issuer: "risk desk",
            reason: "a reason longer than fifteen bytes, so a String of it would allocate"
        )
        good.withUnsafeMutableBytes { c.encode(into: $0.baseAddress!) }
        let (full, bare) = both(good)
        var expected = c
        (expected.strategy, expected.issuer, expected.reason) = ("", "", "")
        #expect(try full.get() == c)
        #expect(try bare.get() == expected)
        // Bad text in each field: both refuse with the same error.
        for (offset, size, field) in [
            (ControlCommandLayout.strategy, ControlCommandLayout.strategySize, "strategy"),
            (ControlCommandLayout.issuer, ControlCommandLayout.issuerSize, "issuer"),
            (ControlCommandLayout.reason, ControlCommandLayout.reasonSize, "reason"),
        ] {
            var invalid = good
            invalid[offset] = 0xff  // not UTF-8
            var padded = good
            padded[offset + size - 1] = 0x41  // a byte after the NUL padding (every text here is shorter)
            for (s, what) in [(invalid, "is not UTF-8"), (padded, "has bytes after its NUL padding")] {
                let (a, b) = both(s)
                #expect(throws: ControlDecodeError.field(field, what)) { try a.get() }
                #expect(throws: ControlDecodeError.field(field, what)) { try b.get() }
            }
        }
        good.withUnsafeBytes { b in
            let f = b.baseAddress! + ControlCommandLayout.strategy
            let n = ControlCommandLayout.strategySize
            #expect(FixedText.addresses(f, size: n, "alpha"))
            #expect(!FixedText.addresses(f, size: n, "alph"))
            #expect(!FixedText.addresses(f, size: n, "alphab"))
            #expect(!FixedText.addresses(f, size: n, ""))
        }
        let every = [UInt8](repeating: 0, count: 32)
        every.withUnsafeBytes { #expect(FixedText.addresses($0.baseAddress!, size: 32, "anyone")) }
        let full32 = [UInt8](repeating: 0x61, count: 32)
        full32.withUnsafeBytes { b in
            #expect(FixedText.addresses(b.baseAddress!, size: 32, String(repeating: "a", count: 32)))
            #expect(!FixedText.addresses(b.baseAddress!, size: 32, String(repeating: "a", count: 31)))
        }
    }
}
