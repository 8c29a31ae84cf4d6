public import SimCore

/// The effect of a taint.
public enum TaintEffect: String, Sendable, Equatable, CaseIterable {
    case noSchedule = "NoSchedule"
    case preferNoSchedule = "PreferNoSchedule"
    case noExecute = "NoExecute"
}

/// A node taint.
public struct Taint: Equatable, Sendable {
    public var key: String
    public var value: String
    public var effect: TaintEffect
    /// When a NoExecute taint was added (drives toleration-seconds eviction).
    public var timeAdded: SimTime?

    public init(key: String, value: String = "", effect: TaintEffect, timeAdded: SimTime? = nil) {
        self.key = key; self.value = value; self.effect = effect; self.timeAdded = timeAdded
    }
}

/// The operator of a toleration.
public enum TolerationOperator: String, Sendable, Equatable {
    case exists = "Exists", equal = "Equal"
}

/// A pod toleration.
public struct Toleration: Equatable, Sendable {
    public var key: String
    public var `operator`: TolerationOperator
    public var value: String
    /// nil tolerates every effect.
    public var effect: TaintEffect?
    /// For NoExecute: how long the pod stays bound after the taint appears; nil = forever.
    public var tolerationSeconds: Int64?

    public init(key: String = "", operator op: TolerationOperator = .equal, value: String = "",
                effect: TaintEffect? = nil, tolerationSeconds: Int64? = nil) {
        self.key = key; self.operator = op; self.value = value; self.effect = effect
        self.tolerationSeconds = tolerationSeconds
    }

    /// kube's `ToleratesTaint`: effect empty or equal, key empty or equal, operator matches.
    public func tolerates(_ taint: Taint) -> Bool {
        if let e = effect, e != taint.effect { return false }
        if !key.isEmpty && key != taint.key { return false }
        switch self.operator {
        case .exists: return true
        case .equal: return value == taint.value
        }
    }
}

/// Compute resources by name: "cpu", "memory", "pods", "nvidia.com/gpu", ...
public typealias ResourceList = [String: Quantity]

/// Requests and limits of one container.
public struct ResourceRequirements: Equatable, Sendable {
    public var requests: ResourceList = [:]
    public var limits: ResourceList = [:]
    public init(requests: ResourceList = [:], limits: ResourceList = [:]) {
        self.requests = requests; self.limits = limits
    }
}

/// A container port.
public struct ContainerPort: Equatable, Sendable {
    public var name: String = ""
    public var containerPort: Int
    public var hostPort: Int = 0
    public var hostIP: String = ""
    public var `protocol`: String = "TCP"
    public init(containerPort: Int, hostPort: Int = 0, protocol proto: String = "TCP", name: String = "") {
        self.containerPort = containerPort; self.hostPort = hostPort; self.protocol = proto; self.name = name
    }
}

/// A container of a pod (the fields kubelab simulates; others are accepted and ignored).
public struct Container: Equatable, Sendable {
    public var name: String
    public var image: String = ""
    public var resources = ResourceRequirements()
    public var ports: [ContainerPort] = []
    /// "Always" on an init container makes it a sidecar.
    public var restartPolicy: String? = nil
    public init(name: String, image: String = "", resources: ResourceRequirements = .init()) {
        self.name = name; self.image = image; self.resources = resources
    }
}

/// A node selector term's requirement (NodeSelectorRequirement).
public struct NodeSelectorRequirement: Equatable, Sendable {
    public var key: String
    /// In, NotIn, Exists, DoesNotExist, Gt, Lt
    public var `operator`: String
    public var values: [String]
    public init(key: String, operator op: String, values: [String] = []) {
        self.key = key; self.operator = op; self.values = values
    }
}

/// One term of a node selector: all expressions must match.
public struct NodeSelectorTerm: Equatable, Sendable {
    public var matchExpressions: [NodeSelectorRequirement] = []
    public var matchFields: [NodeSelectorRequirement] = []
    public init(matchExpressions: [NodeSelectorRequirement] = [], matchFields: [NodeSelectorRequirement] = []) {
        self.matchExpressions = matchExpressions; self.matchFields = matchFields
    }
}

/// A weighted preferred node term.
public struct PreferredSchedulingTerm: Equatable, Sendable {
    public var weight: Int
    public var preference: NodeSelectorTerm
    public init(weight: Int, preference: NodeSelectorTerm) { self.weight = weight; self.preference = preference }
}

/// Node affinity: required terms (ORed) and preferred weighted terms.
public struct NodeAffinity: Equatable, Sendable {
    /// requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms; nil when absent.
    public var required: [NodeSelectorTerm]?
    public var preferred: [PreferredSchedulingTerm] = []
    public init(required: [NodeSelectorTerm]? = nil, preferred: [PreferredSchedulingTerm] = []) {
        self.required = required; self.preferred = preferred
    }
}

/// A pod (anti-)affinity term.
public struct PodAffinityTerm: Equatable, Sendable {
    /// nil matches no pod; an empty selector matches every pod.
    public var labelSelector: LabelSelector?
    /// The namespaces the term looks in. With neither `namespaces` nor `namespaceSelector`, the
    /// pod's own namespace.
    public var namespaces: [String] = []
    /// Namespaces by their labels, ORed with `namespaces`; an empty selector means every
    /// namespace, nil none.
    public var namespaceSelector: LabelSelector? = nil
    public var topologyKey: String
    /// Label keys whose values on this pod are ANDed into `labelSelector` as `key In [value]`.
    public var matchLabelKeys: [String] = []
    /// Label keys whose values on this pod are ANDed into `labelSelector` as `key NotIn [value]`.
    public var mismatchLabelKeys: [String] = []
    public init(labelSelector: LabelSelector?, namespaces: [String] = [], topologyKey: String,
                namespaceSelector: LabelSelector? = nil, matchLabelKeys: [String] = [], mismatchLabelKeys: [String] = []) {
        self.labelSelector = labelSelector; self.namespaces = namespaces; self.topologyKey = topologyKey
        self.namespaceSelector = namespaceSelector; self.matchLabelKeys = matchLabelKeys
        self.mismatchLabelKeys = mismatchLabelKeys
    }
}

/// A weighted preferred pod (anti-)affinity term.
public struct WeightedPodAffinityTerm: Equatable, Sendable {
    public var weight: Int
    public var term: PodAffinityTerm
    public init(weight: Int, term: PodAffinityTerm) { self.weight = weight; self.term = term }
}

/// Pod affinity or anti-affinity.
public struct PodAffinity: Equatable, Sendable {
    public var required: [PodAffinityTerm] = []
    public var preferred: [WeightedPodAffinityTerm] = []
    public init(required: [PodAffinityTerm] = [], preferred: [WeightedPodAffinityTerm] = []) {
        self.required = required; self.preferred = preferred
    }
}

/// spec.affinity
public struct Affinity: Equatable, Sendable {
    public var nodeAffinity: NodeAffinity?
    public var podAffinity: PodAffinity?
    public var podAntiAffinity: PodAffinity?
    public init(nodeAffinity: NodeAffinity? = nil, podAffinity: PodAffinity? = nil, podAntiAffinity: PodAffinity? = nil) {
        self.nodeAffinity = nodeAffinity; self.podAffinity = podAffinity; self.podAntiAffinity = podAntiAffinity
    }
}

/// Whether a topology spread constraint counts a node that the pod's node affinity or the
/// node's taints would keep the pod off (`nodeAffinityPolicy`, `nodeTaintsPolicy`).
public enum NodeInclusionPolicy: String, Sendable, Equatable, CaseIterable {
    /// Count only the nodes the pod could be placed on by that rule.
    case honor = "Honor"
    /// Count every node, whatever that rule says.
    case ignore = "Ignore"
}

/// A topology spread constraint.
public struct TopologySpreadConstraint: Equatable, Sendable {
    public var maxSkew: Int
    public var topologyKey: String
    /// DoNotSchedule or ScheduleAnyway
    public var whenUnsatisfiable: String
    /// nil matches no pod; an empty selector matches every pod.
    public var labelSelector: LabelSelector?
    /// nil: 1.
    public var minDomains: Int?
    /// Label keys whose values on the incoming pod are ANDed into `labelSelector`.
    public var matchLabelKeys: [String] = []
    /// nil: Honor (the pod's nodeSelector and required node affinity decide which nodes count).
    public var nodeAffinityPolicy: NodeInclusionPolicy? = nil
    /// nil: Ignore (tainted nodes count).
    public var nodeTaintsPolicy: NodeInclusionPolicy? = nil
    public init(maxSkew: Int, topologyKey: String, whenUnsatisfiable: String, labelSelector: LabelSelector? = nil,
                minDomains: Int? = nil, matchLabelKeys: [String] = [], nodeAffinityPolicy: NodeInclusionPolicy? = nil,
                nodeTaintsPolicy: NodeInclusionPolicy? = nil) {
        self.maxSkew = maxSkew; self.topologyKey = topologyKey; self.whenUnsatisfiable = whenUnsatisfiable
        self.labelSelector = labelSelector; self.minDomains = minDomains; self.matchLabelKeys = matchLabelKeys
        self.nodeAffinityPolicy = nodeAffinityPolicy; self.nodeTaintsPolicy = nodeTaintsPolicy
    }
}

/// spec of a pod.
public struct PodSpec: Equatable, Sendable {
    public var containers: [Container] = []
    public var initContainers: [Container] = []
    /// Set by binding; "" while unscheduled.
    public var nodeName: String = ""
    public var nodeSelector: [String: String] = [:]
    public var tolerations: [Toleration] = []
    public var affinity: Affinity? = nil
    public var topologySpreadConstraints: [TopologySpreadConstraint] = []
    public var schedulerName: String = "default-scheduler"
    /// Resolved from `priorityClassName` by the API server's Priority admission.
    public var priority: Int32? = nil
    public var priorityClassName: String = ""
    /// Set by the Priority admission from the pod's class (PreemptLowerPriority when no
    /// class applies); nil on a pod that was not admitted, which preempts like the default.
    public var preemptionPolicy: PreemptionPolicy? = nil
    /// Always, OnFailure or Never.
    public var restartPolicy: String = "Always"
    public var terminationGracePeriodSeconds: Int64 = 30
    public var overhead: ResourceList = [:]
    public var schedulingGates: [String] = []
    public init(containers: [Container] = []) { self.containers = containers }
}

/// Pod phase.
public enum PodPhase: String, Sendable, Equatable, CaseIterable {
    case pending = "Pending", running = "Running", succeeded = "Succeeded", failed = "Failed", unknown = "Unknown"
}

/// A pod condition (Ready, PodScheduled, ...).
public struct PodCondition: Equatable, Sendable {
    public var type: String
    /// "True", "False" or "Unknown"
    public var status: String
    public var reason: String = ""
    public var message: String = ""
    public var lastTransitionTime: SimTime? = nil
    public init(type: String, status: String, reason: String = "", message: String = "", lastTransitionTime: SimTime? = nil) {
        self.type = type; self.status = status; self.reason = reason; self.message = message
        self.lastTransitionTime = lastTransitionTime
    }
}

/// status of a pod.
public struct PodStatus: Equatable, Sendable {
    public var phase: PodPhase = .pending
    public var conditions: [PodCondition] = []
    public var startTime: SimTime? = nil
    public var hostIP: String = ""
    public var podIP: String = ""
    public var reason: String = ""
    public var message: String = ""
    /// The node the scheduler's preemption made room on for this pod, while it waits for
    /// the victims to leave; other pods of lower or equal priority do not take that room.
    public var nominatedNodeName: String = ""
    public init() {}
}

/// A pod (core/v1).
public struct Pod: Equatable, Sendable {
    /// The fields sit in one shared box, copied only when a shared copy is changed: the
    /// scheduler copies a pod into queues, cycle states and node records many times per
    /// cycle, and a copy is then one retain instead of one per string, list and map inside.
    /// (Inlinable, so that reading a field from another module stays a plain load.)
    @usableFromInline final class Storage: @unchecked Sendable {
        // Changed only through Pod's accessors, which copy a shared box first.
        @usableFromInline var metadata: ObjectMeta
        @usableFromInline var spec: PodSpec
        @usableFromInline var status: PodStatus
        @usableFromInline init(_ metadata: ObjectMeta, _ spec: PodSpec, _ status: PodStatus) {
            self.metadata = metadata; self.spec = spec; self.status = status
        }
    }
    @usableFromInline var storage: Storage

    @inlinable public var metadata: ObjectMeta {
        _read { yield storage.metadata }
        _modify { unique(); yield &storage.metadata }
    }
    @inlinable public var spec: PodSpec {
        _read { yield storage.spec }
        _modify { unique(); yield &storage.spec }
    }
    @inlinable public var status: PodStatus {
        _read { yield storage.status }
        _modify { unique(); yield &storage.status }
    }

    public init(metadata: ObjectMeta, spec: PodSpec = .init(), status: PodStatus = .init()) {
        storage = Storage(metadata, spec, status)
    }

    @inlinable mutating func unique() {
        if !isKnownUniquelyReferenced(&storage) { storage = Storage(storage.metadata, storage.spec, storage.status) }
    }

    public static func == (a: Pod, b: Pod) -> Bool {
        a.storage === b.storage || (a.metadata == b.metadata && a.spec == b.spec && a.status == b.status)
    }

    /// The pod's Ready condition is True.
    public var isReady: Bool { status.conditions.contains { $0.type == "Ready" && $0.status == "True" } }
    /// Succeeded or Failed.
    public var isTerminal: Bool { status.phase == .succeeded || status.phase == .failed }
    /// Deletion has started.
    public var isTerminating: Bool { metadata.deletionTimestamp != nil }
}
