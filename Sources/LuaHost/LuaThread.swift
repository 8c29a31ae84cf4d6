internal import CLua
internal import CLuaShims

extension LuaState {
    /// Creates a coroutine (a Lua thread anchored in the registry) that will run `function`
    /// on its first ``LuaThread/resume(_:)``. If the state is closed or the function belongs
    /// to another state, the thread's first resume throws.
    public func newThread(_ function: LuaRef) -> LuaThread {
        guard let L = core.current else {
            return LuaThread(core: core, failure: StateCore.closedError)
        }
        guard function.core === core else {
            return LuaThread(core: core, failure: LuaError(
                kind: .conversion, message: "the function belongs to another Lua state"))
        }
        guard lua_checkstack(L, 2) != 0 else {
            return LuaThread(core: core, failure: StateCore.stackError)
        }
        var slot: Int32 = 0
        guard let co = klh_new_thread(L, &slot) else {
            return LuaThread(core: core, failure: StateCore.stackError)
        }
        klh_push_ref(co, function.slot)
        return LuaThread(core: core, thread: co, slot: slot)
    }
}

/// A coroutine driven from Swift (for scenario scripts): each ``resume(_:)`` runs it under a
/// fresh instruction budget until it yields, returns or fails.
public final class LuaThread {
    let core: StateCore
    private var thread: OpaquePointer?
    private let slot: Int32
    private var finished = false
    private var running = false
    private var failure: LuaError?

    init(core: StateCore, thread: OpaquePointer, slot: Int32) {
        self.core = core
        self.thread = thread
        self.slot = slot
    }

    init(core: StateCore, failure: LuaError) {
        self.core = core
        self.slot = -1
        self.failure = failure
    }

    deinit {
        if slot >= 0 { core.releaseSlot(slot) }
    }

    /// Whether the coroutine returned or failed (it cannot be resumed any more).
    public var isFinished: Bool { finished || failure != nil || !core.isOpen }

    /// Resumes the coroutine with `args` (the arguments of its function on the first resume,
    /// the results of `coroutine.yield` afterwards) under a fresh instruction budget.
    ///
    /// Throws a `LuaError` with traceback (kind `.runtime`, `.budget`, `.memory`, `.yield` or
    /// `.conversion`) when the coroutine fails; the thread is then finished. Resuming a
    /// finished thread throws.
    public func resume(_ args: [LuaValue]) throws(LuaError) -> LuaResumeResult {
        if let failure { throw failure }
        guard core.isOpen else { throw StateCore.closedError }
        guard !finished, let co = thread else {
            throw LuaError(kind: .runtime, message: "cannot resume dead coroutine")
        }
        guard !running else {
            throw LuaError(kind: .runtime, message: "cannot resume non-suspended coroutine")
        }
        running = true
        defer { running = false }
        return try core.enter(budgetOn: co) { L, topLevel throws(LuaError) in
            let base = lua_gettop(co)
            guard lua_checkstack(co, Int32(clamping: args.count + 4)) != 0 else { throw StateCore.stackError }
            for (i, arg) in args.enumerated() {
                do throws(LuaError) {
                    try core.push(arg, on: co, root: "argument \(i + 1)")
                } catch {
                    lua_settop(co, base)
                    throw error
                }
            }
            var resultCount: Int32 = 0
            let status = klh_resume(co, topLevel ? nil : L, Int32(args.count), &resultCount)
            if status != LUA_OK && status != LUA_YIELD {
                finished = true
                let error = core.error(on: co, status: status, loadedChunk: nil)
                thread = nil
                throw error
            }
            if status == LUA_OK { finished = true }
            let first = lua_gettop(co) - resultCount + 1
            defer { lua_settop(co, first - 1) }
            var values: [LuaValue] = []
            if resultCount > 0 {
                for i in first...lua_gettop(co) {
                    values.append(try core.value(at: i, on: co, root: "value \(i - first + 1)"))
                }
            }
            return status == LUA_OK ? .returned(values) : .yielded(values)
        }
    }
}
