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
            try admitPriority(&pod)
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
        case .podDisruptionBudget(let b):
            try validate(b)
        case .priorityClass(var c):
            try validate(c)
            if c.preemptionPolicy == nil { c.preemptionPolicy = .preemptLowerPriority }
            o = .priorityClass(c)
        case .lease, .event: break
        }
        return o
    }

    // MARK: - Priority

    /// A PriorityClass by name: a stored one, or one of the system classes.
    public func priorityClass(named name: String) -> PriorityClass? {
        if let c = store.get(.priorityClass, namespace: "", name: name)?.priorityClass { return c }
        return PriorityClass.system.first { $0.metadata.name == name }
    }

    /// The class pods that name none get: the `globalDefault` one with the lowest value
    /// (ties by name), as kube's Priority admission picks it.
    func defaultPriorityClass() -> PriorityClass? {
        store.list(.priorityClass).compactMap(\.priorityClass).filter(\.globalDefault)
            .min { ($0.value, $0.metadata.name) < ($1.value, $1.metadata.name) }
    }

    /// The Priority admission plugin: `priorityClassName` resolves to `spec.priority` and
    /// `spec.preemptionPolicy`; a pod that names no class gets the global default class, or
    /// priority 0 and PreemptLowerPriority. A pod may not set a priority or a preemption
    /// policy that differs from its class's.
    ///
    /// - Throws: `forbidden` for an unknown class or a conflicting priority or policy.
    func admitPriority(_ pod: inout Pod) throws(APIError) {
        let who = "pods \"\(pod.metadata.name)\" is forbidden"
        var priority = PriorityClass.defaultPriority
        var policy: PreemptionPolicy? = .preemptLowerPriority
        if pod.spec.priorityClassName.isEmpty {
            if let d = defaultPriorityClass() {
                pod.spec.priorityClassName = d.metadata.name
                priority = d.value
                policy = d.preemptionPolicy
            }
        } else {
            guard let c = priorityClass(named: pod.spec.priorityClassName) else {
                throw APIError(.forbidden, "\(who): no PriorityClass with name \(pod.spec.priorityClassName) was found")
            }
            priority = c.value
            policy = c.preemptionPolicy
        }
        if let p = pod.spec.priority, p != priority {
            throw APIError(.forbidden, "\(who): the integer value of priority (\(p)) must not be provided in pod spec; "
                + "priority admission controller computed \(priority) from the given PriorityClass name")
        }
        pod.spec.priority = priority
        if let policy {
            if let given = pod.spec.preemptionPolicy, given != policy {
                throw APIError(.forbidden, "\(who): the string value of PreemptionPolicy (\(given.rawValue)) must not be provided in pod spec; "
                    + "priority admission controller computed \(policy.rawValue) from the given PriorityClass name")
            }
            pod.spec.preemptionPolicy = policy
        }
    }

    /// PriorityClass validation and admission: names with the `system-` prefix are
    /// reserved, user classes stay at or under 1000000000, and only one class may be the
    /// global default.
    private func validate(_ c: PriorityClass) throws(APIError) {
        let name = c.metadata.name
        if PriorityClass.system.contains(where: { $0.metadata.name == name }) {
            throw APIError(.alreadyExists, "priorityclasses.scheduling.k8s.io \"\(name)\" already exists")
        }
        let invalid = "PriorityClass.scheduling.k8s.io \"\(name)\" is invalid"
        if name.hasPrefix("system-") {
            throw APIError(.invalid, "\(invalid): metadata.name: Forbidden: \(name) is not a known system priority class")
        }
        if c.value > PriorityClass.highestUserDefinablePriority {
            throw APIError(.invalid, "\(invalid): value: Forbidden: maximum allowed value of a user defined priority is \(PriorityClass.highestUserDefinablePriority)")
        }
        if c.globalDefault, let d = defaultPriorityClass() {
            throw APIError(.forbidden, "priorityclasses.scheduling.k8s.io \"\(name)\" is forbidden: PriorityClass \(d.metadata.name) is already marked as default. Only one default can exist")
        }
    }

    /// PodDisruptionBudget validation: at most one of minAvailable and maxUnavailable, each
    /// a count of 0 or more or a percentage of at most 100%.
    private func validate(_ b: PodDisruptionBudget) throws(APIError) {
        let invalid = "PodDisruptionBudget.policy \"\(b.metadata.name)\" is invalid"
        if b.spec.minAvailable != nil && b.spec.maxUnavailable != nil {
            throw APIError(.invalid, "\(invalid): spec: Invalid value: minAvailable and maxUnavailable cannot be both set")
        }
        for (field, v) in [("minAvailable", b.spec.minAvailable), ("maxUnavailable", b.spec.maxUnavailable)] {
            switch v {
            case .int(let n)? where n < 0:
                throw APIError(.invalid, "\(invalid): spec.\(field): Invalid value: \(n): must be greater than or equal to 0")
            case .string(let text)?:
                guard text.hasSuffix("%"), let p = Int(text.dropLast()), (0...100).contains(p) else {
                    throw APIError(.invalid, "\(invalid): spec.\(field): Invalid value: \"\(text)\": must be an integer or a percentage from 0% to 100%")
                }
            default: break
            }
        }
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
