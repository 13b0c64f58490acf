import Foundation
import TestSupport
import Testing

/// How the executable reports failures: wrong arguments show the usage banner; a failure at run
/// time (a missing file, ring or journal) prints its message only, with the same exit status.
@Suite("Error reporting")
struct ErrorReportingTests {
    func hasUsage(_ r: Child.Result) -> Bool { (r.stdout + r.stderr).lowercased().contains("usage:") }

    @Test("runtime failures print the message and no usage banner")
    func runtimeFailures() throws {
        let bus = TickBusTest.uniqueBus("err")
        defer { TickBusTest.removeBus(bus) }
        // (arguments, exit status, text the message must contain)
        let cases: [([String], Int32, String)] = [
            (["journal", "verify", "/nonexistent-\(bus)"], 2, "opendir(/nonexistent-\(bus))"),
            (["rings", "--bus", bus], 1, "no such ring"),
            // These were reported as validation errors, with the banner: the status stays 64.
            (
                ["feed", "--bus", bus, "--source", "itch:/nonexistent-\(bus).itch"], 64,
                "--source itch:/nonexistent-\(bus).itch: cannot open"
            ),
            (
                [
                    "features", "--source", "lobster:/nonexistent-\(bus).csv,/nonexistent-\(bus)-ob.csv", "--features",
                    TickBusTest.repositoryRoot.appendingPathComponent("Recordings/synthetic-5/features.toml").path,
                    "--out", "-",
                ],
                64, "--source lobster:/nonexistent-\(bus).csv,/nonexistent-\(bus)-ob.csv: cannot open"
            ),
            (
                ["model", "predict", "--model", "/nonexistent-\(bus).txt", "--input", "/nonexistent.csv"], 64,
                "cannot read model /nonexistent-\(bus).txt"
            ),
            (["model", "info", "/nonexistent-\(bus).txt"], 64, "cannot read model"),
            (
                [
                    "replay", "--dir", "/nonexistent-\(bus)", "--verify-decisions", "--features",
                    "/nonexistent-\(bus).toml", "--model", "m",
                ],
                64, "cannot read feature definition /nonexistent-\(bus).toml"
            ),
        ]
        for (arguments, status, message) in cases {
            let r = try TickBusTest.run(arguments, timeout: 30)
            #expect(r.status == status, "\(arguments): status \(r.status)\n\(r.stderr)")
            #expect(r.stderr.contains(message), "\(arguments): \(r.stderr)")
            #expect(!hasUsage(r), "\(arguments) printed the usage banner:\n\(r.stderr)")
        }
    }

    @Test("wrong arguments still print the usage banner, and a bad --source creates no ring")
    func wrongArguments() throws {
        let bus = TickBusTest.uniqueBus("usage")
        defer { TickBusTest.removeBus(bus) }
        let cases: [([String], String)] = [
            (
                ["feed", "--bus", bus, "--source", "bogus"],
                "--source 'bogus': expected KIND:ARGUMENT, e.g. synthetic:42"
            ),
            (
                ["feed", "--bus", bus, "--source", "synthetic:abc"],
                "--source synthetic:SEED needs an integer seed, got 'abc'"
            ),
            (
                ["feed", "--bus", bus, "--source", "nosuch:1"],
                "unknown kind 'nosuch' (synthetic, itch, itch+moldudp64, tickbus+moldudp64, lobster, journal)"
            ),
            (
                ["features", "--source", "lobster:only-one.csv", "--features", "f.toml", "--out", "-"],
                "--source lobster:MESSAGES.csv,ORDERBOOK.csv, got 'only-one.csv'"
            ),
            (["tap", "--bus", bus, "--from", "later"], "--from must be start or now"),
            (["tap", "--bus", bus, "--no-such-flag"], "Unknown option '--no-such-flag'"),
        ]
        for (arguments, message) in cases {
            let r = try TickBusTest.run(arguments, timeout: 30)
            #expect(r.status == 64, "\(arguments): status \(r.status)\n\(r.stderr)")
            #expect(r.stderr.contains(message), "\(arguments): \(r.stderr)")
            #expect(hasUsage(r), "\(arguments) printed no usage:\n\(r.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: "/dev/shm/tickbus/\(bus)"), "a bad --source created the bus")
    }
}
