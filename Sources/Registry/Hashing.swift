/// Where registry values get their sha256 (`ObjectStore.sha256`, swift-crypto). Kept out of
/// `Manifest.swift` and `AliasEntry.swift` so that those readers compile without swift-crypto
/// (the fuzz harnesses build them alone; see `Digest`).
extension Manifest {
    /// The version id: the sha256 of the canonical bytes.
    public var id: String { ObjectStore.sha256(bytes) }

    /// sha256 (hex) of any bytes: how the registry names objects.
    public static func sha256Hex(_ bytes: [UInt8]) -> String { ObjectStore.sha256(bytes) }
}

extension AliasEntry {
    /// The entry's hash (the sha256 of its line): what the next entry's `prev` holds.
    public var hash: String { ObjectStore.sha256(bytes) }
}
