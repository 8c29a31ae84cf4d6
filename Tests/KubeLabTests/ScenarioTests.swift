import Foundation
import Testing
import SimCore
import LuaHost
import LuaPlugins
import KubeScheduler
@testable import KubeLab

let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path

/// Runs a scenario file of the repository with an optional scheduler plugin.
func runScenario(_ path: String, scheduler: String? = nil, seed: UInt64 = 1,
                 settings: [(String, String)] = []) throws -> RunResult {
    let sc = try LuaScenario(LoadedPlugin.load(path: "\(repoRoot)/\(path)", displayPath: path, seed: seed))
    let sched = try scheduler.map { try LoadedPlugin.load(path: "\(repoRoot)/\($0)", displayPath: $0, seed: seed) }
    var options = RunOptions(seed: seed)
    options.settings = settings
    let dir = (("\(repoRoot)/\(path)") as NSString).deletingLastPathComponent
    return try ScenarioRunner(scenario: sc, scheduler: sched, options: options, scenarioDirectory: dir).run()
}

/// Runs a scenario given as source text.
func runScenario(source: String, seed: UInt64 = 1, until: SimDuration = .minutes(60)) throws -> RunResult {
    let sc = try LuaScenario(LoadedPlugin.load(source: source, file: "test-scenario.lua", seed: seed))
    return try ScenarioRunner(scenario: sc, scheduler: nil, options: RunOptions(seed: seed, until: until),
                              scenarioDirectory: "\(repoRoot)/plugins/scenarios").run()
}

func time(_ r: RunResult, _ component: String, _ text: String) -> SimTime? {
    r.eventLines.first { $0.component == component && $0.message.contains(text) }?.time
}

struct ScenarioTests {
    @Test func nodeCrashScenarioRecoversWithBinpack() throws {
        let r = try runScenario("plugins/scenarios/node-crash.lua", scheduler: "plugins/schedulers/binpack.lua")
        #expect(!r.failed, "\(r.error ?? "")")
        #expect(r.scenario_finished)
        let crash = try #require(r.faults.first { $0.kind == "crash_node" })
        let victim = crash.target
        let crashAt = SimTime(nanoseconds: Int64(crash.t * 1e9))
        let notReady = try #require(time(r, "node-lifecycle-controller", "node \(victim) is NotReady"))
        // The last lease renewal was at most 10s before the crash; NotReady comes after
        // more than 40s without one, at a 5s monitor tick.
        #expect(notReady.since(crashAt) > .seconds(30) && notReady.since(crashAt) <= .seconds(55))
        let evicted = try #require(time(r, "taint-eviction-controller", "from \(victim)"))
        #expect(evicted.since(notReady) == .seconds(300))
        // Recovery: all web pods are back (a bit after the eviction) and the node returned.
        let rec = try #require(r.recovery_seconds)
        #expect(rec > 300 && rec < 400)
        #expect(r.nodes_ready == 4 && r.nodes_not_ready == 0)
        #expect(r.pods_by_phase == ["Running": 3])
        #expect(r.faults.map(\.kind) == ["crash_node", "recover_node"])
    }

    /// A filter that fails on every call sits beside binpack: it is switched off after 10
    /// failures, the pods it left unschedulable are retried, and the cluster recovers as
    /// with binpack alone (the pods wait out one backoff, so the times shift a little).
    @Test func aFailingFilterPluginDoesNotKeepTheClusterFromRecovering() throws {
        let path = "plugins/scenarios/node-crash.lua"
        let sc = try LuaScenario(LoadedPlugin.load(path: "\(repoRoot)/\(path)", displayPath: path))
        let bad = try LoadedPlugin.load(path: "\(repoRoot)/Tests/KubeSchedulerTests/Adversarial/loop-filter.lua",
                                        displayPath: "loop-filter.lua", limits: LuaLimits(instructionsPerCall: 100_000))
        let binpack = try LoadedPlugin.load(path: "\(repoRoot)/plugins/schedulers/binpack.lua", displayPath: "binpack.lua")
        let r = try ScenarioRunner(scenario: sc, schedulers: [bad, binpack], options: RunOptions(seed: 1),
                                   scenarioDirectory: "\(repoRoot)/plugins/scenarios").run()
        let alone = try runScenario(path, scheduler: "plugins/schedulers/binpack.lua")
        #expect(!r.failed && r.scenario_finished, "\(r.error ?? "")")
        #expect(r.pods_by_phase == alone.pods_by_phase)
        #expect(r.unschedulable.isEmpty)
        let rec = try #require(r.recovery_seconds)
        let recAlone = try #require(alone.recovery_seconds)
        #expect(abs(rec - recAlone) < 30)
        #expect(r.plugin_failures.first?.hasPrefix("loop-filter.lua:3: in filter: instruction budget exceeded") == true)
        #expect(r.plugin_failures.contains { $0.hasPrefix("loop-filter.lua: switched off after 10 failures in a row") })
    }

    /// kube-scheduler's queues: a pod that fits nowhere waits as unschedulable; adding a
    /// node moves it back to activeQ (its 1s backoff is long over) and it is bound at once.
    @Test func aPodWaitingForRoomIsScheduledSoonAfterANodeIsAdded() throws {
        let r = try runScenario(source: """
        return { name = "grow",
          cluster = { nodes = { { count = 1, cpu = "1", memory = "4Gi" } } },
          run = function(k)
            k.create({ apiVersion = "v1", kind = "Pod", metadata = { name = "big" },
              spec = { containers = { { name = "c", image = "x", resources = { requests = { cpu = "2" } } } } } })
            k.sleep("2m")
            k.log("adding a node")
            k.apply([[
        apiVersion: v1
        kind: Node
        metadata: { name: roomy }
        status: { capacity: { cpu: "4", memory: 8Gi } }
        ]])
            k.wait_until(function() return #k.pods({ node = "roomy" }) == 1 end, "1m", "100ms")
          end }
        """)
        #expect(!r.failed, "\(r.error ?? "")")
        let unschedulable = try #require(time(r, "scheduler", "default/big is unschedulable"))
        let added = try #require(time(r, "scenario", "adding a node"))
        let bound = try #require(time(r, "scheduler", "bound default/big to roomy"))
        #expect(unschedulable < added)
        // The node's watch event takes its latency; the pod then goes straight to activeQ.
        #expect(bound.since(added) < .seconds(1), "\(bound.since(added))")
        // It was reported unschedulable once, not once per retry.
        #expect(r.eventLines.filter { $0.message.hasPrefix("default/big is unschedulable") }.count == 1)
    }

    /// A KubeSchedulerConfiguration with two profiles: each scheduler serves the pods that
    /// name it, and the configured backoff applies.
    @Test func aRunWithTwoSchedulerProfiles() throws {
        let config = try SchedulerConfiguration.parse("""
        apiVersion: kubescheduler.config.k8s.io/v1
        kind: KubeSchedulerConfiguration
        podInitialBackoffSeconds: 2
        profiles:
          - schedulerName: default-scheduler
          - schedulerName: packer
            pluginConfig:
              - name: NodeResourcesFit
                args: { scoringStrategy: { type: MostAllocated } }
        """, file: "config.yaml")
        let sc = try LuaScenario(LoadedPlugin.load(source: """
        return { name = "two",
          cluster = { nodes = { { count = 3, cpu = "4", memory = "8Gi" } } },
          run = function(k)
            k.sleep("1s")  -- the schedulers learn of the nodes through their watches
            for i = 1, 3 do
              k.create({ apiVersion = "v1", kind = "Pod", metadata = { name = "packed-" .. i },
                spec = { schedulerName = "packer", containers = { { name = "c", image = "x", resources = { requests = { cpu = "1" } } } } } })
              k.create({ apiVersion = "v1", kind = "Pod", metadata = { name = "spread-" .. i },
                spec = { containers = { { name = "c", image = "x", resources = { requests = { cpu = "500m" } } } } } })
            end
            k.wait_until(function() return #k.pods({ phase = "Running" }) == 6 end, "2m")
          end }
        """, file: "two.lua"))
        let r = try ScenarioRunner(scenario: sc, schedulers: [], config: config, options: RunOptions(seed: 3),
                                   scenarioDirectory: "\(repoRoot)/plugins/scenarios").run()
        #expect(!r.failed && r.scenario_finished, "\(r.error ?? "")")
        let packedNodes = Set(r.pods.filter { $0.name.hasPrefix("packed-") }.compactMap(\.node))
        let spreadNodes = Set(r.pods.filter { $0.name.hasPrefix("spread-") }.compactMap(\.node))
        // MostAllocated puts the packer's pods on one node; the default profile spreads.
        #expect(packedNodes.count == 1)
        #expect(spreadNodes.count >= 2)
        // Each scheduler logs under its own name.
        #expect(r.eventLines.filter { $0.component == "scheduler/packer" && $0.message.hasPrefix("bound default/packed-") }.count == 3)
        #expect(r.eventLines.filter { $0.component == "scheduler" && $0.message.hasPrefix("bound default/spread-") }.count == 3)
    }

    /// `--explain POD`: every scheduling cycle of that pod, with each node's verdicts.
    @Test func runExplainsTheCyclesOfAPod() throws {
        let first = try runScenario("plugins/scenarios/node-crash.lua")
        let replacement = try #require(first.cycledPods.last)
        let path = "plugins/scenarios/node-crash.lua"
        let sc = try LuaScenario(LoadedPlugin.load(path: "\(repoRoot)/\(path)", displayPath: path))
        var options = RunOptions(seed: 1)
        options.explainPods = [String(replacement.split(separator: "/")[1])]
        let r = try ScenarioRunner(scenario: sc, schedulers: [], options: options, scenarioDirectory: "\(repoRoot)/plugins/scenarios").run()
        // Explaining changes nothing about the run.
        #expect(r.event_log_sha256 == first.event_log_sha256)
        let cycle = try #require(r.explained.first)
        #expect(r.explained.allSatisfy { $0.entry.pod == replacement })
        let victim = try #require(r.faults.first?.target)
        // The crashed node carries the unreachable taint: TaintToleration rejects it.
        let rejected = try #require(cycle.entry.nodes.first { $0.node == victim })
        #expect(rejected.filters.last?.plugin == "TaintToleration")
        #expect(rejected.filters.last?.status == "UnschedulableAndUnresolvable")
        let chosen = try #require(cycle.entry.nodes.first { $0.node == cycle.entry.node })
        #expect(chosen.scores.map(\.plugin).contains("NodeResourcesFit"))
        #expect(cycle.t > 300)
    }

    /// Gang scheduling through Permit's wait: a 4-pod group on room for 3 binds none, and
    /// its reservations are released when the 30s wait runs out; on room for 4 it binds all.
    @Test(arguments: [3, 4])
    func gangSchedulingIsAllOrNothing(_ nodes: Int) throws {
        let sc = try LuaScenario(LoadedPlugin.load(source: """
        return { name = "gang",
          cluster = { nodes = { { count = \(nodes), cpu = "4", memory = "8Gi" } } },
          run = function(k)
            k.sleep("1s")
            for i = 1, 4 do
              k.create({ apiVersion = "v1", kind = "Pod",
                metadata = { name = "train-" .. i, labels = { ["pod-group"] = "train", ["pod-group-size"] = "4" } },
                spec = { containers = { { name = "c", image = "x", resources = { requests = { cpu = "3" } } } } } })
            end
            k.sleep("45s")
          end }
        """, file: "gang-scenario.lua"))
        let gang = try LoadedPlugin.load(path: "\(repoRoot)/plugins/schedulers/gang.lua", displayPath: "gang.lua")
        let r = try ScenarioRunner(scenario: sc, schedulers: [gang], options: RunOptions(seed: 1),
                                   scenarioDirectory: "\(repoRoot)/plugins/scenarios").run()
        #expect(!r.failed && r.scenario_finished, "\(r.error ?? "")")
        let bound = r.eventLines.filter { $0.component == "scheduler" && $0.message.hasPrefix("bound default/train-") }
        if nodes == 3 {
            #expect(bound.isEmpty)
            let timeouts = r.eventLines.filter { $0.message.contains("rejected due to timeout after waiting 30s at plugin gang") }
            #expect(timeouts.count >= 3)
            // The released room is real: the member that found none at first gets a place
            // once the others time out.
            let firstTimeout = try #require(timeouts.first?.time)
            #expect(r.eventLines.contains { $0.time >= firstTimeout && $0.message.hasPrefix("default/train-4 waits at node-") })
        } else {
            #expect(bound.count == 4)
            #expect(r.pods.filter { $0.name.hasPrefix("train-") }.allSatisfy { $0.node != nil })
        }
        #expect(r.plugin_failures.isEmpty)
    }

    @Test func settingsFromTheCommandLineChangeTheTimings() throws {
        let r = try runScenario("plugins/scenarios/node-crash.lua", scheduler: "plugins/schedulers/binpack.lua",
                                settings: [("default_toleration_seconds", "30"), ("node_monitor_grace_period", "20s")])
        let crash = try #require(r.faults.first)
        let crashAt = SimTime(nanoseconds: Int64(crash.t * 1e9))
        let notReady = try #require(time(r, "node-lifecycle-controller", "is NotReady"))
        #expect(notReady.since(crashAt) > .seconds(10) && notReady.since(crashAt) <= .seconds(35))
        let evicted = try #require(time(r, "taint-eviction-controller", "evicted"))
        #expect(evicted.since(notReady) == .seconds(30))
        #expect(try #require(r.recovery_seconds) < 100)
    }

    @Test func sameSeedSameEventLogAndNoWallClock() throws {
        let a = try runScenario("plugins/scenarios/node-crash.lua", scheduler: "plugins/schedulers/binpack.lua", seed: 9)
        let b = try runScenario("plugins/scenarios/node-crash.lua", scheduler: "plugins/schedulers/binpack.lua", seed: 9)
        let c = try runScenario("plugins/scenarios/node-crash.lua", scheduler: "plugins/schedulers/binpack.lua", seed: 10)
        #expect(a.event_log_sha256 == b.event_log_sha256)
        #expect(a.eventLog == b.eventLog)
        #expect(a.event_log_sha256 != c.event_log_sha256)
        // Every line starts with virtual time; no year, no clock time of day.
        for line in a.eventLog.split(separator: "\n") {
            #expect(line.hasPrefix("[t="))
            #expect(line.range(of: #"20\d\d-\d\d|\d\d:\d\d:\d\d"#, options: .regularExpression) == nil)
        }
    }

    @Test func jsonHasTheContractFields() throws {
        let r = try runScenario("plugins/scenarios/node-crash.lua")
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(r.json().utf8)) as? [String: Any])
        for key in ["seed", "scenario", "end_time", "event_log_sha256", "pods_by_phase", "nodes_ready", "nodes_not_ready", "faults"] {
            #expect(obj[key] != nil, "missing \(key)")
        }
        let faults = try #require(obj["faults"] as? [[String: Any]])
        #expect(faults.first?["kind"] as? String == "crash_node")
        #expect(faults.first?["t"] is Double)
        #expect(obj["scenario"] as? String == "node-crash")
    }

    @Test func scenarioApiCreateDeleteAndFilters() throws {
        let r = try runScenario(source: """
        return {
          name = "api",
          cluster = { nodes = { { count = 2, cpu = "2", memory = "4Gi", labels = { zone = "a" } },
                                { count = 1, prefix = "big", cpu = "16", memory = "64Gi" } } },
          run = function(k)
            assert(#k.nodes() == 3)
            assert(k.nodes({ labels = { zone = "a" } })[2].name == "node-2")
            k.create{ apiVersion = "v1", kind = "Pod", metadata = { name = "solo", labels = { app = "solo" } },
                      spec = { containers = { { name = "c", image = "nginx", resources = { requests = { cpu = "1" } } } } } }
            assert(k.wait_until(function() return k.ready("pod/solo") end, "1m"))
            local p = k.pods({ labels = { app = "solo" } })[1]
            assert(p.phase == "Running" and p.requests.cpu == 1000 and p.node ~= nil)
            local t = k.now()
            k.sleep("1m30s")
            assert(k.now() - t == 90)
            k.delete("pod/solo")
            assert(k.wait_until(function() return #k.pods({ labels = { app = "solo" } }) == 0 end, "1m"))
            assert(not k.wait_until(function() return false end, 5))
            k.log("done at", k.now())
          end,
        }
        """)
        #expect(!r.failed, "\(r.error ?? "")")
        #expect(r.scenario_finished)
        #expect(r.eventLines.contains { $0.component == "scenario" && $0.message.hasPrefix("done at ") })
    }

    @Test func unknownScenarioFunctionFailsTheRunWithTheLine() throws {
        let r = try runScenario(source: """
        return {
          name = "typo",
          run = function(k)
            k.sleep("1s")
            k.crash_nodes("node-1")
          end,
        }
        """)
        #expect(r.failed)
        #expect(r.error == "test-scenario.lua:5: in run: unknown scenario function 'k.crash_nodes'")
        // The run still has its log and result.
        #expect(r.eventLines.last?.message.contains("failed") == true)
    }

    @Test func badDurationsAndArgumentsAreClearErrors() throws {
        let r1 = try runScenario(source: #"return { name = "d", run = function(k) k.sleep("soon") end }"#)
        #expect(r1.error?.hasPrefix("test-scenario.lua:1: in run: k.sleep: invalid duration 'soon'") == true)
        let r2 = try runScenario(source: #"return { name = "d", run = function(k) k.crash_node("nope") end }"#)
        #expect(r2.error == "test-scenario.lua:1: in run: k.crash_node: no node named 'nope'")
        let r3 = try runScenario(source: #"return { name = "d", run = function(k) k.apply("missing.yaml") end }"#)
        #expect(r3.error?.contains("k.apply: cannot read missing.yaml") == true)
    }

    @Test func runawayScenariosStopAtTheLimitOrTheBudget() throws {
        let spin = try runScenario(source: #"return { name = "spin", run = function(k) while true do k.sleep(0) end end }"#,
                                   until: .seconds(2))
        #expect(!spin.failed && !spin.scenario_finished)
        #expect(spin.end_time == 2)
        let loop = try runScenario(source: "return { name = \"loop\", run = function(k)\n  while true do end\nend }")
        #expect(loop.failed)
        #expect(loop.error?.hasPrefix("test-scenario.lua:2: in run: ") == true)
        #expect(loop.error?.contains("instruction budget") == true)
    }

    @Test func errorsInsideWaitUntilPredicatesNameTheirLine() throws {
        let r = try runScenario(source: """
        return { name = "w", run = function(k)
          k.wait_until(function()
            return k.pods()[1].name == nil
          end, "1m")
        end }
        """)
        #expect(r.error == "test-scenario.lua:3: in run: attempt to index a nil value (field 'integer index')")
    }

    /// plugins/types/kubelab.lua must list exactly the functions the host registers.
    @Test func typesFileMatchesTheRegisteredFunctions() throws {
        let r = try runScenario(source: """
        return { name = "names", run = function(k)
          local ks, ms = {}, {}
          for name in pairs(k) do ks[#ks + 1] = name end
          for name in pairs(kubelab) do ms[#ms + 1] = name end
          table.sort(ks); table.sort(ms)
          k.log("k:" .. table.concat(ks, ","))
          k.log("kubelab:" .. table.concat(ms, ","))
        end }
        """)
        let lines = r.eventLines.filter { $0.component == "scenario" }.map(\.message)
        let kNames = try #require(lines.first { $0.hasPrefix("k:") }).dropFirst(2).split(separator: ",").map(String.init)
        let modNames = try #require(lines.first { $0.hasPrefix("kubelab:") }).dropFirst(8).split(separator: ",").map(String.init)
        let types = try String(contentsOfFile: "\(repoRoot)/plugins/types/kubelab.lua", encoding: .utf8)
        let scenarioClass = try #require(types.components(separatedBy: "---@class kubelab.Scenario ").dropFirst().first)
            .components(separatedBy: "---@class").first ?? ""
        let documentedK = scenarioClass.split(separator: "\n").compactMap { line -> String? in
            guard line.hasPrefix("---@field ") else { return nil }
            return line.dropFirst(10).split(separator: " ").first.map(String.init)
        }.sorted()
        #expect(documentedK == kNames)
        let documentedModule = types.split(separator: "\n").compactMap { line -> String? in
            guard line.hasPrefix("function kubelab.") else { return nil }
            return line.dropFirst(17).split(separator: "(").first.map(String.init)
        }.sorted()
        #expect(documentedModule == modNames)
        #expect(kNames.contains("wait_until") && modNames.contains("cpu"))
    }

    @Test func applyLoadsRealManifestsAndSkipsUnsupportedKinds() throws {
        let corpus = "\(repoRoot)/Tests/Corpus/k8s-website-examples"
        #expect(FileManager.default.fileExists(atPath: corpus))
        let r = try runScenario(source: """
        return {
          name = "corpus",
          cluster = { nodes = { { count = 3, cpu = "8", memory = "32Gi" } } },
          run = function(k)
            k.apply("\(corpus)/application__nginx-app.yaml")
            k.apply("\(corpus)/controllers__frontend.yaml")
            k.apply("\(corpus)/pods__pod-with-toleration.yaml")
            assert(k.wait_until(function() return k.ready("replicaset/frontend") end, "2m"))
            k.sleep("10s")
          end,
        }
        """)
        #expect(!r.failed, "\(r.error ?? "")")
        #expect(r.eventLines.contains { $0.message.contains("skipped Service my-nginx-svc") })
        #expect(r.pods.filter { $0.phase == "Running" }.count >= 3 + 1)
    }
}
