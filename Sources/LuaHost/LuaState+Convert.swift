internal import CLua
internal import CLuaShims

/// Conversions between `LuaValue` and the Lua stack.
///
/// Both directions use only raw, non-raising API calls (no metamethods run): reads use
/// `lua_type`, `lua_next`, `lua_rawgeti`, `lua_tolstring` on real strings; writes use
/// `lua_rawset`/`lua_rawseti` on tables the host creates. They run while the memory cap is
/// lifted (host mode), so allocation cannot raise either.
extension StateCore {
    static let maxDepth = 64
    /// Values one conversion may produce. A table reachable many times is converted each
    /// time, so without a cap a small DAG (`t = {t, t}` 26 times) would expand to 2^26
    /// values, with no Lua budget to stop it.
    static let maxValues = 200_000

    private struct PullContext {
        var root: String
        var path: [String] = []
        var visiting: Set<UInt> = []
        var values = 0

        func failure(_ reason: String) -> LuaError {
            let at = path.isEmpty ? "" : " at " + path.joined()
            return LuaError(kind: .conversion, message: "cannot convert \(root)\(at): \(reason)")
        }
    }

    /// Converts the value at `index` of `L`; `root` names it in error messages
    /// (e.g. "result 1").
    func value(at index: Int32, on L: OpaquePointer, root: String) throws(LuaError) -> LuaValue {
        var context = PullContext(root: root)
        return try pull(lua_absindex(L, index), L, &context, depth: 0)
    }

    private func pull(_ idx: Int32, _ L: OpaquePointer, _ ctx: inout PullContext, depth: Int) throws(LuaError) -> LuaValue {
        ctx.values += 1
        guard ctx.values <= Self.maxValues else {
            throw ctx.failure("more than \(Self.maxValues) values (a table that appears several times counts each time)")
        }
        switch lua_type(L, idx) {
        case LUA_TNIL:
            return .nil
        case LUA_TBOOLEAN:
            return .boolean(lua_toboolean(L, idx) != 0)
        case LUA_TNUMBER:
            if lua_isinteger(L, idx) != 0 { return .integer(lua_tointegerx(L, idx, nil)) }
            return .number(lua_tonumberx(L, idx, nil))
        case LUA_TSTRING:
            return .string(luaString(at: idx, L))
        case LUA_TFUNCTION:
            guard lua_checkstack(L, 2) != 0 else { throw ctx.failure("Lua stack overflow") }
            let identity = UInt(bitPattern: lua_topointer(L, idx))
            lua_pushvalue(L, idx)
            let slot = klh_ref(L)
            return .function(LuaRef(core: self, slot: slot, identity: identity))
        case LUA_TTABLE:
            return try pullTable(idx, L, &ctx, depth: depth)
        default:
            let name = String(cString: lua_typename(L, lua_type(L, idx)))
            throw ctx.failure("\(name) values cannot be converted")
        }
    }

    private func pullTable(_ idx: Int32, _ L: OpaquePointer, _ ctx: inout PullContext, depth: Int) throws(LuaError) -> LuaValue {
        guard depth < Self.maxDepth else {
            throw ctx.failure("tables nested deeper than \(Self.maxDepth) levels")
        }
        guard lua_checkstack(L, 6) != 0 else { throw ctx.failure("Lua stack overflow") }
        let top = lua_gettop(L)
        defer { lua_settop(L, top) }
        if klh_view_content(L, idx) != 0 {
            return try pullTable(lua_gettop(L), L, &ctx, depth: depth)
        }
        let identity = UInt(bitPattern: lua_topointer(L, idx))
        guard ctx.visiting.insert(identity).inserted else {
            throw ctx.failure("the table contains a cycle")
        }
        var integerKeys: [Int64: LuaValue] = [:]
        var stringKeys: [String: LuaValue] = [:]
        var otherKeys: [String] = []
        lua_pushnil(L)
        while lua_next(L, idx) != 0 {
            let valueIndex = lua_gettop(L)
            let keyType = lua_type(L, -2)
            if keyType == LUA_TSTRING {
                let key = luaString(at: -2, L)
                ctx.path.append("." + Self.clip(key))
                stringKeys[key] = try pull(valueIndex, L, &ctx, depth: depth + 1)
                ctx.path.removeLast()
            } else if keyType == LUA_TNUMBER && lua_isinteger(L, -2) != 0 {
                let key = lua_tointegerx(L, -2, nil)
                ctx.path.append("[\(key)]")
                integerKeys[key] = try pull(valueIndex, L, &ctx, depth: depth + 1)
                ctx.path.removeLast()
            } else {
                otherKeys.append(describeKey(at: -2, L))
            }
            lua_settop(L, -2)
        }
        ctx.visiting.remove(identity)

        if let key = otherKeys.min() {
            throw ctx.failure("unsupported table key \(key) (tables must be sequences 1..n or have only string keys)")
        }
        if !integerKeys.isEmpty, let key = stringKeys.keys.min() {
            throw ctx.failure("table mixes integer and string keys (string key '\(Self.clip(key))')")
        }
        if !integerKeys.isEmpty {
            let n = integerKeys.count
            if let key = integerKeys.keys.filter({ $0 < 1 || $0 > Int64(n) }).min() {
                throw ctx.failure("table is not a sequence: integer key \(key) (expected keys 1..\(n))")
            }
            return .array((1...n).map { integerKeys[Int64($0)] ?? .nil })
        }
        return .map(stringKeys)
    }

    private func describeKey(at idx: Int32, _ L: OpaquePointer) -> String {
        switch lua_type(L, idx) {
        case LUA_TNUMBER:
            return "\(lua_tonumberx(L, idx, nil))"
        case LUA_TBOOLEAN:
            return lua_toboolean(L, idx) != 0 ? "true" : "false"
        default:
            return "of type " + String(cString: lua_typename(L, lua_type(L, idx)))
        }
    }

    /// A key for an error message: at most 64 characters, control characters escaped.
    static func clip(_ s: String) -> String {
        var out = ""
        for scalar in s.unicodeScalars.prefix(64) {
            if scalar.value < 32 || scalar.value == 127 {
                out += "\\u{" + String(scalar.value, radix: 16) + "}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return s.unicodeScalars.count > 64 ? out + "..." : out
    }

    /// The bytes of the string at `idx` (which must be a real string, so nothing converts).
    func luaString(at idx: Int32, _ L: OpaquePointer) -> String {
        var length = 0
        guard let bytes = lua_tolstring(L, idx, &length) else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: bytes, count: length), as: UTF8.self)
    }

    func pushString(_ s: String, on L: OpaquePointer) {
        withBytes(s) { ptr, count in _ = lua_pushlstring(L, ptr, count) }
    }

    /// Pushes `value` onto `L` (one slot). `root` names the value in error messages.
    func push(_ value: LuaValue, on L: OpaquePointer, root: String) throws(LuaError) {
        let top = lua_gettop(L)
        do throws(LuaError) {
            try push(value, on: L, view: nil, depth: 0)
        } catch {
            lua_settop(L, top)
            throw LuaError(kind: error.kind, message: "cannot convert \(root): \(error.message)")
        }
    }

    private func push(_ value: LuaValue, on L: OpaquePointer, view: String?, depth: Int) throws(LuaError) {
        guard depth <= Self.maxDepth else {
            throw LuaError(kind: .conversion, message: "values nested deeper than \(Self.maxDepth) levels")
        }
        guard lua_checkstack(L, 4) != 0 else {
            throw LuaError(kind: .conversion, message: "Lua stack overflow")
        }
        switch value {
        case .nil:
            lua_pushnil(L)
        case .boolean(let b):
            lua_pushboolean(L, b ? 1 : 0)
        case .integer(let i):
            lua_pushinteger(L, i)
        case .number(let d):
            lua_pushnumber(L, d)
        case .string(let s):
            pushString(s, on: L)
        case .array(let elements):
            let interned = view != nil && depth > 0 ? Self.internKey(view!, array: elements) : nil
            if let interned, Self.pushInterned(interned, on: L) { return }
            klh_new_table(L, Int32(clamping: elements.count), 0)
            for (i, element) in elements.enumerated() {
                try push(element, on: L, view: view, depth: depth + 1)
                lua_rawseti(L, -2, Int64(i + 1))
            }
            if let view {
                withBytes(view) { ptr, count in klh_make_view(L, ptr, count, 0) }
                if let interned { Self.intern(interned, on: L) }
            }
        case .map(let entries):
            var sorted = entries.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
            func isNil(_ v: LuaValue) -> Bool { if case .nil = v { return true } else { return false } }
            if sorted.contains(where: { isNil($0.value) }) { sorted.removeAll { isNil($0.value) } }
            let interned = view != nil && depth > 0 ? Self.internKey(view!, map: sorted) : nil
            if let interned, Self.pushInterned(interned, on: L) { return }
            klh_new_table(L, 0, Int32(clamping: sorted.count))
            for (key, element) in sorted {
                try push(element, on: L, view: view, depth: depth + 1)
                withBytes(key) { ptr, count in klh_rawset_string(L, -2, ptr, count) }
            }
            if let view {
                // The sorted key list `pairs` walks; views of the same shape (every node's
                // `free`, say) share one, so thousands of views do not carry thousands of
                // copies between their tables.
                let signature = sorted.map(\.key)
                if let shared = sharedKeyLists[signature] {
                    klh_push_ref(L, shared)
                } else {
                    klh_new_table(L, Int32(clamping: sorted.count), 0)
                    for (i, entry) in sorted.enumerated() {
                        pushString(entry.key, on: L)
                        lua_rawseti(L, -2, Int64(i + 1))
                    }
                    if sharedKeyLists.count < Self.maxSharedKeyLists {
                        lua_pushvalue(L, -1)
                        sharedKeyLists[signature] = klh_ref(L)
                    }
                }
                withBytes(view) { ptr, count in klh_make_view(L, ptr, count, 1) }
                if let interned { Self.intern(interned, on: L) }
            }
        case .function(let ref):
            guard ref.core === self else {
                throw LuaError(kind: .conversion, message: "the function belongs to another Lua state")
            }
            klh_push_ref(L, ref.slot)
        case .view(let name, let inner):
            switch inner {
            case .array, .map:
                try push(inner, on: L, view: name, depth: depth)
            default:
                try push(inner, on: L, view: nil, depth: depth)
            }
        }
    }
}

// Interned views: a nested view whose fields are all plain values is shared by every
// object that has the same one (a node pool's `allocatable`, empty `labels` and `taints`).
// Views are read-only and `rawset` refuses them, so sharing is invisible to a plugin except
// that two equal such views are the same table. Thousands of node views then carry their
// own fields only, which keeps a scheduling cycle's reads in fewer cache lines.
extension StateCore {
    /// Views with more fields than this are built for each object.
    static let maxInternedFields = 32

    /// The key of a map view of plain values: its name, then each field and value; nil when
    /// a field holds a table (or a function), or there are too many fields.
    static func internKey(_ view: String, map entries: [(key: String, value: LuaValue)]) -> [UInt8]? {
        guard entries.count <= maxInternedFields else { return nil }
        var key = internPrefix(view, kind: UInt8(ascii: "m"))
        for (name, value) in entries {
            appendBytes(name, to: &key)
            guard appendScalar(value, to: &key) else { return nil }
        }
        return key
    }

    /// The key of an array view of plain values (nil as for maps).
    static func internKey(_ view: String, array elements: [LuaValue]) -> [UInt8]? {
        guard elements.count <= maxInternedFields else { return nil }
        var key = internPrefix(view, kind: UInt8(ascii: "a"))
        for value in elements {
            guard appendScalar(value, to: &key) else { return nil }
        }
        return key
    }

    private static func internPrefix(_ view: String, kind: UInt8) -> [UInt8] {
        var key: [UInt8] = []
        key.reserveCapacity(96)
        appendBytes(view, to: &key)
        key.append(kind)
        return key
    }

    /// Length (4 bytes) then the bytes, so that no two lists of strings give one key.
    private static func appendBytes(_ s: String, to key: inout [UInt8]) {
        let count = UInt32(truncatingIfNeeded: s.utf8.count)
        withUnsafeBytes(of: count.littleEndian) { key.append(contentsOf: $0) }
        key.append(contentsOf: s.utf8)
    }

    /// A type tag, then the value; false for a value that is not plain.
    private static func appendScalar(_ value: LuaValue, to key: inout [UInt8]) -> Bool {
        switch value {
        case .nil:
            key.append(0)
        case .boolean(let b):
            key.append(b ? 2 : 1)
        case .integer(let i):
            key.append(3)
            withUnsafeBytes(of: i.littleEndian) { key.append(contentsOf: $0) }
        case .number(let d):
            key.append(4)
            withUnsafeBytes(of: d.bitPattern.littleEndian) { key.append(contentsOf: $0) }
        case .string(let s):
            key.append(5)
            appendBytes(s, to: &key)
        case .array, .map, .function, .view:
            return false
        }
        return true
    }

    /// Pushes the interned view of `key` if there is one.
    static func pushInterned(_ key: [UInt8], on L: OpaquePointer) -> Bool {
        key.withUnsafeBytes { raw in
            klh_view_intern_get(L, raw.baseAddress?.assumingMemoryBound(to: CChar.self), raw.count) != 0
        }
    }

    /// Interns the view on top of the stack under `key` (it stays on the stack).
    static func intern(_ key: [UInt8], on L: OpaquePointer) {
        key.withUnsafeBytes { raw in
            klh_view_intern_put(L, raw.baseAddress?.assumingMemoryBound(to: CChar.self), raw.count)
        }
    }
}
