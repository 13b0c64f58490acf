#if canImport(Glibc)
import Glibc
#endif

/// Why a segment could not be created, attached or used. Each case names the file and, for a
/// header that fails validation, the field that is wrong and what was found there.
public enum SegmentError: Error, Equatable, CustomStringConvertible, Sendable {
    case invalidName(String)
    case system(call: String, path: String, errno: Int32)
    case permissionDenied(path: String)
    case notFound(path: String)
    case fileTooSmall(path: String, size: Int, needed: Int)
    case badMagic(path: String, found: UInt64)
    case unsupportedVersion(path: String, found: UInt32, supported: UInt32)
    case slotSizeNotMultipleOf64(path: String, found: UInt32)
    case capacityNotPowerOfTwo(path: String, found: UInt64)
    case unknownSchema(path: String, found: UInt32)
    case schemaMismatch(path: String, found: UInt32, expected: UInt32)
    case badSlotsOffset(path: String, found: UInt64, expected: UInt64)
    case badReaderTable(path: String, found: UInt32, expected: UInt32)
    case fileSizeMismatch(path: String, header: UInt64, actual: UInt64)
    case producerAlreadyRunning(path: String, pid: Int32)
    case readerTableFull(path: String, entries: Int)
    case invalidParameter(String)
    /// A bus directory or ring file is a symbolic link (someone may have planted it).
    case symbolicLink(path: String, target: String)
    case notADirectory(path: String)
    case notARegularFile(path: String)
    /// A bus directory or file owned by someone the caller does not trust, or writable by others.
    case notTrusted(path: String, owner: uid_t, group: gid_t, mode: UInt32, caller: uid_t)
    /// `/dev/shm/tickbus` itself is not safe to use.
    case unsafeRoot(path: String, reason: String)
    /// `rm` removed the TickBus files but left these other entries, and so the directory.
    case notRemoved(path: String, kept: [String])

    public var description: String {
        switch self {
        case .invalidName(let n):
            return "invalid name '\(n)': use 1 to 63 characters from A-Z a-z 0-9 . _ -"
        case .system(let call, let path, let e):
            return "\(call)(\(path)) failed: \(String(cString: strerror(e))) (errno \(e))"
        case .permissionDenied(let path):
            return "\(path): permission denied (segments are 0600 unless created with a group; run as the producer's user or ask for --group)"
        case .notFound(let path):
            return "\(path): no such ring (is the producer running? `tickbus rings --bus B` lists what exists)"
        case .fileTooSmall(let path, let size, let needed):
            return "\(path): file is \(size) bytes, smaller than the \(needed)-byte header; refused before mapping"
        case .badMagic(let path, let found):
            return "\(path): header field 'magic' is 0x\(String(found, radix: 16)), expected 0x\(String(SegmentLayout.magic, radix: 16)) ('TKBUSSEG'); not a TickBus segment"
        case .unsupportedVersion(let path, let found, let supported):
            return "\(path): header field 'version' is \(found); this build reads layout version \(supported)"
        case .slotSizeNotMultipleOf64(let path, let found):
            return "\(path): header field 'slot_size' is \(found), not a non-zero multiple of 64"
        case .capacityNotPowerOfTwo(let path, let found):
            return "\(path): header field 'capacity' is \(found), not a power of two"
        case .unknownSchema(let path, let found):
            return "\(path): header field 'schema' is \(found), a message set this build does not know"
        case .schemaMismatch(let path, let found, let expected):
            return "\(path): header field 'schema' is \(found) (\(SchemaID(rawValue: found).map { "\($0)" } ?? "?")), this reader expects \(expected) (\(SchemaID(rawValue: expected).map { "\($0)" } ?? "?"))"
        case .badSlotsOffset(let path, let found, let expected):
            return "\(path): header field 'slots_offset' is \(found), expected \(expected)"
        case .badReaderTable(let path, let found, let expected):
            return "\(path): header field 'reader_entries' is \(found), expected \(expected)"
        case .fileSizeMismatch(let path, let header, let actual):
            return "\(path): header field 'file_size' says \(header) bytes (slots_offset + capacity x slot_size) but the file is \(actual) bytes; refused before mapping"
        case .producerAlreadyRunning(let path, let pid):
            return "\(path): a producer (pid \(pid)) is still running on this ring; a ring has exactly one producer"
        case .readerTableFull(let path, let entries):
            return "\(path): all \(entries) reader entries are in use by live processes"
        case .invalidParameter(let what):
            return what
        case .symbolicLink(let path, let target):
            return "\(path) is a symbolic link (to \(target)), not a TickBus file or bus directory; refused "
                + "(anyone may create entries in \(BusPaths.root): remove the link and check who planted it)"
        case .notADirectory(let path):
            return "\(path) is not a directory; refused"
        case .notARegularFile(let path):
            return "\(path) is not a regular file; refused"
        case .notTrusted(let path, let owner, let group, let mode, let caller):
            return "\(path) is owned by uid \(owner) gid \(group) with mode \(String(mode, radix: 8)); refused: it must be owned by "
                + "you (uid \(caller)) or shared with a group you belong to (--group), and not writable by others"
        case .unsafeRoot(let path, let reason):
            return "\(path) is not safe to use: \(reason); refused (it should be a root-owned directory with mode 1777)"
        case .notRemoved(let path, let kept):
            return "\(path): removed the TickBus files but kept \(kept.count) other entr\(kept.count == 1 ? "y" : "ies") "
                + "(\(kept.prefix(10).joined(separator: ", "))\(kept.count > 10 ? ", ..." : "")) that are not TickBus segments or "
                + "stats blocks you own, so the directory stays"
        }
    }
}
