// Sends a fuzz input of MoldUDP64 datagrams (each a 2-byte big-endian length and its bytes; at
// most 64) from `sender` to the UDP socket `receiver` is bound to, calling `each` on every datagram.
#if canImport(Glibc)
import Glibc
#endif

enum MoldPackets {
    static func send(
        _ data: UnsafePointer<UInt8>,
        _ size: Int,
        from sender: Int32,
        to receiver: Int32,
        each: (UnsafeRawPointer, Int) -> Void = { _, _ in }
    ) {
        var to = sockaddr_in()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &to) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(receiver, $0, &len) }
        }
        var at = 0
        var packets = 0
        while at + 2 <= size, packets < 64 {
            let n = Int(data[at]) << 8 | Int(data[at + 1])
            let start = at + 2
            let count = min(n, size - start)
            at = start + count
            packets += 1
            each(UnsafeRawPointer(data + start), count)
            _ = withUnsafePointer(to: &to) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(sender, data + start, count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
    }
}
