import ArgumentParser
import Foundation
import KubeLab
import KubeAPI
import KubeScheduler
import LuaPlugins
import SimCore

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a scenario on a simulated cluster and print its timeline and summary.")

    @Argument(help: "The scenario plugin (a Lua file that returns { cluster = ..., run = function(k) ... end }).")
    var scenario: String

    @Option(help: "A Lua scheduler plugin; without one the default scheduler runs (repeat it to combine plugins).")
    var scheduler: [String] = []

    @Option(help: "A Lua controller plugin, run beside the built-in controllers or instead of the one it names in `replaces` (repeatable).")
    var controller: [String] = []

    @Option(help: "A KubeSchedulerConfiguration (kubescheduler.config.k8s.io/v1): one scheduler per profile; Lua plugins given with --scheduler join a profile that enables them by name.")
    var config: String?

    @Option(help: "The run's seed: the same seed gives the same event log.")
    var seed: UInt64 = 1

    @Option(help: "Stop the run at this virtual time even if the scenario has not finished (\"30m\", \"2h\").")
    var until: String = "60m"

    @Option(help: "Write the result as JSON to this file.")
    var json: String?

    @Option(help: "Write the event log to this file.")
    var events: String?

    @Option(name: .customLong("set"), help: "Override a setting, e.g. --set node_monitor_grace_period=20s or a plugin limit such as --set lua_instructions_per_call=1e8 (repeatable).")
    var settings: [String] = []

    @Flag(help: "Print only the summary, not the timeline.")
    var quiet = false

    @Option(help: "Explain every scheduling cycle of this pod (\"ns/name\" or a name in default): each node's filter verdicts and scores (repeatable).")
    var explain: [String] = []

    func run() throws {
        let limit: SimDuration
        do { limit = try SimDuration(parsing: until) } catch { throw Failure(Exit.badInput, "--until: \(error.description)") }
        var options = RunOptions(seed: seed, until: limit)
        options.explainPods = explain
        let (limits, others) = try parseSettings(settings, allowOthers: true)
        options.settings = others
        let scenarioPlugin = try loadPlugin(scenario, seed: seed, limits: limits)
        let sc: LuaScenario
        do { sc = try LuaScenario(scenarioPlugin) } catch { throw Failure(error.isLoadFailure ? Exit.pluginFailed : Exit.badInput, error.message) }
        let sched = try scheduler.flatMap { try loadPlugins($0, seed: seed, limits: limits) }
        for s in sched where s.kind != .scheduler {
            throw Failure(Exit.badInput, "\(s.file): --scheduler wants a scheduler plugin, but this one is a \(s.kind.rawValue) plugin")
        }
        var controllers: [LuaController] = []
        for path in controller {
            let p = try loadPlugin(path, seed: seed, limits: limits)
            guard p.kind == .controller else {
                throw Failure(Exit.badInput, "\(p.file): --controller wants a controller plugin, but this one is a \(p.kind.rawValue) plugin")
            }
            do { controllers.append(try LuaController(p)) } catch {
                throw Failure(error.isLoadFailure ? Exit.pluginFailed : Exit.badInput, error.message)
            }
        }
        var configuration: SchedulerConfiguration?
        if let path = config {
            do { configuration = try SchedulerConfiguration.parse(try readText(path), file: path) } catch let e as ManifestError {
                throw Failure(Exit.badInput, e.description)
            }
        }
        let dir = (scenario as NSString).deletingLastPathComponent
        let runner: ScenarioRunner
        do {
            runner = try ScenarioRunner(scenario: sc, schedulers: sched, controllers: controllers, config: configuration,
                                        options: options, scenarioDirectory: dir.isEmpty ? "." : dir)
        } catch {
            // Configuration errors already name their file.
            let named = config.map { error.message.hasPrefix("\($0):") } ?? false
            throw Failure(Exit.badInput, named ? error.message : "\(scenario): \(error.message)")
        }
        let result = runner.run()
        if let path = json { try writeText(result.json(), to: path) }
        if let path = events { try writeText(result.eventLog, to: path) }
        print(Report.text(result, scenarioPath: scenario, timeline: !quiet))
        if !explain.isEmpty { print(Report.explained(result, asked: explain), terminator: "") }
        if result.failed { throw Failure(Exit.pluginFailed, result.error ?? "the scenario failed") }
    }
}

/// Loads a plugin, mapping failures to exit codes 2 (unreadable) and 3 (does not load).
func loadPlugin(_ path: String, seed: UInt64, limits: PluginLimits = PluginLimits()) throws -> LoadedPlugin {
    do { return try LoadedPlugin.load(path: path, seed: seed, limits: limits) } catch {
        throw Failure(error.isLoadFailure ? Exit.pluginFailed : Exit.badInput, error.message)
    }
}

/// Loads the plugins of a file (one, or a set of scheduler plugins), with the exit codes
/// of `loadPlugin`.
func loadPlugins(_ path: String, seed: UInt64, limits: PluginLimits = PluginLimits()) throws -> [LoadedPlugin] {
    do { return try LoadedPlugin.loadAll(path: path, seed: seed, limits: limits) } catch {
        throw Failure(error.isLoadFailure ? Exit.pluginFailed : Exit.badInput, error.message)
    }
}

/// Splits `--set name=value` options into plugin limits (`lua_*`) and the rest.
func parseSettings(_ settings: [String], allowOthers: Bool) throws -> (limits: PluginLimits, others: [(String, String)]) {
    var limits = PluginLimits()
    var others: [(String, String)] = []
    for s in settings {
        let parts = s.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { throw Failure(Exit.badInput, "--set \(s): expected name=value") }
        if PluginLimits.isLimit(parts[0]) || !allowOthers {
            do { try limits.set(parts[0], parts[1]) } catch { throw Failure(Exit.badInput, "--set \(s): \(error.message)") }
        } else {
            others.append((parts[0], parts[1]))
        }
    }
    return (limits, others)
}

/// The text rendering of a run: the timeline (the event log) and a summary.
enum Report {
    /// The `--explain` section: each explained cycle, or why there is none.
    static func explained(_ r: RunResult, asked: [String]) -> String {
        var out = "explain\n"
        for name in asked {
            let key = name.contains("/") ? name : "default/\(name)"
            let cycles = r.explained.filter { $0.entry.pod == key }
            if cycles.isEmpty {
                let known = r.cycledPods.prefix(8).joined(separator: ", ")
                out += "\n\(key): no scheduling cycle in this run (pods scheduled: \(known)\(r.cycledPods.count > 8 ? ", ..." : ""))\n"
            }
            for c in cycles { out += "\n" + ExplainText.render(c.entry, at: c.t) }
        }
        return out
    }

    static func text(_ r: RunResult, scenarioPath: String, timeline: Bool) -> String {
        var out = "kubelab run \(scenarioPath)  (scenario \(r.scenario), scheduler \(r.scheduler), seed \(r.seed))\n"
        if timeline {
            out += "\ntimeline\n"
            let lines = r.eventLines
            let shown: [String]
            if lines.count <= 200 {
                shown = lines.map(\.line)
            } else {
                shown = lines.prefix(120).map(\.line) + ["... \(lines.count - 170) more lines (write them all with --events FILE) ..."]
                    + lines.suffix(50).map(\.line)
            }
            for l in shown { out += "  \(l)\n" }
        }
        out += "\nsummary\n"
        let phases = r.pods_by_phase.keys.sorted().map { "\($0) \(r.pods_by_phase[$0] ?? 0)" }.joined(separator: ", ")
        out += "  end time      t=\(String(format: "%.3f", r.end_time))s (\(SimDuration(seconds: r.end_time)?.humanDescription ?? ""))\n"
        out += "  pods          \(phases.isEmpty ? "none" : phases)\n"
        let terminating = r.pods.filter(\.terminating).count
        if terminating > 0 { out += "                (\(terminating) terminating)\n" }
        out += "  nodes         \(r.nodes_ready) Ready, \(r.nodes_not_ready) NotReady\n"
        if !r.faults.isEmpty {
            out += "  faults        " + r.faults.map { "\($0.kind) \($0.target) at t=\(String(format: "%.3f", $0.t))s" }.joined(separator: "; ") + "\n"
        }
        if let rec = r.recovery_seconds, let crash = r.faults.first(where: { $0.kind == "crash_node" }) {
            func after(_ component: String, _ text: String) -> String? {
                guard let e = r.eventLines.first(where: { $0.component == component && $0.message.contains(text) && $0.time.seconds >= crash.t })
                else { return nil }
                return "+" + (SimDuration(seconds: e.time.seconds - crash.t)?.humanDescription ?? "")
            }
            var steps = ["\(crash.target) crashed at t=\(String(format: "%.3f", crash.t))s"]
            if let t = after("node-lifecycle-controller", "node \(crash.target) is NotReady") { steps.append("NotReady \(t)") }
            if let t = after("taint-eviction-controller", "from \(crash.target)") { steps.append("pods evicted \(t)") }
            steps.append("every Deployment fully available again +\(SimDuration(seconds: rec)?.humanDescription ?? "")")
            out += "  recovery      " + steps.joined(separator: ", ") + "\n"
        } else if r.faults.contains(where: { $0.kind == "crash_node" }) {
            out += "  recovery      no Deployment lost availability, or it never came back\n"
        }
        if !r.unschedulable.isEmpty { out += "  unschedulable \(r.unschedulable.joined(separator: ", "))\n" }
        if !r.plugin_failures.isEmpty {
            out += "  plugin errors \(r.plugin_failures.count): \(r.plugin_failures[0])\n"
            if let tb = r.plugin_tracebacks[r.plugin_failures[0]] { out += tb + "\n" }
        }
        out += "  scenario      \(r.failed ? "FAILED: \(r.error ?? "")" : r.scenario_finished ? "finished" : "stopped at the time limit")\n"
        out += "  event log     \(r.eventLines.count) lines, sha256 \(r.event_log_sha256)\n"
        return out
    }
}
