import Testing
import KubeAPI
@testable import KubeScheduler

private func req(_ key: String, _ op: String, _ values: [String] = []) -> NodeSelectorRequirement {
    NodeSelectorRequirement(key: key, operator: op, values: values)
}

private func expressions(_ reqs: NodeSelectorRequirement...) -> NodeSelectorTerm { NodeSelectorTerm(matchExpressions: reqs) }
private func fields(_ reqs: NodeSelectorRequirement...) -> NodeSelectorTerm { NodeSelectorTerm(matchFields: reqs) }
private let nameField = "metadata.name"

/// A pod with the given nodeSelector and node affinity.
private func affinityPod(nodeSelector: [String: String] = [:], required: [NodeSelectorTerm]? = nil,
                         preferred: [PreferredSchedulingTerm] = []) -> Pod {
    var p = Pod(metadata: ObjectMeta(name: "p", namespace: "default"))
    p.spec.nodeSelector = nodeSelector
    if required != nil || !preferred.isEmpty {
        p.spec.affinity = Affinity(nodeAffinity: NodeAffinity(required: required, preferred: preferred))
    }
    return p
}

private func node(_ name: String, _ labels: [String: String] = [:]) -> Node {
    Node(metadata: ObjectMeta(name: name, labels: labels))
}

struct NodeAffinityTests {
    struct FilterCase: Sendable, CustomTestStringConvertible {
        let name: String
        let pod: Pod
        var labels: [String: String] = [:]
        var nodeName = ""
        var added: NodeAffinity? = nil
        var runPreFilter = true
        /// PreFilter's code (Success when unset) and node names (nil: every node).
        var wantPreFilter: Code = .success
        var wantPreFilterNames: [String]? = nil
        /// The Filter reason; nil: the node passes.
        var wantReason: String? = nil
        var testDescription: String { name }
    }

    static let podReason = NodeAffinityFilter.errReasonPod
    static let enforcedReason = NodeAffinityFilter.errReasonEnforced

    // kube-scheduler TestNodeAffinity
    // (pkg/scheduler/framework/plugins/nodeaffinity/node_affinity_test.go), every case.
    static let filterCases: [FilterCase] = [
        FilterCase(name: "missing labels", pod: affinityPod(nodeSelector: ["foo": "bar"]), wantReason: podReason),
        FilterCase(name: "same labels", pod: affinityPod(nodeSelector: ["foo": "bar"]), labels: ["foo": "bar"]),
        FilterCase(name: "node labels are superset", pod: affinityPod(nodeSelector: ["foo": "bar"]),
                   labels: ["foo": "bar", "baz": "blah"]),
        FilterCase(name: "node labels are subset", pod: affinityPod(nodeSelector: ["foo": "bar", "baz": "blah"]),
                   labels: ["foo": "bar"], wantReason: podReason),
        FilterCase(name: "Pod with matchExpressions using In operator that matches the existing node",
                   pod: affinityPod(required: [expressions(req("foo", "In", ["bar", "value2"]))]), labels: ["foo": "bar"]),
        FilterCase(name: "Pod with matchExpressions using Gt operator that matches the existing node",
                   pod: affinityPod(required: [expressions(req("kernel-version", "Gt", ["0204"]))]),
                   labels: ["kernel-version": "0206"]),
        FilterCase(name: "Pod with matchExpressions using NotIn operator that matches the existing node",
                   pod: affinityPod(required: [expressions(req("mem-type", "NotIn", ["DDR", "DDR2"]))]),
                   labels: ["mem-type": "DDR3"]),
        FilterCase(name: "Pod with matchExpressions using Exists operator that matches the existing node",
                   pod: affinityPod(required: [expressions(req("GPU", "Exists"))]), labels: ["GPU": "NVIDIA-GRID-K1"]),
        FilterCase(name: "Pod with affinity that don't match node's labels won't schedule onto the node",
                   pod: affinityPod(required: [expressions(req("foo", "In", ["value1", "value2"]))]), labels: ["foo": "bar"],
                   wantReason: podReason),
        FilterCase(name: "Pod with empty MatchExpressions is not a valid value will match no objects and won't schedule onto the node",
                   pod: affinityPod(required: [NodeSelectorTerm()]), labels: ["foo": "bar"], wantReason: podReason),
        FilterCase(name: "Pod with no Affinity will schedule onto a node", pod: affinityPod(), labels: ["foo": "bar"],
                   wantPreFilter: .skip),
        FilterCase(name: "Pod with Affinity but nil NodeSelector will schedule onto a node",
                   pod: { var p = affinityPod(); p.spec.affinity = Affinity(nodeAffinity: NodeAffinity()); return p }(),
                   labels: ["foo": "bar"], wantPreFilter: .skip),
        FilterCase(name: "Pod with multiple matchExpressions ANDed that matches the existing node",
                   pod: affinityPod(required: [expressions(req("GPU", "Exists"), req("GPU", "NotIn", ["AMD", "INTER"]))]),
                   labels: ["GPU": "NVIDIA-GRID-K1"]),
        FilterCase(name: "Pod with multiple matchExpressions ANDed that doesn't match the existing node",
                   pod: affinityPod(required: [expressions(req("GPU", "Exists"), req("GPU", "In", ["AMD", "INTER"]))]),
                   labels: ["GPU": "NVIDIA-GRID-K1"], wantReason: podReason),
        FilterCase(name: "Pod with multiple NodeSelectorTerms ORed in affinity, matches the node's labels and will schedule onto the node",
                   pod: affinityPod(required: [expressions(req("foo", "In", ["bar", "value2"])),
                                                     expressions(req("diffkey", "In", ["wrong", "value2"]))]),
                   labels: ["foo": "bar"]),
        FilterCase(name: "Pod with an Affinity and a PodSpec.NodeSelector(the old thing that we are deprecating) both are satisfied, will schedule onto the node",
                   pod: affinityPod(nodeSelector: ["foo": "bar"], required: [expressions(req("foo", "Exists"))]),
                   labels: ["foo": "bar"]),
        FilterCase(name: "Pod with an Affinity matches node's labels but the PodSpec.NodeSelector(the old thing that we are deprecating) is not satisfied, won't schedule onto the node",
                   pod: affinityPod(nodeSelector: ["foo": "bar"], required: [expressions(req("foo", "Exists"))]),
                   labels: ["foo": "barrrrrr"], wantReason: podReason),
        FilterCase(name: "Pod with an invalid value in Affinity term won't be scheduled onto the node",
                   pod: affinityPod(required: [expressions(req("foo", "NotIn", ["invalid value: ___@#$%^"]))]),
                   labels: ["foo": "bar"], wantReason: podReason),
        FilterCase(name: "Pod with matchFields using In operator that matches the existing node",
                   pod: affinityPod(required: [fields(req(nameField, "In", ["node1"]))]), nodeName: "node1",
                   wantPreFilterNames: ["node1"]),
        FilterCase(name: "Pod with matchFields using In operator that does not match the existing node",
                   pod: affinityPod(required: [fields(req(nameField, "In", ["node1"]))]), nodeName: "node2",
                   wantPreFilterNames: ["node1"], wantReason: podReason),
        FilterCase(name: "Pod with two terms: matchFields does not match, but matchExpressions matches",
                   pod: affinityPod(required: [fields(req(nameField, "In", ["node1"]), req(nameField, "In", ["node2"])),
                                                     expressions(req("foo", "In", ["bar"]))]),
                   labels: ["foo": "bar"], nodeName: "node2"),
        FilterCase(name: "Pod with one term: matchFields does not match, but matchExpressions matches",
                   pod: affinityPod(required: [NodeSelectorTerm(matchExpressions: [req("foo", "In", ["bar"])],
                                                                      matchFields: [req(nameField, "In", ["node1"])])]),
                   labels: ["foo": "bar"], nodeName: "node2", wantPreFilterNames: ["node1"], wantReason: podReason),
        FilterCase(name: "Pod with one term: both matchFields and matchExpressions match",
                   pod: affinityPod(required: [NodeSelectorTerm(matchExpressions: [req("foo", "In", ["bar"])],
                                                                      matchFields: [req(nameField, "In", ["node1"])])]),
                   labels: ["foo": "bar"], nodeName: "node1", wantPreFilterNames: ["node1"]),
        FilterCase(name: "Pod with two terms: both matchFields and matchExpressions do not match",
                   pod: affinityPod(required: [fields(req(nameField, "In", ["node1"])),
                                                     expressions(req("foo", "In", ["not-match-to-bar"]))]),
                   labels: ["foo": "bar"], nodeName: "node2", wantReason: podReason),
        FilterCase(name: "Pod with two terms of node.Name affinity",
                   pod: affinityPod(required: [fields(req(nameField, "In", ["node1"])), fields(req(nameField, "In", ["node2"]))]),
                   nodeName: "node2", wantPreFilterNames: ["node1", "node2"]),
        FilterCase(name: "Pod with two conflicting mach field requirements",
                   pod: affinityPod(required: [fields(req(nameField, "In", ["node1"]), req(nameField, "In", ["node2"]))]),
                   labels: ["foo": "bar"], nodeName: "node2", wantPreFilter: .unschedulableAndUnresolvable, wantReason: podReason),
        FilterCase(name: "Matches added affinity and Pod's node affinity",
                   pod: affinityPod(required: [expressions(req("zone", "In", ["foo"]))]), labels: ["zone": "foo"],
                   nodeName: "node2", added: NodeAffinity(required: [fields(req(nameField, "In", ["node2"]))])),
        FilterCase(name: "Matches added affinity but not Pod's node affinity",
                   pod: affinityPod(required: [expressions(req("zone", "In", ["bar"]))]), labels: ["zone": "foo"],
                   nodeName: "node2", added: NodeAffinity(required: [fields(req(nameField, "In", ["node2"]))]), wantReason: podReason),
        FilterCase(name: "Doesn't match added affinity", pod: affinityPod(), labels: ["zone": "foo"], nodeName: "node2",
                   added: NodeAffinity(required: [expressions(req("zone", "In", ["bar"]))]), wantReason: enforcedReason),
        FilterCase(name: "Matches node selector correctly even if PreFilter is not called",
                   pod: affinityPod(nodeSelector: ["foo": "bar"]), labels: ["foo": "bar", "baz": "blah"], runPreFilter: false),
        FilterCase(name: "Matches node affinity correctly even if PreFilter is not called",
                   pod: affinityPod(required: [expressions(req("GPU", "Exists"), req("GPU", "NotIn", ["AMD", "INTER"]))]),
                   labels: ["GPU": "NVIDIA-GRID-K1"], runPreFilter: false),
    ]

    @Test(arguments: filterCases)
    func filter(_ c: FilterCase) {
        let plugin = NodeAffinityFilter(addedAffinity: c.added)
        let state = CycleState()
        if c.runPreFilter {
            let (names, status) = plugin.preFilter(state, c.pod)
            #expect(status.code == c.wantPreFilter)
            if status.code == .unschedulableAndUnresolvable { #expect(status.reasons == [NodeAffinityFilter.errReasonConflict]) }
            #expect(names == c.wantPreFilterNames)
        }
        let got = plugin.filter(state, c.pod, NodeInfo(node: node(c.nodeName, c.labels)))
        if let reason = c.wantReason {
            #expect(got == Status(.unschedulableAndUnresolvable, [reason], plugin: "NodeAffinity"))
        } else {
            #expect(got.code == .success)
        }
    }

    struct ScoreCase: Sendable, CustomTestStringConvertible {
        let name: String
        let pod: Pod
        let nodes: [Node]
        var added: NodeAffinity? = nil
        var runPreScore = true
        let expected: [Int64]
        var testDescription: String { name }
    }

    static let label1 = ["foo": "bar"]
    static let label2 = ["key": "value"]
    static let label3 = ["az": "az1"]
    static let label4 = ["abc": "az11", "def": "az22"]
    static let label5 = ["foo": "bar", "key": "value", "az": "az1"]
    static let affinity1 = [PreferredSchedulingTerm(weight: 2, preference: expressions(req("foo", "In", ["bar"])))]
    static let affinity2 = [
        PreferredSchedulingTerm(weight: 2, preference: expressions(req("foo", "In", ["bar"]))),
        PreferredSchedulingTerm(weight: 4, preference: expressions(req("key", "In", ["value"]))),
        PreferredSchedulingTerm(weight: 5, preference: expressions(req("foo", "In", ["bar"]), req("key", "In", ["value"]),
                                                                    req("az", "In", ["az1"]))),
    ]

    // kube-scheduler TestNodeAffinityPriority (same file), every case.
    static let scoreCases: [ScoreCase] = [
        ScoreCase(name: "all nodes are same priority as NodeAffinity is nil", pod: affinityPod(),
                  nodes: [node("node1", label1), node("node2", label2), node("node3", label3)], expected: [0, 0, 0]),
        ScoreCase(name: "no node matches preferred scheduling requirements in NodeAffinity of pod so all nodes' priority is zero",
                  pod: affinityPod(preferred: affinity1),
                  nodes: [node("node1", label4), node("node2", label2), node("node3", label3)], expected: [0, 0, 0]),
        ScoreCase(name: "only node1 matches the preferred scheduling requirements of pod", pod: affinityPod(preferred: affinity1),
                  nodes: [node("node1", label1), node("node2", label2), node("node3", label3)], expected: [100, 0, 0]),
        // raw 2, 11, 4 -> 100·2/11 = 18, 100, 100·4/11 = 36
        ScoreCase(name: "all nodes matches the preferred scheduling requirements of pod but with different priorities ",
                  pod: affinityPod(preferred: affinity2),
                  nodes: [node("node1", label1), node("node5", label5), node("node2", label2)], expected: [18, 100, 36]),
        ScoreCase(name: "added affinity", pod: affinityPod(), nodes: [node("node1", label1), node("node2", label2)],
                  added: NodeAffinity(preferred: affinity1), expected: [100, 0]),
        // raw 2, 3, 5 -> 40, 60, 100
        ScoreCase(name: "added affinity and pod has default affinity", pod: affinityPod(preferred: affinity1),
                  nodes: [node("node1", label1), node("node2", label2), node("node3", label5)],
                  added: NodeAffinity(preferred: [PreferredSchedulingTerm(weight: 3, preference: expressions(req("key", "In", ["value"])))]),
                  expected: [40, 60, 100]),
        ScoreCase(name: "calculate the priorities correctly even if PreScore is not called", pod: affinityPod(preferred: affinity2),
                  nodes: [node("node1", label1), node("node5", label5), node("node2", label2)], runPreScore: false,
                  expected: [18, 100, 36]),
    ]

    @Test(arguments: scoreCases)
    func score(_ c: ScoreCase) {
        let plugin = NodeAffinityFilter(addedAffinity: c.added)
        let state = CycleState()
        let infos = c.nodes.map { NodeInfo(node: $0) }
        if c.runPreScore {
            // v1.35 returns Skip when neither the pod nor the profile prefers anything.
            let noPreferences = c.pod.spec.affinity?.nodeAffinity?.preferred.isEmpty ?? true
            #expect(plugin.preScore(state, c.pod, infos).code == (noPreferences && c.added == nil ? .skip : .success))
        }
        var list: [(node: String, score: Int64)] = infos.map { info in
            let (s, status) = plugin.score(state, c.pod, info)
            #expect(status.isSuccess)
            return (info.name, s)
        }
        #expect(plugin.normalize(state, c.pod, &list).isSuccess)
        #expect(list.map(\.score) == c.expected)
    }

    // Beyond the upstream tables: the term rules of NodeSelectorMatcher that the tables
    // do not reach (nodeaffinity helper tests of component-helpers cover them upstream).
    @Test func termParsingRules() {
        let n = node("node1", ["zone": "a", "v": "10", "empty": ""])
        func matches(_ term: NodeSelectorTerm) -> Bool { NodeSelectorMatcher([term]).matches(n) }
        #expect(!matches(NodeSelectorTerm()), "an empty term matches nothing")
        #expect(!matches(expressions(req("zone", "In"))), "In without values does not parse")
        #expect(!matches(expressions(req("zone", "Exists", ["a"]))), "Exists with values does not parse")
        #expect(!matches(expressions(req("v", "Gt", ["x"]))), "Gt needs an integer")
        #expect(!matches(expressions(req("v", "Gt", ["1", "2"]))), "Gt needs exactly one value")
        #expect(matches(expressions(req("v", "Lt", ["11"]))) && !matches(expressions(req("v", "Lt", ["10"]))))
        #expect(!matches(expressions(req("zone", "Gt", ["1"]))), "a non-integer label never compares")
        #expect(!matches(expressions(req("bad key!", "Exists"))), "an invalid key does not parse")
        #expect(!matches(expressions(req("zone", "NotIn", ["-bad"]))), "an invalid value fails even NotIn")
        #expect(matches(expressions(req("example.com/tier", "DoesNotExist"))))
        #expect(matches(fields(req(nameField, "NotIn", ["node2"]))))
        #expect(!matches(fields(req(nameField, "In", ["node1", "node2"]))), "a field requirement takes one value")
        #expect(!matches(fields(req(nameField, "Exists"))), "fields support only In and NotIn")
        #expect(matches(fields(req("metadata.namespace", "In", [""]))), "an unknown field reads as empty")
        // nodeSelector: an empty value matches a label whose value is empty, not a missing label.
        let plugin = NodeAffinityFilter()
        #expect(plugin.filter(CycleState(), affinityPod(nodeSelector: ["empty": ""]), NodeInfo(node: n)).isSuccess)
        #expect(!plugin.filter(CycleState(), affinityPod(nodeSelector: ["missing": ""]), NodeInfo(node: n)).isSuccess)
    }

    @Test func unparsablePreferredTermIsAnError() {
        let p = affinityPod(preferred: [PreferredSchedulingTerm(weight: 1, preference: expressions(req("zone", "In")))])
        let plugin = NodeAffinityFilter()
        let info = NodeInfo(node: node("n", ["zone": "a"]))
        #expect(plugin.preScore(CycleState(), p, [info]).code == .error)
        #expect(plugin.score(CycleState(), p, info).1.code == .error)
    }
}

