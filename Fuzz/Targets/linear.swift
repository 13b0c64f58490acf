// fuzz-modules: Models
// fuzz-support: FuzzModel
// A linear JSON model through `Model.load(bytes:)` (format detection, parsing, compilation to the flat
// evaluator), as `tickbus model predict` and `strategy --model` load it, then evaluated on a
// few rows (zeros, NaN, infinities, extremes, the input's bytes). The seeds are linear JSON model files;
// the loader detects the format, so mutations that turn into another format are fine.
import Models

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzLinear(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    FuzzModel.run(FuzzInput.bytes(data, size))
}
