import CTickBus
import TickBusCore

/// A strategy's end of ring `control` (schema 3): a live reader, attached when the ring exists.
///
/// At start it attaches from the producer's cursor (`.now`): commands published before the
/// strategy existed were meant for its predecessor, and the strategy starts with the roles its
/// flags give. A ring that appears later, or a new generation of it (the server restarted), is
/// read from its first command, since every command in it was published after the strategy
/// started looking. Attaching and the producer checks happen in `maintain`, on the idle path and
/// every few thousand messages, never per message; `poll` is one acquire load when nothing is new.
///
/// Invariant: `probe`, when present, holds the bus directory and the ring's name; it reads a
/// header field without allocating, so an idle strategy that waits for the ring allocates nothing.
public struct ControlPort: ~Copyable {
    /// The strategy's name: commands addressed to another strategy are ignored.
    public let strategy: String
    @usableFromInline var reader: RingReader?
    let probe: _GenerationProbe?
    let bus: String
    let readerName: String
    /// Commands read (any strategy's, malformed ones included) and slots lost to a lap.
    public private(set) var read: UInt64 = 0
    public private(set) var lost: UInt64 = 0

    /// No control ring: the strategy runs with the roles it started with.
    public static func disabled(strategy: String = "") -> ControlPort {
        ControlPort(strategy: strategy, reader: nil, probe: nil, bus: "", readerName: "")
    }

    init(
        strategy: String,
        reader: consuming RingReader?,
        probe: consuming _GenerationProbe?,
        bus: String,
        readerName: String
    ) {
        self.strategy = strategy
        self.reader = reader
        self.probe = probe
        self.bus = bus
        self.readerName = readerName
    }

    /// Ring `control` of `bus`, for strategy `strategy`: attached now if the ring exists (from its
    /// cursor), else on a later `maintain`. The bus directory must exist (the strategy's own
    /// decisions ring is created first).
    public init(bus: String, strategy: String) {
        let name = "strategy-\(strategy)-control"
        let reader = try? RingReader(
            bus: bus,
            ring: "control",
            name: name,
            mode: .live,
            from: .now,
            expecting: .control
        )
        self.init(
            strategy: strategy,
            reader: reader,
            probe: _GenerationProbe(path: BusPaths.ring(bus: bus, ring: "control")),
            bus: bus,
            readerName: name
        )
    }

    /// A reader the caller attached (in-process drivers: tests, `bench control`); never re-attached.
    public init(reader: consuming RingReader, strategy: String) {
        self.init(strategy: strategy, reader: reader, probe: nil, bus: "", readerName: "")
    }

    /// Whether a control ring is attached.
    public var attached: Bool { reader != nil }

    /// The next command slot, if one is there: one acquire load when nothing is new. A lap (the
    /// ring's producer ran a whole ring ahead) is counted and skipped.
    @inline(never)
    public mutating func _poll() -> SlotBytes? {
        switch reader?.poll() {
        case .message(let bytes):
            read &+= 1
            return bytes
        case .empty, nil: return nil
        case .gap(_, let count):
            lost &+= count
            return nil
        }
    }

    /// Off the message path: attaches when the ring has appeared, re-attaches to a new generation,
    /// writes the reader's heartbeat. Returns a line for the log when it attached.
    public mutating func maintain(now: UInt64) -> String? {
        if reader != nil {
            reader?.heartbeat(now: now)
            guard case .replaced? = reader?.producerStatus() else { return nil }
            reader = nil
        }
        // The probe reads the file's header into the stack: no allocation while the ring is absent.
        guard probe?.generation() != nil else { return nil }
        guard
            let r = try? RingReader(
                bus: bus,
                ring: "control",
                name: readerName,
                mode: .live,
                from: .start,
                expecting: .control
            )
        else { return nil }
        let generation = r.header.generation
        reader = consume r
        return "control: attached to ring control (generation \(generation))"
    }
}
