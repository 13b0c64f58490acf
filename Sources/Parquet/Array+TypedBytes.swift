extension Array where Element == UInt8 {
    /// `withUnsafeBytes` that keeps the body's typed error (the standard one rethrows `any Error`).
    @inlinable
    func withBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        let r: Result<R, E> = withUnsafeBytes { b in Result { () throws(E) in try body(b) } }
        return try r.get()
    }

    /// `withUnsafeMutableBytes` that keeps the body's typed error.
    @inlinable
    mutating func withMutableBytes<R, E: Error>(_ body: (UnsafeMutableRawBufferPointer) throws(E) -> R) throws(E) -> R {
        let r: Result<R, E> = withUnsafeMutableBytes { b in Result { () throws(E) in try body(b) } }
        return try r.get()
    }
}
