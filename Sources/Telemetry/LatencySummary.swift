import TickBusCore

/// Latency summary of a histogram (nanoseconds).
public struct LatencySummary: Sendable, Codable, Equatable {
    public var count: UInt64
    public var sumNs: UInt64
    public var minNs: UInt64
    public var maxNs: UInt64
    public var p50Ns: UInt64
    public var p99Ns: UInt64
    public var p999Ns: UInt64

    public init(_ h: LatencyHistogram) {
        count = h.count
        sumNs = h.sumNs
        minNs = h.minNs
        maxNs = h.maxNs
        p50Ns = h.percentile(50)
        p99Ns = h.percentile(99)
        p999Ns = h.percentile(99.9)
    }
}
