import Testing
@testable import LuaHost

extension LuaHostSuite {
    /// Functions called by reference, and straight functions run without the count hook.
    @Suite struct Straight {
        @Test func straightCostIsTheSizeOfLoopFreeFunctionsOnly() throws {
            let state = try LuaState()
            let straight = try luaFunction(state, "return function(p, n) if p.x > n.y then return true end return false, 'no' end")
            let cost = try #require(state.straightCost(of: straight))
            #expect(cost > 3 && cost < 30)
            for looping in [
                "return function(n) while n > 0 do n = n - 1 end end",
                "return function(n) for i = 1, n do end end",
                "return function(t) for k in pairs(t) do end end",
                "return function(n) ::again:: n = n - 1 if n > 0 then goto again end end",
                "return function(n) repeat n = n - 1 until n <= 0 end",
            ] {
                #expect(state.straightCost(of: try luaFunction(state, looping)) == nil, "\(looping)")
            }
        }

        /// On this Lua build the call hook finds the function a call enters without asking
        /// lua_getinfo (the layout it reads is checked once against lua_getinfo), and a
        /// straight function calling straight helpers is charged each helper's size per call.
        @Test func theCallHookReadsTheCalleeAndChargesHelpers() throws {
            let state = try LuaState()
            let f = try luaFunction(state, """
            local function half(x) return x // 2 end
            local function third(x) return x // 3 end
            return function(a, b, c) return half(b.v) + third(b.v) + half(a.v) end
            """)
            let cost = try #require(state.straightCost(of: f))
            #expect(LuaState.straightReadsCallee)
            let a = try state.reference(.map(["v": .integer(10)]))
            let b = try state.reference(.view("node", .map(["v": .integer(12)])))
            let c = try state.newTable()
            let helper = try #require(state.straightCost(of: try luaFunction(state, "return function(x) return x // 2 end")))
            for _ in 0..<3 {
                let r = try state.call(f, a, b, c, straightCost: cost)
                #expect(r.0 == .integer(15))
                #expect(state.lastCallCost.instructions == Int(cost + 3 * helper))
            }
        }

        @Test func aStraightCallGivesTheSameResultsAndChargesItsSize() throws {
            let state = try LuaState()
            let f = try luaFunction(state, "return function(a, b, c) return a.v + b.v + #c, 'ok' end")
            let a = try state.reference(.map(["v": .integer(1)]))
            let b = try state.reference(.view("node", .map(["v": .integer(2)])))
            let c = try state.reference(.array([.integer(1), .integer(2)]))
            let cost = try #require(state.straightCost(of: f))
            let hooked = try state.call(f, a, b, c)
            let hookedCost = state.lastCallCost.instructions
            let fast = try state.call(f, a, b, c, straightCost: cost)
            #expect(hooked.0 == .integer(5) && hooked.1 == .string("ok"))
            #expect(fast.0 == hooked.0 && fast.1 == hooked.1)
            #expect(state.lastCallCost.instructions == Int(cost))
            #expect(hookedCost <= Int(cost))
        }

        @Test func whatAStraightFunctionCallsIsCountedAsUsual() throws {
            var limits = LuaLimits()
            limits.instructionsPerCall = 100_000
            let state = try LuaState(limits: limits)
            let f = try luaFunction(state, """
                local function spin(n) while true do n = n + 1 end end
                return function(a, b, c) return spin(0) end
                """)
            let t = try state.newTable()
            let cost = try #require(state.straightCost(of: f))
            #expect(throws: LuaError.self) { _ = try state.call(f, t, nil, t, straightCost: cost) }
            do { _ = try state.call(f, t, nil, t, straightCost: cost) } catch {
                #expect(error.kind == .budget)
                #expect(error.message.contains("instruction budget exceeded"))
            }
        }

        /// The call hook remembers the costs of the functions it last saw by address; with
        /// fresh helpers on every call (many more than it remembers, the old ones collected),
        /// a looping helper is never taken for a straight one: it ends with the budget (run
        /// uncounted, it would return 30,000,000).
        /// (The functions are closures of the same shapes, so freed addresses are reused.)
        @Test func freshHelpersAreNeverTakenForOthers() throws {
            var limits = LuaLimits()
            limits.instructionsPerCall = 100_000
            let state = try LuaState(limits: limits)
            let f = try luaFunction(state, """
                local calls = 0
                return function(a, b, c)
                  calls = calls + 1
                  local n = calls
                  if calls % 50 == 0 then
                    local spin = function(x) while x < 30000000 do x = x + n end return x end
                    return spin(0)
                  end
                  local add = function(x) return x + n end
                  local twice = function(x) return add(add(x)) end
                  local r = twice(0)
                  -- garbage, so that the collector runs and frees earlier helpers
                  local junk = string.rep("x", 4096 + n)
                  return r
                end
                """)
            let t = try state.newTable()
            let cost = try #require(state.straightCost(of: f))
            var budgetVerdicts = 0
            for call in 1...400 {
                do {
                    let r = try state.call(f, t, nil, t, straightCost: cost)
                    #expect(call % 50 != 0 && r.0 == .integer(Int64(2 * call)), "call \(call)")
                } catch {
                    #expect(call % 50 == 0 && error.kind == .budget, "call \(call): \(error.kind) \(error.message)")
                    budgetVerdicts += 1
                }
            }
            #expect(budgetVerdicts == 8)
        }

        @Test func straightRecursionAndTailCallsArePaidPerEntry() throws {
            var limits = LuaLimits()
            limits.instructionsPerCall = 100_000
            let state = try LuaState(limits: limits)
            // No loop in either function, but the tail call never ends.
            let f = try luaFunction(state, """
                local f
                f = function(a, b, c) return f(a, b, c) end
                return f
                """)
            let t = try state.newTable()
            let cost = try #require(state.straightCost(of: f))
            do {
                _ = try state.call(f, t, nil, t, straightCost: cost)
                Issue.record("an endless tail call returned")
            } catch {
                #expect(error.kind == .budget)
            }
        }

        @Test func stringsAStraightFunctionBuildsStillSpendTheBudget() throws {
            var limits = LuaLimits()
            limits.instructionsPerCall = 10_000
            let state = try LuaState(limits: limits)
            // 2^16 bytes doubled a few times: far more than 10,000 instructions' worth.
            let f = try luaFunction(state, """
                return function(a, b, c)
                  local s = a.s
                  s = s .. s; s = s .. s; s = s .. s; s = s .. s; s = s .. s; s = s .. s
                  return #s
                end
                """)
            let a = try state.reference(.map(["s": .string(String(repeating: "x", count: 1 << 16))]))
            let cost = try #require(state.straightCost(of: f))
            do {
                _ = try state.call(f, a, nil, a, straightCost: cost)
                Issue.record("the budget was not spent")
            } catch {
                #expect(error.kind == .budget)
                #expect(error.message.hasPrefix("test.lua:1: instruction budget exceeded"))
            }
        }

        @Test func aLazyFieldIsComputedOnFirstUseAndListedByPairs() throws {
            let state = try LuaState()
            var asked = 0
            let fetch = state.function { args in
                asked += 1
                return [.array([.string(args.first?.stringValue ?? "?")])]
            }
            let makeIndex = try luaFunction(state, """
                return function(fetch)
                  return function(content, k)
                    if k ~= "pods" then return nil end
                    local v = fetch(rawget(content, "name")); rawset(content, k, v); return v
                  end
                end
                """)
            guard case .function(let index)? = try state.call(makeIndex, [fetch]).first else { throw LuaError(kind: .conversion, message: "no index") }
            let node = try state.reference(.view("node", .map(["name": .string("n1"), "zone": .string("a")])))
            try state.setLazyField(of: node, key: "pods", index: index)
            let read = try luaFunction(state, """
                return function(node, _, _)
                  local keys = {}
                  for k in pairs(node) do keys[#keys + 1] = k end
                  return node.pods[1] .. "," .. node.pods[1] .. "," .. #node.pods, table.concat(keys, " ")
                end
                """)
            let t = try state.newTable()
            let (value, keys) = try state.call(read, node, nil, t)
            #expect(value == .string("n1,n1,1"))
            #expect(keys == .string("name pods zone"))
            #expect(asked == 1)
            let write = try luaFunction(state, "return function(node) node.pods = 1 end")
            #expect(throws: LuaError.self) { _ = try state.call(write, node, nil, t) }
            // Views of the same shape share their key list; the lazy field went to this
            // view's own copy, so another node of that shape does not list it.
            let other = try state.reference(.view("node", .map(["name": .string("n2"), "zone": .string("b")])))
            let list = try luaFunction(state, """
                return function(node)
                  local keys = {}
                  for k, v in pairs(node) do keys[#keys + 1] = k .. "=" .. tostring(v) end
                  return table.concat(keys, " ")
                end
                """)
            #expect(try state.call(list, [.function(other)]).first == .string("name=n2 zone=b"))
            #expect(try state.call(read, node, nil, t).1 == .string("name pods zone"))
            // A third node of the shape gains the same field: it shares the longer list with
            // the first, and each still reads its own pods.
            let third = try state.reference(.view("node", .map(["name": .string("n3"), "zone": .string("c")])))
            try state.setLazyField(of: third, key: "pods", index: index)
            #expect(try state.call(read, third, nil, t) == (.string("n3,n3,1"), .string("name pods zone")))
            #expect(try state.call(read, node, nil, t).0 == .string("n1,n1,1"))
            #expect(try state.call(list, [.function(other)]).first == .string("name=n2 zone=b"))
            #expect(asked == 2)
        }
    }
}
