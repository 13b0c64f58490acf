import TickBusCore

/// What went wrong writing or reading a Parquet file, and where: the file, the byte offset or the
/// column, and the values found against those expected. Readers never trap on the file's integers:
/// every count and offset is checked against the bytes that exist before it is used.
public enum ParquetError: Error, CustomStringConvertible, Sendable {
    /// A system call on `path` failed (open, write, read, rename).
    case system(path: String, SystemCallError)
    /// The file is shorter than a Parquet file can be, or ends before the footer it announces.
    case cutShort(path: String, size: Int, needed: Int)
    /// The 4 bytes at `offset` are not `PAR1`.
    case badMagic(path: String, offset: Int)
    /// The file does not end in `PAR1`: it was cut short (a write that never finished) or is not Parquet.
    case missingEndMagic(path: String, size: Int)
    /// The footer length in the last 8 bytes does not fit in the file.
    case badFooterLength(path: String, length: UInt32, fileSize: Int)
    /// The Thrift compact bytes of `what` (at `offset` of the file) do not decode: `why`.
    case corruptMetadata(path: String, what: String, offset: Int, why: String)
    /// A field of the metadata holds a value the format does not allow.
    case badField(path: String, what: String, value: Int64, why: String)
    /// A page header or page of column `column` at `offset` lies beyond its column chunk or the file.
    case pageBeyondFile(path: String, column: String, offset: Int, size: Int, fileSize: Int)
    /// A page decompressed to `actual` bytes where its header says `expected`.
    case decompressedSizeMismatch(path: String, column: String, offset: Int, expected: Int, actual: Int)
    /// The compressed page of `column` at `offset` does not decompress: zstd's `why`.
    case decompression(path: String, column: String, offset: Int, why: String)
    /// The values of `column` in the page at `offset` are malformed (levels, dictionary indices, lengths).
    case corruptPage(path: String, column: String, offset: Int, why: String)
    /// A feature of the format this reader does not implement (nested schemas, other codecs or encodings).
    case unsupported(path: String, what: String)
    /// No column is named `name` in the file.
    case noSuchColumn(path: String, name: String)
    /// The writer was used against its schema: `why`.
    case misuse(String)
    /// zstd refused to compress (out of memory): `why`.
    case compression(why: String)

    public var description: String {
        switch self {
        case .system(let path, let e): return "\(path): \(e)"
        case .cutShort(let path, let size, let needed):
            return "\(path): cut short: \(size) bytes, a Parquet file of this footer needs at least \(needed)"
        case .badMagic(let path, let offset): return "\(path): no PAR1 magic at offset \(offset)"
        case .missingEndMagic(let path, let size):
            return
                "\(path): cut short or corrupt: no PAR1 magic at the end (offset \(max(size - 4, 0)) of \(size) bytes)"
        case .badFooterLength(let path, let length, let fileSize):
            return "\(path): corrupt footer: footer length \(length) does not fit in a file of \(fileSize) bytes"
        case .corruptMetadata(let path, let what, let offset, let why):
            return "\(path): corrupt \(what) at offset \(offset): \(why)"
        case .badField(let path, let what, let value, let why): return "\(path): \(what) = \(value): \(why)"
        case .pageBeyondFile(let path, let column, let offset, let size, let fileSize):
            return "\(path): column \(column): page at offset \(offset) of \(size) bytes lies beyond its chunk "
                + "or the file (\(fileSize) bytes)"
        case .decompressedSizeMismatch(let path, let column, let offset, let expected, let actual):
            return "\(path): column \(column): page at offset \(offset) decompressed to \(actual) bytes, "
                + "its header says \(expected)"
        case .decompression(let path, let column, let offset, let why):
            return "\(path): column \(column): page at offset \(offset) does not decompress: \(why)"
        case .corruptPage(let path, let column, let offset, let why):
            return "\(path): column \(column): page at offset \(offset): \(why)"
        case .unsupported(let path, let what): return "\(path): unsupported: \(what)"
        case .noSuchColumn(let path, let name): return "\(path): no column \(name)"
        case .misuse(let why): return "parquet writer: \(why)"
        case .compression(let why): return "zstd compression failed: \(why)"
        }
    }
}
