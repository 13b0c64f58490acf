/// One reader-table entry as telemetry shows it.
public struct ReaderStatus: Sendable, Codable, Equatable {
    public var ring: String
    /// Generation of the ring this reader is attached to.
    public var ringGeneration: UInt64
    public var entry: Int
    public var name: String
    public var pid: Int32
    public var gating: Bool
    public var start: UInt64
    public var position: UInt64
    /// Messages published but not read yet: cursor - position.
    public var lag: UInt64
    /// Messages lost to laps.
    public var lost: UInt64
    /// Laps (gap reports).
    public var laps: UInt64
    /// Messages read: position - start - lost.
    public var received: UInt64
    public var heartbeatAgeSeconds: Double
    /// The reader's process exists and its entry is still active.
    public var alive: Bool
    /// "live", or "dead" (process gone, or entry reclaimed since an earlier snapshot).
    public var state: String
}
