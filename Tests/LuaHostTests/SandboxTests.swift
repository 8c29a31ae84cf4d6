import Testing
@testable import LuaHost

extension LuaHostSuite {
    @Suite struct Sandbox {
        @Test func dangerousGlobalsAreAbsent() throws {
            let state = try LuaState()
            let probe = try module(Fixture.load("sandbox_probe.lua", into: state))
            for name in ["io", "os", "debug", "package", "require", "dofile", "loadfile", "dump", "method_dump"] {
                #expect(probe[name] == "nil", "\(name)")
            }
            #expect(probe["string_mt"] == .boolean(false))
        }

        @Test func theGlobalListIsPinned() throws {
            let state = try LuaState()
            let probe = try module(Fixture.load("sandbox_probe.lua", into: state))
            let expected = """
                _G _VERSION assert collectgarbage coroutine error getmetatable ipairs load math next \
                pairs pcall print rawequal rawget rawlen rawset select setmetatable string table \
                tonumber tostring type utf8 warn xpcall
                """
            #expect(probe["globals"] == .string(expected))
        }

        @Test func binaryChunksAreRefused() throws {
            let state = try LuaState()
            let host = luaError { try state.load(source: "\u{1B}Lua\u{54}\u{00}garbage", chunkName: "bin.lua") }
            #expect(host?.kind == .syntax)
            #expect(host?.message.contains("binary chunk") == true)
            let inLua = try state.load(source: """
                local f, err = load("\\27Lua\\84\\0\\25\\147\\r\\n\\26\\n")
                return f == nil, err
                """, chunkName: "bin2.lua")
            #expect(inLua.first == .boolean(true))
            #expect(inLua.last?.stringValue?.contains("attempt to load a binary chunk") == true)
        }

        @Test func loadOnlyTakesStringsAndUsesTheSandbox() throws {
            let state = try LuaState()
            let results = try state.load(source: """
                local ok = pcall(load, function() return "return 1" end)
                local f = load("x_from_load = 5 return io")
                local io_seen = f()
                local env = { y = 2 }
                local g = load("return y", "@plugins/other.lua", "b", env)
                local h = load("error('where')")
                local _, msg = pcall(h)
                return ok, x_from_load, io_seen, g(), msg
                """, chunkName: "l.lua")
            #expect(results == [.boolean(false), .integer(5), .nil, .integer(2), .string("(load):1: where")])
        }

        @Test func collectgarbageOnlyCounts() throws {
            let state = try LuaState()
            let count = try state.load(source: "return collectgarbage('count')", chunkName: "gc.lua")
            #expect((count.first?.doubleValue ?? 0) > 0)
            for option in ["'collect'", "", "'stop'", "'step'", "'incremental'"] {
                let error = luaError { try state.load(source: "collectgarbage(\(option))", chunkName: "gc.lua") }
                #expect(error?.kind == .runtime, "\(option)")
                #expect(error?.message.contains("is not allowed") == true, "\(option)")
            }
        }

        @Test func setmetatableRefusesFinalizers() throws {
            let state = try LuaState()
            let gc = luaError { try state.load(source: "setmetatable({}, { __gc = function() end })", chunkName: "m.lua") }
            #expect(gc?.message == "m.lua:1: setmetatable: __gc metamethods are not allowed")
            let gcFalse = luaError { try state.load(source: "setmetatable({}, { __gc = false })", chunkName: "m.lua") }
            #expect(gcFalse?.message.contains("__gc metamethods are not allowed") == true)
            let close = luaError { try state.load(source: "setmetatable({}, { __close = print })", chunkName: "m.lua") }
            #expect(close?.message.contains("__close metamethods are not allowed") == true)
            let ok = try state.load(source: "return getmetatable(setmetatable({}, { __index = { a = 1 } })).__index.a", chunkName: "m.lua")
            #expect(ok == [.integer(1)])
        }

        @Test func randomIsDeterministicPerSeed() throws {
            let code = """
                local a = {}
                for i = 1, 5 do a[i] = math.random(1, 1000000) end
                math.randomseed()
                for i = 6, 10 do a[i] = math.random(1, 1000000) end
                return a
                """
            let first = try LuaState(seed: 42).load(source: code, chunkName: "r.lua")
            let second = try LuaState(seed: 42).load(source: code, chunkName: "r.lua")
            let other = try LuaState(seed: 43).load(source: code, chunkName: "r.lua")
            #expect(first == second)
            #expect(first != other)
            // randomseed() without arguments restarts the seeded sequence
            let restarted = try LuaState(seed: 42).load(source: """
                local x = math.random(1, 1000000)
                math.random() math.random()
                math.randomseed()
                return x == math.random(1, 1000000)
                """, chunkName: "r.lua")
            #expect(restarted == [.boolean(true)])
        }

        @Test func printGoesToTheBuffer() throws {
            let state = try LuaState()
            _ = try state.load(source: "print('a', 1, 2.5, nil, true, {}) print('line\\nbreak')", chunkName: "p.lua")
            #expect(state.printed == ["a\t1\t2.5\tnil\ttrue\ttable", "line\\nbreak"])
            _ = try state.load(source: "for i = 1, 1100 do print(i) end", chunkName: "p.lua")
            #expect(state.printed.count == 1001)
            #expect(state.printed.last?.contains("truncated") == true)
            state.printed = []
            _ = try state.load(source: "print('again')", chunkName: "p.lua")
            #expect(state.printed == ["again"])
        }

        @Test func stringRepIsCapped() throws {
            let state = try LuaState()
            let empty = try state.load(source: "return #string.rep('', 1e15), #('ab'):rep(3, ',')", chunkName: "s.lua")
            #expect(empty == [.integer(0), .integer(8)])
            let huge = luaError { try state.load(source: "return string.rep('x', 2^40)", chunkName: "s.lua") }
            #expect(huge?.message.contains("resulting string too large") == true)
        }
    }
}
