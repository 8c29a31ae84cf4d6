import Foundation
public import KubeAPI
public import KubeScheduler
public import LuaPlugins
import SimCore
import KubeAPIServer

/// `kubelab schedule`: one scheduling pass with no time. Pods are placed one at a time,
/// each placement counting for the next; pods that already name a node count as running
/// there.
public struct SchedulePass {
    /// The result of a pass; `--json` writes it.
    public struct Output: Codable, Sendable, StableJSON {
        /// "ns/pod" -> node, or null when the pod fits nowhere.
        public var placements: [String: String?]
        /// "ns/pod" -> kube-scheduler's FitError message.
        public var unschedulable: [String: String]
        /// The order pods were scheduled in.
        public var order: [String]
        /// node -> pods placed (including pods that named it already), cpu / memory requested.
        public var nodes: [String: NodeUse]
        public var scheduler: String
        public var plugin_failures: [String]
        /// Manifests in the inputs that are not scheduled (e.g. Services), "kind/name".
        public var skipped: [String]
        /// Pods preempted (DefaultPreemption) to make room for others, "ns/pod", in order;
        /// left out when none was. A preempted pod is in `placements` as null, and in
        /// `unschedulable` with "preempted by ns/pod on node".
        public var preempted: [String]? = nil

    }

    public struct NodeUse: Codable, Sendable {
        public var pods: Int
        public var cpu_requested: Int64
        public var cpu_allocatable: Int64
        public var memory_requested: Int64
        public var memory_allocatable: Int64
    }

    public var nodes: [Node] = []
    public var pods: [Pod] = []
    public var skipped: [String] = []

    public init() {}

    /// Reads the node and pod manifests. Deployments and ReplicaSets in the pods file
    /// become their replicas (`name-1`, `name-2`, ...).
    ///
    /// - Throws: `ManifestError` for unreadable or invalid files.
    public mutating func load(nodesText: String, nodesFile: String, podsText: String, podsFile: String) throws(ManifestError) {
        for d in try ManifestDecoder.decode(nodesText, file: nodesFile) {
            switch d {
            case .object(.node(var n), _):
                if n.status.allocatable.isEmpty { n.status.allocatable = n.status.capacity }
                nodes.append(n)
            case .object(let o, let line):
                throw ManifestError(file: nodesFile, line: line, field: "kind",
                                    message: "expected Node objects in the nodes file, got \(o.kind.rawValue)")
            case .unsupported(let kind, _, let name, _): skipped.append("\(kind)/\(name)")
            }
        }
        for d in try ManifestDecoder.decode(podsText, file: podsFile) {
            switch d {
            case .object(.pod(let p), _): pods.append(Self.defaulted(p))
            case .object(.deployment(let dep), _):
                pods += Self.expand(dep.metadata, dep.spec.replicas, dep.spec.template)
            case .object(.replicaSet(let rs), _):
                pods += Self.expand(rs.metadata, rs.spec.replicas, rs.spec.template)
            case .object(let o, _): skipped.append("\(o.kind.rawValue)/\(o.metadata.name)")
            case .unsupported(let kind, _, let name, _): skipped.append("\(kind)/\(name)")
            }
        }
        var seen: Set<String> = []
        for p in pods where !seen.insert("\(p.metadata.namespace)/\(p.metadata.name)").inserted {
            throw ManifestError(file: podsFile, line: nil, field: "metadata.name",
                                message: "two pods are named \(p.metadata.namespace)/\(p.metadata.name)")
        }
        seen = []
        for n in nodes where !seen.insert(n.metadata.name).inserted {
            throw ManifestError(file: nodesFile, line: nil, field: "metadata.name", message: "two nodes are named \(n.metadata.name)")
        }
    }

    static func defaulted(_ p: Pod) -> Pod {
        var q = p
        APIServer.defaultRequestsFromLimits(&q)
        if q.metadata.namespace.isEmpty { q.metadata.namespace = "default" }
        if q.metadata.name.isEmpty { q.metadata.name = q.metadata.generateName + "0" }
        return q
    }

    static func expand(_ meta: ObjectMeta, _ replicas: Int, _ t: PodTemplateSpec) -> [Pod] {
        guard replicas > 0 else { return [] }
        return (1...replicas).map { i in
            var m = t.metadata
            m.name = "\(meta.name)-\(i)"
            m.namespace = meta.namespace.isEmpty ? "default" : meta.namespace
            return defaulted(Pod(metadata: m, spec: t.spec))
        }
    }

    /// Runs the pass with the default profile, or with a Lua plugin.
    public func run(plugin: LoadedPlugin?, seed: UInt64) -> Output {
        run(luas: plugin.map { [LuaSchedulerPlugin($0)] } ?? [], seed: seed)
    }

    /// Runs the pass with several Lua plugins in one profile.
    public func run(plugins: [LoadedPlugin], seed: UInt64) -> Output {
        run(luas: plugins.map(LuaSchedulerPlugin.init), seed: seed)
    }

    /// Runs the pass with a Lua plugin adapter the caller keeps (to read its costs).
    public func run(lua: LuaSchedulerPlugin?, seed: UInt64) -> Output {
        run(luas: lua.map { [$0] } ?? [], seed: seed)
    }

    /// Schedules every pod and returns each cycle's result, in scheduling order. `profiles`
    /// builds fresh frameworks (name nil: every pod) for each attempt.
    func cycles<E: Error>(luas: [LuaSchedulerPlugin], seed: UInt64, explain: Bool = false, percentageOfNodesToScore: Int? = nil,
                          profiles: () throws(E) -> [(name: String?, framework: Framework)]) throws(E) -> Framework.Pass {
        // A plugin switched off during the pass leaves pods its failures rejected; the pass
        // then runs again from the start without it (same seed), so the placements are
        // those of the rest of the profile.
        func disabled() -> Int { luas.count { !$0.isEnabled } }
        while true {
            let built = try profiles()
            for (_, f) in built {
                f.explain = explain
                if let p = percentageOfNodesToScore { f.percentageOfNodesToScore = p }
            }
            let before = disabled()
            // The "scheduler" stream of the run's RandomStreams, drawn without a lookup per draw.
            var random = SplitMix64(seed: seed ^ RandomStreams.stableHash("scheduler"))
            // Preemption draws from a stream of its own ("scheduler/preemption").
            var preemption = SplitMix64(seed: seed ^ RandomStreams.stableHash("scheduler/preemption"))
            let results = Framework.schedulePass(pods, nodes: nodes, profiles: built, random: { random.next() },
                                                 preemptionRandom: { preemption.next() })
            if disabled() == before { return results }
        }
    }

    func cycles(luas: [LuaSchedulerPlugin], seed: UInt64, explain: Bool = false,
                percentageOfNodesToScore: Int? = nil) -> Framework.Pass {
        cycles(luas: luas, seed: seed, explain: explain, percentageOfNodesToScore: percentageOfNodesToScore) { () -> [(name: String?, framework: Framework)] in
            [(nil, luas.isEmpty ? Framework.defaultProfile() : Framework.profile(with: luas))]
        }
    }

    /// The profiles of a KubeSchedulerConfiguration, with the Lua plugins available by name.
    static func profiles(_ config: SchedulerConfiguration, _ luas: [LuaSchedulerPlugin]) throws(ManifestError) -> [(name: String?, framework: Framework)] {
        var extra: [String: any Plugin] = [:]
        for l in luas where extra[l.name] == nil { extra[l.name] = l }
        return try config.frameworks(extra: extra).map { (name: Optional($0.schedulerName), framework: $0.framework) }
    }

    /// Runs the pass with the profiles of a KubeSchedulerConfiguration; Lua plugins join a
    /// profile when the configuration enables them by name.
    ///
    /// - Throws: `ManifestError` for a configuration that names an unknown plugin, a bad
    ///   weight or bad arguments.
    public func run(luas: [LuaSchedulerPlugin], seed: UInt64, config: SchedulerConfiguration) throws(ManifestError) -> Output {
        let results = try cycles(luas: luas, seed: seed) { () throws(ManifestError) in try Self.profiles(config, luas) }
        return output(results, luas: luas, scheduler: config.profiles.map(\.schedulerName).joined(separator: "+"))
    }

    /// Runs the pass with Lua plugin adapters the caller keeps.
    public func run(luas: [LuaSchedulerPlugin], seed: UInt64) -> Output {
        output(cycles(luas: luas, seed: seed), luas: luas,
               scheduler: luas.isEmpty ? "default-scheduler" : luas.map(\.name).joined(separator: "+"))
    }

    func output(_ pass: Framework.Pass, luas: [LuaSchedulerPlugin], scheduler: String) -> Output {
        let results = pass.results
        // Preempted pods left their node: they are placed nowhere.
        var preemptedBy: [String: Preemption] = [:]
        for p in pass.preempted { preemptedBy[p.victim] = p }
        var placements: [String: String?] = [:]
        var unschedulable: [String: String] = [:]
        var byNode: [String: [Pod]] = [:]
        for p in pods where !p.spec.nodeName.isEmpty && nodes.contains(where: { $0.metadata.name == p.spec.nodeName })
            && preemptedBy["\(p.metadata.namespace)/\(p.metadata.name)"] == nil {
            byNode[p.spec.nodeName, default: []].append(p)
        }
        let podByKey = Dictionary(pods.map { ("\($0.metadata.namespace)/\($0.metadata.name)", $0) }, uniquingKeysWith: { a, _ in a })
        // Pods no profile serves stay pending, as kube-scheduler leaves them.
        let scheduled = Set(results.map(\.key))
        for p in pods where p.spec.nodeName.isEmpty {
            let key = "\(p.metadata.namespace)/\(p.metadata.name)"
            guard !scheduled.contains(key) else { continue }
            placements[key] = .some(nil)
            unschedulable[key] = "no scheduler profile named \"\(p.spec.schedulerName)\": the pod stays pending"
        }
        for (key, r) in results {
            if let by = preemptedBy[key] {
                placements[key] = .some(nil)
                unschedulable[key] = "preempted by \(by.preemptor) on \(by.node)"
                continue
            }
            placements[key] = .some(r.node)
            if let n = r.node, let p = podByKey[key] { byNode[n, default: []].append(p) } else { unschedulable[key] = r.message }
        }
        // Pods that ran before the pass and were preempted.
        for p in pass.preempted where placements[p.victim] == nil {
            placements[p.victim] = .some(nil)
            unschedulable[p.victim] = "preempted by \(p.preemptor) on \(p.node)"
        }
        var use: [String: NodeUse] = [:]
        for n in nodes {
            let info = NodeInfo(node: n, pods: byNode[n.metadata.name] ?? [])
            use[n.metadata.name] = NodeUse(pods: info.pods.count, cpu_requested: info.requested.milliCPU,
                                           cpu_allocatable: info.allocatable.milliCPU, memory_requested: info.requested.memory,
                                           memory_allocatable: info.allocatable.memory)
        }
        return Output(placements: placements, unschedulable: unschedulable, order: results.map(\.key), nodes: use,
                      scheduler: scheduler, plugin_failures: luas.flatMap(\.failures), skipped: skipped,
                      preempted: pass.preempted.isEmpty ? nil : pass.preempted.map(\.victim))
    }
}

/// `kubelab schedule --explain`: per pod, every node's filter verdicts and scores.
public struct Explanation: Codable, Sendable, StableJSON {
    public struct FilterEntry: Codable, Sendable {
        public var plugin: String
        public var status: String
        public var reasons: [String]
    }

    public struct ScoreEntry: Codable, Sendable {
        public var plugin: String
        public var raw: Int64
        public var normalized: Int64
        public var weight: Int64
    }

    public struct NodeEntry: Codable, Sendable {
        public var node: String
        /// False when the search stopped before this node (percentageOfNodesToScore).
        public var examined: Bool
        public var filters: [FilterEntry]
        public var scores: [ScoreEntry]
        public var total: Int64
    }

    public struct PodEntry: Codable, Sendable {
        public var pod: String
        public var node: String?
        /// Why the pod was not placed (kube-scheduler's FitError or a Permit denial).
        public var message: String
        public var nodes: [NodeEntry]

        enum CodingKeys: String, CodingKey { case pod, node, message, nodes }

        /// One scheduling cycle's explanation.
        public init(pod: String, result r: Framework.Result) {
            self.pod = pod
            node = r.node
            message = r.node == nil ? r.message : ""
            nodes = r.nodes.map { n in
                NodeEntry(
                    node: n.node, examined: n.examined,
                    filters: n.filters.map { FilterEntry(plugin: $0.plugin, status: $0.status.rawValue, reasons: $0.reasons) },
                    scores: n.scores.map { ScoreEntry(plugin: $0.plugin, raw: $0.raw, normalized: $0.normalized, weight: $0.weight) },
                    total: n.total)
            }
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(pod, forKey: .pod)
            try c.encode(node, forKey: .node)  // null when unschedulable
            try c.encode(message, forKey: .message)
            try c.encode(nodes, forKey: .nodes)
        }
    }

    public struct Stats: Codable, Sendable {
        public init(nodes: Int, pods: Int, scheduling_seconds: Double, pods_per_second: Double) {
            self.nodes = nodes; self.pods = pods; self.scheduling_seconds = scheduling_seconds; self.pods_per_second = pods_per_second
        }

        public var nodes: Int
        public var pods: Int
        public var scheduling_seconds: Double
        public var pods_per_second: Double
    }

    public var pods: [PodEntry]
    public var stats: Stats
    public var scheduler: String
    public var plugin_failures: [String]
}

extension SchedulePass {
    /// Runs the pass recording every filter verdict and score. `stats.scheduling_seconds`
    /// is left 0: the caller times the pass.
    public func explain(luas: [LuaSchedulerPlugin], seed: UInt64, percentageOfNodesToScore: Int? = nil) -> Explanation {
        explanation(cycles(luas: luas, seed: seed, explain: true, percentageOfNodesToScore: percentageOfNodesToScore), luas: luas,
                    scheduler: luas.isEmpty ? "default-scheduler" : luas.map(\.name).joined(separator: "+"))
    }

    /// `explain` with the profiles of a KubeSchedulerConfiguration.
    public func explain(luas: [LuaSchedulerPlugin], seed: UInt64, config: SchedulerConfiguration,
                        percentageOfNodesToScore: Int? = nil) throws(ManifestError) -> Explanation {
        let results = try cycles(luas: luas, seed: seed, explain: true, percentageOfNodesToScore: percentageOfNodesToScore) {
            () throws(ManifestError) in try Self.profiles(config, luas)
        }
        return explanation(results, luas: luas, scheduler: config.profiles.map(\.schedulerName).joined(separator: "+"))
    }

    func explanation(_ pass: Framework.Pass, luas: [LuaSchedulerPlugin], scheduler: String) -> Explanation {
        let results = pass.results
        let pods = results.map { Explanation.PodEntry(pod: $0.key, result: $0.result) }
        return Explanation(pods: pods, stats: .init(nodes: nodes.count, pods: results.count, scheduling_seconds: 0, pods_per_second: 0),
                           scheduler: scheduler, plugin_failures: luas.flatMap(\.failures))
    }
}
