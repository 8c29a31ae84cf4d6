public import KubeAPI
import Foundation

/// kube-scheduler's PodTopologySpread plugin (v1.35, with MinDomains, NodeInclusionPolicy and
/// MatchLabelKeys all on, as they are by default): PreFilter, Filter, PreScore, Score and
/// NormalizeScore.
///
/// Counting, shared by Filter and Score: an existing pod counts toward a constraint when it is in
/// the incoming pod's namespace, is not terminating (`deletionTimestamp` unset) and matches the
/// constraint's selector. A nil selector matches nothing. A selector that parses to no
/// requirements at all (`{}` with no `matchLabelKeys` to add) counts **no** existing pod, as
/// upstream's `countPodsMatchSelector` returns 0 for an empty selector, while the incoming pod
/// still matches it (so such a constraint never rejects a node). `matchLabelKeys` ANDs
/// `key In [pod's value]` into the selector for every listed key the incoming pod has. A node is
/// counted only when it has every topology key of the constraints of that kind and passes the
/// constraint's inclusion policies: `nodeAffinityPolicy` (default Honor: the pod's nodeSelector
/// and required node affinity must match the node) and `nodeTaintsPolicy` (default Ignore; Honor:
/// no untolerated NoSchedule/NoExecute taint).
///
/// - PreFilter (DoNotSchedule constraints, over every node of the snapshot): the matching pods
///   per constraint and domain. Skip when the pod has no DoNotSchedule constraint (after the
///   defaults); Error when a selector does not parse.
/// - Filter: for each constraint, a node without the key is UnschedulableAndUnresolvable
///   "node(s) didn't match pod topology spread constraints (missing required label)"; a node
///   where `count[domain] + self − min > maxSkew` is Unschedulable "node(s) didn't match pod
///   topology spread constraints", with `min` the smallest domain count, or 0 while there are
///   fewer domains than `minDomains`.
/// - PreScore (ScheduleAnyway constraints): Skip when there are none or the snapshot has no
///   node. Candidates missing a key are ignored (score 0) unless the constraints are the system
///   defaults. Domains are the key values of the other candidates; their pods are counted on
///   every node of the snapshot. Each constraint's weight is ln(size + 2).
/// - Score: round(Σ count·weight + (maxSkew − 1)), the hostname key counting the node's own pods.
/// - NormalizeScore: 100·(max + min − raw) / max over the non-ignored nodes (100 when max is 0).
///
/// System default constraints (`Defaulting.system`, kube's default) apply to a pod without
/// constraints of its own: hostname maxSkew 3 and zone maxSkew 5, both ScheduleAnyway, with the
/// selector `defaultSelector` gives for the pod. kube builds it from the pod's Services,
/// ReplicationControllers, ReplicaSets and StatefulSets; kubelab has no Services, and the default
/// `ownerSelector` uses the pod's own labels when its controller is a ReplicaSet, StatefulSet or
/// ReplicationController (see there). A pod for which no selector can be built gets no default
/// constraint, as upstream.
public final class PodTopologySpread: PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin {
    public let name = "PodTopologySpread"

    /// kube-scheduler's Filter reason when a constraint's skew would exceed maxSkew.
    public static let errReasonConstraintsNotMatch = "node(s) didn't match pod topology spread constraints"
    /// kube-scheduler's Filter reason when the node lacks a constraint's topology key.
    public static let errReasonNodeLabelNotMatch = errReasonConstraintsNotMatch + " (missing required label)"

    /// `kubernetes.io/hostname`: its domains are single nodes, counted in Score.
    public static let hostnameKey = "kubernetes.io/hostname"
    /// `topology.kubernetes.io/zone`.
    public static let zoneKey = "topology.kubernetes.io/zone"

    /// kube-scheduler's `systemDefaultConstraints`.
    public static let systemDefaultConstraints: [TopologySpreadConstraint] = [
        TopologySpreadConstraint(maxSkew: 3, topologyKey: hostnameKey, whenUnsatisfiable: "ScheduleAnyway"),
        TopologySpreadConstraint(maxSkew: 5, topologyKey: zoneKey, whenUnsatisfiable: "ScheduleAnyway"),
    ]

    /// `PodTopologySpreadArgs.defaultingType` with its `defaultConstraints`.
    public enum Defaulting: Sendable, Equatable {
        /// The system defaults (`systemDefaultConstraints`); nodes without a zone label still
        /// get hostname spreading when only these apply.
        case system
        /// The profile's own default constraints (empty: none). Their label selectors are
        /// ignored: the selector comes from `defaultSelector`.
        case list([TopologySpreadConstraint])
    }

    /// How a pod without constraints of its own is spread.
    public let defaulting: Defaulting
    /// The selector the default constraints use for a pod (nil or `{}`: no default constraints).
    private let defaultSelector: (Pod) -> LabelSelector?

    /// - Parameters:
    ///   - defaulting: `.system` (kube-scheduler's default) or `.list` with the profile's
    ///     constraints.
    ///   - defaultSelector: the selector of the pod's workload for the default constraints;
    ///     `ownerSelector` unless the caller can look the owning ReplicaSet up.
    public init(defaulting: Defaulting = .system,
                defaultSelector: @escaping (Pod) -> LabelSelector? = PodTopologySpread.ownerSelector) {
        self.defaulting = defaulting
        self.defaultSelector = defaultSelector
    }

    /// kubelab's stand-in for kube's `helper.DefaultSelector`: when the pod's controller
    /// (`ownerReferences` with `controller: true`) is a ReplicaSet or StatefulSet (`apps/v1`) or a
    /// ReplicationController (`v1`), the pod's own labels as `matchLabels`, so the pods counted
    /// are those carrying all of them (a Deployment's pods of one revision: the template labels
    /// plus `pod-template-hash`). Otherwise nil: no default constraints.
    ///
    /// Upstream uses the owner's `spec.selector` (a subset of the pod's labels) merged with the
    /// selectors of the Services that select the pod; pass a closure to `init` that returns
    /// that when the owner can be looked up.
    public static func ownerSelector(_ pod: Pod) -> LabelSelector? {
        guard let owner = pod.metadata.controllerRef else { return nil }
        switch (owner.apiVersion, owner.kind) {
        case ("apps/v1", "ReplicaSet"), ("apps/v1", "StatefulSet"), ("v1", "ReplicationController"):
            return pod.metadata.labels.isEmpty ? nil : LabelSelector(matchLabels: pod.metadata.labels)
        default:
            return nil
        }
    }

    private var defaultConstraints: [TopologySpreadConstraint] {
        switch defaulting {
        case .system: return Self.systemDefaultConstraints
        case .list(let list): return list
        }
    }

    private var systemDefaulted: Bool { defaulting == .system }

    // MARK: - Constraints

    /// A constraint with its selector parsed and its defaults filled in.
    struct Constraint {
        var maxSkew: Int
        var topologyKey: String
        var selector: LabelSelectorMatcher
        var minDomains: Int
        var nodeAffinityPolicy: NodeInclusionPolicy
        var nodeTaintsPolicy: NodeInclusionPolicy

        /// Whether the node counts for this constraint (`matchNodeInclusionPolicies`).
        func includes(_ node: Node, _ pod: Pod, _ required: RequiredNodeAffinity) -> Bool {
            if nodeAffinityPolicy == .honor && !required.matches(node) { return false }
            if nodeTaintsPolicy == .honor && pod.hasUntoleratedScheduleTaint(on: node) { return false }
            return true
        }
    }

    /// `filterTopologySpreadConstraints`: the constraints with `whenUnsatisfiable == action`.
    private func parse(_ constraints: [TopologySpreadConstraint], _ podLabels: [String: String],
                       _ action: String) throws(LabelSelectorMatcher.ParseError) -> [Constraint] {
        var out: [Constraint] = []
        for c in constraints where c.whenUnsatisfiable == action {
            var selector = try LabelSelectorMatcher(parsing: c.labelSelector)
            let keyed = c.matchLabelKeys.compactMap { key in
                podLabels[key].map { LabelSelectorMatcher.Requirement(key: key, op: .in, values: [$0]) }
            }
            if !keyed.isEmpty { selector = selector.adding(keyed) }
            out.append(Constraint(maxSkew: c.maxSkew, topologyKey: c.topologyKey, selector: selector,
                                  minDomains: c.minDomains ?? 1, nodeAffinityPolicy: c.nodeAffinityPolicy ?? .honor,
                                  nodeTaintsPolicy: c.nodeTaintsPolicy ?? .ignore))
        }
        return out
    }

    /// `buildDefaultConstraints`: the default constraints of `action`, all with the pod's default
    /// selector; none when that selector is missing, empty or does not parse.
    private func defaults(_ pod: Pod, _ action: String) -> [Constraint] {
        guard let parsed = try? parse(defaultConstraints.map { var c = $0; c.labelSelector = nil; return c },
                                      pod.metadata.labels, action), !parsed.isEmpty,
              let selector = try? LabelSelectorMatcher(parsing: defaultSelector(pod)), !selector.isEmpty,
              selector.requirements != nil
        else { return [] }
        return parsed.map { var c = $0; c.selector = selector; return c }
    }

    /// The pod's constraints of `action`, or the defaults when it has none.
    func constraints(_ pod: Pod, _ action: String) throws(LabelSelectorMatcher.ParseError) -> [Constraint] {
        if !pod.spec.topologySpreadConstraints.isEmpty {
            return try parse(pod.spec.topologySpreadConstraints, pod.metadata.labels, action)
        }
        return defaults(pod, action)
    }

    /// `countPodsMatchSelector`: same namespace, not terminating, matching; 0 for an empty
    /// selector.
    static func countMatching(_ pods: [Pod], _ selector: LabelSelectorMatcher, namespace: String) -> Int {
        if selector.isEmpty { return 0 }
        var n = 0
        for p in pods where !p.isTerminating && p.metadata.namespace == namespace && selector.matches(p.metadata.labels) {
            n += 1
        }
        return n
    }

    private static func hasAllKeys(_ labels: [String: String], _ constraints: [Constraint]) -> Bool {
        constraints.allSatisfy { labels[$0.topologyKey] != nil }
    }

    // MARK: - PreFilter / Filter

    static let preFilterKey = "PreFilterPodTopologySpread"

    /// What PreFilter leaves for Filter.
    struct PreFilterState {
        var constraints: [Constraint] = []
        /// Per constraint: domain (topology value) → matching pods, with a 0 entry for every
        /// domain of a counted node.
        var counts: [[String: Int]] = []

        /// The global minimum of constraint `i`: the smallest domain count, or 0 while there are
        /// fewer domains than minDomains.
        func minMatch(_ i: Int) -> Int {
            if counts[i].count < constraints[i].minDomains { return 0 }
            return counts[i].values.min() ?? 0
        }
    }

    /// `calPreFilterState` over `nodes` (every node of the snapshot).
    func preFilterState(_ pod: Pod, _ nodes: [NodeInfo]) throws(LabelSelectorMatcher.ParseError) -> PreFilterState {
        let constraints = try constraints(pod, "DoNotSchedule")
        if constraints.isEmpty { return PreFilterState() }
        var s = PreFilterState(constraints: constraints, counts: Array(repeating: [:], count: constraints.count))
        let required = RequiredNodeAffinity(pod)
        for info in nodes {
            let labels = info.node.metadata.labels
            guard Self.hasAllKeys(labels, constraints) else { continue }
            for (i, c) in constraints.enumerated() where c.includes(info.node, pod, required) {
                let value = labels[c.topologyKey] ?? ""
                s.counts[i][value, default: 0] += Self.countMatching(info.pods, c.selector, namespace: pod.metadata.namespace)
            }
        }
        return s
    }

    /// kube-scheduler's PreFilter: counts the matching pods of every DoNotSchedule constraint
    /// per domain over `nodes`, which must be every node of the snapshot.
    ///
    /// - Returns: Skip when the pod has no DoNotSchedule constraint; Error when a selector does
    ///   not parse; otherwise Success. Never narrows the nodes.
    public func runPreFilter(_ state: CycleState, _ pod: Pod, _ nodes: [NodeInfo]) -> (nodeNames: [String]?, status: Status) {
        do {
            let s = try preFilterState(pod, nodes)
            if s.constraints.isEmpty { return (nil, Status(.skip, plugin: name)) }
            state[Self.preFilterKey] = s
            return (nil, .success)
        } catch {
            return (nil, Status(.error, ["get constraints from pod: \(error.message)"], plugin: name))
        }
    }

    /// Checks every DoNotSchedule constraint on the node. When PreFilter did not run it is
    /// computed here over `state.allNodes`.
    public func filter(_ state: CycleState, _ pod: Pod, _ node: NodeInfo) -> Status {
        let s: PreFilterState
        if let saved = state[Self.preFilterKey] as? PreFilterState {
            s = saved
        } else {
            do { s = try preFilterState(pod, state.allNodes) } catch {
                return Status(.error, ["get constraints from pod: \(error.message)"], plugin: name)
            }
            state[Self.preFilterKey] = s
        }
        let labels = node.node.metadata.labels
        for (i, c) in s.constraints.enumerated() {
            guard let value = labels[c.topologyKey] else {
                return Status(.unschedulableAndUnresolvable, [Self.errReasonNodeLabelNotMatch], plugin: name)
            }
            let selfMatch = c.selector.matches(pod.metadata.labels) ? 1 : 0
            let skew = (s.counts[i][value] ?? 0) + selfMatch - s.minMatch(i)
            if skew > c.maxSkew {
                return Status(.unschedulable, [Self.errReasonConstraintsNotMatch], plugin: name)
            }
        }
        return .success
    }

    // MARK: - PreScore / Score / NormalizeScore

    static let preScoreKey = "PreScorePodTopologySpread"

    /// What PreScore leaves for Score and NormalizeScore.
    struct PreScoreState {
        var constraints: [Constraint] = []
        /// Candidates that miss a topology key: they score 0.
        var ignoredNodes: Set<String> = []
        /// Per constraint (empty for the hostname key): domain → matching pods, one entry per
        /// domain of a non-ignored candidate.
        var domainCounts: [[String: Int64]] = []
        /// Per constraint: ln(number of domains + 2).
        var weights: [Double] = []
    }

    /// kube-scheduler's PreScore over the feasible `nodes`; pods are counted over every node of
    /// `state.allNodes` (the feasible nodes when that is empty).
    ///
    /// - Returns: Skip when the pod has no ScheduleAnyway constraint (after the defaults) or
    ///   there is no node; Error when a selector does not parse; otherwise Success.
    public func preScore(_ state: CycleState, _ pod: Pod, _ nodes: FeasibleNodes) -> Status {
        let allNodes = state.allNodes.isEmpty ? Array(nodes) : state.allNodes
        if allNodes.isEmpty { return Status(.skip, plugin: name) }
        let requireAllTopologies = !pod.spec.topologySpreadConstraints.isEmpty || !systemDefaulted
        var s = PreScoreState()
        do { s.constraints = try constraints(pod, "ScheduleAnyway") } catch {
            return Status(.error, ["calculating preScoreState: \(error.message)"], plugin: name)
        }
        if s.constraints.isEmpty { return Status(.skip, plugin: name) }
        s.domainCounts = Array(repeating: [:], count: s.constraints.count)
        for info in nodes {
            let labels = info.node.metadata.labels
            if requireAllTopologies && !Self.hasAllKeys(labels, s.constraints) {
                s.ignoredNodes.insert(info.name)
                continue
            }
            for (i, c) in s.constraints.enumerated() where c.topologyKey != Self.hostnameKey {
                let value = labels[c.topologyKey] ?? ""
                if s.domainCounts[i][value] == nil { s.domainCounts[i][value] = 0 }
            }
        }
        s.weights = s.constraints.enumerated().map { i, c in
            let size = c.topologyKey == Self.hostnameKey ? nodes.count - s.ignoredNodes.count : s.domainCounts[i].count
            return log(Double(size + 2))
        }
        let required = RequiredNodeAffinity(pod)
        for info in allNodes {
            let labels = info.node.metadata.labels
            if requireAllTopologies && !Self.hasAllKeys(labels, s.constraints) { continue }
            for (i, c) in s.constraints.enumerated() where c.includes(info.node, pod, required) {
                let value = labels[c.topologyKey] ?? ""
                guard let current = s.domainCounts[i][value] else { continue }
                let n = Self.countMatching(info.pods, c.selector, namespace: pod.metadata.namespace)
                s.domainCounts[i][value] = current + Int64(n)
            }
        }
        state[Self.preScoreKey] = s
        return .success
    }

    /// The raw score: round(Σ count·weight + (maxSkew − 1)) over the constraints whose key the
    /// node has; 0 for an ignored node. Error when PreScore did not run.
    public func score(_ state: CycleState, _ pod: Pod, _ node: NodeInfo) -> (Int64, Status) {
        guard let s = state[Self.preScoreKey] as? PreScoreState else {
            return (0, Status(.error, ["reading \"\(Self.preScoreKey)\" from cycleState: not found"], plugin: name))
        }
        if s.ignoredNodes.contains(node.name) { return (0, .success) }
        let labels = node.node.metadata.labels
        var score = 0.0
        for (i, c) in s.constraints.enumerated() {
            guard let value = labels[c.topologyKey] else { continue }
            let count: Int64
            if c.topologyKey == Self.hostnameKey {
                count = Int64(Self.countMatching(node.pods, c.selector, namespace: pod.metadata.namespace))
            } else {
                count = s.domainCounts[i][value] ?? 0
            }
            score += Double(count) * s.weights[i] + Double(c.maxSkew - 1)
        }
        return (Int64(score.rounded(.toNearestOrAwayFromZero)), .success)
    }

    public var normalizes: Bool { true }

    /// Fewer matching pods score higher: 100·(max + min − raw) / max (truncating) over the
    /// non-ignored nodes, 100 for all of them when max is 0; ignored nodes get 0.
    public func normalize(_ state: CycleState, _ pod: Pod, _ scores: inout [(node: String, score: Int64)]) -> Status {
        guard let s = state[Self.preScoreKey] as? PreScoreState else { return .success }
        var minScore = Int64.max
        var maxScore: Int64 = 0
        for entry in scores where !s.ignoredNodes.contains(entry.node) {
            minScore = min(minScore, entry.score)
            maxScore = max(maxScore, entry.score)
        }
        for i in scores.indices {
            if s.ignoredNodes.contains(scores[i].node) {
                scores[i].score = 0
            } else if maxScore == 0 {
                scores[i].score = maxNodeScore
            } else {
                scores[i].score = maxNodeScore * (maxScore + minScore - scores[i].score) / maxScore
            }
        }
        return .success
    }
}
