import Foundation
public import SimCore
public import KubeAPI
public import KubeStore
public import KubeAPIServer
public import KubeScheduler
public import LuaPlugins

/// How to run a scenario.
public struct RunOptions: Sendable {
    public var seed: UInt64 = 1
    /// The run stops here even if the scenario has not returned.
    public var until: SimDuration = .minutes(60)
    /// Settings from the command line; they win over the scenario's own.
    public var settings: [(String, String)] = []
    /// Pods ("ns/name" or "name" in default) whose scheduling cycles are explained.
    public var explainPods: [String] = []
    public init(seed: UInt64 = 1, until: SimDuration = .minutes(60)) { self.seed = seed; self.until = until }
}

/// Runs one scenario plugin on a fresh cluster: builds the nodes it asks for, starts the
/// control plane with the chosen scheduler, drives `run(k)` on virtual time and collects
/// the result. It is the `ScenarioHost` the Lua side talks to.
public final class ScenarioRunner: ScenarioHost {
    public let scenario: LuaScenario
    public let cluster: Cluster
    /// The Lua scheduler plugins of the profile, in order (empty: the default scheduler).
    public let schedulerPlugins: [LuaSchedulerPlugin]
    /// The Lua controllers of the run.
    public let controllers: [LuaController]
    public let options: RunOptions
    private let baseDirectory: String
    private let metrics: AvailabilityMetrics

    public var sim: Simulation { cluster.sim }

    /// Builds the cluster for `scenario`.
    ///
    /// - Parameters:
    ///   - scenarioDirectory: where `k.apply("web.yaml")` looks for files.
    /// - Throws: `ClusterError` for bad settings or nodes.
    public convenience init(scenario: LuaScenario, scheduler: LoadedPlugin?, options: RunOptions,
                            scenarioDirectory: String) throws(ClusterError) {
        try self.init(scenario: scenario, schedulers: scheduler.map { [$0] } ?? [], options: options,
                      scenarioDirectory: scenarioDirectory)
    }

    /// Builds the cluster with several Lua scheduler plugins in one profile, and Lua
    /// controllers beside (or instead of) the built-in ones.
    public init(scenario: LuaScenario, schedulers: [LoadedPlugin], controllers: [LuaController] = [],
                config: SchedulerConfiguration? = nil, options: RunOptions, scenarioDirectory: String) throws(ClusterError) {
        self.scenario = scenario
        self.options = options
        self.baseDirectory = scenarioDirectory
        var settings = ClusterSettings()
        for (k, v) in scenario.settings + options.settings { try settings.set(k, v) }
        schedulerPlugins = schedulers.map(LuaSchedulerPlugin.init)
        if let config {
            // A KubeSchedulerConfiguration: one scheduler per profile; Lua plugins join by name.
            settings.scheduler.initialBackoff = .seconds(config.podInitialBackoffSeconds)
            settings.scheduler.maxBackoff = .seconds(config.podMaxBackoffSeconds)
            var extra: [String: any Plugin] = [:]
            for l in schedulerPlugins where extra[l.name] == nil { extra[l.name] = l }
            let profiles: [(schedulerName: String, framework: Framework)]
            do { profiles = try config.frameworks(extra: extra) } catch { throw ClusterError(error.description) }
            cluster = Cluster(seed: options.seed, settings: settings, profiles: profiles)
        } else {
            let framework = schedulerPlugins.isEmpty ? Framework.defaultProfile() : Framework.profile(with: schedulerPlugins)
            cluster = Cluster(seed: options.seed, settings: settings, framework: framework)
        }
        metrics = AvailabilityMetrics(cluster: cluster)
        for lua in schedulerPlugins {
            let sim = cluster.sim
            lua.plugin.context.now = { [unowned sim] in sim.now }
            lua.plugin.context.log = { [unowned sim, name = lua.name] msg in sim.record("plugin/\(name)", msg) }
            lua.onFailure = { [unowned sim, name = lua.name] msg in sim.record("plugin/\(name)", "failed: \(msg)") }
        }
        self.controllers = controllers
        let explain = Set(options.explainPods.map { $0.contains("/") ? $0 : "default/\($0)" })
        for s in cluster.schedulers { s.explainPods = explain }
        try cluster.start(skipping: Set(controllers.compactMap(\.replaces)))
        for c in controllers {
            let sim = cluster.sim
            c.plugin.context.now = { [unowned sim] in sim.now }
            c.plugin.context.log = { [unowned sim, name = c.name] msg in sim.record("controller/\(name)", msg) }
            c.onFailure = { [unowned sim, name = c.name] msg in sim.record("controller/\(name)", "failed: \(msg)") }
            do { try c.start(server: cluster.server) } catch {
                throw ClusterError("starting controller \(c.name) failed: \(error.message)")
            }
            if let r = c.replaces { cluster.sim.record("controller/\(c.name)", "runs instead of \(r)") }
        }
        let nodes: [Node]
        do { nodes = try scenario.cluster.nodes() } catch { throw ClusterError(error.message) }
        for n in nodes { try cluster.addNode(n) }
    }

    /// Runs the scenario to its end (or `options.until`) and returns the result.
    public func run() -> RunResult {
        let sim = cluster.sim
        scenario.onFinish = { [unowned sim] in sim.stop() }
        sim.schedule(after: .zero) { [unowned self] in
            sim.record("scenario", "\(self.scenario.plugin.name) started")
            self.scenario.start(host: self)
        }
        sim.run(until: SimTime.zero + options.until)
        if let f = scenario.failure {
            sim.record("scenario", "\(scenario.plugin.name) failed: \(f)")
        } else if scenario.finished {
            sim.record("scenario", "\(scenario.plugin.name) finished")
        } else {
            sim.record("scenario", "\(scenario.plugin.name) stopped at the time limit (\(options.until.humanDescription))")
        }
        return RunResult(runner: self, metrics: metrics)
    }

    // MARK: - ScenarioHost

    public func apply(_ documents: [ManifestDocument], source: String) throws(ScenarioError) -> [String] {
        var out: [String] = []
        for d in documents {
            switch d {
            case .unsupported(let kind, _, let name, let line):
                sim.record("scenario", "skipped \(kind) \(name) (\(source):\(line)): kubelab does not simulate \(kind) yet")
            case .object(let o, _):
                let ref = "\(o.kind.rawValue.lowercased())/\(o.metadata.name)"
                if o.kind == .node {
                    guard let n = o.node else { continue }
                    do { try cluster.addNode(n) } catch { throw ScenarioError(error.message) }
                } else {
                    do {
                        let ns = o.kind.isNamespaced && o.metadata.namespace.isEmpty ? "default" : o.metadata.namespace
                        if !o.metadata.name.isEmpty,
                           let existing = try cluster.admin.get(o.kind, namespace: ns, name: o.metadata.name) {
                            var updated = o
                            updated.metadata.namespace = ns
                            updated.metadata.resourceVersion = 0
                            updated.metadata.uid = existing.metadata.uid
                            updated.metadata.generation = existing.metadata.generation + 1
                            try cluster.admin.update(updated)
                            sim.record("scenario", "configured \(ref)")
                        } else {
                            let created = try cluster.admin.create(o)
                            sim.record("scenario", "created \(created.kind.rawValue.lowercased())/\(created.metadata.name)")
                            out.append("\(created.kind.rawValue.lowercased())/\(created.metadata.name)")
                            continue
                        }
                    } catch {
                        throw ScenarioError("\(source): cannot apply \(ref): \(error.message)")
                    }
                }
                out.append(ref)
            }
        }
        return out
    }

    public func delete(_ kind: Kind, namespace: String, name: String) throws(ScenarioError) {
        do {
            try cluster.admin.delete(kind, namespace: namespace, name: name)
            sim.record("scenario", "deleted \(kind.rawValue.lowercased())/\(name)")
        } catch {
            throw ScenarioError("k.delete: \(error.message)")
        }
    }

    public func crashNode(_ name: String) throws(ScenarioError) {
        do { try cluster.crashNode(name) } catch { throw ScenarioError("k.crash_node: \(error.message)") }
    }

    public func recoverNode(_ name: String) throws(ScenarioError) {
        do { try cluster.recoverNode(name) } catch { throw ScenarioError("k.recover_node: \(error.message)") }
    }

    public func currentPods() -> [Pod] { cluster.pods }
    public func currentNodes() -> [Node] { cluster.nodes }

    public func object(_ kind: Kind, namespace: String, name: String) -> KubeObject? {
        (try? cluster.admin.get(kind, namespace: namespace, name: name)) ?? nil
    }

    public func scenarioLog(_ message: String) { sim.record("scenario", message) }

    public func readManifest(_ path: String) throws(ScenarioError) -> (text: String, file: String) {
        let full = path.hasPrefix("/") ? path : (baseDirectory as NSString).appendingPathComponent(path)
        guard let data = FileManager.default.contents(atPath: full), let text = String(data: data, encoding: .utf8) else {
            throw ScenarioError("k.apply: cannot read \(path) (looked in \(baseDirectory))")
        }
        return (text, path.hasPrefix("/") ? path : (baseDirectory == "." ? path : "\(baseDirectory)/\(path)"))
    }
}

/// Watches Deployments straight from the store (metrics sit beside the cluster, not in
/// it) and remembers when each one was fully available.
final class AvailabilityMetrics {
    /// (time, all deployments available)
    private(set) var samples: [(time: SimTime, available: Bool)] = []
    private var state: [String: Bool] = [:]

    init(cluster: Cluster) {
        let sim = cluster.sim
        _ = try? cluster.server.store.watch(.deployment, from: 0) { [weak self] e in
            guard let self, let d = e.object.deployment else { return }
            let key = e.object.namespacedName
            self.state[key] = e.type == .deleted ? nil : d.status.availableReplicas >= d.spec.replicas
            let all = self.state.values.allSatisfy { $0 }
            if self.samples.last?.available != all { self.samples.append((sim.now, all)) }
        }
    }

    /// Time from `t` until every Deployment is fully available again after it first
    /// stopped being so; nil when there was no disruption or no recovery.
    func recovery(after t: SimTime) -> (disrupted: SimTime, recovered: SimTime)? {
        guard let down = samples.first(where: { $0.time >= t && !$0.available }) else { return nil }
        guard let up = samples.first(where: { $0.time > down.time && $0.available }) else { return nil }
        return (down.time, up.time)
    }
}
