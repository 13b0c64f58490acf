/// One ring (segment) as telemetry shows it.
public struct RingStatus: Sendable, Codable, Equatable {
    public var name: String
    public var schema: String
    public var generation: UInt64
    public var capacity: Int
    public var slotSize: Int
    public var producerPid: Int32
    /// running, closed or dead (state says running but the pid is gone).
    public var producerState: String
    public var producerAlive: Bool
    /// The cursor: messages published in this generation (sequence of the next one).
    public var published: UInt64
    public var heartbeatAgeSeconds: Double
    public var gateWaits: UInt64
    public var readersUngated: UInt64
    public var readersReclaimed: UInt64
    /// Messages per second since the previous snapshot of the same generation (nil on the first).
    public var messagesPerSecond: Double?
    public var readers: [ReaderStatus]
    /// Set when the file could not be read as a segment.
    public var error: String?
}
