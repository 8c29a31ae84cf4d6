import Testing
import KubeAPI
import KubeScheduler
import LuaPlugins
import LuaHost
import KubeLab

/// Filtering in chunks examines exactly the nodes a node-by-node search would, and a Lua
/// filter is called on exactly those nodes.
struct ChunkedFilterTests {
    /// 300 nodes; the Lua filter keeps odd-numbered nodes only, a native filter (the node
    /// is cordoned) drops every tenth. 300 nodes want 144 feasible ones (50% - 300/125).
    static func nodes() -> [NodeInfo] {
        (1...300).map { i in
            var n = Node(metadata: ObjectMeta(name: String(format: "node-%03d", i)))
            n.status.capacity = ["cpu": Quantity(milli: 4000), "memory": Quantity(value: 8 << 30)]
            n.spec.unschedulable = i % 10 == 0
            return NodeInfo(node: n)
        }
    }

    @Test func theSameNodesAreExaminedAsNodeByNode() throws {
        let lua = LuaSchedulerPlugin(try LoadedPlugin.load(source: """
        local calls = 0
        return { name = "odd",
          filter = function(pod, node)
            calls = calls + 1
            return tonumber(node.name:sub(-3)) % 2 == 1, "even"
          end,
          score = function(pod, node) return calls % 101 end }
        """, file: "odd.lua"))
        let f = Framework.profile(with: lua)
        f.explain = true
        let pod = Pod(metadata: ObjectMeta(name: "p", namespace: "default"), spec: PodSpec(containers: [Container(name: "c", image: "x")]))
        let nodes = Self.nodes()
        #expect(Framework.feasibleNodesToFind(percentage: 0, nodes: 300) == 144)
        // Odd nodes pass (every tenth is even, so none of them is cordoned): the 144th odd
        // node is node-287, so 287 nodes are examined, from node-001.
        let r = f.schedule(pod, nodes: nodes) { 0 }
        let examined = r.nodes.filter(\.examined).map(\.node)
        #expect(examined.count == 287 && examined.last == "node-287")
        #expect(f.nextStartNodeIndex == 287)
        // The Lua filter ran on the examined nodes the native filters kept: 287 minus the
        // 28 cordoned ones among them.
        #expect(lua.costs["filter"]?.calls == 259)
        // Verdicts in filter order per node: the cordoned node stops at NodeUnschedulable.
        let n10 = try #require(r.nodes.first { $0.node == "node-010" })
        #expect(n10.filters.last?.plugin == "NodeUnschedulable" && n10.failure?.code == .unschedulableAndUnresolvable)
        let n2 = try #require(r.nodes.first { $0.node == "node-002" })
        #expect(n2.filters.map(\.plugin).last == "odd" && n2.failure?.reasons == ["even"])
        #expect(r.failures.count == 143)
        // The next cycle starts where this one stopped, goes round, and stops at the 144th
        // feasible node: 6 odd nodes from node-288 to node-300, then 138 from node-001.
        let r2 = f.schedule(pod, nodes: nodes) { 0 }
        let examined2 = Set(r2.nodes.filter(\.examined).map(\.node))
        #expect(examined2.contains("node-288") && examined2.contains("node-300") && examined2.contains("node-275"))
        #expect(!examined2.contains("node-276") && !examined2.contains("node-287"))
        #expect(examined2.count == 13 + 275)
    }
}
