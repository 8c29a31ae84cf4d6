import Foundation
import Testing
import SimCore
import LuaHost
import LuaPlugins
@testable import KubeLab

/// Runs node-crash.lua with Lua controllers (given as source) beside the built-in ones.
func runWithControllers(_ sources: [(file: String, source: String)], scheduler: String? = nil,
                        limits: LuaLimits = LuaLimits(), until: SimDuration = .minutes(60)) throws -> RunResult {
    let path = "plugins/scenarios/node-crash.lua"
    let sc = try LuaScenario(LoadedPlugin.load(path: "\(repoRoot)/\(path)", displayPath: path))
    let controllers = try sources.map { try LuaController(LoadedPlugin.load(source: $0.source, file: $0.file, limits: limits)) }
    let sched = try scheduler.map { [try LoadedPlugin.load(path: "\(repoRoot)/\($0)", displayPath: $0)] } ?? []
    return try ScenarioRunner(scenario: sc, schedulers: sched, controllers: controllers,
                              options: RunOptions(seed: 1, until: until),
                              scenarioDirectory: "\(repoRoot)/plugins/scenarios").run()
}

struct ControllerPluginTests {
    @Test func fastEvictReplacesThePodsOfACrashedNodeAtNotReady() throws {
        let src = try String(contentsOfFile: "\(repoRoot)/plugins/controllers/fast-evict.lua", encoding: .utf8)
        let r = try runWithControllers([("plugins/controllers/fast-evict.lua", src)])
        let slow = try runScenario("plugins/scenarios/node-crash.lua")
        #expect(!r.failed && r.scenario_finished, "\(r.error ?? "")")
        #expect(r.plugin_failures.isEmpty, "\(r.plugin_failures)")
        let fast = try #require(r.recovery_seconds)
        let normal = try #require(slow.recovery_seconds)
        // NotReady comes 40-55s after the crash; fast-evict acts on it instead of 300s later.
        #expect(fast > 40 && fast < 60)
        #expect(normal > 300)
        let victim = try #require(r.faults.first?.target)
        #expect(r.eventLines.contains { $0.component == "controller/fast-evict" && $0.message.hasPrefix("node \(victim) is NotReady: evicted ") })
        // The built-in taint eviction never had to act.
        #expect(!r.eventLines.contains { $0.component == "taint-eviction-controller" })
    }

    @Test func aFailingReconcileIsRequeuedWithClientGoBackoff() throws {
        let src = """
        return { name = "flaky", watch = { "Node" },
          reconcile = function(ctx, key)
            if key == "node-1" then ctx.log("try " .. string.format("%.6f", ctx.now())) error("boom") end
          end }
        """
        let r = try runWithControllers([("flaky.lua", src)], until: .minutes(60))
        let times = r.eventLines.filter { $0.component == "controller/flaky" && $0.message.hasPrefix("try ") }
            .compactMap { Double($0.message.dropFirst(4)) }
        #expect(times.count > 15)
        // The first retry is due 5ms after the first failure, but a node update 1ms later
        // enqueues the key at once (a watch event does that in client-go too), and that
        // second failure's 10ms retry yields to the earlier 5ms one. After that the retries
        // come 20ms, 40ms, 80ms, ... apart.
        let gaps = zip(times.dropFirst(), times).map { (($0 - $1) * 1000).rounded() }
        #expect(Array(gaps.prefix(9)) == [1, 4, 20, 40, 80, 160, 320, 640, 1280], "\(gaps)")
        #expect(zip(gaps.dropFirst(3), gaps.dropFirst(2)).allSatisfy { $0 == 2 * $1 }, "\(gaps)")
        // One report for the repeated failure, with file, line and hook.
        let failures = r.eventLines.filter { $0.component == "controller/flaky" && $0.message.hasPrefix("failed: ") }
        #expect(failures.map(\.message) == ["failed: flaky.lua:3: in reconcile: boom"])
        // The rest of the cluster is unaffected: the run recovers as without the controller.
        #expect(!r.failed && r.scenario_finished)
        #expect(r.pods_by_phase == ["Running": 3])
    }

    @Test func ctxReachesOnlyWhatThePermissionsAllow() throws {
        let src = """
        return { name = "nosy", watch = { "Node" }, permissions = { pods = { "list" } },
          reconcile = function(ctx, key)
            local pods = ctx.list("Pod")
            if #pods > 0 then ctx.delete("Pod", pods[1].namespace .. "/" .. pods[1].name) end
          end }
        """
        let r = try runWithControllers([("nosy.lua", src)], until: .minutes(3))
        #expect(r.plugin_failures.first == #"nosy.lua:4: in reconcile: ctx.delete: pods is forbidden: controller/nosy cannot delete resource "pods""#)
        #expect(r.pods_by_phase == ["Running": 3])
    }

    @Test func wrongReturnValuesAndRunawayReconcilesAreFailuresNotCrashes() throws {
        let wrong = """
        return { name = "wrong", watch = { "Node" }, reconcile = function(ctx, key) return { requeue_after = "soon" } end }
        """
        let spin = """
        return { name = "spin", watch = { "Pod" }, reconcile = function(ctx, key) while true do end end }
        """
        let shape = """
        return { name = "shape", watch = { "Node" }, reconcile = function(ctx, key) return 5 end }
        """
        let r = try runWithControllers([("wrong.lua", wrong), ("spin.lua", spin), ("shape.lua", shape)],
                                       limits: LuaLimits(instructionsPerCall: 200_000), until: .minutes(10))
        #expect(r.plugin_failures.contains(#"wrong.lua: in reconcile: requeue_after must be a number of seconds from 0 to 31536000, got the string "soon""#))
        #expect(r.plugin_failures.contains { $0.hasPrefix("spin.lua:1: in reconcile: instruction budget exceeded") }, "\(r.plugin_failures)")
        #expect(r.plugin_failures.contains("shape.lua: in reconcile: expected nil or { requeue_after = seconds }, got 5"))
        #expect(!r.failed && r.scenario_finished)
        #expect(r.pods_by_phase == ["Running": 3])
    }

    /// plugins/types/kubelab.lua must list exactly the ctx functions the host registers.
    @Test func typesFileMatchesTheCtxFunctions() throws {
        let src = """
        return { name = "names", watch = { "Node" }, reconcile = function(ctx, key)
          local names = {}
          for name in pairs(ctx) do names[#names + 1] = name end
          table.sort(names)
          ctx.log("ctx:" .. table.concat(names, ","))
        end }
        """
        let r = try runWithControllers([("names.lua", src)], until: .seconds(5))
        let line = try #require(r.eventLines.first { $0.component == "controller/names" && $0.message.hasPrefix("ctx:") })
        let registered = line.message.dropFirst(4).split(separator: ",").map(String.init)
        let types = try String(contentsOfFile: "\(repoRoot)/plugins/types/kubelab.lua", encoding: .utf8)
        let ctxClass = try #require(types.components(separatedBy: "---@class kubelab.Ctx ").dropFirst().first)
            .components(separatedBy: "---@class").first ?? ""
        let documented = ctxClass.split(separator: "\n").compactMap { line -> String? in
            guard line.hasPrefix("---@field ") else { return nil }
            return line.dropFirst(10).split(separator: " ").first.map(String.init)
        }.sorted()
        #expect(documented == registered)
        #expect(registered.contains("delete"))
    }

    @Test func aControllerCanReplaceABuiltInOne() throws {
        let src = """
        return { name = "quiet", replaces = "node-lifecycle-controller", watch = { "Node" },
          reconcile = function(ctx, key) end }
        """
        let r = try runWithControllers([("quiet.lua", src)], until: .minutes(10))
        #expect(r.eventLines.contains { $0.component == "controller/quiet" && $0.message == "runs instead of node-lifecycle-controller" })
        // Nobody marks the crashed node NotReady or evicts its pod.
        #expect(!r.eventLines.contains { $0.component == "node-lifecycle-controller" })
        #expect(r.nodes_not_ready == 0)
    }

    @Test(arguments: [
        ("return { watch = { 'Gadget' }, reconcile = function() end }", "x.lua: watch[1]: unknown kind the string \"Gadget\" (known: Pod, Node, Deployment, ReplicaSet, Lease, Event)"),
        ("return { reconcile = function() end }", "x.lua: field 'watch' must list the kinds to watch"),
        ("return { watch = { 'Pod' }, permissions = { pods = { 'explode' } }, reconcile = function() end }", "x.lua: permissions.pods: unknown verb the string \"explode\""),
        ("return { watch = { 'Pod' }, permissions = { secrets = { 'get' } }, reconcile = function() end }", "x.lua: permissions.secrets: unknown resource"),
        ("return { watch = { 'Pod' }, replaces = 'kube-proxy', reconcile = function() end }", "x.lua: field 'replaces' must name a built-in controller"),
    ])
    func badControllerTablesNameTheField(_ source: String, _ message: String) throws {
        let p = try LoadedPlugin.load(source: source, file: "x.lua")
        #expect { _ = try LuaController(p) } throws: { e in
            (e as? PluginError)?.message.hasPrefix(message) == true && (e as? PluginError)?.isLoadFailure == true
        }
    }
}
