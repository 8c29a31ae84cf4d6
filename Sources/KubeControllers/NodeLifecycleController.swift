public import SimCore
public import KubeAPI
public import KubeStore
public import KubeAPIServer

/// Settings of the node lifecycle controller.
public struct NodeLifecycleSettings: Sendable {
    /// How often node health is checked (kube: node-monitor-period 5s).
    public var monitorPeriod: SimDuration = .seconds(5)
    /// A node whose Lease was not renewed for longer than this turns Ready=Unknown
    /// (kube: node-monitor-grace-period 40s).
    public var gracePeriod: SimDuration = .seconds(40)
    public init() {}
}

/// The node lifecycle controller with its taint-eviction part:
/// - every `monitorPeriod` it checks each node's Lease; past `gracePeriod` without a
///   renewal the node gets Ready=Unknown, the `node.kubernetes.io/unreachable` NoSchedule
///   and NoExecute taints, and its pods Ready=False;
/// - pods on a node with a NoExecute taint they do not tolerate are deleted at once; pods
///   that tolerate it for N seconds (the default 300s from admission) are deleted N
///   seconds after the taint appeared;
/// - when the Lease is renewed again and the kubelet reports Ready, the taints go away.
public final class NodeLifecycleController {
    public static let name = "node-lifecycle-controller"
    public static let unreachableTaint = "node.kubernetes.io/unreachable"
    let client: Client
    let sim: Simulation
    public var settings: NodeLifecycleSettings
    private var nodes: Informer!
    private var leases: Informer!
    private var pods: Informer!
    /// Pending evictions: pod key -> (time, event).
    private var evictions: [String: (at: SimTime, id: EventID)] = [:]
    private var running = false

    public init(server: APIServer, settings: NodeLifecycleSettings = .init()) {
        client = server.client(Self.name)
        sim = server.sim
        self.settings = settings
    }

    public func start() throws(APIError) {
        running = true
        nodes = try Informer(client: client, kind: .node)
        leases = try Informer(client: client, kind: .lease)
        pods = try Informer(client: client, kind: .pod)
        nodes.onEvent = { [weak self] _, o, _ in
            guard let self, let n = o.node else { return }
            self.syncEvictions(node: n)
        }
        pods.onEvent = { [weak self] type, o, _ in
            guard let self, let p = o.pod else { return }
            if type == .deleted || p.isTerminating { self.cancelEviction(Self.key(p)); return }
            if !p.spec.nodeName.isEmpty, let n = self.nodes.get(p.spec.nodeName)?.node { self.syncEviction(p, on: n) }
        }
        tick()
    }

    public func stop() { running = false; client.connected = false; client.stopWatches() }

    static func key(_ p: Pod) -> String { "\(p.metadata.namespace)/\(p.metadata.name)" }

    private func tick() {
        guard running else { return }
        monitorNodes()
        sim.schedule(after: settings.monitorPeriod) { [weak self] in self?.tick() }
    }

    private func monitorNodes() {
        let now = sim.now
        for case .node(let n) in nodes.list() {
            let name = n.metadata.name
            let renew = leases.get("kube-node-lease/\(name)")?.lease?.spec.renewTime
            let probe = renew ?? n.metadata.creationTimestamp ?? .zero
            let stale = now.since(probe) > settings.gracePeriod
            let hasTaint = n.spec.taints.contains { $0.key == Self.unreachableTaint }
            if stale && n.readyStatus != "Unknown" {
                markUnknown(n, lastRenew: probe)
            } else if !stale && n.isReady && hasTaint {
                do {
                    try client.modify(.node, name: name) { o in
                        guard case .node(var nn) = o else { return }
                        nn.spec.taints.removeAll { $0.key == Self.unreachableTaint }
                        o = .node(nn)
                    }
                    sim.record(Self.name, "node \(name) is Ready again; removed the \(Self.unreachableTaint) taints")
                } catch {
                    sim.record(Self.name, "untainting \(name) failed: \(error.message)")
                }
            }
        }
    }

    private func markUnknown(_ n: Node, lastRenew: SimTime) {
        let name = n.metadata.name
        let now = sim.now
        do {
            try client.modify(.node, name: name) { o in
                guard case .node(var nn) = o else { return }
                nn.setCondition("Ready", status: "Unknown", reason: "NodeStatusUnknown",
                                message: "Kubelet stopped posting node status.", at: now)
                for effect in [TaintEffect.noSchedule, .noExecute]
                where !nn.spec.taints.contains(where: { $0.key == Self.unreachableTaint && $0.effect == effect }) {
                    nn.spec.taints.append(Taint(key: Self.unreachableTaint, effect: effect, timeAdded: now))
                }
                o = .node(nn)
            }
            sim.record(Self.name, "node \(name) is NotReady (Ready=Unknown): no lease renewal for \(now.since(lastRenew).humanDescription); tainted \(Self.unreachableTaint):NoExecute")
            client.recordEvent(about: .node(n), reason: "NodeNotReady", message: "Node \(name) status is now: NodeNotReady")
        } catch {
            sim.record(Self.name, "marking \(name) unknown failed: \(error.message)")
            return
        }
        // MarkPodsNotReady
        for case .pod(let p) in pods.list() where p.spec.nodeName == name && p.isReady {
            _ = try? client.modify(.pod, namespace: p.metadata.namespace, name: p.metadata.name) { o in
                guard case .pod(var pp) = o else { return }
                for i in pp.status.conditions.indices where pp.status.conditions[i].type == "Ready" {
                    pp.status.conditions[i].status = "False"
                    pp.status.conditions[i].lastTransitionTime = now
                }
                o = .pod(pp)
            }
        }
    }

    // MARK: - Taint eviction

    private func syncEvictions(node: Node) {
        for case .pod(let p) in pods.list() where p.spec.nodeName == node.metadata.name && !p.isTerminating {
            syncEviction(p, on: node)
        }
    }

    /// When must `pod` leave `node`? nil = never (no NoExecute taint, or tolerated forever).
    static func evictionTime(_ pod: Pod, on node: Node, now: SimTime) -> SimTime? {
        var deadline: SimTime?
        for taint in node.spec.taints where taint.effect == .noExecute {
            let matching = pod.spec.tolerations.filter { $0.tolerates(taint) }
            let added = taint.timeAdded ?? now
            if matching.isEmpty { return added }
            let finite = matching.compactMap(\.tolerationSeconds)
            guard finite.count == matching.count, let secs = finite.min() else { continue }
            let t = added + .seconds(max(0, secs))
            deadline = deadline.map { min($0, t) } ?? t
        }
        return deadline
    }

    private func syncEviction(_ pod: Pod, on node: Node) {
        let k = Self.key(pod)
        guard let at = Self.evictionTime(pod, on: node, now: sim.now) else { cancelEviction(k); return }
        if let existing = evictions[k], existing.at == at { return }
        cancelEviction(k)
        let id = sim.schedule(at: at) { [weak self] in self?.evict(k, nodeName: node.metadata.name) }
        evictions[k] = (at, id)
    }

    private func cancelEviction(_ k: String) {
        if let e = evictions.removeValue(forKey: k) { sim.cancel(e.id) }
    }

    private func evict(_ k: String, nodeName: String) {
        evictions[k] = nil
        guard running, let p = pods.get(k)?.pod, !p.isTerminating, p.spec.nodeName == nodeName,
              let n = nodes.get(nodeName)?.node, let at = Self.evictionTime(p, on: n, now: sim.now), at <= sim.now else { return }
        do {
            try client.delete(.pod, namespace: p.metadata.namespace, name: p.metadata.name)
            sim.record("taint-eviction-controller", "evicted \(k) from \(nodeName) (NoExecute taint \(Self.unreachableTaint), toleration expired)")
            client.recordEvent(about: .pod(p), reason: "TaintManagerEviction", message: "Marking for deletion Pod \(k)")
        } catch {
            sim.record("taint-eviction-controller", "evicting \(k) failed: \(error.message)")
        }
    }
}
