import Testing
@testable import LuaHost

/// Memory errors at the allocator's hard cap (LUA_ERRMEM: Lua unwinds the stack without
/// calling the message handler) still name the plugin file and line.
///
/// The lines expected here are exact: when the allocator refuses growth it records the first
/// file-chunk frame of the running thread. Only when no such frame is running at the refusal
/// does the position fall back to the count hook's last sample (approximate, up to 1000
/// instructions earlier); these tests do not depend on that fallback.
extension LuaHostSuite {
    @Suite struct MemoryPositions {
        static let doubling = """
            local M = {}
            function M.grow()
              local s = "0123456789abcdef"
              while true do
                s = s .. s
              end
            end
            function M.deep()
              local function f(n)
                return 1 + f(n + 1)
              end
              return f(1)
            end
            function M.co()
              local co = coroutine.wrap(function()
                coroutine.yield(1)
                local t = {}
                for i = 1, 1e9 do t[i] = i end
              end)
              co()
              return co()
            end
            return M.grow, M.deep, M.co
            """

        static func module(_ state: LuaState) throws -> (grow: LuaRef, deep: LuaRef, co: LuaRef) {
            let results = try state.load(source: doubling, chunkName: "plugins/bomb.lua")
            guard results.count == 3 else {
                throw LuaError(kind: .conversion, message: "expected three functions")
            }
            return (try functionRef(results[0]), try functionRef(results[1]), try functionRef(results[2]))
        }

        @Test func concatDoublingReportsTheLoopLine() throws {
            let state = try LuaState()
            let m = try Self.module(state)
            let error = luaError { try state.call(m.grow, []) }
            #expect(error?.kind == .memory)
            #expect(error?.chunk == "plugins/bomb.lua")
            // exact: `s = s .. s` is line 5 (the concat's allocation is refused there)
            #expect(error?.line == 5)
            #expect(error?.message == "plugins/bomb.lua:5: memory limit exceeded (64 MiB)")
            // the state stays usable
            let ok = try luaFunction(state, "return function() return string.rep('ab', 3) end")
            #expect(try state.call(ok, []) == [.string("ababab")])
            #expect(state.memoryInUse < 8 << 20)
        }

        @Test func deepRecursionReportsTheCallLine() throws {
            let state = try LuaState(limits: LuaLimits(memoryBytes: 4 << 20))
            let m = try Self.module(state)
            let error = luaError { try state.call(m.deep, []) }
            #expect(error?.kind == .memory)
            #expect(error?.chunk == "plugins/bomb.lua")
            // exact: the stack/CallInfo growth of `f(n + 1)` is refused on line 10
            #expect(error?.line == 10)
            #expect(error?.message == "plugins/bomb.lua:10: memory limit exceeded (4 MiB)")
            #expect(try state.load(source: "return 1", chunkName: "ok.lua") == [.integer(1)])
        }

        @Test func memoryErrorInsideALuaCoroutineReportsItsLine() throws {
            let state = try LuaState(limits: LuaLimits(memoryBytes: 8 << 20))
            let m = try Self.module(state)
            let error = luaError { try state.call(m.co, []) }
            #expect(error?.kind == .memory)
            #expect(error?.chunk == "plugins/bomb.lua")
            // exact: the table growth on line 18 inside the coroutine
            #expect(error?.line == 18)
            #expect(error?.message == "plugins/bomb.lua:18: memory limit exceeded (8 MiB)")
        }

        @Test func memoryErrorInAResumedThreadIsLocated() throws {
            let state = try LuaState()
            let m = try Self.module(state)
            let thread = state.newThread(m.grow)
            let error = luaError { try thread.resume([]) }
            #expect(error?.kind == .memory)
            #expect(error?.chunk == "plugins/bomb.lua")
            #expect(error?.line == 5)
            #expect(error?.message == "plugins/bomb.lua:5: memory limit exceeded (64 MiB)")
        }

        @Test func positionIsResetForEachCall() throws {
            let state = try LuaState(limits: LuaLimits(memoryBytes: 4 << 20))
            let m = try Self.module(state)
            let first = luaError { try state.call(m.grow, []) }
            #expect(first?.line == 5)
            // second call: string.upper called directly from Swift on a 3 MiB argument (its
            // 3 MiB result does not fit), so no plugin frame runs at all; it must not
            // inherit the first call's position
            let upper = try functionRef(state.load(source: "return string.upper", chunkName: "up.lua").first)
            let big = String(repeating: "x", count: 3 << 20)
            let second = luaError { try state.call(upper, [.string(big)]) }
            #expect(second?.kind == .memory)
            #expect(second?.chunk == nil)
            #expect(second?.line == nil)
            #expect(second?.message == "memory limit exceeded (4 MiB)")
            // and a third call is located afresh
            let third = luaError { try state.call(m.deep, []) }
            #expect(third?.line == 10)
        }
    }
}
