import Foundation
import Testing
import KubeAPI
import KubeScheduler
import LuaPlugins
import LuaHost
import KubeLab

/// The repository root, from this file's path (Tests/KubeSchedulerTests/X.swift).
let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path

func nodesYAML(_ count: Int, cpu: String = "4", memory: String = "16Gi") -> String {
    (1...count).map { i in
        """
        apiVersion: v1
        kind: Node
        metadata:
          name: node-\(i)
        status:
          capacity: { cpu: "\(cpu)", memory: \(memory), pods: "110" }
        """
    }.joined(separator: "\n---\n")
}

func podsYAML(_ count: Int, cpu: String = "1", memory: String = "1Gi", app: String = "web") -> String {
    (1...count).map { i in
        """
        apiVersion: v1
        kind: Pod
        metadata: { name: \(app)-\(i), labels: { app: \(app) } }
        spec:
          containers:
          - name: c
            image: nginx
            resources: { requests: { cpu: "\(cpu)", memory: \(memory) } }
        """
    }.joined(separator: "\n---\n")
}

func pass(nodes: String, pods: String) throws -> SchedulePass {
    var p = SchedulePass()
    try p.load(nodesText: nodes, nodesFile: "nodes.yaml", podsText: pods, podsFile: "pods.yaml")
    return p
}

func plugin(_ relative: String) throws -> LoadedPlugin {
    try LoadedPlugin.load(path: "\(repoRoot)/\(relative)", displayPath: relative)
}

struct LuaSchedulerTests {
    @Test func binpackFillsNodesInTurn() throws {
        let p = try pass(nodes: nodesYAML(4), pods: podsYAML(10))
        let out = p.run(plugin: try plugin("plugins/schedulers/binpack.lua"), seed: 3)
        #expect(out.unschedulable.isEmpty)
        // After each placement at most one node is partly full: replay the order.
        var perNode: [String: Int] = [:]
        for key in out.order {
            let n = try #require(out.placements[key] ?? nil)
            perNode[n, default: 0] += 1
            let partial = perNode.values.filter { $0 > 0 && $0 < 4 }.count
            #expect(partial <= 1, "after \(key): \(perNode)")
        }
        #expect(perNode.values.sorted() == [2, 4, 4])
    }

    @Test func spreadBalancesNodes() throws {
        let p = try pass(nodes: nodesYAML(4), pods: podsYAML(8))
        let out = p.run(plugin: try plugin("plugins/schedulers/spread.lua"), seed: 3)
        #expect(out.unschedulable.isEmpty)
        #expect(out.nodes.values.map(\.pods).sorted() == [2, 2, 2, 2])
    }

    @Test func defaultSchedulerAlsoSpreadsByLeastAllocated() throws {
        let out = try pass(nodes: nodesYAML(4), pods: podsYAML(8)).run(plugin: nil, seed: 1)
        #expect(out.nodes.values.map(\.pods).sorted() == [2, 2, 2, 2])
    }

    @Test func podThatFitsNowhereIsUnschedulableWithTheFitReason() throws {
        let pods = podsYAML(2) + "\n---\n" + podsYAML(1, cpu: "16", app: "huge")
        for pl in [nil, try plugin("plugins/schedulers/binpack.lua")] as [LoadedPlugin?] {
            let out = try pass(nodes: nodesYAML(2), pods: pods).run(plugin: pl, seed: 1)
            #expect(out.placements["default/huge-1"] == .some(nil))
            #expect(out.unschedulable["default/huge-1"] == "0/2 nodes are available: 2 Insufficient cpu.")
            #expect(out.unschedulable.count == 1)
        }
    }

    @Test func podsThatNameANodeCountAsRunningThere() throws {
        let pods = """
        apiVersion: v1
        kind: Pod
        metadata: { name: pinned }
        spec:
          nodeName: node-1
          containers: [{ name: c, image: x, resources: { requests: { cpu: "3500m" } } }]
        """ + "\n---\n" + podsYAML(1)
        let out = try pass(nodes: nodesYAML(2), pods: pods).run(plugin: nil, seed: 1)
        #expect(out.placements["default/web-1"] == .some("node-2"))
        #expect(out.placements["default/pinned"] == nil)
        #expect(out.nodes["node-1"]?.pods == 1)
    }

    @Test func luaFilterCombinesWithBuiltInFilters() throws {
        let src = """
        return { name = "only-even", filter = function(pod, node, state)
          local n = tonumber(node.name:match("%d+"))
          return n % 2 == 0, "odd node"
        end }
        """
        let lua = try LoadedPlugin.load(source: src, file: "even.lua")
        let out = try pass(nodes: nodesYAML(4), pods: podsYAML(12)).run(plugin: lua, seed: 1)
        // Only node-2 and node-4 pass, 4 pods each fit by cpu; the rest fit nowhere.
        #expect(out.nodes["node-1"]?.pods == 0 && out.nodes["node-3"]?.pods == 0)
        #expect(out.nodes["node-2"]?.pods == 4 && out.nodes["node-4"]?.pods == 4)
        #expect(out.unschedulable.count == 4)
        let reason = try #require(out.unschedulable.values.first)
        #expect(reason.contains("2 odd node") && reason.contains("2 Insufficient cpu"))
    }

    @Test func failingHooksRejectTheNodeOrScoreZeroAndAreReported() throws {
        let src = """
        return {
          name = "broken",
          filter = function(pod, node, state)
            if node.name == "node-1" then return pod.missing.field end
            return true
          end,
          score = function(pod, node, state)
            if node.name == "node-2" then return "high" end
            return 50
          end,
        }
        """
        let lua = try LoadedPlugin.load(source: src, file: "plugins/schedulers/broken.lua")
        let out = try pass(nodes: nodesYAML(3), pods: podsYAML(1)).run(plugin: lua, seed: 1)
        // node-1 rejected by the error; node-2 scores 0; node-3 wins with 50.
        #expect(out.placements["default/web-1"] == .some("node-3"))
        #expect(out.plugin_failures.contains { $0.hasPrefix("plugins/schedulers/broken.lua:4: in filter: attempt to index a nil value (field 'missing')") })
        #expect(out.plugin_failures.contains { $0 == "plugins/schedulers/broken.lua: in score: expected a number from 0 to 100, got the string \"high\"" })
    }

    @Test func failuresKeepAShortTracebackOfThePluginsFrames() throws {
        let src = """
        local function ratio(a, b)
          return a.cpu / b.gpu.count
        end
        local function weigh(pod, node)
          local r = ratio(pod.requests, node.allocatable)
          return r
        end
        return { name = "deep", score = function(pod, node, state)
          local w = weigh(pod, node)
          return w
        end }
        """
        let lua = LuaSchedulerPlugin(try LoadedPlugin.load(source: src, file: "plugins/schedulers/deep.lua"))
        _ = try pass(nodes: nodesYAML(2), pods: podsYAML(1)).run(lua: lua, seed: 1)
        let msg = "plugins/schedulers/deep.lua:2: in score: attempt to index a nil value (field 'gpu')"
        #expect(lua.failures.first == msg)
        let tb = try #require(lua.tracebacks[msg])
        #expect(tb.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) } == [
            "plugins/schedulers/deep.lua:2: in function 'ratio'",
            "plugins/schedulers/deep.lua:5: in function 'weigh'",
            "plugins/schedulers/deep.lua:9: in function <plugins/schedulers/deep.lua:8>",
        ], "\(tb)")
    }

    @Test func aPluginThatKeepsFailingIsSwitchedOffOnce() throws {
        let src = """
        return { name = "spinner", filter = function(pod, node, state) while true do end end }
        """
        let lua = try LoadedPlugin.load(source: src, file: "spinner.lua", limits: LuaLimits(instructionsPerCall: 100_000))
        let workload = try pass(nodes: nodesYAML(4), pods: podsYAML(20))
        let out = workload.run(plugin: lua, seed: 1)
        // 10 budget failures, then one report; the pass runs again without the plugin and
        // places every pod as the default profile does.
        let without = workload.run(plugin: nil, seed: 1)
        #expect(out.placements == without.placements)
        #expect(out.unschedulable == without.unschedulable)
        #expect(out.unschedulable.count == 4)
        #expect(out.plugin_failures.count == 11)
        #expect(out.plugin_failures.last?.hasPrefix("spinner.lua: switched off after 10 failures in a row (last: spinner.lua:1: in filter: ") == true)
    }

    @Test func aPluginThatSpendsItsRunBudgetIsSwitchedOff() throws {
        let src = """
        return { name = "busy", score = function(pod, node, state)
          local x = 0
          for i = 1, 1000 do x = x + i end
          return 50
        end }
        """
        let lua = LuaSchedulerPlugin(try LoadedPlugin.load(source: src, file: "busy.lua"))
        lua.maxTotalInstructions = 20_000
        let out = try pass(nodes: nodesYAML(4), pods: podsYAML(10)).run(lua: lua, seed: 1)
        // The plugin stops right after the call that crossed the budget; 40 calls would run without it.
        let cost = try #require(lua.costs["score"])
        let perCall = cost.instructions / max(1, cost.calls)
        #expect(perCall > 1000)
        #expect(lua.totalInstructions > 20_000 && lua.totalInstructions - perCall <= 20_000)
        #expect(cost.calls < 40)
        #expect(lua.switchedOff == "busy.lua: switched off after spending its run budget of 20000 instructions")
        #expect(out.plugin_failures == [lua.switchedOff ?? ""])
        #expect(out.unschedulable.isEmpty)
    }

    @Test func viewsAreReadOnly() throws {
        let src = """
        return { name = "writer", filter = function(pod, node, state) pod.node = "x"; return true end }
        """
        let lua = try LoadedPlugin.load(source: src, file: "writer.lua")
        let out = try pass(nodes: nodesYAML(1), pods: podsYAML(1)).run(plugin: lua, seed: 1)
        #expect(out.placements["default/web-1"] == .some(nil))
        #expect(out.plugin_failures.first?.contains("pod view is read-only (field 'node')") == true)
    }

    @Test func stateIsSharedWithinOneCycleOnly() throws {
        let src = """
        return { name = "counter",
          filter = function(pod, node, state) state.n = (state.n or 0) + 1; return true end,
          score = function(pod, node, state) if state.n == 3 then return 50 end return 1000 end }
        """
        let lua = try LoadedPlugin.load(source: src, file: "counter.lua")
        let out = try pass(nodes: nodesYAML(3), pods: podsYAML(2)).run(plugin: lua, seed: 1)
        // Each cycle filters 3 nodes, so every score sees n == 3; a leaked table would see 6.
        #expect(out.unschedulable.isEmpty)
        #expect(out.plugin_failures.isEmpty)
    }
}
