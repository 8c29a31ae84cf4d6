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
