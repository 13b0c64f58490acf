import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `/dev/shm/tickbus` is world-writable: another local user may plant `NAME -> /some/dir` (or a
/// directory of their own) before `feed` or `rm` runs. Both must refuse and leave the target as it was.
@Suite(
    "Bus directory safety across users",
    .serialized,
    .enabled(if: getuid() == 0, "needs root to act as another user")
)
struct BusDirectorySafetyTests {
    /// Runs a program as uid/gid 65534 with no supplementary groups (another local user).
    func asNobody(_ argv: [String]) throws -> Child.Result {
        let child = try Child(
            ["--reuid=65534", "--regid=65534", "--clear-groups"] + argv,
            executable: "/usr/bin/setpriv"
        )
        return child.wait(timeout: 30)
    }

    /// A directory with a real segment and a plain file: what a followed link would destroy.
    func victim(_ tag: String) throws -> (URL, [String: Data]) {
        let dir = TickBusTest.temporaryDirectory("victim-\(tag)")
        let real = TickBusTest.uniqueBus("real")
        defer { TickBusTest.removeBus(real) }
        let f = try TickBusTest.run([
            "feed", "--bus", real, "--source", "synthetic:1", "--messages", "10", "--capacity", "64",
        ])
        #expect(f.status == 0, "\(f.stderr)")
        try FileManager.default.copyItem(
            atPath: "/dev/shm/tickbus/\(real)/market",
            toPath: dir.appendingPathComponent("market").path
        )
        try Data("precious".utf8).write(to: dir.appendingPathComponent("notes.txt"))
        return (dir, try contents(dir))
    }

    func contents(_ dir: URL) throws -> [String: Data] {
        var out: [String: Data] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: dir.path) {
            out[name] = try Data(contentsOf: dir.appendingPathComponent(name))
        }
        return out
    }

    @Test("a bus name planted as a link by another user: feed and rm refuse, the target directory is untouched")
    func plantedLink() throws {
        let (dir, before) = try victim("link")
        defer { try? FileManager.default.removeItem(at: dir) }
        let bus = TickBusTest.uniqueBus("planted")
        defer { TickBusTest.removeBus(bus) }
        let link = "/dev/shm/tickbus/\(bus)"
        let ln = try asNobody(["ln", "-s", dir.path, link])
        #expect(ln.status == 0, "setpriv ln: \(ln.stderr)")
        var st = stat()
        #expect(lstat(link, &st) == 0 && st.st_mode & S_IFMT == S_IFLNK && st.st_uid == 65534)

        let feed = try TickBusTest.run(
            ["feed", "--bus", bus, "--source", "synthetic:1", "--messages", "10"],
            timeout: 30
        )
        #expect(feed.status != 0 && !feed.timedOut)
        #expect(feed.stderr.contains("is a symbolic link") && feed.stderr.contains(dir.path), "feed: \(feed.stderr)")
        let rm = try TickBusTest.run(["rm", "--bus", bus], timeout: 30)
        #expect(rm.status != 0 && !rm.timedOut)
        #expect(rm.stderr.contains("is a symbolic link"), "rm: \(rm.stderr)")
        let rings = try TickBusTest.run(["rings", "--bus", bus], timeout: 30)
        #expect(rings.status != 0 && rings.stdout.isEmpty, "rings: \(rings.stdout)")
        // stat says why instead of showing an empty bus.
        let stat = try TickBusTest.run(["stat", "--bus", bus, "--once"], timeout: 30)
        #expect(stat.status == 1 && stat.stdout.contains("is a symbolic link"), "stat: \(stat.stdout) \(stat.stderr)")
        #expect(!stat.stdout.contains("(no rings)"), "stat: \(stat.stdout)")
        let json = try TickBusTest.run(["stat", "--bus", bus, "--once", "--json"], timeout: 30)
        #expect(json.status == 1 && json.stdout.contains("\"error\""), "stat --json: \(json.stdout)")
        #expect(try contents(dir) == before)
        #expect(
            lstat(link, &st) == 0 && st.st_mode & S_IFMT == S_IFLNK,
            "the link itself is left for the operator to inspect"
        )
    }

    @Test("a bus directory made by another user: feed and rm refuse, its files are untouched")
    func plantedDirectory() throws {
        let bus = TickBusTest.uniqueBus("planteddir")
        defer { TickBusTest.removeBus(bus) }
        let path = "/dev/shm/tickbus/\(bus)"
        let mk = try asNobody(["mkdir", "-m", "0755", path])
        #expect(mk.status == 0, "setpriv mkdir: \(mk.stderr)")
        let feed = try TickBusTest.run(
            ["feed", "--bus", bus, "--source", "synthetic:1", "--messages", "10"],
            timeout: 30
        )
        #expect(feed.status != 0)
        #expect(feed.stderr.contains("owned by uid 65534"), "feed: \(feed.stderr)")
        #expect((try? FileManager.default.contentsOfDirectory(atPath: path)) == [])
        let rm = try TickBusTest.run(["rm", "--bus", bus], timeout: 30)
        #expect(rm.status != 0 && rm.stderr.contains("owned by uid 65534"), "rm: \(rm.stderr)")
        var st = stat()
        #expect(lstat(path, &st) == 0 && st.st_uid == 65534)
    }

    @Test("a ring file that is a link is refused by tap and feed; rm keeps it and a non-segment file, and says so")
    func linkedRingAndForeignFile() throws {
        let (dir, before) = try victim("ring")
        defer { try? FileManager.default.removeItem(at: dir) }
        let bus = TickBusTest.uniqueBus("ringlink")
        defer { TickBusTest.removeBus(bus) }
        let f = try TickBusTest.run([
            "feed", "--bus", bus, "--source", "synthetic:1", "--messages", "10", "--capacity", "64",
        ])
        #expect(f.status == 0, "\(f.stderr)")
        let busPath = "/dev/shm/tickbus/\(bus)"
        #expect(rename(busPath + "/market", busPath + "/old") == 0)
        #expect(symlink(dir.appendingPathComponent("market").path, busPath + "/market") == 0)
        try Data("operator notes".utf8).write(to: URL(fileURLWithPath: busPath + "/README"))

        let tap = try TickBusTest.run(["tap", "--bus", bus], timeout: 30)
        #expect(tap.status == 2 && tap.stderr.contains("is a symbolic link"), "tap: \(tap.stderr)")
        let feed = try TickBusTest.run(
            ["feed", "--bus", bus, "--source", "synthetic:1", "--messages", "10"],
            timeout: 30
        )
        #expect(feed.status != 0 && feed.stderr.contains("is a symbolic link"), "feed: \(feed.stderr)")
        let rm = try TickBusTest.run(["rm", "--bus", bus], timeout: 30)
        #expect(rm.status != 0)
        #expect(rm.stderr.contains("kept 2 other entries (README, market)"), "rm: \(rm.stderr)")
        let left = (try? FileManager.default.contentsOfDirectory(atPath: busPath))?.sorted()
        #expect(left == ["README", "market"], "the segment 'old' went, the rest stayed")
        #expect(try contents(dir) == before)
        #expect(try Data(contentsOf: URL(fileURLWithPath: busPath + "/README")) == Data("operator notes".utf8))
    }
}
