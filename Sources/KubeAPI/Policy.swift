public import SimCore

// MARK: - PriorityClass (scheduling.k8s.io/v1)

/// Whether a pod may preempt lower-priority pods (core/v1 PreemptionPolicy).
public enum PreemptionPolicy: String, Sendable, Equatable, CaseIterable {
    /// The default: the scheduler may evict lower-priority pods to make room.
    case preemptLowerPriority = "PreemptLowerPriority"
    /// The pod waits for room; it never preempts (it is still ordered by its priority).
    case never = "Never"
}

/// A PriorityClass (scheduling.k8s.io/v1): maps a class name to the integer priority that
/// the Priority admission plugin writes into `spec.priority` of the pods that name it.
/// Cluster-scoped; its fields sit at the top level (it has no `spec`).
public struct PriorityClass: Equatable, Sendable {
    public var metadata: ObjectMeta
    /// The priority of pods of this class; user classes may use at most
    /// `PriorityClass.highestUserDefinablePriority`.
    public var value: Int32
    /// The class of pods that name no class. At most one class may set it.
    public var globalDefault: Bool
    /// Copied into the pods of the class; the API server defaults it to PreemptLowerPriority.
    public var preemptionPolicy: PreemptionPolicy?
    public var description: String

    public init(metadata: ObjectMeta, value: Int32, globalDefault: Bool = false,
                preemptionPolicy: PreemptionPolicy? = nil, description: String = "") {
        self.metadata = metadata; self.value = value; self.globalDefault = globalDefault
        self.preemptionPolicy = preemptionPolicy; self.description = description
    }

    /// The highest value a user-defined class may have (kube's HighestUserDefinablePriority).
    public static let highestUserDefinablePriority: Int32 = 1_000_000_000
    /// The priority of pods when no class applies (kube's DefaultPriorityWhenNoDefaultClassExists).
    public static let defaultPriority: Int32 = 0

    /// The classes every cluster has (kube's SystemPriorityClasses): the API server resolves
    /// them even though they are not stored objects.
    public static let system: [PriorityClass] = [
        PriorityClass(metadata: ObjectMeta(name: "system-cluster-critical"), value: 2_000_000_000,
                      preemptionPolicy: .preemptLowerPriority,
                      description: "Used for system critical pods that must run in the cluster, but can be moved to another node if necessary."),
        PriorityClass(metadata: ObjectMeta(name: "system-node-critical"), value: 2_000_001_000,
                      preemptionPolicy: .preemptLowerPriority,
                      description: "Used for system critical pods that must not be moved from their current node."),
    ]
}

// MARK: - PodDisruptionBudget (policy/v1)

/// spec of a PodDisruptionBudget. At most one of `minAvailable` and `maxUnavailable` is set.
public struct PodDisruptionBudgetSpec: Equatable, Sendable {
    /// Pods that must stay available: a count or a percentage of the expected pods.
    public var minAvailable: IntOrString?
    /// Pods that may be unavailable: a count or a percentage of the expected pods.
    public var maxUnavailable: IntOrString?
    /// The pods the budget covers, in its namespace. nil selects no pod; in policy/v1 an
    /// empty selector selects every pod of the namespace (the scheduler's preemption still
    /// treats an empty selector as matching nothing, as kube-scheduler does).
    public var selector: LabelSelector?
    /// IfHealthyBudget or AlwaysAllow; accepted, nil when not given (kubelab has no
    /// eviction subresource, where it applies).
    public var unhealthyPodEvictionPolicy: String?

    public init(minAvailable: IntOrString? = nil, maxUnavailable: IntOrString? = nil, selector: LabelSelector? = nil,
                unhealthyPodEvictionPolicy: String? = nil) {
        self.minAvailable = minAvailable; self.maxUnavailable = maxUnavailable; self.selector = selector
        self.unhealthyPodEvictionPolicy = unhealthyPodEvictionPolicy
    }
}

/// status of a PodDisruptionBudget, as the disruption controller writes it.
public struct PodDisruptionBudgetStatus: Equatable, Sendable {
    /// Ready pods the budget covers that are not being deleted.
    public var currentHealthy: Int = 0
    /// The fewest healthy pods the budget allows.
    public var desiredHealthy: Int = 0
    /// How many covered pods may be disrupted now: currentHealthy - desiredHealthy, at
    /// least 0, and 0 while no pods are expected.
    public var disruptionsAllowed: Int = 0
    /// The pods the budget expects: the scale of their controllers, or the number of
    /// covered pods for an integer `minAvailable`.
    public var expectedPods: Int = 0
    /// The generation of the spec this status was computed from.
    public var observedGeneration: Int64 = 0
    /// Pods whose eviction the API server admitted but which are not deleted yet, by name,
    /// with the time of the eviction. kubelab has no eviction subresource yet, so it stays
    /// empty (manifests' values are not read).
    public var disruptedPods: [String: SimTime] = [:]
    /// The DisruptionAllowed condition: "True" with reason SufficientPods, "False" with
    /// InsufficientPods or SyncFailed; nil before the controller's first sync.
    public var disruptionAllowedCondition: PodCondition? = nil
    public init() {}
}

/// A PodDisruptionBudget (policy/v1): a limit on how many of an application's pods
/// voluntary disruptions (preemption, eviction) may take down at once.
public struct PodDisruptionBudget: Equatable, Sendable {
    public var metadata: ObjectMeta
    public var spec: PodDisruptionBudgetSpec
    public var status: PodDisruptionBudgetStatus

    public init(metadata: ObjectMeta, spec: PodDisruptionBudgetSpec = .init(), status: PodDisruptionBudgetStatus = .init()) {
        self.metadata = metadata; self.spec = spec; self.status = status
    }
}

extension Pod {
    /// kube's PodPriority: `spec.priority`, or 0 when it is not set.
    public var priority: Int32 { spec.priority ?? 0 }
}
