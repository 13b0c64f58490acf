#if canImport(Glibc)
import Glibc
#endif

/// A minimal protobuf reader: enough of the wire format for ONNX's ModelProto (load time only).
struct _Proto {
    let bytes: [UInt8]
    var i: Int
    let end: Int

    enum Value {
        case varint(UInt64)
        case fixed64(UInt64)
        case bytes(Range<Int>)
        case fixed32(UInt32)
    }

    init(_ bytes: [UInt8], _ range: Range<Int>) { self.bytes = bytes; i = range.lowerBound; end = range.upperBound }

    func error(_ message: String) -> ModelError { .syntax(format: "ONNX", location: "byte \(i)", message: message) }

    mutating func varint() throws(ModelError) -> UInt64 {
        var v: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard i < end else { throw error("truncated varint (truncated file?)") }
            let b = bytes[i]
            i += 1
            if shift < 64 { v |= UInt64(b & 0x7f) << shift }
            if b & 0x80 == 0 { return v }
            shift += 7
            if shift > 70 { throw error("varint too long") }
        }
    }

    /// The next field, or nil at the end of the message.
    mutating func next() throws(ModelError) -> (field: Int, value: Value)? {
        guard i < end else { return nil }
        let key = try varint()
        let field = Int(key >> 3)
        switch key & 7 {
        case 0: return (field, .varint(try varint()))
        case 1:
            guard i + 8 <= end else { throw error("truncated fixed64 in field \(field) (truncated file?)") }
            var v: UInt64 = 0
            for k in 0..<8 { v |= UInt64(bytes[i + k]) << (8 * UInt64(k)) }
            i += 8
            return (field, .fixed64(v))
        case 2:
            let n = try varint()
            guard n <= UInt64(end - i) else { throw error("field \(field) is \(n) bytes, only \(end - i) left (truncated file?)") }
            let r = i..<(i + Int(n))
            i += Int(n)
            return (field, .bytes(r))
        case 5:
            guard i + 4 <= end else { throw error("truncated fixed32 in field \(field) (truncated file?)") }
            var v: UInt32 = 0
            for k in 0..<4 { v |= UInt32(bytes[i + k]) << (8 * UInt32(k)) }
            i += 4
            return (field, .fixed32(v))
        default:
            throw error("wire type \(key & 7) in field \(field) (not a protobuf / ONNX file?)")
        }
    }

    func string(_ r: Range<Int>) -> String { String(decoding: bytes[r], as: UTF8.self) }
}

/// A small MLP from ONNX compiled into a list of dense / element-wise steps over one float
/// scratch buffer. The float32 weights are widened to double and the whole forward pass runs in
/// double (the numpy float64 forward pass of the same weights, to ~1e-15; onnxruntime's float32
/// result differs from both by its own rounding, ~1e-7 relative).
public final class MLPModel {
    public let numFeatures: Int
    public let numOutputs: Int
    public let featureNames: [String]

    @usableFromInline enum Step {
        /// out[n] = alpha * Σ_k in[k] * w[n*K + k] + beta * bias[n]  (bias = -1: none)
        case dense(input: Int, k: Int, output: Int, n: Int, weights: Int, bias: Int, biasLength: Int, alpha: Double, beta: Double)
        case addConst(input: Int, output: Int, n: Int, constant: Int, constantLength: Int)
        case add(a: Int, b: Int, output: Int, n: Int)
        case relu(input: Int, output: Int, n: Int)
        case tanh(input: Int, output: Int, n: Int)
        case sigmoid(input: Int, output: Int, n: Int)
        case softmax(input: Int, output: Int, n: Int)
    }

    @usableFromInline let steps: [Step]
    @usableFromInline let params: [Double]
    @usableFromInline let outputOffset: Int
    @usableFromInline let scratch: _Scratch<Double>

    init(numFeatures: Int, numOutputs: Int, featureNames: [String], steps: [Step], params: [Double], outputOffset: Int,
         scratch: _Scratch<Double>) {
        self.numFeatures = numFeatures
        self.numOutputs = numOutputs
        self.featureNames = featureNames
        self.steps = steps
        self.params = params
        self.outputOffset = outputOffset
        self.scratch = scratch
    }

    /// Forward pass for one row; `out[0..<numOutputs]`. Allocates nothing.
    @inlinable
    public func predict(_ x: UnsafePointer<Double>, into out: UnsafeMutablePointer<Double>) {
        let nf = numFeatures, no = numOutputs, oo = outputOffset
        steps.withUnsafeBufferPointer { steps in
        params.withUnsafeBufferPointer { pb in
            do {
                // Safe: offsets and lengths were checked against both buffers at load.
                let p = pb.baseAddress!, s = scratch.pointer
                for i in 0..<nf { s[i] = x[i] }
                for step in steps {
                    switch step {
                    case .dense(let input, let k, let output, let n, let weights, let bias, let biasLength, let alpha, let beta):
                        for o in 0..<n {
                            var acc = 0.0
                            let w = p + weights + o * k
                            for j in 0..<k { acc += s[input + j] * w[j] }
                            var y = alpha * acc
                            if bias >= 0 { y += beta * p[bias + (biasLength == 1 ? 0 : o)] }
                            s[output + o] = y
                        }
                    case .addConst(let input, let output, let n, let constant, let constantLength):
                        for o in 0..<n { s[output + o] = s[input + o] + p[constant + (constantLength == 1 ? 0 : o)] }
                    case .add(let a, let b, let output, let n):
                        for o in 0..<n { s[output + o] = s[a + o] + s[b + o] }
                    case .relu(let input, let output, let n):
                        for o in 0..<n { s[output + o] = max(s[input + o], 0) }
                    case .tanh(let input, let output, let n):
                        for o in 0..<n { s[output + o] = tanh(s[input + o]) }
                    case .sigmoid(let input, let output, let n):
                        for o in 0..<n { s[output + o] = 1 / (1 + exp(-s[input + o])) }
                    case .softmax(let input, let output, let n):
                        var m = s[input]
                        for o in 1..<max(n, 1) { m = max(m, s[input + o]) }
                        var sum = 0.0
                        for o in 0..<n { let e = exp(s[input + o] - m); s[output + o] = e; sum += e }
                        for o in 0..<n { s[output + o] /= sum }
                    }
                }
                for o in 0..<no { out[o] = s[oo + o] }
            }
        }
        }
    }
}

public enum ONNXModel {
    static let format = "ONNX"

    /// ONNX files start with field 1 (ir_version, varint): byte 0x08.
    public static func detect(_ bytes: [UInt8]) -> Bool { bytes.first == 0x08 }

    struct Tensor {
        var name = ""
        var dims: [Int] = []
        var dataType = 0
        var floats: [Float] = []
    }

    struct Node {
        var inputs: [String] = []
        var outputs: [String] = []
        var name = ""
        var op = ""
        var ints: [String: Int] = [:]
        var floats: [String: Float] = [:]
    }

    static func tensor(_ bytes: [UInt8], _ r: Range<Int>) throws(ModelError) -> Tensor {
        var p = _Proto(bytes, r)
        var t = Tensor()
        var raw: Range<Int>? = nil
        var doubles: [Double] = []
        while let (field, value) = try p.next() {
            switch (field, value) {
            case (1, .varint(let v)): t.dims.append(Int(Int64(bitPattern: v)))
            case (1, .bytes(let rr)):
                var q = _Proto(bytes, rr)
                while q.i < q.end { t.dims.append(Int(Int64(bitPattern: try q.varint()))) }
            case (2, .varint(let v)): t.dataType = Int(exactly: v) ?? -1  // an unknown type, refused below
            case (4, .fixed32(let v)): t.floats.append(Float(bitPattern: v))
            case (4, .bytes(let rr)):
                guard rr.count % 4 == 0 else { throw .syntax(format: format, location: "byte \(rr.lowerBound)", message: "float_data not a multiple of 4 bytes") }
                var k = rr.lowerBound
                while k < rr.upperBound {
                    t.floats.append(Float(bitPattern: UInt32(bytes[k]) | UInt32(bytes[k + 1]) << 8 | UInt32(bytes[k + 2]) << 16 | UInt32(bytes[k + 3]) << 24))
                    k += 4
                }
            case (8, .bytes(let rr)): t.name = p.string(rr)
            case (9, .bytes(let rr)): raw = rr
            case (10, .fixed64(let v)): doubles.append(Double(bitPattern: v))
            case (10, .bytes(let rr)):
                var k = rr.lowerBound
                while k + 8 <= rr.upperBound {
                    var v: UInt64 = 0
                    for j in 0..<8 { v |= UInt64(bytes[k + j]) << (8 * UInt64(j)) }
                    doubles.append(Double(bitPattern: v))
                    k += 8
                }
            case (14, .varint(let v)) where v == 1:
                throw .unsupported(format: format, what: "external tensor data", location: "initializer '\(t.name)'")
            default: break
            }
        }
        // The shape is untrusted: each dimension non-negative, the product checked for overflow and
        // bounded by the file (every value takes at least 4 bytes of it) before the 4 × count below.
        let location = "initializer '\(t.name)'"
        _ = try ModelLimits.check(t.dims.count, limit: ModelLimits.tensorDimensions, format: format, field: "dims", location: location)
        var count = 1
        for d in t.dims {
            guard d >= 0 else { throw .invalidField(format: format, field: "dims", location: location, message: "negative dimension in \(t.dims)") }
            let (product, overflow) = count.multipliedReportingOverflow(by: d)
            guard !overflow else {
                throw .tooLarge(format: format, field: "dims", location: location, value: "\(t.dims)", limit: "\(ModelLimits.tensorValues) values")
            }
            count = product
        }
        _ = try ModelLimits.check(count, limit: ModelLimits.tensorValues, format: format, field: "dims", location: location)
        _ = try ModelLimits.check(count, limit: bytes.count / 4, format: format, field: "dims", location: location,
                                  why: "the values a file of \(bytes.count) bytes can hold")
        if let raw {
            switch t.dataType {
            case 1:
                guard raw.count == 4 * count else {
                    throw .invalidField(format: format, field: "raw_data", location: "initializer '\(t.name)'", message: "\(raw.count) bytes for \(count) floats")
                }
                var k = raw.lowerBound
                while k < raw.upperBound {
                    t.floats.append(Float(bitPattern: UInt32(bytes[k]) | UInt32(bytes[k + 1]) << 8 | UInt32(bytes[k + 2]) << 16 | UInt32(bytes[k + 3]) << 24))
                    k += 4
                }
            case 11:
                guard raw.count == 8 * count else {
                    throw .invalidField(format: format, field: "raw_data", location: "initializer '\(t.name)'", message: "\(raw.count) bytes for \(count) doubles")
                }
                var k = raw.lowerBound
                while k < raw.upperBound {
                    var v: UInt64 = 0
                    for j in 0..<8 { v |= UInt64(bytes[k + j]) << (8 * UInt64(j)) }
                    t.floats.append(Float(Double(bitPattern: v)))
                    k += 8
                }
            default:
                throw .unsupported(format: format, what: "tensor data type \(t.dataType)", location: "initializer '\(t.name)'")
            }
        } else if !doubles.isEmpty {
            t.floats = doubles.map { Float($0) }
        }
        guard t.floats.count == count else {
            throw .invalidField(format: format, field: "dims", location: "initializer '\(t.name)'", message: "\(t.floats.count) values for shape \(t.dims)")
        }
        return t
    }

    static func node(_ bytes: [UInt8], _ r: Range<Int>) throws(ModelError) -> Node {
        var p = _Proto(bytes, r)
        var n = Node()
        while let (field, value) = try p.next() {
            guard case .bytes(let rr) = value else { continue }
            switch field {
            case 1: n.inputs.append(p.string(rr))
            case 2: n.outputs.append(p.string(rr))
            case 3: n.name = p.string(rr)
            case 4: n.op = p.string(rr)
            case 5:
                var a = _Proto(bytes, rr)
                var name = ""
                var f: Float? = nil
                var i: Int? = nil
                while let (af, av) = try a.next() {
                    switch (af, av) {
                    case (1, .bytes(let nr)): name = a.string(nr)
                    case (2, .fixed32(let v)): f = Float(bitPattern: v)
                    case (3, .varint(let v)): i = Int(Int64(bitPattern: v))
                    default: break
                    }
                }
                if let f { n.floats[name] = f }
                if let i { n.ints[name] = i }
            case 7:
                let domain = p.string(rr)
                if !domain.isEmpty && domain != "ai.onnx" {
                    throw .unsupported(format: format, what: "operator domain '\(domain)'", location: "node '\(n.name)'")
                }
            default: break
            }
        }
        return n
    }

    /// The last static dimension of a ValueInfoProto (the feature / output width).
    static func width(_ bytes: [UInt8], _ r: Range<Int>) throws(ModelError) -> (String, Int?) {
        var p = _Proto(bytes, r)
        var name = ""
        var last: Int? = nil
        while let (field, value) = try p.next() {
            guard case .bytes(let rr) = value else { continue }
            if field == 1 { name = p.string(rr) }
            if field == 2 {  // TypeProto
                var tp = _Proto(bytes, rr)
                while let (tf, tv) = try tp.next() {
                    guard tf == 1, case .bytes(let tr) = tv else { continue }  // tensor_type
                    var tt = _Proto(bytes, tr)
                    while let (sf, sv) = try tt.next() {
                        guard sf == 2, case .bytes(let sr) = sv else { continue }  // shape
                        var sh = _Proto(bytes, sr)
                        while let (df, dv) = try sh.next() {
                            guard df == 1, case .bytes(let dr) = dv else { continue }  // dim
                            var d = _Proto(bytes, dr)
                            last = nil
                            while let (vf, vv) = try d.next() {
                                // dim_value is untrusted: a value beyond Int's range is no fixed width.
                                if vf == 1, case .varint(let v) = vv { last = Int(exactly: v) }
                            }
                        }
                    }
                }
            }
        }
        return (name, last)
    }

    public static func load(_ bytes: [UInt8]) throws(ModelError) -> MLPModel {
        var top = _Proto(bytes, 0..<bytes.count)
        var graph: Range<Int>? = nil
        while let (field, value) = try top.next() {
            if field == 7, case .bytes(let r) = value { graph = r }
        }
        guard let graph else { throw .missingField(format: format, field: "graph", location: "ModelProto") }
        var g = _Proto(bytes, graph)
        var nodes: [Node] = []
        var initializers: [String: Tensor] = [:]
        var inputs: [(String, Int?)] = []
        var outputs: [(String, Int?)] = []
        while let (field, value) = try g.next() {
            guard case .bytes(let r) = value else { continue }
            switch field {
            case 1: nodes.append(try node(bytes, r))
            case 5: let t = try tensor(bytes, r); initializers[t.name] = t
            case 11: inputs.append(try width(bytes, r))
            case 12: outputs.append(try width(bytes, r))
            default: break
            }
        }
        let realInputs = inputs.filter { initializers[$0.0] == nil }
        guard realInputs.count == 1, let nf = realInputs[0].1, nf > 0 else {
            throw .invalidField(format: format, field: "graph.input", location: "GraphProto",
                                message: "expected one input of shape [batch, features] with a fixed feature count, found \(realInputs.map { "\($0.0) \($0.1.map(String.init) ?? "?")" })")
        }
        _ = try ModelLimits.check(nf, limit: ModelLimits.features, format: format, field: "graph.input", location: "input '\(realInputs[0].0)'")
        guard let output = outputs.first?.0 else { throw .missingField(format: format, field: "graph.output", location: "GraphProto") }

        var params: [Double] = []
        var steps: [MLPModel.Step] = []
        var activations: [String: (offset: Int, length: Int)] = [realInputs[0].0: (0, nf)]
        var scratchSize = nf
        // One initializer may be used by many nodes, each use copying it: bound the total.
        func reserveParameters(_ n: Int, _ loc: String) throws(ModelError) {
            _ = try ModelLimits.check(params.count + n, limit: ModelLimits.tensorValues, format: format, field: "parameters",
                                      location: loc, why: "weights and constants after compilation")
        }
        func constant(_ name: String, _ loc: String) throws(ModelError) -> (offset: Int, length: Int, dims: [Int])? {
            guard let t = initializers[name] else { return nil }
            try reserveParameters(t.floats.count, loc)
            let off = params.count
            params.append(contentsOf: t.floats.map { Double($0) })
            return (off, t.floats.count, t.dims)
        }
        func activation(_ name: String, _ node: Node) throws(ModelError) -> (offset: Int, length: Int) {
            guard let a = activations[name] else {
                throw .invalidField(format: format, field: "input", location: "node '\(node.name)' (\(node.op))",
                                    message: "'\(name)' is neither the graph input nor an earlier node's output")
            }
            return a
        }
        func allocate(_ name: String, _ n: Int, _ loc: String) throws(ModelError) -> Int {
            _ = try ModelLimits.check(scratchSize + n, limit: ModelLimits.activations, format: format, field: "activations",
                                      location: loc, why: "the forward pass's scratch values")
            let off = scratchSize
            scratchSize += n
            activations[name] = (off, n)
            return off
        }
        for node in nodes {
            let loc = "node '\(node.name)' (\(node.op))"
            guard let out = node.outputs.first else { throw .missingField(format: format, field: "output", location: loc) }
            switch node.op {
            case "Gemm", "MatMul":
                guard node.inputs.count >= 2 else { throw .missingField(format: format, field: "input B", location: loc) }
                if node.ints["transA"] ?? 0 != 0 { throw .unsupported(format: format, what: "Gemm transA=1", location: loc) }
                let a = try activation(node.inputs[0], node)
                guard let t = initializers[node.inputs[1]], t.dims.count == 2 else {
                    throw .unsupported(format: format, what: "\(node.op) whose B is not a 2-D initializer", location: loc)
                }
                let transB = node.op == "Gemm" && (node.ints["transB"] ?? 0) != 0
                let k = transB ? t.dims[1] : t.dims[0], n = transB ? t.dims[0] : t.dims[1]
                guard k == a.length else {
                    throw .invalidField(format: format, field: "B", location: loc, message: "B is \(t.dims), input has \(a.length) values")
                }
                guard n >= 1 else { throw .invalidField(format: format, field: "B", location: loc, message: "B is \(t.dims): no outputs") }
                try reserveParameters(n * k, loc)  // n * k == t.floats.count: no overflow
                // Weights as [n][k] so each output is one contiguous dot product.
                let w = params.count
                for o in 0..<n { for j in 0..<k { params.append(Double(transB ? t.floats[o * k + j] : t.floats[j * n + o])) } }
                var bias = -1, biasLength = 0
                if node.op == "Gemm", node.inputs.count >= 3, !node.inputs[2].isEmpty {
                    guard let c = try constant(node.inputs[2], loc), c.length == n || c.length == 1 else {
                        throw .unsupported(format: format, what: "Gemm bias that is not an initializer of \(n) or 1 values", location: loc)
                    }
                    bias = c.offset
                    biasLength = c.length
                }
                let o = try allocate(out, n, loc)
                steps.append(.dense(input: a.offset, k: k, output: o, n: n, weights: w, bias: bias, biasLength: biasLength,
                                    alpha: Double(node.op == "Gemm" ? node.floats["alpha"] ?? 1 : 1),
                                    beta: Double(node.op == "Gemm" ? node.floats["beta"] ?? 1 : 1)))
            case "Add":
                guard node.inputs.count == 2 else { throw .missingField(format: format, field: "input", location: loc) }
                if let a = activations[node.inputs[0]], let b = activations[node.inputs[1]] {
                    guard a.length == b.length else { throw .invalidField(format: format, field: "input", location: loc, message: "shapes differ") }
                    steps.append(.add(a: a.offset, b: b.offset, output: try allocate(out, a.length, loc), n: a.length))
                } else {
                    let actName = activations[node.inputs[0]] != nil ? node.inputs[0] : node.inputs[1]
                    let constName = actName == node.inputs[0] ? node.inputs[1] : node.inputs[0]
                    let a = try activation(actName, node)
                    guard let c = try constant(constName, loc), c.length == a.length || c.length == 1 else {
                        throw .invalidField(format: format, field: "input", location: loc, message: "'\(constName)' does not broadcast to \(a.length) values")
                    }
                    steps.append(.addConst(input: a.offset, output: try allocate(out, a.length, loc), n: a.length, constant: c.offset,
                                           constantLength: c.length))
                }
            case "Relu", "Tanh", "Sigmoid", "Softmax":
                guard let name = node.inputs.first else { throw .missingField(format: format, field: "input", location: loc) }
                let a = try activation(name, node)
                if node.op == "Softmax", let axis = node.ints["axis"], axis != -1, axis != 1 {
                    throw .unsupported(format: format, what: "Softmax axis=\(axis)", location: loc)
                }
                let o = try allocate(out, a.length, loc)
                switch node.op {
                case "Relu": steps.append(.relu(input: a.offset, output: o, n: a.length))
                case "Tanh": steps.append(.tanh(input: a.offset, output: o, n: a.length))
                case "Sigmoid": steps.append(.sigmoid(input: a.offset, output: o, n: a.length))
                default: steps.append(.softmax(input: a.offset, output: o, n: a.length))
                }
            default:
                throw .unsupportedOperator(name: node.op, node: node.name.isEmpty ? "#\(steps.count)" : node.name)
            }
        }
        guard let result = activations[output] else {
            throw .invalidField(format: format, field: "graph.output", location: "GraphProto", message: "'\(output)' is not produced by any node")
        }
        return MLPModel(numFeatures: nf, numOutputs: result.length, featureNames: (0..<nf).map { "f\($0)" }, steps: steps, params: params,
                        outputOffset: result.offset, scratch: _Scratch(count: scratchSize, value: 0.0))
    }
}
