import Testing
import KubeAPI
import KubeScheduler
import LuaPlugins
import LuaHost
import KubeLab

/// A file that returns an array of scheduler plugins: each plugin is its own, they share
/// the file's Lua state.
struct PluginSetTests {
    func loadError(_ source: String) -> String? {
        do {
            _ = try LoadedPlugin.loadAll(source: source, file: "set.lua")
            return nil
        } catch {
            return error.message
        }
    }

    @Test func aSetSharesItsLocals() throws {
        let set = try LoadedPlugin.loadAll(source: """
        local seen = 0
        return {
          { name = "count", filter = function(pod, node) seen = seen + 1 return true end },
          { name = "report", score = function(pod, node) return math.min(seen, 100) end },
        }
        """, file: "set.lua")
        #expect(set.map(\.name) == ["count", "report"])
        #expect(set.map(\.hooks) == [["filter"], ["score"]])
        let out = try pass(nodes: nodesYAML(3), pods: podsYAML(1)).explain(luas: set.map(LuaSchedulerPlugin.init), seed: 1)
        // Three filters ran before scoring: the score plugin read the filter plugin's count.
        #expect(out.pods.first?.nodes.map { $0.scores.map(\.raw) } == [[3], [3], [3]])
    }

    @Test func badSetsAreRefusedWithTheReason() {
        #expect(loadError("return { { name = 'a', score = function() return 0 end }, 42 }")
            == "set.lua: plugin 2 of the set must be a table, got number")
        #expect(loadError("return { { score = function() return 0 end } }") == "set.lua: every plugin of a set needs a 'name'")
        #expect(loadError("return { { name = 'a', score = function() return 0 end }, { name = 'a', filter = function() return true end } }")
            == "set.lua: two plugins of the set are named \"a\"; each needs its own name")
        #expect(loadError("return { { name = 'a', score = function() return 0 end }, name = 'x' }")
            == "set.lua: a set of plugins is an array of plugin tables; it cannot also have the key name")
        #expect(loadError("return { { name = 'a', reconcile = function() end } }")
            == "set.lua: plugin 1 of the set is a controller plugin; a set holds scheduler plugins only")
        #expect(loadError("return { { name = 'a', score = 5, filter = function() return true end } }") == "set.lua: hook 'score' must be a function, got a number value")
    }

    @Test func aSingleLoadRefusesASet() {
        do {
            _ = try LoadedPlugin.load(source: "return { { name = 'a', score = function() return 0 end }, { name = 'b', score = function() return 0 end } }",
                                      file: "set.lua")
            Issue.record("a set loaded as one plugin")
        } catch {
            #expect(error.message == "set.lua: returns a set of 2 scheduler plugins; give it with --plugin or --scheduler")
            #expect(!error.isLoadFailure)
        }
    }

    /// In a KubeSchedulerConfiguration each plugin of the set joins under its own name.
    @Test func eachPluginOfASetJoinsAProfileByName() throws {
        let set = try DefaultLuaTests.defaultLua()
        let config = try SchedulerConfiguration.parse("""
        apiVersion: kubescheduler.config.k8s.io/v1
        kind: KubeSchedulerConfiguration
        profiles:
          - schedulerName: default-scheduler
            plugins:
              score:
                disabled: [ { name: "*" } ]
                enabled: [ { name: lua-least-allocated, weight: 3 } ]
        """, file: "c.yaml")
        let e = try pass(nodes: nodesYAML(2), pods: podsYAML(1)).explain(luas: set, seed: 1, config: config)
        #expect(e.pods.first?.nodes.first?.scores.map { "\($0.plugin)=\($0.weight)" } == ["lua-least-allocated=3"])
    }
}
