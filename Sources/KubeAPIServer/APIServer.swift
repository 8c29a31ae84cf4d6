public import SimCore
public import KubeAPI
public import KubeStore

/// Why a request to the API server failed, with Kubernetes' reason names.
public struct APIError: Error, CustomStringConvertible, Equatable, Sendable {
    public enum Reason: String, Sendable {
        case alreadyExists = "AlreadyExists", notFound = "NotFound", conflict = "Conflict", invalid = "Invalid",
            forbidden = "Forbidden", unavailable = "ServiceUnavailable"
    }
    public let reason: Reason
    public let message: String
    public var description: String { message }

    public init(_ reason: Reason, _ message: String) { self.reason = reason; self.message = message }

    init(_ e: StoreError) {
        switch e.code {
        case .alreadyExists: self.init(.alreadyExists, e.message)
        case .notFound: self.init(.notFound, e.message)
        case .conflict: self.init(.conflict, e.message)
        case .compacted: self.init(.unavailable, e.message)
        }
    }
}

/// Settings of the API server.
public struct APIServerSettings: Sendable {
    /// Watch events reach a watcher after a seeded delay in this range (FIFO per watch).
    public var watchLatencyMin: SimDuration = .milliseconds(1)
    public var watchLatencyMax: SimDuration = .milliseconds(5)
    /// DefaultTolerationSeconds admission: not-ready / unreachable NoExecute tolerations
    /// added to every pod that has none for those taints.
    public var defaultTolerationSeconds: Int64 = 300
    public init() {}
}

/// The API server: every read and write of every component passes through it. It
/// authorizes the caller, defaults and validates objects (admission), writes the store,
/// and fans watch events out to the components with a seeded latency.
public final class APIServer {
    public let sim: Simulation
    public let store: Store
    public var settings: APIServerSettings
    /// When false (a fault), every request fails with ServiceUnavailable.
    public var available = true

    public init(sim: Simulation, store: Store = Store(), settings: APIServerSettings = .init()) {
        self.sim = sim; self.store = store; self.settings = settings
    }

    /// A client for a component, e.g. "scheduler" or "kubelet/node-1".
    ///
    /// - Parameter permissions: resource -> verbs ("get", "list", "watch", "create",
    ///   "update", "delete"); nil allows everything (built-in components).
    public func client(_ identity: String, permissions: [String: Set<String>]? = nil) -> Client {
        Client(server: self, identity: identity, permissions: permissions)
    }

    // MARK: - Admission

    /// Defaulting and validation before a create, as the admission chain does.
    func admitCreate(_ input: KubeObject) throws(APIError) -> KubeObject {
        var o = input
        var m = o.metadata
        if o.kind.isNamespaced && m.namespace.isEmpty { m.namespace = "default" }
        if !o.kind.isNamespaced { m.namespace = "" }
        if m.name.isEmpty {
            guard !m.generateName.isEmpty else {
                throw APIError(.invalid, "\(o.kind.rawValue) is invalid: metadata.name: Required value: name or generateName is required")
            }
            m.name = m.generateName + sim.random.nameSuffix("apiserver-names")
        }
        if m.uid.isEmpty { m.uid = makeUID() }
        m.creationTimestamp = sim.now
        m.deletionTimestamp = nil
        m.generation = 1
        o.metadata = m
        switch o {
        case .pod(var pod):
            try validate(pod)
            APIServer.defaultRequestsFromLimits(&pod)
            addDefaultTolerations(&pod)
            if pod.spec.priority == nil { pod.spec.priority = 0 }
            if pod.status.phase == .pending && pod.status.conditions.isEmpty && !pod.spec.nodeName.isEmpty {
                pod.status.conditions = [PodCondition(type: "PodScheduled", status: "True", lastTransitionTime: sim.now)]
            }
            o = .pod(pod)
        case .node(var node):
            if node.status.allocatable.isEmpty { node.status.allocatable = node.status.capacity }
            if node.status.allocatable["pods"] == nil { node.status.allocatable["pods"] = Quantity(value: 110) }
            if node.status.capacity["pods"] == nil { node.status.capacity["pods"] = Quantity(value: 110) }
            o = .node(node)
        case .replicaSet(let rs):
            if rs.spec.replicas < 0 { throw APIError(.invalid, "ReplicaSet \(m.name) is invalid: spec.replicas: must be greater than or equal to 0") }
            if !rs.spec.selector.matches(rs.spec.template.metadata.labels) || rs.spec.selector.isEmpty {
                throw APIError(.invalid, "ReplicaSet \(m.name) is invalid: spec.template.metadata.labels: `selector` does not match template `labels`")
            }
        case .deployment(let d):
            if d.spec.replicas < 0 { throw APIError(.invalid, "Deployment \(m.name) is invalid: spec.replicas: must be greater than or equal to 0") }
            if !d.spec.selector.matches(d.spec.template.metadata.labels) || d.spec.selector.isEmpty {
                throw APIError(.invalid, "Deployment \(m.name) is invalid: spec.template.metadata.labels: `selector` does not match template `labels`")
            }
        case .lease, .event: break
        }
        return o
    }

    private func validate(_ pod: Pod) throws(APIError) {
        if pod.spec.containers.isEmpty {
            throw APIError(.invalid, "Pod \(pod.metadata.name) is invalid: spec.containers: Required value")
        }
        for c in pod.spec.containers + pod.spec.initContainers {
            for (res, q) in c.resources.requests.sorted(by: { $0.key < $1.key }) where q.isNegative {
                throw APIError(.invalid, "Pod \(pod.metadata.name) is invalid: spec.containers[\(c.name)].resources.requests[\(res)]: must be greater than or equal to 0")
            }
        }
    }

    /// Kubernetes' defaulting: a container that sets a limit but no request for a
    /// resource requests its limit.
    public static func defaultRequestsFromLimits(_ pod: inout Pod) {
        func fix(_ cs: inout [Container]) {
            for i in cs.indices {
                for (name, q) in cs[i].resources.limits where cs[i].resources.requests[name] == nil {
                    cs[i].resources.requests[name] = q
                }
            }
        }
        fix(&pod.spec.containers)
        fix(&pod.spec.initContainers)
    }

    /// The DefaultTolerationSeconds admission plugin.
    private func addDefaultTolerations(_ pod: inout Pod) {
        for key in ["node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"] {
            let has = pod.spec.tolerations.contains { t in
                (t.key == key || (t.key.isEmpty && t.operator == .exists)) && (t.effect == nil || t.effect == .noExecute)
            }
            if !has {
                pod.spec.tolerations.append(Toleration(key: key, operator: .exists, effect: .noExecute,
                                                       tolerationSeconds: settings.defaultTolerationSeconds))
            }
        }
    }

    private func makeUID() -> String {
        let a = sim.random.next("apiserver-uid"), b = sim.random.next("apiserver-uid")
        func hex(_ v: UInt64, _ n: Int) -> String {
            let s = String(v, radix: 16)
            return String(repeating: "0", count: max(0, n - s.count)) + s.suffix(n)
        }
        return "\(hex(a >> 32, 8))-\(hex((a >> 16) & 0xffff, 4))-4\(hex(a & 0xfff, 3))-\(hex(8 | (b >> 62), 1))\(hex((b >> 48) & 0xfff, 3))-\(hex(b & 0xffff_ffff_ffff, 12))"
    }
}
