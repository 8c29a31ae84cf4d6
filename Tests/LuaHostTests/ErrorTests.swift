import Testing
@testable import LuaHost

extension LuaHostSuite {
    @Suite struct Errors {
        @Test func syntaxErrorNamesChunkAndLine() throws {
            let state = try LuaState()
            let error = luaError { try Fixture.load("syntax_error.lua", into: state) }
            #expect(error?.kind == .syntax)
            #expect(error?.chunk == "plugins/syntax_error.lua")
            #expect(error?.line == 5)
            #expect(error?.message.hasPrefix("plugins/syntax_error.lua:5:") == true)
            #expect(error?.traceback == "")
        }

        @Test func runtimeErrorNamesLineAndHasTraceback() throws {
            let state = try LuaState()
            let plugin = try module(Fixture.load("runtime_error.lua", into: state))
            let score = try functionRef(plugin["score"])
            let error = luaError { try state.call(score, [.integer(4)]) }
            #expect(error?.kind == .runtime)
            #expect(error?.message.hasPrefix("plugins/runtime_error.lua:6: attempt to index a nil value") == true)
            #expect(error?.chunk == "plugins/runtime_error.lua")
            #expect(error?.line == 6)
            let traceback = error?.traceback ?? ""
            #expect(traceback.hasPrefix("stack traceback:"))
            #expect(traceback.contains("plugins/runtime_error.lua:6: in function 'divide'"))
            #expect(traceback.contains("plugins/runtime_error.lua:10: in function"))
            #expect(!traceback.contains("0x"))
            #expect(error?.description == error?.message)
        }

        @Test func errorsWithoutPositionStillLocateTheFrame() throws {
            let state = try LuaState()
            let f = try luaFunction(state, "return function()\n  error('bare', 0)\nend", chunk: "plugins/bare.lua")
            let error = luaError { try state.call(f, []) }
            #expect(error?.message == "bare")
            #expect(error?.chunk == "plugins/bare.lua")
            #expect(error?.line == 2)
        }

        @Test func nonStringErrorValuesAreReportedSafely() throws {
            let state = try LuaState()
            let cases: [(String, String)] = [
                ("error({})", "(error object is a table value)"),
                ("error(setmetatable({}, { __tostring = function() while true do end end }))", "(error object is a table value)"),
                ("error(nil)", "(error object is a nil value)"),
                ("error()", "(error object is a nil value)"),
                ("error(false)", "(error object is a boolean value)"),
                ("error(42)", "42"),
                ("error(2.5)", "2.5"),
                ("error(2.0)", "2.0"),
            ]
            for (code, expected) in cases {
                let error = luaError { try state.load(source: code, chunkName: "e.lua") }
                #expect(error?.kind == .runtime, "\(code)")
                #expect(error?.message == expected, "\(code)")
            }
        }

        @Test func hugeMessagesAreTruncatedAndControlBytesEscaped() throws {
            let state = try LuaState()
            let huge = luaError { try state.load(source: "error(string.rep('x', 100000), 0)", chunkName: "e.lua") }
            let message = huge?.message ?? ""
            #expect(message.utf8.count < 1200)
            #expect(message.hasSuffix("...(truncated)"))
            let control = luaError { try state.load(source: "error('a\\nb\\27c\\r', 0)", chunkName: "e.lua") }
            #expect(control?.message == "a\\nb\\x1Bc\\r")
        }

        @Test func callbackErrorIsCatchableInLua() throws {
            let state = try LuaState()
            try installKubelab(state)
            let plugin = try module(Fixture.load("callback.lua", into: state))
            let caught = try state.call(try functionRef(plugin["caught"]), [])
            #expect(caught == [.boolean(false), .string("plugins/callback.lua:5: nope")])
        }

        @Test func callbackErrorIsReportedWithTheCallersLine() throws {
            let state = try LuaState()
            try installKubelab(state)
            let plugin = try module(Fixture.load("callback.lua", into: state))
            let error = luaError { try state.call(try functionRef(plugin["uncaught"]), []) }
            #expect(error?.kind == .runtime)
            #expect(error?.message == "plugins/callback.lua:11: boom")
            #expect(error?.chunk == "plugins/callback.lua")
            #expect(error?.line == 11)
            #expect(error?.traceback.contains("plugins/callback.lua:11: in function") == true)
        }

        @Test func callbackArgumentConversionFailureIsALuaError() throws {
            let state = try LuaState()
            try installKubelab(state)
            let plugin = try module(Fixture.load("callback.lua", into: state))
            let error = luaError { try state.call(try functionRef(plugin["badarg"]), []) }
            #expect(error?.kind == .runtime)
            #expect(error?.message.hasPrefix("plugins/callback.lua:16: cannot convert argument 1") == true)
            #expect(error?.message.contains("'x'") == true)
            #expect(error?.line == 16)
        }

        @Test func callbacksCanReenterTheState() throws {
            let state = try LuaState()
            let square = try luaFunction(state, "return function(x) return x * x end")
            let viaHost = state.function { args throws(LuaCallbackError) in
                do throws(LuaError) {
                    return try state.call(square, args)
                } catch {
                    throw LuaCallbackError(error.message)
                }
            }
            try state.setGlobal("host", .map(["square": viaHost]))
            let results = try state.load(source: "return host.square(7) + 1", chunkName: "r.lua")
            #expect(results == [.integer(50)])
            state.close()
        }

        @Test func yieldOutsideACoroutineIsKindYield() throws {
            let state = try LuaState()
            let error = luaError { try state.load(source: "coroutine.yield(1)", chunkName: "y.lua") }
            #expect(error?.kind == .yield)
            #expect(error?.message.contains("attempt to yield from outside a coroutine") == true)
        }

        func installKubelab(_ state: LuaState) throws {
            let fail = state.function { args throws(LuaCallbackError) in
                throw LuaCallbackError(args.first?.stringValue ?? "failed")
            }
            let echo = state.function { args in args }
            try state.setGlobal("kubelab", .map(["fail": fail, "echo": echo]))
        }
    }
}
