import Book
import TickBusCore

/// LOBSTER reconstruction: a message file plus its order-book file (N levels), published as
/// level-addressed ring messages (`MarketFlags.levelAddressed`) on instrument 1.
///
/// - The seed is the first order-book row with the first message undone, published as adds with
///   `MarketFlags.seed` (order id 0).
/// - Types 1 add, 2 cancel, 3 delete, 4 execute change the visible book; 5 (hidden execution) and
///   6 (cross) are trades; 7 (halt) is a status (price −1 → 'H', 0 → 'Q', 1 → 'T').
/// - After each message the book keeps only the top N levels per side; a level pushed below N is
///   published as a delete with `MarketFlags.truncate`. When a side holds fewer than N levels but
///   the order-book row shows more, the level was revealed from below N and cannot be known from
///   the messages: it is taken from the order-book row (a *refill*) and published as an add with
///   `MarketFlags.refill`. Levels known from the messages are compared with the row first; a
///   difference counts the row as a mismatch.
///
/// A reader applying every book message of the ring (`OrderBooks.apply`) holds the same levels.
public struct LOBSTERSource: MarketSource {
    public static let instrument: UInt32 = 1
    public static let emptyAsk: Int64 = 9_999_999_999
    public static let emptyBid: Int64 = -9_999_999_999
    /// Columns of a message row: Time, Type, OrderID, Size, Price, Direction — exactly these.
    public static let messageColumns = 6

    /// Kinds of malformed rows, as counted in `FeedReport.malformed`.
    public enum Malformed {
        /// A message row without exactly 6 columns.
        public static let messageColumns = "row with wrong column count"
        /// A message row with an empty or non-decimal field, or an integer outside ±(2^63 − 1).
        public static let number = "bad number"
        /// An order-book row without exactly 4 × levels integer columns (or with a bad number).
        public static let bookColumns = "orderbook row with wrong column count"
    }

    @usableFromInline let messages: _InputFile
    @usableFromInline let orderbook: _InputFile
    public let levels: Int
    public let books: OrderBooks
    @usableFromInline var messageOffset = 0
    @usableFromInline var bookOffset = 0
    /// The current order-book row: ask price, ask size, bid price, bid size per level.
    @usableFromInline var row: [Int64]
    /// The ring messages of the last `step()` (drained by `next()`).
    public internal(set) var pending: [MarketMessage]
    @usableFromInline var pendingIndex = 0
    public var report = FeedReport()
    /// Rows read (both files), rows that needed a refill, rows whose known levels disagreed.
    public private(set) var rows: UInt64 = 0
    public private(set) var refilled: UInt64 = 0
    public private(set) var mismatches: UInt64 = 0
    /// The first mismatching rows (1-based), for diagnostics.
    public private(set) var mismatchSamples: [UInt64] = []

    public init(messages: String, orderbook: String, levels: Int) throws(FeedError) {
        guard levels >= 1 && levels <= 1000 else { throw .badArgument("--levels must be 1...1000, got \(levels)") }
        self.messages = try _InputFile(path: messages)
        self.orderbook = try _InputFile(path: orderbook)
        self.levels = levels
        books = OrderBooks(maxInstruments: 2, orderCapacity: 16)
        row = [Int64](repeating: 0, count: 4 * levels)
        pending = []
        pending.reserveCapacity(4 * levels + 8)
    }

    /// The number of levels N of an order-book file: the columns of its first row over 4.
    public static func levels(orderbook: String) throws(FeedError) -> Int {
        let f = try _InputFile(path: orderbook)
        var columns = 1
        var i = 0
        while i < f.count {
            let c = f.base.load(fromByteOffset: i, as: UInt8.self)  // Safe: i < count.
            if c == 0x0A { break }
            if c == 0x2C { columns += 1 }
            i += 1
        }
        guard columns % 4 == 0 else { throw .cannotRead(path: orderbook, reason: "first row has \(columns) columns, not a multiple of 4") }
        return columns / 4
    }

    public mutating func next() -> MarketMessage? {
        while pendingIndex >= pending.count {
            guard step() else { return nil }
        }
        defer { pendingIndex += 1 }
        return pending[pendingIndex]
    }

    /// One parsed message row.
    @usableFromInline struct Row {
        var time: Int64 = 0
        var type: Int64 = 0
        var id: Int64 = 0
        var size: Int64 = 0
        var price: Int64 = 0
        var direction: Int64 = 0
    }

    /// Processes the next pair of rows, filling the pending ring messages. False at the end of either file.
    public mutating func step() -> Bool {
        pending.removeAll(keepingCapacity: true)
        pendingIndex = 0
        while true {
            guard messageOffset < messages.count, bookOffset < orderbook.count else { return false }
            let mAt = messageOffset
            let bAt = bookOffset
            let m = parseMessage()
            let bookOK = parseBookRow()
            guard let m else { continue }
            guard bookOK else { report.malformed(LOBSTERSource.Malformed.bookColumns, at: bAt); continue }
            guard m.direction == 1 || m.direction == -1 else { report.malformed("side out of range", at: mAt); continue }
            guard m.type >= 1 && m.type <= 7 else { report.malformed("unknown type", at: mAt); continue }
            guard m.type == 7 || (m.price > 0 && m.price < LOBSTERSource.emptyAsk) else {
                report.malformed("price out of range", at: mAt); continue
            }
            report.messagesIn &+= 1
            apply(m)
            return true
        }
    }

    @usableFromInline mutating func apply(_ m: Row) {
        let inst = LOBSTERSource.instrument
        let side: Side = m.direction == 1 ? .buy : .sell
        let before = books.top(instrument: inst)
        let size = UInt32(clamping: m.size)
        if rows == 0 { seed(m, side) }
        rows &+= 1
        switch m.type {
        case 1:
            books.changeLevel(instrument: inst, side: side, price: m.price, shares: m.size, orders: 1)
            emit(.add, m, side)
        case 2:
            books.changeLevel(instrument: inst, side: side, price: m.price, shares: -m.size, orders: 0)
            emit(.cancel, m, side)
        case 3:
            books.changeLevel(instrument: inst, side: side, price: m.price, shares: -m.size, orders: -1)
            emit(.delete, m, side)
        case 4:
            books.changeLevel(instrument: inst, side: side, price: m.price, shares: -m.size, orders: 0)
            emit(.execute, m, side)
        case 5, 6:
            var t = MarketMessage.orderEvent(.trade, instrument: inst, exchangeTime: m.time, orderId: UInt64(bitPattern: m.id),
                                             price: m.price, quantity: size, side: side)
            if m.type == 6 { t.flags = MarketFlags.cross }
            pending.append(t)
        default:  // 7: trading halt indicator
            let state: UInt8 = m.price < 0 ? 0x48 : m.price == 0 ? 0x51 : 0x54
            pending.append(.status(instrument: inst, exchangeTime: m.time, state: state))
        }
        // Keep the top N; levels pushed below N are no longer tracked by the messages.
        for si in 0..<2 {
            let s: Side = si == 0 ? .sell : .buy
            books.truncate(instrument: inst, side: s, keep: levels) { lv in
                var d = MarketMessage.orderEvent(.delete, instrument: inst, exchangeTime: m.time, orderId: 0, price: lv.price,
                                                 quantity: UInt32(clamping: lv.shares), side: s)
                d.flags = MarketFlags.levelAddressed | MarketFlags.truncate
                pending.append(d)
            }
        }
        // Compare what the messages know with the row; refill levels revealed from below N.
        var refill = false
        var mismatch = false
        for si in 0..<2 {
            let s: Side = si == 0 ? .sell : .buy
            let column = si == 0 ? 0 : 2
            let known = books.levelCount(instrument: inst, side: s)
            for k in 0..<levels {
                let filePrice = row[4 * k + column]
                let fileSize = row[4 * k + column + 1]
                if k < known {
                    let lv = books.level(instrument: inst, side: s, depth: k)!
                    if lv.price != filePrice || lv.shares != fileSize { mismatch = true }
                } else if fileSize > 0 {
                    refill = true
                    books.changeLevel(instrument: inst, side: s, price: filePrice, shares: fileSize, orders: 1)
                    var a = MarketMessage.orderEvent(.add, instrument: inst, exchangeTime: m.time, orderId: 0, price: filePrice,
                                                     quantity: UInt32(clamping: fileSize), side: s)
                    a.flags = MarketFlags.levelAddressed | MarketFlags.refill
                    pending.append(a)
                }
            }
        }
        if refill { refilled &+= 1 }
        if mismatch {
            mismatches &+= 1
            if mismatchSamples.count < 20 { mismatchSamples.append(rows) }
        }
        if books.top(instrument: inst) != before { pending.append(books.topMessage(instrument: inst, exchangeTime: m.time)) }
    }

    /// Seeds the book from the first order-book row with the first message undone.
    @usableFromInline mutating func seed(_ m: Row, _ side: Side) {
        let inst = LOBSTERSource.instrument
        for k in 0..<levels {
            if row[4 * k + 1] > 0 { books.changeLevel(instrument: inst, side: .sell, price: row[4 * k], shares: row[4 * k + 1], orders: 1) }
            if row[4 * k + 3] > 0 { books.changeLevel(instrument: inst, side: .buy, price: row[4 * k + 2], shares: row[4 * k + 3], orders: 1) }
        }
        switch m.type {
        // Orders 0: the seed publishes one add per level, so a reader counts one order per seeded level.
        case 1: books.changeLevel(instrument: inst, side: side, price: m.price, shares: -m.size, orders: 0)
        case 2, 3, 4: books.changeLevel(instrument: inst, side: side, price: m.price, shares: m.size, orders: 0)
        default: break
        }
        for si in 0..<2 {
            let s: Side = si == 0 ? .sell : .buy
            for k in 0..<books.levelCount(instrument: inst, side: s) {
                let lv = books.level(instrument: inst, side: s, depth: k)!
                var a = MarketMessage.orderEvent(.add, instrument: inst, exchangeTime: m.time, orderId: 0, price: lv.price,
                                                 quantity: UInt32(clamping: lv.shares), side: s)
                a.flags = MarketFlags.levelAddressed | MarketFlags.seed
                pending.append(a)
            }
        }
    }

    @usableFromInline mutating func emit(_ kind: MessageKind, _ m: Row, _ side: Side) {
        var e = MarketMessage.orderEvent(kind, instrument: LOBSTERSource.instrument, exchangeTime: m.time,
                                         orderId: UInt64(bitPattern: m.id), price: m.price, quantity: UInt32(clamping: m.size), side: side)
        e.flags = MarketFlags.levelAddressed
        pending.append(e)
    }

    /// Parses the message row at `messageOffset` (and advances past its newline); nil when malformed.
    @usableFromInline mutating func parseMessage() -> Row? {
        let b = messages.base
        let end = messages.count
        let start = messageOffset
        var i = start
        var r = Row()
        var field = 0
        var ok = true
        // Field 0: time, seconds with a 1..9-digit fraction, to integer nanoseconds.
        var seconds: Int64 = 0
        var fraction: Int64 = 0
        var digits = 0
        var inFraction = false
        var sawDigit = false  // of the time field
        var integer = _CSVInteger()
        while i < end {
            let c = b.load(fromByteOffset: i, as: UInt8.self)  // Safe: i < count.
            i += 1
            if c == 0x0A { break }
            if c == 0x0D { continue }
            if field == 0 {
                if c == 0x2C {
                    if !sawDigit { ok = false }
                    var f = fraction
                    var d = digits
                    while d < 9 { f &*= 10; d += 1 }
                    r.time = seconds &* 1_000_000_000 &+ f
                    field = 1
                    sawDigit = false
                } else if c == 0x2E, !inFraction {
                    inFraction = true
                } else if c >= 0x30 && c <= 0x39 {
                    sawDigit = true
                    if inFraction {
                        if digits < 9 { fraction = fraction &* 10 &+ Int64(c - 0x30); digits += 1 }
                    } else {
                        seconds = seconds &* 10 &+ Int64(c - 0x30)
                    }
                } else {
                    ok = false
                }
                continue
            }
            if c == 0x2C {
                let (v, hadDigit) = integer.take()
                if !hadDigit { ok = false }
                if field < LOBSTERSource.messageColumns { store(&r, field, v) }
                field += 1
            } else if !integer.consume(c) {
                ok = false
            }
        }
        messageOffset = i
        // The last column runs from the last comma to the end of the line (it may be empty): a row
        // has one more column than commas, and only exactly six is a message row.
        let columns = field + 1
        guard columns == LOBSTERSource.messageColumns else {
            report.malformed(LOBSTERSource.Malformed.messageColumns, at: start)
            return nil
        }
        let (v, hadDigit) = integer.take()
        if !hadDigit { ok = false }
        store(&r, LOBSTERSource.messageColumns - 1, v)
        guard ok else {
            report.malformed(LOBSTERSource.Malformed.number, at: start)
            return nil
        }
        return r
    }

    func store(_ r: inout Row, _ field: Int, _ v: Int64) {
        switch field {
        case 1: r.type = v
        case 2: r.id = v
        case 3: r.size = v
        case 4: r.price = v
        default: r.direction = v
        }
    }

    /// Parses the order-book row at `bookOffset` into `row`; false when it does not hold 4N integers.
    @usableFromInline mutating func parseBookRow() -> Bool {
        let b = orderbook.base
        let end = orderbook.count
        var i = bookOffset
        var field = 0
        var integer = _CSVInteger()
        var ok = true
        let n = 4 * levels
        while i < end {
            let c = b.load(fromByteOffset: i, as: UInt8.self)  // Safe: i < count.
            i += 1
            if c == 0x0A { break }
            if c == 0x0D { continue }
            if c == 0x2C {
                let (v, hadDigit) = integer.take()
                if field < n { row[field] = v }
                if !hadDigit { ok = false }
                field += 1
            } else if !integer.consume(c) {
                ok = false
            }
        }
        // The last column ends the line, even when empty (a trailing comma is a 4N+1st column).
        let (v, hadDigit) = integer.take()
        if field < n { row[field] = v }
        if !hadDigit { ok = false }
        bookOffset = i
        return ok && field + 1 == n
    }

    /// Writes the book's top N levels as one order-book CSV row (LOBSTER's format) into `out`.
    public func appendRow(to out: inout [UInt8]) {
        let inst = LOBSTERSource.instrument
        for k in 0..<levels {
            if k > 0 { out.append(0x2C) }
            if let a = books.level(instrument: inst, side: .sell, depth: k) {
                appendInt(a.price, &out); out.append(0x2C); appendInt(a.shares, &out)
            } else {
                appendInt(LOBSTERSource.emptyAsk, &out); out.append(0x2C); out.append(0x30)
            }
            out.append(0x2C)
            if let b = books.level(instrument: inst, side: .buy, depth: k) {
                appendInt(b.price, &out); out.append(0x2C); appendInt(b.shares, &out)
            } else {
                appendInt(LOBSTERSource.emptyBid, &out); out.append(0x2C); out.append(0x30)
            }
        }
        out.append(0x0A)
    }
}

@inlinable func appendInt(_ v: Int64, _ out: inout [UInt8]) {
    if v < 0 { out.append(0x2D) }
    var m = v.magnitude
    if m == 0 { out.append(0x30); return }
    var tmp: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
              UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    var n = 0
    withUnsafeMutableBytes(of: &tmp) { t in
        while m > 0 { t[n] = UInt8(m % 10) + 0x30; m /= 10; n += 1 }
        while n > 0 { n -= 1; out.append(t[n]) }
    }
}

/// One comma-separated signed decimal integer, accumulated byte by byte (both LOBSTER files).
/// Values are limited to ±(2^63 − 1), symmetric so that negating one (a cancel's size becomes a
/// level's decrement) never overflows; a digit that would leave that range is refused, and the row
/// is counted as a bad number instead of trapping.
@usableFromInline
struct _CSVInteger {
    @usableFromInline var value: Int64 = 0
    @usableFromInline var negative = false
    @usableFromInline var sawDigit = false

    @inlinable init() {}

    /// Takes a digit, or a minus before any digit; false for any other byte.
    @inlinable @inline(__always)
    mutating func consume(_ c: UInt8) -> Bool {
        if c >= 0x30 && c <= 0x39 {
            sawDigit = true
            let (shifted, o1) = value.multipliedReportingOverflow(by: 10)
            let (next, o2) = shifted.addingReportingOverflow(Int64(c &- 0x30))
            guard !o1 && !o2 else { return false }  // beyond 2^63 - 1: not a LOBSTER number
            value = next
            return true
        }
        if c == 0x2D, !sawDigit, !negative {
            negative = true
            return true
        }
        return false
    }

    /// The field's value and whether it had a digit; starts the next field.
    @inlinable @inline(__always)
    mutating func take() -> (value: Int64, hadDigit: Bool) {
        defer { self = _CSVInteger() }
        return (negative ? -value : value, sawDigit)
    }
}
