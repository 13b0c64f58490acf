// One accessor for the little-endian integer fields of the on-disk and shared-memory formats
// (segment headers, journal files and indexes), instead of a `u32`/`u64` reader per file.
// Unaligned loads and stores: a field's offset is what its format says, whatever the buffer.

extension UnsafeRawPointer {
    /// The little-endian integer of type `T` at `offset` bytes from here.
    ///
    /// - Parameters:
    ///   - offset: byte offset of the field (need not be aligned).
    ///   - type: the field's width and signedness.
    /// - Returns: the value in host byte order.
    @inlinable @inline(__always)
    public func loadLittleEndian<T: FixedWidthInteger>(fromByteOffset offset: Int = 0, as type: T.Type) -> T {
        // Safe: the caller passes an offset whose `T.bitWidth / 8` bytes lie in its buffer.
        T(littleEndian: loadUnaligned(fromByteOffset: offset, as: T.self))
    }
}

extension UnsafeMutableRawPointer {
    /// The little-endian integer of type `T` at `offset` bytes from here.
    @inlinable @inline(__always)
    public func loadLittleEndian<T: FixedWidthInteger>(fromByteOffset offset: Int = 0, as type: T.Type) -> T {
        UnsafeRawPointer(self).loadLittleEndian(fromByteOffset: offset, as: type)
    }

    /// Stores `value` as a little-endian integer of its type at `offset` bytes from here.
    ///
    /// - Parameters:
    ///   - value: the field's value in host byte order.
    ///   - offset: byte offset of the field (need not be aligned).
    @inlinable @inline(__always)
    public func storeLittleEndian<T: FixedWidthInteger>(_ value: T, toByteOffset offset: Int = 0) {
        // Safe: the caller passes an offset whose `T.bitWidth / 8` bytes lie in its buffer.
        storeBytes(of: value.littleEndian, toByteOffset: offset, as: T.self)
    }
}
