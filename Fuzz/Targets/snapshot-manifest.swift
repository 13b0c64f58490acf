import Registry

// fuzz-modules: TickBusCore Book Features Models Registry Parquet FeatureStore
// A feature snapshot's manifest (`DIR/manifest.json`) through the reader `features asof` and
// `SnapshotTable` run (`SnapshotManifest(bytes:what:)`, on the registry's
// `CanonicalJSON.parseCanonical`). Tools/fuzz builds only FeatureStore's manifest files (no
// swift-crypto, no Foundation), so the id (sha256) is not computed here. Properties, beside
// "never traps":
// - a manifest that is read re-encodes to exactly the input (the reader refuses anything the
//   writer would not have written: the id is the sha256 of those bytes), and reads back equal;
// - its data paths stay inside the snapshot (relative, no `..`), its digests are 64 lowercase hex
//   digits, its session date gives a midnight and its latency is non-negative;
// - every refusal names the file it was given.
@testable import FeatureStore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSnapshotManifest(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = FuzzInput.bytes(data, size)
    var sink = 0
    do {
        let m = try SnapshotManifest(bytes: bytes, what: "snap/manifest.json")
        precondition(m.bytes == bytes, "a manifest read does not re-encode to its file: \(m.json.text)")
        let again = try SnapshotManifest(bytes: m.bytes, what: "again")
        precondition(again == m, "a manifest re-encoded reads back different")
        for f in m.data {
            precondition(!f.path.hasPrefix("/") && !f.path.split(separator: "/").contains(".."), "path escapes")
            precondition(SnapshotManifest.isDigest(f.sha256), "data digest not checked")
        }
        precondition(m.inputs.values.allSatisfy(SnapshotManifest.isDigest), "input digest not checked")
        precondition(SnapshotManifest.midnightNs(m.sessionDate) != nil && m.latencyNs >= 0, "date or latency")
        sink &+= m.features.count &+ m.data.count &+ m.inputs.count
    } catch {
        precondition(error.description.hasPrefix("snap/manifest.json"), "error without its file: \(error)")
        sink &+= error.description.utf8.count
    }
    // The time parser of `features asof --at` shares the manifest's date reader: never traps.
    let text = String(decoding: bytes.prefix(64), as: UTF8.self)
    if let t = QueryTime.parse(text) { sink &+= Int(truncatingIfNeeded: t) }
    return sink == Int.min ? 1 : 0
}
