import Testing
import KubeAPI
@testable import KubeScheduler

// Tables ported from kube-scheduler's pkg/scheduler/framework/plugins/interpodaffinity
// (filtering_test.go, scoring_test.go). Upstream's test pods without a namespace share the
// namespace ""; here they share "default" (and a term naming "" names "default").

/// The namespaces of upstream's `namespaces` test objects.
private let testNamespaces: [String: [String: String]] = [
    "subteam1.team1": ["team": "team1"], "subteam2.team1": ["team": "team1"],
    "subteam1.team2": ["team": "team2"], "subteam2.team2": ["team": "team2"],
]

private let team1 = LabelSelector(matchExpressions: [sreq("team", .in, ["team1"])])
private let podLabel = ["service": "securityscan"]
private let podLabel2 = ["security": "S1"]

private func labeled(_ labels: [String: String], _ namespace: String = "default") -> Pod {
    var p = tpod("", namespace: namespace)
    p.metadata.labels = labels
    return p
}

/// upstream's `createPodWithAffinityTerms`.
private func podWithTerms(_ namespace: String, _ labels: [String: String], affinity: [PodAffinityTerm] = [],
                          anti: [PodAffinityTerm] = []) -> Pod {
    var p = labeled(labels, namespace)
    p.spec.affinity = Affinity(podAffinity: PodAffinity(required: affinity), podAntiAffinity: PodAffinity(required: anti))
    return p
}

private let u = Code.unschedulable, uu = Code.unschedulableAndUnresolvable

struct InterPodAffinityTests {
    // MARK: - Filter

    struct FilterCase: Sendable, CustomTestStringConvertible {
        let name: String
        let pod: Pod
        var pods: [Pod] = []
        let nodes: [Node]
        /// PreFilter's code (Success when unset) and, on failure, its message.
        var wantPreFilter: Code = .success
        var wantPreFilterMessage: String? = nil
        /// Filter's status per node (nil: success), when PreFilter succeeded.
        var want: [(Code, String)?] = []
        var testDescription: String { name }
    }

    private static let affinityReason = InterPodAffinity.errReasonAffinityRulesNotMatch
    private static let antiReason = InterPodAffinity.errReasonAntiAffinityRulesNotMatch
    private static let existingReason = InterPodAffinity.errReasonExistingAntiAffinityRulesNotMatch
    private static let node1 = tnode("node1", ["region": "r1", "zone": "z11"])
    /// upstream's `pod`: service=securityscan on node1.
    private static let existing = labeled(podLabel).on("node1")
    private static let badValueMessage = "parsing pod: requiredAffinityTerms: values[0][service]: Invalid value: "
        + "\"{{.bad-value.}}\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' "
        + "or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', "
        + "regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"

    // kube-scheduler TestRequiredAffinitySingleNode (filtering_test.go), every case.
    static let singleNodeCases: [FilterCase] = [
        FilterCase(name: "A pod that has no required pod affinity scheduling rules can schedule onto a node with no existing pods",
                   pod: tpod(), nodes: [node1], wantPreFilter: .skip),
        FilterCase(name: "satisfies with requiredDuringSchedulingIgnoredDuringExecution in PodAffinity using In operator that matches the existing pod",
                   pod: labeled(podLabel2).required("service", .in, ["securityscan", "value2"], topologyKey: "region"),
                   pods: [existing], nodes: [node1], want: [nil]),
        FilterCase(name: "satisfies the pod with requiredDuringSchedulingIgnoredDuringExecution in PodAffinity using not in operator in labelSelector that matches the existing pod",
                   pod: labeled(podLabel2).required("service", .notIn, ["securityscan3", "value3"], topologyKey: "region"),
                   pods: [existing], nodes: [node1], want: [nil]),
        FilterCase(name: "Does not satisfy the PodAffinity with labelSelector because of diff Namespace",
                   pod: podWithTerms("default", podLabel2, affinity: [
                       aterm([sreq("service", .in, ["securityscan", "value2"])], "", namespaces: ["DiffNameSpace"]),
                   ]),
                   pods: [labeled(podLabel, "ns").on("node1")], nodes: [node1], want: [(uu, affinityReason)]),
        FilterCase(name: "Doesn't satisfy the PodAffinity because of unmatching labelSelector with the existing pod",
                   pod: labeled(podLabel).required("service", .in, ["antivirusscan", "value2"], topologyKey: ""),
                   pods: [existing], nodes: [node1], want: [(uu, affinityReason)]),
        FilterCase(name: "satisfies the PodAffinity with different label Operators in multiple RequiredDuringSchedulingIgnoredDuringExecution ",
                   pod: podWithTerms("default", podLabel2, affinity: [
                       aterm([sreq("service", .exists), sreq("wrongkey", .doesNotExist)], "region"),
                       aterm([sreq("service", .in, ["securityscan"]), sreq("service", .notIn, ["WrongValue"])], "region"),
                   ]),
                   pods: [existing], nodes: [node1], want: [nil]),
        FilterCase(name: "The labelSelector requirements(items of matchExpressions) are ANDed, the pod cannot schedule onto the node because one of the matchExpression item don't match.",
                   pod: podWithTerms("default", podLabel2, affinity: [
                       aterm([sreq("service", .exists), sreq("wrongkey", .doesNotExist)], "region"),
                       aterm([sreq("service", .in, ["securityscan2"]), sreq("service", .notIn, ["WrongValue"])], "region"),
                   ]),
                   pods: [existing], nodes: [node1], want: [(uu, affinityReason)]),
        FilterCase(name: "satisfies the PodAffinity and PodAntiAffinity with the existing pod",
                   pod: labeled(podLabel2).required("service", .in, ["securityscan", "value2"], topologyKey: "region")
                       .required(anti: true, "service", .in, ["antivirusscan", "value2"], topologyKey: "node"),
                   pods: [existing], nodes: [node1], want: [nil]),
        FilterCase(name: "satisfies the PodAffinity and PodAntiAffinity and PodAntiAffinity symmetry with the existing pod",
                   pod: labeled(podLabel2).required("service", .in, ["securityscan", "value2"], topologyKey: "region")
                       .required(anti: true, "service", .in, ["antivirusscan", "value2"], topologyKey: "node"),
                   pods: [labeled(podLabel).on("node1").required(anti: true, "service", .in, ["antivirusscan", "value2"], topologyKey: "node")],
                   nodes: [node1], want: [nil]),
        FilterCase(name: "satisfies the PodAffinity but doesn't satisfy the PodAntiAffinity with the existing pod",
                   pod: labeled(podLabel2).required("service", .in, ["securityscan", "value2"], topologyKey: "region")
                       .required(anti: true, "service", .in, ["securityscan", "value2"], topologyKey: "zone"),
                   pods: [existing], nodes: [node1], want: [(u, antiReason)]),
        FilterCase(name: "satisfies the PodAffinity and PodAntiAffinity but doesn't satisfy PodAntiAffinity symmetry with the existing pod",
                   pod: labeled(podLabel).required("service", .in, ["securityscan", "value2"], topologyKey: "region")
                       .required(anti: true, "service", .in, ["antivirusscan", "value2"], topologyKey: "node"),
                   pods: [labeled(podLabel).on("node1").required(anti: true, "service", .in, ["securityscan", "value2"], topologyKey: "zone")],
                   nodes: [node1], want: [(u, existingReason)]),
        FilterCase(name: "pod matches its own Label in PodAffinity and that matches the existing pod Labels",
                   pod: labeled(podLabel).required("service", .notIn, ["securityscan", "value2"], topologyKey: "region"),
                   pods: [labeled(["service": "securityscan"]).on("node2")], nodes: [node1], want: [(uu, affinityReason)]),
        FilterCase(name: "verify that PodAntiAffinity from existing pod is respected when pod has no AntiAffinity constraints. doesn't satisfy PodAntiAffinity symmetry with the existing pod",
                   pod: labeled(podLabel),
                   pods: [labeled(podLabel).on("node1").required(anti: true, "service", .in, ["securityscan", "value2"], topologyKey: "zone")],
                   nodes: [node1], want: [(u, existingReason)]),
        FilterCase(name: "verify that PodAntiAffinity from existing pod is respected when pod has no AntiAffinity constraints. satisfy PodAntiAffinity symmetry with the existing pod",
                   pod: labeled(podLabel),
                   pods: [labeled(podLabel).on("node1").required(anti: true, "service", .notIn, ["securityscan", "value2"], topologyKey: "zone")],
                   nodes: [node1], wantPreFilter: .skip),
        FilterCase(name: "satisfies the PodAntiAffinity with existing pod but doesn't satisfy PodAntiAffinity symmetry with incoming pod",
                   pod: labeled(podLabel).required(anti: true, "service", .exists, topologyKey: "region")
                       .required(anti: true, "security", .exists, topologyKey: "region"),
                   pods: [labeled(podLabel2).on("node1").required(anti: true, "security", .exists, topologyKey: "zone")],
                   nodes: [node1], want: [(u, antiReason)]),
        FilterCase(name: "PodAntiAffinity symmetry check a1: incoming pod and existing pod partially match each other on AffinityTerms",
                   pod: labeled(podLabel).required(anti: true, "service", .exists, topologyKey: "zone")
                       .required(anti: true, "security", .exists, topologyKey: "zone"),
                   pods: [labeled(podLabel2).on("node1").required(anti: true, "security", .exists, topologyKey: "zone")],
                   nodes: [node1], want: [(u, antiReason)]),
        FilterCase(name: "PodAntiAffinity symmetry check a2: incoming pod and existing pod partially match each other on AffinityTerms",
                   pod: labeled(podLabel2).required(anti: true, "security", .exists, topologyKey: "zone"),
                   pods: [labeled(podLabel).on("node1").required(anti: true, "service", .exists, topologyKey: "zone")
                       .required(anti: true, "security", .exists, topologyKey: "zone")],
                   nodes: [node1], want: [(u, existingReason)]),
        FilterCase(name: "PodAntiAffinity symmetry check b1: incoming pod and existing pod partially match each other on AffinityTerms",
                   pod: labeled(["abc": "", "xyz": ""]).required(anti: true, "abc", .exists, topologyKey: "zone")
                       .required(anti: true, "def", .exists, topologyKey: "zone"),
                   pods: [labeled(["def": "", "xyz": ""]).on("node1").required(anti: true, "abc", .exists, topologyKey: "zone")
                       .required(anti: true, "def", .exists, topologyKey: "zone")],
                   nodes: [node1], want: [(u, antiReason)]),
        FilterCase(name: "PodAntiAffinity symmetry check b2: incoming pod and existing pod partially match each other on AffinityTerms",
                   pod: labeled(["def": "", "xyz": ""]).required(anti: true, "abc", .exists, topologyKey: "zone")
                       .required(anti: true, "def", .exists, topologyKey: "zone"),
                   pods: [labeled(["abc": "", "xyz": ""]).on("node1").required(anti: true, "abc", .exists, topologyKey: "zone")
                       .required(anti: true, "def", .exists, topologyKey: "zone")],
                   nodes: [node1], want: [(u, antiReason)]),
        FilterCase(name: "PodAffinity fails PreFilter with an invalid affinity label syntax",
                   pod: labeled(podLabel).required("service", .in, ["{{.bad-value.}}"], topologyKey: "region")
                       .required("service", .in, ["antivirusscan", "value2"], topologyKey: "node"),
                   nodes: [node1], wantPreFilter: .unschedulableAndUnresolvable, wantPreFilterMessage: badValueMessage),
        FilterCase(name: "PodAntiAffinity fails PreFilter with an invalid antiaffinity label syntax",
                   pod: labeled(podLabel).required("service", .in, ["foo"], topologyKey: "region")
                       .required("service", .in, ["{{.bad-value.}}"], topologyKey: "node"),
                   nodes: [node1], wantPreFilter: .unschedulableAndUnresolvable, wantPreFilterMessage: badValueMessage),
        FilterCase(name: "affinity with NamespaceSelector",
                   pod: podWithTerms("default", podLabel2, affinity: [
                       aterm([sreq("service", .in, ["securityscan", "value2"])], "region", namespaceSelector: team1),
                   ]),
                   pods: [labeled(podLabel, "subteam1.team1").on("node1")], nodes: [node1], want: [nil]),
        FilterCase(name: "affinity with non-matching NamespaceSelector",
                   pod: podWithTerms("default", podLabel2, affinity: [
                       aterm([sreq("service", .in, ["securityscan", "value2"])], "region", namespaceSelector: team1),
                   ]),
                   pods: [labeled(podLabel, "subteam1.team2").on("node1")], nodes: [node1], want: [(uu, affinityReason)]),
        FilterCase(name: "anti-affinity with matching NamespaceSelector",
                   pod: podWithTerms("subteam1.team1", podLabel2, anti: [
                       aterm([sreq("service", .in, ["securityscan", "value2"])], "zone", namespaceSelector: team1),
                   ]),
                   pods: [labeled(podLabel, "subteam2.team1").on("node1")], nodes: [node1], want: [(u, antiReason)]),
        FilterCase(name: "anti-affinity with matching all NamespaceSelector",
                   pod: podWithTerms("subteam1.team1", podLabel2, anti: [
                       aterm([sreq("service", .in, ["securityscan", "value2"])], "zone", namespaceSelector: LabelSelector()),
                   ]),
                   pods: [labeled(podLabel, "subteam2.team1").on("node1")], nodes: [node1], want: [(u, antiReason)]),
        FilterCase(name: "anti-affinity with non-matching NamespaceSelector",
                   pod: podWithTerms("subteam1.team1", podLabel2, anti: [
                       aterm([sreq("service", .in, ["securityscan", "value2"])], "zone", namespaceSelector: team1),
                   ]),
                   pods: [labeled(podLabel, "subteam1.team2").on("node1")], nodes: [node1], want: [nil]),
    ]

    private static let china = ["region": "China"], chinaAz1 = ["region": "China", "az": "az1"], india = ["region": "India"]
    private static func rzh(_ name: String, _ zone: String) -> Node {
        tnode(name, ["region": "r1", "zone": zone, "hostname": name])
    }

    // kube-scheduler TestRequiredAffinityMultipleNodes (filtering_test.go), every case.
    static let multipleNodesCases: [FilterCase] = [
        FilterCase(name: "A pod can be scheduled onto all the nodes that have the same topology key & label value with one of them has an existing pod that matches the affinity rules",
                   pod: tpod().required("foo", .in, ["bar"], topologyKey: "region"),
                   pods: [tpod("p1").on("node1").label("foo", "bar")],
                   nodes: [tnode("node1", china), tnode("node2", chinaAz1), tnode("node3", india)],
                   want: [nil, nil, (uu, affinityReason)]),
        FilterCase(name: "The affinity rule is to schedule all of the pods of this collection to the same zone. The first pod of the collection should not be blocked from being scheduled onto any node, even there's no existing pod that matches the rule anywhere.",
                   pod: labeled(["foo": "bar", "service": "securityscan"]).required("foo", .in, ["bar"], topologyKey: "zone")
                       .required("service", .in, ["securityscan"], topologyKey: "zone"),
                   pods: [tpod("p1").on("nodeA").label("foo", "bar")],
                   nodes: [tnode("nodeA", ["zone": "az1", "hostname": "h1"]), tnode("nodeB", ["zone": "az2", "hostname": "h2"])],
                   want: [nil, nil]),
        FilterCase(name: "The first pod of the collection can only be scheduled on nodes labelled with the requested topology keys",
                   pod: labeled(["foo": "bar", "service": "securityscan"]).required("foo", .in, ["bar"], topologyKey: "zone")
                       .required("service", .in, ["securityscan"], topologyKey: "zone"),
                   pods: [tpod("p1").on("nodeA").label("foo", "bar")],
                   nodes: [tnode("nodeA", ["zoneLabel": "az1", "hostname": "h1"]), tnode("nodeB", ["zoneLabel": "az2", "hostname": "h2"])],
                   want: [(uu, affinityReason), (uu, affinityReason)]),
        FilterCase(name: "NodeA and nodeB have same topologyKey and label value. NodeA has an existing pod that matches the inter pod affinity rule. The pod can not be scheduled onto nodeA and nodeB.",
                   pod: tpod().required(anti: true, "foo", .in, ["abc"], topologyKey: "region"),
                   pods: [labeled(["foo": "abc"]).on("nodeA")],
                   nodes: [tnode("nodeA", ["region": "r1", "hostname": "nodeA"]), tnode("nodeB", ["region": "r1", "hostname": "nodeB"])],
                   want: [(u, antiReason), (u, antiReason)]),
        FilterCase(name: "This test ensures that anti-affinity matches a pod when any term of the anti-affinity rule matches a pod.",
                   pod: tpod().required(anti: true, "foo", .in, ["abc"], topologyKey: "region")
                       .required(anti: true, "service", .in, ["securityscan"], topologyKey: "zone"),
                   pods: [labeled(["foo": "abc", "service": "securityscan"]).on("nodeA")],
                   nodes: [rzh("nodeA", "z1"), rzh("nodeB", "z2")], want: [(u, antiReason), (u, antiReason)]),
        FilterCase(name: "NodeA and nodeB have same topologyKey and label value. NodeA has an existing pod that matches the inter pod affinity rule. The pod can not be scheduled onto nodeA and nodeB but can be scheduled onto nodeC",
                   pod: tpod().required(anti: true, "foo", .in, ["abc"], topologyKey: "region"),
                   pods: [labeled(["foo": "abc"]).on("nodeA")],
                   nodes: [tnode("nodeA", china), tnode("nodeB", chinaAz1), tnode("nodeC", india)],
                   want: [(u, antiReason), (u, antiReason), nil]),
        FilterCase(name: "NodeA and nodeB have same topologyKey and label value. NodeA has an existing pod that matches the inter pod affinity rule. The pod can not be scheduled onto nodeA, nodeB, but can be scheduled onto nodeC (NodeC has an existing pod that match the inter pod affinity rule but in different namespace)",
                   pod: labeled(["foo": "123"], "NS1").required(anti: true, "foo", .in, ["bar"], topologyKey: "region"),
                   pods: [labeled(["foo": "bar"], "NS1").on("nodeA"),
                          tpod("", namespace: "NS2").on("nodeC").required(anti: true, "foo", .in, ["123"], topologyKey: "region")],
                   nodes: [tnode("nodeA", china), tnode("nodeB", chinaAz1), tnode("nodeC", india)],
                   want: [(u, antiReason), (u, antiReason), nil]),
        FilterCase(name: "Test existing pod's anti-affinity: if an existing pod has a term with invalid topologyKey, labelSelector of the term is firstly checked, and then topologyKey of the term is also checked",
                   pod: labeled(["foo": ""]),
                   pods: [tpod().on("nodeA").required(anti: true, "foo", .exists, topologyKey: "invalid-node-label")],
                   nodes: [rzh("nodeA", "z1"), rzh("nodeB", "z1")], wantPreFilter: .skip),
        FilterCase(name: "Test incoming pod's anti-affinity: even if labelSelector matches, we still check if topologyKey matches",
                   pod: tpod().on("nodeA").required(anti: true, "foo", .exists, topologyKey: "invalid-node-label"),
                   pods: [labeled(["foo": ""]).on("nodeA")],
                   nodes: [rzh("nodeA", "z1"), rzh("nodeB", "z1")], want: [nil, nil]),
        FilterCase(name: "Test existing pod's anti-affinity: incoming pod wouldn't considered as a fit as it violates each existingPod's terms on all nodes",
                   pod: labeled(["foo": "", "bar": ""]),
                   pods: [tpod().on("nodeA").required(anti: true, "foo", .exists, topologyKey: "zone"),
                          tpod().on("nodeA").required(anti: true, "bar", .exists, topologyKey: "region")],
                   nodes: [rzh("nodeA", "z1"), rzh("nodeB", "z2")], want: [(u, existingReason), (u, existingReason)]),
        FilterCase(name: "Test incoming pod's anti-affinity: incoming pod wouldn't considered as a fit as it at least violates one anti-affinity rule of existingPod",
                   pod: tpod().required(anti: true, "foo", .exists, topologyKey: "zone")
                       .required(anti: true, "bar", .exists, topologyKey: "region"),
                   pods: [labeled(["foo": ""]).on("nodeA"), labeled(["bar": ""]).on("nodeB")],
                   nodes: [rzh("nodeA", "z1"), rzh("nodeB", "z2")], want: [(u, antiReason), (u, antiReason)]),
        FilterCase(name: "Test existing pod's anti-affinity: only when labelSelector and topologyKey both match, it's counted as a single term match - case when one term has invalid topologyKey",
                   pod: labeled(["foo": "", "bar": ""]),
                   pods: [tpod().on("nodeA").required(anti: true, "foo", .exists, topologyKey: "invalid-node-label")
                       .required(anti: true, "bar", .exists, topologyKey: "zone")],
                   nodes: [rzh("nodeA", "z1"), rzh("nodeB", "z2")], want: [(u, existingReason), nil]),
        FilterCase(name: "Test incoming pod's anti-affinity: only when labelSelector and topologyKey both match, it's counted as a single term match - case when one term has invalid topologyKey",
                   pod: tpod().required(anti: true, "foo", .exists, topologyKey: "invalid-node-label")
                       .required(anti: true, "bar", .exists, topologyKey: "zone"),
                   pods: [tpod("podA").on("nodeA").label("foo", "").label("bar", "")],
                   nodes: [rzh("nodeA", "z1"), rzh("nodeB", "z2")], want: [(u, antiReason), nil]),
        FilterCase(name: "Test existing pod's anti-affinity: only when labelSelector and topologyKey both match, it's counted as a single term match - case when all terms have valid topologyKey",
                   pod: labeled(["foo": "", "bar": ""]),
                   pods: [tpod().on("nodeA").required(anti: true, "foo", .exists, topologyKey: "region")
                       .required(anti: true, "bar", .exists, topologyKey: "zone")],
                   nodes: [rzh("nodeA", "z1"), rzh("nodeB", "z2")], want: [(u, existingReason), (u, existingReason)]),
        FilterCase(name: "Test incoming pod's anti-affinity: only when labelSelector and topologyKey both match, it's counted as a single term match - case when all terms have valid topologyKey",
                   pod: tpod().required(anti: true, "foo", .exists, topologyKey: "region")
                       .required(anti: true, "bar", .exists, topologyKey: "zone"),
                   pods: [labeled(["foo": "", "bar": ""]).on("nodeA")],
                   nodes: [rzh("nodeA", "z1"), rzh("nodeB", "z2")], want: [(u, antiReason), (u, antiReason)]),
        FilterCase(name: "Test existing pod's anti-affinity: existingPod on nodeA and nodeB has at least one anti-affinity term matches incoming pod, so incoming pod can only be scheduled to nodeC",
                   pod: labeled(["foo": "", "bar": ""]),
                   pods: [tpod().on("nodeA").required(anti: true, "foo", .exists, topologyKey: "zone")
                              .required(anti: true, "labelA", .exists, topologyKey: "zone"),
                          tpod().on("nodeB").required(anti: true, "bar", .exists, topologyKey: "zone")
                              .required(anti: true, "labelB", .exists, topologyKey: "zone")],
                   nodes: [rzh("nodeA", "z1"), rzh("nodeB", "z2"), rzh("nodeC", "z3")],
                   want: [(u, existingReason), (u, existingReason), nil]),
        FilterCase(name: "Test incoming pod's affinity: firstly check if all affinityTerms match, and then check if all topologyKeys match",
                   pod: tpod().required("foo", .exists, topologyKey: "region").required("bar", .exists, topologyKey: "zone"),
                   pods: [tpod("pod1").on("nodeA").label("foo", "").label("bar", "")],
                   nodes: [rzh("nodeA", "z1"), rzh("nodeB", "z1")], want: [nil, nil]),
        FilterCase(name: "Test incoming pod's affinity: firstly check if all affinityTerms match, and then check if all topologyKeys match, and the match logic should be satisfied on the same pod",
                   pod: tpod().required("foo", .exists, topologyKey: "region").required("bar", .exists, topologyKey: "zone"),
                   pods: [tpod("pod1").on("nodeA").label("foo", ""), tpod("pod2").on("nodeB").label("bar", "")],
                   nodes: [rzh("nodeA", "z1"), rzh("nodeB", "z2")], want: [(uu, affinityReason), (uu, affinityReason)]),
    ]

    private func runFilter(_ c: FilterCase, namespaces: [String: [String: String]]) {
        let plugin = InterPodAffinity(namespaceLabels: namespaces)
        let state = CycleState()
        let infos = snapshot(c.nodes, c.pods)
        let (names, pre) = plugin.runPreFilter(state, c.pod, infos)
        #expect(names == nil)
        #expect(pre.code == c.wantPreFilter)
        if let message = c.wantPreFilterMessage { #expect(pre.reasons == [message]) }
        guard pre.code == .success else { return }
        for (info, want) in zip(infos, c.want) {
            let got = plugin.filter(state, c.pod, info)
            if let (code, reason) = want {
                #expect(got == Status(code, [reason], plugin: "InterPodAffinity"), "\(info.name)")
            } else {
                #expect(got == .success, "\(info.name)")
            }
        }
        #expect(c.want.count == infos.count)
    }

    @Test(arguments: singleNodeCases)
    func requiredAffinitySingleNode(_ c: FilterCase) { runFilter(c, namespaces: testNamespaces) }

    @Test(arguments: multipleNodesCases)
    func requiredAffinityMultipleNodes(_ c: FilterCase) { runFilter(c, namespaces: ["NS1": [:]]) }

    /// Without PreFilter (a caller that only filters), Filter computes it over `state.allNodes`.
    @Test func filterWithoutPreFilter() {
        let plugin = InterPodAffinity()
        let pod = tpod().required(anti: true, "foo", .in, ["abc"], topologyKey: "region")
        let infos = snapshot([tnode("nodeA", ["region": "r1"]), tnode("nodeB", ["region": "r2"])],
                             [labeled(["foo": "abc"]).on("nodeA")])
        let state = CycleState()
        state.allNodes = infos
        #expect(infos.map { plugin.filter(state, pod, $0).code } == [.unschedulable, .success])
        #expect(plugin.filter(CycleState(), tpod(), infos[0]) == .success)
    }

    // MARK: - PreFilter counts

    struct CountsCase: Sendable, CustomTestStringConvertible {
        let name: String
        var pods: [Pod] = []
        let pod: Pod
        /// (key, value, count) of the affinity and anti-affinity counts.
        let wantAffinity: [String: Int64]
        let wantAntiAffinity: [String: Int64]
        var testDescription: String { name }
    }

    private static func normal(_ labels: String...) -> Pod {
        labels.reduce(tpod("normal").on("nodeA")) { $0.label($1, "") }
    }

    // kube-scheduler TestGetTPMapMatchingIncomingAffinityAntiAffinity (filtering_test.go), every
    // case; counts are keyed "key=value".
    static let countsCases: [CountsCase] = [
        CountsCase(name: "nil test", pod: tpod("aaa-normal"), wantAffinity: [:], wantAntiAffinity: [:]),
        CountsCase(name: "incoming pod without affinity/anti-affinity causes a no-op", pods: [normal("aaa")],
                   pod: tpod("aaa-normal"), wantAffinity: [:], wantAntiAffinity: [:]),
        CountsCase(name: "no pod has label that violates incoming pod's affinity and anti-affinity", pods: [normal("bbb")],
                   pod: tpod("aaa-anti").required("aaa", .exists, topologyKey: "hostname")
                       .required(anti: true, "aaa", .exists, topologyKey: "hostname"),
                   wantAffinity: [:], wantAntiAffinity: [:]),
        CountsCase(name: "existing pod matches incoming pod's affinity and anti-affinity - single term case", pods: [normal("aaa")],
                   pod: tpod("affi-antiaffi").required("aaa", .exists, topologyKey: "hostname")
                       .required(anti: true, "aaa", .exists, topologyKey: "hostname"),
                   wantAffinity: ["hostname=nodeA": 1], wantAntiAffinity: ["hostname=nodeA": 1]),
        CountsCase(name: "existing pod matches incoming pod's affinity and anti-affinity - multiple terms case",
                   pods: [normal("aaa", "bbb")],
                   pod: tpod("affi-antiaffi").required("aaa", .exists, topologyKey: "hostname")
                       .required("bbb", .exists, topologyKey: "hostname")
                       .required(anti: true, "aaa", .exists, topologyKey: "hostname"),
                   wantAffinity: ["hostname=nodeA": 2], wantAntiAffinity: ["hostname=nodeA": 1]),
        CountsCase(name: "existing pod not match incoming pod's affinity but matches anti-affinity", pods: [normal("aaa")],
                   pod: tpod("affi-antiaffi").required("aaa", .exists, topologyKey: "hostname")
                       .required("bbb", .exists, topologyKey: "hostname")
                       .required(anti: true, "aaa", .exists, topologyKey: "hostname")
                       .required(anti: true, "bbb", .exists, topologyKey: "hostname"),
                   wantAffinity: [:], wantAntiAffinity: ["hostname=nodeA": 1]),
        CountsCase(name: "incoming pod's anti-affinity has more than one term - existing pod violates partial term - case 1",
                   pods: [normal("aaa", "bbb")],
                   pod: tpod("anaffi-antiaffiti").required("aaa", .exists, topologyKey: "hostname")
                       .required("ccc", .exists, topologyKey: "hostname")
                       .required(anti: true, "aaa", .exists, topologyKey: "hostname")
                       .required(anti: true, "ccc", .exists, topologyKey: "hostname"),
                   wantAffinity: [:], wantAntiAffinity: ["hostname=nodeA": 1]),
        CountsCase(name: "incoming pod's anti-affinity has more than one term - existing pod violates partial term - case 2",
                   pods: [normal("bbb")],
                   pod: tpod("affi-antiaffi").required("aaa", .exists, topologyKey: "hostname")
                       .required("bbb", .exists, topologyKey: "hostname")
                       .required(anti: true, "aaa", .exists, topologyKey: "hostname")
                       .required(anti: true, "bbb", .exists, topologyKey: "hostname"),
                   wantAffinity: [:], wantAntiAffinity: ["hostname=nodeA": 1]),
    ]

    @Test(arguments: countsCases)
    func incomingAffinityAntiAffinityCounts(_ c: CountsCase) throws {
        let infos = snapshot([tnode("nodeA", ["hostname": "nodeA"])], c.pods)
        guard case .success(let s) = InterPodAffinity().preFilterState(c.pod, infos) else {
            Issue.record("PreFilter failed")
            return
        }
        func flat(_ m: [InterPodAffinity.TopologyPair: Int64]) -> [String: Int64] {
            Dictionary(uniqueKeysWithValues: m.map { ("\($0.key.key)=\($0.key.value)", $0.value) })
        }
        #expect(flat(s.affinityCounts) == c.wantAffinity)
        #expect(flat(s.antiAffinityCounts) == c.wantAntiAffinity)
    }

    // MARK: - Score

    struct ScoreCase: Sendable, CustomTestStringConvertible {
        let name: String
        let pod: Pod
        var pods: [Pod] = []
        let nodes: [Node]
        var hardPodAffinityWeight: Int64 = 1
        var ignorePreferredTermsOfExistingPods = false
        /// PreScore's code; on Success, the normalized scores in `nodes` order.
        var wantStatus: Code = .success
        var wantMessage: String? = nil
        var want: [Int64] = []
        var testDescription: String { name }
    }

    private static func preferred(anti: Bool = false, _ weight: Int, _ reqs: [LabelSelectorRequirement], _ key: String,
                                  namespaces: [String] = [], namespaceSelector: LabelSelector? = nil) -> PodAffinity {
        PodAffinity(preferred: [WeightedPodAffinityTerm(weight: weight, term: aterm(reqs, key, namespaces: namespaces,
                                                                                     namespaceSelector: namespaceSelector))])
    }

    private static let s1 = ["security": "S1"], s2 = ["security": "S2"]
    private static let az1 = ["az": "az1"], az2 = ["az": "az2"]
    private static let stayWithS1InRegion = Affinity(podAffinity: preferred(5, [sreq("security", .in, ["S1"])], "region"))
    private static let stayWithS2InRegion = Affinity(podAffinity: preferred(6, [sreq("security", .in, ["S2"])], "region"))
    private static let affinity3 = Affinity(podAffinity: PodAffinity(preferred: [
        WeightedPodAffinityTerm(weight: 8, term: aterm([sreq("security", .notIn, ["S1"]), sreq("security", .in, ["S2"])], "region")),
        WeightedPodAffinityTerm(weight: 2, term: aterm([sreq("security", .exists), sreq("wrongkey", .doesNotExist)], "region")),
    ]))
    private static let hardAffinity = Affinity(podAffinity: PodAffinity(required: [
        aterm([sreq("security", .in, ["S1", "value2"])], "region"),
        aterm([sreq("security", .exists), sreq("wrongkey", .doesNotExist)], "region"),
    ]))
    private static let awayFromS1InAz = Affinity(podAntiAffinity: preferred(5, [sreq("security", .in, ["S1"])], "az"))
    private static let awayFromS2InAz = Affinity(podAntiAffinity: preferred(5, [sreq("security", .in, ["S2"])], "az"))
    private static let stayWithS1InRegionAwayFromS2InAz = Affinity(
        podAffinity: preferred(8, [sreq("security", .in, ["S1"])], "region"),
        podAntiAffinity: preferred(5, [sreq("security", .in, ["S2"])], "az"))
    private static let affinityNamespaceSelector = Affinity(podAffinity: preferred(
        5, [sreq("security", .in, ["S1"])], "region", namespaces: ["subteam2.team2"], namespaceSelector: team1))
    private static let antiAffinityNamespaceSelector = Affinity(podAntiAffinity: preferred(
        5, [sreq("security", .in, ["S1"])], "region", namespaces: ["subteam2.team2"], namespaceSelector: team1))
    private static let invalidAffinityLabels = Affinity(podAffinity: preferred(8, [sreq("security", .in, ["{{.bad-value.}}"])], "region"))
    private static let invalidAntiAffinityLabels = Affinity(podAntiAffinity: preferred(5, [sreq("security", .in, ["{{.bad-value.}}"])], "az"))

    private static func with(_ labels: [String: String], _ affinity: Affinity? = nil, on node: String? = nil,
                             namespace: String = "default") -> Pod {
        var p = labeled(labels, namespace).affinity(affinity)
        if let node { p = p.on(node) }
        return p
    }

    private static let ns1t1 = "subteam1.team1"
    private static let matchingPods = [with(s1, on: "node1", namespace: ns1t1), with(s1, on: "node1", namespace: ns1t1)]

    // kube-scheduler TestPreferredAffinity (scoring_test.go), every case.
    static let preferredCases: [ScoreCase] = [
        ScoreCase(name: "all nodes are same priority as Affinity is nil", pod: with(s1),
                  nodes: [tnode("node1", china), tnode("node2", india), tnode("node3", az1)], wantStatus: .skip),
        ScoreCase(name: "Affinity: pod that matches topology key & pods in nodes will get high score comparing to otherswhich doesn't match either pods in nodes or in topology key",
                  pod: with(s1, stayWithS1InRegion),
                  pods: [with(s1, on: "node1"), with(s2, on: "node2"), with(s1, on: "node3")],
                  nodes: [tnode("node1", china), tnode("node2", india), tnode("node3", az1)], want: [100, 0, 0]),
        ScoreCase(name: "All the nodes that have the same topology key & label value with one of them has an existing pod that match the affinity rules, have the same score",
                  pod: with([:], stayWithS1InRegion), pods: [with(s1, on: "node1")],
                  nodes: [tnode("node1", china), tnode("node2", chinaAz1), tnode("node3", india)], want: [100, 100, 0]),
        ScoreCase(name: "Affinity: nodes in one region has more matching pods comparing to other region, so the region which has more matches will get high score",
                  pod: with(s1, stayWithS2InRegion),
                  pods: ["node1", "node1", "node2", "node3", "node4", "node5"].map { with(s2, on: $0) },
                  nodes: [tnode("node1", china), tnode("node2", india), tnode("node3", china), tnode("node4", china),
                          tnode("node5", india)],
                  want: [100, 0, 100, 100, 0]),
        ScoreCase(name: "Affinity: different Label operators and values for pod affinity scheduling preference, including some match failures ",
                  pod: with(s1, affinity3), pods: [with(s1, on: "node1"), with(s2, on: "node2"), with(s1, on: "node3")],
                  nodes: [tnode("node1", china), tnode("node2", india), tnode("node3", az1)], want: [20, 100, 0]),
        ScoreCase(name: "Affinity symmetry: considered only the preferredDuringSchedulingIgnoredDuringExecution in pod affinity symmetry",
                  pod: with(s2), pods: [with(s1, stayWithS1InRegion, on: "node1"), with(s2, stayWithS2InRegion, on: "node2")],
                  nodes: [tnode("node1", china), tnode("node2", india), tnode("node3", az1)], want: [0, 100, 0]),
        ScoreCase(name: "Affinity symmetry with namespace selector",
                  pod: with(s1, namespace: ns1t1),
                  pods: [with(s1, affinityNamespaceSelector, on: "node1"), with(s2, stayWithS2InRegion, on: "node2")],
                  nodes: [tnode("node1", china), tnode("node2", india), tnode("node3", az1)], want: [100, 0, 0]),
        ScoreCase(name: "AntiAffinity symmetry with namespace selector",
                  pod: with(s1, namespace: ns1t1),
                  pods: [with(s1, antiAffinityNamespaceSelector, on: "node1"), with(s2, stayWithS2InRegion, on: "node2")],
                  nodes: [tnode("node1", china), tnode("node2", india), tnode("node3", az1)], want: [0, 100, 100]),
        ScoreCase(name: "Affinity symmetry: considered RequiredDuringSchedulingIgnoredDuringExecution in pod affinity symmetry",
                  pod: with(s1), pods: [with(s1, hardAffinity, on: "node1"), with(s2, hardAffinity, on: "node2")],
                  nodes: [tnode("node1", china), tnode("node2", india), tnode("node3", az1)], want: [100, 100, 0]),
        ScoreCase(name: "Anti Affinity: pod that does not match existing pods in node will get high score ",
                  pod: with(s1, awayFromS1InAz), pods: [with(s1, on: "node1"), with(s2, on: "node2")],
                  nodes: [tnode("node1", az1), tnode("node2", china)], want: [0, 100]),
        ScoreCase(name: "Anti Affinity: pod that does not match topology key & match the pods in nodes will get higher score comparing to others ",
                  pod: with(s1, awayFromS1InAz), pods: [with(s1, on: "node1"), with(s1, on: "node2")],
                  nodes: [tnode("node1", az1), tnode("node2", china)], want: [0, 100]),
        ScoreCase(name: "Anti Affinity: one node has more matching pods comparing to other node, so the node which has more unmatches will get high score",
                  pod: with(s1, awayFromS1InAz), pods: [with(s1, on: "node1"), with(s1, on: "node1"), with(s2, on: "node2")],
                  nodes: [tnode("node1", az1), tnode("node2", india)], want: [0, 100]),
        ScoreCase(name: "Anti Affinity symmetry: the existing pods in node which has anti affinity match will get high score",
                  pod: with(s2), pods: [with(s1, awayFromS2InAz, on: "node1"), with(s2, awayFromS1InAz, on: "node2")],
                  nodes: [tnode("node1", az1), tnode("node2", az2)], want: [0, 100]),
        ScoreCase(name: "Affinity and Anti Affinity: considered only preferredDuringSchedulingIgnoredDuringExecution in both pod affinity & anti affinity",
                  pod: with(s1, stayWithS1InRegionAwayFromS2InAz), pods: [with(s1, on: "node1"), with(s1, on: "node2")],
                  nodes: [tnode("node1", china), tnode("node2", az1)], want: [100, 0]),
        ScoreCase(name: "Affinity and Anti Affinity: considering both affinity and anti-affinity, the pod to schedule and existing pods have the same labels",
                  pod: with(s1, stayWithS1InRegionAwayFromS2InAz),
                  pods: ["node1", "node1", "node2", "node3", "node3", "node4", "node5"].map { with(s1, on: $0) },
                  nodes: [tnode("node1", chinaAz1), tnode("node2", india), tnode("node3", china), tnode("node4", china),
                          tnode("node5", india)],
                  want: [100, 0, 100, 100, 0]),
        ScoreCase(name: "Affinity and Anti Affinity and symmetry: considered only preferredDuringSchedulingIgnoredDuringExecution in both pod affinity & anti affinity & symmetry",
                  pod: with(s1, stayWithS1InRegionAwayFromS2InAz),
                  pods: [with(s1, on: "node1"), with(s2, on: "node2"), with([:], stayWithS1InRegionAwayFromS2InAz, on: "node3"),
                         with([:], awayFromS1InAz, on: "node4")],
                  nodes: [tnode("node1", china), tnode("node2", az1), tnode("node3", india), tnode("node4", az2)],
                  want: [100, 0, 100, 0]),
        ScoreCase(name: "Avoid panic when partial nodes in a topology don't have pods with affinity",
                  pod: with(s1), pods: [with(s1, on: "node1"), with([:], stayWithS1InRegionAwayFromS2InAz, on: "node2")],
                  nodes: [tnode("node1", china), tnode("node2", china)], want: [0, 0]),
        ScoreCase(name: "invalid Affinity fails PreScore", pod: with([:], invalidAffinityLabels),
                  nodes: [tnode("node1", china), tnode("node2", china)],
                  wantStatus: .error, wantMessage: "Invalid value: \"{{.bad-value.}}\""),
        ScoreCase(name: "invalid AntiAffinity fails PreScore", pod: with([:], invalidAntiAffinityLabels),
                  nodes: [tnode("node1", china), tnode("node2", china)],
                  wantStatus: .error, wantMessage: "Invalid value: \"{{.bad-value.}}\""),
        ScoreCase(name: "Affinity with pods matching NamespaceSelector",
                  pod: with(s1, affinityNamespaceSelector, namespace: ns1t1),
                  pods: matchingPods + [with(s1, on: "node1", namespace: "subteam1.team2"),
                                        with(s1, on: "node2", namespace: "subteam2.team1")],
                  nodes: [tnode("node1", china), tnode("node2", india)], want: [100, 0]),
        ScoreCase(name: "Affinity with pods matching both NamespaceSelector and Namespaces fields",
                  pod: with(s1, affinityNamespaceSelector, namespace: ns1t1),
                  pods: matchingPods + [with(s1, on: "node1", namespace: "subteam2.team2"),
                                        with(s1, on: "node2", namespace: "subteam2.team1")],
                  nodes: [tnode("node1", china), tnode("node2", india)], want: [100, 0]),
        ScoreCase(name: "Affinity with pods matching NamespaceSelector (anti-affinity)",
                  pod: with(s1, antiAffinityNamespaceSelector, namespace: ns1t1),
                  pods: matchingPods + [with(s1, on: "node1", namespace: "subteam1.team2"),
                                        with(s1, on: "node2", namespace: "subteam2.team1")],
                  nodes: [tnode("node1", china), tnode("node2", india)], want: [0, 100]),
        ScoreCase(name: "Affinity with pods matching both NamespaceSelector and Namespaces fields (anti-affinity)",
                  pod: with(s1, antiAffinityNamespaceSelector, namespace: ns1t1),
                  pods: matchingPods + [with(s1, on: "node1", namespace: "subteam2.team2"),
                                        with(s1, on: "node2", namespace: "subteam2.team1")],
                  nodes: [tnode("node1", china), tnode("node2", india)], want: [0, 100]),
        ScoreCase(name: "Ignore preferred terms of existing pods",
                  pod: with(s2),
                  pods: [with(s1, stayWithS1InRegionAwayFromS2InAz, on: "node1"), with(s2, stayWithS2InRegion, on: "node2")],
                  nodes: [tnode("node1", china), tnode("node2", india)], ignorePreferredTermsOfExistingPods: true,
                  wantStatus: .skip),
        ScoreCase(name: "Do not ignore preferred terms of existing pods",
                  pod: with(s2),
                  pods: [with(s1, stayWithS1InRegionAwayFromS2InAz, on: "node1"), with(s2, stayWithS2InRegion, on: "node2")],
                  nodes: [tnode("node1", china), tnode("node2", india)], want: [0, 100]),
        ScoreCase(name: "No nodes to score", pod: with(s2), nodes: [], wantStatus: .skip),
    ]

    private static let hardPodAffinity = Affinity(podAffinity: PodAffinity(required: [
        aterm([sreq("service", .in, ["S1"])], "region", namespaces: ["default", "subteam2.team2"], namespaceSelector: team1),
    ]))
    private static let hardNodes = [tnode("node1", china), tnode("node2", india), tnode("node3", az1)]
    private static let hardPods = [with([:], hardPodAffinity, on: "node1"), with([:], hardPodAffinity, on: "node2")]

    // kube-scheduler TestPreferredAffinityWithHardPodAffinitySymmetricWeight (scoring_test.go),
    // every case (the term's namespace "" is "default" here).
    static let hardWeightCases: [ScoreCase] = [
        ScoreCase(name: "with default weight", pod: with(["service": "S1"]), pods: hardPods, nodes: hardNodes,
                  want: [100, 100, 0]),
        ScoreCase(name: "with zero weight", pod: with(["service": "S1"]), pods: hardPods, nodes: hardNodes,
                  hardPodAffinityWeight: 0, wantStatus: .skip),
        ScoreCase(name: "with no matching namespace", pod: with(["service": "S1"], namespace: "subteam1.team2"),
                  pods: hardPods, nodes: hardNodes, wantStatus: .skip),
        ScoreCase(name: "with matching NamespaceSelector", pod: with(["service": "S1"], namespace: "subteam1.team1"),
                  pods: hardPods, nodes: hardNodes, want: [100, 100, 0]),
        ScoreCase(name: "with matching Namespaces", pod: with(["service": "S1"], namespace: "subteam2.team2"),
                  pods: hardPods, nodes: hardNodes, want: [100, 100, 0]),
    ]

    private func runScore(_ c: ScoreCase) {
        let plugin = InterPodAffinity(hardPodAffinityWeight: c.hardPodAffinityWeight,
                                      ignorePreferredTermsOfExistingPods: c.ignorePreferredTermsOfExistingPods,
                                      namespaceLabels: testNamespaces)
        let infos = snapshot(c.nodes, c.pods)
        let state = CycleState()
        state.allNodes = infos
        let pre = plugin.preScore(state, c.pod, infos)
        #expect(pre.code == c.wantStatus)
        if let m = c.wantMessage { #expect(pre.message.contains(m)) }
        guard pre.code == .success else { return }
        var list: [(node: String, score: Int64)] = infos.map { info in
            let (s, st) = plugin.score(state, c.pod, info)
            #expect(st.isSuccess)
            return (info.name, s)
        }
        #expect(plugin.normalize(state, c.pod, &list).isSuccess)
        #expect(list.map(\.node) == c.nodes.map(\.metadata.name))
        #expect(list.map(\.score) == c.want)
    }

    @Test(arguments: preferredCases)
    func preferredAffinity(_ c: ScoreCase) { runScore(c) }

    @Test(arguments: hardWeightCases)
    func preferredAffinityWithHardPodAffinitySymmetricWeight(_ c: ScoreCase) { runScore(c) }

    /// NormalizeScore is kube's float form: Int64(100 · (Double(raw − min) / Double(max − min))),
    /// so raw scores −5, 0, 1 give 0, 83, 100.
    @Test func normalizeIsMinMaxInFloat() {
        let plugin = InterPodAffinity()
        let state = CycleState()
        state[InterPodAffinity.preScoreKey] = InterPodAffinity.PreScoreState(topologyScore: ["zone": ["z1": 1]])
        var list: [(node: String, score: Int64)] = [("a", -5), ("b", 0), ("c", 1)]
        #expect(plugin.normalize(state, tpod(), &list).isSuccess)
        #expect(list.map(\.score) == [0, 83, 100])
    }

    /// kube-apiserver merges `matchLabelKeys` / `mismatchLabelKeys` into the term's selector;
    /// kubelab does it when the term is parsed.
    @Test func matchAndMismatchLabelKeys() {
        let plugin = InterPodAffinity()
        var t = aterm([sreq("app", .exists)], "zone")
        t.matchLabelKeys = ["version"]
        var pod = labeled(["app": "web", "version": "v2"]).podAffinity(anti: true, t)
        let nodes = [tnode("n1", ["zone": "z1"]), tnode("n2", ["zone": "z2"])]
        let infos = snapshot(nodes, [labeled(["app": "web", "version": "v1"]).on("n1"),
                                     labeled(["app": "web", "version": "v2"]).on("n2")])
        let state = CycleState()
        #expect(plugin.runPreFilter(state, pod, infos).status.isSuccess)
        #expect(infos.map { plugin.filter(state, pod, $0).code } == [.success, .unschedulable])
        t.matchLabelKeys = []
        t.mismatchLabelKeys = ["version"]
        pod = labeled(["app": "web", "version": "v2"]).podAffinity(anti: true, t)
        let state2 = CycleState()
        #expect(plugin.runPreFilter(state2, pod, infos).status.isSuccess)
        #expect(infos.map { plugin.filter(state2, pod, $0).code } == [.unschedulable, .success])
    }
}

/// Both plugins in a profile of their own, through `Framework.scheduleAll`: the framework runs
/// their PreFilter over every node and their PreScore with `CycleState.allNodes` set.
struct TopologyFrameworkTests {
    private static let nodes = ["a", "b", "c"].flatMap { zone in
        (1...2).map { i in tnode("n-\(zone)\(i)", ["topology.kubernetes.io/zone": zone, "kubernetes.io/hostname": "n-\(zone)\(i)"]) }
    }

    private static func profile() -> Framework {
        let spread = PodTopologySpread(), affinity = InterPodAffinity()
        return Framework(filters: [spread, affinity], scores: [(spread, 2), (affinity, 2)])
    }

    @Test func zoneSpreadPlacesTwoPodsPerZone() {
        let pods = (1...6).map { i in
            tpod("web-\(i)").label("app", "web")
                .spread(1, "topology.kubernetes.io/zone", "DoNotSchedule", LabelSelector(matchLabels: ["app": "web"]))
        }
        var seed: UInt64 = 7
        let out = Self.profile().scheduleAll(pods, nodes: Self.nodes) { seed = seed &* 6364136223846793005 &+ 1; return seed >> 33 }
        let zones = out.compactMap { $0.result.node?.dropFirst(2).prefix(1) }.map(String.init)
        #expect(zones.count == 6)
        #expect(["a", "b", "c"].map { z in zones.count { $0 == z } } == [2, 2, 2])
    }

    @Test func hostnameAntiAffinityPlacesOnePodPerNode() {
        let pods = (1...7).map { i in
            tpod("db-\(i)").label("app", "db").required(anti: true, "app", .in, ["db"], topologyKey: "kubernetes.io/hostname")
        }
        var seed: UInt64 = 11
        let out = Self.profile().scheduleAll(pods, nodes: Self.nodes) { seed = seed &* 6364136223846793005 &+ 1; return seed >> 33 }
        let placed = out.compactMap(\.result.node)
        #expect(placed.count == 6)
        #expect(Set(placed).count == 6)
        #expect(out.last?.result.node == nil)
        #expect(out.last?.result.message == "0/6 nodes are available: 6 node(s) didn't match pod anti-affinity rules.")
    }
}
