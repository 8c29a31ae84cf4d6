internal import CLua
internal import CLuaShims

extension LuaState {
    /// Wraps a Swift closure as a Lua function value (put it in a `.map` to build modules).
    ///
    /// The closure receives the Lua arguments converted to `LuaValue` and returns the
    /// results. When it throws ``LuaCallbackError`` (or an argument cannot be converted),
    /// the error is raised in Lua with the caller's position as prefix, after the Swift frame
    /// has returned: a C trampoline calls the closure, which returns a status, and the
    /// trampoline raises. Inside the closure, ``load(source:chunkName:)``, ``call(_:_:)`` and
    /// ``LuaThread/resume(_:)`` run on the calling Lua thread and continue its budget.
    /// Returns `.nil` when the state is closed.
    public func function(_ body: @escaping ([LuaValue]) throws(LuaCallbackError) -> [LuaValue]) -> LuaValue {
        guard let L = core.current, lua_checkstack(L, 2) != 0 else { return .nil }
        let id = core.callbacks.count
        core.callbacks.append(body)
        klh_push_callback(L, Int64(id))
        let identity = UInt(bitPattern: lua_topointer(L, -1))
        let slot = klh_ref(L)
        return .function(LuaRef(core: core, slot: slot, identity: identity))
    }
}

extension StateCore {
    /// Called by the C trampoline on the thread `L` running the callback. Pushes the results
    /// and returns their count, or pushes a message and returns -1.
    func dispatch(_ L: OpaquePointer, _ id: Int64) -> Int32 {
        guard id >= 0, id < Int64(callbacks.count) else {
            pushString("host function is no longer available", on: L)
            return -1
        }
        let body = callbacks[Int(id)]
        active.append(L)
        defer { active.removeLast() }
        drainPending(L)
        let outcome = invoke(body, on: L)
        switch outcome {
        case .success(let count):
            return count
        case .failure(let message):
            lua_settop(L, 0)
            pushString(message, on: L)
            return -1
        }
    }

    private enum Outcome {
        case success(Int32)
        case failure(String)
    }

    private func invoke(_ body: LuaCallback, on L: OpaquePointer) -> Outcome {
        let argumentCount = lua_gettop(L)
        var args: [LuaValue] = []
        args.reserveCapacity(Int(argumentCount))
        if argumentCount > 0 {
            for i in 1...argumentCount {
                do throws(LuaError) {
                    args.append(try value(at: i, on: L, root: "argument \(i)"))
                } catch {
                    return .failure(error.message)
                }
            }
        }
        let results: [LuaValue]
        do throws(LuaCallbackError) {
            results = try body(args)
        } catch {
            return .failure(error.message)
        }
        let base = lua_gettop(L)
        guard results.count < 1_000_000, lua_checkstack(L, Int32(results.count) + 4) != 0 else {
            return .failure("too many results from a host function")
        }
        for (i, result) in results.enumerated() {
            do throws(LuaError) {
                try push(result, on: L, root: "result \(i + 1) of a host function")
            } catch {
                lua_settop(L, base)
                return .failure(error.message)
            }
        }
        return .success(Int32(results.count))
    }
}
