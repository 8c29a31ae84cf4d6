public import SimCore
public import KubeAPI
public import KubeStore

/// A component's connection to the API server, with its identity and permissions.
///
/// Writes take effect at once; watch events reach the component later, after the API
/// server's seeded latency, in order.
public final class Client {
    public let server: APIServer
    /// Who is calling, e.g. "scheduler", "kubelet/node-1".
    public let identity: String
    /// resource -> verbs; nil = everything.
    public let permissions: [String: Set<String>]?
    private var watches: [Int] = []
    /// While false the client's watches deliver nothing (a crashed component).
    public var connected = true

    init(server: APIServer, identity: String, permissions: [String: Set<String>]?) {
        self.server = server; self.identity = identity; self.permissions = permissions
    }

    var sim: Simulation { server.sim }

    private func authorize(_ verb: String, _ kind: Kind) throws(APIError) {
        guard server.available else { throw APIError(.unavailable, "the API server is unavailable") }
        guard let p = permissions else { return }
        if !(p[kind.resource]?.contains(verb) ?? false) {
            throw APIError(.forbidden, "\(kind.resource) is forbidden: \(identity) cannot \(verb) resource \"\(kind.resource)\"")
        }
    }

    // MARK: - Reads

    /// Reads one object.
    public func get(_ kind: Kind, namespace: String = "", name: String) throws(APIError) -> KubeObject? {
        try authorize("get", kind)
        let ns = kind.isNamespaced && namespace.isEmpty ? "default" : namespace
        return server.store.get(kind, namespace: ns, name: name)
    }

    /// Lists objects sorted by namespace/name.
    public func list(_ kind: Kind, namespace: String? = nil) throws(APIError) -> [KubeObject] {
        try authorize("list", kind)
        return server.store.list(kind, namespace: namespace)
    }

    // MARK: - Writes

    /// Creates an object after admission (defaulting and validation).
    @discardableResult
    public func create(_ object: KubeObject) throws(APIError) -> KubeObject {
        try authorize("create", object.kind)
        let admitted = try server.admitCreate(object)
        do { return try server.store.create(admitted) } catch { throw APIError(error) }
    }

    /// Replaces an object; a non-zero resourceVersion makes it a compare-and-swap.
    @discardableResult
    public func update(_ object: KubeObject) throws(APIError) -> KubeObject {
        try authorize("update", object.kind)
        var o = object
        if let current = server.store.get(o.kind, namespace: o.metadata.namespace, name: o.metadata.name) {
            // Immutable metadata stays as stored.
            o.metadata.uid = current.metadata.uid
            o.metadata.creationTimestamp = current.metadata.creationTimestamp
            if o.metadata.deletionTimestamp == nil { o.metadata.deletionTimestamp = current.metadata.deletionTimestamp }
        }
        do { return try server.store.update(o) } catch { throw APIError(error) }
    }

    /// Reads, changes and writes an object, retrying on conflicts (client-go's
    /// RetryOnConflict). Returns nil when the object does not exist.
    @discardableResult
    public func modify(_ kind: Kind, namespace: String = "", name: String,
                       _ change: (inout KubeObject) -> Void) throws(APIError) -> KubeObject? {
        for _ in 0..<5 {
            guard var o = try get(kind, namespace: namespace, name: name) else { return nil }
            change(&o)
            do { return try update(o) } catch let e where e.reason == .conflict { continue }
        }
        throw APIError(.conflict, "too many conflicts updating \(kind.resource) \(name)")
    }

    /// Deletes an object. A pod bound to a node is deleted gracefully: it gets a
    /// deletionTimestamp and stays (Terminating) until its kubelet confirms, or a delete
    /// with `gracePeriodSeconds: 0` removes it.
    public func delete(_ kind: Kind, namespace: String = "", name: String,
                       gracePeriodSeconds: Int64? = nil) throws(APIError) {
        try authorize("delete", kind)
        let ns = kind.isNamespaced && namespace.isEmpty ? "default" : namespace
        guard let o = server.store.get(kind, namespace: ns, name: name) else {
            throw APIError(.notFound, "\(kind.resource) \"\(name)\" not found")
        }
        if case .pod(var pod) = o, !pod.spec.nodeName.isEmpty, !pod.isTerminal {
            let grace = gracePeriodSeconds ?? pod.spec.terminationGracePeriodSeconds
            if grace > 0 {
                if pod.isTerminating { return }
                pod.metadata.deletionTimestamp = sim.now + .seconds(grace)
                pod.metadata.deletionGracePeriodSeconds = grace
                do { try server.store.update(.pod(pod)) } catch { throw APIError(error) }
                return
            }
        }
        do { try server.store.delete(kind, namespace: ns, name: name) } catch { throw APIError(error) }
    }

    /// Binds a pod to a node (the pods/binding subresource).
    public func bind(namespace: String, name: String, node: String) throws(APIError) {
        try authorize("update", .pod)
        guard case .pod(var pod)? = server.store.get(.pod, namespace: namespace, name: name) else {
            throw APIError(.notFound, "pods \"\(name)\" not found")
        }
        guard pod.spec.nodeName.isEmpty else {
            throw APIError(.conflict, "pod \(name) is already assigned to node \"\(pod.spec.nodeName)\"")
        }
        guard !pod.isTerminating else { throw APIError(.conflict, "pod \(name) is being deleted") }
        pod.spec.nodeName = node
        pod.status.conditions.removeAll { $0.type == "PodScheduled" }
        pod.status.conditions.append(PodCondition(type: "PodScheduled", status: "True", lastTransitionTime: sim.now))
        do { try server.store.update(.pod(pod)) } catch { throw APIError(error) }
    }

    /// Records an Event object about `object` (as client-go's event recorder does).
    public func recordEvent(about object: KubeObject, type: String = "Normal", reason: String, message: String) {
        let m = object.metadata
        var meta = ObjectMeta(namespace: m.namespace.isEmpty ? "default" : m.namespace)
        meta.generateName = m.name + "."
        var e = Event(metadata: meta, involvedObject: ObjectReference(kind: object.kind.rawValue, namespace: m.namespace,
                                                                       name: m.name, uid: m.uid),
                      reason: reason, message: message, type: type, source: identity)
        e.firstTimestamp = sim.now
        e.lastTimestamp = sim.now
        _ = try? create(.event(e))
    }

    // MARK: - Watch

    /// Lists and watches `kind`: the handler first gets an ADDED event for every existing
    /// object (sorted by name), then every change, each after the API server's seeded
    /// latency and in store order.
    public func watch(_ kind: Kind, _ handler: @escaping (WatchEvent) -> Void) throws(APIError) {
        try authorize("watch", kind)
        let sim = self.sim
        let server = self.server
        let stream = "watch/\(identity)/\(kind.rawValue)"
        var last = sim.now
        // The store keeps this closure, and the server keeps the store: holding the server
        // weakly here keeps a finished cluster from keeping itself alive.
        let deliver: (WatchEvent) -> Void = { [weak self, weak server] e in
            guard let server else { return }
            let lo = server.settings.watchLatencyMin.nanoseconds
            let hi = max(lo, server.settings.watchLatencyMax.nanoseconds)
            let at = max(sim.now + .nanoseconds(sim.random.int(stream, in: lo...hi)), last)
            last = at
            sim.schedule(at: at) {
                guard let self, self.connected else { return }
                handler(e)
            }
        }
        let rev = server.store.revision
        for o in server.store.list(kind) {
            deliver(WatchEvent(type: .added, object: o, revision: o.metadata.resourceVersion))
        }
        do { watches.append(try server.store.watch(kind, from: rev, deliver)) } catch { throw APIError(error) }
    }

    /// Stops every watch of this client.
    public func stopWatches() {
        for w in watches { server.store.cancelWatch(w) }
        watches = []
    }
}
