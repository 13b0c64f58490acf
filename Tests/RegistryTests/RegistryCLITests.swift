import BacktestReport
import Foundation
import TestSupport
import Testing

@Suite("tickbus registry: the command line")
struct RegistryCLITests {
    @Test("add, list, show, alias set, history, verify through the binary, with --json and prefix ids")
    func roundTrip() throws {
        let s = Scratch("cli")
        defer { s.remove() }
        let reg = ["--registry", s.root]
        let ex = try s.examples("lgb_binary")
        // The default policy's backtest gate: a report of this model and definition.
        let report = s.dir.appendingPathComponent("report.json")
        try Data(
            try BacktestGateTests.report(
                model: try BacktestGateTests.sha256(Scratch.fixture("lgb_binary.txt")),
                features: try BacktestGateTests.sha256(try s.definition())
            ).json()
        ).write(to: report)
        let add = try TickBusTest.run(
            ["registry", "add"] + reg + [
                "--name", "alpha", "--model", Scratch.fixture("lgb_binary.txt"),
                "--features", try s.definition(), "--examples", ex, "--tag", "run=1", "--backtest", report.path,
            ]
        )
        #expect(add.status == 0, "\(add.stderr)")
        let id = add.lastLine
        #expect(id.count == 64 && id.allSatisfy(\.isHexDigit))
        let again = try TickBusTest.run(
            ["registry", "add", "--json"] + reg + [
                "--name", "alpha", "--model", Scratch.fixture("lgb_binary.txt"),
                "--features", try s.definition(), "--examples", ex, "--tag", "run=1", "--backtest", report.path,
            ]
        )
        #expect(again.lastLine == "{\"id\":\"\(id)\",\"name\":\"alpha\"}")
        let prefix = String(id.prefix(12))
        let set = try TickBusTest.run(
            ["registry", "alias", "set"] + reg + ["alpha@champion", prefix, "--reason", "first"]
        )
        #expect(set.status == 0, "\(set.stderr)")
        let show = try TickBusTest.run(["registry", "show", "--json"] + reg + ["alpha@champion"])
        #expect(
            show.status == 0 && show.stdout.contains("\"id\":\"\(id)\"")
                && show.stdout.contains("\"aliases\":[\"alpha@champion\"]")
        )
        let text = try TickBusTest.run(["registry", "show"] + reg + [prefix])
        #expect(text.stdout.contains("id=\(id)") && text.stdout.contains("tag.run=1"))
        let list = try TickBusTest.run(["registry", "list"] + reg)
        #expect(list.stdout.hasPrefix("\(id) name=alpha format=lightgbm"))
        let history = try TickBusTest.run(["registry", "history", "--json"] + reg + ["alpha@champion"])
        #expect(
            history.stdout.contains("\"reason\":\"first\"")
                && history.stdout.contains("\"prev\":\"\(String(repeating: "0", count: 64))\"")
        )
        let at = try TickBusTest.run(
            ["registry", "history"] + reg + ["alpha@champion", "--at", "2000-01-01T00:00:00Z"]
        )
        #expect(at.status == 0 && at.stdout.contains("was not set"))
        let now = try TickBusTest.run(
            ["registry", "history"] + reg + [
                "alpha@champion", "--at", "\(Int64(Date().timeIntervalSince1970 * 1e9) + 1_000_000_000)",
            ]
        )
        #expect(now.lastLine == id)
        #expect(try TickBusTest.run(["registry", "verify"] + reg).status == 0)
        // Refused move: the wrong feature list, named in the message; nothing logged.
        let wrong = try TickBusTest.run(
            ["registry", "add"] + reg + [
                "--name", "alpha", "--model", Scratch.fixture("lgb_binary.txt"),
                "--features", try s.definition("g"), "--examples", ex,
            ]
        ).lastLine
        let refused = try TickBusTest.run(
            ["registry", "alias", "set", "--json"] + reg + ["alpha@champion", wrong, "--reason", "no"]
        )
        #expect(
            refused.status != 0 && refused.stderr.contains("features:")
                && refused.stdout.contains("\"refused\":\"yes\"")
        )
        #expect(
            try TickBusTest.run(["registry", "history"] + reg + ["alpha@champion"]).stdout.split(separator: "\n").count
                == 1
        )
        // Tampering found by verify.
        let log = s.root + "/aliases/alpha@champion.log"
        try (try String(contentsOfFile: log, encoding: .utf8)).replacingOccurrences(of: "first", with: "frist").write(
            toFile: log,
            atomically: true,
            encoding: .utf8
        )
        let verify = try TickBusTest.run(["registry", "verify", "--json"] + reg)
        #expect(
            verify.status != 0 && verify.stdout.contains("\"ok\":\"no\"")
                && verify.stdout.contains("entries cut or added")
        )
    }

    @Test("concurrent alias moves from several processes keep one intact chain")
    func concurrentMoves() throws {
        let s = Scratch("cli-concurrent")
        defer { s.remove() }
        let reg = ["--registry", s.root]
        let id = try TickBusTest.run(
            ["registry", "add"] + reg + [
                "--name", "alpha", "--model", Scratch.fixture("lgb_binary.txt"),
                "--features", try s.definition(),
            ]
        ).lastLine
        // An ungated alias: no gates to run, so the processes race on the log itself.
        let children = try (0..<6).map {
            try Child(["registry", "alias", "set"] + reg + ["alpha@research", id, "--reason", "move \($0)"])
        }
        for c in children {
            let r = c.wait(timeout: 60)
            #expect(r.status == 0 && !r.timedOut, "\(r.stderr)")
        }
        let history = try TickBusTest.run(["registry", "history"] + reg + ["alpha@research"])
        #expect(history.stdout.split(separator: "\n").count == 6)
        #expect(history.stdout.contains("who=\"") && history.stdout.contains("(uid "))
        #expect(try TickBusTest.run(["registry", "verify"] + reg).status == 0)
    }

    @Test("bad input gives clear errors and no traps")
    func badInput() throws {
        let s = Scratch("cli-bad")
        defer { s.remove() }
        let missing = try TickBusTest.run(["registry", "list", "--registry", s.root + "/none"])
        #expect(missing.status == 64 && missing.stderr.contains("does not exist"))
        _ = try TickBusTest.run([
            "registry", "add", "--registry", s.root, "--name", "alpha", "--model", Scratch.fixture("lgb_binary.txt"),
            "--features", try s.definition(),
        ])
        let unknown = try TickBusTest.run(["registry", "show", "--registry", s.root, "0123456789abcdef"])
        #expect(unknown.status == 64 && unknown.stderr.contains("no version matches 0123456789abcdef"))
        let short = try TickBusTest.run(["registry", "show", "--registry", s.root, "0123"])
        #expect(short.stderr.contains("at least 12 hex digits"))
        let badTime = try TickBusTest.run(["registry", "history", "--registry", s.root, "alpha@x", "--at", "yesterday"])
        #expect(
            badTime.status == 64
                && badTime.stderr.contains("time 'yesterday' is neither ns since the epoch nor ISO 8601")
        )
        let unset = try TickBusTest.run(["registry", "history", "--registry", s.root, "alpha@x"])
        #expect(unset.status == 64 && unset.stderr.contains("alias alpha@x has never been set"))
        let badModel = try TickBusTest.run([
            "registry", "add", "--registry", s.root, "--name", "alpha", "--model", try s.write("junk", "junk"),
            "--features", try s.definition(),
        ])
        #expect(badModel.status == 64 && badModel.stderr.contains("does not load"))
        let manifest = s.root + "/manifests/sha256/" + String(repeating: "a", count: 64)
        try "{\"format\":".write(toFile: manifest, atomically: true, encoding: .utf8)
        let malformed = try TickBusTest.run([
            "registry", "show", "--registry", s.root, String(repeating: "a", count: 12),
        ])
        #expect(malformed.status == 64 && malformed.stderr.contains(manifest))
    }
}
