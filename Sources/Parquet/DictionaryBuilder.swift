/// Open-addressing hash tables that turn a column chunk's values into dictionary indices, giving
/// up (nil) as soon as the distinct values exceed the limit: a high-cardinality column costs one
/// partial pass, then is written PLAIN.
enum DictionaryBuilder {
    @inline(__always) static func mix(_ v: UInt64) -> UInt64 {
        var x = v &* 0x9E37_79B9_7F4A_7C15
        x ^= x >> 29
        return x
    }

    static func tableSize(_ limit: Int) -> Int {
        var cap = 16
        while cap < limit * 2 { cap <<= 1 }
        return cap
    }

    /// Indices of `values` into the returned dictionary (first-seen order), or nil past `limit` entries.
    static func integers<T: FixedWidthInteger>(_ values: [T], limit: Int) -> (dictionary: [T], indices: [UInt32])? {
        let cap = tableSize(limit)
        let mask = cap - 1
        var slots = [Int32](repeating: -1, count: cap)
        var dictionary: [T] = []
        var indices = [UInt32](repeating: 0, count: values.count)
        var ok = true
        values.withUnsafeBufferPointer { v in
            slots.withUnsafeMutableBufferPointer { s in
                indices.withUnsafeMutableBufferPointer { out in
                    for k in 0..<v.count {
                        let x = v[k]
                        var h = Int(truncatingIfNeeded: mix(UInt64(truncatingIfNeeded: x))) & mask
                        while true {
                            let e = s[h]
                            if e < 0 {
                                if dictionary.count == limit {
                                    ok = false
                                    return
                                }
                                s[h] = Int32(dictionary.count)
                                out[k] = UInt32(dictionary.count)
                                dictionary.append(x)
                                break
                            }
                            if dictionary[Int(e)] == x {
                                out[k] = UInt32(e)
                                break
                            }
                            h = (h + 1) & mask
                        }
                    }
                }
            }
        }
        return ok ? (dictionary, indices) : nil
    }

    /// Dictionary indices of the strings `bytes` / `ends` (value k is `bytes[ends[k-1]..<ends[k]]`):
    /// the dictionary as the index of each entry's first occurrence, or nil past `limit` entries.
    static func strings(bytes: [UInt8], ends: [Int], limit: Int) -> (firsts: [Int], indices: [UInt32])? {
        let cap = tableSize(limit)
        let mask = cap - 1
        var slots = [Int32](repeating: -1, count: cap)
        var firsts: [Int] = []
        var indices = [UInt32](repeating: 0, count: ends.count)
        var ok = true
        bytes.withUnsafeBufferPointer { b in
            ends.withUnsafeBufferPointer { e in
                slots.withUnsafeMutableBufferPointer { s in
                    for k in 0..<e.count {
                        let start = k == 0 ? 0 : e[k - 1]
                        let end = e[k]
                        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
                        for i in start..<end { hash = (hash ^ UInt64(b[i])) &* 0x100_0000_01b3 }
                        var h = Int(truncatingIfNeeded: mix(hash)) & mask
                        while true {
                            let slot = s[h]
                            if slot < 0 {
                                if firsts.count == limit {
                                    ok = false
                                    return
                                }
                                s[h] = Int32(firsts.count)
                                indices[k] = UInt32(firsts.count)
                                firsts.append(k)
                                break
                            }
                            let f = firsts[Int(slot)]
                            let fs = f == 0 ? 0 : e[f - 1]
                            let fe = e[f]
                            if fe - fs == end - start && (0..<(end - start)).allSatisfy({ b[fs + $0] == b[start + $0] })
                            {
                                indices[k] = UInt32(slot)
                                break
                            }
                            h = (h + 1) & mask
                        }
                    }
                }
            }
        }
        return ok ? (firsts, indices) : nil
    }
}
