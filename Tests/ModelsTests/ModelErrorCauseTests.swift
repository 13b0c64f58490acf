import Foundation
import Models
import Testing

@Suite("Model file errors keep errno")
struct ModelErrorCauseTests {
    @Test("a missing model file is refused with its errno as a value and its strerror text")
    func missingFileKeepsErrno() {
        do {
            _ = try Model.load(path: "/nonexistent/model.txt")
            Issue.record("accepted")
        } catch {
            #expect(error == .io(path: "/nonexistent/model.txt", errno: ENOENT))
            #expect(
                "\(error)" == "cannot read model /nonexistent/model.txt: No such file or directory (errno \(ENOENT))"
            )
        }
    }

    @Test("a directory given as a model is refused with EISDIR")
    func directoryKeepsErrno() {
        do {
            _ = try Model.load(path: "/tmp")
            Issue.record("accepted")
        } catch {
            guard case .io(let path, let e) = error else {
                Issue.record("got \(error)")
                return
            }
            #expect(path == "/tmp")
            #expect(e == EISDIR)
        }
    }
}
