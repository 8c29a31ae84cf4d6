import Testing
@testable import LuaHost

extension LuaHostSuite {
    /// Each state's own heap (slab.c): small blocks of every size class, blocks growing
    /// from small to large and back, and the accounting the memory limit relies on.
    @Suite struct Heap {
        @Test func blocksOfEverySizeComeAndGoWithExactAccounting() throws {
            let state = try LuaState()
            let f = try luaFunction(state, """
            return function()
              local keep = {}
              for i = 1, 2000 do
                local t = {}
                for j = 1, i % 40 do t[j] = j; t['k' .. j] = string.rep('x', j * 13) end
                keep[#keep + 1] = t
              end
              local grow = {}
              for i = 1, 5000 do grow[i] = i end     -- from 16 bytes past 512, then malloc
              local n = 0
              for _, t in ipairs(keep) do n = n + #t end
              return n + #grow
            end
            """)
            let before = state.memoryInUse   // after a full collection
            let result = try state.call(f, [])
            #expect(result.first == .integer(Int64((0..<2000).reduce(0) { $0 + (($1 + 1) % 40) }) + 5000))
            #expect(state.lastCallCost.instructions > 0)
            // Everything the call built is garbage now: back to about where it started.
            let after = state.memoryInUse
            #expect(after < before + 64 * 1024, "before \(before), after \(after)")
            // Again, with the blocks freed the first time reused.
            _ = try state.call(f, [])
            #expect(state.memoryInUse < before + 64 * 1024)
        }
    }
}
