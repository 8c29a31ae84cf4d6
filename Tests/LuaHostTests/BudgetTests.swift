import Testing
@testable import LuaHost

extension LuaHostSuite {
    @Suite struct Budgets {
        @Test func infiniteLoopAtTopLevel() throws {
            let state = try LuaState()
            var error: LuaError?
            _ = seconds { error = luaError { try Fixture.load("loop_toplevel.lua", into: state) } }
            #expect(error?.kind == .budget)
            #expect(error?.message.hasPrefix("plugins/loop_toplevel.lua:") == true)
            #expect(error?.message.hasSuffix("instruction budget exceeded (50000000 instructions)") == true)
            #expect(error?.chunk == "plugins/loop_toplevel.lua")
            #expect([2, 3, 4].contains(error?.line ?? 0))
        }

        @Test func infiniteLoopInACalledFunction() throws {
            let state = try LuaState()
            let f = try functionRef(Fixture.load("loop_function.lua", into: state).first)
            var error: LuaError?
            _ = seconds { error = luaError { try state.call(f, []) } }
            #expect(error?.kind == .budget)
            #expect(error?.chunk == "plugins/loop_function.lua")
            // the budget is reset for the next call, and the state still works
            let ok = try luaFunction(state, "return function() local s = 0 for i = 1, 1000 do s = s + i end return s end")
            #expect(try state.call(ok, []) == [.integer(500500)])
        }

        @Test func infiniteLoopInAPluginCoroutine() throws {
            let state = try LuaState()
            let f = try functionRef(Fixture.load("loop_coroutine.lua", into: state).first)
            var error: LuaError?
            _ = seconds { error = luaError { try state.call(f, []) } }
            #expect(error?.kind == .budget)
        }

        @Test func pcallCannotSwallowTheBudget() throws {
            let state = try LuaState()
            var error: LuaError?
            _ = seconds { error = luaError { try Fixture.load("loop_pcall.lua", into: state) } }
            #expect(error?.kind == .budget)
            #expect(error?.message.contains("instruction budget exceeded") == true)
        }

        @Test func smallBudgetsAreExact() throws {
            let state = try LuaState(limits: LuaLimits(instructionsPerCall: 10_000))
            let f = try luaFunction(state, "return function(n) local s = 0 for i = 1, n do s = s + i end return s end")
            #expect(try state.call(f, [.integer(100)]) == [.integer(5050)])
            let error = luaError { try state.call(f, [.integer(100_000)]) }
            #expect(error?.kind == .budget)
            #expect(error?.message.hasSuffix("(10000 instructions)") == true)
            state.limits.instructionsPerCall = 10_000_000
            #expect(try state.call(f, [.integer(100_000)]) == [.integer(5_000_050_000)])
        }

        @Test func cWorkIsChargedToTheBudget() throws {
            let state = try LuaState(limits: LuaLimits(instructionsPerCall: 1_000_000))
            let error = luaError { try state.load(source: "table.move({}, 1, 1e12, 2)", chunkName: "c.lua") }
            #expect(error?.kind == .budget)
        }

        @Test func stringsBuiltByCopyingAreChargedToTheBudget() throws {
            // Each `..` copies the whole string in one instruction; the bytes of every new
            // string are charged, so the verdict is the instruction budget's, on every machine.
            // (The wall-time backstop is raised: under the address sanitizer, on a busy
            // machine, these copies can take longer than its default 2 s.)
            var limits = LuaLimits()
            limits.wallTimePerCall = .seconds(20)
            let state = try LuaState(limits: limits)
            let error = luaError { try state.load(source: "local s = '' while true do s = s .. '1' end", chunkName: "grow.lua") }
            #expect(error?.kind == .budget)
            #expect(error?.message == "grow.lua:1: instruction budget exceeded (50000000 instructions)")
            // The same work costs the same every time.
            let f = try luaFunction(state, "return function() local s = '' for i = 1, 2000 do s = s .. 'x' end return #s end")
            _ = try state.call(f, [])
            let first = state.lastCallCost.instructions
            _ = try state.call(f, [])
            #expect(state.lastCallCost.instructions == first)
            #expect(first > 2000 * 2000 / 2 / 16)
        }

        @Test func stringMemoryBombIsAMemoryError() throws {
            let state = try LuaState()
            let f = try functionRef(Fixture.load("memory_string.lua", into: state).first)
            let error = luaError { try state.call(f, []) }
            #expect(error?.kind == .memory)
            #expect(error?.message.contains("memory limit exceeded (64 MiB)") == true)
            // the state stays usable
            let ok = try luaFunction(state, "return function() return string.rep('ab', 3) end")
            #expect(try state.call(ok, []) == [.string("ababab")])
            #expect(state.memoryInUse < 8 << 20)
        }

        @Test func tableMemoryBombIsAMemoryError() throws {
            let state = try LuaState(limits: LuaLimits(memoryBytes: 16 << 20))
            let f = try functionRef(Fixture.load("memory_table.lua", into: state).first)
            let error = luaError { try state.call(f, []) }
            #expect(error?.kind == .memory)
            #expect(error?.message.contains("memory limit exceeded (16 MiB)") == true)
            let again = luaError { try state.call(f, []) }
            #expect(again?.kind == .memory)
            let ok = try luaFunction(state, "return function() local t = {} for i = 1, 1000 do t[i] = i end return #t end")
            #expect(try state.call(ok, []) == [.integer(1000)])
        }

        @Test func pcallLoopAroundAMemoryBombStillEnds() throws {
            let state = try LuaState(limits: LuaLimits(instructionsPerCall: 5_000_000, memoryBytes: 8 << 20))
            let error = luaError {
                try state.load(source: """
                    while true do
                      pcall(function() local s = "x" while true do s = s .. s end end)
                    end
                    """, chunkName: "m.lua")
            }
            #expect(error?.kind == .memory || error?.kind == .budget)
            #expect(try state.load(source: "return 1", chunkName: "ok.lua") == [.integer(1)])
        }
    }
}
