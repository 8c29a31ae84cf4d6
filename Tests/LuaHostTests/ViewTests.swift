import Testing
@testable import LuaHost

extension LuaHostSuite {
    @Suite struct Views {
        static var pod: LuaValue { .view("pod", .map([
            "name": "web-1",
            "labels": .map(["app": "web"]),
            "containers": .array([.map(["name": "nginx"]), .map(["name": "sidecar"])]),
        ])) }

        @Test func viewsAreReadableAndReadOnly() throws {
            let state = try LuaState()
            let plugin = try module(Fixture.load("view.lua", into: state))
            let results = try state.call(try functionRef(plugin["inspect"]), [Self.pod])
            let report = try #require(results.first?.mapValue)
            #expect(report["name"] == "web-1")
            #expect(report["count"] == 2)
            #expect(report["names"] == "1=nginx,2=sidecar")
            #expect(report["keys"] == "containers,labels,name")
            #expect(report["app"] == "web")
            #expect(report["e1"]?.stringValue?.hasSuffix("pod view is read-only (field 'node')") == true)
            #expect(report["e2"]?.stringValue?.hasSuffix("pod view is read-only (field 'x')") == true)
            #expect(report["e3"]?.stringValue?.contains("pod view is read-only (field 'node')") == true)
            #expect(report["e4"]?.stringValue?.contains("cannot change a protected metatable") == true)
            #expect(report["e5"]?.stringValue?.contains("pod view is read-only") == true)
            #expect(report["mt"] == .boolean(false))
            #expect(report["writes_failed"] == .boolean(true))
        }

        /// Nested views of plain values are shared by the objects that have equal ones: two
        /// nodes' equal `free` are one table, still read-only; views that differ in a value,
        /// in a value's type (1 and 1.0), in a key or in their name are not, and views
        /// holding tables are each object's own.
        @Test func equalNestedViewsOfPlainValuesAreOneTable() throws {
            let state = try LuaState()
            func node(_ cpu: LuaValue, name: String = "node", extra: [String: LuaValue] = [:]) -> LuaValue {
                .view(name, .map([
                    "free": .map(["cpu": cpu, "memory": .integer(1 << 30)].merging(extra) { a, _ in a }),
                    "labels": .map([:]),
                    "taints": .array([.map(["key": "k", "effect": "NoSchedule"])]),
                ]))
            }
            let f = try luaFunction(state, """
            return function(a, b)
              local ok = pcall(function() a.free.cpu = 0 end)
              local raw = pcall(rawset, a.free, 'cpu', 0)
              return { free = rawequal(a.free, b.free), labels = rawequal(a.labels, b.labels),
                       taints = rawequal(a.taints, b.taints), taint = rawequal(a.taints[1], b.taints[1]),
                       cpu = a.free.cpu, written = ok or raw }
            end
            """)
            func compare(_ a: LuaValue, _ b: LuaValue) throws -> [String: LuaValue] {
                try #require(state.call(f, [a, b]).first?.mapValue)
            }
            let same = try compare(node(.integer(4000)), node(.integer(4000)))
            #expect(same["free"] == .boolean(true) && same["labels"] == .boolean(true) && same["taint"] == .boolean(true))
            #expect(same["taints"] == .boolean(false), "an array of tables is each node's own")
            #expect(same["cpu"] == .integer(4000) && same["written"] == .boolean(false))
            #expect(try compare(node(.integer(4000)), node(.integer(3900)))["free"] == .boolean(false))
            #expect(try compare(node(.integer(1)), node(.number(1)))["free"] == .boolean(false))
            #expect(try compare(node(.integer(1)), node(.string("1")))["free"] == .boolean(false))
            #expect(try compare(node(.integer(1)), node(.integer(1), extra: ["pods": .integer(0)]))["free"] == .boolean(false))
            let other = try compare(node(.integer(1)), node(.integer(1), name: "pod"))
            #expect(other["free"] == .boolean(false) && other["labels"] == .boolean(false))
        }

        /// `pairs` walks a view's fields in the order of their UTF-8 bytes: a prefix first,
        /// and bytes above ASCII after every ASCII letter.
        @Test func pairsWalksFieldsInByteOrder() throws {
            let state = try LuaState()
            let f = try luaFunction(state, """
            return function(v)
              local keys = {}
              for k in pairs(v) do keys[#keys + 1] = k end
              return table.concat(keys, ',')
            end
            """)
            let view = LuaValue.view("node", .map(["z": 1, "é": 2, "a": 3, "ab": 4, "B": 5, "nothing": .nil]))
            #expect(try state.call(f, [view]).first == .string("B,a,ab,z,é"))
        }

        /// Sharing keeps nothing alive: views no object holds any more are collected.
        @Test func sharedViewsGoWithTheirLastHolder() throws {
            let state = try LuaState()
            let baseline = state.memoryInUse
            var refs: [LuaRef] = []
            for k in 0..<2000 {
                refs.append(try state.reference(.view("node", .map(["free": .map(["cpu": .integer(Int64(k))])]))))
            }
            #expect(state.memoryInUse > baseline + 400_000)
            refs.removeAll()
            // The first collection frees the views and empties their entries; the entries'
            // keys go with the next one (a weak table's keys are marked as it is walked).
            _ = state.memoryInUse
            // What stays is the registry's and the table's slots: about 100 KB, against
            // over 400 KB of views.
            #expect(state.memoryInUse < baseline + 150_000)
        }

        @Test func writingAViewFailsWithTheExactText() throws {
            let state = try LuaState()
            let plugin = try module(Fixture.load("view.lua", into: state))
            let error = luaError { try state.call(try functionRef(plugin["bind"]), [Self.pod]) }
            #expect(error?.kind == .runtime)
            #expect(error?.message == "plugins/view.lua:29: pod view is read-only (field 'node')")
            #expect(error?.line == 29)
        }

        @Test func arrayViewsSupportLengthAndIpairs() throws {
            let state = try LuaState()
            let f = try luaFunction(state, """
                return function(nodes)
                  local n = 0
                  for i, v in ipairs(nodes) do n = n + v.cpu end
                  local seen = {}
                  for i, v in pairs(nodes) do seen[#seen + 1] = i end
                  return #nodes, n, table.concat(seen, ","), nodes[2].name
                end
                """)
            let nodes: LuaValue = .view("nodes", .array([
                .map(["name": "a", "cpu": 1]), .map(["name": "b", "cpu": 2]), .map(["name": "c", "cpu": 4]),
            ]))
            #expect(try state.call(f, [nodes]) == [.integer(3), .integer(7), .string("1,2,3"), .string("b")])
        }
    }
}
