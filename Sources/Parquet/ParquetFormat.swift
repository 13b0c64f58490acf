// The enums of the Apache Parquet format (parquet-format's parquet.thrift), by their wire values.

/// A column's physical type (parquet.thrift `Type`).
public enum PhysicalType: Int32, Sendable, CustomStringConvertible {
    case boolean = 0
    case int32 = 1
    case int64 = 2
    case int96 = 3
    case float = 4
    case double = 5
    case byteArray = 6
    case fixedLenByteArray = 7
    public var description: String {
        ["BOOLEAN", "INT32", "INT64", "INT96", "FLOAT", "DOUBLE", "BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY"][Int(rawValue)]
    }
}

/// Page and level encodings (parquet.thrift `Encoding`; Encodings.md).
public enum ParquetEncoding: Int32, Sendable {
    case plain = 0
    case plainDictionary = 2
    case rle = 3
    case bitPacked = 4
    case deltaBinaryPacked = 5
    case deltaLengthByteArray = 6
    case deltaByteArray = 7
    case rleDictionary = 8
    case byteStreamSplit = 9
}

/// Compression codecs (parquet.thrift `CompressionCodec`).
public enum ParquetCodec: Int32, Sendable, CustomStringConvertible {
    case uncompressed = 0
    case snappy = 1
    case gzip = 2
    case lzo = 3
    case brotli = 4
    case lz4 = 5
    case zstd = 6
    case lz4Raw = 7
    public var description: String {
        ["UNCOMPRESSED", "SNAPPY", "GZIP", "LZO", "BROTLI", "LZ4", "ZSTD", "LZ4_RAW"][Int(rawValue)]
    }
}

/// Page types (parquet.thrift `PageType`).
public enum PageType: Int32, Sendable {
    case dataPage = 0
    case indexPage = 1
    case dictionaryPage = 2
    case dataPageV2 = 3
}

/// Field repetition (parquet.thrift `FieldRepetitionType`).
public enum Repetition: Int32, Sendable {
    case required = 0
    case optional = 1
    case repeated = 2
}

/// Time units of TIMESTAMP (parquet.thrift `TimeUnit`: a union of empty structs, field 1…3).
public enum TimeUnit: Int16, Sendable {
    case millis = 1
    case micros = 2
    case nanos = 3
}

/// The logical types TickBus writes and reads (parquet.thrift `LogicalType`, a union by field id).
public enum LogicalType: Equatable, Sendable {
    /// UTF-8 text on BYTE_ARRAY (field 1).
    case string
    /// A signed or unsigned integer of 8, 16, 32 or 64 bits on INT32/INT64 (field 10).
    case integer(bitWidth: Int8, signed: Bool)
    /// An instant on INT64 (field 8); `utc`: isAdjustedToUTC.
    case timestamp(unit: TimeUnit, utc: Bool)
    /// A decimal `unscaled × 10^-scale` on INT32/INT64 (field 5).
    case decimal(scale: Int32, precision: Int32)

    /// The legacy `ConvertedType` older readers use, where one exists (parquet.thrift `ConvertedType`).
    var convertedType: Int32? {
        switch self {
        case .string: return 0  // UTF8
        case .integer(let bits, let signed):
            switch (bits, signed) {
            case (8, false): return 11
            case (16, false): return 12
            case (32, false): return 13
            case (64, false): return 14
            case (8, true): return 15
            case (16, true): return 16
            case (32, true): return 17
            case (64, true): return 18
            default: return nil
            }
        case .timestamp(let unit, _):
            // TIMESTAMP_MILLIS = 9, TIMESTAMP_MICROS = 10; nanoseconds have none.
            return unit == .millis ? 9 : unit == .micros ? 10 : nil
        case .decimal: return 5
        }
    }
}
