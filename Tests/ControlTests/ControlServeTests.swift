import CTickBus
import Control
import ControlWire
import Foundation
import Registry
import TestSupport
import Testing
import TickBusCore

#if canImport(Glibc)
import Glibc
#endif

/// A registry made for one test: three versions of model `alpha` (the same LightGBM fixture,
/// told apart by a tag), a policy gating `champion` and `canary` by the features gate (the model
/// loads and its feature list equals the definition's), and the aliases moved through it.
struct ControlRegistry {
    let dir: URL
    var root: String { dir.appendingPathComponent("registry").path }
    var a = "", b = "", c = ""

    init(_ prefix: String) throws {
        dir = TickBusTest.temporaryDirectory("control-\(prefix)")
        let registry = try Registry.create(root: dir.appendingPathComponent("registry").path)
        let definition = dir.appendingPathComponent("f.toml").path
        try (0..<6).map { "[[feature]]\nname = \"f\($0)\"\nkind = \"mid\"\n" }.joined()
            .write(toFile: definition, atomically: true, encoding: .utf8)
        let gated = "gates = [\"features\"]\nlatency_p99_ns = 100000000\n"
        try "[alias.champion]\n\(gated)\n[alias.canary]\n\(gated)\n"
            .write(toFile: registry.root + "/policy.toml", atomically: true, encoding: .utf8)
        let model = TickBusTest.repositoryRoot.appendingPathComponent("Tests/ModelsTests/Fixtures/lgb_binary.txt").path
        var ids: [String] = []
        for tag in ["a", "b", "c"] {
            var r = Registry.AddRequest(name: "alpha", model: model, features: definition)
            r.tags = ["v": tag]
            ids.append(try registry.add(r))
        }
        (a, b, c) = (ids[0], ids[1], ids[2])
        _ = try registry.setAlias("alpha@champion", to: a, reason: "first")
        _ = try registry.setAlias("alpha@champion", to: b, reason: "better")
        _ = try registry.setAlias("alpha@canary", to: c, reason: "try")
    }

    func remove() { try? FileManager.default.removeItem(at: dir) }
}

/// Runs `tickbus control --bus BUS ARGS…` to completion.
func control(_ bus: String, _ args: [String], timeout: TimeInterval = 30) throws -> Child.Result {
    try TickBusTest.run(["control", "--bus", bus] + args, timeout: timeout)
}

/// Sends raw bytes to the server and returns its reply line.
func rawSubmit(_ bus: String, _ bytes: [UInt8]) throws -> String {
    let dir = try BusDirectory(bus: bus)
    let c = try ControlSocket.connect(dir)
    let deadline = tb_monotonic_ns() + 5_000_000_000
    try c.write(bytes, deadline: deadline)
    c.shutdownWrite()
    var buffer = [UInt8](repeating: 0, count: 4096)
    let n = try buffer.withUnsafeMutableBytes { try c.read(into: $0.baseAddress!, count: $0.count, deadline: deadline) }
    return String(decoding: buffer[..<n], as: UTF8.self)
}

/// Every command in ring `control` from sequence 0 (the server has published them all before it replied).
func publishedCommands(_ bus: String) throws -> [ControlCommand] {
    var reader = try RingReader(bus: bus, ring: "control", name: "test", from: .start, expecting: .control)
    var out: [ControlCommand] = []
    while case .message(let slot) = reader.poll() { out.append(try ControlCommand.decode(slot.base, size: slot.count)) }
    return out
}

@Suite("Control: tickbus control serve and its client", .serialized)
struct ControlServeTests {
    @Test(
        "accepted commands are published as sent; refused ones never; the server keeps serving",
        .timeLimit(.minutes(3))
    )
    func serve() throws {
        let bus = TickBusTest.uniqueBus("ctl")
        defer { TickBusTest.removeBus(bus) }
        let reg = try ControlRegistry("serve")
        defer { reg.remove() }
        let server = try Child(["control", "serve", "--bus", bus, "--registry", reg.root])
        #expect(server.waitFor(timeout: 30) { $0.contains("control serve: bus=") }, "\(server.stderr)")

        // A second server on the same bus is refused while the first runs.
        let second = try TickBusTest.run(["control", "serve", "--bus", bus, "--registry", reg.root], timeout: 30)
        #expect(second.status != 0 && second.stderr.contains("another control server is running"), "\(second)")

        var expected: [(verb: ControlVerb, role: ModelRole?, percent: UInt8, version: String, id: UInt64)] = []
        func accept(
            _ args: [String],
            _ verb: ControlVerb,
            _ role: ModelRole? = nil,
            percent: UInt8 = 0,
            version: String = ""
        ) throws {
            let r = try control(bus, args + ["--reason", "test \(verb)", "--issuer", "ci"])
            #expect(r.status == 0, "\(args): \(r.stderr)")
            let kv = keyValues(r.lastLine)
            #expect(r.lastLine.hasPrefix("accepted "), "\(r.stdout)")
            #expect(kv["version"] ?? "" == version, "\(args): \(r.stdout)")
            expected.append((verb, role, percent, version, UInt64(kv["command"] ?? "") ?? 0))
        }
        func refuse(_ args: [String], _ why: String) throws {
            let r = try control(bus, args + ["--reason", "should be refused"])
            #expect(r.status == 2, "\(args): \(r)")
            #expect(r.stdout.contains("refused") && r.stderr.contains(why), "\(args): \(r)")
        }

        try accept(["load", String(reg.b.prefix(12)), "--role", "live"], .load, .live, version: reg.b)
        try refuse(["load", reg.a, "--role", "live"], "does not hold alpha@champion")
        try refuse(["load", reg.b, "--role", "canary"], "does not hold alpha@canary")
        try accept(["load", "alpha@canary", "--role", "canary"], .load, .canary, version: reg.c)
        try accept(["load", reg.a, "--role", "shadow"], .load, .shadow, version: reg.a)
        try accept(["canary", "30"], .canary, percent: 30)
        try accept(["promote"], .promote)
        try accept(["demote"], .demote)
        try accept(["pause"], .pause)
        try accept(["resume"], .resume)
        try accept(["rollback"], .rollback, .live, version: reg.a)  // champion's previous version
        try accept(["rollback", reg.c], .rollback, .live, version: reg.c)
        try refuse(["load", "0123456789ab", "--role", "shadow"], "no version matches 0123456789ab")
        try refuse(["load", "0123456789a", "--role", "shadow"], "at least 12 hex digits")
        // Two manifests sharing a 12-digit prefix (names only: the prefix check fails before reading them).
        let manifests = reg.root + "/manifests/sha256/"
        for tail in ["a", "b"] {
            let name = "abcdefabcdef" + String(repeating: "0", count: 51) + tail
            _ = FileManager.default.createFile(atPath: manifests + name, contents: Data("{}".utf8))
        }
        try refuse(["load", "abcdefabcdef", "--role", "shadow"], "prefix abcdefabcdef is ambiguous: 2 versions match")
        try FileManager.default.removeItem(atPath: manifests + "abcdefabcdef" + String(repeating: "0", count: 51) + "a")
        try FileManager.default.removeItem(atPath: manifests + "abcdefabcdef" + String(repeating: "0", count: 51) + "b")
        // A tampered model object: the version no longer verifies.
        let registry = try Registry(root: reg.root)
        let model = reg.root + "/objects/sha256/" + (try registry.version(id: reg.a)).manifest.model
        chmod(model, 0o644)
        let original = try Data(contentsOf: URL(fileURLWithPath: model))
        var edited = original
        edited[edited.count / 2] ^= 1
        try edited.write(to: URL(fileURLWithPath: model))
        try refuse(["load", reg.a, "--role", "shadow"], "altered")
        try original.write(to: URL(fileURLWithPath: model))
        // Registry missing: loads refused with a clear message, other verbs still served.
        try FileManager.default.moveItem(atPath: reg.root, toPath: reg.root + ".away")
        try refuse(["load", reg.a, "--role", "shadow"], "registry directory \(reg.root) does not exist")
        try accept(["pause"], .pause)
        try FileManager.default.moveItem(atPath: reg.root + ".away", toPath: reg.root)

        // Malformed frames straight on the socket: each refused with its reason, none published.
        let good = try Submission(verb: .pause, issuer: "ci", reason: "raw").encode()
        var badVerb = good
        badVerb[8] = 42
        var noReason = good
        noReason.removeLast(3)  // the reason field's length still says 3: truncated
        let cases: [([UInt8], String)] = [
            (Array("GET / HTTP/1.0\r\n\r\n".utf8), "not a control submission"),
            (Array("TBCS".utf8) + [1, 0, 0xFF, 0xFF] + [UInt8](repeating: 7, count: 70_000), "more than 4088"),
            (badVerb, "'verb' 42 is not a command"),
            (noReason, "truncated"),
            (try handFrameNoReason(), "'reason' is empty"),
            (Array(good.prefix(20)), "truncated"),
            ((0..<300).map { UInt8(truncatingIfNeeded: $0 &* 37) }, "not a control submission"),
        ]
        for (bytes, why) in cases {
            let reply = try rawSubmit(bus, bytes)
            #expect(reply.contains("\"status\":\"refused\"") && reply.contains(why), "\(why): \(reply)")
        }
        // A client that connects and stays silent holds the server for at most its 2 s deadline.
        let silent = try ControlSocket.connect(try BusDirectory(bus: bus))
        try accept(["resume"], .resume)
        _ = silent

        let published = try publishedCommands(bus)
        #expect(published.count == expected.count)
        var last: UInt64 = 0
        for (c, e) in zip(published, expected) {
            #expect(c.verb == e.verb && c.role == e.role && c.percent == e.percent && c.commandId == e.id)
            #expect(c.version == (e.version.isEmpty ? .zero : VersionDigest(hex: e.version)!))
            #expect(c.issuer == "ci" && c.reason == "test \(e.verb)")
            #expect(c.commandId > last)
            last = c.commandId
            if !e.version.isEmpty {
                #expect(c.runtimeId == (try registry.version(id: e.version)).manifest.runtimeId)
            }
        }

        server.signal(SIGTERM)
        let done = server.wait(timeout: 30)
        #expect(done.status == 0 && !done.timedOut, "\(done.stderr)")
        let refusals = done.stdout.split(separator: "\n").filter { $0.hasPrefix("refused") }.count
        #expect(refusals == 8 + cases.count, "\(done.stdout)")
        #expect(done.stdout.contains("stopped accepted=\(expected.count) refused=\(refusals)"), "\(done.stdout)")
        // The stats block counts the same: accepted as applied, bad frames as malformed, the rest rejected.
        let block = StatsBlock.snapshot(try StatsBlock.attach(path: BusPaths.root + "/\(bus)/stats.control-serve"))
        #expect(block.kind == .control && block.state == .closed)
        #expect(block.counter(.controlApplied) == UInt64(expected.count))
        #expect(block.counter(.controlMalformed) == UInt64(cases.count))
        #expect(block.counter(.controlRejected) == UInt64(refusals - cases.count))
        var st = stat()
        #expect(stat(BusPaths.root + "/\(bus)/control.sock", &st) != 0, "socket removed at exit")
        let ring = try Segment.attach(bus: bus, ring: "control", expecting: .control)
        #expect(ring.producerState == .closed)

        // A restart after a kill: the stale socket is replaced and ids keep increasing.
        let again = try Child(["control", "serve", "--bus", bus, "--registry", reg.root])
        #expect(again.waitFor(timeout: 30) { $0.contains("control serve: bus=") }, "\(again.stderr)")
        again.signal(SIGKILL)
        _ = again.wait(timeout: 30)
        #expect(stat(BusPaths.root + "/\(bus)/control.sock", &st) == 0, "a killed server leaves its socket")
        let third = try Child(["control", "serve", "--bus", bus, "--registry", reg.root])
        #expect(third.waitFor(timeout: 30) { $0.contains("control serve: bus=") }, "\(third.stderr)")
        let r = try control(bus, ["pause", "--reason", "after restart"])
        #expect((UInt64(keyValues(r.lastLine)["command"] ?? "") ?? 0) > last, "\(r.stdout)")
        third.signal(SIGKILL)
        _ = third.wait(timeout: 30)
        // `tickbus rm` removes the socket a killed server left, with the rings.
        let rm = try TickBusTest.run(["rm", "--bus", bus], timeout: 30)
        #expect(rm.status == 0, "\(rm)")
        #expect(stat(BusPaths.root + "/\(bus)", &st) != 0, "\(rm.stdout) \(rm.stderr)")
    }
}

/// A pause frame whose reason field is present but empty.
func handFrameNoReason() throws -> [UInt8] {
    var body: [UInt8] = [ControlVerb.pause.rawValue, 0, 0, 0]
    for f in [[], [], Array("ci".utf8), []] as [[UInt8]] { body += [UInt8(f.count), 0] + f }
    return Array("TBCS".utf8) + [1, 0, UInt8(body.count), 0] + body
}
