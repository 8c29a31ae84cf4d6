public import KubeAPI

/// kube-scheduler's InterPodAffinity plugin (v1.35): PreFilter, Filter, PreScore, Score and
/// NormalizeScore, with `InterPodAffinityArgs` (`hardPodAffinityWeight`, default 1, and
/// `ignorePreferredTermsOfExistingPods`, default false).
///
/// A term matches a pod when the pod is in one of the term's namespaces (the owner's own
/// namespace when the term names none and has no namespace selector) or in a namespace whose
/// labels match the term's `namespaceSelector`, and the pod's labels match the term's label
/// selector (nil matches nothing, `{}` everything). kubelab has no Namespace objects: the
/// namespace labels come from `namespaceLabels`; a namespace not listed there has no labels and
/// is not found by a namespace selector of the incoming pod.
///
/// - PreFilter (over every node of the snapshot): counts per (topology key, value) the existing
///   pods whose required anti-affinity terms match the incoming pod, and the existing pods that
///   match the incoming pod's required affinity (all terms) and anti-affinity terms. Skip when
///   there is nothing to check; UnschedulableAndUnresolvable "parsing pod: ..." when one of the
///   incoming pod's terms does not parse.
/// - Filter, in this order: required affinity (UnschedulableAndUnresolvable "node(s) didn't
///   match pod affinity rules"; a node without every term's topology key fails; when no pod in
///   the cluster matches and the pod matches its own terms, any node with the keys passes);
///   required anti-affinity (Unschedulable "node(s) didn't match pod anti-affinity rules");
///   existing pods' anti-affinity (Unschedulable "node(s) didn't satisfy existing pods
///   anti-affinity rules").
/// - PreScore: for every existing pod on a node with labels, adds to the node's topology
///   domains the weights of the incoming pod's preferred affinity terms it matches (minus those
///   of the anti-affinity terms), `hardPodAffinityWeight` for each of its required affinity
///   terms the incoming pod matches, and the weights of its preferred affinity (minus
///   anti-affinity) terms the incoming pod matches. Skip when nothing was added, or when
///   `ignorePreferredTermsOfExistingPods` is set and the pod has no preferred terms; Error when a
///   term of the incoming pod does not parse.
/// - Score: the sum of the domain scores of the node's labels (may be negative).
/// - NormalizeScore: `Int64(100 · (Double(raw − min) / Double(max − min)))` over the scored
///   nodes, 0 for all when max = min; untouched when PreScore recorded no domain.
public final class InterPodAffinity: PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin {
    public let name = "InterPodAffinity"

    /// kube-scheduler's Filter reason for existing pods' required anti-affinity.
    public static let errReasonExistingAntiAffinityRulesNotMatch = "node(s) didn't satisfy existing pods anti-affinity rules"
    /// kube-scheduler's Filter reason for the incoming pod's required affinity.
    public static let errReasonAffinityRulesNotMatch = "node(s) didn't match pod affinity rules"
    /// kube-scheduler's Filter reason for the incoming pod's required anti-affinity.
    public static let errReasonAntiAffinityRulesNotMatch = "node(s) didn't match pod anti-affinity rules"

    /// The score an existing pod's required affinity term adds when the incoming pod matches it
    /// (`hardPodAffinityWeight`, 0...100; 0 switches this off).
    public let hardPodAffinityWeight: Int64
    /// Whether to skip scoring for a pod without preferred terms of its own, ignoring the
    /// preferred terms of existing pods toward it.
    public let ignorePreferredTermsOfExistingPods: Bool
    /// Namespace name → labels, for namespace selectors.
    public var namespaceLabels: [String: [String: String]]

    /// - Parameters:
    ///   - hardPodAffinityWeight: `InterPodAffinityArgs.hardPodAffinityWeight` (default 1).
    ///   - ignorePreferredTermsOfExistingPods: `InterPodAffinityArgs` field of that name.
    ///   - namespaceLabels: the labels of the cluster's namespaces, by name.
    public init(hardPodAffinityWeight: Int64 = 1, ignorePreferredTermsOfExistingPods: Bool = false,
                namespaceLabels: [String: [String: String]] = [:]) {
        self.hardPodAffinityWeight = hardPodAffinityWeight
        self.ignorePreferredTermsOfExistingPods = ignorePreferredTermsOfExistingPods
        self.namespaceLabels = namespaceLabels
    }

    /// A topology domain: a node label key and its value.
    struct TopologyPair: Hashable {
        var key: String
        var value: String
    }

    // MARK: - PreFilter / Filter

    static let preFilterKey = "PreFilterInterPodAffinity"

    /// What PreFilter leaves for Filter.
    struct PreFilterState {
        /// Existing pods whose required anti-affinity terms match the incoming pod.
        var existingAntiAffinityCounts: [TopologyPair: Int64] = [:]
        /// Existing pods that match all of the incoming pod's required affinity terms (one
        /// count per term whose key their node has).
        var affinityCounts: [TopologyPair: Int64] = [:]
        /// Existing pods that match the incoming pod's required anti-affinity terms.
        var antiAffinityCounts: [TopologyPair: Int64] = [:]
        /// The incoming pod's terms, namespace selectors merged.
        var terms: PodAffinityTerms
        var pod: Pod
        /// nil: PreFilter skips.
        var isSkip: Bool {
            existingAntiAffinityCounts.isEmpty && terms.requiredAffinity.isEmpty && terms.requiredAntiAffinity.isEmpty
        }
    }

    /// Adds `value` to the term's domain on `node`, when the node has the key.
    private static func add(_ m: inout [TopologyPair: Int64], _ node: Node, _ key: String, _ value: Int64) {
        guard let v = node.metadata.labels[key] else { return }
        m[TopologyPair(key: key, value: v), default: 0] += value
    }

    /// `podMatchesAllAffinityTerms` for the incoming pod's (namespace-merged) terms.
    private static func matchesAll(_ terms: [AffinityTerm], _ pod: Pod) -> Bool {
        !terms.isEmpty && terms.allSatisfy { $0.matches(pod, namespaceLabels: nil) }
    }

    /// The PreFilter state over `nodes`, or the status a failing parse gives.
    func preFilterState(_ pod: Pod, _ nodes: [NodeInfo]) -> Result<PreFilterState, ParseFailure> {
        var terms = PodAffinityTerms(pod)
        if let why = terms.parseError { return .failure(ParseFailure(message: "parsing pod: \(why)")) }
        for i in terms.requiredAffinity.indices { terms.requiredAffinity[i].mergeNamespaces(namespaceLabels) }
        for i in terms.requiredAntiAffinity.indices { terms.requiredAntiAffinity[i].mergeNamespaces(namespaceLabels) }
        let nsLabels = namespaceLabels[pod.metadata.namespace]
        var s = PreFilterState(terms: terms, pod: pod)
        let hasIncoming = !terms.requiredAffinity.isEmpty || !terms.requiredAntiAffinity.isEmpty
        // Without terms of its own, only existing pods with required anti-affinity matter:
        // when no node of the process holds a pod with affinity terms, none of these does.
        let scan = hasIncoming || NodeInfo.anyHoldsAffinityPods
        for i in scan ? nodes.indices : 0..<0 {
            // Without terms of its own, only existing pods with required anti-affinity matter
            // (checked in place: most nodes have none, and a copy of each costs).
            if !hasIncoming && nodes[i].podsWithRequiredAntiAffinity.isEmpty { continue }
            let info = nodes[i]
            let node = info.node
            for existing in hasIncoming ? info.pods : info.podsWithRequiredAntiAffinity {
                if existing.spec.affinity?.podAntiAffinity?.required.isEmpty == false {
                    for t in PodAffinityTerms(existing).requiredAntiAffinity where t.matches(pod, namespaceLabels: nsLabels) {
                        Self.add(&s.existingAntiAffinityCounts, node, t.topologyKey, 1)
                    }
                }
                guard hasIncoming else { continue }
                if Self.matchesAll(terms.requiredAffinity, existing) {
                    for t in terms.requiredAffinity { Self.add(&s.affinityCounts, node, t.topologyKey, 1) }
                }
                for t in terms.requiredAntiAffinity where t.matches(existing, namespaceLabels: nil) {
                    Self.add(&s.antiAffinityCounts, node, t.topologyKey, 1)
                }
            }
        }
        return .success(s)
    }

    /// A term of the incoming pod that does not parse.
    struct ParseFailure: Error {
        var message: String
    }

    /// kube-scheduler's PreFilter over `nodes`, which must be every node of the snapshot.
    ///
    /// - Returns: Skip when no existing pod's required anti-affinity matches the pod and the pod
    ///   has no required (anti-)affinity terms; UnschedulableAndUnresolvable "parsing pod: ..."
    ///   when one of the pod's terms does not parse; otherwise Success. Never narrows the nodes.
    public func runPreFilter(_ state: CycleState, _ pod: Pod, _ nodes: [NodeInfo]) -> (nodeNames: [String]?, status: Status) {
        switch preFilterState(pod, nodes) {
        case .failure(let f):
            return (nil, Status(.unschedulableAndUnresolvable, [f.message], plugin: name))
        case .success(let s):
            if s.isSkip { return (nil, Status(.skip, plugin: name)) }
            state[Self.preFilterKey] = s
            return (nil, .success)
        }
    }

    /// Checks the pod's required affinity, its required anti-affinity and the existing pods'
    /// anti-affinity on the node. When PreFilter did not run it is computed here over
    /// `state.allNodes`.
    public func filter(_ state: CycleState, _ pod: Pod, _ node: NodeInfo) -> Status {
        let s: PreFilterState
        if let saved = state[Self.preFilterKey] as? PreFilterState {
            s = saved
        } else {
            switch preFilterState(pod, state.allNodes) {
            case .failure(let f): return Status(.unschedulableAndUnresolvable, [f.message], plugin: name)
            case .success(let computed):
                if computed.isSkip { return .success }
                s = computed
                state[Self.preFilterKey] = s
            }
        }
        let labels = node.node.metadata.labels
        if !Self.satisfiesAffinity(s, labels) {
            return Status(.unschedulableAndUnresolvable, [Self.errReasonAffinityRulesNotMatch], plugin: name)
        }
        if !s.antiAffinityCounts.isEmpty {
            for t in s.terms.requiredAntiAffinity {
                if let v = labels[t.topologyKey], (s.antiAffinityCounts[TopologyPair(key: t.topologyKey, value: v)] ?? 0) > 0 {
                    return Status(.unschedulable, [Self.errReasonAntiAffinityRulesNotMatch], plugin: name)
                }
            }
        }
        if !s.existingAntiAffinityCounts.isEmpty {
            for (key, value) in labels where (s.existingAntiAffinityCounts[TopologyPair(key: key, value: value)] ?? 0) > 0 {
                return Status(.unschedulable, [Self.errReasonExistingAntiAffinityRulesNotMatch], plugin: name)
            }
        }
        return .success
    }

    /// `satisfyPodAffinity`.
    private static func satisfiesAffinity(_ s: PreFilterState, _ labels: [String: String]) -> Bool {
        var podsExist = true
        for t in s.terms.requiredAffinity {
            guard let v = labels[t.topologyKey] else { return false }
            if (s.affinityCounts[TopologyPair(key: t.topologyKey, value: v)] ?? 0) <= 0 { podsExist = false }
        }
        if podsExist { return true }
        // The first pod of a group with affinity to itself: allowed when no pod in the cluster
        // matches and the pod matches its own terms.
        return s.affinityCounts.isEmpty && matchesAll(s.terms.requiredAffinity, s.pod)
    }

    // MARK: - PreScore / Score / NormalizeScore

    static let preScoreKey = "PreScoreInterPodAffinity"

    /// What PreScore leaves for Score: topology key → value → score.
    struct PreScoreState {
        var topologyScore: [String: [String: Int64]] = [:]
    }

    private static func process(_ m: inout [String: [String: Int64]], _ term: AffinityTerm, _ weight: Int64,
                                _ pod: Pod, _ nsLabels: [String: String]?, _ node: Node, _ multiplier: Int64) {
        guard term.matches(pod, namespaceLabels: nsLabels), let v = node.metadata.labels[term.topologyKey] else { return }
        m[term.topologyKey, default: [:]][v, default: 0] += weight * multiplier
    }

    /// kube-scheduler's PreScore; the existing pods are those of `state.allNodes` (the feasible
    /// `nodes` when that is empty).
    ///
    /// - Returns: Skip when `ignorePreferredTermsOfExistingPods` is set and the pod has no
    ///   preferred terms, or when no term contributed to any domain; Error "failed to parse pod:
    ///   ..." when one of the pod's terms does not parse; otherwise Success.
    public func preScore(_ state: CycleState, _ pod: Pod, _ nodes: FeasibleNodes) -> Status {
        let affinity = pod.spec.affinity
        let hasConstraints = affinity?.podAffinity?.preferred.isEmpty == false
            || affinity?.podAntiAffinity?.preferred.isEmpty == false
        if ignorePreferredTermsOfExistingPods && !hasConstraints { return Status(.skip, plugin: name) }
        var terms = PodAffinityTerms(pod)
        if let why = terms.parseError { return Status(.error, ["failed to parse pod: \(why)"], plugin: name) }
        for i in terms.preferredAffinity.indices { terms.preferredAffinity[i].term.mergeNamespaces(namespaceLabels) }
        for i in terms.preferredAntiAffinity.indices { terms.preferredAntiAffinity[i].term.mergeNamespaces(namespaceLabels) }
        let nsLabels = namespaceLabels[pod.metadata.namespace]
        var m: [String: [String: Int64]] = [:]
        let all = state.allNodes.isEmpty ? Array(nodes) : state.allNodes
        let scan = hasConstraints || NodeInfo.anyHoldsAffinityPods
        for i in scan ? all.indices : 0..<0 {
            if !hasConstraints && all[i].podsWithAffinity.isEmpty { continue }
            let info = all[i]
            let node = info.node
            if node.metadata.labels.isEmpty { continue }
            for existing in hasConstraints ? info.pods : info.podsWithAffinity {
                for w in terms.preferredAffinity { Self.process(&m, w.term, w.weight, existing, nil, node, 1) }
                for w in terms.preferredAntiAffinity { Self.process(&m, w.term, w.weight, existing, nil, node, -1) }
                guard PodAffinityTerms.hasPodAffinity(existing) else { continue }
                let theirs = PodAffinityTerms(existing)
                if hardPodAffinityWeight > 0 {
                    for t in theirs.requiredAffinity { Self.process(&m, t, hardPodAffinityWeight, pod, nsLabels, node, 1) }
                }
                for w in theirs.preferredAffinity { Self.process(&m, w.term, w.weight, pod, nsLabels, node, 1) }
                for w in theirs.preferredAntiAffinity { Self.process(&m, w.term, w.weight, pod, nsLabels, node, -1) }
            }
        }
        if m.isEmpty { return Status(.skip, plugin: name) }
        state[Self.preScoreKey] = PreScoreState(topologyScore: m)
        return .success
    }

    /// The raw score: the sum over the recorded topology keys the node has of its domain's
    /// score. Error when PreScore did not run.
    public func score(_ state: CycleState, _ pod: Pod, _ node: NodeInfo) -> (Int64, Status) {
        guard let s = state[Self.preScoreKey] as? PreScoreState else {
            return (0, Status(.error, ["failed to read \"\(Self.preScoreKey)\" from cycleState: not found"], plugin: name))
        }
        var score: Int64 = 0
        for (key, values) in s.topologyScore {
            if let v = node.node.metadata.labels[key] { score += values[v] ?? 0 }
        }
        return (score, .success)
    }

    public var normalizes: Bool { true }

    /// Min-max scaling as kube-scheduler does it in float64, truncated: the best node gets 100,
    /// the worst 0; all 0 when every node scored the same.
    public func normalize(_ state: CycleState, _ pod: Pod, _ scores: inout [(node: String, score: Int64)]) -> Status {
        guard let s = state[Self.preScoreKey] as? PreScoreState, !s.topologyScore.isEmpty else { return .success }
        var minCount = Int64.max
        var maxCount = Int64.min
        for entry in scores {
            minCount = min(minCount, entry.score)
            maxCount = max(maxCount, entry.score)
        }
        let diff = maxCount &- minCount
        for i in scores.indices {
            var f = 0.0
            if diff > 0 { f = Double(maxNodeScore) * (Double(scores[i].score - minCount) / Double(diff)) }
            scores[i].score = Int64(f)
        }
        return .success
    }
}
