import Foundation
import Journal
import TestSupport
import Testing
import TickBusCore

@Suite("Recorder errors keep their cause")
struct RecorderErrorTests {
    @Test("a ring that never appears is reported with the SegmentError as a value, in the same words")
    func attachFailureWrapsSegmentError() {
        let bus = TickBusTest.uniqueBus("rec-err")
        defer { TickBusTest.removeBus(bus) }
        let dir = TickBusTest.temporaryDirectory("rec-err")
        defer { try? FileManager.default.removeItem(at: dir) }
        var options = RecorderOptions()
        options.attachTimeout = 0
        do {
            _ = try Recorder.run(bus: bus, rings: ["market"], directory: dir.path, options: options, stop: { false })
            Issue.record("recorded a ring that does not exist")
        } catch {
            guard case .attach(let b, let ring, let cause) = error else {
                Issue.record("cause flattened: \(error)")
                return
            }
            #expect(b == bus && ring == "market")
            guard case .notFound(let path) = cause else {
                Issue.record("got \(cause)")
                return
            }
            #expect(path == BusPaths.ring(bus: bus, ring: "market"))
            #expect("\(error)" == "cannot attach to ring 'market' on bus '\(bus)': \(cause)")
        }
    }

    @Test("a failed system call in a journal error is reachable as a SystemCallError")
    func systemCallIsReachable() {
        do {
            _ = try JournalReader(directory: "/nonexistent/journal", ring: "market")
            Issue.record("opened a journal that does not exist")
        } catch {
            #expect(
                error.systemCallError
                    == SystemCallError(call: "opendir", argument: "/nonexistent/journal", errno: ENOENT)
            )
            #expect("\(error)" == "opendir(/nonexistent/journal) failed: No such file or directory (errno \(ENOENT))")
        }
    }
}
