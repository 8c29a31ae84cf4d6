import Testing
@testable import LuaHost

extension LuaHostSuite {
    @Suite struct WallTime {
        @Test func defaultsAreTwoSecondsAnd64KiB() {
            let limits = LuaLimits()
            #expect(limits.wallTimePerCall == .seconds(2))
            #expect(limits.patternSubjectBytes == 64 << 10)
            #expect(limits.wallNanoseconds == 2_000_000_000)
            #expect(LuaLimits(wallTimePerCall: .zero).wallNanoseconds == 0)
            #expect(LuaLimits(wallTimePerCall: .milliseconds(-5)).wallNanoseconds == 0)
            #expect(LuaLimits(wallTimePerCall: .nanoseconds(1500)).wallNanoseconds == 1500)
        }

        @Test func guardStopsCHeavyWorkAndIsStickyUnderPcall() throws {
            // 200_000 instructions of this loop take seconds; the wall guard ends it at ~50ms.
            let state = try LuaState(limits: LuaLimits(instructionsPerCall: 200_000, wallTimePerCall: .milliseconds(50)))
            var error: LuaError?
            let elapsed = seconds { error = luaError { try Fixture.load("wall_c_heavy.lua", into: state) } }
            #expect(error?.kind == .budget)
            #expect(error?.message.hasPrefix("plugins/wall_c_heavy.lua:") == true)
            #expect(error?.message.hasSuffix(": wall time budget exceeded (50ms)") == true)
            #expect(error?.chunk == "plugins/wall_c_heavy.lua")
            #expect(elapsed < 2)
            let cost = state.lastCallCost
            #expect(cost.instructions < 200_000)
            #expect(cost.nanoseconds >= 50_000_000)
            // the next call gets a fresh clock and works
            let ok = try luaFunction(state, "return function() return ('ab'):upper() end")
            #expect(try state.call(ok, []) == [.string("AB")])
        }

        @Test func guardIsOffWithAZeroLimit() throws {
            let state = try LuaState(limits: LuaLimits(instructionsPerCall: 20_000, wallTimePerCall: .zero))
            let error = luaError { try Fixture.load("wall_c_heavy.lua", into: state) }
            #expect(error?.kind == .budget)
            #expect(error?.message.hasSuffix("instruction budget exceeded (20000 instructions)") == true)
        }

        @Test func wallTimeCoversCalledFunctionsAndCoroutines() throws {
            let state = try LuaState(limits: LuaLimits(instructionsPerCall: 2_000_000, wallTimePerCall: .milliseconds(30)))
            let f = try luaFunction(state, """
                return function()
                  local a, b = "y", "y"
                  for _ = 1, 18 do a = a .. a; b = b .. b end
                  local co = coroutine.wrap(function() local n = 0 while true do if a == b then n = n + 1 end end end)
                  co()
                end
                """)
            let error = luaError { try state.call(f, []) }
            #expect(error?.kind == .budget)
            #expect(error?.message.hasSuffix("wall time budget exceeded (30ms)") == true)
            #expect(try state.load(source: "return 2", chunkName: "ok.lua") == [.integer(2)])
        }
    }
}
