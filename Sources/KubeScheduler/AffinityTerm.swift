import KubeAPI

/// A pod (anti-)affinity term parsed as kube-scheduler's `framework.AffinityTerm`: the
/// namespaces it looks in, its label selector and namespace selector, and its topology key.
struct AffinityTerm {
    /// With neither `namespaces` nor `namespaceSelector` in the spec: the owning pod's namespace.
    var namespaces: Set<String>
    var selector: LabelSelectorMatcher
    /// nil in the spec gives `nothing`, `{}` gives `everything`.
    var namespaceSelector: LabelSelectorMatcher
    var topologyKey: String

    /// `newAffinityTerm`. `matchLabelKeys` / `mismatchLabelKeys` are ANDed into a non-nil label
    /// selector as `key In / NotIn [owner's value]`, which kube-apiserver does when the pod is
    /// created.
    init(_ term: PodAffinityTerm, of owner: Pod) throws(LabelSelectorMatcher.ParseError) {
        var selector = try LabelSelectorMatcher(parsing: term.labelSelector)
        if term.labelSelector != nil {
            let labels = owner.metadata.labels
            var extra: [LabelSelectorMatcher.Requirement] = []
            for key in term.matchLabelKeys { if let v = labels[key] { extra.append(.init(key: key, op: .in, values: [v])) } }
            for key in term.mismatchLabelKeys { if let v = labels[key] { extra.append(.init(key: key, op: .notIn, values: [v])) } }
            if !extra.isEmpty { selector = selector.adding(extra) }
        }
        self.selector = selector
        if term.namespaces.isEmpty && term.namespaceSelector == nil {
            namespaces = [owner.metadata.namespace]
        } else {
            namespaces = Set(term.namespaces)
        }
        namespaceSelector = try LabelSelectorMatcher(parsing: term.namespaceSelector)
        topologyKey = term.topologyKey
    }

    /// `AffinityTerm.Matches`: the pod is in one of the namespaces, or its namespace's labels
    /// match the namespace selector, and its labels match the selector.
    func matches(_ pod: Pod, namespaceLabels: [String: String]?) -> Bool {
        guard namespaces.contains(pod.metadata.namespace) || namespaceSelector.matches(namespaceLabels ?? [:]) else {
            return false
        }
        return selector.matches(pod.metadata.labels)
    }

    /// `mergeAffinityTermNamespacesIfNotEmpty`, for the incoming pod's terms: a namespace
    /// selector other than `{}` is replaced by the names of the known namespaces it matches.
    mutating func mergeNamespaces(_ known: [String: [String: String]]) {
        if namespaceSelector.isEmpty { return }
        for (name, labels) in known where namespaceSelector.matches(labels) { namespaces.insert(name) }
        namespaceSelector = .nothing
    }
}

/// A preferred term with its weight (`framework.WeightedAffinityTerm`).
struct WeightedAffinityTerm {
    var term: AffinityTerm
    var weight: Int64
}

/// A pod's four lists of affinity terms, parsed as `framework.NewPodInfo` does: a list with a
/// term that does not parse is left empty and its error kept (kube-scheduler ignores the errors
/// of existing pods and fails the incoming pod on them).
struct PodAffinityTerms {
    var requiredAffinity: [AffinityTerm] = []
    var requiredAntiAffinity: [AffinityTerm] = []
    var preferredAffinity: [WeightedAffinityTerm] = []
    var preferredAntiAffinity: [WeightedAffinityTerm] = []
    /// The parse errors, each prefixed with its list's name.
    var errors: [String] = []

    init(_ pod: Pod) {
        let affinity = pod.spec.affinity
        func parse(_ terms: [PodAffinityTerm], _ list: String) -> [AffinityTerm] {
            var out: [AffinityTerm] = []
            for t in terms {
                do { out.append(try AffinityTerm(t, of: pod)) } catch {
                    errors.append("\(list): \(error.message)")
                    return []
                }
            }
            return out
        }
        func parseWeighted(_ terms: [WeightedPodAffinityTerm], _ list: String) -> [WeightedAffinityTerm] {
            var out: [WeightedAffinityTerm] = []
            for t in terms {
                do { out.append(WeightedAffinityTerm(term: try AffinityTerm(t.term, of: pod), weight: Int64(t.weight))) } catch {
                    errors.append("\(list): \(error.message)")
                    return []
                }
            }
            return out
        }
        requiredAffinity = parse(affinity?.podAffinity?.required ?? [], "requiredAffinityTerms")
        requiredAntiAffinity = parse(affinity?.podAntiAffinity?.required ?? [], "requiredAntiAffinityTerms")
        preferredAffinity = parseWeighted(affinity?.podAffinity?.preferred ?? [], "preferredAffinityTerms")
        preferredAntiAffinity = parseWeighted(affinity?.podAntiAffinity?.preferred ?? [], "preferredAntiAffinityTerms")
    }

    /// The errors as Go's `utilerrors.NewAggregate` prints them; nil when every term parsed.
    var parseError: String? {
        switch errors.count {
        case 0: return nil
        case 1: return errors[0]
        default: return "[" + errors.joined(separator: ", ") + "]"
        }
    }

    /// Whether the pod has pod affinity or anti-affinity at all (NodeInfo's `PodsWithAffinity`).
    static func hasPodAffinity(_ pod: Pod) -> Bool {
        pod.spec.affinity?.podAffinity != nil || pod.spec.affinity?.podAntiAffinity != nil
    }
}
