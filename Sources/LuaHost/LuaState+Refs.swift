internal import CLua
internal import CLuaShims

/// Values kept in the Lua registry and passed by reference: a table or view converted once
/// is pushed again in constant time, with no conversion per call. This is how hot hooks
/// (a scheduler's filter and score, called for every node of every cycle) are called.
extension LuaState {
    /// Converts `value` once and keeps the result in the registry until the returned
    /// reference is dropped.
    public func reference(_ value: LuaValue) throws(LuaError) -> LuaRef {
        try reference(value, inOneSpan: false)
    }

    /// ``reference(_:)``, with `inOneSpan` making the value's objects lie side by side in
    /// memory (a view read over and over, such as a node's): ``callEach(_:_:_:at:_:straightCost:_:)``
    /// then has a later item's objects read into the cache while the current call runs.
    public func reference(_ value: LuaValue, inOneSpan: Bool) throws(LuaError) -> LuaRef {
        guard let L = core.current else { throw StateCore.closedError }
        let top = lua_gettop(L)
        var length: Int32 = 0
        var span: UnsafeRawPointer?
        if inOneSpan {
            klh_region_begin(L)
            defer { span = klh_region_end(L, &length) }
            try core.push(value, on: L, root: "value")
        } else {
            try core.push(value, on: L, root: "value")
        }
        let identity = UInt(bitPattern: lua_topointer(L, -1))
        var twinSlot: Int32 = 0
        lua_pushvalue(L, -1)
        if klh_twin_replace(L, -1) != 0 { twinSlot = klh_ref(L) } else { lua_settop(L, -2) }
        let slot = klh_ref(L)
        lua_settop(L, top)
        return LuaRef(core: core, slot: slot, identity: identity, span: span, spanLength: length, twinSlot: twinSlot)
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

    /// Lets ``callEach(_:_:_:at:_:straightCost:_:)`` run a straight function that writes no
    /// table on the plain twins of its views (see `straight.c`), when no function of `chunk`
    /// (a plugin's code, compiled) writes a table with a computed key, so that no table of
    /// the plugin can be keyed by a view. Returns whether twins are now allowed. Code loaded
    /// at run time, or `rawset` with a table key, stops them for good.
    @discardableResult
    public func allowTwins(ifNoKeyedWritesIn chunk: LuaRef) -> Bool {
        guard let L = core.current, chunk.core === core, lua_checkstack(L, 4) != 0 else { return false }
        let top = lua_gettop(L)
        defer { lua_settop(L, top) }
        klh_push_ref(L, chunk.slot)
        return klh_twins_allow(L, -1) == 1
    }

    /// Calls of ``callEach(_:_:_:at:_:straightCost:_:)`` that ran on twins, and calls that
    /// started on twins and ran again on the views (a call twins cannot make, an error, a
    /// table result).
    public var twinCounts: (calls: Int64, reruns: Int64) {
        guard let L = core.current else { return (0, 0) }
        var calls: Int64 = 0, reruns: Int64 = 0
        klh_twin_counts(L, &calls, &reruns)
        return (calls, reruns)
    }

    /// Whether the straight path's call hook reads the function a call enters from the
    /// call's own frame (this Lua build's layout checked), instead of asking lua_getinfo.
    static var straightReadsCallee: Bool { klh_straight_reads_callee() == 1 }

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
        /// Ran on twins (see ``allowTwins(ifNoKeyedWritesIn:)``): it changed nothing, so
        /// its results hold for the same arguments while ``codeEpoch`` is `epoch`.
        public var onTwins = false
        /// ``codeEpoch`` when the call returned.
        public var epoch: Int64 = 0

        public init() {}
    }

    /// Calls `function(a, item, c)` for every item, in order, in one crossing into Lua. Each
    /// call is a call of its own, as with ``call(_:_:_:_:straightCost:)``: its own budgets,
    /// the straight path when `straightCost` is given, its own error. Results that are
    /// tables are converted as by ``call(_:_:)``. ``lastCallCost`` afterwards covers all
    /// the calls.
    public func callEach(_ function: LuaRef, _ a: LuaRef, _ items: [LuaRef], _ c: LuaRef,
                         straightCost: Int64? = nil) throws(LuaError) -> [EachCall] {
        var calls: [EachCall] = []
        calls.reserveCapacity(items.count)
        try callEach(function, a, items, c, straightCost: straightCost) { _, call in calls.append(call) }
        return calls
    }

    /// ``callEach(_:_:_:_:straightCost:)`` handing each call to `each` (its index and
    /// outcome) as soon as its block of calls is done, so that a long list never makes a
    /// large array of results: the calls run in blocks of a few hundred, their raw results
    /// in a small buffer that stays in the cache. `each` must not call into this state.
    public func callEach(_ function: LuaRef, _ a: LuaRef, _ items: [LuaRef], _ c: LuaRef,
                         straightCost: Int64? = nil, _ each: (Int, EachCall) -> Void) throws(LuaError) {
        guard items.allSatisfy({ $0.core === core }) else {
            throw LuaError(kind: .conversion, message: "function or argument belongs to another Lua state")
        }
        let slots = items.map(\.slot), twins = items.map(\.twinSlot), spans = items.map(\.span), lengths = items.map(\.spanLength)
        try slots.withUnsafeBufferPointer { (s) throws(LuaError) in
            try twins.withUnsafeBufferPointer { (t) throws(LuaError) in
                try spans.withUnsafeBufferPointer { (sp) throws(LuaError) in
                    try lengths.withUnsafeBufferPointer { (ln) throws(LuaError) in
                        try callEach(function, a, slots: s, twins: t, spans: sp, lengths: ln, positions: nil, c, straightCost: straightCost, each)
                    }
                }
            }
        }
    }

    /// ``callEach(_:_:_:_:straightCost:_:)`` over the references of `items` at `positions`
    /// (each must hold one): the slots are read from the array's own list, so a call over
    /// thousands of references does not visit each reference object.
    ///
    /// With `reuse` (one flag per position), a call whose flag is set is not made while
    /// ``codeEpoch`` is still `reuseEpoch`, and `each` does not get it: the caller gives the
    /// results it kept for every flagged position `each` skips. Once other code has run
    /// (the epoch moved), the flagged calls after it are made and handed to `each`.
    public func callEach(_ function: LuaRef, _ a: LuaRef, _ items: LuaRefArray, at positions: [Int], _ c: LuaRef,
                         straightCost: Int64? = nil, reuse: [UInt8]? = nil, reuseEpoch: Int64 = 0,
                         _ each: (Int, EachCall) -> Void) throws(LuaError) {
        guard items.core === core else {
            throw LuaError(kind: .conversion, message: "function or argument belongs to another Lua state")
        }
        guard reuse.map({ $0.count == positions.count }) ?? true else {
            throw LuaError(kind: .conversion, message: "reuse flags: \(reuse?.count ?? 0) for \(positions.count) positions")
        }
        try items.check(positions)
        try items.withLists { (s, t, sp, ln) throws(LuaError) in
            try positions.withUnsafeBufferPointer { (p) throws(LuaError) in
                if let reuse {
                    try reuse.withUnsafeBufferPointer { (r) throws(LuaError) in
                        try callEach(function, a, slots: s, twins: t, spans: sp, lengths: ln, positions: p,
                                     reuse: r.baseAddress, reuseEpoch: reuseEpoch, c, straightCost: straightCost, each)
                    }
                } else {
                    try callEach(function, a, slots: s, twins: t, spans: sp, lengths: ln, positions: p, c, straightCost: straightCost, each)
                }
            }
        }
    }

    /// The state's code epoch: it moves whenever plugin code runs, except calls of
    /// ``callEach(_:_:_:at:_:straightCost:reuse:reuseEpoch:_:)`` that ran on twins (those
    /// change nothing). While it stands, a function's upvalues and globals hold what they held.
    public var codeEpoch: Int64 {
        guard let L = core.current else { return -1 }
        return klh_code_epoch(L)
    }

    /// The fields of argument `argument` (0 for the first) that `function` can read: the
    /// names, or nil when it may read any field, or when its code cannot be followed (see
    /// `reads.c`). Found from its bytecode and from the functions it calls with that
    /// argument, as they are now: the answer holds while ``codeEpoch`` stands.
    public func fieldsRead(by function: LuaRef, argument: Int) -> [String]? {
        guard function.core === core, let L = core.current, lua_checkstack(L, 4) != 0 else { return nil }
        var buf = [CChar](repeating: 0, count: 4096)
        klh_push_ref(L, function.slot)
        let count = buf.withUnsafeMutableBufferPointer { klh_arg_fields(L, -1, Int32(argument), $0.baseAddress, $0.count) }
        lua_settop(L, -2)
        guard count >= 0 else { return nil }
        var names: [String] = []
        var at = 0
        for _ in 0..<Int(count) {
            let end = buf[at...].firstIndex(of: 0) ?? buf.count
            names.append(String(decoding: buf[at..<end].map { UInt8(bitPattern: $0) }, as: UTF8.self))
            at = end + 1
        }
        return names
    }

    /// The calls over registry slots the caller keeps alive: `slots[i]` for each `i` of
    /// `positions` (every slot when nil), with their twins' slots and the spans of their values.
    private func callEach(_ function: LuaRef, _ a: LuaRef, slots: UnsafeBufferPointer<Int32>, twins: UnsafeBufferPointer<Int32>,
                          spans: UnsafeBufferPointer<UnsafeRawPointer?>,
                          lengths: UnsafeBufferPointer<Int32>, positions: UnsafeBufferPointer<Int>?,
                          reuse: UnsafePointer<UInt8>? = nil, reuseEpoch: Int64 = 0,
                          _ c: LuaRef, straightCost: Int64?, _ each: (Int, EachCall) -> Void) throws(LuaError) {
        let count = positions?.count ?? slots.count
        guard count > 0 else { return }
        var cost = LuaCallCost()
        try core.enter(budgetOn: nil) { L, _ throws(LuaError) in
            guard function.core === core, a.core === core, c.core === core else {
                throw LuaError(kind: .conversion, message: "function or argument belongs to another Lua state")
            }
            guard lua_checkstack(L, 12) != 0 else { throw StateCore.stackError }
            let block = 256
            // The state's results table and raw buffer, or ones of its own if a callEach is
            // already using those.
            let shared = !core.eachResultsInUse
            var raw: [klh_each_result]
            if shared && core.eachRaw.count == block {
                raw = core.eachRaw
                core.eachRaw = []
            } else {
                raw = [klh_each_result](repeating: klh_each_result(), count: shared ? block : min(block, count))
            }
            defer { if shared { core.eachRaw = raw } }
            if shared {
                if core.eachResults == 0 {
                    klh_new_table(L, Int32(2 * block), 0)
                    core.eachResults = klh_ref(L)
                }
                klh_push_ref(L, core.eachResults)
                core.eachResultsInUse = true
            } else {
                klh_new_table(L, Int32(2 * raw.count), 0)
            }
            defer { if shared { core.eachResultsInUse = false } }
            let extras = lua_gettop(L)
            let budget = Int64(max(1, core.limits.instructionsPerCall))
            var first = 0
            while first < count {
                let end = min(first + block, count)
                var from = Int32(first)
                while from < Int32(end) {
                    var status: Int32 = LUA_OK
                    let stopped = raw.withUnsafeMutableBufferPointer { r in
                        klh_pcall_each(L, function.slot, a.slot, c.slot, slots.baseAddress, twins.baseAddress, positions?.baseAddress,
                                       reuse, reuseEpoch, Int32(first), from,
                                       Int32(end), straightCost ?? 0, budget, core.limits.wallNanoseconds, measuresTime ? 1 : 0,
                                       extras, spans.baseAddress, lengths.baseAddress, r.baseAddress, &status)
                    }
                    // Calls before the one that stopped (or all of the block) are done. Their
                    // results are read in place (a copy of each would be a call of memmove).
                    try raw.withUnsafeBufferPointer { (results) throws(LuaError) in
                        for k in Int(from)..<Int(stopped) {
                            let r = results.baseAddress! + (k - first)
                            if r.pointee.reused != 0 { continue }
                            var call = EachCall()
                            call.instructions = Int(r.pointee.instructions)
                            call.nanoseconds = Int(r.pointee.nanoseconds)
                            call.onTwins = r.pointee.on_twins != 0
                            call.epoch = r.pointee.epoch
                            call.first = try eachValue(L, r.pointee.type1, r.pointee.bool1, r.pointee.int1, r.pointee.num1, extras,
                                                       Int64(2 * (k - first) + 1))
                            call.second = try eachValue(L, r.pointee.type2, r.pointee.bool2, r.pointee.int2, r.pointee.num2, extras,
                                                        Int64(2 * (k - first) + 2))
                            cost.instructions += call.instructions
                            cost.nanoseconds += call.nanoseconds
                            each(k, call)
                        }
                    }
                    guard stopped < Int32(end) else { break }
                    let r = raw[Int(stopped) - first]
                    var failed = EachCall()
                    failed.error = core.error(on: L, status: status, loadedChunk: nil)
                    failed.instructions = Int(r.instructions)
                    failed.nanoseconds = Int(r.nanoseconds)
                    failed.epoch = r.epoch
                    lua_settop(L, extras)
                    cost.instructions += failed.instructions
                    cost.nanoseconds += failed.nanoseconds
                    each(Int(stopped), failed)
                    from = stopped + 1
                }
                first = end
            }
        }
        core.lastCost = cost
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
            defer {
                lua_settop(L, -2)
                // the slot is read once: the table keeps no result alive
                lua_pushnil(L)
                lua_rawseti(L, extras, slot)
            }
            return try core.value(at: lua_gettop(L), on: L, root: "result")
        }
    }
}
