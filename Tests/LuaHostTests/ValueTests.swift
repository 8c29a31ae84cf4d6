import Testing
@testable import LuaHost

extension LuaHostSuite {
    @Suite struct Values {
        @Test func roundTripOfEveryCase() throws {
            let state = try LuaState()
            let echo = try luaFunction(state, "return function(...) return ... end")
            let callback = state.function { args in args }
            let values: [LuaValue] = [
                .nil, .boolean(true), .boolean(false),
                .integer(0), .integer(Int64.max), .integer(Int64.min), .integer(-7),
                .number(1.0), .number(-0.5), .number(1e300),
                .string(""), .string("héllo ✓"), .string("nul\u{0}inside"),
                .array([.integer(1), .string("two"), .array([.number(3.5)])]),
                .map([:]),
                .map(["a": .integer(1), "b": .map(["c": .array([.boolean(true)])])]),
                callback,
                .nil,
            ]
            let back = try state.call(echo, values)
            #expect(back == values)
            #expect(back.count == values.count)
        }

        @Test func integerAndFloatSubtypesArePreserved() throws {
            let state = try LuaState()
            let types = try luaFunction(state, "return function(a, b) return math.type(a), math.type(b), 3, 3.0, 2^53 end")
            let results = try state.call(types, [.integer(3), .number(3)])
            #expect(results == [.string("integer"), .string("float"), .integer(3), .number(3), .number(9007199254740992)])
        }

        @Test func viewsConvertBackToTheirContent() throws {
            let state = try LuaState()
            let echo = try luaFunction(state, "return function(v) return v, v.spec end")
            let content: LuaValue = .map(["name": "p", "spec": .map(["ports": [80, 443]])])
            let results = try state.call(echo, [.view("pod", content)])
            #expect(results == [content, .map(["ports": [80, 443]])])
        }

        @Test func functionsComeBackAsEqualRefs() throws {
            let state = try LuaState()
            let make = try luaFunction(state, "local f = function() return 42 end return function() return f, f end")
            let results = try state.call(make, [])
            #expect(results.count == 2)
            #expect(results[0] == results[1])
            let f = try functionRef(results[0])
            #expect(try state.call(f, []) == [.integer(42)])
        }

        @Test func mixedTableIsAConversionErrorNamingTheKey() throws {
            let state = try LuaState()
            let error = luaError { try state.load(source: "return { 1, 2, extra = 3 }", chunkName: "mixed.lua") }
            #expect(error?.kind == .conversion)
            #expect(error?.message.contains("'extra'") == true)
            #expect(error?.message.contains("result 1") == true)
        }

        @Test func otherBadTablesAreConversionErrors() throws {
            let state = try LuaState()
            let cases: [(String, String)] = [
                ("return { [1.5] = true }", "1.5"),
                ("return { [true] = 1 }", "true"),
                ("return { [1] = 'a', [3] = 'c' }", "key 3"),
                ("return { a = { [0] = 'zero' } }", "key 0"),
                ("local t = {} t.me = t return t", "cycle"),
                ("local t = {} for i = 1, 70 do t = { t } end return t", "deeper than 64"),
                ("return coroutine.create(function() end)", "thread"),
                // A table shared many times would expand exponentially (found by fuzzing).
                ("local t = {} for i = 1, 26 do t = { t, t } end return t", "more than 200000 values"),
            ]
            for (code, fragment) in cases {
                let error = luaError { try state.load(source: code, chunkName: "bad.lua") }
                #expect(error?.kind == .conversion, "\(code)")
                #expect(error?.message.contains(fragment) == true, "\(code): \(error?.message ?? "no error")")
            }
            // a nested offending key names its path
            let nested = luaError { try state.load(source: "return { spec = { 1, x = 2 } }", chunkName: "bad.lua") }
            #expect(nested?.message.contains(".spec") == true)
        }

        @Test func emptyTableIsAnEmptyMapAndSequencesAreArrays() throws {
            let state = try LuaState()
            let results = try state.load(source: "return {}, { 'a', 'b' }, { x = 1 }", chunkName: "t.lua")
            #expect(results == [.map([:]), .array(["a", "b"]), .map(["x": 1])])
            #expect(results[0].arrayValue == [])
        }

        @Test func helpers() {
            let value: LuaValue = ["name": "p", "count": 3, "ratio": 0.5, "ok": true, "list": [1, 2]]
            #expect(value["name"]?.stringValue == "p")
            #expect(value["count"]?.intValue == 3)
            #expect(LuaValue.number(4.0).intValue == 4)
            #expect(LuaValue.number(4.5).intValue == nil)
            #expect(value["ratio"]?.doubleValue == 0.5)
            #expect(value["count"]?.doubleValue == 3)
            #expect(value["ok"]?.boolValue == true)
            #expect(value["list"]?.arrayValue == [1, 2])
            #expect(value["missing"] == nil)
            #expect(value.mapValue?.count == 5)
            #expect(LuaValue.view("pod", value)["name"] == "p")
            #expect(LuaValue.nil.typeName == "nil")
            #expect(LuaValue.integer(1).typeName == "number")
            #expect(LuaValue.number(1).typeName == "number")
            #expect(LuaValue.boolean(true).typeName == "boolean")
            #expect(LuaValue.string("").typeName == "string")
            #expect(value.typeName == "table")
            #expect(LuaValue.array([]).typeName == "table")
            #expect(LuaValue.view("x", [:]).typeName == "table")
        }

        @Test func setGlobalInstallsAModule() throws {
            let state = try LuaState()
            let double = state.function { args in [.integer((args.first?.intValue ?? 0) * 2)] }
            try state.setGlobal("kubelab", .map(["double": double, "version": "1"]))
            let results = try state.load(source: "return kubelab.double(21), kubelab.version", chunkName: "g.lua")
            #expect(results == [.integer(42), .string("1")])
        }

        @Test func functionsOfAnotherStateAreRefused() throws {
            let a = try LuaState()
            let b = try LuaState()
            let f = try luaFunction(a, "return function() end")
            let error = luaError { try b.setGlobal("f", .function(f)) }
            #expect(error?.kind == .conversion)
            let callError = luaError { try b.call(f, []) }
            #expect(callError?.kind == .conversion)
        }
    }
}
