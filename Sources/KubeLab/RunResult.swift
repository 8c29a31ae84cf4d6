import Foundation
public import SimCore
public import KubeAPI
public import KubeScheduler

/// A pod at the end of a run, as checks and reports see it.
public struct PodSummary: Codable, Sendable, Equatable {
    public var name: String
    public var namespace: String
    public var node: String?
    public var phase: String
    public var ready: Bool
    public var terminating: Bool
    public var labels: [String: String]
    public var owner: String?
    /// Effective requests: cpu in millicores, memory in bytes, others in units.
    public var requests: [String: Int64]
}

/// A node at the end of a run.
public struct NodeSummary: Codable, Sendable, Equatable {
    public var name: String
    public var ready: Bool
    public var labels: [String: String]
    public var allocatable: [String: Int64]
    public var requested: [String: Int64]
    public var pods: Int
}

/// A fault, as JSON shows it.
public struct FaultSummary: Codable, Sendable, Equatable {
    public var t: Double
    public var kind: String
    public var target: String
}

/// The outcome of a scenario run; `kubelab run --json` writes it (keys sorted).
public struct RunResult: Codable, Sendable, StableJSON {
    public var seed: UInt64
    public var scenario: String
    public var scheduler: String
    public var end_time: Double
    public var event_log_sha256: String
    public var pods_by_phase: [String: Int]
    public var nodes_ready: Int
    public var nodes_not_ready: Int
    public var faults: [FaultSummary]
    /// Seconds from the first node crash until every Deployment was fully available
    /// again, when there was a disruption and a recovery.
    public var recovery_seconds: Double?
    public var scenario_finished: Bool
    public var failed: Bool
    public var error: String?
    public var plugin_failures: [String]
    public var unschedulable: [String]
    public var pods: [PodSummary]
    public var nodes: [NodeSummary]
    /// The event log text (not in the JSON: `--events` writes it).
    public var eventLog: String = ""
    /// Explained scheduling cycles (`--explain POD`), with their virtual time in seconds
    /// (not in the JSON).
    public var explained: [(t: Double, entry: Explanation.PodEntry)] = []
    /// Pods some scheduler ran a cycle for, in order (to suggest names for `--explain`).
    public var cycledPods: [String] = []
    /// The Lua traceback of each failure message that has one (not in the JSON).
    public var plugin_tracebacks: [String: String] = [:]
    public var eventLines: [LogEntry] = []

    enum CodingKeys: String, CodingKey {
        case seed, scenario, scheduler, end_time, event_log_sha256, pods_by_phase, nodes_ready, nodes_not_ready,
             faults, recovery_seconds, scenario_finished, failed, error, plugin_failures, unschedulable, pods, nodes
    }

    static func resources(_ r: Resources) -> [String: Int64] {
        var m: [String: Int64] = ["cpu": r.milliCPU, "memory": r.memory]
        for (k, v) in r.scalar { m[k] = v }
        return m
    }

    init(runner: ScenarioRunner, metrics: AvailabilityMetrics) {
        let c = runner.cluster
        seed = runner.options.seed
        scenario = runner.scenario.plugin.name
        scheduler = runner.schedulerPlugins.isEmpty ? "default-scheduler" : runner.schedulerPlugins.map(\.name).joined(separator: "+")
        end_time = c.sim.now.seconds
        event_log_sha256 = c.sim.log.sha256
        eventLog = c.sim.log.text
        eventLines = c.sim.log.entries
        let allPods = c.pods
        var phases: [String: Int] = [:]
        for p in allPods { phases[p.status.phase.rawValue, default: 0] += 1 }
        pods_by_phase = phases
        let nodes = c.nodes
        nodes_ready = nodes.filter(\.isReady).count
        nodes_not_ready = nodes.count - nodes_ready
        faults = c.faults.map { FaultSummary(t: $0.time.seconds, kind: $0.kind, target: $0.target) }
        if let crash = c.faults.first(where: { $0.kind == "crash_node" }), let r = metrics.recovery(after: crash.time) {
            recovery_seconds = r.recovered.since(crash.time).seconds
        }
        scenario_finished = runner.scenario.finished && runner.scenario.failure == nil
        failed = runner.scenario.failure != nil
        error = runner.scenario.failure
        plugin_failures = runner.schedulerPlugins.flatMap(\.failures) + runner.controllers.flatMap(\.failures)
        for p in runner.schedulerPlugins { plugin_tracebacks.merge(p.tracebacks) { a, _ in a } }
        for c in runner.controllers { plugin_tracebacks.merge(c.tracebacks) { a, _ in a } }
        unschedulable = c.schedulers.flatMap(\.unschedulablePods).sorted()
        explained = c.schedulers.flatMap(\.explained).sorted { $0.time < $1.time }
            .map { (t: $0.time.seconds, entry: Explanation.PodEntry(pod: $0.pod, result: $0.result)) }
        cycledPods = c.schedulers.flatMap(\.cycledPods)
        pods = allPods.map { p in
            PodSummary(name: p.metadata.name, namespace: p.metadata.namespace,
                       node: p.spec.nodeName.isEmpty ? nil : p.spec.nodeName, phase: p.status.phase.rawValue,
                       ready: p.isReady, terminating: p.isTerminating, labels: p.metadata.labels,
                       owner: p.metadata.controllerRef.map { "\($0.kind)/\($0.name)" },
                       requests: Self.resources(PodRequests.of(p)))
        }
        var byNode: [String: [Pod]] = [:]
        for p in allPods where !p.spec.nodeName.isEmpty && !p.isTerminal { byNode[p.spec.nodeName, default: []].append(p) }
        self.nodes = nodes.map { n in
            let info = NodeInfo(node: n, pods: byNode[n.metadata.name] ?? [])
            return NodeSummary(name: n.metadata.name, ready: n.isReady, labels: n.metadata.labels,
                               allocatable: Self.resources(info.allocatable), requested: Self.resources(info.requested),
                               pods: info.pods.count)
        }
    }

}
