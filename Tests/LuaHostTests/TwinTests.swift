import Testing
@testable import LuaHost

extension LuaHostSuite {
    /// Twins: `callEach` runs a straight function that writes no table on the views' plain
    /// twins, in a state whose code has no write with a computed key. Every result must be
    /// the one the views give; whatever twins cannot do runs again on the views.
    @Suite struct Twins {
        /// A state with `code` (the body of a chunk returning a function), twins allowed if
        /// the code permits, the function, and the arguments: a pod view, three node views
        /// with nested views (the second carries a taint), a plain state table.
        struct Fixture {
            let state: LuaState
            let allowed: Bool
            let function: LuaRef
            let cost: Int64?
            let pod: LuaRef
            let nodes: [LuaRef]
            let cycle: LuaRef

            init(_ code: String, twins: Bool = true) throws {
                let state = try LuaState()
                self.state = state
                let chunk = try luaFunction(state, "return function(...) \(code)\nend", chunk: "plugin.lua")
                allowed = twins ? state.allowTwins(ifNoKeyedWritesIn: chunk) : false
                guard case .function(let f)? = try state.call(chunk, []).first else {
                    throw LuaError(kind: .conversion, message: "the code returned no function")
                }
                function = f
                cost = state.straightCost(of: f)
                pod = try state.reference(.view("pod", .map([
                    "name": .string("p"),
                    "requests": .view("requests", .map(["cpu": .integer(100), "memory": .integer(1 << 20)])),
                ])))
                nodes = try (1...3).map { (i: Int) throws(LuaError) -> LuaRef in
                    let taints: [LuaValue] = i == 2 ? [.view("taint", .map(["key": .string("gpu"), "effect": .string("NoSchedule")]))] : []
                    return try state.reference(.view("node", .map([
                        "name": .string("n\(i)"),
                        "free": .view("free", .map(["cpu": .integer(Int64(1000 * i)), "memory": .integer(Int64(i) << 30)])),
                        "labels": .view("labels", .map(["zone": .string(i == 3 ? "b" : "a")])),
                        "taints": .view("taints", .array(taints)),
                    ])), inOneSpan: true)
                }
                cycle = try state.reference(.map(["bonus": .integer(7)]))
            }

            func run() throws -> [LuaState.EachCall] {
                try state.callEach(function, pod, nodes, cycle, straightCost: cost)
            }
        }

        /// The results of the same code run on the views (twins never allowed).
        static func onViews(_ code: String) throws -> [LuaState.EachCall] {
            try Fixture(code, twins: false).run()
        }

        static func same(_ a: [LuaState.EachCall], _ b: [LuaState.EachCall]) -> Bool {
            a.count == b.count && zip(a, b).allSatisfy {
                $0.first == $1.first && $0.second == $1.second && $0.error?.message == $1.error?.message
            }
        }

        @Test func aFunctionThatWritesNothingRunsOnTwinsWithTheViewsResults() throws {
            let code = """
            local function room(p, n) return n.free.cpu - p.requests.cpu end
            return function(p, n, st)
              if #n.taints > 0 then return false, string.format('%s: taint %s', n.name, n.taints[1].key) end
              return math.max(room(p, n), 0) + st.bonus, n.labels.zone .. tostring(n.labels.none)
            end
            """
            let fixture = try Fixture(code)
            #expect(fixture.allowed && fixture.cost != nil)
            let calls = try fixture.run()
            #expect(calls.map(\.first) == [.integer(907), .boolean(false), .integer(2907)])
            #expect(calls.map(\.second) == [.string("anil"), .string("n2: taint gpu"), .string("bnil")])
            #expect(fixture.state.twinCounts == (3, 0))
            #expect(Self.same(calls, try Self.onViews(code)))
            // Over a LuaRefArray (the scheduler's way), at chosen positions.
            let array = LuaRefArray(of: fixture.state, count: 3)
            for (i, node) in fixture.nodes.enumerated() { array[i] = node }
            var firsts: [LuaValue] = []
            try fixture.state.callEach(fixture.function, fixture.pod, array, at: [2, 0], fixture.cycle,
                                       straightCost: fixture.cost) { _, call in firsts.append(call.first) }
            #expect(firsts == [.integer(2907), .integer(907)])
            #expect(fixture.state.twinCounts == (5, 0))
        }

        /// Twins are a property of the plugin's code as a whole: one write with a computed
        /// key anywhere in it (here in a function never called) keeps every call on views.
        @Test func aWriteWithAComputedKeyAnywhereKeepsTheViews() throws {
            for write in ["seen[k] = true", "local t = {[k] = 1}"] {
                let fixture = try Fixture("""
                local seen = {}
                local function unused(k) \(write) end
                return function(p, n, st) return n.free.cpu end
                """)
                #expect(!fixture.allowed, "\(write)")
                let calls = try fixture.run()
                #expect(calls.map(\.first) == [.integer(1000), .integer(2000), .integer(3000)])
                #expect(fixture.state.twinCounts == (0, 0))
            }
            // Writes with constant keys and to upvalues do not matter.
            let fixture = try Fixture("""
            local count, t = 0, {}
            local function note(n) count = count + 1 t.last = n.name t[1] = count end
            return function(p, n, st) return n.free.cpu end
            """)
            #expect(fixture.allowed)
        }

        /// A twin compared with its own view (kept from an earlier call on the views) is
        /// told apart only by `==`, which twins cannot answer: the call runs again on the
        /// views and says true, as the views do.
        @Test func comparingATwinWithAViewRunsOnTheViews() throws {
            let code = """
            local kept
            local function keep(n) kept = n end
            return function(p, n, st)
              if kept == nil then keep(n) end
              return n == kept, p == p
            end
            """
            let fixture = try Fixture(code)
            let calls = try fixture.run()
            #expect(calls.map(\.first) == [.boolean(true), .boolean(false), .boolean(false)])
            #expect(calls.allSatisfy { $0.second == .boolean(true) })
            #expect(Self.same(calls, try Self.onViews(code)))
            // Each call was stopped on twins (the first by the call of `keep`, the others by
            // `==` with a view) and ran on the views.
            #expect(fixture.state.twinCounts == (0, 3))
            // Again: now the first node's twin meets its own view, which the views call equal.
            #expect(try fixture.run().map(\.first) == [.boolean(true), .boolean(false), .boolean(false)])
            #expect(fixture.state.twinCounts == (0, 6))
        }

        /// A call twins cannot make (a function that writes, a C function off the list, an
        /// error, a table handed back) runs again on the views, and what it did on twins
        /// left no trace: the write happens once per item.
        @Test func whatTwinsCannotDoRunsOnceOnTheViews() throws {
            let cases: [(String, Int64)] = [
                ("local function bump(st) st.calls = (st.calls or 0) + 1 return st.calls end\nreturn function(p, n, st) return bump(st) end", 0),
                ("return function(p, n, st) return rawlen(n.taints), rawget(n, 'name') end", 0),
                ("return function(p, n, st) return n.nope.x end", 0),
                ("return function(p, n, st) return n.labels end", 0),
                ("return function(p, n, st) if n.name == 'n2' then error(n) end return 1 end", 2),
                ("return function(p, n, st) return #n.name > 1 and next(n) end", 0),
            ]
            for (code, twinCalls) in cases {
                let fixture = try Fixture(code)
                let calls = try fixture.run()
                #expect(Self.same(calls, try Self.onViews(code)), "\(code)")
                #expect(fixture.state.twinCounts == (twinCalls, 3 - twinCalls), "\(code)")
            }
            let bump = try Fixture(cases[0].0)
            #expect(try bump.run().map(\.first) == [.integer(1), .integer(2), .integer(3)])
        }

        /// `rawset` with a table as key, or code loaded at run time, ends twins for the
        /// state: a table could then be keyed by a view.
        @Test func rawsetWithATableKeyOrLoadEndsTwins() throws {
            for act in ["rawset({}, {}, true)", "load('return 1')"] {
                let fixture = try Fixture("""
                local function act() \(act) end
                return function(p, n, st) if n == nil then act() end return n.free.cpu end
                """)
                #expect(fixture.allowed)
                _ = try fixture.run()
                #expect(fixture.state.twinCounts == (3, 0))
                let actNow = try luaFunction(fixture.state, "return function() \(act) end")
                _ = try fixture.state.call(actNow, [])
                let calls = try fixture.run()
                #expect(calls.map(\.first) == [.integer(1000), .integer(2000), .integer(3000)])
                #expect(fixture.state.twinCounts == (3, 0), "\(act)")
            }
        }

        /// A lazy field (a node's pods) is computed by a call, which stops a call on twins;
        /// once computed, twins read it from the view's content.
        @Test func aLazyFieldIsReadThroughTheView() throws {
            let fixture = try Fixture("return function(p, n, st) return #n.pods, n.pods[1] and n.pods[1].name end")
            let fetch = try luaFunction(fixture.state, """
            return function(content, key)
              local v = setmetatable({}, { __index = { name = 'pod-of-' .. rawget(content, 'name') }, __newindex = error })
              rawset(content, key, { v })
              return { v }
            end
            """)
            for node in fixture.nodes { try fixture.state.setLazyField(of: node, key: "pods", index: fetch) }
            let first = try fixture.run()
            #expect(first.map(\.first) == [.integer(1), .integer(1), .integer(1)])
            #expect(first.map(\.second) == [.string("pod-of-n1"), .string("pod-of-n2"), .string("pod-of-n3")])
            #expect(fixture.state.twinCounts == (0, 3))
            let second = try fixture.run()
            #expect(second.map(\.second) == first.map(\.second))
            #expect(fixture.state.twinCounts == (3, 3))
        }
    }
}
