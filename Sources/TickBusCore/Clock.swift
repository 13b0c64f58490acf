import CTickBus

/// Clocks. Features and models never read these: they read exchange time from messages, so a
/// replay reproduces decisions bit for bit. Clocks stamp receive and publish times only.
public enum Clock {
    /// CLOCK_MONOTONIC in ns: one clock for every process on the machine (vDSO, no syscall).
    @inlinable public static func monotonicNs() -> UInt64 { tb_monotonic_ns() }
    /// CLOCK_REALTIME in ns since the epoch.
    @inlinable public static func realtimeNs() -> UInt64 { tb_realtime_ns() }
}
