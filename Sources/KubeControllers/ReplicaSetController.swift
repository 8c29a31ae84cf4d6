public import SimCore
public import KubeAPI
public import KubeStore
public import KubeAPIServer

/// The ReplicaSet controller: keeps `spec.replicas` active pods for each ReplicaSet.
/// Terminating and finished pods do not count, so a pod being evicted from a dead node is
/// replaced at once. Expectations (as in kube-controller-manager) keep it from acting
/// twice on a stale cache.
public final class ReplicaSetController {
    public static let name = "replicaset-controller"
    let client: Client
    let sim: Simulation
    let queue: WorkQueue
    private var replicaSets: Informer!
    private var pods: Informer!
    /// RS key -> (creations, deletions) this controller still expects to observe.
    private var expectations: [String: (adds: Int, dels: Int)] = [:]
    /// Upper bound of pods created per reconcile (kube's burstReplicas).
    public var burstReplicas = 500

    public init(server: APIServer) {
        client = server.client(Self.name)
        sim = server.sim
        queue = WorkQueue(sim: sim)
    }

    public func start() throws(APIError) {
        replicaSets = try Informer(client: client, kind: .replicaSet)
        pods = try Informer(client: client, kind: .pod)
        replicaSets.onEvent = { [weak self] _, o, _ in self?.queue.add(o.namespacedName) }
        pods.onEvent = { [weak self] type, o, old in self?.podChanged(type, o, old) }
        queue.handler = { [weak self] key in try self?.reconcile(key) }
        queue.onError = { [weak self] key, e in self?.sim.record(Self.name, "reconcile \(key) failed: \(e)") }
    }

    public func stop() { queue.stopped = true; client.connected = false; client.stopWatches() }

    private func podChanged(_ type: WatchEventType, _ o: KubeObject, _ old: KubeObject?) {
        guard case .pod(let p) = o, let ref = p.metadata.controllerRef, ref.kind == "ReplicaSet" else { return }
        let key = "\(p.metadata.namespace)/\(ref.name)"
        if var e = expectations[key] {
            if type == .added && old == nil { e.adds = max(0, e.adds - 1) }
            if type == .deleted || (p.isTerminating && !(old?.pod?.isTerminating ?? false)) { e.dels = max(0, e.dels - 1) }
            expectations[key] = e
        }
        queue.add(key)
    }

    func reconcile(_ key: String) throws -> SimDuration? {
        guard case .replicaSet(let rs)? = replicaSets.get(key) else {
            expectations[key] = nil
            return nil
        }
        let owned = pods.list().compactMap(\.pod).filter {
            $0.metadata.namespace == rs.metadata.namespace && $0.metadata.controllerRef?.uid == rs.metadata.uid
        }
        let active = owned.filter { !$0.isTerminating && !$0.isTerminal }
        if let e = expectations[key], e.adds > 0 || e.dels > 0 { return nil }
        let diff = rs.spec.replicas - active.count
        if diff > 0 {
            let n = min(diff, burstReplicas)
            expectations[key] = (n, 0)
            for _ in 0..<n {
                var meta = rs.spec.template.metadata
                meta.name = ""
                meta.generateName = rs.metadata.name + "-"
                meta.namespace = rs.metadata.namespace
                meta.ownerReferences = [OwnerReference(apiVersion: "apps/v1", kind: "ReplicaSet", name: rs.metadata.name,
                                                       uid: rs.metadata.uid)]
                let created = try client.create(.pod(Pod(metadata: meta, spec: rs.spec.template.spec)))
                sim.record(Self.name, "created pod \(created.namespacedName) for replicaset \(key)")
            }
        } else if diff < 0 {
            let victims = active.sorted(by: ReplicaSetController.deletionOrder).prefix(-diff)
            expectations[key] = (0, victims.count)
            for p in victims {
                try client.delete(.pod, namespace: p.metadata.namespace, name: p.metadata.name)
                sim.record(Self.name, "deleted pod \(p.metadata.namespace)/\(p.metadata.name) of replicaset \(key)")
            }
        }
        let ready = active.filter(\.isReady).count
        if rs.status.replicas != active.count || rs.status.readyReplicas != ready
            || rs.status.availableReplicas != ready || rs.status.observedGeneration != rs.metadata.generation {
            try client.modify(.replicaSet, namespace: rs.metadata.namespace, name: rs.metadata.name) { o in
                guard case .replicaSet(var r) = o else { return }
                r.status.replicas = active.count
                r.status.readyReplicas = ready
                r.status.availableReplicas = ready
                r.status.observedGeneration = r.metadata.generation
                o = .replicaSet(r)
            }
        }
        return nil
    }

    /// kube's ActivePods ordering for scale-down: unscheduled first, then pending, then
    /// not ready, then the newest.
    static func deletionOrder(_ a: Pod, _ b: Pod) -> Bool {
        if a.spec.nodeName.isEmpty != b.spec.nodeName.isEmpty { return a.spec.nodeName.isEmpty }
        let pa = a.status.phase == .pending, pb = b.status.phase == .pending
        if pa != pb { return pa }
        if a.isReady != b.isReady { return !a.isReady }
        let ta = a.metadata.creationTimestamp ?? .zero, tb = b.metadata.creationTimestamp ?? .zero
        if ta != tb { return ta > tb }
        return a.metadata.name < b.metadata.name
    }
}
