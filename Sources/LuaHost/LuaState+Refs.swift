internal import CLua
internal import CLuaShims

/// Values kept in the Lua registry and passed by reference: a table or view converted once
/// is pushed again in constant time, with no conversion per call. This is how hot hooks
/// (a scheduler's filter and score, called for every node of every cycle) are called.
extension LuaState {
    /// Converts `value` once and keeps the result in the registry until the returned
    /// reference is dropped.
    public func reference(_ value: LuaValue) throws(LuaError) -> LuaRef {
        guard let L = core.current else { throw StateCore.closedError }
        let top = lua_gettop(L)
        try core.push(value, on: L, root: "value")
        let identity = UInt(bitPattern: lua_topointer(L, -1))
        let slot = klh_ref(L)
        lua_settop(L, top)
        return LuaRef(core: core, slot: slot, identity: identity)
    }

    /// A new empty table, kept in the registry.
    public func newTable() throws(LuaError) -> LuaRef {
        try reference(.map([:]))
    }

    /// Makes `key` a field of the read-only view `view` that is computed on first use:
    /// reading it (or walking the view with `pairs`) calls `index(content, key)`, a Lua
    /// function that may store the value with `rawset(content, key, value)` so later reads
    /// find it directly. `key` is listed among the view's fields.
    public func setLazyField(of view: LuaRef, key: String, index: LuaRef) throws(LuaError) {
        guard let L = core.current else { throw StateCore.closedError }
        guard view.core === core, index.core === core else {
            throw LuaError(kind: .conversion, message: "the value belongs to another Lua state")
        }
        let top = lua_gettop(L)
        defer { lua_settop(L, top) }
        guard lua_checkstack(L, 8) != 0 else { throw StateCore.stackError }
        klh_push_ref(L, view.slot)
        klh_new_table(L, 0, 1)
        klh_push_ref(L, index.slot)
        withBytes("__index") { ptr, count in klh_rawset_string(L, -2, ptr, count) }
        withBytes(key) { ptr, count in klh_view_add_lazy(L, -2, ptr, count) }
    }

    /// The number of VM instructions of `function` when each can run at most once (its
    /// bytecode has no loop and no backward jump), else nil. Such a function can be called
    /// with `straightCost` (see `straight.c`): no per-instruction count hook while it calls
    /// nothing, its size charged to the budget instead.
    public func straightCost(of function: LuaRef) -> Int64? {
        guard let L = core.current, function.core === core, lua_checkstack(L, 4) != 0 else { return nil }
        let top = lua_gettop(L)
        defer { lua_settop(L, top) }
        klh_push_ref(L, function.slot)
        let cost = klh_straight_cost(L, -1)
        return cost > 0 ? cost : nil
    }

    /// Calls `function(a, b, c)` (`b` may be left out) under the budgets, with arguments
    /// pushed by reference, and returns its first two results (nil when missing). Results
    /// that are tables are converted as by ``call(_:_:)``. With `straightCost` (from
    /// ``straightCost(of:)``) the function runs without the count hook until it calls
    /// anything.
    public func call(_ function: LuaRef, _ a: LuaRef, _ b: LuaRef?, _ c: LuaRef,
                     straightCost: Int64? = nil) throws(LuaError) -> (LuaValue, LuaValue) {
        try core.enter(budgetOn: nil) { L, _ throws(LuaError) in
            guard function.core === core, a.core === core, b.map({ $0.core === core }) ?? true, c.core === core else {
                throw LuaError(kind: .conversion, message: "function or argument belongs to another Lua state")
            }
            guard lua_checkstack(L, 8) != 0 else { throw StateCore.stackError }
            let base = lua_gettop(L)
            klh_push_ref(L, function.slot)
            klh_push_ref(L, a.slot)
            if let b { klh_push_ref(L, b.slot) }
            klh_push_ref(L, c.slot)
            let nargs: Int32 = b == nil ? 2 : 3
            let status = straightCost.map { klh_pcall_straight(L, nargs, $0) } ?? klh_pcall(L, nargs)
            if status != LUA_OK { throw core.error(on: L, status: status, loadedChunk: nil) }
            let top = lua_gettop(L)
            let first = top > base ? try core.value(at: base + 1, on: L, root: "result 1") : .nil
            let second = top > base + 1 ? try core.value(at: base + 2, on: L, root: "result 2") : .nil
            return (first, second)
        }
    }

    /// One call of ``callEach(_:_:_:_:straightCost:)``: its first two results, or the
    /// error it raised, and the instructions it spent.
    public struct EachCall {
        public var first: LuaValue = .nil
        public var second: LuaValue = .nil
        public var error: LuaError?
        public var instructions = 0
        /// Wall time of the call when the state ``LuaState/measuresTime``, else 0.
        public var nanoseconds = 0
    }

    /// Calls `function(a, item, c)` for every item, in order, in one crossing into Lua. Each
    /// call is a call of its own, as with ``call(_:_:_:_:straightCost:)``: its own budgets,
    /// the straight path when `straightCost` is given, its own error. Results that are
    /// tables are converted as by ``call(_:_:)``. ``lastCallCost`` afterwards covers all
    /// the calls.
    public func callEach(_ function: LuaRef, _ a: LuaRef, _ items: [LuaRef], _ c: LuaRef,
                         straightCost: Int64? = nil) throws(LuaError) -> [EachCall] {
        guard !items.isEmpty else { return [] }
        let calls = try core.enter(budgetOn: nil) { L, _ throws(LuaError) in
            guard function.core === core, a.core === core, c.core === core, items.allSatisfy({ $0.core === core }) else {
                throw LuaError(kind: .conversion, message: "function or argument belongs to another Lua state")
            }
            guard lua_checkstack(L, 12) != 0 else { throw StateCore.stackError }
            let slots = items.map { Int32($0.slot) }
            var raw = [klh_each_result](repeating: klh_each_result(), count: items.count)
            var calls = [EachCall](repeating: EachCall(), count: items.count)
            klh_new_table(L, 0, 0)
            let extras = lua_gettop(L)
            let budget = Int64(max(1, core.limits.instructionsPerCall))
            var from: Int32 = 0
            let count = Int32(items.count)
            var failed: [(index: Int, error: LuaError)] = []
            while from < count {
                var status: Int32 = LUA_OK
                let stopped = slots.withUnsafeBufferPointer { s in
                    raw.withUnsafeMutableBufferPointer { r in
                        klh_pcall_each(L, function.slot, a.slot, c.slot, s.baseAddress, from, count, straightCost ?? 0,
                                       budget, core.limits.wallNanoseconds, measuresTime ? 1 : 0, extras, r.baseAddress, &status)
                    }
                }
                guard stopped < count else { break }
                failed.append((Int(stopped), core.error(on: L, status: status, loadedChunk: nil)))
                lua_settop(L, extras)
                from = stopped + 1
            }
            var next = 0
            for k in 0..<items.count {
                calls[k].instructions = Int(raw[k].instructions)
                calls[k].nanoseconds = Int(raw[k].nanoseconds)
                if next < failed.count && failed[next].index == k {
                    calls[k].error = failed[next].error
                    next += 1
                    continue
                }
                calls[k].first = try eachValue(L, raw[k].type1, raw[k].bool1, raw[k].int1, raw[k].num1, extras, Int64(2 * k + 1))
                calls[k].second = try eachValue(L, raw[k].type2, raw[k].bool2, raw[k].int2, raw[k].num2, extras, Int64(2 * k + 2))
            }
            return calls
        }
        core.lastCost = LuaCallCost(instructions: calls.reduce(0) { $0 + $1.instructions },
                                    nanoseconds: calls.reduce(0) { $0 + $1.nanoseconds })
        return calls
    }

    private func eachValue(_ L: OpaquePointer, _ type: Int32, _ b: Int32, _ i: Int64, _ d: Double,
                           _ extras: Int32, _ slot: Int64) throws(LuaError) -> LuaValue {
        switch type {
        case LUA_TNONE, LUA_TNIL: return .nil
        case LUA_TBOOLEAN: return .boolean(b != 0)
        case LUA_TNUMBER: return .integer(i)
        case KLH_EACH_FLOAT: return .number(d)
        default:
            lua_rawgeti(L, extras, slot)
            defer { lua_settop(L, -2) }
            return try core.value(at: lua_gettop(L), on: L, root: "result")
        }
    }
}
