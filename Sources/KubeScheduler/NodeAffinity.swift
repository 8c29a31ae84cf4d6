public import KubeAPI

/// kube-scheduler's NodeAffinity plugin (v1.35): Filter, Score and NormalizeScore. The
/// Swift type is `NodeAffinityFilter` because `NodeAffinity` is the API type of
/// `spec.affinity.nodeAffinity` (which this plugin also takes as its `addedAffinity`); its
/// `name` is kube-scheduler's, "NodeAffinity".
///
/// - Filter: first the profile's `addedAffinity.required` (failing: UnschedulableAndUnresolvable
///   "node(s) didn't match scheduler-enforced node affinity"); then the pod's
///   `nodeSelector` (every key=value exactly) AND its required terms (the OR of the terms);
///   failing: UnschedulableAndUnresolvable "node(s) didn't match Pod's node affinity/selector".
///   Term rules (empty term, invalid values, Gt/Lt, `metadata.name`) are
///   `NodeSelectorMatcher`'s.
/// - Score: the sum of the weights of the pod's preferred terms that the node matches, plus
///   those of `addedAffinity.preferred`. Terms with weight 0 or no requirements are dropped.
/// - NormalizeScore (not reversed): 100·raw / M with M the largest raw score; when M is 0
///   the scores stay 0.
///
/// PreFilter and PreScore exist as `preFilter(_:_:)` and `preScore(_:_:_:)` for a framework
/// that runs those extension points; `filter` and `score` compute what they need when they
/// were not run, as kube-scheduler's do.
public final class NodeAffinityFilter: FilterPlugin, ScorePlugin {
    public let name = "NodeAffinity"

    /// kube-scheduler's Filter reason for the pod's own node selector and affinity.
    public static let errReasonPod = "node(s) didn't match Pod's node affinity/selector"
    /// kube-scheduler's Filter reason for the profile's added affinity.
    public static let errReasonEnforced = "node(s) didn't match scheduler-enforced node affinity"
    /// kube-scheduler's PreFilter reason when the `metadata.name` terms leave no node.
    public static let errReasonConflict = "pod affinity terms conflict"

    /// The profile's `NodeAffinityArgs.addedAffinity`: required terms every pod of the
    /// profile must also match, and preferred terms added to every pod's.
    public let addedAffinity: NodeAffinity?
    private let addedRequired: NodeSelectorMatcher?
    private let addedPreferred: PreferredTerms?

    /// - Parameter addedAffinity: the profile's NodeAffinityArgs.addedAffinity, if any.
    ///   kube-scheduler rejects a configuration whose added terms do not parse; here such a
    ///   term matches nothing.
    public init(addedAffinity: NodeAffinity? = nil) {
        self.addedAffinity = addedAffinity
        addedRequired = addedAffinity?.required.map(NodeSelectorMatcher.init)
        let preferred = addedAffinity?.preferred ?? []
        addedPreferred = preferred.isEmpty ? nil : PreferredTerms(preferred)
    }

    // MARK: - PreFilter / Filter

    /// The pod's nodeSelector and required terms, parsed once per cycle.
    private struct Required {
        var nodeSelector: [String: String]
        var affinity: NodeSelectorMatcher?

        init(_ pod: Pod) {
            nodeSelector = pod.spec.nodeSelector
            affinity = pod.spec.affinity?.nodeAffinity?.required.map(NodeSelectorMatcher.init)
        }

        func matches(_ node: Node) -> Bool {
            let labels = node.metadata.labels
            if !nodeSelector.allSatisfy({ labels[$0.key] == $0.value }) { return false }
            return affinity?.matches(node) ?? true
        }
    }

    private func required(_ state: CycleState, _ pod: Pod) -> Required {
        let key = "PreFilter" + name
        if let r = state[key] as? Required { return r }
        let r = Required(pod)
        state[key] = r
        return r
    }

    /// kube-scheduler's PreFilter.
    ///
    /// - Returns: `status` is Skip when the pod has no required node affinity, no
    ///   nodeSelector and the profile adds no required affinity (Filter then has nothing
    ///   to check); UnschedulableAndUnresolvable "pod affinity terms conflict" when every
    ///   required term names nodes with `metadata.name In` and together they name none;
    ///   otherwise Success. `nodeNames`, sorted, are the only nodes worth filtering when
    ///   every required term carries `metadata.name In` requirements (the union over terms
    ///   of each term's intersection); nil means every node.
    public func preFilter(_ state: CycleState, _ pod: Pod) -> (nodeNames: [String]?, status: Status) {
        let requiredTerms = pod.spec.affinity?.nodeAffinity?.required
        if requiredTerms == nil && addedRequired == nil && pod.spec.nodeSelector.isEmpty {
            return (nil, Status(.skip, plugin: name))
        }
        _ = required(state, pod)
        guard let terms = requiredTerms, !terms.isEmpty else { return (nil, .success) }
        var union: Set<String> = []
        for term in terms {
            var termNames: Set<String>?
            for r in term.matchFields where r.key == "metadata.name" && r.operator == "In" {
                let s = Set(r.values)
                termNames = termNames.map { $0.intersection(s) } ?? s
            }
            // A term without a metadata.name In requirement lets every node through.
            guard let names = termNames else { return (nil, .success) }
            union.formUnion(names)
        }
        if union.isEmpty {
            return (nil, Status(.unschedulableAndUnresolvable, [Self.errReasonConflict], plugin: name))
        }
        return (union.sorted(), .success)
    }

    public func filter(_ state: CycleState, _ pod: Pod, _ node: NodeInfo) -> Status {
        if let added = addedRequired, !added.matches(node.node) {
            return Status(.unschedulableAndUnresolvable, [Self.errReasonEnforced], plugin: name)
        }
        if !required(state, pod).matches(node.node) {
            return Status(.unschedulableAndUnresolvable, [Self.errReasonPod], plugin: name)
        }
        return .success
    }

    // MARK: - PreScore / Score / NormalizeScore

    /// Parsed preferred terms (component-helpers `PreferredSchedulingTerms`).
    private struct PreferredTerms {
        var terms: [(term: NodeSelectorMatcher.Term, weight: Int64)] = []
        /// Why a term did not parse; kube-scheduler then fails PreScore with an Error.
        var parseError: String?

        init(_ preferred: [PreferredSchedulingTerm]) {
            for p in preferred {
                if p.weight == 0 || (p.preference.matchExpressions.isEmpty && p.preference.matchFields.isEmpty) {
                    continue
                }
                let t = NodeSelectorMatcher.Term(p.preference)
                if let why = t.parseError {
                    if parseError == nil { parseError = why }
                    continue
                }
                terms.append((t, Int64(p.weight)))
            }
        }

        func score(_ node: Node) -> Int64 {
            var s: Int64 = 0
            for t in terms where t.term.matches(node) { s += t.weight }
            return s
        }
    }

    /// What PreScore keeps in the cycle state: the pod's parsed preferred terms.
    private struct PreScoreState {
        /// nil when the pod has no preferred terms.
        var preferred: PreferredTerms?
    }

    /// The pod's preferred terms, parsed once per cycle; nil when it has none.
    private func podPreferred(_ state: CycleState, _ pod: Pod) -> PreferredTerms? {
        let key = "PreScore" + name
        if let s = state[key] as? PreScoreState { return s.preferred }
        let preferred = pod.spec.affinity?.nodeAffinity?.preferred ?? []
        let s = PreScoreState(preferred: preferred.isEmpty ? nil : PreferredTerms(preferred))
        state[key] = s
        return s.preferred
    }

    /// kube-scheduler's PreScore.
    ///
    /// - Returns: Skip when neither the pod nor the profile has preferred terms (Score then
    ///   adds nothing for this pod); Error when one of the pod's preferred terms does not
    ///   parse; otherwise Success.
    public func preScore(_ state: CycleState, _ pod: Pod, _ nodes: FeasibleNodes) -> Status {
        let preferred = podPreferred(state, pod)
        if let why = preferred?.parseError { return Status(.error, [why], plugin: name) }
        if preferred == nil && addedPreferred == nil { return Status(.skip, plugin: name) }
        return .success
    }

    /// The raw score: the weights of the matching preferred terms (the profile's and the pod's).
    public func score(_ state: CycleState, _ pod: Pod, _ node: NodeInfo) -> (Int64, Status) {
        var count: Int64 = 0
        if let added = addedPreferred { count += added.score(node.node) }
        if let preferred = podPreferred(state, pod) {
            if let why = preferred.parseError { return (0, Status(.error, [why], plugin: name)) }
            count += preferred.score(node.node)
        }
        return (count, .success)
    }

    public var normalizes: Bool { true }

    /// Scales the scores so that the best node gets 100; all-zero scores stay 0.
    public func normalize(_ state: CycleState, _ pod: Pod, _ scores: inout [(node: String, score: Int64)]) -> Status {
        PluginHelper.defaultNormalizeScore(maxNodeScore, reverse: false, &scores)
        return .success
    }
}
