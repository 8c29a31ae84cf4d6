public import SimCore
public import KubeAPI
public import KubeStore
public import KubeAPIServer

/// The Deployment controller: owns one ReplicaSet per pod template (named
/// `<deployment>-<pod-template-hash>`), scales the current one to `spec.replicas` and older
/// ones to zero, and reports the status. (Rolling updates with maxSurge/maxUnavailable come
/// later; a template change now replaces the pods at once.)
public final class DeploymentController {
    public static let name = "deployment-controller"
    let client: Client
    let sim: Simulation
    let queue: WorkQueue
    private var deployments: Informer!
    private var replicaSets: Informer!

    public init(server: APIServer) {
        client = server.client(Self.name)
        sim = server.sim
        queue = WorkQueue(sim: sim)
    }

    public func start() throws(APIError) {
        deployments = try Informer(client: client, kind: .deployment)
        replicaSets = try Informer(client: client, kind: .replicaSet)
        deployments.onEvent = { [weak self] _, o, _ in self?.queue.add(o.namespacedName) }
        replicaSets.onEvent = { [weak self] _, o, _ in
            guard let ref = o.metadata.controllerRef, ref.kind == "Deployment" else { return }
            self?.queue.add("\(o.metadata.namespace)/\(ref.name)")
        }
        queue.handler = { [weak self] key in try self?.reconcile(key) }
        queue.onError = { [weak self] key, e in self?.sim.record(Self.name, "reconcile \(key) failed: \(e)") }
    }

    public func stop() { queue.stopped = true; client.connected = false; client.stopWatches() }

    /// A stable hash of the pod template, in Kubernetes' safe alphabet (10 characters).
    public static func templateHash(_ t: PodTemplateSpec) -> String {
        var text = "labels:"
        for k in t.metadata.labels.keys.sorted() { text += "\(k)=\(t.metadata.labels[k] ?? "");" }
        for c in t.spec.containers {
            text += "|c:\(c.name):\(c.image)"
            for r in c.resources.requests.keys.sorted() { text += ":\(r)=\(c.resources.requests[r]?.milliValue ?? 0)" }
            for r in c.resources.limits.keys.sorted() { text += ":L\(r)=\(c.resources.limits[r]?.milliValue ?? 0)" }
        }
        for k in t.spec.nodeSelector.keys.sorted() { text += "|ns:\(k)=\(t.spec.nodeSelector[k] ?? "")" }
        text += "|sched:\(t.spec.schedulerName)|prio:\(t.spec.priorityClassName)"
        for tol in t.spec.tolerations {
            text += "|t:\(tol.key):\(tol.operator.rawValue):\(tol.value):\(tol.effect?.rawValue ?? ""):\(tol.tolerationSeconds ?? -1)"
        }
        var h = RandomStreams.stableHash(text)
        let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")
        var out = ""
        for _ in 0..<10 { out.append(alphabet[Int(h % UInt64(alphabet.count))]); h /= UInt64(alphabet.count) }
        return out
    }

    func reconcile(_ key: String) throws -> SimDuration? {
        guard case .deployment(let d)? = deployments.get(key) else { return nil }
        let hash = Self.templateHash(d.spec.template)
        let owned = replicaSets.list().compactMap(\.replicaSet).filter {
            $0.metadata.namespace == d.metadata.namespace && $0.metadata.controllerRef?.uid == d.metadata.uid
        }
        let rsName = "\(d.metadata.name)-\(hash)"
        if let current = owned.first(where: { $0.metadata.name == rsName }) {
            if current.spec.replicas != d.spec.replicas {
                try client.modify(.replicaSet, namespace: d.metadata.namespace, name: rsName) { o in
                    guard case .replicaSet(var r) = o else { return }
                    r.spec.replicas = d.spec.replicas
                    o = .replicaSet(r)
                }
                sim.record(Self.name, "scaled replicaset \(d.metadata.namespace)/\(rsName) to \(d.spec.replicas)")
            }
        } else {
            var template = d.spec.template
            template.metadata.labels["pod-template-hash"] = hash
            var selector = d.spec.selector
            selector.matchLabels["pod-template-hash"] = hash
            var meta = ObjectMeta(name: rsName, namespace: d.metadata.namespace, labels: template.metadata.labels)
            meta.ownerReferences = [OwnerReference(apiVersion: "apps/v1", kind: "Deployment", name: d.metadata.name,
                                                   uid: d.metadata.uid)]
            var spec = ReplicaSetSpec(replicas: d.spec.replicas, selector: selector, template: template)
            spec.minReadySeconds = d.spec.minReadySeconds
            do {
                try client.create(.replicaSet(ReplicaSet(metadata: meta, spec: spec)))
                sim.record(Self.name, "created replicaset \(d.metadata.namespace)/\(rsName) with \(d.spec.replicas) replicas")
            } catch {
                if error.reason == .alreadyExists { return nil }  // the cache is behind; the RS event requeues us
                throw error
            }
        }
        for old in owned where old.metadata.name != rsName && old.spec.replicas != 0 {
            try client.modify(.replicaSet, namespace: old.metadata.namespace, name: old.metadata.name) { o in
                guard case .replicaSet(var r) = o else { return }
                r.spec.replicas = 0
                o = .replicaSet(r)
            }
            sim.record(Self.name, "scaled old replicaset \(old.metadata.namespace)/\(old.metadata.name) to 0")
        }
        var st = DeploymentStatus()
        for rs in owned {
            st.replicas += rs.status.replicas
            st.readyReplicas += rs.status.readyReplicas
            st.availableReplicas += rs.status.availableReplicas
            if rs.metadata.name == rsName { st.updatedReplicas = rs.status.replicas }
        }
        st.unavailableReplicas = max(0, d.spec.replicas - st.availableReplicas)
        st.observedGeneration = d.metadata.generation
        if st != d.status {
            try client.modify(.deployment, namespace: d.metadata.namespace, name: d.metadata.name) { o in
                guard case .deployment(var dd) = o else { return }
                dd.status = st
                o = .deployment(dd)
            }
        }
        return nil
    }
}
