/// The Thrift compact protocol's encoder (Apache Thrift, "compact protocol" specification): what
/// Parquet's page headers and footer are written in.
///
/// A struct is a run of fields, each a header byte (the field-id delta from the previous field in
/// the high nibble when it is 1…15, else 0 and a zigzag varint id) with the value's type in the low
/// nibble, ending in a stop byte 0. Integers are zigzag varints, binaries a varint length and the
/// bytes, lists a size-and-element-type byte (size ≥ 15: 0xF_ and a varint size), booleans of fields
/// live in the type nibble (1 true, 2 false). Callers write fields in increasing id order.
public struct ThriftCompactWriter {
    /// The bytes written so far.
    public var bytes: [UInt8] = []
    /// The last field id of each open struct (the innermost last).
    var lastField: [Int16] = [0]

    public init() { bytes.reserveCapacity(256) }

    /// The compact protocol's type codes.
    public enum TypeCode: UInt8 {
        case boolTrue = 1
        case boolFalse = 2
        case byte = 3
        case i16 = 4
        case i32 = 5
        case i64 = 6
        case double = 7
        case binary = 8
        case list = 9
        case set = 10
        case map = 11
        case `struct` = 12
    }

    mutating func fieldHeader(_ id: Int16, _ type: TypeCode) {
        let last = lastField[lastField.count - 1]
        let delta = Int(id) - Int(last)
        if delta > 0 && delta <= 15 {
            bytes.append(UInt8(delta) << 4 | type.rawValue)
        } else {
            bytes.append(type.rawValue)
            varint(zigzag(Int64(id)))
        }
        lastField[lastField.count - 1] = id
    }

    @inline(__always) func zigzag(_ v: Int64) -> UInt64 { UInt64(bitPattern: (v << 1) ^ (v >> 63)) }

    /// An unsigned LEB128 varint.
    @inline(__always) public mutating func varint(_ v: UInt64) {
        var v = v
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    public mutating func field(_ id: Int16, i32 v: Int32) {
        fieldHeader(id, .i32)
        varint(zigzag(Int64(v)))
    }

    public mutating func field(_ id: Int16, i64 v: Int64) {
        fieldHeader(id, .i64)
        varint(zigzag(v))
    }

    public mutating func field(_ id: Int16, i8 v: Int8) {
        fieldHeader(id, .byte)
        bytes.append(UInt8(bitPattern: v))
    }

    public mutating func field(_ id: Int16, bool v: Bool) { fieldHeader(id, v ? .boolTrue : .boolFalse) }

    public mutating func field(_ id: Int16, binary v: [UInt8]) {
        fieldHeader(id, .binary)
        varint(UInt64(v.count))
        bytes.append(contentsOf: v)
    }

    public mutating func field(_ id: Int16, string v: String) { field(id, binary: Array(v.utf8)) }

    /// Opens a struct-valued field: write its fields, then `endStruct()`.
    public mutating func beginStruct(_ id: Int16) {
        fieldHeader(id, .struct)
        lastField.append(0)
    }

    /// Closes the innermost struct (a field's, or a list element's): the stop byte.
    public mutating func endStruct() {
        bytes.append(0)
        lastField.removeLast()
    }

    /// A list-valued field of `count` elements of `type`; write the elements next (structs through
    /// `beginListStruct()`/`endStruct()`, integers through `element(i32:)`, binaries through `element(binary:)`).
    public mutating func beginList(_ id: Int16, _ type: TypeCode, count: Int) {
        fieldHeader(id, .list)
        if count < 15 {
            bytes.append(UInt8(count) << 4 | type.rawValue)
        } else {
            bytes.append(0xF0 | type.rawValue)
            varint(UInt64(count))
        }
    }

    /// A struct element of a list: its fields, then `endStruct()`.
    public mutating func beginListStruct() { lastField.append(0) }

    public mutating func element(i32 v: Int32) { varint(zigzag(Int64(v))) }

    public mutating func element(binary v: [UInt8]) {
        varint(UInt64(v.count))
        bytes.append(contentsOf: v)
    }

    /// Ends the outermost struct (a page header, the file metadata).
    public mutating func finish() { bytes.append(0) }
}
