/// How the registry spells content hashes: sha256 as 64 lowercase hex digits. Kept apart from
/// `ObjectStore` (which computes them with swift-crypto) so that the readers of registry files
/// (`CanonicalJSON`, `Manifest(bytes:)`, `AliasEntry(line:)`, `AliasLog.check`) compile without
/// swift-crypto: `Tools/fuzz` builds exactly those files into its harnesses (Docs/FUZZING.md).
enum Digest {
    /// True for 64 lowercase hex digits.
    static func isDigest(_ s: String) -> Bool { s.utf8.count == 64 && s.utf8.allSatisfy(isHex) }
    /// True for a lowercase hex digit.
    static func isHex(_ c: UInt8) -> Bool { (c >= 48 && c <= 57) || (c >= 97 && c <= 102) }
}
