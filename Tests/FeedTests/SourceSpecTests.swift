import Feed
import Testing

@Suite("Source specs")
struct SourceSpecTests {
    @Test("every kind parses, and prints back as given")
    func kinds() throws {
        let cases: [(String, SourceSpec)] = [
            ("synthetic:42", .synthetic(seed: 42)),
            ("itch:/data/a.itch.gz", .itch(path: "/data/a.itch.gz")),
            ("itch+moldudp64:239.1.1.1:31000", .itchMoldUDP64(group: "239.1.1.1:31000")),
            ("lobster:m.csv,o.csv", .lobster(messages: "m.csv", orderbook: "o.csv")),
            ("journal:/tmp/session", .journal(directory: "/tmp/session")),
        ]
        for (text, spec) in cases {
            #expect(try SourceSpec(parsing: text) == spec)
            #expect(spec.description == text)
        }
        // Only the first colon separates the kind; a LOBSTER path may hold further commas.
        #expect(try SourceSpec(parsing: "lobster:a,b,c") == .lobster(messages: "a", orderbook: "b,c"))
    }

    @Test("a bad spec names itself and what is wrong")
    func errors() {
        #expect(throws: SourceSpecError.missingKind(spec: "42")) { try SourceSpec(parsing: "42") }
        #expect(throws: SourceSpecError.badSeed(spec: "synthetic:-1", argument: "-1")) {
            try SourceSpec(parsing: "synthetic:-1")
        }
        #expect(throws: SourceSpecError.lobsterNeedsTwoFiles(spec: "lobster:m.csv", argument: "m.csv")) {
            try SourceSpec(parsing: "lobster:m.csv")
        }
        #expect(throws: SourceSpecError.unknownKind(spec: "pcap:x", kind: "pcap")) { try SourceSpec(parsing: "pcap:x") }
        #expect(
            SourceSpecError.unknownKind(spec: "pcap:x", kind: "pcap").description
                == "--source 'pcap:x': unknown kind 'pcap' (synthetic, itch, itch+moldudp64, tickbus+moldudp64, lobster, journal)"
        )
    }

    @Test("an open failure keeps the source's own error and names the spec")
    func openFailure() throws {
        struct Count: MarketSourceVisitor {
            mutating func visit<Source: MarketSource & ~Copyable>(_ source: inout Source) -> Int {
                var n = 0
                while n < 10, source.next() != nil { n += 1 }
                return n
            }
        }
        var visitor = Count()
        #expect(try SourceSpec.synthetic(seed: 1).openFeedSource(&visitor) == 10)
        #expect(try SourceSpec.journal(directory: "/x").openFeedSource(&visitor) == nil)
        do {
            _ = try SourceSpec.itch(path: "/nonexistent.itch").openFeedSource(&visitor)
            Issue.record("opened a missing file")
        } catch {
            #expect(error.cause.description.hasPrefix("cannot open /nonexistent.itch"))
            #expect(error.description.hasPrefix("--source itch:/nonexistent.itch: cannot open /nonexistent.itch"))
        }
    }
}
