import BacktestReport
import Drift
import Features
import Registry

#if canImport(Glibc)
import Glibc
#endif

/// The registry version of the live model, as far as the monitor needs it.
struct VersionInfo: Sendable {
    var id: String
    var name: String
    var runtimeId: UInt64
    /// The hit rate of the version's backtest report (nil without one, or when it was undefined).
    var expectedHitRate: Double?
}

extension Monitor {
    /// Finds the version whose runtime id the first decision carries, checks the baseline against
    /// its feature list and definition hash, and takes its backtest's hit rate and signal rule.
    func lookUpVersion(runtimeId: UInt64) throws(MonitorError) {
        guard let root = options.registry else { return }
        let registry: Registry
        let versions: [Registry.Version]
        do {
            registry = try Registry(root: root)
            versions = try registry.versions()
        } catch { throw .registry(error) }
        guard let v = versions.first(where: { $0.manifest.runtimeId == runtimeId }) else {
            throw .invalid(
                "no version in registry \(root) has runtime id \(ControlText.hex16(runtimeId)) (the decisions' live model)"
            )
        }
        let m = v.manifest
        try Self.checkNames(m.features, hash: m.definition, baseline, baselinePath, what: "version \(v.id.prefix(12))")
        var info = VersionInfo(id: v.id, name: m.name, runtimeId: runtimeId, expectedHitRate: nil)
        if let hash = m.objects["backtest"] {
            let bytes = try Self.object(root, hash)
            do {
                info.expectedHitRate = try BacktestReport.decode(bytes, what: "backtest object \(hash)").hitRate
            } catch {
                throw .invalid("version \(v.id.prefix(12)): \(error)")
            }
        }
        if canary.signalRule == nil {
            let def = try Self.object(root, m.definition)
            if let d = try? FeatureDefinition.parse(String(decoding: def, as: UTF8.self)) {
                canary.signalRule = d.signalRule
            }
        }
        versionInfo = info
    }

    /// An object's bytes, checked against its hash.
    static func object(_ root: String, _ hash: String) throws(MonitorError) -> [UInt8] {
        let path = "\(root)/objects/sha256/\(hash)"
        guard let f = fopen(path, "rb") else {
            throw .invalid("registry object \(path): \(String(cString: strerror(errno))) (errno \(errno))")
        }
        defer { fclose(f) }
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buf.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, f) }
            out += buf[0..<n]
            if n < buf.count { break }
            if out.count > 1 << 28 { throw .invalid("registry object \(path) is larger than 256 MiB") }
        }
        guard Manifest.sha256Hex(out) == hash else {
            throw .invalid("registry object \(path) does not hash to its name (altered)")
        }
        return out
    }
}
