import Foundation
import Registry
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Every file under `root` (relative path → mode and bytes): what "nothing written" is checked against.
func registryTree(_ root: String) -> [String: String] {
    var out: [String: String] = [:]
    guard let e = FileManager.default.enumerator(atPath: root) else { return out }
    while let rel = e.nextObject() as? String {
        let p = root + "/" + rel
        var st = stat()
        guard lstat(p, &st) == 0 else { continue }
        let content = st.st_mode & S_IFMT == S_IFREG ? (FileManager.default.contents(atPath: p) ?? Data()) : Data()
        out[rel] = String(st.st_mode, radix: 8) + " " + content.base64EncodedString()
    }
    return out
}

@Suite("Registry: a missing registry directory")
struct RegistryMissingTests {
    @Test("every registry command and the strategy's loader name the missing directory, create nothing, print no usage")
    func missing() throws {
        let s = Scratch("missing")
        defer { s.remove() }
        let root = s.root  // never created
        let id = String(repeating: "ab", count: 32)
        let key = try s.write("key", String(repeating: "0", count: 64))
        let commands: [[String]] = [
            ["list"], ["list", "--json"], ["show", id], ["show", "alpha@champion"], ["verify"],
            ["alias", "set", "alpha@champion", id, "--reason", "r"], ["history", "alpha@champion"],
            ["approve", id, "--alias", "alpha@champion", "--as", "risk", "--key", key],
        ]
        for c in commands {
            let r = try TickBusTest.run(["registry"] + c + ["--registry", root])
            #expect(r.status == 64, "\(c): \(r.status) \(r.stderr)")
            #expect(r.stderr.contains("registry directory \(root) does not exist"), "\(c): \(r.stderr)")
            #expect(!r.stderr.contains("Usage:") && r.stdout.isEmpty, "\(c): \(r.stdout) \(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: root), "\(c) created \(root)")
        }
        // The strategy refuses before it makes a ring.
        let bus = TickBusTest.uniqueBus("regmissing")
        defer { TickBusTest.removeBus(bus) }
        let strategy = try TickBusTest.run([
            "strategy", "--bus", bus, "--registry", root, "--live", String(id.prefix(12)), "--name", "M", "--cpu", "0",
            "--attach-timeout", "1",
        ])
        #expect(strategy.status != 0 && strategy.stderr.contains("registry directory \(root) does not exist"))
        #expect(!strategy.stderr.contains("Usage:"), "\(strategy.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "/dev/shm/tickbus/\(bus)/decisions.M"))
        // In process: the typed error, with the path.
        do {
            _ = try Registry(root: root).loadStrategy(live: id, shadow: nil)
            Issue.record("loaded a strategy from a missing registry")
        } catch {
            guard case .noRegistry(let p) = error else {
                Issue.record("\(error)")
                return
            }
            #expect(p == root && "\(error)".contains(root))
        }
        // A file where the directory should be is not "missing": it is named as what it is.
        let file = try s.write("plain", "x")
        let notDir = try TickBusTest.run(["registry", "list", "--registry", file])
        #expect(notDir.status == 64 && notDir.stderr.contains("cannot open registry \(file): not a directory"))
    }
}

/// Root ignores file modes: these run `tickbus` as uid/gid 65534 with no groups (another local
/// user), over a registry that root made and owns. Only meaningful as root, as CI runs.
@Suite(
    "Registry: read-only for another user",
    .serialized,
    .enabled(if: getuid() == 0, "needs root to run tickbus as another user")
)
struct RegistryReadOnlyTests {
    func asNobody(_ args: [String]) throws -> Child.Result {
        let child = try Child(
            ["--reuid=65534", "--regid=65534", "--clear-groups", TickBusTest.binary] + args,
            executable: "/usr/bin/setpriv"
        )
        return child.wait(timeout: 60)
    }

    /// A registry with one version, an alias moved once, a policy listing a risk key (readable by
    /// the other user), all written by root.
    func populated(_ s: Scratch) throws -> (id: String, key: String, definition: String) {
        let definition = try s.definition()
        let add = try TickBusTest.run([
            "registry", "add", "--registry", s.root, "--name", "alpha", "--model", Scratch.fixture("lgb_binary.txt"),
            "--features", definition,
        ])
        #expect(add.status == 0, "\(add.stderr)")
        let key = s.dir.appendingPathComponent("risk.key").path
        let pub = try TickBusTest.run(["registry", "keygen", "--registry", s.root, "--out", key]).lastLine
        #expect(chmod(key, 0o644) == 0)
        try s.write(
            "registry/policy.toml",
            "[alias.champion]\ngates = [\"approvals\"]\napprovals = [\"risk\"]\n[keys]\nrisk = [\"\(pub)\"]\n"
        )
        let set = try TickBusTest.run([
            "registry", "alias", "set", "--registry", s.root, "alpha@research", add.lastLine, "--reason", "first",
        ])
        #expect(set.status == 0, "\(set.stderr)")
        return (add.lastLine, key, definition)
    }

    @Test(
        "add, alias set and approve are refused naming the path and errno; list, show, verify, history work; nothing written"
    )
    func readOnly() throws {
        let s = Scratch("readonly")
        defer { s.remove() }
        let (id, key, definition) = try populated(s)
        let before = registryTree(s.root)
        let reg = ["--registry", s.root]

        let add = try asNobody(
            ["registry", "add"] + reg + [
                "--name", "alpha", "--model", Scratch.fixture("lgb_binary.txt"), "--features", definition, "--tag",
                "n=2",
            ]
        )
        #expect(add.status == 64, "add: \(add.status) \(add.stderr)")
        #expect(add.stderr.contains("cannot write \(s.root)/"), "add: \(add.stderr)")
        #expect(add.stderr.contains("Permission denied (errno 13)") && !add.stderr.contains("Usage:"), "\(add.stderr)")

        let set = try asNobody(["registry", "alias", "set"] + reg + ["alpha@research", id, "--reason", "second"])
        #expect(set.status == 64, "alias set: \(set.status) \(set.stderr)")
        #expect(
            set.stderr.contains("\(s.root)/aliases/alpha@research.log") && set.stderr.contains("(errno 13)"),
            "alias set: \(set.stderr)"
        )

        let approve = try asNobody(
            ["registry", "approve"] + reg + [id, "--alias", "alpha@champion", "--as", "risk", "--key", key]
        )
        #expect(approve.status == 64, "approve: \(approve.status) \(approve.stderr)")
        #expect(
            approve.stderr.contains("cannot write \(s.root)/") && approve.stderr.contains("(errno 13)"),
            "approve: \(approve.stderr)"
        )

        let list = try asNobody(["registry", "list"] + reg)
        #expect(list.status == 0 && list.stdout.hasPrefix("\(id) name=alpha"), "list: \(list.stdout) \(list.stderr)")
        let show = try asNobody(["registry", "show"] + reg + ["alpha@research"])
        #expect(show.status == 0 && show.stdout.contains("id=\(id)"), "show: \(show.stderr)")
        let verify = try asNobody(["registry", "verify"] + reg)
        #expect(verify.status == 0 && verify.stdout.contains(": ok"), "verify: \(verify.stdout) \(verify.stderr)")
        let history = try asNobody(["registry", "history"] + reg + ["alpha@research"])
        #expect(
            history.status == 0 && history.stdout.split(separator: "\n").count == 1
                && history.stdout.contains("reason=\"first\""),
            "history: \(history.stdout) \(history.stderr)"
        )
        // Nothing half-written: no temporary file, no lock, the log and the head as they were.
        #expect(registryTree(s.root) == before)
    }

    @Test("an alias directory that refuses the new head: the move fails before the log changes")
    func headRefused() throws {
        let s = Scratch("readonly-head")
        defer { s.remove() }
        let (id, _, _) = try populated(s)
        // The other user owns the registry, but may not create files in aliases/ (the log
        // itself stays writable): appending the line and then failing on the head would leave a
        // log the head contradicts.
        let own = try Child(["-R", "65534:65534", s.root], executable: "/bin/chown").wait(timeout: 30)
        #expect(own.status == 0, "\(own.stderr)")
        let aliases = s.root + "/aliases"
        #expect(chmod(aliases, 0o555) == 0)
        let before = registryTree(s.root)
        let set = try asNobody([
            "registry", "alias", "set", "--registry", s.root, "alpha@research", id, "--reason", "2",
        ])
        #expect(set.status == 64, "\(set.stderr)")
        #expect(set.stderr.contains("cannot write \(aliases)/alpha@research.head"), "\(set.stderr)")
        #expect(set.stderr.contains("Permission denied (errno 13)"), "\(set.stderr)")
        #expect(registryTree(s.root) == before)
        let verify = try asNobody(["registry", "verify", "--registry", s.root])
        #expect(verify.status == 0, "\(verify.stdout) \(verify.stderr)")
    }

    @Test("a registry the user may not read is an error naming it, not an empty list")
    func unreadable() throws {
        let s = Scratch("unreadable")
        defer { s.remove() }
        _ = try populated(s)
        #expect(chmod(s.root, 0o700) == 0)
        for c in [["list"], ["verify"], ["history", "alpha@research"]] {
            let r = try asNobody(["registry"] + c + ["--registry", s.root])
            #expect(r.status == 64 && r.stdout.isEmpty, "\(c): \(r.stdout) \(r.stderr)")
            #expect(
                r.stderr.contains("cannot read registry \(s.root): Permission denied (errno 13)"),
                "\(c): \(r.stderr)"
            )
        }
    }
}

/// The readers refuse any file the writer would not have written (found by the fuzz harnesses'
/// round-trip property, Fuzz/regressions/registry-manifest and alias-log): otherwise two
/// different files read as the same manifest or entry, and content outside what the reader
/// returns sits in a file whose hash is still its id.
@Suite("Registry readers: only what the writer writes")
struct RegistryReaderStrictnessTests {
    static func regression(_ target: String, _ name: String) throws -> [UInt8] {
        Array(
            try Data(
                contentsOf: TickBusTest.repositoryRoot.appendingPathComponent("Fuzz/regressions/\(target)/\(name)")
            )
        )
    }

    func refusal(_ body: () throws(RegistryError) -> Void) -> String {
        do {
            try body()
            return "accepted"
        } catch { return "\(error)" }
    }

    @Test("a manifest with an extra member, an uppercase or signed runtime id is refused, naming the file")
    func manifest() throws {
        let good = Array(
            try Data(
                contentsOf: TickBusTest.repositoryRoot.appendingPathComponent("Fuzz/seeds/registry-manifest/manifest-3")
            )
        )
        let m = try Manifest(bytes: good, what: "m")
        #expect(m.bytes == good && m.runtimeIdHex == "0fa5ff7cf88695f0")
        let extra = try Self.regression("registry-manifest", "registry-manifest-extra-model-key")
        #expect(
            refusal { () throws(RegistryError) in _ = try Manifest(bytes: extra, what: "/r/manifests/sha256/x") }
                == "/r/manifests/sha256/x: 'model' has members [\"extra\", \"format\", \"runtime_id\", \"sha256\"], "
                + "expected format, runtime_id, sha256"
        )
        for name in ["registry-manifest-runtime-id-uppercase", "registry-manifest-runtime-id-plus-sign"] {
            let bytes = try Self.regression("registry-manifest", name)
            #expect(
                refusal { () throws(RegistryError) in _ = try Manifest(bytes: bytes, what: "f") }
                    .hasPrefix("f: 'model.runtime_id' is not 16 lowercase hex digits"),
                "\(name)"
            )
        }
    }

    @Test(
        "an alias entry with a time in leading zeros, or approvals that are not an array, is refused, naming the line"
    )
    func aliasEntry() throws {
        // The fuzzer's input: three moves, the third's time_ns "0898017425536176954".
        let log = try Self.regression("alias-log", "alias-log-time-leading-zero")
        let third = Array(log.split(separator: 10)[2])
        #expect(
            refusal { () throws(RegistryError) in _ = try AliasEntry(line: third, what: "log:3") }
                == "log:3: 'time_ns' is not ns since the epoch in plain decimal: '0898017425536176954'"
        )
        var plain = third
        plain.replaceSubrange(plain.firstRange(of: Array("\"0898".utf8))!, with: Array("\"898".utf8))
        #expect(try AliasEntry(line: plain, what: "log:3").bytes == plain)
        let approvals = Array(try Self.regression("alias-log", "alias-log-approvals-not-an-array").dropLast())
        #expect(
            refusal { () throws(RegistryError) in _ = try AliasEntry(line: approvals, what: "log:1") }
                == "log:1: 'approvals' is not an array"
        )
    }
}
