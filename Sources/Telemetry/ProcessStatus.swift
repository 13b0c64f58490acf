/// CPU time and resident memory of a process on the bus, from /proc/PID/stat.
public struct ProcessStatus: Sendable, Codable, Equatable {
    public var pid: Int32
    /// What the process does on this bus: `producer:market`, `reader:market/tap-1`, `strategy:alpha`.
    public var roles: [String]
    public var cpuSeconds: Double
    public var residentBytes: UInt64
}
