import TickBusCore

#if canImport(Glibc)
import Glibc
#endif

/// What went wrong writing or reading a journal. Reading errors name the file and the byte
/// offset where the file stops being valid, and what was found there.
public enum JournalError: Error, Equatable, Sendable, CustomStringConvertible {
    case system(call: String, path: String, errno: Int32)
    case invalidParameter(String)
    case noJournal(directory: String)
    case ringNotFound(directory: String, ring: String)
    case missingSegment(directory: String, ring: String, segment: UInt32)
    case fileTooSmall(file: String, size: Int, needed: Int)
    case badFileHeader(file: String, field: String, found: UInt64, expected: String)
    /// The file ends inside a block: `needed` bytes from `offset`, only `available` present.
    case truncatedBlock(file: String, offset: UInt64, needed: UInt64, available: UInt64)
    case badBlockMagic(file: String, offset: UInt64, found: UInt32)
    case badBlockField(file: String, offset: UInt64, field: String, found: UInt64)
    case checksumMismatch(file: String, offset: UInt64, block: UInt64, stored: UInt32, computed: UInt32)
    case blockNumberMismatch(file: String, offset: UInt64, found: UInt64, expected: UInt64)
    case sequenceMismatch(file: String, offset: UInt64, record: Int, found: UInt64, expected: UInt64)
    /// The file ends on a block boundary without a seal: the recorder did not finish.
    case unsealed(file: String, offset: UInt64)
    case dataAfterSeal(file: String, offset: UInt64, fileSize: UInt64)
    case writeFailed(file: String, offset: UInt64, errno: Int32)
    case uring(call: String, errno: Int32)
    /// The recorder could not attach to a ring before its timeout; `cause` is the last refusal.
    case attach(bus: String, ring: String, cause: SegmentError)

    public var description: String {
        switch self {
        case .system(let call, let path, let e):
            return SystemCallError(call: call, argument: path, errno: e).description
        case .invalidParameter(let s):
            return s
        case .noJournal(let d):
            return "\(d): no journal segment files (<ring>.<NNNNNN>.tbj) in this directory"
        case .ringNotFound(let d, let r):
            return "\(d): no journal for ring '\(r)'"
        case .missingSegment(let d, let r, let s):
            return
                "\(d): ring '\(r)' continues in segment \(s) (the previous one was sealed as rotated), but that file is missing"
        case .fileTooSmall(let f, let size, let needed):
            return "\(f): file is \(size) bytes, smaller than the \(needed)-byte file header (stopped at offset 0)"
        case .badFileHeader(let f, let field, let found, let expected):
            return "\(f): file header field '\(field)' is \(found), expected \(expected) (stopped at offset 0)"
        case .truncatedBlock(let f, let off, let needed, let avail):
            return
                "\(f): truncated block at offset \(off): needs \(needed) bytes, the file has \(avail) (a write that never completed)"
        case .badBlockMagic(let f, let off, let found):
            return found == 0
                ? "\(f): no block at offset \(off) (zero bytes: a write that never completed)"
                : "\(f): bad block magic 0x\(String(found, radix: 16)) at offset \(off), expected 0x\(String(JournalFormat.blockMagic, radix: 16)) ('TBJB')"
        case .badBlockField(let f, let off, let field, let found):
            return "\(f): block at offset \(off) has invalid '\(field)' \(found)"
        case .checksumMismatch(let f, let off, let block, let stored, let computed):
            return
                "\(f): block \(block) at offset \(off): CRC32C mismatch (stored 0x\(String(stored, radix: 16)), computed 0x\(String(computed, radix: 16)))"
        case .blockNumberMismatch(let f, let off, let found, let expected):
            return "\(f): block at offset \(off) is numbered \(found), expected \(expected)"
        case .sequenceMismatch(let f, let off, let record, let found, let expected):
            return "\(f): block at offset \(off), record \(record): sequence \(found), expected \(expected)"
        case .unsealed(let f, let off):
            return
                "\(f): ends at offset \(off) without a seal block (the recorder did not finish); every block before is valid"
        case .dataAfterSeal(let f, let off, let size):
            return "\(f): \(size - off) bytes after the seal block at offset \(off)"
        case .writeFailed(let f, let off, let e):
            return "\(f): write at offset \(off) failed: \(String(cString: strerror(e))) (errno \(e))"
        case .uring(let call, let e):
            return "io_uring \(call) failed: \(String(cString: strerror(e))) (errno \(e))"
        case .attach(let bus, let ring, let cause):
            return "cannot attach to ring '\(ring)' on bus '\(bus)': \(cause)"
        }
    }

    /// The file and offset where reading stopped, when the error is about a file's content.
    public var location: (file: String, offset: UInt64)? {
        switch self {
        case .fileTooSmall(let f, _, _), .badFileHeader(let f, _, _, _): return (f, 0)
        case .truncatedBlock(let f, let o, _, _), .badBlockMagic(let f, let o, _), .badBlockField(let f, let o, _, _),
            .checksumMismatch(let f, let o, _, _, _), .blockNumberMismatch(let f, let o, _, _),
            .sequenceMismatch(let f, let o, _, _, _), .unsealed(let f, let o), .dataAfterSeal(let f, let o, _):
            return (f, o)
        default: return nil
        }
    }

    /// A short name for the reason, for `journal verify` lines.
    public var reasonCode: String {
        switch self {
        case .system: return "io-error"
        case .invalidParameter: return "invalid-parameter"
        case .noJournal: return "no-journal"
        case .ringNotFound: return "ring-not-found"
        case .missingSegment: return "missing-segment"
        case .fileTooSmall: return "file-too-small"
        case .badFileHeader: return "bad-file-header"
        case .truncatedBlock: return "truncated-block"
        case .badBlockMagic(_, _, let found): return found == 0 ? "zero-block" : "bad-block-magic"
        case .badBlockField: return "bad-block-field"
        case .checksumMismatch: return "crc-mismatch"
        case .blockNumberMismatch: return "block-number-mismatch"
        case .sequenceMismatch: return "sequence-mismatch"
        case .unsealed: return "unsealed"
        case .dataAfterSeal: return "data-after-seal"
        case .writeFailed: return "write-failed"
        case .uring: return "io_uring"
        case .attach: return "attach-failed"
        }
    }

    /// A failed system call as a journal error: `.system(call:path:errno:)` with the same fields.
    public init(_ e: SystemCallError) {
        self = .system(call: e.call, path: e.argument ?? "", errno: e.errno)
    }

    /// The failed system call, with its errno, when that is the cause (also inside a segment error).
    public var systemCallError: SystemCallError? {
        switch self {
        case .system(let call, let path, let e): return SystemCallError(call: call, argument: path, errno: e)
        case .attach(_, _, let cause): return cause.systemCallError
        default: return nil
        }
    }
}
