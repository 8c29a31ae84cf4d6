import Testing
@testable import LuaHost

extension LuaHostSuite {
    @Suite struct Refs {
        /// One run of the scenario: returns true when the live count is back where it started.
        func scenario() throws -> Bool {
            let start = LuaRef.liveCount
            do {
                let state = try LuaState()
                var kept: [LuaValue] = []
                let f = try luaFunction(state, "return function(...) return ..., function() end end")
                for i in 0..<100 {
                    kept.append(contentsOf: try state.call(f, [.integer(Int64(i))]))
                }
                let callback = state.function { args in args }
                kept.append(callback)
                let thread = state.newThread(f)
                kept.append(contentsOf: (try thread.resume([callback])).values)
                if LuaRef.liveCount < start + 102 { return false }
                state.close()
                // refs outliving their state are released without touching Lua
                kept.removeAll()
            }
            return LuaRef.liveCount == start
        }

        @Test func liveCountReturnsToItsStartingValue() throws {
            // liveCount is process-wide; retry in case other test targets run concurrently
            var balanced = false
            for _ in 0..<5 where !balanced {
                balanced = try scenario()
            }
            #expect(balanced)
        }

        @Test func droppedRefsFreeTheirRegistrySlots() throws {
            let state = try LuaState()
            let f = try luaFunction(state, "return function() return function() end end")
            for _ in 0..<1000 { _ = try state.call(f, []) }
            let before = state.memoryInUse
            for _ in 0..<20_000 { _ = try state.call(f, []) }
            let after = state.memoryInUse
            #expect(after < before + 64 * 1024)
        }

        @Test func closedStatesThrowAndCloseIsIdempotent() throws {
            let state = try LuaState()
            let f = try luaFunction(state, "return function() end")
            state.close()
            state.close()
            #expect(luaError { try state.call(f, []) }?.message == "the Lua state is closed")
            #expect(luaError { try state.load(source: "return 1", chunkName: "x.lua") } != nil)
            #expect(luaError { try state.setGlobal("x", 1) } != nil)
            #expect(state.memoryInUse == 0)
            #expect(state.function { $0 } == .nil)
        }
    }
}

extension LuaResumeResult {
    var values: [LuaValue] {
        switch self {
        case .yielded(let v), .returned(let v): return v
        }
    }
}
