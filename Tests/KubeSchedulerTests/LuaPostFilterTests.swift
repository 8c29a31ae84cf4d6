import Testing
import KubeLab
import LuaPlugins

/// The Lua `postfilter` hook: asked before DefaultPreemption when a pod fits nowhere.
struct LuaPostFilterTests {
    /// node-1 runs batch-1 (priority 10), node-2 batch-2 (priority 5); urgent needs one of
    /// their places. DefaultPreemption alone takes node-2 (the lowest victim priority).
    static func pass() throws -> SchedulePass {
        var pass = SchedulePass()
        try pass.load(nodesText: """
        apiVersion: v1
        kind: Node
        metadata: {name: node-1}
        status: {capacity: {cpu: "1", memory: 4Gi}}
        ---
        apiVersion: v1
        kind: Node
        metadata: {name: node-2}
        status: {capacity: {cpu: "1", memory: 4Gi}}
        """, nodesFile: "nodes.yaml", podsText: """
        apiVersion: v1
        kind: Pod
        metadata: {name: batch-1}
        spec: {nodeName: node-1, priority: 10, containers: [{name: c, resources: {requests: {cpu: 800m}}}]}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: batch-2}
        spec: {nodeName: node-2, priority: 5, containers: [{name: c, resources: {requests: {cpu: 800m}}}]}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: urgent}
        spec: {priority: 1000, containers: [{name: c, resources: {requests: {cpu: 500m}}}]}
        """, podsFile: "pods.yaml")
        return pass
    }

    static func run(_ postfilter: String) throws -> SchedulePass.Output {
        let plugin = try LoadedPlugin.load(source: "return { name = 'pf', postfilter = \(postfilter) }", file: "pf.lua")
        return try pass().run(plugin: plugin, seed: 1)
    }

    @Test func withoutALuaPostfilterDefaultPreemptionTakesTheLowestVictim() throws {
        let out = try Self.pass().run(plugin: nil, seed: 1)
        #expect(out.placements["default/urgent"] == .some("node-2"))
        #expect(out.preempted == ["default/batch-2"])
    }

    @Test func aLuaPostfilterChoosesTheNodeAndTheVictims() throws {
        let out = try Self.run("""
        function(pod, failures, state)
          local seen = {}
          for _, f in ipairs(failures) do seen[#seen + 1] = f.node .. '=' .. f.code .. ':' .. f.reasons[1] end
          assert(table.concat(seen, ' ') == 'node-1=Unschedulable:Insufficient cpu node-2=Unschedulable:Insufficient cpu')
          return { node = 'node-1', victims = { 'default/batch-1' } }
        end
        """)
        #expect(out.placements["default/urgent"] == .some("node-1"))
        #expect(out.preempted == ["default/batch-1"])
        #expect(out.plugin_failures.isEmpty)
    }

    @Test func nilLetsDefaultPreemptionDecide() throws {
        let out = try Self.run("function() return nil end")
        #expect(out.placements["default/urgent"] == .some("node-2"))
        #expect(out.preempted == ["default/batch-2"])
    }

    @Test func falseWithAReasonStopsPreemption() throws {
        let out = try Self.run("function() return false, 'no preemption during business hours' end")
        #expect(out.placements["default/urgent"] == .some(nil))
        #expect(out.preempted == nil)
        #expect(out.unschedulable["default/urgent"]?.hasPrefix("0/2 nodes are available: 2 Insufficient cpu.") == true)
    }

    @Test func aFailureOrABadVictimIsReportedAndDefaultPreemptionDecides() throws {
        for (hook, message) in [
            ("function() error('boom') end", "pf.lua:1: in postfilter: boom"),
            ("function() return { node = 'node-1', victims = { 'default/batch-2' } } end",
             "pf.lua: in postfilter: victim default/batch-2 does not run on node node-1"),
            ("function() return { node = 'node-1', victims = 'default/batch-1' } end",
             "pf.lua: in postfilter: victims must be an array of \"ns/pod\" names, got the string \"default/batch-1\""),
            ("function() return { node = 'node-9' } end",
             "pf.lua: in postfilter: no node named node-9 in the cluster"),
            ("function() return 42 end",
             "pf.lua: in postfilter: expected nil, false with a reason, or { node = \"name\", victims = { \"ns/pod\", ... } }, got 42"),
        ] {
            let out = try Self.run(hook)
            #expect(out.placements["default/urgent"] == .some("node-2"), "\(hook)")
            #expect(out.plugin_failures.first == message)
        }
    }
}
