import CTickBus

// Roles, control commands and swap latency in the stats block (layout version 2). The roles are
// written under a seqlock (the roles generation, `StatsLayout`): telemetry in another process
// never combines two states. Everything here is relaxed or release stores into the mapped block:
// no allocation, lock, syscall, retain or release, so a strategy may call it between two market
// messages.
extension StatsWriter {
    /// A control command applied or rejected: counts it (`controlApplied` / `controlRejected`),
    /// stores the roles in force after it and, when applied, `wallTimeNs` as the last swap time.
    /// - Parameters:
    ///   - applied: whether the strategy applied the command (false: it published a rejection).
    ///   - roles: the roles in force after the command (unchanged ones for a rejection).
    ///   - wallTimeNs: ns since the Unix epoch when the command took effect (telemetry shows it as
    ///     the last swap time; it never feeds a model, so determinism is not at stake).
    public func recordControl(applied: Bool, roles: RoleState, wallTimeNs: Int64) {
        count(applied ? .controlApplied : .controlRejected)
        _writeRoles(roles, lastSwap: applied ? wallTimeNs : nil)
    }

    /// The swap latency: the command's publish time (monotonic ns, `ControlCommand.publishTime`)
    /// to the first decision under the new state. Recorded in the swap histogram and kept as the
    /// last swap latency. Relaxed stores only.
    @inlinable @inline(__always)
    public func recordSwapLatency(ns value: UInt64) {
        Self._record(value, line: swapLatency, buckets: swapLatency + StatsLayout.swapBucketsField)
        tb_store_relaxed_u64(swapLatency + StatsLayout.swapLatencyLastField, value)
    }

    /// A slot of ring `control` that did not decode: counted in `controlMalformed`.
    @inlinable
    public func recordMalformedControl() { count(.controlMalformed) }

    /// Sets the roles without counting a command (at start, for versions loaded from a registry).
    public func setRoles(_ r: RoleState) { _writeRoles(r, lastSwap: nil) }

    /// The seqlock writer: generation odd, release fence, the fields, generation even (release).
    /// `lastSwap` nil keeps the last swap time. Also updates the header's model id labels.
    @inline(__always)
    func _writeRoles(_ r: RoleState, lastSwap: Int64?) {
        // Safe: `roles` points at the roles lines of the mapped block (`StatsLayout.rolesOffset`),
        // every offset below is inside them and 8-byte aligned.
        let p = roles
        let g = tb_load_relaxed_u64(p)
        tb_store_relaxed_u64(p, g &+ 1)
        tb_fence_release()
        let o = StatsLayout.rolesOffset
        tb_store_relaxed_u64(p + (StatsLayout.liveModelIdOffset - o), r.liveModelId)
        tb_store_relaxed_u64(p + (StatsLayout.shadowModelIdRoleOffset - o), r.shadowModelId)
        tb_store_relaxed_u64(p + (StatsLayout.canaryModelIdOffset - o), r.canaryModelId)
        let flags: UInt32 = r.paused ? StatsLayout.pausedFlag : 0
        tb_store_relaxed_u64(p + (StatsLayout.canaryPercentOffset - o), UInt64(r.canaryPercent) | UInt64(flags) << 32)
        if let lastSwap { tb_store_relaxed_u64(p + (StatsLayout.lastSwapOffset - o), UInt64(bitPattern: lastSwap)) }
        Self._storeDigest(r.liveVersion, p + (StatsLayout.liveVersionOffset - o))
        Self._storeDigest(r.shadowVersion, p + (StatsLayout.shadowVersionOffset - o))
        Self._storeDigest(r.canaryVersion, p + (StatsLayout.canaryVersionOffset - o))
        tb_store_release_u64(p, g &+ 2)
        // The header's ids are the labels of the older strategy families; they follow the roles.
        tb_store_relaxed_u64(p - o + StatsLayout.modelIdOffset, r.liveModelId)
        tb_store_relaxed_u64(p - o + StatsLayout.shadowModelIdOffset, r.shadowModelId)
    }

    @inline(__always)
    static func _storeDigest(_ d: VersionDigest, _ p: UnsafeMutableRawPointer) {
        tb_store_relaxed_u64(p, d.words.0.littleEndian)
        tb_store_relaxed_u64(p + 8, d.words.1.littleEndian)
        tb_store_relaxed_u64(p + 16, d.words.2.littleEndian)
        tb_store_relaxed_u64(p + 24, d.words.3.littleEndian)
    }
}

extension StatsBlock {
    /// Reads the roles and the last swap time (realtime ns, 0 if none) of a mapped block as one
    /// state: the seqlock reader. Retries while the writer is changing them, at most
    /// `StatsLayout.rolesReadAttempts` times; nil if it never saw a stable state (a writer that
    /// died in the middle of a change leaves the generation odd for good).
    public static func rolesAndLastSwap(_ base: UnsafeRawPointer) -> (roles: RoleState, lastSwapNs: Int64)? {
        let p = base + StatsLayout.rolesOffset
        let o = StatsLayout.rolesOffset
        for _ in 0..<StatsLayout.rolesReadAttempts {
            let g1 = tb_load_acquire_u64(p)
            if g1 & 1 != 0 {
                tb_cpu_relax()
                continue
            }
            var r = RoleState()
            r.liveModelId = tb_load_relaxed_u64(p + (StatsLayout.liveModelIdOffset - o))
            r.shadowModelId = tb_load_relaxed_u64(p + (StatsLayout.shadowModelIdRoleOffset - o))
            r.canaryModelId = tb_load_relaxed_u64(p + (StatsLayout.canaryModelIdOffset - o))
            let pf = tb_load_relaxed_u64(p + (StatsLayout.canaryPercentOffset - o))
            let last = Int64(bitPattern: tb_load_relaxed_u64(p + (StatsLayout.lastSwapOffset - o)))
            r.liveVersion = loadDigest(p + (StatsLayout.liveVersionOffset - o))
            r.shadowVersion = loadDigest(p + (StatsLayout.shadowVersionOffset - o))
            r.canaryVersion = loadDigest(p + (StatsLayout.canaryVersionOffset - o))
            tb_fence_acquire()
            guard tb_load_relaxed_u64(p) == g1 else { continue }
            // The writer stores only 0...100; a larger byte (a foreign writer) is shown capped.
            r.canaryPercent = UInt8(min(100, pf & 0xffff_ffff))
            r.paused = UInt32(truncatingIfNeeded: pf >> 32) & StatsLayout.pausedFlag != 0
            return (r, last)
        }
        return nil
    }

    /// The roles alone (see `rolesAndLastSwap`).
    public static func roles(_ base: UnsafeRawPointer) -> RoleState? { rolesAndLastSwap(base)?.roles }

    static func loadDigest(_ p: UnsafeRawPointer) -> VersionDigest {
        VersionDigest(
            words: (
                UInt64(littleEndian: tb_load_relaxed_u64(p)), UInt64(littleEndian: tb_load_relaxed_u64(p + 8)),
                UInt64(littleEndian: tb_load_relaxed_u64(p + 16)), UInt64(littleEndian: tb_load_relaxed_u64(p + 24))
            )
        )
    }
}
