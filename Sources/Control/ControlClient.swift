import CTickBus
import ControlWire
import TickBusCore

#if canImport(Glibc)
import Glibc
#endif

/// The client side of the control socket: `tickbus control … COMMAND` and the drift monitor.
public enum ControlClient {
    /// Sends one submission to the bus's control server and reads its reply.
    /// - Parameter timeout: seconds for the whole exchange.
    /// - Throws: `ControlClientError`: a field out of its domain (nothing is sent), no server, a
    ///   socket failure or a reply that is not one.
    public static func submit(_ s: Submission, bus: String, timeout: Double) throws(ControlClientError) -> ControlReply
    {
        let frame: [UInt8]
        do { frame = try s.encode() } catch { throw .submission(error) }
        let dir: BusDirectory
        do { dir = try BusDirectory(bus: bus) } catch {
            if case .notFound = error {
                throw .socket(.noServer(path: BusPaths.busDirectory(bus) + "/" + ControlSocket.name))
            }
            throw .bus(error)
        }
        let deadline = tb_monotonic_ns() + UInt64(max(0.001, timeout) * 1e9)
        // Safe: allocated here, freed below, never escapes.
        let line = UnsafeMutableRawPointer.allocate(byteCount: ControlReply.maxSize, alignment: 8)
        defer { line.deallocate() }
        let n: Int
        do throws(ControlSocketError) {
            let c = try ControlSocket.connect(dir)
            try c.write(frame, deadline: deadline)
            c.shutdownWrite()
            n = try c.read(into: line, count: ControlReply.maxSize, deadline: deadline)
        } catch { throw .socket(error) }
        let bytes = Array(UnsafeRawBufferPointer(start: line, count: n))
        guard let last = bytes.last, last == 10 else {
            throw .badReply("the server closed after \(n) bytes, before a whole reply line")
        }
        return try ControlReply(line: Array(bytes.dropLast()))
    }
}

/// What a strategy did with a command: its control record (kind 101), copied out of the ring.
public struct ControlOutcome: Sendable, Equatable {
    public var commandId: UInt64
    public var applied: Bool
    public var verb: ControlVerb?
    public var rejection: ControlRejection?
    public var rawRejection: UInt32
    /// Why it was rejected (empty when applied).
    public var message: String
    /// The roles in force after it.
    public var roles: RoleState
    /// The first market sequence processed under the new state.
    public var firstMarketSequence: UInt64
    /// The record's sequence in `decisions.<strategy>`.
    public var recordSequence: UInt64
    /// Monotonic ns: the command's publish, the record's publish (their difference is the swap latency).
    public var commandPublishTime: Int64
    public var publishTime: Int64

    /// Copies the fields of a control record view.
    public init(_ v: ControlRecordView) {
        commandId = v.commandId
        applied = v.applied
        verb = v.verb
        rejection = v.rejection
        rawRejection = v.rawRejection
        message = v.message
        roles = v.roles
        firstMarketSequence = v.firstMarketSequence
        recordSequence = v.sequence
        commandPublishTime = v.commandPublishTime
        publishTime = v.publishTime
    }
}

/// A live reader of `decisions.<strategy>` attached from the ring's current position, made
/// BEFORE a command is submitted so that the strategy's control record for it cannot be missed.
public struct ControlRecordWaiter: ~Copyable {
    var reader: RingReader
    public let ring: String
    /// Records lost to laps while waiting (a record lost this way is reported as a timeout).
    public private(set) var lost: UInt64 = 0

    /// - Throws: `.noStrategy` when the strategy's ring is not there (or not a decisions ring).
    public init(bus: String, strategy: String) throws(ControlClientError) {
        let ring = "decisions.\(strategy)"
        do {
            reader = try RingReader(
                bus: bus,
                ring: ring,
                name: "control-client",
                mode: .live,
                from: .now,
                idle: .backoff,
                expecting: .decisions
            )
        } catch { throw .noStrategy(ring: ring, error) }
        self.ring = ring
    }

    /// Reads the strategy's records until the control record of `commandId` arrives.
    /// - Parameter timeout: seconds from now.
    /// - Throws: `.timedOut`, or `.strategyGone` when the ring's producer stopped first.
    public mutating func wait(for commandId: UInt64, timeout: Double) throws(ControlClientError) -> ControlOutcome {
        let deadline = tb_monotonic_ns() + UInt64(max(0, timeout) * 1e9)
        var idle = 0
        while true {
            switch reader.poll() {
            case .message(let slot):
                idle = 0
                guard slot.count >= ControlRecordLayout.size,
                    slot.base.loadLittleEndian(fromByteOffset: RecordHeader.kind, as: UInt16.self)
                        == ControlRecordLayout.kindValue
                else { continue }
                let view = ControlRecordView(slot.base)
                if view.commandId == commandId { return ControlOutcome(view) }
            case .gap(_, let count):
                lost += count
            case .empty:
                let now = tb_monotonic_ns()
                if now >= deadline { throw .timedOut(ring: ring, commandId: commandId, seconds: timeout, lost: lost) }
                idle += 1
                if idle % 512 == 0 {
                    let status = reader.producerStatus()
                    if status != .running, reader.caughtUp { throw .strategyGone(ring: ring, status) }
                }
                usleep(200)
            }
        }
    }
}

/// Why a client command failed before a strategy's answer.
public enum ControlClientError: Error, CustomStringConvertible {
    case submission(SubmissionError)
    case bus(SegmentError)
    case socket(ControlSocketError)
    case badReply(String)
    case noStrategy(ring: String, SegmentError)
    case timedOut(ring: String, commandId: UInt64, seconds: Double, lost: UInt64)
    case strategyGone(ring: String, ProducerStatus)

    public var description: String {
        switch self {
        case .submission(let e): return "\(e)"
        case .bus(let e): return "\(e)"
        case .socket(let e): return "\(e)"
        case .badReply(let s): return "bad reply from the control server: \(s)"
        case .noStrategy(let ring, let e): return "cannot wait for the strategy's control record: \(ring): \(e)"
        case .timedOut(let ring, let id, let s, let lost):
            return "no control record for command \(id) in \(ring) within \(s) s"
                + (lost > 0 ? " (\(lost) records were lost to laps while waiting)" : "")
        case .strategyGone(let ring, let status): return "\(ring) stopped before answering: \(status)"
        }
    }
}
