import CZstd

/// A zstd compression context (libzstd), reused for every page a writer compresses.
/// Invariant: `context` is a live `ZSTD_CCtx` owned by this value; freed once in `deinit`.
public struct ZstdCompressor: ~Copyable {
    let context: OpaquePointer
    /// The compression level (1 fastest … 22; Arrow's default for Parquet is 1).
    public let level: Int32

    public init(level: Int32) throws(ParquetError) {
        guard let c = ZSTD_createCCtx() else { throw .compression(why: "ZSTD_createCCtx returned NULL") }
        context = c
        self.level = level
    }

    deinit { ZSTD_freeCCtx(context) }

    /// Compresses `source` into `out` (replacing its contents) as one zstd frame with its content size.
    public func compress(_ source: UnsafeRawBufferPointer, into out: inout [UInt8]) throws(ParquetError) {
        let bound = ZSTD_compressBound(source.count)
        if out.count < bound { out = [UInt8](repeating: 0, count: bound) }
        let n = out.withUnsafeMutableBytes { o in
            // Safe: o has at least `bound` bytes; source is a valid buffer (its base may be nil only when empty).
            ZSTD_compressCCtx(context, o.baseAddress, bound, source.baseAddress, source.count, level)
        }
        if tb_zstd_is_error(n) != 0 { throw .compression(why: String(cString: ZSTD_getErrorName(n))) }
        out.removeSubrange(n...)
    }
}

/// One-shot zstd decompression of untrusted frames with the size the page header announces.
public enum ZstdDecompressor {
    /// Decompresses `source`, which must hold exactly `expected` bytes of content.
    /// - Returns: the bytes, or a description of what is wrong (the frame's declared size differs,
    ///   it is corrupt, or it decompresses to a different size).
    public static func decompress(
        _ source: UnsafeRawBufferPointer,
        expected: Int
    ) -> Result<[UInt8], ZstdFailure> {
        let declared = ZSTD_getFrameContentSize(source.baseAddress, source.count)
        if declared == tb_zstd_content_size_error() { return .failure(.corrupt("not a zstd frame")) }
        if declared != tb_zstd_content_size_unknown() && declared != UInt64(expected) {
            return .failure(.size(actual: declared > UInt64(Int.max) ? Int.max : Int(declared)))
        }
        // `expected` is bounded by the caller (the page header's size, checked against limits).
        var out = [UInt8](repeating: 0, count: max(expected, 1))
        let n = out.withUnsafeMutableBytes { o in
            // Safe: o has max(expected, 1) bytes; zstd writes at most `expected`.
            ZSTD_decompress(o.baseAddress, expected, source.baseAddress, source.count)
        }
        if tb_zstd_is_error(n) != 0 { return .failure(.corrupt(String(cString: ZSTD_getErrorName(n)))) }
        if n != expected { return .failure(.size(actual: n)) }
        out.removeSubrange(expected...)
        return .success(out)
    }
}

/// Why a zstd frame did not decompress to the size expected.
public enum ZstdFailure: Error, Sendable {
    case corrupt(String)
    case size(actual: Int)
}
