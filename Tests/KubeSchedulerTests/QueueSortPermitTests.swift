import Foundation
import Testing
import KubeAPI
import KubeScheduler
import LuaPlugins
import LuaHost
import KubeLab

/// Pods with priorities: web-1 (0), web-2 (10), web-3 (0), web-4 (10).
func prioritizedPods() -> String {
    (1...4).map { i in
        """
        apiVersion: v1
        kind: Pod
        metadata: { name: web-\(i), labels: { app: web, tier: "\(i % 2 == 0 ? "gold" : "bronze")" } }
        spec:
          priority: \(i % 2 == 0 ? 10 : 0)
          containers:
          - name: c
            image: nginx
            resources: { requests: { cpu: "1", memory: 1Gi } }
        """
    }.joined(separator: "\n---\n")
}

struct QueueSortPermitTests {
    @Test func theDefaultQueueOrderIsPriorityThenArrival() throws {
        let out = try pass(nodes: nodesYAML(2), pods: prioritizedPods()).run(plugin: nil, seed: 1)
        #expect(out.order == ["default/web-2", "default/web-4", "default/web-1", "default/web-3"])
    }

    @Test func aLuaQueueSortDecidesTheOrder() throws {
        let lua = try LoadedPlugin.load(source: """
        return { name = "by-name-desc", queue_sort = function(a, b) return a.name > b.name end }
        """, file: "sort.lua")
        let out = try pass(nodes: nodesYAML(2), pods: prioritizedPods()).run(plugin: lua, seed: 1)
        #expect(out.order == ["default/web-4", "default/web-3", "default/web-2", "default/web-1"])
        #expect(out.plugin_failures.isEmpty)
    }

    @Test func aFailingQueueSortFallsBackToTheDefaultOrder() throws {
        let lua = try LoadedPlugin.load(source: """
        return { name = "broken-sort",
          queue_sort = function(a, b)
            return a.labels.tier.rank < b.labels.tier.rank
          end }
        """, file: "plugins/schedulers/broken-sort.lua")
        let out = try pass(nodes: nodesYAML(2), pods: prioritizedPods()).run(plugin: lua, seed: 1)
        #expect(out.order == ["default/web-2", "default/web-4", "default/web-1", "default/web-3"])
        #expect(out.plugin_failures.first == "plugins/schedulers/broken-sort.lua:3: in queue_sort: attempt to compare two nil values")
        #expect(out.unschedulable.isEmpty)
    }

    @Test func aQueueSortThatReturnsANonBooleanIsAFailure() throws {
        let lua = try LoadedPlugin.load(source: """
        return { name = "numeric", queue_sort = function(a, b) return 1 end }
        """, file: "numeric.lua")
        let out = try pass(nodes: nodesYAML(2), pods: prioritizedPods()).run(plugin: lua, seed: 1)
        #expect(out.order == ["default/web-2", "default/web-4", "default/web-1", "default/web-3"])
        #expect(out.plugin_failures.first == "numeric.lua: in queue_sort: expected true or false, got 1")
    }

    @Test func permitAllowsOrDeniesWithAReason() throws {
        let lua = try LoadedPlugin.load(source: """
        return { name = "gold-only",
          permit = function(pod, node, state)
            if pod.labels.tier == "gold" then return "allow" end
            return "deny", "only gold pods today"
          end }
        """, file: "gold.lua")
        let out = try pass(nodes: nodesYAML(2), pods: prioritizedPods()).run(plugin: lua, seed: 1)
        #expect(out.placements["default/web-2"] != .some(nil))
        #expect(out.placements["default/web-4"] != .some(nil))
        let msg = try #require(out.unschedulable["default/web-1"])
        #expect(msg.hasPrefix("rejected by permit plugin gold-only on node-"))
        #expect(msg.hasSuffix(": only gold pods today"))
        #expect(out.unschedulable.count == 2)
        #expect(out.plugin_failures.isEmpty)
    }

    @Test(arguments: [
        ("return { name = 'p', permit = function(pod, node) return pod.nope.x end }",
         "p.lua:1: in permit: attempt to index a nil value (field 'nope')"),
        ("return { name = 'p', permit = function(pod, node) return true end }",
         "p.lua: in permit: expected \"allow\" or \"deny\", got true"),
        ("return { name = 'p', permit = function(pod, node) return 'wait' end }",
         "p.lua: in permit: \"wait\" needs a number of seconds from 0 to 900 (kube-scheduler's limit), got nil"),
    ])
    func aFailingPermitDenies(_ source: String, _ failure: String) throws {
        let lua = try LoadedPlugin.load(source: source, file: "p.lua")
        let out = try pass(nodes: nodesYAML(2), pods: podsYAML(3)).run(plugin: lua, seed: 1)
        #expect(out.unschedulable.count == 3)
        #expect(out.unschedulable["default/web-1"]?.contains(failure) == true, "\(out.unschedulable)")
        #expect(out.plugin_failures.first == failure)
    }

    @Test func aPermitThatKeepsFailingIsSwitchedOffAndThePodsAreBound() throws {
        let lua = try LoadedPlugin.load(source: """
        return { name = 'p', permit = function(pod, node) error('no') end }
        """, file: "p.lua")
        let workload = try pass(nodes: nodesYAML(4), pods: podsYAML(12))
        let out = workload.run(plugin: lua, seed: 1)
        #expect(out.placements == workload.run(plugin: nil, seed: 1).placements)
        #expect(out.plugin_failures.last?.hasPrefix("p.lua: switched off after 10 failures in a row") == true)
    }
}
