import Testing
@testable import LuaHost

extension LuaHostSuite {
    @Suite struct Threads {
        func scenario(_ state: LuaState, observed: @escaping (LuaValue) -> Void) throws -> LuaThread {
            let observe = state.function { args in
                observed(args.first ?? .nil)
                return [.map(["ok": true])]
            }
            try state.setGlobal("kubelab", .map(["observe": observe]))
            let body = try functionRef(Fixture.load("scenario.lua", into: state).first)
            return state.newThread(body)
        }

        @Test func yieldAndResumePassValuesBothWays() throws {
            let state = try LuaState()
            var seen: [LuaValue] = []
            let thread = try scenario(state) { seen.append($0) }
            #expect(!thread.isFinished)
            #expect(try thread.resume([.integer(1)]) == .yielded(["step1", 2, .map(["ok": true])]))
            #expect(seen == [1])
            #expect(try thread.resume([.integer(21)]) == .yielded([.map(["answer": 21, "doubled": 42])]))
            #expect(!thread.isFinished)
            #expect(try thread.resume(["bye"]) == .returned(["done", "bye"]))
            #expect(thread.isFinished)
            let dead = luaError { try thread.resume([]) }
            #expect(dead?.message.contains("dead coroutine") == true)
        }

        @Test func failingThreadReportsLineAndTraceback() throws {
            let state = try LuaState()
            let thread = try scenario(state) { _ in }
            _ = try thread.resume([.integer(1)])
            _ = try thread.resume([.integer(2)])
            let error = luaError { try thread.resume(["fail"]) }
            #expect(error?.kind == .runtime)
            #expect(error?.message == "plugins/scenario.lua:7: scenario failed on purpose")
            #expect(error?.chunk == "plugins/scenario.lua")
            #expect(error?.line == 7)
            #expect(error?.traceback.contains("plugins/scenario.lua:7:") == true)
            #expect(thread.isFinished)
        }

        @Test func eachResumeHasAFreshBudget() throws {
            let state = try LuaState(limits: LuaLimits(instructionsPerCall: 200_000))
            let body = try luaFunction(state, """
                return function()
                  while true do
                    for i = 1, 10000 do end   -- about 40000 instructions per step
                    coroutine.yield("tick")
                  end
                end
                """)
            let thread = state.newThread(body)
            for _ in 0..<20 {
                #expect(try thread.resume([]) == .yielded(["tick"]))
            }
            let spinner = state.newThread(try luaFunction(state, "return function() coroutine.yield() while true do end end"))
            _ = try spinner.resume([])
            var error: LuaError?
            _ = seconds { error = luaError { try spinner.resume([]) } }
            #expect(error?.kind == .budget)
            #expect(spinner.isFinished)
            // other threads and the state survive
            #expect(try thread.resume([]) == .yielded(["tick"]))
        }

        @Test func callbacksInsideCoroutinesUseTheCoroutineStack() throws {
            let state = try LuaState()
            let make = state.function { args in
                [.array((1...50).map { .integer(Int64($0) * (args.first?.intValue ?? 1)) })]
            }
            try state.setGlobal("host", .map(["make": make]))
            let body = try luaFunction(state, """
                return function(k)
                  local inner = coroutine.wrap(function()
                    local t = host.make(k)
                    coroutine.yield(#t)
                    return t[50]
                  end)
                  local n = inner()
                  local last = inner()
                  local again = coroutine.yield(n, last)
                  return #host.make(again)
                end
                """)
            let thread = state.newThread(body)
            #expect(try thread.resume([2]) == .yielded([50, 100]))
            #expect(try thread.resume([3]) == .returned([50]))
        }
    }
}
