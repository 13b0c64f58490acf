/// One flat column of a Parquet file as TickBus writes it: optional (nullable), a physical type, a
/// logical type, and whether dictionary encoding is tried.
public struct ParquetColumn: Sendable {
    /// When a column chunk is dictionary encoded.
    public enum Dictionary: Sendable {
        /// Always PLAIN (high-cardinality values: sequences, times, doubles).
        case never
        /// Dictionary encoded when the chunk has few distinct values (at most an eighth of its
        /// values, and at most `ParquetWriter.Options.maxDictionary`), else PLAIN.
        case auto
    }

    public var name: String
    public var physical: PhysicalType
    public var logical: LogicalType?
    public var dictionary: Dictionary

    /// - Parameters:
    ///   - name: the column's name (the schema element's).
    ///   - physical: BOOLEAN, INT32, INT64, DOUBLE or BYTE_ARRAY.
    ///   - logical: its logical type, if any.
    ///   - dictionary: whether dictionary encoding is tried.
    public init(
        _ name: String,
        _ physical: PhysicalType,
        _ logical: LogicalType? = nil,
        dictionary: Dictionary = .never
    ) {
        self.name = name
        self.physical = physical
        self.logical = logical
        self.dictionary = dictionary
    }

    /// A signed 64-bit integer column.
    public static func int64(_ name: String, dictionary: Dictionary = .never) -> ParquetColumn {
        ParquetColumn(name, .int64, .integer(bitWidth: 64, signed: true), dictionary: dictionary)
    }
    /// An unsigned 64-bit integer column (UINT_64: statistics compare unsigned).
    public static func uint64(_ name: String, dictionary: Dictionary = .never) -> ParquetColumn {
        ParquetColumn(name, .int64, .integer(bitWidth: 64, signed: false), dictionary: dictionary)
    }
    /// A signed 32-bit integer column.
    public static func int32(_ name: String, dictionary: Dictionary = .auto) -> ParquetColumn {
        ParquetColumn(name, .int32, .integer(bitWidth: 32, signed: true), dictionary: dictionary)
    }
    /// An unsigned 32-bit integer column (stored as INT32 bits, UINT_32).
    public static func uint32(_ name: String, dictionary: Dictionary = .auto) -> ParquetColumn {
        ParquetColumn(name, .int32, .integer(bitWidth: 32, signed: false), dictionary: dictionary)
    }
    /// A UTF-8 string column.
    public static func string(_ name: String, dictionary: Dictionary = .auto) -> ParquetColumn {
        ParquetColumn(name, .byteArray, .string, dictionary: dictionary)
    }
    /// An instant in ns since the Unix epoch, UTC.
    public static func timestampNanos(_ name: String) -> ParquetColumn {
        ParquetColumn(name, .int64, .timestamp(unit: .nanos, utc: true))
    }
    /// A float64 column.
    public static func double(_ name: String) -> ParquetColumn { ParquetColumn(name, .double) }
    /// A boolean column.
    public static func bool(_ name: String) -> ParquetColumn { ParquetColumn(name, .boolean) }

    /// Whether integer statistics compare unsigned (UINT_n logical types).
    var unsigned: Bool {
        if case .integer(_, let signed) = logical { return !signed }
        return false
    }
}
