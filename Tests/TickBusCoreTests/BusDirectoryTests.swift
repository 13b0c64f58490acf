import CTickBus
import Foundation
import Testing
@testable import TickBusCore

/// A scratch directory outside the bus root, standing for another user's files.
func victimDirectory(_ tag: String) throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("tickbus-victim-\(tag)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    try Data("precious".utf8).write(to: URL(fileURLWithPath: path + "/notes.txt"))
    return path
}

func listing(_ path: String) -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted() }

/// Removes a test bus entry without following it (a link, a file or a directory of files).
func removeEntry(_ bus: String) {
    let path = BusPaths.busDirectory(bus)
    var st = stat()
    guard lstat(path, &st) == 0 else { return }
    if st.st_mode & S_IFMT == S_IFDIR {
        for name in listing(path) { unlink(path + "/" + name) }
        rmdir(path)
    } else {
        unlink(path)
    }
}

@Suite("Bus directory", .serialized)
struct BusDirectoryTests {
    @Test("names that could leave the bus directory are refused")
    func names() throws {
        for bad in ["", ".", "..", "../etc", "a/b", "/abs", "a\u{0}b", String(repeating: "x", count: 64), "sp ace"] {
            #expect(throws: SegmentError.self, "\(bad)") { try BusPaths.validate(bad) }
        }
        try BusPaths.validate(String(repeating: "x", count: 63))
        #expect(throws: SegmentError.self) { try BusPaths.split("/dev/shm/tickbus/a/../b") }
        #expect(throws: SegmentError.self) { try BusPaths.split("/dev/shm/tickbus/a/b/c") }
        #expect(throws: SegmentError.self) { try BusPaths.split("/tmp/a/b") }
        #expect(try BusPaths.split("/dev/shm/tickbus/bus/market") == ("bus", "market"))
        #expect(throws: SegmentError.self) { _ = try RingProducer(bus: "..", ring: "r", schema: .market, capacity: 16) }
        #expect(throws: SegmentError.self) { _ = try RingProducer(bus: "ok", ring: "../r", schema: .market, capacity: 16) }
    }

    @Test("a bus directory that is a symbolic link is refused by every entry point, and its target is untouched")
    func symlinkedBus() throws {
        let victim = try victimDirectory("link")
        defer { try? FileManager.default.removeItem(atPath: victim) }
        // A real segment in the target: `rm` through the link would have deleted it.
        let real = testBus("real")
        defer { removeBus(real) }
        _ = try RingProducer(bus: real, ring: "market", schema: .market, capacity: 16)
        try FileManager.default.copyItem(atPath: BusPaths.ring(bus: real, ring: "market"), toPath: victim + "/market")
        let before = listing(victim)

        let bus = testBus("link")
        #expect(symlink(victim, BusPaths.busDirectory(bus)) == 0)
        defer { removeEntry(bus) }
        let link = SegmentError.symbolicLink(path: BusPaths.busDirectory(bus), target: victim)
        #expect(throws: link) { _ = try RingProducer(bus: bus, ring: "market", schema: .market, capacity: 16) }
        #expect(throws: link) { _ = try RingReader(bus: bus, ring: "market", name: "x") }
        #expect(throws: link) { _ = try Segment.list(bus: bus) }
        #expect(throws: link) { try Segment.removeBus(bus) }
        #expect(throws: StatsError.bus(link)) { _ = try StatsWriter(bus: bus, name: "alpha") }
        #expect(throws: link) { _ = try Segment.readHeader(path: BusPaths.ring(bus: bus, ring: "market"), expecting: nil) }
        #expect(StatsBlock.list(bus: bus) == [])
        do {
            _ = try RingProducer(bus: bus, ring: "market", schema: .market, capacity: 16)
        } catch {
            #expect("\(error)".contains("symbolic link") && "\(error)".contains(victim))
        }
        #expect(listing(victim) == before)
        #expect(try Data(contentsOf: URL(fileURLWithPath: victim + "/notes.txt")) == Data("precious".utf8))
    }

    @Test("a ring file that is a symbolic link is refused; rm removes the entries that are segments only")
    func symlinkedRing() throws {
        let victim = try victimDirectory("ring")
        defer { try? FileManager.default.removeItem(atPath: victim) }
        let bus = testBus("ringlink")
        defer { removeEntry(bus) }
        _ = try RingProducer(bus: bus, ring: "decisions", schema: .decisions, slotSize: 256, capacity: 16)
        _ = try StatsWriter(bus: bus, name: "alpha")
        #expect(symlink(victim + "/notes.txt", BusPaths.ring(bus: bus, ring: "market")) == 0)
        #expect(throws: SegmentError.symbolicLink(path: BusPaths.ring(bus: bus, ring: "market"), target: victim + "/notes.txt")) {
            _ = try RingReader(bus: bus, ring: "market", name: "x")
        }
        #expect(throws: SegmentError.self) { _ = try RingProducer(bus: bus, ring: "market", schema: .market, capacity: 16) }
        // A file that is no segment (someone's notes) stays, and so does the directory.
        try Data("mine".utf8).write(to: URL(fileURLWithPath: BusPaths.ring(bus: bus, ring: "notes.txt")))
        #expect(throws: SegmentError.notRemoved(path: BusPaths.busDirectory(bus), kept: ["market", "notes.txt"])) {
            try Segment.removeBus(bus)
        }
        #expect(listing(BusPaths.busDirectory(bus)) == ["market", "notes.txt"])
        #expect(try Data(contentsOf: URL(fileURLWithPath: victim + "/notes.txt")) == Data("precious".utf8))
    }

    @Test("a bus directory others may write to is refused")
    func worldWritable() throws {
        let bus = testBus("ww")
        defer { removeEntry(bus) }
        #expect(mkdir(BusPaths.busDirectory(bus), 0o700) == 0)
        #expect(chmod(BusPaths.busDirectory(bus), 0o777) == 0)
        let e = #expect(throws: SegmentError.self) { _ = try RingProducer(bus: bus, ring: "market", schema: .market, capacity: 16) }
        guard case .notTrusted(_, _, _, 0o777, _)? = e else { Issue.record("got \(String(describing: e))"); return }
        #expect(listing(BusPaths.busDirectory(bus)) == [])
    }

    @Test("a bus directory or ring of another user is refused", .enabled(if: geteuid() == 0, "needs root to chown"))
    func otherOwner() throws {
        let bus = testBus("owner")
        defer { removeEntry(bus) }
        #expect(mkdir(BusPaths.busDirectory(bus), 0o700) == 0)
        #expect(chown(BusPaths.busDirectory(bus), 65534, 65534) == 0)
        let e = #expect(throws: SegmentError.self) { _ = try RingProducer(bus: bus, ring: "market", schema: .market, capacity: 16) }
        guard case .notTrusted(_, 65534, 65534, _, 0)? = e else { Issue.record("got \(String(describing: e))"); return }
        #expect("\(e!)".contains("owned by uid 65534"))
        let r = #expect(throws: SegmentError.self) { try Segment.removeBus(bus) }
        guard case .notTrusted? = r else { Issue.record("got \(String(describing: r))"); return }

        // Our own bus with a ring file someone else owns.
        let mine = testBus("owner2")
        defer { removeEntry(mine) }
        _ = try RingProducer(bus: mine, ring: "market", schema: .market, capacity: 16)
        #expect(chown(BusPaths.ring(bus: mine, ring: "market"), 65534, 65534) == 0)
        let a = #expect(throws: SegmentError.self) { _ = try RingReader(bus: mine, ring: "market", name: "x") }
        guard case .notTrusted(_, 65534, _, _, _)? = a else { Issue.record("got \(String(describing: a))"); return }
        // rm keeps it: it is not ours.
        #expect(throws: SegmentError.self) { try Segment.removeBus(mine) }
        #expect(listing(BusPaths.busDirectory(mine)) == ["market"])
    }

    @Test("the bus root is sticky and world-writable")
    func root() throws {
        let bus = testBus("root")
        defer { removeBus(bus) }
        _ = try RingProducer(bus: bus, ring: "market", schema: .market, capacity: 16)
        var st = stat()
        #expect(lstat(BusPaths.root, &st) == 0)
        #expect(st.st_mode & S_IFMT == S_IFDIR)
        #expect(st.st_mode & 0o7777 == 0o1777)
        #expect(lstat(BusPaths.busDirectory(bus), &st) == 0)
        #expect(st.st_mode & 0o7777 == 0o700)
        try Segment.removeBus(bus)
        #expect(access(BusPaths.busDirectory(bus), F_OK) != 0)
    }

    @Test("the bus root is created sticky; a root that is a link, not sticky while writable, or someone else's is refused")
    func rootChecks() throws {
        let scratch = try victimDirectory("root")
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let root = scratch + "/tickbus"
        let old = umask(0o022)
        defer { umask(old) }
        let fd = try BusDirectory.openRoot(create: true, path: root)
        close(fd)
        var st = stat()
        #expect(lstat(root, &st) == 0 && st.st_mode & 0o7777 == 0o1777)

        #expect(chmod(root, 0o777) == 0)
        let notSticky = #expect(throws: SegmentError.self) { _ = try BusDirectory.openRoot(create: true, path: root) }
        #expect("\(notSticky!)".contains("sticky bit is not set"))
        #expect(chmod(root, 0o755) == 0)
        close(try BusDirectory.openRoot(create: false, path: root))  // not writable by others: fine

        let link = scratch + "/link"
        #expect(symlink(root, link) == 0)
        #expect(throws: SegmentError.self) { _ = try BusDirectory.openRoot(create: true, path: link) }
        if geteuid() == 0 {
            #expect(chmod(root, 0o1777) == 0 && chown(root, 65534, 65534) == 0)
            let other = #expect(throws: SegmentError.self) { _ = try BusDirectory.openRoot(create: true, path: root) }
            #expect("\(other!)".contains("owned by uid 65534"))
        }
        #expect(throws: SegmentError.notFound(path: scratch + "/missing")) {
            _ = try BusDirectory.openRoot(create: false, path: scratch + "/missing")
        }
    }
}
