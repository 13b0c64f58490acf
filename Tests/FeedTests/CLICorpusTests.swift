import Foundation
import TestSupport
import Testing

/// Every parser's corpus through the real CLI: the committed fuzz seeds (Fuzz/seeds), the crash
/// inputs the fuzzers found (Fuzz/regressions), the repository's fixtures and the shared data
/// samples. Each run must end by itself with a status below 128, not by a signal, and print no
/// "Fatal error" (issue 11: no command traps on any input file or packet).
///
/// An input that still crashes because of an open defect may be listed in `knownCrashes` (empty
/// now): it is run and reported, but does not fail the test. Remove its name when its fix merges
/// (the test says when one no longer crashes).
@Suite("CLI corpus", .serialized)
struct CLICorpusTests {
    /// Inputs known to crash and not fixed yet: none (every issue-11 defect and every fuzzer find
    /// is fixed). A new entry is temporary, with its regression input, until its fix merges.
    static let knownCrashes: Set<String> = []
    static let root = TickBusTest.repositoryRoot
    static let separator: [UInt8] = [0x54, 0x42, 0x46, 0x55, 0x5A, 0x5A, 0x00, 0x01]  // FuzzInput.separator

    /// Files of Fuzz/seeds/T and Fuzz/regressions/T (directories too when `directories`).
    static func corpus(_ target: String, directories: Bool = false) -> [URL] {
        var out: [URL] = []
        for base in ["Fuzz/seeds", "Fuzz/regressions"] {
            let dir = root.appendingPathComponent(base).appendingPathComponent(target)
            let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
            for n in names.sorted() {
                var isDir: ObjCBool = false
                let u = dir.appendingPathComponent(n)
                _ = FileManager.default.fileExists(atPath: u.path, isDirectory: &isDir)
                if isDir.boolValue == directories { out.append(u) }
            }
        }
        return out
    }

    static func files(_ dir: String, suffix: String) -> [URL] {
        let d = root.appendingPathComponent(dir)
        return ((try? FileManager.default.contentsOfDirectory(atPath: d.path)) ?? []).sorted()
            .filter { $0.hasSuffix(suffix) }.map { d.appendingPathComponent($0) }
    }

    /// What the Swift runtime prints when a process traps or dies of a signal (its backtracer
    /// may still be running when we look).
    static func trapped(_ stderr: String) -> Bool { stderr.contains("Fatal error") || stderr.contains("*** Signal") }

    /// Outcomes per input, so a known crash is judged over all the commands run on it.
    final class Tally {
        var known: [String: Bool] = [:]
        /// Records an issue for a crash of an input not known to crash.
        func note(_ input: String, crashed: Bool, _ what: @autoclosure () -> String) {
            if CLICorpusTests.knownCrashes.contains(input) {
                known[input] = (known[input] ?? false) || crashed
            } else if crashed {
                Issue.record(Comment(rawValue: what()))
            }
        }
        /// Says which known crashes did not happen (their fix has merged: unmark them).
        func finish() {
            for (input, crashed) in known.sorted(by: { $0.key < $1.key }) where !crashed {
                print("CLI corpus: known crash \(input) no longer crashes: remove it from knownCrashes")
            }
        }
    }

    /// Runs `tickbus ARGS`; a trap, a signal, a status >= 128 or a hang is a crash of `input`.
    @discardableResult
    static func run(
        _ args: [String],
        input: String,
        _ tally: Tally,
        timeout: TimeInterval = 60,
        allowTimeout: Bool = false
    ) throws -> Child.Result {
        let child = try Child(args)
        let r = child.wait(timeout: timeout)
        let signalled = child.process.terminationReason == .uncaughtSignal && !r.timedOut
        let crashed = signalled || r.status >= 128 || trapped(r.stderr) || (r.timedOut && !allowTimeout)
        tally.note(
            input,
            crashed: crashed,
            "tickbus \(args.joined(separator: " ")) on \(input): status \(r.status)\(signalled ? " (signal)" : "")"
                + "\(r.timedOut ? " (timed out)" : ""): \(r.stderr.split(separator: "\n").prefix(3).joined(separator: " | "))"
        )
        return r
    }

    static func scratch(_ tag: String) -> URL { TickBusTest.temporaryDirectory("corpus-\(tag)") }

    @Test("ITCH files: book itch (books and counts) and features --source itch")
    func itch() throws {
        let tally = Tally()
        defer { tally.finish() }
        var inputs = Self.corpus("itch")
        for name in ["itch50/12302019_SNIPPET.NASDAQ_ITCH50", "itch50/sample.itch"] {
            inputs.append(URL(fileURLWithPath: try TickBusTest.sharedData(name)))
        }
        let features = Self.root.appendingPathComponent("Recordings/synthetic-5/features.toml").path
        for f in inputs {
            try Self.run(["book", "itch", "--file", f.path], input: f.lastPathComponent, tally)
            try Self.run(["book", "itch", "--file", f.path, "--counts"], input: f.lastPathComponent, tally)
            try Self.run(
                ["features", "--source", "itch:\(f.path)", "--features", features, "--out", "/dev/null"],
                input: f.lastPathComponent,
                tally
            )
        }
    }

    /// Splits a container input (message file, separator, order-book file) into two files.
    static func lobsterPair(_ input: URL, into dir: URL) throws -> (String, String, Int) {
        let b = [UInt8](try Data(contentsOf: input))
        var cut = b.count
        var i = 0
        while i + separator.count <= b.count {
            if Array(b[i..<(i + separator.count)]) == separator {
                cut = i
                break
            }
            i += 1
        }
        let m = dir.appendingPathComponent("m.csv")
        let o = dir.appendingPathComponent("o.csv")
        try Data(b[0..<cut]).write(to: m)
        let book = cut < b.count ? Array(b[(cut + separator.count)...]) : Array("5800000,100,5790000,100\n".utf8)
        try Data(book).write(to: o)
        let first = book.split(separator: 0x0A, omittingEmptySubsequences: false).first ?? []
        let columns = first.filter { $0 == 0x2C }.count + 1
        return (m.path, o.path, max(columns / 4, 1))
    }

    @Test("LOBSTER pairs: book lobster and features --source lobster")
    func lobster() throws {
        let tally = Tally()
        defer { tally.finish() }
        let dir = Self.scratch("lobster")
        defer { try? FileManager.default.removeItem(at: dir) }
        let features = Self.root.appendingPathComponent("Recordings/synthetic-5/features.toml").path
        for f in Self.corpus("lobster") {
            let (m, o, levels) = try Self.lobsterPair(f, into: dir)
            try Self.run(
                ["book", "lobster", "--messages", m, "--orderbook", o, "--levels", String(levels)],
                input: f.lastPathComponent,
                tally
            )
            try Self.run(
                ["features", "--source", "lobster:\(m),\(o)", "--features", features, "--out", "/dev/null"],
                input: f.lastPathComponent,
                tally
            )
        }
        // The real pairs (levels 1, 5 and the level-10 cut).
        for (m, o, levels) in [
            ("57600000_message_1", "57600000_orderbook_1", 1), ("57600000_message_5", "57600000_orderbook_5", 5),
            ("37800000_message_10", "37800000_orderbook_10", 10),
        ] {
            let mp = try TickBusTest.sharedData("lobster/GOOG_2012-06-21_34200000_\(m).csv")
            let op = try TickBusTest.sharedData("lobster/GOOG_2012-06-21_34200000_\(o).csv")
            try Self.run(
                ["book", "lobster", "--messages", mp, "--orderbook", op, "--levels", String(levels)],
                input: m,
                tally
            )
        }
    }

    @Test("model files: model info and model predict on zeros, missing values and extremes")
    func models() throws {
        let tally = Tally()
        defer { tally.finish() }
        let dir = Self.scratch("models")
        defer { try? FileManager.default.removeItem(at: dir) }
        var inputs: [URL] = []
        for t in ["lightgbm", "xgboost", "linear", "onnx"] { inputs += Self.corpus(t) }
        inputs +=
            Self.files("Tests/ModelsTests/Fixtures", suffix: ".txt")
            + Self.files("Tests/ModelsTests/Fixtures", suffix: ".json")
            + Self.files("Tests/ModelsTests/Fixtures", suffix: ".onnx")
        inputs += [
            Self.root.appendingPathComponent("Recordings/synthetic-5/model.json"),
            Self.root.appendingPathComponent("Tools/strategy/lightgbm.txt"),
        ]
        for f in inputs {
            let info = try Self.run(["model", "info", f.path], input: f.lastPathComponent, tally)
            guard info.status == 0,
                let names = info.stdout.split(separator: "\n").first(where: { $0.hasPrefix("feature_names=") })
            else { continue }
            let header = String(names.dropFirst("feature_names=".count))
            let n = header.split(separator: ",").count
            let rows = ["0", "nan", "1e300", "-1e300", "", "0.5"].map { v in
                Array(repeating: v, count: n).joined(separator: ",")
            }
            let csv = dir.appendingPathComponent("x.csv")
            try ([header] + rows).joined(separator: "\n").appending("\n").write(
                to: csv,
                atomically: true,
                encoding: .utf8
            )
            try Self.run(
                ["model", "predict", "--model", f.path, "--input", csv.path],
                input: f.lastPathComponent,
                tally
            )
            try Self.run(
                ["model", "predict", "--model", f.path, "--input", csv.path, "--raw"],
                input: f.lastPathComponent,
                tally
            )
        }
    }

    @Test("feature definitions: features --source synthetic")
    func featureDefinitions() throws {
        let tally = Tally()
        defer { tally.finish() }
        var inputs = Self.corpus("features")
        inputs += [
            Self.root.appendingPathComponent("Recordings/synthetic-5/features.toml"),
            Self.root.appendingPathComponent("Tools/strategy/features.toml"),
        ]
        for f in inputs {
            try Self.run(
                [
                    "features", "--source", "synthetic:3", "--features", f.path, "--out", "/dev/null", "--messages",
                    "3000",
                ],
                input: f.lastPathComponent,
                tally
            )
        }
    }

    @Test("journals: verify, info and cat (with --from through the index) on recorded, cut and fuzzed journals")
    func journals() throws {
        let tally = Tally()
        defer { tally.finish() }
        let dir = Self.scratch("journal")
        defer { try? FileManager.default.removeItem(at: dir) }
        var inputs = Self.corpus("journal", directories: true)
        // The bundled recording, and copies of it cut at a block boundary, inside a block and inside the header.
        let session = Self.root.appendingPathComponent("Recordings/synthetic-5/session")
        inputs.append(session)
        let segment = try Data(contentsOf: session.appendingPathComponent("market.000000.tbj"))
        for cut in [100, 4096 * 3, 4096 * 5 + 1000, segment.count - 4096] {
            let d = dir.appendingPathComponent("cut-\(cut)")
            try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
            try segment.prefix(cut).write(to: d.appendingPathComponent("market.000000.tbj"))
            try FileManager.default.copyItem(
                at: session.appendingPathComponent("market.index"),
                to: d.appendingPathComponent("market.index")
            )
            inputs.append(d)
        }
        for d in inputs {
            let name = d.lastPathComponent
            try Self.run(["journal", "verify", d.path], input: name, tally)
            try Self.run(["journal", "info", d.path], input: name, tally)
            try Self.run(
                ["journal", "cat", d.path, "--ring", "market", "--from", "100", "--to", "110"],
                input: name,
                tally
            )
            try Self.run(["journal", "cat", d.path, "--ring", "market", "--from", "13"], input: name, tally)
            try Self.run(["journal", "cat", d.path, "--ring", "market", "--from", "3000"], input: name, tally)
        }
    }

    @Test("segment files planted on a bus: rings and tap attach, validate and read")
    func segments() throws {
        let tally = Tally()
        defer { tally.finish() }
        for f in Self.corpus("segment") {
            let bus = TickBusTest.uniqueBus("corpus-seg")
            defer { TickBusTest.removeBus(bus) }
            let dir = "/dev/shm/tickbus/\(bus)"
            try FileManager.default.createDirectory(
                atPath: dir,
                withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700]
            )
            try Data(contentsOf: f).write(to: URL(fileURLWithPath: dir + "/market"))
            try Self.run(["rings", "--bus", bus], input: f.lastPathComponent, tally)
            // tap waits for a live producer; a timeout here is not a crash.
            try Self.run(
                ["tap", "--bus", bus, "--ring", "market", "--count", "3"],
                input: f.lastPathComponent,
                tally,
                timeout: 3,
                allowTimeout: true
            )
        }
    }

    @Test("MoldUDP64 packets: feed --source itch+moldudp64 receives each corpus input over loopback")
    func moldudp64() throws {
        let tally = Tally()
        defer { tally.finish() }
        for (k, f) in Self.corpus("moldudp64").enumerated() {
            let bus = TickBusTest.uniqueBus("corpus-mold")
            defer { TickBusTest.removeBus(bus) }
            let port = 20_000 + Int(getpid() % 10_000) * 4 + k * 2 % 4_000
            let child = try Child(["feed", "--bus", bus, "--source", "itch+moldudp64:127.0.0.1:\(port)"])
            // The receiver binds after the ring is created.
            guard child.waitFor(timeout: 20, { $0.contains("feed: ring market") }) else {
                Issue.record("\(f.lastPathComponent): feed did not start: \(child.stderr)")
                continue
            }
            usleep(200_000)
            let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
            var to = sockaddr_in()
            to.sin_family = sa_family_t(AF_INET)
            to.sin_port = UInt16(port).bigEndian
            to.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
            let b = [UInt8](try Data(contentsOf: f))
            var at = 0
            while at + 2 <= b.count {
                let n = Int(b[at]) << 8 | Int(b[at + 1])
                let start = at + 2
                let count = min(n, b.count - start)
                at = start + count
                b.withUnsafeBytes { p in
                    _ = withUnsafePointer(to: &to) {
                        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                            sendto(fd, p.baseAddress! + start, count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                        }
                    }
                }
            }
            close(fd)
            // Still waiting for the rest of the session is fine; dying on the packets is not.
            let died = child.waitFor(timeout: 1.5) { Self.trapped($0) }
            let running = child.isRunning && !Self.trapped(child.stderr)
            child.signal(SIGKILL)
            let r = child.wait(timeout: 30)
            let crashed =
                died || Self.trapped(r.stderr)
                || !running && (child.process.terminationReason == .uncaughtSignal || r.status >= 128)
            tally.note(
                f.lastPathComponent,
                crashed: crashed,
                "feed --source itch+moldudp64 on \(f.lastPathComponent): status \(r.status): \(r.stderr.suffix(300))"
            )
        }
    }
}
