import Testing
import KubeAPI
import KubeScheduler
import LuaPlugins
import LuaHost
import KubeLab

/// docs/examples/every-hook.lua, the documentation's example of every hook, does what its
/// comments say.
struct EveryHookExampleTests {
    static let nodes = """
    apiVersion: v1
    kind: Node
    metadata: { name: node-1, labels: { team: a } }
    status: { capacity: { cpu: "4", memory: 16Gi } }
    ---
    apiVersion: v1
    kind: Node
    metadata: { name: node-2 }
    status: { capacity: { cpu: "4", memory: 16Gi } }
    ---
    apiVersion: v1
    kind: Node
    metadata: { name: maint-1 }
    status: { capacity: { cpu: "64", memory: 64Gi } }
    """

    static func pod(_ name: String, _ labels: String, cpu: String = "500m", priority: Int = 0) -> String {
        """
        apiVersion: v1
        kind: Pod
        metadata: { name: \(name), labels: { \(labels) } }
        spec: { priority: \(priority), containers: [ { name: c, image: x, resources: { requests: { cpu: \(cpu) } } } ] }
        """
    }

    @Test func everyHookDoesWhatItsCommentsSay() throws {
        let pods = [
            Self.pod("b-1", "team: b, pin: node-2"),
            Self.pod("b-2", "team: b, pin: node-1"),
            Self.pod("a-1", "team: a, pin: node-1", priority: 10),
            Self.pod("c-1", "team: c, hold: \"yes\", pin: node-2"),
            Self.pod("c-2", "team: c, hold: \"yes\", pin: node-2"),
            Self.pod("c-3", "team: c, hold: \"yes\", pin: node-2"),
            Self.pod("c-4", "team: c, pin: node-2"),
            Self.pod("d-1", "team: d"),
            Self.pod("batch-1", "team: batch", cpu: "100"),
        ].joined(separator: "\n---\n")
        let lua = try LoadedPlugin.load(path: "\(repoRoot)/docs/examples/every-hook.lua", displayPath: "docs/examples/every-hook.lua")
        let out = try pass(nodes: Self.nodes, pods: pods).run(plugin: lua, seed: 1)
        #expect(out.plugin_failures.isEmpty, "\(out.plugin_failures)")
        // queue_sort: priority first, then creation and name.
        #expect(out.order.first == "default/a-1")
        // prefilter narrows to the pinned node; filter keeps dedicated nodes to their team.
        #expect(out.placements["default/a-1"] == "node-1")
        #expect(out.placements["default/b-1"] == "node-2")
        #expect(out.unschedulable["default/b-2"] == "0/3 nodes are available: 1 node dedicated to team a, 2 node(s) didn't satisfy plugin(s) [every-hook].")
        // reserve: three held pods of team c are in flight, the fourth is turned away.
        #expect(out.unschedulable["default/c-4"] == "rejected by reserve plugin every-hook on node-2: team c has 3 pods in flight")
        // permit: held pods wait, and a pass has no time.
        #expect(out.unschedulable["default/c-1"]?.hasPrefix("rejected by permit plugin every-hook on node-2: timed out") == true)
        // prebind: the roomiest node is under maintenance.
        #expect(out.unschedulable["default/d-1"] == "rejected by prebind plugin every-hook on maint-1: node under maintenance")
        // postfilter: a batch pod that fits nowhere does not preempt.
        #expect(out.unschedulable["default/batch-1"]?.hasPrefix("0/3 nodes are available") == true)
        #expect(out.preempted == nil)
        let plugin = LuaSchedulerPlugin(lua)
        let f = Framework.profile(with: plugin)
        var batch = Pod(metadata: ObjectMeta(name: "batch-2", namespace: "default", labels: ["team": "batch"]))
        batch.spec.containers = [Container(name: "c", image: "x")]
        let answer = plugin.postFilter(CycleState(), batch, [], PostFilterContext(framework: f, nodes: [], pdbs: [], random: { 0 }))
        #expect(answer.status.code == .unschedulableAndUnresolvable && answer.status.message == "batch pods do not preempt")
        batch.metadata.labels["team"] = "web"
        let deferred = plugin.postFilter(CycleState(), batch, [], PostFilterContext(framework: f, nodes: [], pdbs: [], random: { 0 }))
        #expect(deferred.status.code == .unschedulable && deferred.nominatedNodeName == nil)
    }
}
