// fuzz-modules: TickBusCore ControlWire
// A control submission frame through the decoder `tickbus control serve` runs on every
// connection (`Submission.bodyLength` on the header, then `Submission.decode`), as a client or
// anything else able to reach the bus's control.sock sends it. The frame has one byte form per
// submission, so an accepted input must re-encode to exactly its own bytes.
import ControlWire
import TickBusCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzControlSubmission(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    _ = try? Submission.bodyLength(header: UnsafeRawBufferPointer(rebasing: bytes.prefix(8)))
    guard let s = try? Submission.decode(bytes) else { return 0 }
    guard let again = try? s.encode(), again.elementsEqual(bytes) else {
        fatalError("fuzz: an accepted submission does not re-encode to its bytes: \(s)")
    }
    return 0
}
