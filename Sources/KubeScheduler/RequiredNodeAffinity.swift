import KubeAPI

/// component-helpers `nodeaffinity.GetRequiredNodeAffinity(pod)`: the pod's `nodeSelector`
/// (every key=value exactly) AND its required node affinity terms (the OR of the terms, each
/// parsed by `NodeSelectorMatcher`, so an empty or unparsable term matches nothing).
/// PodTopologySpread uses it for `nodeAffinityPolicy: Honor`.
struct RequiredNodeAffinity {
    let nodeSelector: [String: String]
    /// nil when the pod has no required node affinity (every node passes that part).
    let terms: NodeSelectorMatcher?

    init(_ pod: Pod) {
        nodeSelector = pod.spec.nodeSelector
        terms = pod.spec.affinity?.nodeAffinity?.required.map(NodeSelectorMatcher.init)
    }

    /// `RequiredNodeAffinity.Match`, parse errors ignored (they count as no match).
    func matches(_ node: Node) -> Bool {
        let labels = node.metadata.labels
        if !nodeSelector.allSatisfy({ labels[$0.key] == $0.value }) { return false }
        return terms?.matches(node) ?? true
    }
}

extension Pod {
    /// Whether the node has a NoSchedule or NoExecute taint none of the pod's tolerations
    /// tolerates (`v1helper.FindMatchingUntoleratedTaint` with the DoNotSchedule filter).
    func hasUntoleratedScheduleTaint(on node: Node) -> Bool {
        node.spec.taints.contains { taint in
            (taint.effect == .noSchedule || taint.effect == .noExecute)
                && !spec.tolerations.contains { $0.tolerates(taint) }
        }
    }
}
