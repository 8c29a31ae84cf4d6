import Testing
@testable import LuaHost

extension LuaHostSuite {
    @Suite struct Determinism {
        static let probe = """
            local named = setmetatable({}, { __name = 'Node' })
            local custom = setmetatable({}, { __tostring = function() return 'custom!' end })
            local co = coroutine.create(function() end)
            print({}, print, co, named, custom)
            return tostring({}), tostring(print), tostring(function() end), tostring(co),
              tostring(named), tostring(custom), tostring(nil), tostring(1.5), tostring(true),
              string.format('%s|%-6s|%s|%s', {}, print, named, custom)
            """

        @Test func tostringAndPrintShowNoAddresses() throws {
            let state = try LuaState()
            let results = try state.load(source: Self.probe, chunkName: "t.lua")
            #expect(results == [
                "table", "function", "function", "thread", "Node", "custom!", "nil", "1.5", "true",
                "table|function|Node|custom!",
            ])
            #expect(state.printed == ["table\tfunction\tthread\tNode\tcustom!"])
            // identical in a second state (addresses would differ)
            let again = try LuaState()
            #expect(try again.load(source: Self.probe, chunkName: "t.lua") == results)
        }

        @Test func tostringKeepsStockErrors() throws {
            let state = try LuaState()
            let none = luaError { try state.load(source: "return tostring()", chunkName: "t.lua") }
            #expect(none?.message == "t.lua:1: bad argument #1 to 'tostring' (value expected)")
            let bad = luaError {
                try state.load(source: "return tostring(setmetatable({}, { __tostring = function() return {} end }))", chunkName: "t.lua")
            }
            #expect(bad?.message == "t.lua:1: '__tostring' must return a string")
        }

        @Test func formatRefusesPercentP() throws {
            let state = try LuaState()
            for code in ["string.format('%p', {})", "('%10p'):format(print)", "string.format('%d %p', 1, 'x')"] {
                let error = luaError { try state.load(source: "return " + code, chunkName: "f.lua") }
                #expect(error?.kind == .runtime, "\(code)")
                #expect(error?.message == "f.lua:1: string.format: '%p' is not allowed", "\(code)")
            }
            let fine = try state.load(source: "return string.format('%%p %5.1f %q %s', 1.25, 'a', 7)", chunkName: "f.lua")
            #expect(fine == [.string("%p   1.2 \"a\" 7")])
            // the stock function's own errors keep their position and name
            let stock = luaError { try state.load(source: "return string.format('%d', 1.5)", chunkName: "f.lua") }
            #expect(stock?.message == "f.lua:1: bad argument #2 to 'format' (number has no integer representation)")
            let conversion = luaError { try state.load(source: "return ('%y'):format(1)", chunkName: "f.lua") }
            #expect(conversion?.message == "f.lua:1: invalid conversion '%y' to 'format'")
        }
    }
}
