import Testing
import KubeAPI
import KubeScheduler
import LuaPlugins
import LuaHost
import KubeLab

/// The Lua hooks of the other extension points: prefilter, prescore, normalize, postbind.
struct LuaExtensionPointTests {
    func run(_ source: String, nodes: Int = 3, pods: Int = 2, explain: Bool = false) throws -> (SchedulePass.Output, LuaSchedulerPlugin) {
        let lua = LuaSchedulerPlugin(try LoadedPlugin.load(source: source, file: "hooks.lua"))
        return (try pass(nodes: nodesYAML(nodes), pods: podsYAML(pods)).run(lua: lua, seed: 1), lua)
    }

    @Test func prefilterNarrowsRejectsOrSkips() throws {
        let (narrow, _) = try run("""
        return { name = "only-3", prefilter = function(pod, state) return { nodes = { "node-3" } } end,
                 filter = function(pod, node) return true end }
        """)
        #expect(narrow.placements.values.allSatisfy { $0 == "node-3" })
        let (reject, _) = try run("""
        return { name = "closed", prefilter = function(pod, state) return false, "the shop is closed" end }
        """)
        #expect(reject.unschedulable["default/web-1"] == "0/3 nodes are available: 3 the shop is closed.")
        // "skip" skips this plugin's filter, which would reject everything.
        let (skip, _) = try run("""
        return { name = "lazy", prefilter = function(pod, state) return "skip" end,
                 filter = function(pod, node) return false, "never" end }
        """)
        #expect(skip.unschedulable.isEmpty)
    }

    @Test func prescoreSeesTheFeasibleNodesAndSharesState() throws {
        let (out, lua) = try run("""
        return { name = "least-name",
          prescore = function(pod, nodes, state)
            local names = {}
            for _, n in ipairs(nodes) do names[#names + 1] = n.name end
            table.sort(names)
            state.best = names[#names]
          end,
          score = function(pod, node, state) if node.name == state.best then return 100 end return 0 end }
        """)
        #expect(out.placements.values.allSatisfy { $0 == "node-3" })
        #expect(lua.failures.isEmpty)
        let (skipped, _) = try run("""
        return { name = "skipper", prescore = function() return "skip" end, score = function() error("never called") end }
        """)
        #expect(skipped.plugin_failures.isEmpty)
        #expect(skipped.unschedulable.isEmpty)
    }

    @Test func normalizeRescalesTheRawScores() throws {
        let (out, lua) = try run("""
        return { name = "inverse",
          score = function(pod, node) return tonumber(node.name:sub(-1)) end,
          normalize = function(pod, scores, state)
            local out = {}
            for name, s in pairs(scores) do out[name] = 100 - s * 10 end
            return out
          end }
        """, pods: 1)
        #expect(out.placements["default/web-1"] == "node-1")
        #expect(lua.failures.isEmpty)
        let bad = try run("""
        return { name = "bad", score = function() return 5 end, normalize = function(pod, scores) return { ["node-1"] = 500 } end }
        """, pods: 1)
        #expect(bad.0.plugin_failures.first == "hooks.lua: in normalize: the score of node-1 must be a number from 0 to 100, got 500")
    }

    @Test func postbindHearsOfEachBinding() throws {
        let (out, lua) = try run("""
        local bound = 0
        return { name = "counter",
          postbind = function(pod, node) bound = bound + 1 if bound == 2 then error("two is enough") end end }
        """)
        #expect(out.unschedulable.isEmpty)
        #expect(lua.failures == ["hooks.lua:3: in postbind: two is enough"])
    }

    @Test func failingPrefilterRejectsEveryNodeWithTheError() throws {
        let (out, _) = try run("""
        return { name = "broken", prefilter = function(pod) return pod.nope.x end }
        """, pods: 1)
        #expect(out.unschedulable["default/web-1"]?.contains("hooks.lua:1: in prefilter: attempt to index a nil value (field 'nope')") == true)
    }

    @Test func viewsShowTopologySpreadAndAffinityTermFields() throws {
        let lua = try LoadedPlugin.load(source: """
        return { name = "show", filter = function(pod, node)
          local c = pod.topology_spread[1]
          local t = pod.affinity.pod_anti_affinity.required[1]
          return false, table.concat({ c.match_label_keys[1], c.node_affinity_policy, c.node_taints_policy,
            tostring(c.min_domains), t.match_label_keys[1], t.namespace_selector.match_labels.team }, ",")
        end }
        """, file: "show.lua")
        let pod = """
        apiVersion: v1
        kind: Pod
        metadata: { name: p, labels: { app: web, rev: "1" } }
        spec:
          containers: [ { name: c, image: x } ]
          topologySpreadConstraints:
            - { maxSkew: 1, topologyKey: zone, whenUnsatisfiable: ScheduleAnyway, minDomains: 2,
                labelSelector: { matchLabels: { app: web } }, matchLabelKeys: [ rev ], nodeTaintsPolicy: Honor }
          affinity:
            podAntiAffinity:
              requiredDuringSchedulingIgnoredDuringExecution:
                - { topologyKey: kubernetes.io/hostname, labelSelector: { matchLabels: { app: web } },
                    matchLabelKeys: [ rev ], namespaceSelector: { matchLabels: { team: a } } }
        """
        let out = try pass(nodes: nodesYAML(1), pods: pod).run(plugin: lua, seed: 1)
        #expect(out.unschedulable["default/p"]?.contains("rev,Honor,Honor,2,rev,a") == true, "\(out.unschedulable)")
    }
}
