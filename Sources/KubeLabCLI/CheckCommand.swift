import ArgumentParser
import Foundation
import KubeLab
import LuaHost
import LuaPlugins
import SimCore

struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Load a plugin in the sandbox and report its kind, hooks, limits, costs and problems.",
        discussion: "Exit codes: 0 clean, 1 warnings, 3 errors (the plugin does not load, or fails in the smoke run).")

    @Argument(help: "The plugin file.") var plugin: String

    @Option(name: .customLong("set"), help: "Override a plugin limit, e.g. --set lua_memory=128Mi (repeatable).")
    var settings: [String] = []

    func run() throws {
        let runLimits = try parseSettings(settings, allowOthers: false).limits
        let all = try loadPlugins(plugin, seed: 1, limits: runLimits)
        var errors = 0, warnings = 0
        for (i, p) in all.enumerated() {
            if i > 0 { print("") }
            let (w, e) = try report(p, runLimits)
            warnings += w
            errors += e
        }
        if errors > 0 { throw ExitCode(Exit.pluginFailed) }
        if warnings > 0 { throw ExitCode(Exit.checksFailed) }
        print("ok")
    }

    /// Prints one plugin's report (a file with a set of plugins has one per plugin).
    ///
    /// - Returns: how many warnings and errors it printed.
    func report(_ p: LoadedPlugin, _ runLimits: PluginLimits) throws -> (warnings: Int, errors: Int) {
        let loadCost = p.state.lastCallCost
        let limits = p.state.limits
        print("plugin   \(p.name)")
        print("file     \(p.file)")
        print("kind     \(p.kind.rawValue)")
        print("hooks    \(p.hooks.joined(separator: ", "))")
        print("limits   \(limits.instructionsPerCall) instructions per call, \(limits.memoryBytes >> 20) MiB of memory, "
              + "\(limits.wallTimePerCall) of wall time per call (a backstop), patterns on subjects up to \(limits.patternSubjectBytes >> 10) KiB")
        print("settings \(runLimits.settings.map { "\($0.name)=\($0.value)" }.joined(separator: " "))")
        print("load     \(loadCost.instructions) instructions, \(Self.time(loadCost.nanoseconds))")
        var warnings: [String] = []
        var errors: [String] = []
        var tracebacks: [String: String] = [:]
        let known: Set<String> = LoadedPlugin.schedulerHooks.union(LoadedPlugin.controllerHooks)
            .union(LoadedPlugin.scenarioHooks).union(LoadedPlugin.dataFields)
        for f in p.fields.keys.sorted() where !known.contains(f) {
            if let s = known.sorted().min(by: { editDistance($0, f) < editDistance($1, f) }), editDistance(s, f) <= 2 {
                warnings.append("unknown field '\(f)': did you mean '\(s)'?")
            } else {
                warnings.append("unknown field '\(f)' (ignored)")
            }
        }
        if p.data["name"] == nil { warnings.append("no 'name' field: the file name '\(p.name)' is used") }
        for g in p.globalsWritten where g != "kubelab" {
            warnings.append("the top-level chunk writes the global '\(g)' (make it local)")
        }
        switch p.kind {
        case .scenario:
            do {
                let sc = try LuaScenario(p)
                let nodes = try sc.cluster.nodes()
                print("cluster  \(nodes.count) node(s)\(sc.settings.isEmpty ? "" : ", settings: " + sc.settings.map { "\($0.0)=\($0.1)" }.joined(separator: ", "))")
            } catch {
                throw Failure(Exit.badInput, error.message)
            }
        case .scheduler:
            let (failures, tb) = smokeRun(p)
            errors += failures
            tracebacks = tb
        case .controller:
            let c: LuaController
            do { c = try LuaController(p) } catch { throw Failure(Exit.pluginFailed, error.message) }
            print("watch    \(c.watch.map(\.rawValue).joined(separator: ", "))")
            let perms = c.permissions.keys.sorted().map { "\($0): \((c.permissions[$0] ?? []).sorted().joined(separator: " "))" }
            print("access   \(perms.isEmpty ? "none (ctx.get/list/create/delete are forbidden)" : perms.joined(separator: "; "))")
            if let r = c.replaces { print("replaces \(r)") }
            errors += controllerSmokeRun(c)
            tracebacks = c.tracebacks
        }
        for w in warnings { print("warning  \(w)") }
        var seen: [String: Int] = [:]
        for e in errors { seen[e, default: 0] += 1 }
        for e in errors where seen[e] != nil {
            let n = seen.removeValue(forKey: e) ?? 1
            print("error    \(e)\(n > 1 ? " (\(n) times)" : "")")
            if let tb = tracebacks[e] { print(tb) }
        }
        return (warnings.count, errors.count)
    }

    static func time(_ ns: Int) -> String {
        ns >= 1_000_000 ? String(format: "%.1fms", Double(ns) / 1e6) : String(format: "%.1fµs", Double(ns) / 1e3)
    }

    /// Schedules a small built-in workload with the plugin and reports each hook's cost.
    func smokeRun(_ p: LoadedPlugin) -> (failures: [String], tracebacks: [String: String]) {
        let nodes = (1...4).map { i in
            """
            apiVersion: v1
            kind: Node
            metadata: { name: node-\(i), labels: { zone: \(i <= 2 ? "a" : "b")\(i > 2 ? ", gpu: \"true\"" : "") } }
            status: { capacity: { cpu: "4", memory: 16Gi, pods: "110", nvidia.com/gpu: "\(i > 2 ? 2 : 0)" } }
            """
        }.joined(separator: "\n---\n")
        let pods = (1...8).map { i in
            let gpu = i > 6
            return """
            apiVersion: v1
            kind: Pod
            metadata: { name: \(gpu ? "train" : "web")-\(i), labels: { app: \(gpu ? "train" : "web")\(gpu ? ", gpu: \"true\"" : "") } }
            spec:
              containers:
              - name: c
                image: nginx
                resources: { requests: { cpu: "\(gpu ? "1" : "500m")", memory: 512Mi\(gpu ? ", nvidia.com/gpu: \"1\"" : "") } }
            """
        }.joined(separator: "\n---\n")
        var pass = SchedulePass()
        do { try pass.load(nodesText: nodes, nodesFile: "(smoke nodes)", podsText: pods, podsFile: "(smoke pods)") } catch {
            return (["internal error in the smoke workload: \(error)"], [:])
        }
        let lua = LuaSchedulerPlugin(p)
        lua.measuresTime = true
        let out = pass.run(lua: lua, seed: 1)
        let placed = out.placements.values.filter { $0 != nil }.count
        print("smoke    8 pods on 4 nodes: \(placed) placed, \(out.unschedulable.count) unschedulable")
        for hook in lua.costs.keys.sorted() {
            guard let c = lua.costs[hook], c.calls > 0 else { continue }
            print("  \(hook.padding(toLength: max(10, hook.count), withPad: " ", startingAt: 0)) \(c.calls) calls, \(c.instructions / c.calls) instructions/call, \(c.nanoseconds / c.calls) ns/call")
        }
        return (lua.failures, lua.tracebacks)
    }
}

extension Check {
    /// A small built-in scenario for controllers: a Deployment of 3 on 3 nodes, one node
    /// crashes and comes back.
    static let controllerSmokeScenario = """
    return {
      name = "controller-smoke",
      cluster = { nodes = { { count = 3, cpu = "4", memory = "16Gi" } } },
      run = function(k)
        k.create({ apiVersion = "apps/v1", kind = "Deployment", metadata = { name = "web" },
          spec = { replicas = 3, selector = { matchLabels = { app = "web" } },
            template = { metadata = { labels = { app = "web" } },
              spec = { containers = { { name = "web", image = "nginx",
                resources = { requests = { cpu = "500m", memory = "256Mi" } } } } } } } })
        k.wait_until(function() return k.ready("deployment/web") end, "2m")
        k.crash_node("node-1")
        k.sleep("2m")
        k.recover_node("node-1")
        k.sleep("1m")
      end,
    }
    """

    /// Runs the controller on the smoke scenario and reports its reconcile cost.
    func controllerSmokeRun(_ c: LuaController) -> [String] {
        let result: RunResult
        do {
            let sc = try LuaScenario(LoadedPlugin.load(source: Self.controllerSmokeScenario, file: "(smoke scenario)"))
            result = try ScenarioRunner(scenario: sc, schedulers: [], controllers: [c], options: RunOptions(seed: 1, until: .minutes(10)),
                                        scenarioDirectory: ".").run()
        } catch {
            return ["internal error in the smoke scenario: \(error)"]
        }
        print("smoke    3 nodes, a Deployment of 3, node-1 crashes for 2m: \(result.pods_by_phase["Running", default: 0]) pods running at the end")
        let k = c.cost
        if k.calls > 0 {
            print("  reconcile \(k.calls) calls, \(k.instructions / k.calls) instructions/call, \(k.nanoseconds / k.calls) ns/call")
        }
        return c.failures
    }
}

/// Levenshtein distance, for "did you mean" suggestions.
func editDistance(_ a: String, _ b: String) -> Int {
    let x = Array(a), y = Array(b)
    if x.isEmpty { return y.count }
    if y.isEmpty { return x.count }
    var prev = Array(0...y.count)
    for i in 1...x.count {
        var cur = [i] + Array(repeating: 0, count: y.count)
        for j in 1...y.count {
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x[i - 1] == y[j - 1] ? 0 : 1))
        }
        prev = cur
    }
    return prev[y.count]
}
