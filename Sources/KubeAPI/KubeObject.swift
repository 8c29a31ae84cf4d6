/// The kinds kubelab simulates.
public enum Kind: String, Sendable, CaseIterable, Comparable {
    case node = "Node", pod = "Pod", replicaSet = "ReplicaSet", deployment = "Deployment", lease = "Lease",
        event = "Event", podDisruptionBudget = "PodDisruptionBudget", priorityClass = "PriorityClass"

    /// Namespaced kinds default to namespace "default".
    public var isNamespaced: Bool { self != .node && self != .priorityClass }

    /// The apiVersion of manifests of this kind.
    public var apiVersion: String {
        switch self {
        case .node, .pod, .event: return "v1"
        case .replicaSet, .deployment: return "apps/v1"
        case .lease: return "coordination.k8s.io/v1"
        case .podDisruptionBudget: return "policy/v1"
        case .priorityClass: return "scheduling.k8s.io/v1"
        }
    }

    /// The lower-case plural resource name ("pods"), used in RBAC-style permissions.
    public var resource: String {
        switch self {
        case .node: return "nodes"
        case .pod: return "pods"
        case .replicaSet: return "replicasets"
        case .deployment: return "deployments"
        case .lease: return "leases"
        case .event: return "events"
        case .podDisruptionBudget: return "poddisruptionbudgets"
        case .priorityClass: return "priorityclasses"
        }
    }

    public static func < (a: Kind, b: Kind) -> Bool { a.rawValue < b.rawValue }
}

/// Any object kubelab stores.
public enum KubeObject: Equatable, Sendable {
    case node(Node)
    case pod(Pod)
    case replicaSet(ReplicaSet)
    case deployment(Deployment)
    case lease(Lease)
    case event(Event)
    case podDisruptionBudget(PodDisruptionBudget)
    case priorityClass(PriorityClass)

    public var kind: Kind {
        switch self {
        case .node: return .node
        case .pod: return .pod
        case .replicaSet: return .replicaSet
        case .deployment: return .deployment
        case .lease: return .lease
        case .event: return .event
        case .podDisruptionBudget: return .podDisruptionBudget
        case .priorityClass: return .priorityClass
        }
    }

    public var metadata: ObjectMeta {
        get {
            switch self {
            case .node(let o): return o.metadata
            case .pod(let o): return o.metadata
            case .replicaSet(let o): return o.metadata
            case .deployment(let o): return o.metadata
            case .lease(let o): return o.metadata
            case .event(let o): return o.metadata
            case .podDisruptionBudget(let o): return o.metadata
            case .priorityClass(let o): return o.metadata
            }
        }
        set {
            switch self {
            case .node(var o): o.metadata = newValue; self = .node(o)
            case .pod(var o): o.metadata = newValue; self = .pod(o)
            case .replicaSet(var o): o.metadata = newValue; self = .replicaSet(o)
            case .deployment(var o): o.metadata = newValue; self = .deployment(o)
            case .lease(var o): o.metadata = newValue; self = .lease(o)
            case .event(var o): o.metadata = newValue; self = .event(o)
            case .podDisruptionBudget(var o): o.metadata = newValue; self = .podDisruptionBudget(o)
            case .priorityClass(var o): o.metadata = newValue; self = .priorityClass(o)
            }
        }
    }

    /// `namespace/name`, or `name` for cluster-scoped kinds.
    public var namespacedName: String {
        let m = metadata
        return m.namespace.isEmpty ? m.name : "\(m.namespace)/\(m.name)"
    }

    public var pod: Pod? { if case .pod(let p) = self { return p } else { return nil } }
    public var node: Node? { if case .node(let n) = self { return n } else { return nil } }
    public var replicaSet: ReplicaSet? { if case .replicaSet(let r) = self { return r } else { return nil } }
    public var deployment: Deployment? { if case .deployment(let d) = self { return d } else { return nil } }
    public var lease: Lease? { if case .lease(let l) = self { return l } else { return nil } }
    public var event: Event? { if case .event(let e) = self { return e } else { return nil } }
    public var podDisruptionBudget: PodDisruptionBudget? {
        if case .podDisruptionBudget(let b) = self { return b } else { return nil }
    }
    public var priorityClass: PriorityClass? { if case .priorityClass(let c) = self { return c } else { return nil } }
}
