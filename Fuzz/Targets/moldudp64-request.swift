// fuzz-modules: TickBusCore Book Feed
// The retransmission-request decoder of `tickbus republish`'s request server
// (`MoldUDP64.decodeRequest`): a request it accepts is exactly a 20-byte header with a sequence
// from 1 and a count of 1...0xFFFE whose end does not overflow, and re-encodes to the same bytes.
//
// Input: one datagram.
import TickBusCore

@testable import Feed

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMoldUDP64Request(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    switch MoldUDP64.decodeRequest(UnsafeRawPointer(data), length: size) {
    case .success(let r):
        precondition(size == MoldUDP64.headerSize, "a request of \(size) bytes was accepted")
        precondition(r.sequence >= 1 && r.count >= 1 && r.count != 0xFFFF, "a bad range was accepted")
        precondition(!r.sequence.addingReportingOverflow(UInt64(r.count)).overflow, "an overflowing end was accepted")
        var out = [UInt8](repeating: 0, count: MoldUDP64.headerSize)
        out.withUnsafeMutableBytes {
            MoldUDP64.writeHeader(
                $0.baseAddress!,
                session: (r.session, r.sessionTail),
                sequence: r.sequence,
                count: r.count
            )
        }
        for i in 0..<MoldUDP64.headerSize { precondition(out[i] == data[i], "re-encoded request differs at byte \(i)") }
    case .failure(let e):
        _ = e.description
    }
    return 0
}
