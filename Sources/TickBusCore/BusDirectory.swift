#if canImport(Glibc)
import Glibc
#endif

/// An open bus directory: every file of a bus is created, opened, renamed and removed relative to
/// this descriptor, never through a path.
///
/// Why: `/dev/shm/tickbus` is shared by every local user (mode 01777). Anyone may create an entry
/// there, so a path such as `/dev/shm/tickbus/NAME/market` can name a directory (or a symbolic
/// link to a directory) planted by someone else. A producer following it would write its segment
/// there; `rm` following it would delete another user's files. So:
///
/// - the root is created with the sticky bit and checked (owned by root or the caller; if others
///   may write to it, the sticky bit must be set, so nobody can rename or remove our entries);
/// - the bus directory is opened with `O_NOFOLLOW | O_DIRECTORY` and refused unless the caller
///   trusts it (see `trusts(_:group:)`) and others cannot write to it;
/// - files are opened with `openat(..., O_NOFOLLOW)` and refused unless regular and trusted.
///
/// Once a bus directory has been opened here, its entry cannot change under us (sticky root, our
/// directory), which is why the few path-based callers left (`Segment.attachMapping(path:)`) are
/// routed through this type too.
///
/// Invariant: `fd` and `rootFd` are open descriptors of the bus directory and of the root, owned by
/// this value and closed by `deinit`.
public struct BusDirectory: ~Copyable {
    /// The bus name (validated).
    public let bus: String
    /// `/dev/shm/tickbus/<bus>`, for messages only.
    public let path: String
    /// Descriptor of the bus directory.
    public let fd: Int32
    let rootFd: Int32
    /// The group given by the caller (`--group`), trusted beside the caller itself.
    let group: gid_t?

    /// Opens a bus directory; with `creating`, creates `/dev/shm/tickbus` (01777) and the bus
    /// directory (0700, or 0770 owned by the group of `.group(gid)`) when they are missing.
    ///
    /// - Parameters:
    ///   - bus: the bus name (validated with `BusPaths.validate`).
    ///   - access: nil to open an existing bus only (readers, `rings`, `rm`); otherwise the access
    ///     of the files the caller is about to create.
    /// - Throws: `.notFound` when the bus (or the root) does not exist and `access` is nil;
    ///   `.symbolicLink`, `.notADirectory`, `.notTrusted`, `.unsafeRoot` when the directory is not
    ///   one this caller may use.
    public init(bus: String, creating access: Segment.Access? = nil) throws(SegmentError) {
        try BusPaths.validate(bus)
        let root = try Self.openRoot(create: access != nil)
        let path = BusPaths.busDirectory(bus)
        var group: gid_t? = nil
        if case .group(let gid)? = access { group = gid }
        let dirMode: mode_t = group == nil ? 0o700 : 0o770
        var created = false
        if access != nil {
            if mkdirat(root, bus, dirMode) == 0 {
                created = true
            } else if errno != EEXIST {
                let e = errno
                close(root)
                throw .system(call: "mkdir", path: path, errno: e)
            }
        }
        let fd = openat(root, bus, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        if fd < 0 {
            let e = errno
            let error = Self.openError(at: root, name: bus, path: path, errno: e)
            close(root)
            throw error
        }
        do throws(SegmentError) {
            if created || group != nil {
                try Self.adopt(fd, path: path, mode: dirMode, group: group, created: created)
            }
            let st = try Self.status(fd, path: path)
            guard st.st_mode & S_IFMT == S_IFDIR else { throw .notADirectory(path: path) }
            try Self.check(st, path: path, group: group)
        } catch {
            close(fd)
            close(root)
            throw error
        }
        self.bus = bus
        self.path = path
        self.fd = fd
        self.rootFd = root
        self.group = group
    }

    deinit {
        close(fd)
        close(rootFd)
    }

    /// The path of a file of this bus, for messages.
    public func path(of name: String) -> String { "\(path)/\(name)" }

    /// Opens a file of this bus without following a symbolic link and refuses it unless it is a
    /// regular file the caller trusts. `O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK` are added (a planted
    /// FIFO must not block the open). Returns the descriptor, which the caller closes.
    public func openFile(_ name: String, flags: Int32) throws(SegmentError) -> Int32 {
        try BusPaths.validate(name)
        let fd = openat(self.fd, name, flags | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        if fd < 0 { throw Self.openError(at: self.fd, name: name, path: path(of: name), errno: errno) }
        do throws(SegmentError) {
            let st = try Self.status(fd, path: path(of: name))
            guard st.st_mode & S_IFMT == S_IFREG else { throw .notARegularFile(path: path(of: name)) }
            try Self.check(st, path: path(of: name), group: group)
        } catch {
            close(fd)
            throw error
        }
        // Back to blocking I/O for the regular file (O_NONBLOCK only guarded the open).
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        return fd
    }

    /// Creates `name.tmp.<pid>` exclusively with exactly `mode` (and the group of `group`), to be
    /// renamed into place with `rename(_:to:)`. A stale temporary of this pid is replaced.
    public func createTemporary(for name: String, mode: mode_t) throws(SegmentError) -> (fd: Int32, name: String) {
        try BusPaths.validate(name)
        let tmp = "\(name).tmp.\(getpid())"
        var fd = openat(self.fd, tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        if fd < 0 && errno == EEXIST {
            // Only this pid writes this name: what is there is a leftover of an earlier process
            // with the same pid (or of this one); the entry itself goes, never what it points to.
            _ = unlinkat(self.fd, tmp, 0)
            fd = openat(self.fd, tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        }
        if fd < 0 { throw .system(call: "open", path: path(of: tmp), errno: errno) }
        // umask may have cleared bits: set exactly the mode asked for.
        if fchmod(fd, mode) != 0 {
            let e = errno
            close(fd)
            _ = unlinkat(self.fd, tmp, 0)
            throw .system(call: "fchmod", path: path(of: tmp), errno: e)
        }
        if let group, fchown(fd, uid_t.max, group) != 0 {
            let e = errno
            close(fd)
            _ = unlinkat(self.fd, tmp, 0)
            throw .system(call: "fchown", path: path(of: tmp), errno: e)
        }
        return (fd, tmp)
    }

    /// Creates a temporary file for `name` (as `createTemporary`), sizes it to `size` bytes of
    /// zeros and maps it shared read-write; the descriptor is closed (the mapping stays). On any
    /// failure the temporary file is removed. The caller writes the header, then `rename`s it over.
    /// - Returns: the temporary file's name in this directory and the mapping's base.
    public func createMappedTemporary(
        for name: String,
        mode: mode_t,
        size: Int
    ) throws(SegmentError) -> (name: String, base: UnsafeMutableRawPointer) {
        let (fd, tmp) = try createTemporary(for: name, mode: mode)
        defer { close(fd) }
        if ftruncate(fd, off_t(size)) != 0 {
            let e = errno
            unlink(tmp)
            throw .system(call: "ftruncate", path: path(of: tmp), errno: e)
        }
        guard let raw = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), raw != MAP_FAILED else {
            let e = errno
            unlink(tmp)
            throw .system(call: "mmap", path: path(of: tmp), errno: e)
        }
        return (tmp, raw)
    }

    /// Renames an entry of this bus onto another (atomically replacing it).
    public func rename(_ from: String, to: String) throws(SegmentError) {
        if renameat(fd, from, fd, to) != 0 { throw .system(call: "rename", path: path(of: to), errno: errno) }
    }

    /// Removes an entry of this bus (the entry itself; a symbolic link is never followed).
    public func unlink(_ name: String) {
        _ = unlinkat(fd, name, 0)
    }

    /// Names in the directory other than `.` and `..`, unsorted.
    public func entries() throws(SegmentError) -> [String] {
        // fdopendir takes ownership of the descriptor it is given: hand it a duplicate.
        let dup = fcntl(fd, F_DUPFD_CLOEXEC, 0)
        if dup < 0 { throw .system(call: "dup", path: path, errno: errno) }
        guard let d = fdopendir(dup) else {
            let e = errno
            close(dup)
            throw .system(call: "fdopendir", path: path, errno: e)
        }
        defer { closedir(d) }
        // The duplicate shares the file offset with `fd`: start from the beginning every time.
        rewinddir(d)
        var names: [String] = []
        while let entry = readdir(d) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// What `removeAll` did: the TickBus files it removed and the entries it left in place.
    public struct Removal: Sendable, Equatable {
        public var removed: [String] = []
        public var kept: [String] = []
    }

    /// Removes every entry that is a TickBus file of this bus — a regular file the caller trusts
    /// whose first 8 bytes are the segment magic or the stats-block magic — and then, if nothing
    /// else is left, the directory. Anything else (another user's file, a symbolic link, a file
    /// that is not a segment) stays, and so does the directory.
    public consuming func removeAll() throws(SegmentError) -> Removal {
        var result = Removal()
        for name in try entries().sorted() {
            if isTickBusFile(name) {
                if unlinkat(fd, name, 0) != 0 && errno != ENOENT {
                    throw .system(call: "unlink", path: path(of: name), errno: errno)
                }
                result.removed.append(name)
            } else {
                result.kept.append(name)
            }
        }
        if result.kept.isEmpty, unlinkat(rootFd, bus, AT_REMOVEDIR) != 0, errno != ENOENT {
            throw .system(call: "rmdir", path: path, errno: errno)
        }
        return result
    }

    /// Whether an entry is a TickBus file (segment or stats block, or the temporary of one, or the
    /// control server's socket).
    func isTickBusFile(_ name: String) -> Bool {
        var st = stat()
        guard fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else { return false }
        // The control server's socket (Docs/CONTROL.md), left behind by a server that was killed.
        if st.st_mode & S_IFMT == S_IFSOCK {
            return name == "control.sock" && Self.trusts(st, group: group) && Self.notOthersWritable(st)
        }
        guard st.st_mode & S_IFMT == S_IFREG else { return false }
        let f = openat(fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        if f < 0 { return false }
        defer { close(f) }
        guard
            (try? Self.status(f, path: path(of: name))).map({
                Self.trusts($0, group: group) && Self.notOthersWritable($0)
            }) == true
        else { return false }
        var magic: UInt64 = 0
        guard pread(f, &magic, 8, 0) == 8 else { return false }
        let m = UInt64(littleEndian: magic)
        return m == SegmentLayout.magic || m == StatsLayout.magic
    }

    // MARK: Checks

    /// Opens (and with `create`, makes) `/dev/shm/tickbus`, then checks it: a directory (not a
    /// link), owned by root or the caller, and sticky if anyone else may write to it.
    /// `root` is a parameter for the tests only (they cannot change the machine's shared root).
    static func openRoot(create: Bool, path root: String = BusPaths.root) throws(SegmentError) -> Int32 {
        var made = false
        if create {
            if mkdir(root, 0o1777) == 0 {
                made = true
            } else if errno != EEXIST {
                throw .system(call: "mkdir", path: root, errno: errno)
            }
        }
        let fd = open(root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        if fd < 0 {
            let e = errno
            if e == ELOOP || e == ENOTDIR {
                throw .unsafeRoot(path: root, reason: "it is not a directory (a symbolic link or a file)")
            }
            throw e == ENOENT ? .notFound(path: root) : .system(call: "open", path: root, errno: e)
        }
        // umask cleared the sticky and write bits of a directory we just made.
        if made { _ = fchmod(fd, 0o1777) }
        var st = stat()
        if fstat(fd, &st) != 0 {
            let e = errno
            close(fd)
            throw .system(call: "fstat", path: root, errno: e)
        }
        let mode = st.st_mode
        if st.st_uid != 0 && st.st_uid != geteuid() {
            close(fd)
            throw .unsafeRoot(
                path: root,
                reason: "it is owned by uid \(st.st_uid), neither root nor you (uid \(geteuid()))"
            )
        }
        if mode & 0o022 != 0 && mode & S_ISVTX == 0 {
            close(fd)
            throw .unsafeRoot(
                path: root,
                reason: "others may write to it (mode \(String(mode & 0o7777, radix: 8))) but the sticky bit is not set"
            )
        }
        return fd
    }

    /// Sets the group and mode of a bus directory we created, or that we own and now share with a group.
    static func adopt(_ fd: Int32, path: String, mode: mode_t, group: gid_t?, created: Bool) throws(SegmentError) {
        var st = stat()
        if fstat(fd, &st) != 0 { throw .system(call: "fstat", path: path, errno: errno) }
        // Only a directory we own is changed: a group member's shared bus is used as it is.
        guard st.st_uid == geteuid() else { return }
        if let group, st.st_gid != group, fchown(fd, uid_t.max, group) != 0, errno != EPERM {
            throw .system(call: "chown", path: path, errno: errno)
        }
        if created || group != nil, fchmod(fd, mode) != 0 { throw .system(call: "chmod", path: path, errno: errno) }
    }

    static func status(_ fd: Int32, path: String) throws(SegmentError) -> stat {
        var st = stat()
        if fstat(fd, &st) != 0 { throw .system(call: "fstat", path: path, errno: errno) }
        return st
    }

    /// Refuses a file or directory the caller does not trust, or that others may write to.
    static func check(_ st: stat, path: String, group: gid_t?) throws(SegmentError) {
        guard trusts(st, group: group), notOthersWritable(st) else {
            throw .notTrusted(
                path: path,
                owner: st.st_uid,
                group: st.st_gid,
                mode: UInt32(st.st_mode & 0o7777),
                caller: geteuid()
            )
        }
    }

    /// Trusted: owned by the caller; or shared through a group — the file's group is the one the
    /// caller gave (`--group`), or, for a caller that gave none (a reader), one the caller belongs
    /// to — and the mode grants that group access (the owner shared it on purpose).
    static func trusts(_ st: stat, group: gid_t?) -> Bool {
        if st.st_uid == geteuid() { return true }
        guard st.st_mode & 0o060 != 0 else { return false }
        if let group { return st.st_gid == group && isMember(group) }
        return isMember(st.st_gid)
    }

    static func notOthersWritable(_ st: stat) -> Bool { st.st_mode & 0o002 == 0 }

    static func isMember(_ gid: gid_t) -> Bool {
        if getegid() == gid { return true }
        let n = getgroups(0, nil)
        guard n > 0 else { return false }
        var groups = [gid_t](repeating: 0, count: Int(n))
        let got = getgroups(n, &groups)
        return got > 0 && groups.prefix(Int(got)).contains(gid)
    }

    /// The error for a failed `openat(at, name)`: a symbolic link is named with its target.
    static func openError(at dirFd: Int32, name: String, path: String, errno e: Int32) -> SegmentError {
        switch e {
        case ELOOP, EMLINK, ENOTDIR:
            // O_DIRECTORY | O_NOFOLLOW on a link fails with ENOTDIR, O_NOFOLLOW alone with ELOOP.
            var st = stat()
            if fstatat(dirFd, name, &st, AT_SYMLINK_NOFOLLOW) == 0, st.st_mode & S_IFMT == S_IFLNK {
                var buffer = [UInt8](repeating: 0, count: 4096)
                let n = buffer.withUnsafeMutableBytes {
                    readlinkat(dirFd, name, $0.baseAddress!.assumingMemoryBound(to: CChar.self), $0.count - 1)
                }
                return .symbolicLink(
                    path: path,
                    target: n > 0 ? String(decoding: buffer.prefix(n), as: UTF8.self) : "?"
                )
            }
            return e == ENOTDIR ? .notADirectory(path: path) : .system(call: "open", path: path, errno: e)
        case EACCES, EPERM: return .permissionDenied(path: path)
        case ENOENT: return .notFound(path: path)
        default: return .system(call: "open", path: path, errno: e)
        }
    }
}
