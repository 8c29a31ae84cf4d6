internal import CLua
internal import CLuaShims

extension LuaState {
    /// Compiles `source` as text (mode "t") with the chunk name `"@" + chunkName`, so
    /// messages read `plugins/x.lua:12: ...`, runs it under the instruction budget and
    /// returns its results (functions become `.function(LuaRef)`).
    ///
    /// Throws `.syntax` for compile errors (including binary chunks), and `.runtime`,
    /// `.budget`, `.memory`, `.yield` or `.conversion` otherwise.
    public func load(source: String, chunkName: String) throws(LuaError) -> [LuaValue] {
        try core.enter(budgetOn: nil) { L, _ throws(LuaError) in
            let base = lua_gettop(L)
            guard lua_checkstack(L, 4) != 0 else { throw StateCore.stackError }
            let status = withBytes(source) { ptr, count in
                ("@" + chunkName).withCString { name in klh_load(L, ptr, count, name) }
            }
            if status != LUA_OK {
                throw core.error(on: L, status: status, loadedChunk: chunkName)
            }
            return try core.protectedCall(L, base: base, nargs: 0)
        }
    }

    /// Calls a Lua function with `args` under the instruction budget, through one protected
    /// call with a C traceback message handler, and returns all its results.
    public func call(_ function: LuaRef, _ args: [LuaValue]) throws(LuaError) -> [LuaValue] {
        try core.enter(budgetOn: nil) { L, _ throws(LuaError) in
            guard function.core === core else {
                throw LuaError(kind: .conversion, message: "function belongs to another Lua state")
            }
            let base = lua_gettop(L)
            guard lua_checkstack(L, Int32(clamping: args.count + 8)) != 0 else { throw StateCore.stackError }
            klh_push_ref(L, function.slot)
            for (i, arg) in args.enumerated() {
                try core.push(arg, on: L, root: "argument \(i + 1)")
            }
            return try core.protectedCall(L, base: base, nargs: Int32(args.count))
        }
    }
}

extension StateCore {
    static let closedError = LuaError(kind: .runtime, message: "the Lua state is closed")
    static let stackError = LuaError(kind: .runtime, message: "Lua stack overflow (too many values)")

    /// Runs `body` on the current thread. At top level (not inside a Swift callback) the
    /// budgets are reset first, on `budgetOn` or the current thread. The thread's stack top
    /// is restored and ``lastCost`` recorded afterwards.
    func enter<T>(
        budgetOn thread: OpaquePointer?,
        _ body: (OpaquePointer, Bool) throws(LuaError) -> T
    ) throws(LuaError) -> T {
        guard let main, let L = current else { throw Self.closedError }
        let topLevel = depth == 0
        if topLevel {
            drainPending(main)
            klh_budget_begin(thread ?? L, Int64(max(1, limits.instructionsPerCall)), limits.wallNanoseconds)
        }
        let meter = CostMeter(on: L, timed: measuresTime)
        let top = lua_gettop(L)
        depth += 1
        defer {
            if self.main != nil {
                lua_settop(L, top)
                lastCost = meter.finish(on: L)
            }
            depth -= 1
            if depth == 0 && closeRequested { close() }
        }
        return try body(L, topLevel)
    }

    /// Calls the function at `base + 1` with `nargs` arguments above it and converts the
    /// results.
    func protectedCall(_ L: OpaquePointer, base: Int32, nargs: Int32) throws(LuaError) -> [LuaValue] {
        let status = klh_pcall(L, nargs)
        if status != LUA_OK {
            throw error(on: L, status: status, loadedChunk: nil)
        }
        let top = lua_gettop(L)
        var results: [LuaValue] = []
        if top > base {
            results.reserveCapacity(Int(top - base))
            for i in (base + 1)...top {
                results.append(try value(at: i, on: L, root: "result \(i - base)"))
            }
        }
        return results
    }

    /// Builds the error for a failed load/pcall/resume whose error object is on top of `L`.
    func error(on L: OpaquePointer, status: Int32, loadedChunk: String?) -> LuaError {
        let message = string(klh_error_message(L, -1, status))
        let flags = klh_flags(L)
        let kind: LuaError.Kind
        if status == LUA_ERRSYNTAX {
            kind = .syntax
        } else if status == LUA_ERRMEM || flags & KLH_FLAG_MEMORY != 0 {
            kind = .memory
        } else if flags & KLH_FLAG_BUDGET != 0 {  // instructions or wall time
            kind = .budget
        } else if flags & KLH_FLAG_YIELD != 0 {
            kind = .yield
        } else {
            kind = .runtime
        }
        if kind == .memory, let main { klh_full_gc(main) }
        if let loadedChunk {
            return LuaError(
                kind: kind, message: message, chunk: loadedChunk,
                line: Self.lineAfterPrefix(message, chunk: loadedChunk), traceback: "")
        }
        let rawLine = Int(klh_error_line(L))
        var chunk = klh_error_chunk(L).map { string($0) }
        var line = rawLine > 0 ? rawLine : nil
        var located = message
        if status == LUA_ERRMEM && flags & KLH_FLAG_CAP_REFUSED != 0 {
            // The hard cap's message carries no position and Lua unwinds the stack without
            // calling the message handler (a failed resume keeps its stack, so it may
            // already be located). Otherwise use the last known position of this run: where
            // the allocator refused, or else where the count hook last fired (approximate:
            // up to 1000 instructions before the failure).
            if line == nil || chunk == nil {
                var recorded: Int32 = -1
                if let name = klh_memory_position(L, &recorded), recorded > 0 {
                    chunk = string(name)
                    line = Int(recorded)
                }
            }
            if let chunk, let line { located = "\(chunk):\(line): " + message }
        }
        return LuaError(
            kind: kind, message: located, chunk: chunk, line: line,
            traceback: string(klh_error_traceback(L)))
    }

    /// The line number in `message` right after `chunk:` (compile errors carry no stack).
    static func lineAfterPrefix(_ message: String, chunk: String) -> Int? {
        var rest = Substring(message)
        if rest.hasPrefix(chunk + ":") {
            rest = rest.dropFirst(chunk.count + 1)
        } else if let colon = rest.firstIndex(of: ":") {
            rest = rest[rest.index(after: colon)...]
        } else {
            return nil
        }
        let digits = rest.prefix(while: { $0.isASCII && $0.isNumber })
        guard !digits.isEmpty, rest.dropFirst(digits.count).hasPrefix(":") else { return nil }
        return Int(digits)
    }

    func string(_ cString: UnsafePointer<CChar>?) -> String {
        guard let cString else { return "" }
        return String(cString: cString)
    }
}
