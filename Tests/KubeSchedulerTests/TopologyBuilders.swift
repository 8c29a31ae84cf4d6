import KubeAPI
import KubeScheduler
import SimCore

// Builders in the spirit of kube-scheduler's st.MakePod() / st.MakeNode() wrappers, for the
// PodTopologySpread and InterPodAffinity tables. Upstream test pods without a namespace share
// the namespace ""; here they share "default".

/// A pod in `namespace` with no containers (`st.MakePod().Name(name)`).
func tpod(_ name: String = "p", namespace: String = "default") -> Pod {
    Pod(metadata: ObjectMeta(name: name, namespace: namespace))
}

/// `st.MakeNode().Name(name).Label(...)...`.
func tnode(_ name: String, _ labels: [String: String] = [:], taints: [Taint] = []) -> Node {
    var n = Node(metadata: ObjectMeta(name: name, labels: labels))
    n.spec.taints = taints
    return n
}

/// `cache.NewSnapshot(pods, nodes)`: the nodes in the given order with the pods that name them
/// (pods on a node that is not listed are left out).
func snapshot(_ nodes: [Node], _ pods: [Pod]) -> [NodeInfo] {
    nodes.map { n in NodeInfo(node: n, pods: pods.filter { $0.spec.nodeName == n.metadata.name }) }
}

/// `st.MakeLabelSelector().Exists(key)`.
func exists(_ key: String) -> LabelSelector {
    LabelSelector(matchExpressions: [LabelSelectorRequirement(key: key, operator: .exists)])
}

/// The upstream tests' `taints`: node.kubernetes.io/unschedulable:NoSchedule.
let unschedulableTaint = Taint(key: "node.kubernetes.io/unschedulable", effect: .noSchedule)

extension Pod {
    func label(_ key: String, _ value: String) -> Pod { var p = self; p.metadata.labels[key] = value; return p }
    func on(_ node: String) -> Pod { var p = self; p.spec.nodeName = node; return p }
    func inNamespace(_ ns: String) -> Pod { var p = self; p.metadata.namespace = ns; return p }
    /// `.Terminating()`: a deletion timestamp.
    func terminating() -> Pod { var p = self; p.metadata.deletionTimestamp = SimTime(nanoseconds: 1); return p }
    func nodeSelector(_ s: [String: String]) -> Pod { var p = self; p.spec.nodeSelector = s; return p }

    /// `.SpreadConstraint(maxSkew, key, when, selector, minDomains, affinityPolicy, taintsPolicy, matchLabelKeys)`.
    func spread(_ maxSkew: Int, _ key: String, _ when: String, _ selector: LabelSelector?, minDomains: Int? = nil,
                affinityPolicy: NodeInclusionPolicy? = nil, taintsPolicy: NodeInclusionPolicy? = nil,
                matchLabelKeys: [String] = []) -> Pod {
        var p = self
        p.spec.topologySpreadConstraints.append(TopologySpreadConstraint(
            maxSkew: maxSkew, topologyKey: key, whenUnsatisfiable: when, labelSelector: selector, minDomains: minDomains,
            matchLabelKeys: matchLabelKeys, nodeAffinityPolicy: affinityPolicy, nodeTaintsPolicy: taintsPolicy))
        return p
    }

    /// `.NodeAffinityIn(key, values, st.NodeSelectorTypeMatchExpressions)` / `.NodeAffinityNotIn(key, values)`.
    func nodeAffinity(_ key: String, _ op: String, _ values: [String]) -> Pod {
        var p = self
        let term = NodeSelectorTerm(matchExpressions: [NodeSelectorRequirement(key: key, operator: op, values: values)])
        var affinity = p.spec.affinity ?? Affinity()
        affinity.nodeAffinity = NodeAffinity(required: [term])
        p.spec.affinity = affinity
        return p
    }

    /// `.Toleration(key)`: key Exists, effect NoSchedule.
    func tolerating(_ key: String) -> Pod {
        var p = self
        p.spec.tolerations.append(Toleration(key: key, operator: .exists, effect: .noSchedule))
        return p
    }

    /// `.OwnerReference(name, apps/v1 ReplicaSet)`.
    func ownedByReplicaSet(_ name: String) -> Pod {
        var p = self
        p.metadata.ownerReferences = [OwnerReference(apiVersion: "apps/v1", kind: "ReplicaSet", name: name, uid: name)]
        return p
    }

    /// Appends a required or preferred pod (anti-)affinity term.
    func podAffinity(anti: Bool = false, _ term: PodAffinityTerm, weight: Int? = nil) -> Pod {
        var p = self
        var affinity = p.spec.affinity ?? Affinity()
        var pa = (anti ? affinity.podAntiAffinity : affinity.podAffinity) ?? PodAffinity()
        if let weight { pa.preferred.append(WeightedPodAffinityTerm(weight: weight, term: term)) } else { pa.required.append(term) }
        if anti { affinity.podAntiAffinity = pa } else { affinity.podAffinity = pa }
        p.spec.affinity = affinity
        return p
    }

    /// `.PodAffinityIn(labelKey, topologyKey, values, st.PodAffinityWithRequiredReq)` and its
    /// anti-affinity / Exists / NotIn siblings.
    func required(anti: Bool = false, _ labelKey: String, _ op: LabelSelectorOperator, _ values: [String] = [],
                  topologyKey: String) -> Pod {
        podAffinity(anti: anti, PodAffinityTerm(labelSelector: LabelSelector(matchExpressions: [
            LabelSelectorRequirement(key: labelKey, operator: op, values: values),
        ]), topologyKey: topologyKey))
    }

    func affinity(_ a: Affinity?) -> Pod { var p = self; p.spec.affinity = a; return p }
}

/// A pod affinity term with match expressions.
func aterm(_ reqs: [LabelSelectorRequirement], _ topologyKey: String, namespaces: [String] = [],
          namespaceSelector: LabelSelector? = nil) -> PodAffinityTerm {
    PodAffinityTerm(labelSelector: LabelSelector(matchExpressions: reqs), namespaces: namespaces,
                    topologyKey: topologyKey, namespaceSelector: namespaceSelector)
}

func sreq(_ key: String, _ op: LabelSelectorOperator, _ values: [String] = []) -> LabelSelectorRequirement {
    LabelSelectorRequirement(key: key, operator: op, values: values)
}
