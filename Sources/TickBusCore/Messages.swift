/// Kinds of normalised market message (the `kind` field of a 64-byte market slot).
public enum MessageKind: UInt16, Sendable, CaseIterable, CustomStringConvertible {
    case add = 1
    case execute = 2
    case cancel = 3
    case delete = 4
    case replace = 5
    case trade = 6
    case topOfBook = 7
    case directory = 8
    case status = 9
    case gap = 10
    case endOfSession = 11

    /// The kind's name as `journal cat` prints it (a static string: no allocation, for exporters).
    public var name: StaticString {
        switch self {
        case .add: return "add"
        case .execute: return "execute"
        case .cancel: return "cancel"
        case .delete: return "delete"
        case .replace: return "replace"
        case .trade: return "trade"
        case .topOfBook: return "top"
        case .directory: return "directory"
        case .status: return "status"
        case .gap: return "gap"
        case .endOfSession: return "eos"
        }
    }

    public var description: String { name.description }
}

/// Buy or sell, as the byte ITCH uses.
public enum Side: UInt8, Sendable {
    case buy = 0x42  // 'B'
    case sell = 0x53  // 'S'
}

/// Byte offsets of the 64-byte market slot. Bytes 0..<8 are the ring's sequence word.
///
/// ```
/// 0  sequence (ring)     8  kind u16   10 flags u16   12 instrument u32
/// 16 exchange time ns (since midnight, from the source)   24 receive time ns (monotonic, at publish)
/// 32..<64 payload, by kind:
///   add, execute, cancel, delete, trade: 32 order id u64, 40 price i64 (1e-4), 48 quantity u32,
///                                        52 side u8, 56 match number u64
///   replace:    32 old order id, 40 new order id, 48 price i64, 56 quantity u32, 60 side u8
///   top:        32 bid price i64, 40 ask price i64, 48 bid size u32, 52 ask size u32,
///               56 bid orders u32, 60 ask orders u32   (size 0: that side is empty)
///   directory:  32 symbol (8 bytes, space padded), 40 round lot u32, 44 market category u8,
///               45 financial status u8
///   status:     32 trading state u8 (H, P, Q, T), 36 reason (4 bytes)
///   gap:        32 first missing source sequence u64, 40 count u64
///   eos:        32 messages in the session u64
/// ```
public enum MarketLayout {
    public static let kind = 8
    public static let flags = 10
    public static let instrument = 12
    public static let exchangeTime = 16
    public static let receiveTime = 24
    public static let payload = 32
    public static let slotSize = 64
}

/// A market message as a value: the producer fills one and stores it into a slot; tests and
/// tools build them. The four payload words are interpreted by `kind` (see `MarketLayout`).
public struct MarketMessage: Equatable, Sendable {
    public var kind: MessageKind
    public var flags: UInt16
    public var instrument: UInt32
    public var exchangeTime: Int64
    public var receiveTime: Int64
    public var payload: (UInt64, UInt64, UInt64, UInt64)

    @inlinable
    public init(
        kind: MessageKind,
        flags: UInt16 = 0,
        instrument: UInt32,
        exchangeTime: Int64,
        receiveTime: Int64 = 0,
        payload: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
    ) {
        self.kind = kind
        self.flags = flags
        self.instrument = instrument
        self.exchangeTime = exchangeTime
        self.receiveTime = receiveTime
        self.payload = payload
    }

    public static func == (a: MarketMessage, b: MarketMessage) -> Bool {
        a.kind == b.kind && a.flags == b.flags && a.instrument == b.instrument && a.exchangeTime == b.exchangeTime
            && a.receiveTime == b.receiveTime && a.payload.0 == b.payload.0 && a.payload.1 == b.payload.1
            && a.payload.2 == b.payload.2 && a.payload.3 == b.payload.3
    }

    /// Packs quantity (low 32 bits) and side (byte 4) as they sit at offset 48 of order events.
    @inlinable static func pack(_ quantity: UInt32, _ side: Side) -> UInt64 {
        UInt64(quantity) | UInt64(side.rawValue) << 32
    }

    /// add, execute, cancel, delete, trade.
    @inlinable
    public static func orderEvent(
        _ kind: MessageKind,
        instrument: UInt32,
        exchangeTime: Int64,
        orderId: UInt64,
        price: Int64,
        quantity: UInt32,
        side: Side,
        match: UInt64 = 0
    ) -> MarketMessage {
        MarketMessage(
            kind: kind,
            instrument: instrument,
            exchangeTime: exchangeTime,
            payload: (orderId, UInt64(bitPattern: price), pack(quantity, side), match)
        )
    }

    @inlinable
    public static func replace(
        instrument: UInt32,
        exchangeTime: Int64,
        oldOrderId: UInt64,
        newOrderId: UInt64,
        price: Int64,
        quantity: UInt32,
        side: Side
    ) -> MarketMessage {
        MarketMessage(
            kind: .replace,
            instrument: instrument,
            exchangeTime: exchangeTime,
            payload: (oldOrderId, newOrderId, UInt64(bitPattern: price), pack(quantity, side))
        )
    }

    @inlinable
    public static func topOfBook(
        instrument: UInt32,
        exchangeTime: Int64,
        bidPrice: Int64,
        bidSize: UInt32,
        bidOrders: UInt32,
        askPrice: Int64,
        askSize: UInt32,
        askOrders: UInt32
    ) -> MarketMessage {
        MarketMessage(
            kind: .topOfBook,
            instrument: instrument,
            exchangeTime: exchangeTime,
            payload: (
                UInt64(bitPattern: bidPrice), UInt64(bitPattern: askPrice),
                UInt64(bidSize) | UInt64(askSize) << 32, UInt64(bidOrders) | UInt64(askOrders) << 32
            )
        )
    }

    /// `symbol` is up to 8 ASCII bytes, space padded as in ITCH.
    public static func directory(
        instrument: UInt32,
        exchangeTime: Int64,
        symbol: String,
        roundLot: UInt32 = 100,
        marketCategory: UInt8 = 0x51,
        financialStatus: UInt8 = 0x4E
    ) -> MarketMessage {
        var word: UInt64 = 0
        let bytes = Array(symbol.utf8.prefix(8)) + Array(repeating: 0x20, count: max(0, 8 - symbol.utf8.count))
        for (i, b) in bytes.enumerated() { word |= UInt64(b) << (8 * UInt64(i)) }
        return MarketMessage(
            kind: .directory,
            instrument: instrument,
            exchangeTime: exchangeTime,
            payload: (word, UInt64(roundLot) | UInt64(marketCategory) << 32 | UInt64(financialStatus) << 40, 0, 0)
        )
    }

    @inlinable
    public static func status(
        instrument: UInt32,
        exchangeTime: Int64,
        state: UInt8,
        reason: UInt32 = 0x2020_2020
    ) -> MarketMessage {
        MarketMessage(
            kind: .status,
            instrument: instrument,
            exchangeTime: exchangeTime,
            payload: (UInt64(state) | UInt64(reason) << 32, 0, 0, 0)
        )
    }

    @inlinable
    public static func gap(exchangeTime: Int64, from: UInt64, count: UInt64) -> MarketMessage {
        MarketMessage(kind: .gap, instrument: 0, exchangeTime: exchangeTime, payload: (from, count, 0, 0))
    }

    @inlinable
    public static func endOfSession(exchangeTime: Int64, messages: UInt64) -> MarketMessage {
        MarketMessage(kind: .endOfSession, instrument: 0, exchangeTime: exchangeTime, payload: (messages, 0, 0, 0))
    }

    /// Writes bytes 8..<64 of a slot (never the sequence word).
    @inlinable @inline(__always)
    public func store(to p: UnsafeMutableRawPointer) {
        p.storeBytes(of: kind.rawValue.littleEndian, toByteOffset: MarketLayout.kind, as: UInt16.self)
        p.storeBytes(of: flags.littleEndian, toByteOffset: MarketLayout.flags, as: UInt16.self)
        p.storeBytes(of: instrument.littleEndian, toByteOffset: MarketLayout.instrument, as: UInt32.self)
        p.storeBytes(of: exchangeTime.littleEndian, toByteOffset: MarketLayout.exchangeTime, as: Int64.self)
        p.storeBytes(of: receiveTime.littleEndian, toByteOffset: MarketLayout.receiveTime, as: Int64.self)
        p.storeBytes(of: payload.0.littleEndian, toByteOffset: 32, as: UInt64.self)
        p.storeBytes(of: payload.1.littleEndian, toByteOffset: 40, as: UInt64.self)
        p.storeBytes(of: payload.2.littleEndian, toByteOffset: 48, as: UInt64.self)
        p.storeBytes(of: payload.3.littleEndian, toByteOffset: 56, as: UInt64.self)
    }

    /// Reads a message back from slot bytes.
    @inlinable public init(_ view: MarketMessageView) {
        self.init(
            kind: view.kind ?? .gap,
            flags: view.flags,
            instrument: view.instrument,
            exchangeTime: view.exchangeTime,
            receiveTime: view.receiveTime,
            payload: (view.word(32), view.word(40), view.word(48), view.word(56))
        )
    }
}

/// A zero-copy view of a 64-byte market slot (in a reader's copy, a journal block, a file).
/// Invariant: `base` points at 64 readable bytes, 8-byte aligned.
public struct MarketMessageView {
    public let base: UnsafeRawPointer
    @inlinable public init(_ base: UnsafeRawPointer) { self.base = base }

    @inlinable public func word(_ offset: Int) -> UInt64 {
        UInt64(littleEndian: base.load(fromByteOffset: offset, as: UInt64.self))
    }
    @inlinable public var sequence: UInt64 { word(0) }
    @inlinable public var rawKind: UInt16 {
        UInt16(littleEndian: base.load(fromByteOffset: MarketLayout.kind, as: UInt16.self))
    }
    @inlinable public var kind: MessageKind? { MessageKind(rawValue: rawKind) }
    @inlinable public var flags: UInt16 {
        UInt16(littleEndian: base.load(fromByteOffset: MarketLayout.flags, as: UInt16.self))
    }
    @inlinable public var instrument: UInt32 {
        UInt32(littleEndian: base.load(fromByteOffset: MarketLayout.instrument, as: UInt32.self))
    }
    @inlinable public var exchangeTime: Int64 {
        Int64(littleEndian: base.load(fromByteOffset: MarketLayout.exchangeTime, as: Int64.self))
    }
    @inlinable public var receiveTime: Int64 {
        Int64(littleEndian: base.load(fromByteOffset: MarketLayout.receiveTime, as: Int64.self))
    }

    // Order events: add, execute, cancel, delete, trade.
    @inlinable public var orderId: UInt64 { word(32) }
    @inlinable public var price: Int64 { Int64(bitPattern: word(40)) }
    @inlinable public var quantity: UInt32 { UInt32(truncatingIfNeeded: word(48)) }
    @inlinable public var side: Side? { Side(rawValue: base.load(fromByteOffset: 52, as: UInt8.self)) }
    @inlinable public var matchNumber: UInt64 { word(56) }

    // Replace.
    @inlinable public var oldOrderId: UInt64 { word(32) }
    @inlinable public var newOrderId: UInt64 { word(40) }
    @inlinable public var replacePrice: Int64 { Int64(bitPattern: word(48)) }
    @inlinable public var replaceQuantity: UInt32 { UInt32(truncatingIfNeeded: word(56)) }
    @inlinable public var replaceSide: Side? { Side(rawValue: base.load(fromByteOffset: 60, as: UInt8.self)) }

    // Top of book.
    @inlinable public var bidPrice: Int64 { Int64(bitPattern: word(32)) }
    @inlinable public var askPrice: Int64 { Int64(bitPattern: word(40)) }
    @inlinable public var bidSize: UInt32 { UInt32(truncatingIfNeeded: word(48)) }
    @inlinable public var askSize: UInt32 { UInt32(truncatingIfNeeded: word(48) >> 32) }
    @inlinable public var bidOrders: UInt32 { UInt32(truncatingIfNeeded: word(56)) }
    @inlinable public var askOrders: UInt32 { UInt32(truncatingIfNeeded: word(56) >> 32) }

    // Directory.
    public var symbol: String {
        var bytes: [UInt8] = []
        for i in 0..<8 { bytes.append(base.load(fromByteOffset: 32 + i, as: UInt8.self)) }
        return String(decoding: bytes, as: UTF8.self).trimmingSpaces
    }
    @inlinable public var roundLot: UInt32 { UInt32(truncatingIfNeeded: word(40)) }
    @inlinable public var marketCategory: UInt8 { base.load(fromByteOffset: 44, as: UInt8.self) }

    // Status.
    @inlinable public var tradingState: UInt8 { base.load(fromByteOffset: 32, as: UInt8.self) }

    // Gap and end of session.
    @inlinable public var gapFrom: UInt64 { word(32) }
    @inlinable public var gapCount: UInt64 { word(40) }
    @inlinable public var sessionMessages: UInt64 { word(32) }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while s.last == " " || s.last == "\0" { s = s.dropLast() }
        return String(s)
    }
}

extension MarketMessageView: CustomStringConvertible {
    /// One line per message, the format of `tickbus tap --print`. Receive time is left out so that
    /// the same source prints the same lines on every run.
    public var description: String {
        let head = "\(kind.map { "\($0)" } ?? "kind\(rawKind)") inst=\(instrument) t=\(exchangeTime)"
        switch kind {
        case .add, .execute, .cancel, .delete, .trade:
            return
                "\(head) id=\(orderId) px=\(price) qty=\(quantity) side=\(side == .buy ? "B" : side == .sell ? "S" : "?")"
                + (matchNumber != 0 ? " match=\(matchNumber)" : "")
        case .replace:
            return "\(head) old=\(oldOrderId) new=\(newOrderId) px=\(replacePrice) qty=\(replaceQuantity)"
        case .topOfBook:
            return "\(head) bid=\(bidPrice)x\(bidSize)/\(bidOrders) ask=\(askPrice)x\(askSize)/\(askOrders)"
        case .directory:
            return "\(head) symbol=\(symbol) lot=\(roundLot)"
        case .status:
            return "\(head) state=\(Character(Unicode.Scalar(tradingState)))"
        case .gap:
            return "\(head) from=\(gapFrom) count=\(gapCount)"
        case .endOfSession:
            return "\(head) messages=\(sessionMessages)"
        case nil:
            return head
        }
    }
}
