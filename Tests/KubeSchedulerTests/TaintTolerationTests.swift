import Testing
import KubeAPI
@testable import KubeScheduler

/// kube's `nodeWithTaints`.
private func nodeWithTaints(_ name: String, _ taints: [Taint]) -> NodeInfo {
    NodeInfo(node: Node(metadata: ObjectMeta(name: name), spec: NodeSpec(taints: taints)))
}

/// kube's `podWithTolerations`.
private func podWithTolerations(_ tolerations: [Toleration]) -> Pod {
    var p = Pod(metadata: ObjectMeta(name: "pod1", namespace: "default"))
    p.spec.tolerations = tolerations
    return p
}

struct TaintTolerationTests {
    struct ScoreCase: Sendable, CustomTestStringConvertible {
        let name: String
        let pod: Pod
        let nodes: [NodeInfo]
        let expected: [Int64]
        var testDescription: String { name }
    }

    // kube-scheduler TestTaintTolerationScore
    // (pkg/scheduler/framework/plugins/tainttoleration/taint_toleration_test.go): the cases
    // with the TaintTolerationComparisonOperators gate off (kubelab has no Gt/Lt tolerations).
    static let scoreCases: [ScoreCase] = [
        ScoreCase(name: "node with taints tolerated by the pod, gets a higher score than those node with intolerable taints",
                  pod: podWithTolerations([Toleration(key: "foo", operator: .equal, value: "bar", effect: .preferNoSchedule)]),
                  nodes: [nodeWithTaints("nodeA", [Taint(key: "foo", value: "bar", effect: .preferNoSchedule)]),
                          nodeWithTaints("nodeB", [Taint(key: "foo", value: "blah", effect: .preferNoSchedule)])],
                  expected: [100, 0]),
        ScoreCase(name: "the nodes that all of their taints are tolerated by the pod, get the same score, no matter how many tolerable taints a node has",
                  pod: podWithTolerations([
                      Toleration(key: "cpu-type", operator: .equal, value: "arm64", effect: .preferNoSchedule),
                      Toleration(key: "disk-type", operator: .equal, value: "ssd", effect: .preferNoSchedule),
                  ]),
                  nodes: [nodeWithTaints("nodeA", []),
                          nodeWithTaints("nodeB", [Taint(key: "cpu-type", value: "arm64", effect: .preferNoSchedule)]),
                          nodeWithTaints("nodeC", [Taint(key: "cpu-type", value: "arm64", effect: .preferNoSchedule),
                                                   Taint(key: "disk-type", value: "ssd", effect: .preferNoSchedule)])],
                  expected: [100, 100, 100]),
        ScoreCase(name: "the more intolerable taints a node has, the lower score it gets.",
                  pod: podWithTolerations([Toleration(key: "foo", operator: .equal, value: "bar", effect: .preferNoSchedule)]),
                  nodes: [nodeWithTaints("nodeA", []),
                          nodeWithTaints("nodeB", [Taint(key: "cpu-type", value: "arm64", effect: .preferNoSchedule)]),
                          nodeWithTaints("nodeC", [Taint(key: "cpu-type", value: "arm64", effect: .preferNoSchedule),
                                                   Taint(key: "disk-type", value: "ssd", effect: .preferNoSchedule)])],
                  expected: [100, 50, 0]),
        ScoreCase(name: "only taints and tolerations that have effect PreferNoSchedule are checked by taints-tolerations priority function",
                  pod: podWithTolerations([
                      Toleration(key: "cpu-type", operator: .equal, value: "arm64", effect: .noSchedule),
                      Toleration(key: "disk-type", operator: .equal, value: "ssd", effect: .noSchedule),
                  ]),
                  nodes: [nodeWithTaints("nodeA", []),
                          nodeWithTaints("nodeB", [Taint(key: "cpu-type", value: "arm64", effect: .noSchedule)]),
                          nodeWithTaints("nodeC", [Taint(key: "cpu-type", value: "arm64", effect: .preferNoSchedule),
                                                   Taint(key: "disk-type", value: "ssd", effect: .preferNoSchedule)])],
                  expected: [100, 100, 0]),
        ScoreCase(name: "Default behaviour No taints and tolerations, lands on node with no taints",
                  pod: podWithTolerations([]),
                  nodes: [nodeWithTaints("nodeA", []),
                          nodeWithTaints("nodeB", [Taint(key: "cpu-type", value: "arm64", effect: .preferNoSchedule)])],
                  expected: [100, 0]),
    ]

    @Test(arguments: scoreCases)
    func score(_ c: ScoreCase) {
        let plugin = TaintToleration()
        let state = CycleState()
        var list: [(node: String, score: Int64)] = c.nodes.map { info in
            let (s, status) = plugin.score(state, c.pod, info)
            #expect(status.isSuccess)
            return (info.name, s)
        }
        #expect(plugin.normalize(state, c.pod, &list).isSuccess)
        #expect(list.map(\.node) == c.nodes.map(\.name))
        #expect(list.map(\.score) == c.expected)
    }

    struct FilterCase: Sendable, CustomTestStringConvertible {
        let name: String
        let pod: Pod
        let node: NodeInfo
        /// nil: the filter passes.
        let want: Status?
        var testDescription: String { name }
    }

    static let untolerated = Status(.unschedulableAndUnresolvable, ["node(s) had untolerated taint(s)"], plugin: "TaintToleration")

    // kube-scheduler TestTaintTolerationFilter (same file): the cases with the
    // TaintTolerationComparisonOperators gate off.
    static let filterCases: [FilterCase] = [
        FilterCase(name: "A pod having no tolerations can't be scheduled onto a node with nonempty taints",
                   pod: podWithTolerations([]),
                   node: nodeWithTaints("nodeA", [Taint(key: "dedicated", value: "user1", effect: .noSchedule)]), want: untolerated),
        FilterCase(name: "A pod which can be scheduled on a dedicated node assigned to user1 with effect NoSchedule",
                   pod: podWithTolerations([Toleration(key: "dedicated", value: "user1", effect: .noSchedule)]),
                   node: nodeWithTaints("nodeA", [Taint(key: "dedicated", value: "user1", effect: .noSchedule)]), want: nil),
        FilterCase(name: "A pod which can't be scheduled on a dedicated node assigned to user2 with effect NoSchedule",
                   pod: podWithTolerations([Toleration(key: "dedicated", operator: .equal, value: "user2", effect: .noSchedule)]),
                   node: nodeWithTaints("nodeA", [Taint(key: "dedicated", value: "user1", effect: .noSchedule)]), want: untolerated),
        FilterCase(name: "A pod can be scheduled onto the node, with a toleration uses operator Exists that tolerates the taints on the node",
                   pod: podWithTolerations([Toleration(key: "foo", operator: .exists, effect: .noSchedule)]),
                   node: nodeWithTaints("nodeA", [Taint(key: "foo", value: "bar", effect: .noSchedule)]), want: nil),
        FilterCase(name: "A pod has multiple tolerations, node has multiple taints, all the taints are tolerated, pod can be scheduled onto the node",
                   pod: podWithTolerations([Toleration(key: "dedicated", operator: .equal, value: "user2", effect: .noSchedule),
                                            Toleration(key: "foo", operator: .exists, effect: .noSchedule)]),
                   node: nodeWithTaints("nodeA", [Taint(key: "dedicated", value: "user2", effect: .noSchedule),
                                                  Taint(key: "foo", value: "bar", effect: .noSchedule)]), want: nil),
        FilterCase(name: "A pod has a toleration that keys and values match the taint on the node, but (non-empty) effect doesn't match, can't be scheduled onto the node",
                   pod: podWithTolerations([Toleration(key: "foo", operator: .equal, value: "bar", effect: .preferNoSchedule)]),
                   node: nodeWithTaints("nodeA", [Taint(key: "foo", value: "bar", effect: .noSchedule)]), want: untolerated),
        FilterCase(name: "The pod has a toleration that keys and values match the taint on the node, the effect of toleration is empty, and the effect of taint is NoSchedule. Pod can be scheduled onto the node",
                   pod: podWithTolerations([Toleration(key: "foo", operator: .equal, value: "bar")]),
                   node: nodeWithTaints("nodeA", [Taint(key: "foo", value: "bar", effect: .noSchedule)]), want: nil),
        FilterCase(name: "The pod has a toleration that key and value don't match the taint on the node, but the effect of taint on node is PreferNoSchedule. Pod can be scheduled onto the node",
                   pod: podWithTolerations([Toleration(key: "dedicated", operator: .equal, value: "user2", effect: .noSchedule)]),
                   node: nodeWithTaints("nodeA", [Taint(key: "dedicated", value: "user1", effect: .preferNoSchedule)]), want: nil),
        FilterCase(name: "The pod has no toleration, but the effect of taint on node is PreferNoSchedule. Pod can be scheduled onto the node",
                   pod: podWithTolerations([]),
                   node: nodeWithTaints("nodeA", [Taint(key: "dedicated", value: "user1", effect: .preferNoSchedule)]), want: nil),
    ]

    @Test(arguments: filterCases)
    func filter(_ c: FilterCase) {
        let got = TaintToleration().filter(CycleState(), c.pod, c.node)
        if let want = c.want { #expect(got == want) } else { #expect(got.code == .success) }
    }
}
