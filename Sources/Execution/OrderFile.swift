import TickBusCore

/// An own-order file (`tickbus sim --orders`, Docs/EXECUTION.md "orders.csv"): a header
/// `id,time_ns,action,instrument,side,price,qty,tif`, then one action per line. A `new` line
/// names every field; a `cancel` line names the id of the order it cancels and the time it is
/// sent, and may leave the other fields empty (they are ignored).
///
/// The file is untrusted: a line that cannot be taken as it is written is refused (an
/// `OrderFileError` naming the line and what was wrong) and the rest is kept. No integer of the
/// file traps, and nothing is allocated from a count the file gives (only per line read).
public struct OrderFile: Sendable {
    /// The header line, exactly (a trailing CR is allowed).
    public static let header = "id,time_ns,action,instrument,side,price,qty,tif"
    /// The number of comma-separated fields on every line.
    public static let fieldCount = 8
    /// Times (and so arrivals, with a latency of at most `maxTime` too) stay below 2^62 ns
    /// (146 years), so `time + latency` never overflows.
    public static let maxTime: Int64 = 1 << 62

    /// The accepted actions, stable-sorted by `sentTime` (file order within a time).
    public var actions: [OwnAction]
    /// The 1-based line of each of `actions` (parallel array).
    public var actionLines: [Int]
    /// The line of every accepted `new`, by order id (what the simulator reports names the order
    /// by id; the CLI names the line).
    public var newOrderLines: [UInt64: Int]
    /// The lines refused, in file order.
    public var refusals: [OrderFileError]

    /// The line of order `id`'s `new`, if the file had one that was accepted.
    public func line(ofOrder id: UInt64) -> Int? { newOrderLines[id] }

    /// Parses the file's bytes.
    /// - Throws: `OrderFileError` (line 1) when the first line is not `header`: without it the
    ///   columns cannot be trusted, so nothing runs.
    public static func parse(_ bytes: UnsafeRawBufferPointer) throws(OrderFileError) -> OrderFile {
        var lines = _Lines(bytes)
        guard let first = lines.next() else { throw OrderFileError(line: 1, problem: .header(found: "")) }
        guard _equals(first.text, header) else {
            throw OrderFileError(line: 1, problem: .header(found: _clip(first.text)))
        }
        var parsed: [(action: OwnAction, line: Int)] = []
        var refusals: [OrderFileError] = []
        // The line of every `new` seen (accepted or refused), to tell a duplicate id and to
        // name a refused order in a cancel that refers to it.
        var newLines: [UInt64: (line: Int, accepted: Bool)] = [:]
        var cancels: [(action: OwnAction, line: Int)] = []
        while let l = lines.next() {
            if _isBlank(l.text) { continue }
            switch _parseLine(l.text) {
            case .failure(let problem):
                refusals.append(OrderFileError(line: l.number, problem: problem))
                // A refused `new` still owns its id when the id itself was readable.
                if let id = _idOfNew(l.text), newLines[id] == nil {
                    newLines[id] = (l.number, false)
                }
            case .success(let action):
                if action.kind == .cancel {
                    cancels.append((action, l.number))
                    continue
                }
                if let previous = newLines[action.orderId] {
                    refusals.append(
                        OrderFileError(
                            line: l.number,
                            problem: .duplicateId(action.orderId, firstLine: previous.line)
                        )
                    )
                    continue
                }
                newLines[action.orderId] = (l.number, true)
                parsed.append((action, l.number))
            }
        }
        // Cancels are checked once every `new` is known: a cancel may come before its order in
        // the file (and be sent before it: the simulator then rejects it at arrival).
        var byId: [UInt64: OwnAction] = [:]
        for p in parsed { byId[p.action.orderId] = p.action }
        for c in cancels {
            guard let target = newLines[c.action.orderId] else {
                refusals.append(OrderFileError(line: c.line, problem: .cancelOfUnknownOrder(c.action.orderId)))
                continue
            }
            guard target.accepted, let order = byId[c.action.orderId] else {
                refusals.append(
                    OrderFileError(
                        line: c.line,
                        problem: .cancelOfRefusedOrder(c.action.orderId, line: target.line)
                    )
                )
                continue
            }
            var cancel = c.action
            cancel.instrument = order.instrument
            cancel.side = order.side
            cancel.price = order.price
            parsed.append((cancel, c.line))
        }
        refusals.sort { $0.line < $1.line }
        // Stable by construction: ties on time are broken by the line.
        parsed.sort { ($0.action.sentTime, $0.line) < ($1.action.sentTime, $1.line) }
        var file = OrderFile(actions: [], actionLines: [], newOrderLines: [:], refusals: refusals)
        file.actions.reserveCapacity(parsed.count)
        file.actionLines.reserveCapacity(parsed.count)
        for p in parsed {
            file.actions.append(p.action)
            file.actionLines.append(p.line)
            if p.action.kind == .new { file.newOrderLines[p.action.orderId] = p.line }
        }
        return file
    }

    /// Parses a file held in an array (tests, fuzzing).
    public static func parse(_ bytes: [UInt8]) throws(OrderFileError) -> OrderFile {
        let result = bytes.withUnsafeBytes { b in Result { () throws(OrderFileError) in try parse(b) } }
        return try result.get()
    }
}

/// A refused line of an order file: its 1-based number and what was wrong.
public struct OrderFileError: Error, Equatable, Sendable, CustomStringConvertible {
    public var line: Int
    public var problem: Problem

    public init(line: Int, problem: Problem) {
        self.line = line
        self.problem = problem
    }

    /// What was wrong with a line. Texts quoted from the file are cut at 40 bytes.
    public enum Problem: Error, Equatable, Sendable {
        /// The first line is not `OrderFile.header` (what it was instead).
        case header(found: String)
        /// Not `OrderFile.fieldCount` comma-separated fields (how many there were).
        case fieldCount(Int)
        /// A field that must be a decimal integer (in range) is not: the field's name and text.
        case notInteger(field: String, text: String)
        /// A field out of its range: the field's name, its text and the range allowed.
        case outOfRange(field: String, text: String, range: String)
        case unknownAction(String)
        case unknownSide(String)
        case unknownTimeInForce(String)
        case zeroQuantity
        case negativeQuantity(Int64)
        /// Price zero or negative.
        case nonPositivePrice(Int64)
        /// Off the Reg NMS rule 612 grid (`TickGrid.isValid`).
        case offTickGrid(Int64)
        /// A `new` whose id an earlier `new` has (the line of the first).
        case duplicateId(UInt64, firstLine: Int)
        /// A cancel naming an id no `new` of the file has.
        case cancelOfUnknownOrder(UInt64)
        /// A cancel naming an order whose own line was refused (that line).
        case cancelOfRefusedOrder(UInt64, line: Int)
    }

    public var description: String {
        let what: String
        switch problem {
        case .header(let found):
            what = "the header must be '\(OrderFile.header)', found '\(found)'"
        case .fieldCount(let n): what = "\(n) fields, expected \(OrderFile.fieldCount) (\(OrderFile.header))"
        case .notInteger(let field, let text): what = "\(field) '\(text)' is not a decimal integer"
        case .outOfRange(let field, let text, let range): what = "\(field) \(text) is out of range (\(range))"
        case .unknownAction(let s): what = "action '\(s)' is neither new nor cancel"
        case .unknownSide(let s): what = "side '\(s)' is neither B nor S"
        case .unknownTimeInForce(let s): what = "tif '\(s)' is neither DAY nor IOC"
        case .zeroQuantity: what = "qty is zero"
        case .negativeQuantity(let q): what = "qty \(q) is negative"
        case .nonPositivePrice(let p): what = "price \(p) is not positive"
        case .offTickGrid(let p):
            what =
                "price \(p) (1e-4) is off the tick grid (Reg NMS rule 612: $0.01 at or above $1.00, $0.0001 below)"
        case .duplicateId(let id, let first): what = "order id \(id) is already used by line \(first)"
        case .cancelOfUnknownOrder(let id): what = "cancel of order \(id), which no new line of the file has"
        case .cancelOfRefusedOrder(let id, let l): what = "cancel of order \(id), whose line \(l) was refused"
        }
        return "orders line \(line): \(what)"
    }
}

// MARK: Line and field scanning (bytes, no String per field)

/// One line of the file: its 1-based number and its bytes without the newline (and a trailing CR).
private struct _Line {
    var number: Int
    var text: UnsafeRawBufferPointer
}

/// The lines of a buffer. Invariant: `offset <= bytes.count`.
private struct _Lines {
    let bytes: UnsafeRawBufferPointer
    var offset = 0
    var number = 0
    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    mutating func next() -> _Line? {
        guard offset < bytes.count else { return nil }
        var end = offset
        while end < bytes.count && bytes[end] != 0x0A { end += 1 }
        var stop = end
        if stop > offset && bytes[stop - 1] == 0x0D { stop -= 1 }
        // Safe: offset <= stop <= bytes.count, so the slice lies inside the buffer.
        let text = UnsafeRawBufferPointer(rebasing: bytes[offset..<stop])
        offset = end + 1
        number += 1
        return _Line(number: number, text: text)
    }
}

@inline(__always) private func _equals(_ b: UnsafeRawBufferPointer, _ s: String) -> Bool {
    var s = s
    return s.withUTF8 { u in u.count == b.count && zip(u, b).allSatisfy { $0 == $1 } }
}

@inline(__always) private func _isBlank(_ b: UnsafeRawBufferPointer) -> Bool {
    b.allSatisfy { $0 == 0x20 || $0 == 0x09 }
}

/// The text of a field for a message, cut at 40 bytes (a line may be anything).
private func _clip(_ b: UnsafeRawBufferPointer) -> String {
    let cut = b.count > 40 ? UnsafeRawBufferPointer(rebasing: b[0..<40]) : b
    let text = String(decoding: cut, as: UTF8.self)
    return b.count > 40 ? text + "…" : text
}

/// Splits a line at commas into exactly `OrderFile.fieldCount` fields (spaces around a field are
/// dropped), or the count found. The count is checked before anything is kept, so a line of many
/// commas allocates nothing for them.
private func _fields(_ line: UnsafeRawBufferPointer) -> Result<[UnsafeRawBufferPointer], OrderFileError.Problem> {
    var fields: [UnsafeRawBufferPointer] = []
    fields.reserveCapacity(OrderFile.fieldCount)
    var start = 0
    var count = 1
    for i in 0..<line.count where line[i] == 0x2C { count += 1 }
    guard count == OrderFile.fieldCount else { return .failure(.fieldCount(count)) }
    for i in 0...line.count where i == line.count || line[i] == 0x2C {
        var a = start
        var b = i
        while a < b && (line[a] == 0x20 || line[a] == 0x09) { a += 1 }
        while b > a && (line[b - 1] == 0x20 || line[b - 1] == 0x09) { b -= 1 }
        fields.append(UnsafeRawBufferPointer(rebasing: line[a..<b]))
        start = i + 1
    }
    return .success(fields)
}

/// A decimal integer with an optional leading '-', overflow refused (never trapped).
private func _integer(_ b: UnsafeRawBufferPointer) -> Int64?? {
    // nil: not an integer; .some(nil): an integer outside Int64.
    guard !b.isEmpty else { return nil }
    var i = 0
    let negative = b[0] == 0x2D
    if negative || b[0] == 0x2B { i = 1 }
    guard i < b.count else { return nil }
    var v: Int64 = 0
    var overflow = false
    while i < b.count {
        let c = b[i]
        guard c >= 0x30 && c <= 0x39 else { return nil }
        let digit = Int64(c &- 0x30)
        let (m, o1) = v.multipliedReportingOverflow(by: 10)
        let (n, o2) = negative ? m.subtractingReportingOverflow(digit) : m.addingReportingOverflow(digit)
        if o1 || o2 { overflow = true }
        v = n
        i += 1
    }
    return overflow ? .some(nil) : .some(v)
}

/// An unsigned decimal integer below 2^64 (order ids).
private func _unsigned(_ b: UnsafeRawBufferPointer) -> UInt64?? {
    guard !b.isEmpty else { return nil }
    var v: UInt64 = 0
    var overflow = false
    for c in b {
        guard c >= 0x30 && c <= 0x39 else { return nil }
        let (m, o1) = v.multipliedReportingOverflow(by: 10)
        let (n, o2) = m.addingReportingOverflow(UInt64(c &- 0x30))
        if o1 || o2 { overflow = true }
        v = n
    }
    return overflow ? .some(nil) : .some(v)
}

/// The id of a line whose action field is `new` and whose id field reads, for duplicate tracking
/// of refused lines.
private func _idOfNew(_ line: UnsafeRawBufferPointer) -> UInt64? {
    guard case .success(let f) = _fields(line), _equals(f[2], "new"), case .some(.some(let id)) = _unsigned(f[0])
    else { return nil }
    return id
}

private func _parseLine(_ line: UnsafeRawBufferPointer) -> Result<OwnAction, OrderFileError.Problem> {
    let f: [UnsafeRawBufferPointer]
    switch _fields(line) {
    case .failure(let p): return .failure(p)
    case .success(let fields): f = fields
    }
    let id: UInt64
    switch _unsigned(f[0]) {
    case nil: return .failure(.notInteger(field: "id", text: _clip(f[0])))
    case .some(nil): return .failure(.outOfRange(field: "id", text: _clip(f[0]), range: "0...\(UInt64.max)"))
    case .some(.some(let v)): id = v
    }
    let time: Int64
    switch _integer(f[1]) {
    case nil: return .failure(.notInteger(field: "time_ns", text: _clip(f[1])))
    case .some(.some(let v)) where v >= 0 && v < OrderFile.maxTime: time = v
    case .some:
        return .failure(.outOfRange(field: "time_ns", text: _clip(f[1]), range: "0..<\(OrderFile.maxTime)"))
    }
    if _equals(f[2], "cancel") { return .success(.cancel(id: id, at: time)) }
    guard _equals(f[2], "new") else { return .failure(.unknownAction(_clip(f[2]))) }
    let instrument: UInt32
    switch _integer(f[3]) {
    case nil: return .failure(.notInteger(field: "instrument", text: _clip(f[3])))
    case .some(.some(let v)) where v >= 0 && v <= Int64(UInt32.max): instrument = UInt32(v)
    case .some:
        return .failure(.outOfRange(field: "instrument", text: _clip(f[3]), range: "0...\(UInt32.max)"))
    }
    let side: Side
    if _equals(f[4], "B") {
        side = .buy
    } else if _equals(f[4], "S") {
        side = .sell
    } else {
        return .failure(.unknownSide(_clip(f[4])))
    }
    let price: Int64
    switch _integer(f[5]) {
    case nil: return .failure(.notInteger(field: "price", text: _clip(f[5])))
    case .some(nil): return .failure(.outOfRange(field: "price", text: _clip(f[5]), range: "1...\(Int64.max)"))
    case .some(.some(let v)): price = v
    }
    guard price > 0 else { return .failure(.nonPositivePrice(price)) }
    guard TickGrid.isValid(price) else { return .failure(.offTickGrid(price)) }
    let quantity: UInt32
    switch _integer(f[6]) {
    case nil: return .failure(.notInteger(field: "qty", text: _clip(f[6])))
    case .some(.some(let v)) where v == 0: return .failure(.zeroQuantity)
    case .some(.some(let v)) where v < 0: return .failure(.negativeQuantity(v))
    case .some(.some(let v)) where v <= Int64(UInt32.max): quantity = UInt32(v)
    case .some: return .failure(.outOfRange(field: "qty", text: _clip(f[6]), range: "1...\(UInt32.max)"))
    }
    let tif: TimeInForce
    if _equals(f[7], "DAY") {
        tif = .day
    } else if _equals(f[7], "IOC") {
        tif = .ioc
    } else {
        return .failure(.unknownTimeInForce(_clip(f[7])))
    }
    return .success(
        .new(id: id, at: time, instrument: instrument, side: side, price: price, quantity: quantity, tif: tif)
    )
}
