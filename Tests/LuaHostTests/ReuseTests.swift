import Testing
@testable import LuaHost

extension LuaHostSuite {
    /// What lets a caller reuse a call's results: the fields of an argument a function can
    /// read (`fieldsRead`), the state's code epoch, and `callEach` skipping flagged calls.
    @Suite struct Reuse {
        /// The function a chunk returns, in a state with twins allowed when the chunk permits.
        static func function(_ state: LuaState, _ chunk: String) throws -> LuaRef {
            let c = try luaFunction(state, "return function(...) \(chunk)\nend", chunk: "plugin.lua")
            _ = state.allowTwins(ifNoKeyedWritesIn: c)
            return try functionRef(try state.call(c, []).first)
        }

        static func fields(_ chunk: String, argument: Int = 0) throws -> [String]? {
            let state = try LuaState()
            return state.fieldsRead(by: try function(state, chunk), argument: argument)
        }

        @Test func fieldsAreThoseReadWithConstantKeys() throws {
            #expect(try Self.fields("return function(p, n) return p.requests.cpu <= n.free.cpu end") == ["requests"])
            #expect(try Self.fields("return function(p, n) return p.requests.cpu <= n.free.cpu end", argument: 1) == ["free"])
            // Both ways of a branch, a field tested for truth, `x = p or q`.
            #expect(try Self.fields("""
            return function(p, n)
              local q = p or n
              if p.a then return q.b end
              return p.c and 1 or p.d
            end
            """) == ["a", "b", "c", "d"])
            // Through helpers it can name: a local, a global, a field of a local table.
            #expect(try Self.fields("""
            local function cpu(x) return x.requests.cpu end
            function mem(x) return x.requests.memory + x.limits.memory end
            local M = {}
            function M.zone(x, y) return y.labels.zone == x.labels.zone end
            return function(p, n) return cpu(p) + mem(p), M.zone(p, n) end
            """) == ["requests", "limits", "labels"])
            // A string method on a field's value reads only that field.
            #expect(try Self.fields("return function(p) return p.name:sub(1, 3) == 'web' end") == ["name"])
            // Nothing at all.
            #expect(try Self.fields("return function(p, n) return n.free.cpu end") == [])
        }

        /// A helper called many times, or by itself, is followed once: helpers that call
        /// helpers ten times over, six deep, would otherwise be a million walks.
        @Test func helpersAreFollowedOnceEach() throws {
            var chunk = "local function h0(x) return x.a end\n"
            for d in 1...6 {
                chunk += "local function h\(d)(x) return " + Array(repeating: "h\(d - 1)(x)", count: 10).joined(separator: " + ") + " end\n"
            }
            chunk += "return function(p) return h6(p) + p.b end"
            #expect(try Self.fields(chunk) == ["a", "b"])
            #expect(try Self.fields("""
            local function r(x, n) if n > 0 then return r(x, n - 1) end return x.c end
            return function(p) return r(p, 3) end
            """) == ["c"])
        }

        @Test func anyFieldWhenTheArgumentGoesWhereItCannotBeFollowed() throws {
            let chunks = [
                "return function(p, n, k) return p[k] end",                         // a computed key
                "return function(p) return type(p) end",                            // a C function
                "return function(p) return tostring(p) end",
                "return function(p) return p end",                                  // returned
                "return function(p, n) return p == n end",                          // compared
                "return function(p) return #p end",                                 // its length
                "return function(p) return p:method() end",                         // a method
                "return function(p) return p[1] end",                               // an integer key
                "return function(...) local p = ... return p.a end",                // varargs
                "return function(p) local f = function() return p.x end return f() end", // a closure
                "return function(p) for i = 1, 2 do end return p.a end",            // a loop
                "local h return function(p) return h(p) end",                       // a nil helper
                "local function h(...) return (...).a end return function(p) return h(p) end",
            ]
            for chunk in chunks { #expect(try Self.fields(chunk) == nil, "\(chunk)") }
        }

        @Test func theEpochMovesWithEveryRunButCallsOnTwins() throws {
            let state = try LuaState()
            let f = try Self.function(state, "local n = 0 return function(p, x) return x.v + n end")
            let bump = try Self.function(state, "return function() end")
            let pod = try state.reference(.view("pod", .map(["a": .integer(1)])))
            let nodes = try (1...3).map { (i: Int) throws(LuaError) -> LuaRef in try state.reference(.view("node", .map(["v": .integer(Int64(i))]))) }
            let cycle = try state.reference(.map([:]))
            let cost = state.straightCost(of: f)
            let e0 = state.codeEpoch
            let calls = try state.callEach(f, pod, nodes, cycle, straightCost: cost)
            #expect(calls.allSatisfy(\.onTwins) && calls.map(\.first) == [.integer(1), .integer(2), .integer(3)])
            #expect(state.codeEpoch == e0, "calls on twins change nothing")
            #expect(calls.allSatisfy { $0.epoch == e0 })
            _ = try state.call(bump, [])
            #expect(state.codeEpoch > e0)
        }

        /// `callEach` with reuse flags: flagged calls are skipped while the epoch stands; a
        /// call that runs on the views (here: it calls table.insert, which twins may not)
        /// moves it, and the flagged calls after it are made.
        @Test func flaggedCallsAreSkippedUntilOtherCodeRuns() throws {
            let state = try LuaState()
            let f = try Self.function(state, """
            local log = {}
            return function(p, x)
              if x.write then table.insert(log, x.v) end
              return x.v * 10 + #log
            end
            """)
            let pod = try state.reference(.view("pod", .map([:])))
            let array = LuaRefArray(of: state, count: 5)
            for i in 0..<5 {
                array[i] = try state.reference(.view("node", .map(["v": .integer(Int64(i)), "write": .boolean(i == 2)])))
            }
            let cycle = try state.reference(.map([:]))
            let cost = state.straightCost(of: f)
            func run(_ flags: [UInt8]?) throws -> [(Int, LuaState.EachCall)] {
                var got: [(Int, LuaState.EachCall)] = []
                try state.callEach(f, pod, array, at: [0, 1, 2, 3, 4], cycle, straightCost: cost, reuse: flags,
                                   reuseEpoch: state.codeEpoch) { got.append(($0, $1)) }
                return got
            }
            // Position 2 is made, runs on the views (table.insert) and moves the epoch: the
            // flagged 3 and 4 after it are made too, on twins again; 0 and 1 are not.
            let before = state.codeEpoch
            let a = try run([1, 1, 0, 1, 1])
            #expect(a.map(\.0) == [2, 3, 4])
            #expect(a.map(\.1.first) == [.integer(21), .integer(31), .integer(41)])
            #expect(a.map(\.1.onTwins) == [false, true, true])
            #expect(a.allSatisfy { $0.1.epoch == before + 1 } && state.codeEpoch == before + 1)
            // Every flag set: nothing is made.
            #expect(try run([1, 1, 1, 1, 1]).isEmpty)
            // Only calls on twins made: the epoch stands and the flagged ones stay skipped.
            let c = try run([0, 1, 1, 0, 1])
            #expect(c.map(\.0) == [0, 3])
            #expect(c.map(\.1.first) == [.integer(1), .integer(31)])
            // Flags and positions must match in number.
            #expect(throws: LuaError.self) {
                try state.callEach(f, pod, array, at: [0, 1], cycle, straightCost: cost, reuse: [1], reuseEpoch: 0) { _, _ in }
            }
        }
    }
}
