import ControlWire
import TestSupport
import Testing
import TickBusCore

/// A frame written byte by byte from Docs/CONTROL.md, not by the encoder.
func handFrame(
    verb: UInt8,
    role: UInt8 = 0,
    percent: UInt8 = 0,
    zero: UInt8 = 0,
    fields: [[UInt8]],
    lengthDelta: Int = 0,
    magic: [UInt8] = Array("TBCS".utf8),
    version: UInt16 = 1
) -> [UInt8] {
    var body: [UInt8] = [verb, role, percent, zero]
    for f in fields { body += [UInt8(f.count & 0xFF), UInt8(f.count >> 8)] + f }
    let n = body.count + lengthDelta
    return magic + [UInt8(version & 0xFF), UInt8(version >> 8), UInt8(n & 0xFF), UInt8(n >> 8)] + body
}

func decode(_ bytes: [UInt8]) throws(SubmissionError) -> Submission {
    let r: Result<Submission, SubmissionError> = bytes.withUnsafeBytes { b in
        Result { () throws(SubmissionError) in try Submission.decode(b) }
    }
    return try r.get()
}

func decodeError(_ bytes: [UInt8]) -> SubmissionError? {
    do {
        _ = try decode(bytes)
        return nil
    } catch { return error }
}

@Suite("Control: the submission frame")
struct SubmissionCodecTests {
    let fields = [Array("alpha".utf8), Array("0123456789abcdef".utf8), Array("ops".utf8), Array("drift".utf8)]

    @Test("a hand-written frame decodes; the encoder writes the same bytes")
    func reference() throws {
        let bytes = handFrame(verb: 1, role: 1, fields: fields)
        let s = try decode(bytes)
        #expect(
            s
                == Submission(
                    verb: .load,
                    role: .live,
                    strategy: "alpha",
                    reference: "0123456789abcdef",
                    issuer: "ops",
                    reason: "drift"
                )
        )
        #expect(try s.encode() == bytes)
        // Header: magic, version 1, body length 4 + 4 × 2 + 29.
        #expect(Array(bytes[0..<8]) == [0x54, 0x42, 0x43, 0x53, 1, 0, 41, 0])
    }

    @Test("every verb round-trips through encode and decode")
    func roundTrip() throws {
        let all: [Submission] = [
            Submission(verb: .load, role: .shadow, reference: "alpha@champion", issuer: "me", reason: "r"),
            Submission(
                verb: .load,
                role: .canary,
                strategy: "s.1",
                reference: String(repeating: "a", count: 64),
                issuer: "me",
                reason: "é ü ∑ reason"
            ),
            Submission(verb: .canary, percent: 0, issuer: "me", reason: "r"),
            Submission(verb: .canary, percent: 100, issuer: "me", reason: "r"),
            Submission(verb: .rollback, issuer: "me", reason: "r"),
            Submission(verb: .rollback, reference: "abcdefabcdef", issuer: "me", reason: "r"),
            Submission(verb: .promote, issuer: "me", reason: "r"), Submission(verb: .demote, issuer: "me", reason: "r"),
            Submission(verb: .pause, issuer: "me", reason: "r"), Submission(verb: .resume, issuer: "me", reason: "r"),
            Submission(
                verb: .pause,
                strategy: String(repeating: "s", count: 32),
                issuer: String(repeating: "i", count: 32),
                reason: String(repeating: "x", count: 112)
            ),
        ]
        for s in all { #expect(try decode(try s.encode()) == s) }
    }

    @Test("bad frames are refused with the field or size named")
    func malformed() {
        // Header.
        #expect(decodeError([0x54, 0x42, 0x43]) == .truncated(have: 3, need: 8, what: "header"))
        #expect(
            decodeError(handFrame(verb: 7, fields: fields, magic: Array("GET ".utf8))) == .magic(found: 0x2054_4547)
        )
        #expect(decodeError(handFrame(verb: 7, fields: fields, version: 2)) == .version(found: 2))
        // Oversize: refused from the header alone (no body follows here at all).
        let oversize: [UInt8] = Array("TBCS".utf8) + [1, 0, 0x00, 0x20]
        #expect(decodeError(oversize) == .length(8192, reason: "more than 4088"))
        #expect(
            decodeError(Array("TBCS".utf8) + [1, 0, 3, 0, 1, 2, 3])
                == .length(3, reason: "less than the 12 bytes of an empty body")
        )
        // Body length disagreeing with the fields.
        #expect(decodeError(handFrame(verb: 6, fields: fields.map { _ in [] } + [], lengthDelta: 0)) != nil)
        if case .truncated = decodeError(handFrame(verb: 6, fields: fields, lengthDelta: 5)) {
        } else {
            Issue.record("long length")
        }
        #expect(decodeError(handFrame(verb: 6, fields: fields, lengthDelta: -1)) != nil)
        var trailing = handFrame(verb: 6, fields: [[], [], Array("me".utf8), Array("r".utf8), [1, 2]])
        #expect(decodeError(trailing) == .trailing(count: 4))
        trailing = handFrame(verb: 6, fields: [[], [], Array("me".utf8), Array("r".utf8)]) + [0]
        #expect(decodeError(trailing) == .trailing(count: 1))
        // Fields.
        #expect(decodeError(handFrame(verb: 9, fields: fields)) == .field("verb", "9 is not a command"))
        #expect(decodeError(handFrame(verb: 1, role: 4, fields: fields)) == .field("role", "4 is not a role"))
        #expect(decodeError(handFrame(verb: 6, zero: 1, fields: fields)) == .field("byte 11", "is 1, must be 0"))
        let noReason = handFrame(verb: 6, fields: [[], [], Array("me".utf8), []])
        #expect(decodeError(noReason) == .field("reason", "is empty"))
        #expect(
            decodeError(handFrame(verb: 6, fields: [[], [], Array("me".utf8), Array("   ".utf8)]))
                == .field("reason", "is only spaces")
        )
        #expect(decodeError(handFrame(verb: 6, fields: [[], [], [], Array("r".utf8)])) == .field("issuer", "is empty"))
        let long = [UInt8](repeating: 0x61, count: 113)
        #expect(
            decodeError(handFrame(verb: 6, fields: [[], [], Array("me".utf8), long]))
                == .field("reason", "length 113 at byte 20 is more than 112")
        )
        #expect(
            decodeError(handFrame(verb: 6, fields: [[], [], Array("me".utf8), [0xC3, 0x28]]))
                == .field("reason", "at byte 22 is not UTF-8")
        )
        #expect(
            decodeError(handFrame(verb: 6, fields: [[], [], Array("me".utf8), [0x61, 0, 0x62]]))
                == .field("reason", "holds a control character")
        )
        #expect(
            decodeError(handFrame(verb: 6, fields: [Array("../x".utf8), [], Array("me".utf8), Array("r".utf8)]))
                == .field("strategy", "'../x' must be letters, digits, '.', '_' or '-'")
        )
        // Verb-specific.
        #expect(
            decodeError(handFrame(verb: 1, fields: fields))
                == .field("role", "a load needs a role (live, shadow or canary)")
        )
        #expect(
            decodeError(handFrame(verb: 1, role: 1, fields: [[], [], Array("me".utf8), Array("r".utf8)]))
                == .field("version reference", "a load needs a version")
        )
        #expect(
            decodeError(handFrame(verb: 2, percent: 101, fields: [[], [], Array("me".utf8), Array("r".utf8)]))
                == .field("percent", "is 101, more than 100")
        )
        #expect(
            decodeError(handFrame(verb: 6, percent: 5, fields: [[], [], Array("me".utf8), Array("r".utf8)]))
                == .field("percent", "is 5 on a pause command (only canary has one)")
        )
        #expect(
            decodeError(handFrame(verb: 6, role: 1, fields: [[], [], Array("me".utf8), Array("r".utf8)]))
                == .field("role", "only a load has a role")
        )
        #expect(
            decodeError(handFrame(verb: 3, fields: fields))
                == .field("version reference", "only load and rollback name a version")
        )
    }

    @Test("no input traps: every prefix and every single-byte change of a valid frame")
    func mutations() {
        let valid = handFrame(verb: 1, role: 3, fields: fields)
        for n in 0..<valid.count { _ = decodeError(Array(valid[0..<n])) }
        var rng = SplitMix64(state: 12)
        for _ in 0..<20_000 {
            var b = valid
            b[Int(rng.next() % UInt64(b.count))] = UInt8(truncatingIfNeeded: rng.next())
            _ = decodeError(b)
        }
    }
}
