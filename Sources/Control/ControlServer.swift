import CTickBus
import ControlWire
import TickBusCore

#if canImport(Glibc)
import Glibc
#endif

/// `tickbus control serve`: the one producer of ring `control`. It takes submissions over
/// `control.sock` in the bus directory (Docs/CONTROL.md), checks each against the registry
/// (`SubmissionCheck`), publishes the accepted ones as `ControlCommand`s and answers every
/// client with a `ControlReply`. A refused submission is never published.
///
/// One connection at a time, each bounded by a deadline (`connectionTimeoutNs`): submissions are
/// rare and small, and a sequential server keeps command ids and ring order the order of
/// acceptance. A client that stays silent delays the next one by at most the deadline.
///
/// ```swift
/// var server = try ControlServer(bus: "prod", registry: "./registry")
/// server.run(stop: { stopRequested() }, log: { print($0) })
/// server.close()
/// ```
public struct ControlServer: ~Copyable {
    /// The server's stats block: `stats.control-serve`.
    public static let statsName = "control-serve"
    /// The ring's slot count: commands are rare; a strategy reads them before every market message.
    public static let defaultCapacity = 1024
    /// How long one client may take to send its submission and read the reply.
    public static let connectionTimeoutNs: UInt64 = 2_000_000_000

    let dir: BusDirectory
    let socket: ControlSocket
    /// The socket file's inode, so that `close` removes our socket and never a successor's.
    let socketInode: ino_t
    var ring: RingProducer
    /// `stats.control-serve` (kind `.control`): accepted submissions count as control applied,
    /// malformed frames as control malformed, other refusals as control rejected.
    public let stats: StatsWriter
    public let check: SubmissionCheck
    /// The next command id: above every id this server or an earlier one on the bus published.
    public private(set) var nextCommandId: UInt64
    /// Submissions published / refused since the start.
    public private(set) var accepted: UInt64 = 0
    public private(set) var refused: UInt64 = 0
    /// One frame's bytes, allocated once (no count from the wire sizes anything).
    let buffer: UnsafeMutableRawPointer

    /// Opens (creating) the bus, takes the socket, creates ring `control`.
    /// - Parameters:
    ///   - registry: the registry directory; it need not exist yet (loads and rollbacks are then
    ///     refused until it does).
    ///   - access: the mode of the ring and the socket (owner only, or a group).
    /// - Throws: `ControlServerError` when another server runs, the bus cannot be used, or the
    ///   ring cannot be created.
    public init(
        bus: String,
        registry: String,
        capacity: Int = ControlServer.defaultCapacity,
        access: Segment.Access = .owner
    ) throws(ControlServerError) {
        let dir: BusDirectory
        do { dir = try BusDirectory(bus: bus, creating: access) } catch { throw .bus(error) }
        let s: ControlSocket
        do { s = try ControlSocket.listen(dir, access: access) } catch { throw .socket(error) }
        var st = stat()
        _ = fstatat(dir.fd, ControlSocket.name, &st, AT_SYMLINK_NOFOLLOW)
        let firstId = max(tb_realtime_ns(), Self.lastCommandId(dir) &+ 1)
        let ring: RingProducer
        do {
            ring = try RingProducer(
                bus: bus,
                ring: "control",
                schema: .control,
                slotSize: ControlCommandLayout.slotSize,
                capacity: capacity,
                access: access
            )
        } catch {
            dir.unlink(ControlSocket.name)
            throw .ring(error)
        }
        let stats: StatsWriter
        do { stats = try StatsWriter(bus: bus, name: Self.statsName, kind: .control) } catch {
            ring.close()
            dir.unlink(ControlSocket.name)
            throw .stats(error)
        }
        self.stats = stats
        self.dir = dir
        self.socket = s
        self.socketInode = st.st_ino
        self.ring = ring
        self.check = SubmissionCheck(registryRoot: registry)
        self.nextCommandId = firstId
        // Safe: allocated here, freed in deinit, used only by this server's thread.
        self.buffer = UnsafeMutableRawPointer.allocate(byteCount: Submission.Frame.maxSize, alignment: 16)
    }

    deinit {
        close()
        buffer.deallocate()
    }

    /// The highest command id in the `control` ring a previous server left (0 if none), so that
    /// ids keep increasing across restarts even if the wall clock stepped back.
    static func lastCommandId(_ dir: borrowing BusDirectory) -> UInt64 {
        guard let m = try? Segment.attach(dir, ring: "control", expecting: .control),
            m.header.slotSize >= ControlCommandLayout.slotSize
        else { return 0 }
        let cursor = m.cursor
        let capacity = UInt64(m.header.capacity)
        var last: UInt64 = 0
        var s = cursor > capacity ? cursor - capacity : 0
        while s < cursor {
            // Safe: s & (capacity - 1) < capacity, inside the mapped slots.
            let slot = UnsafeRawPointer(m.slots + Int(s & (capacity - 1)) * m.header.slotSize)
            if tb_load_acquire_u64(slot) == s {
                last = max(last, slot.loadLittleEndian(fromByteOffset: ControlCommandLayout.commandId, as: UInt64.self))
            }
            s += 1
        }
        return last
    }

    /// The ring's path and the socket's, for the start line.
    public var ringPath: String { ring.mapping.path }
    public var socketPath: String { dir.path(of: ControlSocket.name) }
    /// Commands published so far (the ring's next sequence).
    public var published: UInt64 { ring.published }

    /// Serves until `stop` says so (checked at least every 100 ms), then returns; `close` follows.
    public mutating func run(stop: () -> Bool, log: (String) -> Void) {
        while !stop() { serveOne(waitMs: 100, log: log) }
    }

    /// Waits up to `waitMs` for a client and serves it. Heartbeats the ring either way.
    public mutating func serveOne(waitMs: Int32, log: (String) -> Void) {
        ring.housekeeping()
        stats.heartbeat()
        guard socket.wait(timeoutMs: waitMs) else { return }
        let connection: ControlSocket?
        do { connection = try socket.accept() } catch {
            log("control serve: \(error)")
            return
        }
        guard let connection else { return }
        serve(connection, log: log)
    }

    mutating func serve(_ c: consuming ControlSocket, log: (String) -> Void) {
        let deadline = tb_monotonic_ns() + Self.connectionTimeoutNs
        let peer = c.peer.map { " peer=\($0.pid)/uid\($0.uid)" } ?? ""
        let reply: ControlReply
        var submission: Submission?
        do throws(ControlRefusal) {
            let s = try receive(c, deadline: deadline)
            submission = s
            let resolved = try check.check(s)
            reply = publish(s, resolved: resolved)
        } catch {
            // A connection that sent nothing is a probe (another server checking for a live one).
            if case .empty = error { return }
            refused += 1
            if case .malformed = error { stats.count(.controlMalformed) } else { stats.count(.controlRejected) }
            reply = .refused(reason: error.description)
        }
        log(Self.line(reply, submission, peer: peer, accepted: accepted, refused: refused))
        // The reply may not reach a client that gave up: nothing to do but say so.
        do throws(ControlSocketError) { try c.write(reply.bytes, deadline: deadline) } catch {
            log("control serve: reply not delivered\(peer): \(error)")
        }
        c.shutdownWrite()
        // Read what a refused client still sends, so closing does not reset the reply away.
        c.drain(limit: 1 << 18, deadline: min(deadline, tb_monotonic_ns() + 200_000_000))
    }

    /// Reads and decodes one frame: the header first, the body only once its length is known to
    /// be within bounds.
    func receive(_ c: borrowing ControlSocket, deadline: UInt64) throws(ControlRefusal) -> Submission {
        let header = Submission.Frame.headerSize
        let got: Int
        do { got = try c.read(into: buffer, count: header, deadline: deadline) } catch {
            throw .invalid("\(error)")
        }
        if got == 0 { throw .empty }
        let length: Int
        do { length = try Submission.bodyLength(header: UnsafeRawBufferPointer(start: buffer, count: got)) } catch {
            throw .malformed(error)
        }
        let body: Int
        do { body = try c.read(into: buffer + header, count: length, deadline: deadline) } catch {
            throw .invalid("\(error)")
        }
        guard body == length else { throw .malformed(.truncated(have: body, need: length, what: "body")) }
        do { return try Submission.decode(body: UnsafeRawBufferPointer(start: buffer + header, count: length)) } catch {
            throw .malformed(error)
        }
    }

    /// Publishes an accepted submission with the next command id.
    mutating func publish(_ s: Submission, resolved: SubmissionCheck.Resolved?) -> ControlReply {
        var command = ControlCommand(
            verb: s.verb,
            role: s.verb == .rollback ? .live : s.role,
            percent: s.percent,
            commandId: nextCommandId,
            version: resolved.flatMap { VersionDigest(hex: $0.id) } ?? .zero,
            runtimeId: resolved?.runtimeId ?? 0,
            strategy: s.strategy,
            issuer: s.issuer,
            reason: s.reason,
            submitTime: Int64(bitPattern: tb_realtime_ns())
        )
        nextCommandId &+= 1
        accepted += 1
        stats.count(.controlApplied)
        command.publishTime = Int64(bitPattern: tb_monotonic_ns())
        let sequence = ring.publish { command.encode(into: $0) }
        return .accepted(
            commandId: command.commandId,
            verb: s.verb.description,
            version: resolved?.id ?? "",
            runtimeId: resolved.map { ControlReport.hex16($0.runtimeId) } ?? "",
            sequence: sequence
        )
    }

    /// The log line of one submission (the `tickbus control serve` output contract, Docs/CONTROL.md).
    static func line(
        _ reply: ControlReply,
        _ s: Submission?,
        peer: String,
        accepted: UInt64,
        refused: UInt64
    ) -> String {
        var fields = ""
        if let s {
            fields += " verb=\(s.verb)"
            if let role = s.role { fields += " role=\(role)" }
            if s.verb == .canary { fields += " percent=\(s.percent)" }
            fields += " strategy=\(s.strategy.isEmpty ? "*" : s.strategy) issuer=\"\(s.issuer)\""
        }
        let counts = " accepted=\(accepted) refused=\(refused)"
        switch reply {
        case .accepted(let id, _, let version, let runtime, let sequence):
            let v = version.isEmpty ? "" : " version=\(version) runtime=\(runtime)"
            return
                "accepted command=\(id)\(fields)\(v) sequence=\(sequence)\(peer) reason=\"\(s?.reason ?? "")\"\(counts)"
        case .refused(let why):
            return "refused\(fields)\(peer) why=\"\(why)\"\(counts)"
        }
    }

    /// Marks the ring closed and removes the socket (if it is still ours). Idempotent.
    public func close() {
        ring.close()
        stats.close()
        var st = stat()
        if fstatat(dir.fd, ControlSocket.name, &st, AT_SYMLINK_NOFOLLOW) == 0, st.st_ino == socketInode {
            dir.unlink(ControlSocket.name)
        }
    }
}

/// Why the server could not start.
public enum ControlServerError: Error, CustomStringConvertible {
    case bus(SegmentError)
    case socket(ControlSocketError)
    case ring(SegmentError)
    case stats(StatsError)

    public var description: String {
        switch self {
        case .bus(let e): return "control serve: \(e)"
        case .socket(let e): return "control serve: \(e)"
        case .ring(let e): return "control serve: ring control: \(e)"
        case .stats(let e): return "control serve: stats block: \(e)"
        }
    }
}
