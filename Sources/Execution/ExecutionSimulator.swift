import Book
import TickBusCore

/// Matches own orders against an order-level market stream in exchange time (the rules of
/// Docs/EXECUTION.md): order latency, queue position from the real orders ahead, partial fills,
/// trade-through and crossing adds, taker sweeps that never take the same liquidity twice, fees.
///
/// Feed it every market message of the stream with `market(_:books:sink:)` *before* the book
/// applies that message (the simulator reads the book's prices and sizes as they were before it,
/// and the order table for an ITCH replace's old order), and own actions with `send(_:)`.
/// It keeps its own state (which real orders it saw added and when, liquidity taken per real
/// order) and never changes the book. After warm-up (the tables grow by doubling, the own-order
/// table is fixed at `maxOrders`) nothing is allocated per message.
///
/// Watching: real orders are tracked (for queue position and taken liquidity) only on watched
/// instruments. An instrument is watched from `watch(instrument:)` or `watchAll`, else from its
/// first own order's arrival; orders added before an instrument was watched count as ahead of
/// every own order (rule 5: the simulator never saw their add).
public final class ExecutionSimulator {
    public let latency: ExecutionLatency
    public let fees: ExecutionFees
    public let maxOrders: Int
    public let maxInstruments: Int

    @usableFromInline var reals: _Buffer<_Real>
    @usableFromInline var realFree: Int32 = -1
    @usableFromInline var realUsed: Int32 = 0
    @usableFromInline var realIndex: _Index
    @usableFromInline var levels: _Buffer<_Level>
    @usableFromInline var levelFree: Int32 = -1
    @usableFromInline var levelUsed: Int32 = 0
    @usableFromInline var levelIndex: _Index
    @usableFromInline var owns: _Buffer<_Own>
    @usableFromInline var ownFree: Int32 = -1
    @usableFromInline var ownIndex: _Index
    @usableFromInline var insts: _Buffer<_Instrument>
    @usableFromInline var pending: _Buffer<_Pending>
    @usableFromInline var pendingHead = 0
    @usableFromInline var pendingCount = 0
    /// Fills and events of the current call, handed to the sink in order by `_drain`.
    @usableFromInline var out: _Buffer<_Out>
    @usableFromInline var outCount = 0
    /// Real adds seen (the stamp of the latest); an own order's stamp is this at its arrival.
    @usableFromInline var clock: UInt64 = 0
    @usableFromInline var lastSequence: UInt64 = 0
    @usableFromInline var watchAll: Bool
    /// Own orders resting now.
    public internal(set) var restingCount = 0
    /// Messages the simulator could not use (gaps, unknown kinds) — counted, never fatal.
    public internal(set) var gaps: UInt64 = 0

    /// - Parameters:
    ///   - maxOrders: own orders resting at once (a new order beyond it is rejected `capacity`).
    ///   - watchAll: track real orders on every instrument from the first message.
    public init(
        latency: ExecutionLatency = .zero,
        fees: ExecutionFees = .zero,
        maxOrders: Int = 4096,
        maxInstruments: Int = 65_536,
        watchAll: Bool = false,
        realOrderCapacity: Int = 1024
    ) {
        precondition(maxOrders > 0 && maxOrders < Int(Int32.max) && maxInstruments > 0)
        self.latency = latency
        self.fees = fees
        self.maxOrders = maxOrders
        self.maxInstruments = maxInstruments
        self.watchAll = watchAll
        reals = _Buffer(capacity: realOrderCapacity, fill: _Real())
        realIndex = _Index(capacity: realOrderCapacity)
        // Small to start (live orders and levels of a few instruments fit in the caches); the
        // tables double as they fill, during warm-up.
        levels = _Buffer(capacity: 256, fill: _Level())
        levelIndex = _Index(capacity: 256)
        owns = _Buffer(capacity: maxOrders, fill: _Own())
        ownIndex = _Index(capacity: maxOrders)
        insts = _Buffer(capacity: maxInstruments, fill: _Instrument())
        pending = _Buffer(capacity: 1024, fill: _Pending())
        out = _Buffer(capacity: 256, fill: .none)
        // The own slots form the free list once: no allocation when orders come and go.
        for i in 0..<maxOrders { owns.base[i].lnext = i + 1 < maxOrders ? Int32(i + 1) : -1 }
        ownFree = 0
    }

    deinit {
        reals.release()
        realIndex.release()
        levels.release()
        levelIndex.release()
        owns.release()
        ownIndex.release()
        insts.release()
        pending.release()
        out.release()
    }

    /// Tracks real orders on `instrument` from now on (call before the stream to know every queue).
    public func watch(instrument: UInt32) {
        guard Int(instrument) < maxInstruments else { return }
        insts.base[Int(instrument)].watched = true
    }

    /// Queues an own action: it arrives `latency.orderNs` after `action.sentTime`. Actions are
    /// processed in the order sent; send them in non-decreasing `sentTime`.
    public func send(_ action: OwnAction) {
        if pendingCount == pending.capacity { _growPending() }
        let i = (pendingHead &+ pendingCount) & (pending.capacity - 1)
        pending.base[i] = _Pending(action: action, arrival: action.sentTime &+ latency.orderNs)
        pendingCount &+= 1
    }

    /// Own actions sent and not yet arrived.
    public var pendingActions: Int { pendingCount }

    /// The shares left of a resting own order; nil when it is not resting.
    public func remaining(_ orderId: UInt64) -> UInt32? {
        guard let o = ownIndex.find(orderId &+ 1) else { return nil }
        return owns[o].remaining
    }

    /// The shares of real orders still ahead of a resting own order (rule 3); nil when not resting.
    public func ahead(_ orderId: UInt64) -> Int64? {
        guard let o = ownIndex.find(orderId &+ 1) else { return nil }
        return owns[o].ahead
    }

    /// Processes one market message: first every own action due before it (arrival < its
    /// exchange time, rule 1), then its effect on resting own orders. Call before the book applies it.
    @inlinable
    public func market<S: ExecutionSink>(_ m: MarketMessageView, books: OrderBooks, sink: inout S) {
        _market(m, books)
        if outCount != 0 { _drain(&sink) }
    }

    /// Processes every own action still queued (the end of the stream), against `books` as they are.
    @inlinable
    public func finish<S: ExecutionSink>(books: OrderBooks, sink: inout S) {
        _finish(books)
        if outCount != 0 { _drain(&sink) }
    }

    /// Processes the own actions that have arrived by exchange time `time` (inclusive) without a
    /// market message: a live caller whose market is quiet.
    @inlinable
    public func advance<S: ExecutionSink>(to time: Int64, books: OrderBooks, sink: inout S) {
        _advance(to: time, books)
        if outCount != 0 { _drain(&sink) }
    }

    @inlinable
    func _drain<S: ExecutionSink>(_ sink: inout S) {
        var i = 0
        while i < outCount {
            switch out[Int32(i)] {
            case .fill(let f): sink.fill(f)
            case .event(let e): sink.orderEvent(e)
            case .none: break
            }
            i &+= 1
        }
        outCount = 0
    }
}

// MARK: State

/// A real order on a watched instrument, seen added. Free slots chain through `next`.
@usableFromInline
struct _Real {
    @usableFromInline var id: UInt64 = 0
    @usableFromInline var price: Int64 = 0
    /// The simulator's clock at its add: it is ahead of an own order whose stamp is >= this.
    @usableFromInline var stamp: UInt64 = 0
    @usableFromInline var remaining: UInt32 = 0
    /// Shares own orders took from it (rule 2), remembered until it leaves the book.
    @usableFromInline var taken: UInt32 = 0
    @usableFromInline var level: Int32 = -1
    @usableFromInline var prev: Int32 = -1
    @usableFromInline var next: Int32 = -1
    @usableFromInline init() {}
}

/// One (instrument, side, price) of a watched instrument: its tracked real orders in add order,
/// its resting own orders in arrival order, and liquidity taken from orders never seen added.
@usableFromInline
struct _Level {
    @usableFromInline var key: UInt64 = 0
    @usableFromInline var knownShares: Int64 = 0
    @usableFromInline var takenUnknown: Int64 = 0
    @usableFromInline var head: Int32 = -1
    @usableFromInline var tail: Int32 = -1
    @usableFromInline var ownHead: Int32 = -1
    @usableFromInline var ownTail: Int32 = -1
    @usableFromInline var count: Int32 = 0
    @usableFromInline var ownCount: Int32 = 0
    @usableFromInline init() {}
}

/// A resting own order. Linked at its level (arrival order) and on its instrument's side (price,
/// then arrival: the priority of rule 5). Free slots chain through `lnext`.
@usableFromInline
struct _Own {
    @usableFromInline var id: UInt64 = 0
    @usableFromInline var price: Int64 = 0
    @usableFromInline var ahead: Int64 = 0
    @usableFromInline var stamp: UInt64 = 0
    @usableFromInline var instrument: UInt32 = 0
    @usableFromInline var remaining: UInt32 = 0
    @usableFromInline var side: UInt8 = 0
    @usableFromInline var level: Int32 = -1
    @usableFromInline var lprev: Int32 = -1
    @usableFromInline var lnext: Int32 = -1
    @usableFromInline var sprev: Int32 = -1
    @usableFromInline var snext: Int32 = -1
    @usableFromInline init() {}
}

@usableFromInline
struct _Instrument {
    /// The best own order on each side (0 buy, 1 sell), -1 when none.
    @usableFromInline var heads: (Int32, Int32) = (-1, -1)
    @usableFromInline var watched = false
    /// A market message of this instrument was processed (an own order for it may arrive).
    @usableFromInline var seen = false
    @usableFromInline init() {}
}

@usableFromInline
struct _Pending {
    @usableFromInline var action = OwnAction.cancel(id: 0, at: 0)
    @usableFromInline var arrival: Int64 = 0
    @usableFromInline init() {}
    @usableFromInline init(action: OwnAction, arrival: Int64) {
        self.action = action
        self.arrival = arrival
    }
}

@usableFromInline
enum _Out {
    case none
    case fill(Fill)
    case event(OrderEvent)
}
