import Testing
@testable import LuaHost

extension LuaHostSuite {
    @Suite struct Costs {
        static let sum = "return function(n) local s = 0 for i = 1, n do s = s + i end return s end"

        @Test func instructionsGrowWithTheWork() throws {
            let state = try LuaState()
            let f = try luaFunction(state, Self.sum)
            _ = try state.call(f, [.integer(1_000)])
            let small = state.lastCallCost
            _ = try state.call(f, [.integer(10_000)])
            let large = state.lastCallCost
            #expect(small.instructions > 0)
            #expect(large.instructions > 5 * small.instructions)
            #expect(small.nanoseconds > 0)
            #expect(large.nanoseconds > 0)
        }

        @Test func countsAreExactAndDeterministic() throws {
            let state = try LuaState()
            #expect(state.countsInstructionsExactly)
            let empty = try luaFunction(state, "return function() end")
            _ = try state.call(empty, [])
            #expect(state.lastCallCost.instructions == 1)  // RETURN0
            let f = try luaFunction(state, Self.sum)
            var costs: [Int] = []
            for n in [0, 1_000, 2_000, 2_000] {
                _ = try state.call(f, [.integer(Int64(n))])
                costs.append(state.lastCallCost.instructions)
            }
            #expect(costs[1] - costs[0] == costs[2] - costs[1])  // linear, no rounding to 1000
            #expect(costs[2] == costs[3])
            let other = try LuaState()
            let g = try luaFunction(other, Self.sum)
            _ = try other.call(g, [.integer(2_000)])
            #expect(other.lastCallCost.instructions == costs[2])
        }

        @Test func loadAndFailuresReportTheirCost() throws {
            let state = try LuaState(limits: LuaLimits(instructionsPerCall: 50_000))
            _ = try state.load(source: "local s = 0 for i = 1, 1000 do s = s + i end return s", chunkName: "l.lua")
            #expect(state.lastCallCost.instructions > 1_000)
            #expect(state.lastCallCost.nanoseconds > 0)
            let error = luaError { try state.load(source: "while true do end", chunkName: "l.lua") }
            #expect(error?.kind == .budget)
            #expect(state.lastCallCost.instructions == 50_000)
            let syntax = luaError { try state.load(source: "return +", chunkName: "l.lua") }
            #expect(syntax?.kind == .syntax)
            // Compiling runs no instruction; only the strings it creates are charged.
            #expect(state.lastCallCost.instructions < 16)
        }

        @Test func cWorkIsPartOfTheCost() throws {
            let state = try LuaState()
            _ = try state.load(source: "return #string.rep('x', 100000)", chunkName: "c.lua")
            #expect(state.lastCallCost.instructions >= 100_000)
        }

        @Test func coroutineInstructionsAreCounted() throws {
            // each coroutine runs ~200 instructions and dies before the hook would fire
            let state = try LuaState()
            let f = try luaFunction(state, """
                return function()
                  for i = 1, 1000 do
                    coroutine.wrap(function() local x = 0 for j = 1, 100 do x = x + j end end)()
                  end
                end
                """)
            _ = try state.call(f, [])
            #expect(state.lastCallCost.instructions > 200_000)
            // and the budget sees them: this loop stops after ~1000 coroutines, not ~100_000
            let limited = try LuaState(limits: LuaLimits(instructionsPerCall: 1_000_000))
            let error = luaError {
                try limited.load(source: """
                    n = 0
                    while true do
                      n = n + 1
                      coroutine.wrap(function() for j = 1, 500 do end end)()
                    end
                    """, chunkName: "co.lua")
            }
            #expect(error?.kind == .budget)
            let n = try limited.load(source: "return n", chunkName: "n.lua").first?.intValue ?? 0
            #expect(n > 500)
            #expect(n < 2_000)
        }

        @Test func threadsReportTheirResumeCost() throws {
            let state = try LuaState()
            let body = try luaFunction(state, """
                return function()
                  local s = 0
                  for i = 1, 5000 do s = s + i end
                  coroutine.yield(s)
                  return 1
                end
                """)
            let thread = state.newThread(body)
            _ = try thread.resume([])
            let first = state.lastCallCost.instructions
            _ = try thread.resume([])
            let second = state.lastCallCost.instructions
            #expect(first > 10_000)
            #expect(second > 0)
            #expect(second < 10)
        }
    }
}
