/// The largest counts a model file may declare (Docs/MODELS.md, "Limits").
///
/// Every count read from a model file is checked before anything is sized from it: counts of
/// things the file must itself contain (trees, nodes, leaves, tensor values) against the file's
/// size, and every count against the maximum here — so a hostile or corrupt header is refused
/// with `ModelError.tooLarge` instead of aborting the process with "failed to allocate".
public enum ModelLimits {
    /// Input features of a model. TickBus feature definitions hold tens; the binned LightGBM
    /// walk already needs 5 × features ≤ 65,535 slots.
    public static let features = 65_536
    /// Classes (outputs) of a classifier, and trees per LightGBM iteration.
    public static let classes = 65_536
    /// Leaves of one tree (its nodes are addressed with 16 bits: 2 × leaves − 1 ≤ 65,535).
    public static let leavesPerTree = 32_768
    /// Depth of one tree (the 8- and 16-wide walks count steps in a byte).
    public static let treeDepth = 255
    /// Values of one ONNX initializer, and of all the weights and constants an MLP keeps after
    /// compilation (16 Mi doubles, 128 MiB).
    public static let tensorValues = 1 << 24
    /// Dimensions of one ONNX tensor.
    public static let tensorDimensions = 8
    /// Activations of an MLP's forward pass (its scratch buffer, 16 Mi doubles).
    public static let activations = 1 << 24

    /// `value` as a count in `0...limit`, or `.tooLarge` naming the field, the value and the limit.
    static func check(_ value: Int, limit: Int, format: String, field: String, location: String,
                      why: String = "the documented maximum") throws(ModelError) -> Int {
        guard value <= limit else {
            throw .tooLarge(format: format, field: field, location: location, value: "\(value)", limit: "\(limit) (\(why))")
        }
        return value
    }

    /// A JSON number as a count in `minimum...limit`: it must be an integer (a float beyond
    /// Int's range converts with a trap, so it is checked with `Int(exactly:)` first).
    static func count(_ value: Double, minimum: Int = 0, limit: Int, format: String, field: String,
                      location: String) throws(ModelError) -> Int {
        guard let n = Int(exactly: value) else {
            if value.isFinite && value == value.rounded() && value > 0 {
                throw .tooLarge(format: format, field: field, location: location, value: "\(value)",
                                limit: "\(limit) (the documented maximum)")
            }
            throw .invalidField(format: format, field: field, location: location, message: "\(value) is not an integer")
        }
        guard n >= minimum else {
            throw .invalidField(format: format, field: field, location: location, message: "\(n) is below \(minimum)")
        }
        return try check(n, limit: limit, format: format, field: field, location: location)
    }
}
