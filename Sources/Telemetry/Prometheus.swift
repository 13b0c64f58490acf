import CTickBus
import TickBusCore

/// Renders a `BusSnapshot` in the Prometheus text exposition format (version 0.0.4): `tickbus_`
/// prefix, `_total` on counters, seconds and bytes as units, one HELP and TYPE per family.
public enum PrometheusExposition {
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    /// Upper bounds (ns) of the exported latency buckets: 1-2-5 steps from 10 ns to 10 s. The
    /// shared-memory histogram is finer (2 significant digits); these are what Prometheus stores.
    public static let latencyBucketBoundsNs: [UInt64] = {
        var out: [UInt64] = []
        var decade: UInt64 = 10
        while decade <= 10_000_000_000 {
            for m: UInt64 in [1, 2, 5] where decade * m <= 10_000_000_000 { out.append(decade * m) }
            decade *= 10
        }
        return out
    }()

    struct Family {
        var name: String
        var help: String
        var type: String
        var lines: [String] = []
    }

    /// A full scrape: snapshot plus render, what the HTTP handler serves.
    public static func scrape(bus: String, tracker: SnapshotTracker? = nil) -> String {
        let start = tb_monotonic_ns()
        let snapshot = tracker?.take(bus: bus) ?? BusSnapshot.take(bus: bus)
        return render(snapshot, scrapeStartNs: start)
    }

    public static func render(_ s: BusSnapshot, scrapeStartNs: UInt64? = nil) -> String {
        var families: [String: Family] = [:]
        var order: [String] = []
        func add(
            _ name: String,
            _ type: String,
            _ help: String,
            _ labels: [(String, String)],
            _ value: String,
            suffix: String = ""
        ) {
            if families[name] == nil {
                families[name] = Family(name: name, help: help, type: type)
                order.append(name)
            }
            families[name]!.lines.append("\(name)\(suffix)\(labelText(labels)) \(value)")
        }
        let bus = ("bus", s.bus)

        for r in s.rings where r.error == nil {
            let l = [bus, ("ring", r.name)]
            add(
                "tickbus_ring_published_total",
                "counter",
                "Messages published into the ring in this generation.",
                l,
                "\(r.published)"
            )
            add(
                "tickbus_ring_cursor",
                "gauge",
                "The producer's cursor: sequence of the next message.",
                l,
                "\(r.published)"
            )
            add("tickbus_ring_capacity_slots", "gauge", "Ring capacity in slots (messages).", l, "\(r.capacity)")
            add("tickbus_ring_slot_size_bytes", "gauge", "Size of one slot.", l, "\(r.slotSize)")
            add(
                "tickbus_ring_producer_alive",
                "gauge",
                "1 if the producer process runs and has not closed the ring.",
                l,
                r.producerAlive ? "1" : "0"
            )
            add(
                "tickbus_ring_producer_closed",
                "gauge",
                "1 if the producer closed the ring.",
                l,
                r.producerState == "closed" ? "1" : "0"
            )
            add("tickbus_ring_producer_pid", "gauge", "Process id of the ring's producer.", l, "\(r.producerPid)")
            add(
                "tickbus_ring_generation",
                "gauge",
                "Producer generation of the ring file (new per producer start).",
                l,
                "\(r.generation)"
            )
            add(
                "tickbus_ring_producer_heartbeat_age_seconds",
                "gauge",
                "Time since the producer's last heartbeat.",
                l,
                num(r.heartbeatAgeSeconds)
            )
            add(
                "tickbus_ring_gate_waits_total",
                "counter",
                "Times the producer waited for a gating reader.",
                l,
                "\(r.gateWaits)"
            )
            add(
                "tickbus_ring_readers_ungated_total",
                "counter",
                "Dead gating readers the producer ungated.",
                l,
                "\(r.readersUngated)"
            )
            add(
                "tickbus_ring_readers_reclaimed_total",
                "counter",
                "Entries of dead readers reclaimed.",
                l,
                "\(r.readersReclaimed)"
            )
            add(
                "tickbus_ring_readers",
                "gauge",
                "Readers attached whose process is alive.",
                l,
                "\(r.readers.filter { $0.alive }.count)"
            )
        }
        for r in s.rings where r.error == nil {
            for d in r.readers {
                let l = [
                    bus, ("ring", r.name), ("reader", d.name), ("entry", "\(d.entry)"), ("pid", "\(d.pid)"),
                    ("mode", d.gating ? "gating" : "live"),
                ]
                add("tickbus_reader_position", "gauge", "Next sequence the reader will read.", l, "\(d.position)")
                add(
                    "tickbus_reader_lag_messages",
                    "gauge",
                    "Messages published but not yet read (cursor - position).",
                    l,
                    "\(d.lag)"
                )
                add(
                    "tickbus_reader_lost_messages_total",
                    "counter",
                    "Messages the reader lost to laps.",
                    l,
                    "\(d.lost)"
                )
                add(
                    "tickbus_reader_laps_total",
                    "counter",
                    "Times the reader was lapped (gap reports).",
                    l,
                    "\(d.laps)"
                )
                add(
                    "tickbus_reader_received_messages_total",
                    "counter",
                    "Messages the reader read.",
                    l,
                    "\(d.received)"
                )
                add(
                    "tickbus_reader_heartbeat_age_seconds",
                    "gauge",
                    "Time since the reader's last heartbeat.",
                    l,
                    num(d.heartbeatAgeSeconds)
                )
                add(
                    "tickbus_reader_gating",
                    "gauge",
                    "1 if the reader gates the producer (lossless mode).",
                    l,
                    d.gating ? "1" : "0"
                )
                add(
                    "tickbus_reader_alive",
                    "gauge",
                    "1 if the reader's process exists; 0 for a dead reader.",
                    l,
                    d.alive ? "1" : "0"
                )
            }
        }
        for st in s.strategies {
            let l = [
                bus, ("strategy", st.name), ("kind", st.kind), ("model_id", st.modelId),
                ("shadow_model_id", st.shadowModelId),
            ]
            add(
                "tickbus_strategy_alive",
                "gauge",
                "1 if the process writing this stats block runs.",
                l,
                st.alive ? "1" : "0"
            )
            add(
                "tickbus_strategy_generation",
                "gauge",
                "Generation of the stats block (new per process start).",
                l,
                "\(st.generation)"
            )
            add("tickbus_strategy_pid", "gauge", "Process id of the strategy.", l, "\(st.pid)")
            add(
                "tickbus_strategy_heartbeat_age_seconds",
                "gauge",
                "Time since the strategy's last heartbeat.",
                l,
                num(st.heartbeatAgeSeconds)
            )
            add(
                "tickbus_strategy_messages_total",
                "counter",
                "Market messages the strategy consumed.",
                l,
                "\(st.messages)"
            )
            add("tickbus_strategy_decisions_total", "counter", "Decision records published.", l, "\(st.decisions)")
            add("tickbus_strategy_signals_total", "counter", "Decisions with a non-zero signal.", l, "\(st.signals)")
            add(
                "tickbus_strategy_shadow_decisions_total",
                "counter",
                "Decisions made with a shadow model present.",
                l,
                "\(st.shadowDecisions)"
            )
            add(
                "tickbus_strategy_disagreements_total",
                "counter",
                "Decisions where live and shadow model signals differ.",
                l,
                "\(st.disagreements)"
            )
            add("tickbus_strategy_gaps_total", "counter", "Gaps the strategy saw on its input ring.", l, "\(st.gaps)")
            add(
                "tickbus_strategy_lost_messages_total",
                "counter",
                "Input messages the strategy lost to gaps.",
                l,
                "\(st.lost)"
            )
            func histogram(_ name: String, _ help: String, _ h: LatencyHistogram, _ l: [(String, String)]) {
                for bound in latencyBucketBoundsNs {
                    add(
                        name,
                        "histogram",
                        help,
                        l + [("le", seconds(bound))],
                        "\(h.countAtOrBelow(bound))",
                        suffix: "_bucket"
                    )
                }
                add(name, "histogram", help, l + [("le", "+Inf")], "\(h.count)", suffix: "_bucket")
                add(name, "histogram", help, l, seconds(h.sumNs), suffix: "_sum")
                add(name, "histogram", help, l, "\(h.count)", suffix: "_count")
            }
            histogram(
                "tickbus_strategy_tick_to_decision_seconds",
                "Latency from market message receive to decision publish.",
                st.histogram,
                l
            )
            // Roles and control: labels that do not change with a swap (the model ids are in
            // tickbus_strategy_model_info), so these series stay continuous across swaps.
            let c = [bus, ("strategy", st.name), ("kind", st.kind)]
            for r in st.roles {
                add(
                    "tickbus_strategy_model_info",
                    "gauge",
                    "The model in each filled role: its registry version id (empty without a registry) and runtime model id.",
                    c + [("role", r.role), ("version", r.version), ("model_id", r.modelId)],
                    "1"
                )
            }
            add(
                "tickbus_strategy_roles_readable",
                "gauge",
                "1 if the roles were read as one consistent state (0: the writer was mid-change every time).",
                c,
                st.rolesAvailable ? "1" : "0"
            )
            add(
                "tickbus_strategy_canary_percent",
                "gauge",
                "Percent of instruments routed to the canary model.",
                c,
                "\(st.canaryPercent)"
            )
            add("tickbus_strategy_paused", "gauge", "1 if the strategy's signals are paused.", c, st.paused ? "1" : "0")
            add(
                "tickbus_strategy_control_applied_total",
                "counter",
                "Control commands the strategy applied.",
                c,
                "\(st.controlApplied)"
            )
            add(
                "tickbus_strategy_control_rejected_total",
                "counter",
                "Control commands the strategy rejected.",
                c,
                "\(st.controlRejected)"
            )
            add(
                "tickbus_strategy_control_malformed_total",
                "counter",
                "Control ring slots the strategy could not decode as a command.",
                c,
                "\(st.controlMalformed)"
            )
            add(
                "tickbus_strategy_last_swap_timestamp_seconds",
                "gauge",
                "When the last applied control command took effect, seconds since the Unix epoch (0: none yet).",
                c,
                st.lastSwapNs > 0 ? seconds(UInt64(st.lastSwapNs)) : "0"
            )
            add(
                "tickbus_strategy_last_swap_latency_seconds",
                "gauge",
                "The last swap's latency from command publish to the first decision under the new state.",
                c,
                seconds(st.lastSwapLatencyNs)
            )
            histogram(
                "tickbus_strategy_swap_latency_seconds",
                "Latency from a control command's publish to the first decision under the new state.",
                st.swapHistogram,
                c
            )
            executionFamilies(st.execution, c) { add($0, $1, $2, $3, $4, suffix: $5) }
        }
        for p in s.processes {
            let l = [bus, ("pid", "\(p.pid)"), ("roles", p.roles.joined(separator: ","))]
            add(
                "tickbus_process_cpu_seconds_total",
                "counter",
                "User and system CPU time of the process (from /proc/PID/stat).",
                l,
                num(p.cpuSeconds)
            )
            add(
                "tickbus_process_resident_memory_bytes",
                "gauge",
                "Resident set size of the process (from /proc/PID/stat).",
                l,
                "\(p.residentBytes)"
            )
        }
        if let self_ = ProcStat.read(pid: getpidValue()) {
            let l = [bus]
            add(
                "tickbus_telemetry_cpu_seconds_total",
                "counter",
                "CPU time of this telemetry process.",
                l,
                num(self_.cpuSeconds)
            )
            add(
                "tickbus_telemetry_resident_memory_bytes",
                "gauge",
                "Resident set size of this telemetry process.",
                l,
                "\(self_.residentBytes)"
            )
        }
        add("tickbus_telemetry_rings", "gauge", "Rings found on the bus.", [bus], "\(s.rings.count)")
        add(
            "tickbus_telemetry_invalid_rings",
            "gauge",
            "Files on the bus that failed segment validation.",
            [bus],
            "\(s.rings.filter { $0.error != nil }.count)"
        )
        if let start = scrapeStartNs {
            add(
                "tickbus_telemetry_scrape_duration_seconds",
                "gauge",
                "Time this scrape took to read the bus.",
                [bus],
                seconds(tb_monotonic_ns() &- start)
            )
        }

        var out = ""
        out.reserveCapacity(order.reduce(0) { $0 + families[$1]!.lines.count * 96 })
        for name in order {
            let f = families[name]!
            out += "# HELP \(f.name) \(f.help)\n# TYPE \(f.name) \(f.type)\n"
            for line in f.lines {
                out += line
                out += "\n"
            }
        }
        return out
    }

    static func labelText(_ labels: [(String, String)]) -> String {
        if labels.isEmpty { return "" }
        return "{" + labels.map { "\($0.0)=\"\(escape($0.1))\"" }.joined(separator: ",") + "}"
    }

    /// Label values escape backslash, double quote and newline.
    static func escape(_ v: String) -> String {
        var out = ""
        for c in v {
            switch c {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(c)
            }
        }
        return out
    }

    /// Nanoseconds as an exact decimal number of seconds ("0.00000001", "2.5").
    public static func seconds(_ ns: UInt64) -> String {
        let whole = ns / 1_000_000_000
        let frac = ns % 1_000_000_000
        if frac == 0 { return "\(whole)" }
        var f = String(frac)
        f = String(repeating: "0", count: 9 - f.count) + f
        while f.hasSuffix("0") { f.removeLast() }
        return "\(whole).\(f)"
    }

    static func num(_ x: Double) -> String {
        if x.isNaN { return "NaN" }
        if x == x.rounded() && abs(x) < 1e15 { return "\(Int64(x))" }
        return "\(x)"
    }
}

#if canImport(Glibc)
import Glibc
func getpidValue() -> Int32 { getpid() }
#endif
