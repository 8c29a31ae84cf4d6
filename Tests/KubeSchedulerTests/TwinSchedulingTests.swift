import Foundation
import Testing
import KubeAPI
import LuaPlugins
import LuaHost
import KubeLab

/// A plugin whose filter and score run on the views' plain twins schedules exactly as the
/// same plugin run on the views.
struct TwinSchedulingTests {
    /// Nodes of three sizes and labels, pods of two sizes: the filter rejects full nodes
    /// and the score reads nested views (free, requested, allocatable, labels).
    static let source = """
    local function used(pod, node, r)
      local a = node.allocatable[r] or 0
      if a <= 0 then return 0 end
      return math.min(100, ((node.requested[r] or 0) + (pod.requests[r] or 0)) * 100 // a)
    end
    return {
      name = 'zone-binpack',
      filter = function(pod, node, state)
        if pod.requests.cpu > node.free.cpu then return false, string.format('%s: no cpu', node.name) end
        return pod.requests.memory <= node.free.memory, 'no memory'
      end,
      score = function(pod, node, state)
        local bonus = node.labels.zone == 'a' and 10 or 0
        return math.max(0, (used(pod, node, 'cpu') + used(pod, node, 'memory')) // 2 - bonus)
      end,
    }
    """

    static func workload() throws -> SchedulePass {
        let nodes = (1...6).map { i in
            """
            apiVersion: v1
            kind: Node
            metadata: { name: node-\(i), labels: { zone: \(i % 2 == 0 ? "a" : "b") } }
            status: { capacity: { cpu: "\(i % 3 + 2)", memory: \(4 * (i % 2 + 1))Gi, pods: "110" } }
            """
        }.joined(separator: "\n---\n")
        let pods = podsYAML(16, cpu: "1", memory: "1Gi") + "\n---\n" + podsYAML(5, cpu: "500m", memory: "3Gi", app: "db")
        return try pass(nodes: nodes, pods: pods)
    }

    @Test func aPluginOnTwinsPlacesAsOnTheViews() throws {
        let workload = try Self.workload()
        let onTwins = try LoadedPlugin.load(source: Self.source, file: "zone-binpack.lua")
        // One write with a computed key, in a function never called, keeps the calls on views.
        let onViews = try LoadedPlugin.load(source: "local function unused(t, k) t[k] = 1 end\n" + Self.source,
                                            file: "zone-binpack.lua")
        let a = workload.run(plugin: onTwins, seed: 7)
        let b = workload.run(plugin: onViews, seed: 7)
        #expect(a.order == b.order)
        #expect(a.placements == b.placements)
        #expect(a.unschedulable == b.unschedulable)
        #expect(a.plugin_failures.isEmpty && b.plugin_failures.isEmpty)
        #expect(a.unschedulable.count > 0, "some pods find no room, so the filter rejects nodes")
        #expect(onTwins.state.twinCounts.calls > 0 && onTwins.state.twinCounts.reruns == 0)
        #expect(onViews.state.twinCounts == (0, 0))
    }
}
