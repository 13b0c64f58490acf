import Models

// fuzz-modules: TickBusCore Book Features Models Registry
// A stored manifest (`manifests/sha256/<id>`) through the reader every registry command and the
// strategy's loader run (`Manifest(bytes:what:)`, on `CanonicalJSON.parseCanonical` and the
// Models JSON parser). Tools/fuzz builds only Registry's reader files (no swift-crypto), so
// the version id (sha256) is not computed here. Properties, beside "never traps":
// - whatever parses as canonical JSON re-encodes to the input's bytes;
// - any JSON the parser accepts and the registry's value domain holds (strings, arrays,
//   objects, integers below 2^53) has a canonical form that parses back to the same bytes;
// - a manifest that is read re-encodes to exactly the input (the reader refuses anything the
//   writer would not have written: the id is the sha256 of those bytes), and reads back equal.
@testable import Registry

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRegistryManifest(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = FuzzInput.bytes(data, size)
    var sink = 0

    // Canonical JSON: any JSON converted to the registry's values, then its canonical bytes.
    if let v = try? JSONValue.parse(bytes, format: "JSON"), let c = try? CanonicalJSON.convert(v, what: "f", path: "$")
    {
        let canonical = c.bytes
        do {
            let back = try CanonicalJSON.parseCanonical(canonical, what: "canonical")
            precondition(back.bytes == canonical, "canonical form does not re-encode to itself")
        } catch {
            preconditionFailure("the canonical form of a parsed value is refused: \(error)")
        }
        sink &+= canonical.count
    }
    do {
        let c = try CanonicalJSON.parseCanonical(bytes, what: "input")
        precondition(c.bytes == bytes, "parseCanonical accepted bytes that are not its canonical form")
    } catch {
        sink &+= error.description.utf8.count
    }

    do {
        let m = try Manifest(bytes: bytes, what: "manifests/sha256/x")
        precondition(m.bytes == bytes, "a manifest read does not re-encode to its file: \(m.json.text)")
        let again = try Manifest(bytes: m.bytes, what: "again")
        precondition(again == m, "a manifest re-encoded reads back different")
        sink &+= m.references.count &+ m.runtimeIdHex.utf8.count &+ m.features.count
    } catch {
        // Every refusal names the file it was given.
        precondition(error.description.hasPrefix("manifests/sha256/x"), "error without its file: \(error)")
        sink &+= error.description.utf8.count
    }
    return sink == Int.min ? 1 : 0
}
