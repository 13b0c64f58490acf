import Book
import CFeed
import TickBusCore

#if canImport(Glibc)
import Glibc
#endif

/// Errors of the feed sources; each says what was wrong and where.
public enum FeedError: Error, CustomStringConvertible, Equatable {
    case cannotOpen(path: String, errno: Int32)
    case cannotRead(path: String, reason: String)
    case badArgument(String)
    /// A socket call failed (socket, setsockopt, bind); `context` says what it was for, when the
    /// call alone does not ("cannot join 239.1.1.1:5000").
    case network(SystemCallError, context: String? = nil)

    public var description: String {
        switch self {
        case .cannotOpen(let path, let e): return "cannot open \(path): \(String(cString: strerror(e)))"
        case .cannotRead(let path, let reason): return "cannot read \(path): \(reason)"
        case .badArgument(let s): return s
        case .network(let e, let context): return context.map { "\($0): \(e)" } ?? "\(e)"
        }
    }
}

/// NASDAQ TotalView-ITCH 5.0 message layouts: lengths by type and big-endian field readers.
/// Offsets below are from the type byte (offset 0) of a message body.
public enum ITCH {
    /// Every message type of ITCH 5.0, in the specification's order.
    public static let types: [UInt8] = Array("SRHYLVWKJhAFECXDUPQBIN".utf8)

    /// Length (including the type byte) of each type; 0 for an unknown type.
    public static let lengths: [Int] = {
        var t = [Int](repeating: 0, count: 256)
        let pairs: [(Character, Int)] = [
            ("S", 12), ("R", 39), ("H", 25), ("Y", 20), ("L", 26), ("V", 35), ("W", 12), ("K", 28), ("J", 35),
            ("h", 21),
            ("A", 36), ("F", 40), ("E", 31), ("C", 36), ("X", 23), ("D", 19), ("U", 35), ("P", 44), ("Q", 40),
            ("B", 19),
            ("I", 50), ("N", 20),
        ]
        for (c, n) in pairs { t[Int(c.asciiValue!)] = n }
        return t
    }()

    /// The largest valid ITCH price (Price(4) fields): $199,999.9999.
    public static let maxPrice: UInt32 = 1_999_999_999

    @inlinable @inline(__always) public static func u16(_ p: UnsafeRawPointer, _ o: Int) -> UInt16 {
        UInt16(bigEndian: p.loadUnaligned(fromByteOffset: o, as: UInt16.self))
    }
    @inlinable @inline(__always) public static func u32(_ p: UnsafeRawPointer, _ o: Int) -> UInt32 {
        UInt32(bigEndian: p.loadUnaligned(fromByteOffset: o, as: UInt32.self))
    }
    @inlinable @inline(__always) public static func u64(_ p: UnsafeRawPointer, _ o: Int) -> UInt64 {
        UInt64(bigEndian: p.loadUnaligned(fromByteOffset: o, as: UInt64.self))
    }
    /// The 6-byte timestamp at offset 5: nanoseconds since midnight.
    @inlinable @inline(__always) public static func timestamp(_ p: UnsafeRawPointer) -> Int64 {
        Int64(u16(p, 5)) << 32 | Int64(u32(p, 7))
    }
    /// An 8-byte space-padded ASCII field as a little-endian word (the directory payload layout).
    @inlinable @inline(__always) public static func symbolWord(_ p: UnsafeRawPointer, _ o: Int) -> UInt64 {
        p.loadUnaligned(fromByteOffset: o, as: UInt64.self)
    }

    /// A symbol word back to text (trailing spaces dropped).
    public static func symbol(_ word: UInt64) -> String {
        var bytes: [UInt8] = []
        for i in 0..<8 {
            let b = UInt8(truncatingIfNeeded: word >> (8 * UInt64(i)))
            if b != 0x20 && b != 0 { bytes.append(b) }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Kinds of malformed input, as counted in `FeedReport.malformed`.
    public enum Malformed {
        public static let length = "length disagrees with type"
        public static let unknownType = "unknown type"
        /// A length prefix running past the end of the data: nothing after it can be framed, so
        /// the source stops there and says so (`FeedReport.stoppedEarly`).
        public static let truncated = "truncated tail"
        /// A frame whose length prefix is 0: it holds no message; its two bytes are skipped and
        /// the next frame follows (the framing is still intact).
        public static let zeroLength = "zero length"
        public static let price = "price out of range"
        public static let side = "side out of range"
    }
}

/// A whole input file in memory: memory-mapped when plain, inflated through zlib when gzip.
/// Invariant: `base` points at `count` readable bytes until deinit (munmap or free).
public final class _InputFile {
    public let base: UnsafeRawPointer
    public let count: Int
    let mapped: Bool

    public init(path: String) throws(FeedError) {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw .cannotOpen(path: path, errno: errno) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw .cannotOpen(path: path, errno: errno) }
        var magic: (UInt8, UInt8) = (0, 0)
        let got = withUnsafeMutableBytes(of: &magic) { pread(fd, $0.baseAddress, 2, 0) }
        if got == 2 && magic.0 == 0x1F && magic.1 == 0x8B {
            var out: UnsafeMutablePointer<UInt8>?
            var length = 0
            guard tb_gunzip_file(path, &out, &length) == 0, let out else {
                throw .cannotRead(path: path, reason: "gzip stream is corrupt or truncated")
            }
            base = UnsafeRawPointer(out)
            count = length
            mapped = false
            return
        }
        count = Int(st.st_size)
        if count == 0 {
            base = UnsafeRawPointer(malloc(1)!)  // freed with free() in deinit, like the gzip buffer
            mapped = false
            return
        }
        guard let m = mmap(nil, count, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0), m != MAP_FAILED else {
            throw .cannotOpen(path: path, errno: errno)
        }
        madvise(m, count, MADV_SEQUENTIAL)
        base = UnsafeRawPointer(m)
        mapped = true
    }

    deinit {
        if mapped {
            munmap(UnsafeMutableRawPointer(mutating: base), count)
        } else {
            tb_feed_free(UnsafeMutableRawPointer(mutating: base))
        }
    }
}

/// Per-type counts and per-locate symbols of an ITCH source, outside the struct so the hot path
/// updates them without copy-on-write checks. Invariant: `counts` holds 256 and `symbols` 65,536
/// initialised words until deinit.
public final class _ITCHTables {
    public let counts: UnsafeMutablePointer<UInt64>
    public let symbols: UnsafeMutablePointer<UInt64>
    init() {
        counts = .allocate(capacity: 256)
        counts.initialize(repeating: 0, count: 256)
        symbols = .allocate(capacity: 65_536)
        symbols.initialize(repeating: 0, count: 65_536)
    }
    /// Back to what `init` makes, for a source reusing these tables.
    func clear() {
        counts.update(repeating: 0, count: 256)
        symbols.update(repeating: 0, count: 65_536)
    }
    deinit {
        counts.deallocate()
        symbols.deallocate()
    }
}

/// Reads ITCH 5.0 messages from a buffer of 2-byte big-endian length-prefixed messages (NASDAQ's
/// BinaryFILE framing), keeps the order books, and yields normalised ring messages: the event,
/// then a top-of-book when the best bid or ask changed. Malformed messages are counted by kind and
/// skipped; unknown references are counted and skipped.
///
/// Mapping: R → directory (instrument = stock locate), S and H → status (S on instrument 0, state =
/// event code), A/F → add, E → execute (price and side from the book), C → execute with
/// `MarketFlags.executionPrice`, X → cancel, D → delete, U → replace, P → trade, Q → trade with
/// `MarketFlags.cross`. Y, L, V, W, K, J, h, B, I, N are parsed and counted but not published.
public struct ITCHSource: MarketSource {
    @usableFromInline let file: _InputFile?
    @usableFromInline let base: UnsafeRawPointer
    @usableFromInline let end: Int
    @usableFromInline var offset: Int
    /// The books the source keeps (public so tools can dump them after the run).
    public let books: OrderBooks
    @usableFromInline let tables: _ITCHTables
    /// Messages of each type byte (valid messages only).
    public var counts: [UInt64] { Array(UnsafeBufferPointer(start: tables.counts, count: 256)) }
    /// Symbol word per stock locate (from R, else from the first A/F/P/Q seen).
    public var symbols: [UInt64] { Array(UnsafeBufferPointer(start: tables.symbols, count: 65_536)) }
    @usableFromInline var pending: MarketMessage?
    public var report = FeedReport()

    public init(path: String, books: OrderBooks = OrderBooks()) throws(FeedError) {
        let f = try _InputFile(path: path)
        self.init(file: f, base: f.base, count: f.count, books: books)
    }

    /// Reads from memory the caller keeps alive for the life of the source.
    public init(unowned base: UnsafeRawPointer, count: Int, books: OrderBooks = OrderBooks()) {
        self.init(file: nil, base: base, count: count, books: books)
    }

    init(file: _InputFile?, base: UnsafeRawPointer, count: Int, books: OrderBooks, tables: _ITCHTables = _ITCHTables())
    {
        self.file = file
        self.base = base
        self.end = count
        self.offset = 0
        self.books = books
        self.tables = tables
    }

    /// A source over new memory that reuses `tables`, cleared (the fuzz harnesses: thousands of
    /// inputs a second, where allocating and zeroing a 512 KiB symbol table per input cost more
    /// than the input). `tables` must not be shared with a source still in use.
    init(unowned base: UnsafeRawPointer, count: Int, books: OrderBooks, reusing tables: _ITCHTables) {
        tables.clear()
        self.init(file: nil, base: base, count: count, books: books, tables: tables)
    }

    /// Unknown order references seen so far.
    public var unknownReferences: UInt64 { books.unknownReferences }

    public mutating func next() -> MarketMessage? {
        if let p = pending {
            pending = nil
            return p
        }
        while offset < end {
            let at = offset
            // A length prefix (or its second byte) running past the end: the one truncated tail.
            guard at &+ 2 <= end, Int(ITCH.u16(base, at)) <= end &- at &- 2 else {
                report.malformed(ITCH.Malformed.truncated, at: at)
                report.stoppedEarly = true
                offset = end
                break
            }
            let length = Int(ITCH.u16(base, at))
            offset = at &+ 2 &+ length
            // A zero-length frame is malformed but the framing goes on: skip its two bytes.
            guard length > 0 else {
                report.malformed(ITCH.Malformed.zeroLength, at: at)
                continue
            }
            let p = base + at + 2  // Safe: at + 2 + length <= end and length >= 1.
            let type = p.load(as: UInt8.self)
            let expected = ITCH._lengthOf(type)
            guard expected != 0 else {
                report.malformed(ITCH.Malformed.unknownType, at: at)
                continue
            }
            guard expected == length else {
                report.malformed(ITCH.Malformed.length, at: at)
                continue
            }
            if let m = decode(p, type, at) {
                tables.counts[Int(type)] &+= 1
                report.messagesIn &+= 1
                if m.1 { pending = books.topMessage(instrument: m.0.instrument, exchangeTime: m.0.exchangeTime) }
                return m.0
            }
        }
        report.unknownReferences = books.unknownReferences
        return nil
    }

    /// Counts a message that publishes nothing (a type with no ring kind, or an order the book
    /// does not know: counted in `unknownReferences` by the book).
    @usableFromInline @inline(__always)
    mutating func countedOnly(_ type: UInt8) -> (MarketMessage, Bool)? {
        tables.counts[Int(type)] &+= 1
        report.messagesIn &+= 1
        return nil
    }

    /// Decodes one message of a known type and correct length. Returns nil when nothing is to be
    /// published (counted types that have no ring kind are counted here; malformed ones are not).
    @usableFromInline @_transparent
    mutating func decode(_ p: UnsafeRawPointer, _ type: UInt8, _ at: Int) -> (MarketMessage, Bool)? {
        let locate = UInt32(ITCH.u16(p, 1))
        let time = ITCH.timestamp(p)
        switch type {
        case 0x41, 0x46:  // A, F: add order
            let sideByte = p.load(fromByteOffset: 19, as: UInt8.self)
            guard let side = Side(rawValue: sideByte) else {
                report.malformed(ITCH.Malformed.side, at: at)
                return nil
            }
            let price = ITCH.u32(p, 32)
            guard price <= ITCH.maxPrice else {
                report.malformed(ITCH.Malformed.price, at: at)
                return nil
            }
            let ref = ITCH.u64(p, 11)
            let shares = ITCH.u32(p, 20)
            if tables.symbols[Int(locate)] == 0 { tables.symbols[Int(locate)] = ITCH.symbolWord(p, 24) }
            let changed = books.add(instrument: locate, orderId: ref, side: side, price: Int64(price), shares: shares)
            return (
                .orderEvent(
                    .add,
                    instrument: locate,
                    exchangeTime: time,
                    orderId: ref,
                    price: Int64(price),
                    quantity: shares,
                    side: side
                ), changed
            )
        case 0x45:  // E: executed
            let ref = ITCH.u64(p, 11)
            let shares = ITCH.u32(p, 19)
            guard let r = books.reduce(orderId: ref, shares: shares) else {
                return countedOnly(type)
            }
            return (
                .orderEvent(
                    .execute,
                    instrument: locate,
                    exchangeTime: time,
                    orderId: ref,
                    price: r.info.price,
                    quantity: shares,
                    side: r.info.side,
                    match: ITCH.u64(p, 23)
                ), r.topChanged
            )
        case 0x43:  // C: executed with price
            let price = ITCH.u32(p, 32)
            guard price <= ITCH.maxPrice else {
                report.malformed(ITCH.Malformed.price, at: at)
                return nil
            }
            let ref = ITCH.u64(p, 11)
            let shares = ITCH.u32(p, 19)
            guard let r = books.reduce(orderId: ref, shares: shares) else {
                return countedOnly(type)
            }
            var m = MarketMessage.orderEvent(
                .execute,
                instrument: locate,
                exchangeTime: time,
                orderId: ref,
                price: Int64(price),
                quantity: shares,
                side: r.info.side,
                match: ITCH.u64(p, 23)
            )
            m.flags = MarketFlags.executionPrice
            return (m, r.topChanged)
        case 0x58:  // X: cancel
            let ref = ITCH.u64(p, 11)
            let shares = ITCH.u32(p, 19)
            guard let r = books.reduce(orderId: ref, shares: shares) else {
                return countedOnly(type)
            }
            return (
                .orderEvent(
                    .cancel,
                    instrument: locate,
                    exchangeTime: time,
                    orderId: ref,
                    price: r.info.price,
                    quantity: shares,
                    side: r.info.side
                ), r.topChanged
            )
        case 0x44:  // D: delete
            let ref = ITCH.u64(p, 11)
            guard let r = books.delete(orderId: ref) else {
                return countedOnly(type)
            }
            return (
                .orderEvent(
                    .delete,
                    instrument: locate,
                    exchangeTime: time,
                    orderId: ref,
                    price: r.info.price,
                    quantity: r.info.remaining,
                    side: r.info.side
                ), r.topChanged
            )
        case 0x55:  // U: replace
            let price = ITCH.u32(p, 31)
            guard price <= ITCH.maxPrice else {
                report.malformed(ITCH.Malformed.price, at: at)
                return nil
            }
            let old = ITCH.u64(p, 11)
            let new = ITCH.u64(p, 19)
            let shares = ITCH.u32(p, 27)
            guard let r = books.replace(oldOrderId: old, newOrderId: new, price: Int64(price), shares: shares) else {
                return countedOnly(type)
            }
            return (
                .replace(
                    instrument: locate,
                    exchangeTime: time,
                    oldOrderId: old,
                    newOrderId: new,
                    price: Int64(price),
                    quantity: shares,
                    side: r.info.side
                ), r.topChanged
            )
        case 0x50:  // P: trade (non-cross)
            let sideByte = p.load(fromByteOffset: 19, as: UInt8.self)
            guard let side = Side(rawValue: sideByte) else {
                report.malformed(ITCH.Malformed.side, at: at)
                return nil
            }
            let price = ITCH.u32(p, 32)
            guard price <= ITCH.maxPrice else {
                report.malformed(ITCH.Malformed.price, at: at)
                return nil
            }
            if tables.symbols[Int(locate)] == 0 { tables.symbols[Int(locate)] = ITCH.symbolWord(p, 24) }
            return (
                .orderEvent(
                    .trade,
                    instrument: locate,
                    exchangeTime: time,
                    orderId: ITCH.u64(p, 11),
                    price: Int64(price),
                    quantity: ITCH.u32(p, 20),
                    side: side,
                    match: ITCH.u64(p, 36)
                ), false
            )
        case 0x51:  // Q: cross trade
            let price = ITCH.u32(p, 27)
            guard price <= ITCH.maxPrice else {
                report.malformed(ITCH.Malformed.price, at: at)
                return nil
            }
            if tables.symbols[Int(locate)] == 0 { tables.symbols[Int(locate)] = ITCH.symbolWord(p, 19) }
            var m = MarketMessage.orderEvent(
                .trade,
                instrument: locate,
                exchangeTime: time,
                orderId: 0,
                price: Int64(price),
                quantity: UInt32(clamping: ITCH.u64(p, 11)),
                side: .buy,
                match: ITCH.u64(p, 31)
            )
            m.flags = MarketFlags.cross
            return (m, false)
        case 0x52:  // R: stock directory
            let word = ITCH.symbolWord(p, 11)
            tables.symbols[Int(locate)] = word
            let lot = ITCH.u32(p, 21)
            let category = p.load(fromByteOffset: 19, as: UInt8.self)
            let financial = p.load(fromByteOffset: 20, as: UInt8.self)
            return (
                MarketMessage(
                    kind: .directory,
                    instrument: locate,
                    exchangeTime: time,
                    payload: (word, UInt64(lot) | UInt64(category) << 32 | UInt64(financial) << 40, 0, 0)
                ), false
            )
        case 0x53:  // S: system event
            return (
                .status(instrument: 0, exchangeTime: time, state: p.load(fromByteOffset: 11, as: UInt8.self)), false
            )
        case 0x48:  // H: stock trading action
            return (
                .status(
                    instrument: locate,
                    exchangeTime: time,
                    state: p.load(fromByteOffset: 19, as: UInt8.self),
                    reason: UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 21, as: UInt32.self))
                ), false
            )
        default:  // Y L V W K J h B I N: counted, no ring kind.
            return countedOnly(type)
        }
    }

    /// Decodes one message body that arrived outside the file framing (a MoldUDP64 message block):
    /// validates its type and length like the file reader, updates the books and returns the ring
    /// message, if any; a top-of-book that follows is returned by `takePending`. `at` is the offset
    /// reported for malformed input.
    @inlinable
    public mutating func process(_ p: UnsafeRawPointer, length: Int, at: Int) -> MarketMessage? {
        guard length > 0 else {
            report.malformed(ITCH.Malformed.zeroLength, at: at)
            return nil
        }
        let type = p.load(as: UInt8.self)
        let expected = ITCH._lengthOf(type)
        guard expected != 0 else {
            report.malformed(ITCH.Malformed.unknownType, at: at)
            return nil
        }
        guard expected == length else {
            report.malformed(ITCH.Malformed.length, at: at)
            return nil
        }
        guard let m = decode(p, type, at) else { return nil }
        tables.counts[Int(type)] &+= 1
        report.messagesIn &+= 1
        if m.1 { pending = books.topMessage(instrument: m.0.instrument, exchangeTime: m.0.exchangeTime) }
        return m.0
    }

    /// The top-of-book message queued by the last `process`, if any.
    @inlinable
    public mutating func takePending() -> MarketMessage? {
        defer { pending = nil }
        return pending
    }

    /// The symbol of an instrument (its stock locate), or "#locate" when no message named it.
    public func symbol(_ instrument: UInt32) -> String {
        let w = tables.symbols[Int(instrument)]
        return w == 0 ? "#\(instrument)" : ITCH.symbol(w)
    }

    /// Reads the whole input (books and counts), discarding the ring messages.
    public mutating func drain() {
        while next() != nil {}
    }
}

extension ITCH {
    /// Message length by type without touching the `lengths` array (a switch the compiler turns into a table).
    @inlinable @inline(__always)
    public static func _lengthOf(_ type: UInt8) -> Int {
        switch type {
        case 0x53: return 12  // S
        case 0x52: return 39  // R
        case 0x48: return 25  // H
        case 0x59: return 20  // Y
        case 0x4C: return 26  // L
        case 0x56: return 35  // V
        case 0x57: return 12  // W
        case 0x4B: return 28  // K
        case 0x4A: return 35  // J
        case 0x68: return 21  // h
        case 0x41: return 36  // A
        case 0x46: return 40  // F
        case 0x45: return 31  // E
        case 0x43: return 36  // C
        case 0x58: return 23  // X
        case 0x44: return 19  // D
        case 0x55: return 35  // U
        case 0x50: return 44  // P
        case 0x51: return 40  // Q
        case 0x42: return 19  // B
        case 0x49: return 50  // I
        case 0x4E: return 20  // N
        default: return 0
        }
    }
}
