import Testing
import KubeAPI
import KubeScheduler
import LuaPlugins
import LuaHost
import KubeLab

/// The shipped scheduler plugins in plugins/schedulers/ do what their headers say.
struct ShippedPluginTests {
    @Test func priorityFifoOrdersByPriorityThenCreationThenName() throws {
        // Listed p4, p3, p2, p1; p3 and p4 have priority 100. The pass creates them all at
        // once, so names break the ties where PrioritySort keeps the listed order.
        let pods = (1...4).reversed().map { i in
            """
            apiVersion: v1
            kind: Pod
            metadata: { name: p\(i) }
            spec:
              priority: \(i <= 2 ? 0 : 100)
              containers: [ { name: c, image: x, resources: { requests: { cpu: 100m } } } ]
            """
        }.joined(separator: "\n---\n")
        let workload = try pass(nodes: nodesYAML(2), pods: pods)
        let out = workload.run(plugin: try plugin("plugins/schedulers/priority-fifo.lua"), seed: 1)
        #expect(out.order == ["default/p3", "default/p4", "default/p1", "default/p2"])
        #expect(out.plugin_failures.isEmpty)
        #expect(workload.run(plugin: nil, seed: 1).order == ["default/p4", "default/p3", "default/p2", "default/p1"])
    }

    @Test func gpuAwareKeepsGpuNodesForGpuPodsAndPacksThem() throws {
        let nodes = """
        apiVersion: v1
        kind: Node
        metadata: { name: cpu-1 }
        status: { capacity: { cpu: "8", memory: 32Gi } }
        ---
        apiVersion: v1
        kind: Node
        metadata: { name: gpu-1 }
        status: { capacity: { cpu: "8", memory: 32Gi, nvidia.com/gpu: "4" } }
        ---
        apiVersion: v1
        kind: Node
        metadata: { name: gpu-2 }
        status: { capacity: { cpu: "8", memory: 32Gi, nvidia.com/gpu: "4" } }
        """
        let pods = (1...3).map { i in
            """
            apiVersion: v1
            kind: Pod
            metadata: { name: train-\(i) }
            spec: { containers: [ { name: c, image: x, resources: { limits: { nvidia.com/gpu: "1" }, requests: { cpu: "1" } } } ] }
            """
        }.joined(separator: "\n---\n") + "\n---\n" + podsYAML(3)
        let out = try pass(nodes: nodes, pods: pods).run(plugin: try plugin("plugins/schedulers/gpu-aware.lua"), seed: 1)
        let trainNodes = Set((1...3).compactMap { out.placements["default/train-\($0)"] ?? nil })
        #expect(trainNodes.count == 1 && trainNodes.first?.hasPrefix("gpu-") == true)
        #expect((1...3).allSatisfy { out.placements["default/web-\($0)"] == "cpu-1" })
        #expect(out.plugin_failures.isEmpty)
    }

    static func gangPods(_ n: Int, size: Int) -> String {
        (1...n).map { i in
            """
            apiVersion: v1
            kind: Pod
            metadata: { name: train-\(i), labels: { pod-group: train, pod-group-size: "\(size)" } }
            spec: { containers: [ { name: c, image: x, resources: { requests: { cpu: "3" } } } ] }
            """
        }.joined(separator: "\n---\n")
    }

    @Test func gangBindsAllOrNothing() throws {
        // Room for one 3-cpu pod per 4-cpu node.
        let three = try pass(nodes: nodesYAML(3), pods: Self.gangPods(4, size: 4))
            .run(plugin: try plugin("plugins/schedulers/gang.lua"), seed: 1)
        #expect(three.placements.values.allSatisfy { $0 == nil })
        #expect(three.unschedulable["default/train-1"]?.hasPrefix("rejected by permit plugin gang on node-") == true, "\(three.unschedulable)")
        #expect(three.unschedulable["default/train-4"]?.hasPrefix("0/3 nodes are available") == true)
        let four = try pass(nodes: nodesYAML(4), pods: Self.gangPods(4, size: 4))
            .run(plugin: try plugin("plugins/schedulers/gang.lua"), seed: 1)
        #expect(Set(four.placements.values.compactMap { $0 }).count == 4)
        #expect(four.plugin_failures.isEmpty)
    }
}
