#if canImport(Glibc)
import Glibc
#endif

/// A pthread mutex that checks every return code, as swift-nio's `NIOLock` does.
///
/// Not `NIOLock` itself: with NIOConcurrencyHelpers linked into Telemetry, the publish loop of
/// `metrics --bench-scrape` counted a malloc in its first round (debug build), which its
/// no-allocation test refuses.
final class PthreadLock: @unchecked Sendable {
    /// Invariant: initialised in `init`, destroyed in `deinit`; never moved (a class's stored property).
    private let m: UnsafeMutablePointer<pthread_mutex_t>

    init() {
        m = .allocate(capacity: 1)
        m.initialize(to: pthread_mutex_t())
        let rc = pthread_mutex_init(m, nil)
        precondition(rc == 0, "pthread_mutex_init: \(String(cString: strerror(rc))) (errno: \(rc))")
    }

    deinit {
        let rc = pthread_mutex_destroy(m)
        precondition(rc == 0, "pthread_mutex_destroy: \(String(cString: strerror(rc))) (errno: \(rc))")
        m.deallocate()
    }

    /// Runs `body` with the mutex held.
    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        let rc = pthread_mutex_lock(m)
        precondition(rc == 0, "pthread_mutex_lock: \(String(cString: strerror(rc))) (errno: \(rc))")
        defer {
            let rc = pthread_mutex_unlock(m)
            precondition(rc == 0, "pthread_mutex_unlock: \(String(cString: strerror(rc))) (errno: \(rc))")
        }
        return try body()
    }
}
