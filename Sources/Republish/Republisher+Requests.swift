import CTickBus
import Feed
import Journal
import TickBusCore

#if canImport(Glibc)
import Glibc
#endif

/// Retransmitted messages per second, with a burst: refilled from the monotonic clock (a rate
/// limit only; never data).
struct TokenBucket {
    let rate: Double
    let burst: Double
    var tokens: Double
    var last: UInt64

    init(rate: Double, burst: Double) {
        self.rate = rate
        self.burst = burst
        tokens = burst
        last = tb_monotonic_ns()
    }

    /// Takes up to `wanted` tokens (at least `minimum` must be there); returns how many were taken.
    mutating func take(_ wanted: Int, minimum: Int, now: UInt64) -> Int {
        tokens = min(burst, tokens + Double(now &- last) / 1e9 * rate)
        last = now
        guard tokens >= Double(minimum) else { return 0 }
        let n = min(wanted, Int(tokens))
        tokens -= Double(max(n, minimum))
        return n
    }
}

extension Republisher {
    /// A request costs at least this many messages of the rate limit, so a flood of one-message
    /// requests is limited too.
    static let requestCost = 16

    /// Answers every request waiting on the request socket (non-blocking), each rate-limited.
    mutating func serveRequests() {
        var budget = 64  // requests per call, so a flood cannot stall the live stream
        while budget > 0 {
            budget -= 1
            var from = sockaddr_in()
            var len = socklen_t(MemoryLayout<sockaddr_in>.size)
            let n = withUnsafeMutablePointer(to: &from) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    recvfrom(requestSocket, answer, 65_536, 0, $0, &len)
                }
            }
            if n < 0 { return }
            stats.requests &+= 1
            let request: MoldUDP64.Request
            switch MoldUDP64.decodeRequest(UnsafeRawPointer(answer), length: n) {
            case .success(let r): request = r
            case .failure:
                stats.badRequests &+= 1
                continue
            }
            guard request.session == session.0, request.sessionTail == session.1 else {
                stats.otherSessionRequests &+= 1
                continue
            }
            // Only what was sent can be asked for; the rest of the range is ignored.
            let end = min(request.end, nextSequence)
            guard request.sequence < end else { continue }
            let wanted = min(Int(end - request.sequence), options.maxPerRequest)
            let granted = bucket.take(wanted, minimum: Self.requestCost, now: tb_monotonic_ns())
            guard granted > 0 else {
                stats.limited &+= 1
                continue
            }
            answer(from: request.sequence, count: granted, to: from)
        }
    }

    /// Sends sequences `first ..< first + count` to `to`: from the window, else from the journal,
    /// else one unavailable block per run of missing sequences.
    mutating func answer(from first: UInt64, count: Int, to: sockaddr_in) {
        var builder = AnswerBuilder(buffer: answer, maxPacket: options.maxPacket, session: session)
        var journal: JournalCursor? = nil
        var missingFrom: UInt64 = 0
        var missing: UInt64 = 0
        var seq = first
        let end = first &+ UInt64(count)
        while seq < end {
            var found = window.block(seq)
            var fromJournal = false
            if found == nil, options.format == .tickbus, let dir = options.journal {
                if journal == nil { journal = JournalCursor(directory: dir, ring: options.ring) }
                found = journal?.record(ringSequence: seq &- 1)
                fromJournal = found != nil
            }
            if let (p, n) = found {
                if missing > 0 {
                    builder.unavailable(from: missingFrom, count: missing, socket: requestSocket, to: to)
                    stats.unavailable &+= missing
                    missing = 0
                }
                builder.block(seq, p, n, socket: requestSocket, to: to)
                stats.retransmitted &+= 1
                if fromJournal { stats.fromJournal &+= 1 }
            } else {
                if missing == 0 { missingFrom = seq }
                missing &+= 1
            }
            seq &+= 1
        }
        if missing > 0 {
            builder.unavailable(from: missingFrom, count: missing, socket: requestSocket, to: to)
            stats.unavailable &+= missing
        }
        builder.flush(socket: requestSocket, to: to)
        stats.sendFailures &+= builder.failures
    }
}

/// Builds the answer packets of one request (the same framing as the live stream).
///
/// Invariant: `buffer` is the republisher's 65,536-byte answer buffer, used by one request at a time.
struct AnswerBuilder {
    let buffer: UnsafeMutableRawPointer
    let maxPacket: Int
    let session: (UInt64, UInt16)
    var length = MoldUDP64.headerSize
    var count = 0
    var first: UInt64 = 0
    var failures: UInt64 = 0

    init(buffer: UnsafeMutableRawPointer, maxPacket: Int, session: (UInt64, UInt16)) {
        self.buffer = buffer
        self.maxPacket = maxPacket
        self.session = session
    }

    mutating func block(_ seq: UInt64, _ p: UnsafeRawPointer, _ n: Int, socket: Int32, to: sockaddr_in) {
        if count > 0 && (length + 2 + n > maxPacket || first &+ UInt64(count) != seq) { flush(socket: socket, to: to) }
        if count == 0 { first = seq }
        // Safe: length + 2 + n <= maxPacket <= 65,507 (a block is at most 64 bytes).
        buffer.storeBytes(of: UInt16(n).bigEndian, toByteOffset: length, as: UInt16.self)
        (buffer + length + 2).copyMemory(from: p, byteCount: n)
        length += 2 + n
        count += 1
    }

    /// One packet of one tickbus gap block flagged unavailable: sequences `from ..< from + count`
    /// are gone from the window and the journal.
    mutating func unavailable(from seq: UInt64, count n: UInt64, socket: Int32, to: sockaddr_in) {
        flush(socket: socket, to: to)
        var slot = (UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        withUnsafeMutableBytes(of: &slot) { b in
            // Safe: 64 bytes of stack.
            MoldUDP64.writeUnavailableBlock(b.baseAddress!, sequence: seq, count: n)
            block(seq, UnsafeRawPointer(b.baseAddress!), MoldUDP64.tickbusBlock, socket: socket, to: to)
        }
        flush(socket: socket, to: to)
    }

    mutating func flush(socket: Int32, to: sockaddr_in) {
        guard count > 0 else { return }
        MoldUDP64.writeHeader(buffer, session: session, sequence: first, count: UInt16(count))
        if !Republisher.send(socket, buffer, length, to: to) { failures &+= 1 }
        length = MoldUDP64.headerSize
        count = 0
    }
}

/// Reads records of a ring's journal forward for one request (opened once per request, seeking
/// by the journal's index). The recorder may still be writing it: what it has written so far is read.
struct JournalCursor {
    let reader: JournalReader?
    var positioned = false
    /// A record read past the sequence asked for (valid until the reader's next `next`).
    var held: (UnsafeRawPointer, UInt64)?

    init(directory: String, ring: String) {
        reader = try? JournalReader(directory: directory, ring: ring)
    }

    /// The 64-byte record of ring sequence `s` (asked in increasing order), or nil when the journal
    /// does not hold it (a gap record, before its start, not written yet).
    mutating func record(ringSequence s: UInt64) -> (UnsafeRawPointer, Int)? {
        guard let reader, reader.slotSize == MoldUDP64.tickbusBlock else { return nil }
        if let (p, w) = held {
            if w == s {
                held = nil
                return (p, MoldUDP64.tickbusBlock)
            }
            if w > s { return nil }
            held = nil
        }
        if !positioned {
            reader.seek(sequence: s)
            positioned = true
        }
        while let e = reader.next() {
            switch e {
            case .record(let p):
                let w = UInt64(littleEndian: p.load(as: UInt64.self))
                if w == s { return (p, MoldUDP64.tickbusBlock) }
                if w > s {
                    held = (p, w)
                    return nil
                }
            case .gap(let from, let count):
                if from &+ count > s { return nil }
            }
        }
        return nil
    }
}
