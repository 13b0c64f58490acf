import Foundation
import Testing

@testable import TickBusCore

@Suite("System call errors")
struct SystemCallErrorTests {
    @Test("EINTR is retried; the first non-negative result is returned")
    func retriesEINTR() throws {
        var calls = 0
        let n = try retryingEINTR("read", "/dev/null") { () -> Int in
            calls += 1
            if calls < 3 {
                errno = EINTR
                return -1
            }
            return 42
        }
        #expect(n == 42)
        #expect(calls == 3)
    }

    @Test("another failure becomes a SystemCallError with the errno the call left, read before the argument is built")
    func failureKeepsErrno() {
        do {
            _ = try retryingEINTR(
                "pread",
                { () -> String? in
                    // Building the argument runs other libc calls; the error must not take their errno.
                    _ = close(-1)  // sets EBADF
                    return "/some/file"
                }()
            ) { () -> Int in
                errno = ENOSPC
                return -1
            }
            Issue.record("did not throw")
        } catch {
            #expect(error == SystemCallError(call: "pread", argument: "/some/file", errno: ENOSPC))
            #expect(error.errno == ENOSPC)
            #expect("\(error)" == "pread(/some/file) failed: \(String(cString: strerror(ENOSPC))) (errno \(ENOSPC))")
        }
    }

    @Test("a real read on a closed descriptor fails with EBADF, as a value")
    func realCall() {
        var byte: UInt8 = 0
        #expect(throws: SystemCallError(call: "read", argument: "fd -1", errno: EBADF)) {
            _ = try retryingEINTR("read", "fd -1") { read(-1, &byte, 1) }
        }
    }

    @Test("segment and journal system errors print the same words as SystemCallError")
    func sameWords() {
        let e = SystemCallError(call: "open", argument: "/x", errno: ENOENT)
        #expect("\(SegmentError(e))" == "\(e)")
        #expect(SegmentError(e).systemCallError == e)
        #expect("\(e)".hasPrefix("open(/x) failed: No such file or directory (errno 2)"))
    }

    @Test("a header whose file_size disagrees with its layout names both sizes, each for what it is")
    func fileSizeHeaderNamesTheRightSizes() throws {
        let right = UInt64(SegmentLayout.slotsOffset + 64 * 16)
        let wrong = right + 4096
        let (bus, error) = try corrupted("fsize") { pwrite64($0, wrong, at: SegmentLayout.fileSizeOffset) }
        defer { removeBus(bus) }
        guard case .fileSizeInconsistent(_, let header, let computed)? = error else {
            Issue.record("got \(String(describing: error))")
            return
        }
        // The header's field is what the file says; the computed size is from its own layout fields.
        #expect(header == wrong)
        #expect(computed == right)
        let message = "\(error!)"
        #expect(message.contains("'file_size' says \(wrong) bytes"), "\(message)")
        #expect(message.contains("slots_offset + capacity x slot_size is \(right) bytes"), "\(message)")
        // The file on disk is the right size: the message must not claim it is `wrong` bytes.
        #expect(!message.contains("the file is \(wrong)"), "\(message)")
    }
}
