import Foundation
import Testing
import KubeAPI
@testable import KubeScheduler

// Tables ported from kube-scheduler's pkg/scheduler/framework/plugins/podtopologyspread
// (filtering_test.go, scoring_test.go). The feature gates MinDomainsInPodTopologySpread,
// NodeInclusionPolicyInPodTopologySpread and MatchLabelKeysInPodTopologySpread are on in v1.35
// and always on here: upstream cases that switch a gate off are ported only when their expected
// result is the same with the gate on (noted per case), and skipped otherwise.

private let foo = exists("foo"), bar = exists("bar")
private let dns = "DoNotSchedule", sa = "ScheduleAnyway"
private let hostname = PodTopologySpread.hostnameKey
private let zoneK = PodTopologySpread.zoneKey

/// A node with `zone` and `node` labels (the filtering tests' nodes).
private func zn(_ name: String, _ zone: String) -> Node { tnode(name, ["zone": zone, "node": name]) }
/// A node with a `node` label only.
private func nn(_ name: String, _ extra: [String: String] = [:], taints: [Taint] = []) -> Node {
    tnode(name, extra.merging(["node": name]) { a, _ in a }, taints: taints)
}
/// A node with `zone` and hostname labels (the scoring tests' nodes).
private func zh(_ name: String, _ zone: String) -> Node { tnode(name, ["zone": zone, hostname: name]) }
private func hn(_ name: String) -> Node { tnode(name, [hostname: name]) }

private let abxy = [zn("node-a", "zone1"), zn("node-b", "zone1"), zn("node-x", "zone2"), zn("node-y", "zone2")]
private let aby = [zn("node-a", "zone1"), zn("node-b", "zone1"), zn("node-y", "zone2")]

/// `st.MakePod().Name(name).Node(node).Label("foo", "")`.
private func fp(_ name: String, _ node: String) -> Pod { tpod(name).on(node).label("foo", "") }
private func bp(_ name: String, _ node: String) -> Pod { tpod(name).on(node).label("bar", "") }
private func fbp(_ name: String, _ node: String) -> Pod { fp(name, node).label("bar", "") }

/// The usual existing pods: 2 on node-a, 1 on node-b, `y` on node-y.
private func spreadPods(y: Int, x: Int = 0) -> [Pod] {
    [fp("p-a1", "node-a"), fp("p-a2", "node-a"), fp("p-b1", "node-b")]
        + (0..<x).map { fp("p-x\($0 + 1)", "node-x") } + (0..<y).map { fp("p-y\($0 + 1)", "node-y") }
}

private let matchFooBar = LabelSelector(matchLabels: ["foo": "bar"])

struct PodTopologySpreadTests {
    // MARK: - PreFilter

    struct PreFilterCase: Sendable, CustomTestStringConvertible {
        let name: String
        let pod: Pod
        var nodes: [Node] = []
        var pods: [Pod] = []
        /// Upstream runs these tables with `DefaultingType: List`.
        var defaulting: PodTopologySpread.Defaulting = .list([])
        /// What upstream's Service / ReplicaSet lookup gives for the pod.
        var defaultSelector: LabelSelector? = nil
        /// Per constraint, domain → matching pods (`TpValueToMatchNum`); nil: PreFilter skips.
        let want: [[String: Int]]?
        /// Per constraint, the global minimum (`CriticalPaths[i][0].MatchNum`, after minDomains).
        var wantMin: [Int] = []
        var testDescription: String { name }
    }

    // kube-scheduler TestPreFilterState (filtering_test.go). Skipped: "matchLabelKeys ignored when
    // feature gate disabled" (with the gate on, as in v1.35, the result differs).
    static let preFilterCases: [PreFilterCase] = [
        PreFilterCase(name: "clean cluster with one spreadConstraint",
                      pod: tpod().label("foo", "").spread(5, "zone", dns, matchFooBar), nodes: abxy,
                      want: [["zone1": 0, "zone2": 0]], wantMin: [0]),
        PreFilterCase(name: "normal case with one spreadConstraint",
                      pod: tpod().label("foo", "").spread(1, "zone", dns, foo), nodes: abxy, pods: spreadPods(y: 2),
                      want: [["zone1": 3, "zone2": 2]], wantMin: [2]),
        PreFilterCase(name: "normal case with null label selector",
                      pod: tpod().label("foo", "").spread(1, "zone", dns, nil), nodes: abxy, pods: spreadPods(y: 2),
                      want: [["zone1": 0, "zone2": 0]], wantMin: [0]),
        PreFilterCase(name: "normal case with one spreadConstraint, on a 3-zone cluster",
                      pod: tpod().label("foo", "").spread(1, "zone", dns, foo),
                      nodes: abxy + [zn("node-o", "zone3"), zn("node-p", "zone3")], pods: spreadPods(y: 2),
                      want: [["zone1": 3, "zone2": 2, "zone3": 0]], wantMin: [0]),
        PreFilterCase(name: "namespace mismatch doesn't count",
                      pod: tpod().label("foo", "").spread(1, "zone", dns, foo), nodes: abxy,
                      pods: [fp("p-a1", "node-a"), fp("p-a2", "node-a").inNamespace("ns1"), fp("p-b1", "node-b"),
                             fp("p-y1", "node-y").inNamespace("ns2"), fp("p-y2", "node-y")],
                      want: [["zone1": 2, "zone2": 1]], wantMin: [1]),
        PreFilterCase(name: "normal case with two spreadConstraints",
                      pod: tpod().label("foo", "").spread(1, "zone", dns, foo).spread(1, "node", dns, foo),
                      nodes: abxy, pods: spreadPods(y: 4),
                      want: [["zone1": 3, "zone2": 4], ["node-a": 2, "node-b": 1, "node-x": 0, "node-y": 4]], wantMin: [3, 0]),
        PreFilterCase(name: "soft spreadConstraints should be bypassed",
                      pod: tpod().label("foo", "").spread(1, "zone", sa, foo).spread(1, "zone", dns, foo)
                          .spread(1, "node", sa, foo).spread(1, "node", dns, foo),
                      nodes: aby, pods: spreadPods(y: 4),
                      want: [["zone1": 3, "zone2": 4], ["node-a": 2, "node-b": 1, "node-y": 4]], wantMin: [3, 1]),
        PreFilterCase(name: "different labelSelectors - simple version",
                      pod: tpod().label("foo", "").label("bar", "").spread(1, "zone", dns, foo).spread(1, "node", dns, bar),
                      nodes: aby, pods: [fp("p-a", "node-a"), bp("p-b", "node-b")],
                      want: [["zone1": 1, "zone2": 0], ["node-a": 0, "node-b": 1, "node-y": 0]], wantMin: [0, 0]),
        PreFilterCase(name: "different labelSelectors - complex pods",
                      pod: tpod().label("foo", "").label("bar", "").spread(1, "zone", dns, foo).spread(1, "node", dns, bar),
                      nodes: aby,
                      pods: [fp("p-a1", "node-a"), fbp("p-a2", "node-a"), fp("p-b1", "node-b"), fp("p-y1", "node-y"),
                             fbp("p-y2", "node-y"), fp("p-y3", "node-y"), fbp("p-y4", "node-y")],
                      want: [["zone1": 3, "zone2": 4], ["node-a": 1, "node-b": 0, "node-y": 2]], wantMin: [3, 0]),
        PreFilterCase(name: "two spreadConstraints, and with podAffinity",
                      pod: tpod().label("foo", "").nodeAffinity("node", "NotIn", ["node-x"])
                          .spread(1, "zone", dns, foo).spread(1, "node", dns, foo),
                      nodes: abxy, pods: spreadPods(y: 4),
                      want: [["zone1": 3, "zone2": 4], ["node-a": 2, "node-b": 1, "node-y": 4]], wantMin: [3, 1]),
        PreFilterCase(name: "default constraints and a service",
                      pod: tpod().label("foo", "bar").label("baz", "kar"),
                      defaulting: .list([
                          TopologySpreadConstraint(maxSkew: 3, topologyKey: "node", whenUnsatisfiable: dns),
                          TopologySpreadConstraint(maxSkew: 2, topologyKey: "node", whenUnsatisfiable: sa),
                          TopologySpreadConstraint(maxSkew: 5, topologyKey: "rack", whenUnsatisfiable: dns),
                      ]),
                      defaultSelector: matchFooBar, want: [[:], [:]], wantMin: [0, 0]),
        PreFilterCase(name: "default constraints and a service that doesn't match",
                      pod: tpod().label("foo", "bar"),
                      defaulting: .list([TopologySpreadConstraint(maxSkew: 3, topologyKey: "node", whenUnsatisfiable: dns)]),
                      defaultSelector: nil, want: nil),
        PreFilterCase(name: "default constraints and a service, but pod has constraints",
                      pod: tpod().label("foo", "bar").label("baz", "tar")
                          .spread(1, "zone", dns, LabelSelector(matchLabels: ["baz": "tar"]))
                          .spread(2, "planet", sa, LabelSelector(matchLabels: ["fot": "rok"])),
                      defaulting: .list([TopologySpreadConstraint(maxSkew: 2, topologyKey: "node", whenUnsatisfiable: dns)]),
                      defaultSelector: matchFooBar, want: [[:]], wantMin: [0]),
        PreFilterCase(name: "default soft constraints and a service",
                      pod: tpod().label("foo", "bar"),
                      defaulting: .list([TopologySpreadConstraint(maxSkew: 2, topologyKey: "node", whenUnsatisfiable: sa)]),
                      defaultSelector: matchFooBar, want: nil),
        PreFilterCase(name: "TpKeyToDomainsNum is calculated when MinDomains is enabled",
                      pod: tpod().label("foo", "").spread(1, "zone", dns, foo).spread(1, "node", dns, foo),
                      nodes: abxy, pods: spreadPods(y: 4),
                      want: [["zone1": 3, "zone2": 4], ["node-a": 2, "node-b": 1, "node-x": 0, "node-y": 4]], wantMin: [3, 0]),
        // Upstream runs this one with NodeInclusionPolicy off; with it on the default Honor
        // policy gives the same counts.
        PreFilterCase(name: "feature gate disabled with NodeAffinityPolicy",
                      pod: tpod().label("foo", "").nodeSelector(["foo": ""]).spread(1, "node", dns, bar),
                      nodes: [nn("node-a", ["foo": ""]), nn("node-b", ["foo": ""]), nn("node-c", ["bar": ""])],
                      pods: [bp("p-a", "node-a"), bp("p-b", "node-b"), bp("p-c", "node-b"), tpod("p-d").on("node-c")],
                      want: [["node-a": 1, "node-b": 2]], wantMin: [1]),
        PreFilterCase(name: "NodeAffinityPolicy honored with labelSelectors",
                      pod: tpod().label("foo", "").nodeSelector(["foo": ""]).spread(1, "node", dns, bar),
                      nodes: [nn("node-a", ["foo": ""]), nn("node-b", ["foo": ""]), nn("node-c", ["bar": ""])],
                      pods: [bp("p-a", "node-a"), bp("p-b", "node-b"), bp("p-c", "node-b"), tpod("p-d").on("node-c")],
                      want: [["node-a": 1, "node-b": 2]], wantMin: [1]),
        PreFilterCase(name: "NodeAffinityPolicy ignored with labelSelectors",
                      pod: tpod().label("foo", "").nodeSelector(["foo": ""]).spread(1, "node", dns, bar, affinityPolicy: .ignore),
                      nodes: [nn("node-a", ["foo": ""]), nn("node-b", ["foo": ""]), nn("node-c", ["bar": ""])],
                      pods: [bp("p-a", "node-a"), bp("p-b", "node-b"), bp("p-c", "node-b"), tpod("p-d").on("node-c")],
                      want: [["node-a": 1, "node-b": 2, "node-c": 0]], wantMin: [0]),
        PreFilterCase(name: "NodeAffinityPolicy honored with nodeAffinity",
                      pod: tpod().label("foo", "").nodeAffinity("foo", "In", [""]).spread(1, "node", dns, bar),
                      nodes: [nn("node-a", ["foo": ""]), nn("node-b", ["foo": ""]), nn("node-c", ["bar": ""])],
                      pods: [bp("p-a", "node-a"), bp("p-c", "node-b"), bp("p-d", "node-b"), tpod("p-e").on("node-c")],
                      want: [["node-a": 1, "node-b": 2]], wantMin: [1]),
        PreFilterCase(name: "NodeAffinityPolicy ignored with nodeAffinity",
                      pod: tpod().label("foo", "").nodeAffinity("foo", "In", [""])
                          .spread(1, "node", dns, bar, affinityPolicy: .ignore),
                      nodes: [nn("node-a", ["foo": ""]), nn("node-b", ["foo": ""]), nn("node-c", ["bar": ""])],
                      pods: [bp("p-a", "node-a"), bp("p-b", "node-b"), bp("p-c", "node-b"), tpod("p-d").on("node-c")],
                      want: [["node-a": 1, "node-b": 2, "node-c": 0]], wantMin: [0]),
        // Upstream: NodeInclusionPolicy off; the default Ignore taints policy gives the same.
        PreFilterCase(name: "feature gate disabled with NodeTaintsPolicy",
                      pod: tpod().label("foo", "").spread(1, "node", dns, bar),
                      nodes: [nn("node-a"), nn("node-b"), nn("node-c", ["bar": ""], taints: [unschedulableTaint])],
                      pods: [bp("p-a", "node-a"), bp("p-b", "node-b"), bp("p-c", "node-b"), tpod("p-d").on("node-c")],
                      want: [["node-a": 1, "node-b": 2, "node-c": 0]], wantMin: [0]),
        PreFilterCase(name: "NodeTaintsPolicy ignored",
                      pod: tpod().label("foo", "").spread(1, "node", dns, bar),
                      nodes: [nn("node-a"), nn("node-b"), nn("node-c", ["bar": ""], taints: [unschedulableTaint])],
                      pods: [bp("p-a", "node-a"), bp("p-b", "node-b"), bp("p-c", "node-b"), tpod("p-d").on("node-c")],
                      want: [["node-a": 1, "node-b": 2, "node-c": 0]], wantMin: [0]),
        PreFilterCase(name: "NodeTaintsPolicy honored",
                      pod: tpod().label("foo", "").spread(1, "node", dns, bar, taintsPolicy: .honor),
                      nodes: [nn("node-a"), nn("node-b"), nn("node-c", ["bar": ""], taints: [unschedulableTaint])],
                      pods: [bp("p-a", "node-a"), bp("p-b", "node-b"), bp("p-c", "node-b"), tpod("p-d").on("node-c")],
                      want: [["node-a": 1, "node-b": 2]], wantMin: [1]),
        PreFilterCase(name: "NodeTaintsPolicy honored with tolerated taints",
                      pod: tpod().label("foo", "").tolerating(unschedulableTaint.key)
                          .spread(1, "node", dns, bar, taintsPolicy: .honor),
                      nodes: [nn("node-a"), nn("node-b"), nn("node-c", ["bar": ""], taints: [unschedulableTaint])],
                      pods: [bp("p-a", "node-a"), bp("p-b", "node-b"), bp("p-c", "node-b"), tpod("p-d").on("node-c")],
                      want: [["node-a": 1, "node-b": 2, "node-c": 0]], wantMin: [0]),
        PreFilterCase(name: "two node inclusion Constraints, zone: honor/ignore, node: ignore/ignore",
                      pod: tpod().label("foo", "").nodeSelector(["foo": ""]).spread(1, "zone", dns, foo)
                          .spread(1, "node", dns, foo, affinityPolicy: .ignore),
                      nodes: [tnode("node-a", ["zone": "zone1", "node": "node-a", "foo": ""]), zn("node-b", "zone1"),
                              tnode("node-x", ["zone": "zone2", "node": "node-x", "foo": ""])],
                      pods: [fp("p-b1", "node-b"), fp("p-b2", "node-b"), fp("p-x1", "node-x")],
                      want: [["zone1": 0, "zone2": 1], ["node-a": 0, "node-b": 2, "node-x": 1]], wantMin: [0, 0]),
        PreFilterCase(name: "two node inclusion Constraints, zone: honor/honor, node: honor/ignore",
                      pod: tpod().label("foo", "").spread(1, "zone", dns, foo, taintsPolicy: .honor).spread(1, "node", dns, foo),
                      nodes: [tnode("node-a", ["zone": "zone1", "node": "node-a", "foo": ""]),
                              tnode("node-b", ["zone": "zone1", "node": "node-b"], taints: [unschedulableTaint]),
                              tnode("node-x", ["zone": "zone2", "node": "node-x", "foo": ""])],
                      pods: [fp("p-b1", "node-b"), fp("p-b2", "node-b"), fp("p-x1", "node-x")],
                      want: [["zone1": 0, "zone2": 1], ["node-a": 0, "node-b": 2, "node-x": 1]], wantMin: [0, 0]),
        PreFilterCase(name: "two node inclusion Constraints, zone: honor/ignore, node: honor/ignore",
                      pod: tpod().label("foo", "").nodeSelector(["foo": ""]).spread(1, "zone", dns, foo).spread(1, "node", dns, foo),
                      nodes: [zn("node-a", "zone1"),
                              tnode("node-b", ["zone": "zone1", "node": "node-b", "foo": ""], taints: [unschedulableTaint]),
                              tnode("node-x", ["zone": "zone2", "node": "node-x", "foo": ""]), zn("node-y", "zone2")],
                      pods: [fp("p-a1", "node-a"), fp("p-a2", "node-a"), fp("p-x1", "node-x"), fp("p-y1", "node-y")],
                      want: [["zone1": 0, "zone2": 1], ["node-b": 0, "node-x": 1]], wantMin: [0, 0]),
        PreFilterCase(name: "two node inclusion Constraints, zone: ignore/ignore, node: honor/honor",
                      pod: tpod().label("foo", "").nodeSelector(["foo": ""]).spread(1, "zone", dns, foo, affinityPolicy: .ignore)
                          .spread(1, "node", dns, foo, taintsPolicy: .honor),
                      nodes: [zn("node-a", "zone1"),
                              tnode("node-b", ["zone": "zone1", "node": "node-b", "foo": ""], taints: [unschedulableTaint]),
                              tnode("node-x", ["zone": "zone2", "node": "node-x", "foo": ""]),
                              tnode("node-y", ["zone": "zone2", "node": "node-y", "foo": ""])],
                      pods: [fp("p-a1", "node-a"), fp("p-a2", "node-a"), fp("p-x1", "node-x"), fp("p-x2", "node-x"),
                             fp("p-y1", "node-y")],
                      want: [["zone1": 2, "zone2": 3], ["node-x": 2, "node-y": 1]], wantMin: [2, 1]),
        PreFilterCase(name: "matchLabelKeys ANDed with LabelSelector when LabelSelector isn't empty",
                      pod: tpod().label("foo", "").label("bar", "a").spread(1, "zone", dns, foo, matchLabelKeys: ["bar"]),
                      nodes: abxy,
                      pods: [fp("p-a1", "node-a"), fp("p-a2", "node-a").label("bar", "a"), fp("p-b1", "node-b"),
                             fp("p-y1", "node-y").label("bar", "a"), bp("p-y2", "node-y")],
                      want: [["zone1": 1, "zone2": 1]], wantMin: [1]),
        PreFilterCase(name: "matchLabelKeys ANDed with LabelSelector when LabelSelector is empty",
                      pod: tpod().label("foo", "a").spread(1, "zone", dns, LabelSelector(), matchLabelKeys: ["foo"]),
                      nodes: abxy,
                      pods: ["p-a1", "p-a2", "p-b1", "p-y1", "p-y2"].map { tpod($0).on("node-" + String($0.dropFirst(2).prefix(1))).label("foo", "a") },
                      want: [["zone1": 3, "zone2": 2]], wantMin: [2]),
        PreFilterCase(name: "key in matchLabelKeys is ignored when LabelSelector is nil when feature gate enabled",
                      pod: tpod().label("foo", "").spread(1, "zone", dns, nil, matchLabelKeys: ["bar"]),
                      nodes: abxy,
                      pods: ["p-a1", "p-a2", "p-b1", "p-y1", "p-y2"].map { tpod($0).on("node-" + String($0.dropFirst(2).prefix(1))).label("foo", "a") },
                      want: [["zone1": 0, "zone2": 0]], wantMin: [0]),
        // Upstream: MatchLabelKeys off; the pod has no "bar" label, so the result is the same.
        PreFilterCase(name: "no pod is matched when LabelSelector is nil when feature gate disabled",
                      pod: tpod().label("foo", "").spread(1, "zone", dns, nil, matchLabelKeys: ["bar"]),
                      nodes: abxy,
                      pods: ["p-a1", "p-a2", "p-b1", "p-y1", "p-y2"].map { tpod($0).on("node-" + String($0.dropFirst(2).prefix(1))).label("foo", "a") },
                      want: [["zone1": 0, "zone2": 0]], wantMin: [0]),
        PreFilterCase(name: "key in matchLabelKeys is ignored when it isn't exist in pod.labels",
                      pod: tpod().label("foo", "").spread(1, "zone", dns, foo, matchLabelKeys: ["bar"]),
                      nodes: abxy,
                      pods: ["p-a1", "p-a2", "p-b1", "p-y1", "p-y2"].map { tpod($0).on("node-" + String($0.dropFirst(2).prefix(1))).label("foo", "a") },
                      want: [["zone1": 3, "zone2": 2]], wantMin: [2]),
        PreFilterCase(name: "two spreadConstraints with the same topologyKey",
                      pod: tpod().label("foo", "").label("bar", "").spread(1, "zone", dns, foo).spread(1, "zone", dns, bar),
                      nodes: abxy,
                      pods: [fbp("p-a1", "node-a"), fp("p-b1", "node-b"), bp("p-x1", "node-x"), fbp("p-y1", "node-y"),
                             bp("p-y2", "node-y")],
                      want: [["zone1": 2, "zone2": 1], ["zone1": 1, "zone2": 3]], wantMin: [1, 1]),
        PreFilterCase(name: "skip if not specified", pod: tpod().label("foo", ""), nodes: [zn("node-a", "zone1")], want: nil),
    ]

    @Test(arguments: preFilterCases)
    func preFilter(_ c: PreFilterCase) {
        let selector = c.defaultSelector
        let plugin = PodTopologySpread(defaulting: c.defaulting, defaultSelector: { _ in selector })
        let state = CycleState()
        let (names, status) = plugin.runPreFilter(state, c.pod, snapshot(c.nodes, c.pods))
        #expect(names == nil)
        guard let want = c.want else {
            #expect(status.code == .skip)
            return
        }
        #expect(status.code == .success)
        let s = state[PodTopologySpread.preFilterKey] as? PodTopologySpread.PreFilterState
        #expect(s != nil)
        #expect(s?.counts == want)
        #expect(s.map { s in s.constraints.indices.map { s.minMatch($0) } } == c.wantMin)
    }

    // MARK: - Filter

    struct FilterCase: Sendable, CustomTestStringConvertible {
        let name: String
        let pod: Pod
        let nodes: [Node]
        var pods: [Pod] = []
        /// The Filter code per node, in `nodes` order.
        let want: [Code]
        var testDescription: String { name }
    }

    private static let s = Code.success, u = Code.unschedulable, uu = Code.unschedulableAndUnresolvable

    // kube-scheduler TestSingleConstraint (filtering_test.go), every case. As upstream, only
    // this plugin's Filter runs ("in real case, it's false" cases keep upstream's answers).
    static let singleConstraintCases: [FilterCase] = [
        FilterCase(name: "no existing pods", pod: tpod().label("foo", "").spread(1, "zone", dns, foo), nodes: abxy,
                   want: [s, s, s, s]),
        FilterCase(name: "no existing pods, incoming pod doesn't match itself",
                   pod: tpod().label("foo", "").spread(1, "zone", dns, bar), nodes: abxy, want: [s, s, s, s]),
        FilterCase(name: "existing pods in a different namespace do not count",
                   pod: tpod().label("foo", "").spread(1, "zone", dns, foo), nodes: abxy,
                   pods: [fp("p-a1", "node-a").inNamespace("ns1"), fp("p-b1", "node-a").inNamespace("ns2"),
                          fp("p-x1", "node-x"), fp("p-y1", "node-y")],
                   want: [s, s, u, u]),
        FilterCase(name: "existing pods do not match null selector",
                   pod: tpod().label("foo", "").spread(1, "zone", dns, nil), nodes: abxy,
                   pods: [fp("p-x1", "node-x"), fp("p-y1", "node-y")], want: [s, s, s, s]),
        FilterCase(name: "pods spread across zones as 3/3, all nodes fit",
                   pod: tpod().label("foo", "").spread(1, "zone", dns, foo), nodes: abxy, pods: spreadPods(y: 3),
                   want: [s, s, s, s]),
        FilterCase(name: "pods spread across zones as 1/2 due to absence of label 'zone' on node-b",
                   pod: tpod().label("foo", "").spread(1, "zone", dns, foo),
                   nodes: [zn("node-a", "zone1"), tnode("node-b", ["zon": "zone1", "node": "node-b"]), zn("node-x", "zone2"),
                           zn("node-y", "zone2")],
                   pods: [fp("p-a1", "node-a"), fp("p-b1", "node-b"), fp("p-x1", "node-x"), fp("p-y1", "node-y")],
                   want: [s, uu, u, u]),
        FilterCase(name: "pod cannot be scheduled as all nodes don't have label 'rack'",
                   pod: tpod().label("foo", "").spread(1, "rack", dns, foo),
                   nodes: [zn("node-a", "zone1"), zn("node-x", "zone2")], want: [uu, uu]),
        FilterCase(name: "pods spread across nodes as 2/1/0/3, only node-x fits",
                   pod: tpod().label("foo", "").spread(1, "node", dns, foo), nodes: abxy, pods: spreadPods(y: 3),
                   want: [u, u, s, u]),
        FilterCase(name: "pods spread across nodes as 2/1/0/3, maxSkew is 2, node-b and node-x fit",
                   pod: tpod().label("foo", "").spread(2, "node", dns, foo), nodes: abxy, pods: spreadPods(y: 3),
                   want: [u, s, s, u]),
        FilterCase(name: "pods spread across nodes as 2/1/0/3, but pod doesn't match itself",
                   pod: tpod().label("bar", "").spread(1, "node", dns, foo), nodes: abxy, pods: spreadPods(y: 3),
                   want: [u, s, s, u]),
        FilterCase(name: "incoming pod has nodeAffinity, pods spread as 2/~1~/~0~/3, hence node-a fits",
                   pod: tpod().label("foo", "").nodeAffinity("node", "In", ["node-a", "node-y"]).spread(1, "node", dns, foo),
                   nodes: abxy, pods: spreadPods(y: 3), want: [s, s, s, u]),
        FilterCase(name: "terminating Pods should be excluded",
                   pod: tpod().label("foo", "").spread(1, "node", dns, foo), nodes: [nn("node-a"), nn("node-b")],
                   pods: [fp("p-a", "node-a").terminating(), fp("p-b", "node-b")], want: [s, u]),
        FilterCase(name: "incoming pod has nodeAffinity, pods spread as 0/~2~/0/1, hence node-a fits",
                   pod: tpod().label("foo", "").nodeAffinity("node", "NotIn", ["node-b"]).spread(1, "zone", dns, foo),
                   nodes: abxy, pods: [fp("p-b1", "node-b"), fp("p-b2", "node-b"), fp("p-y1", "node-y")],
                   want: [s, s, u, u]),
        FilterCase(name: "pods spread across nodes as 2/2/1, maxSkew is 2, and the number of domains < minDomains, then the third node fits",
                   pod: tpod().label("foo", "").spread(2, "node", dns, foo, minDomains: 4),
                   nodes: [nn("node-a"), nn("node-b"), nn("node-c")],
                   pods: [fp("p-a1", "node-a"), fp("p-a2", "node-a"), fp("p-b1", "node-b"), fp("p-b2", "node-b"),
                          fp("p-c1", "node-c")],
                   want: [u, u, s]),
        FilterCase(name: "pods spread across nodes as 2/2/1, maxSkew is 2, and the number of domains > minDomains, then the all nodes fit",
                   pod: tpod().label("foo", "").spread(2, "node", dns, foo, minDomains: 2),
                   nodes: [nn("node-a"), nn("node-b"), nn("node-c")],
                   pods: [fp("p-a1", "node-a"), fp("p-a2", "node-a"), fp("p-b1", "node-b"), fp("p-b2", "node-b"),
                          fp("p-c1", "node-c")],
                   want: [s, s, s]),
        FilterCase(name: "pods spread across zone as 2/1, maxSkew is 2 and the number of domains < minDomains, then the third and fourth nodes fit",
                   pod: tpod().label("foo", "").spread(2, "zone", dns, foo, minDomains: 3), nodes: abxy,
                   pods: [fp("p-b1", "node-a"), fp("p-b2", "node-b"), fp("p-y1", "node-y")], want: [u, u, s, s]),
        FilterCase(name: "pods spread across zone as 2/1, maxSkew is 2 and the number of domains > minDomains, then the all nodes fit",
                   pod: tpod().label("foo", "").spread(2, "zone", dns, foo, minDomains: 1), nodes: abxy,
                   pods: [fp("p-b1", "node-a"), fp("p-b2", "node-b"), fp("p-y1", "node-y")], want: [s, s, s, s]),
        FilterCase(name: "NodeAffinityPolicy honored with labelSelectors",
                   pod: tpod().label("foo", "").nodeSelector(["foo": ""]).spread(1, "node", dns, foo),
                   nodes: [nn("node-a", ["foo": ""]), nn("node-b", ["foo": ""]), nn("node-x", ["foo": ""]), nn("node-y")],
                   pods: [fp("p-b1", "node-a"), fp("p-b2", "node-b"), fp("p-y1", "node-y")], want: [u, u, s, s]),
        FilterCase(name: "NodeAffinityPolicy ignored with labelSelectors",
                   pod: tpod().label("foo", "").nodeSelector(["foo": ""]).spread(1, "node", dns, foo, affinityPolicy: .ignore),
                   nodes: [nn("node-a", ["foo": ""]), nn("node-b", ["foo": ""]), nn("node-x", ["foo": ""]), nn("node-y")],
                   pods: [fp("p-b1", "node-a"), fp("p-b2", "node-b"), fp("p-y1", "node-y")], want: [u, u, s, u]),
        FilterCase(name: "NodeAffinityPolicy honored with nodeAffinity",
                   pod: tpod().label("foo", "").nodeAffinity("foo", "In", [""]).spread(1, "node", dns, foo),
                   nodes: [nn("node-a", ["foo": ""]), nn("node-b", ["foo": ""]), nn("node-x", ["foo": ""]), nn("node-y")],
                   pods: [fp("p-b1", "node-a"), fp("p-b2", "node-b"), fp("p-y1", "node-y")], want: [u, u, s, s]),
        FilterCase(name: "NodeAffinityPolicy ignored with nodeAffinity",
                   pod: tpod().label("foo", "").nodeAffinity("foo", "In", [""]).spread(1, "node", dns, foo, affinityPolicy: .ignore),
                   nodes: [nn("node-a", ["foo": ""]), nn("node-b", ["foo": ""]), nn("node-x", ["foo": ""]), nn("node-y")],
                   pods: [fp("p-b1", "node-a"), fp("p-b2", "node-b"), fp("p-y1", "node-y")], want: [u, u, s, u]),
        FilterCase(name: "NodeTaintsPolicy honored",
                   pod: tpod().label("foo", "").spread(1, "node", dns, foo, taintsPolicy: .honor),
                   nodes: [nn("node-a", ["foo": ""]), nn("node-b", ["foo": ""]), nn("node-x", ["foo": ""]),
                           nn("node-y", taints: [unschedulableTaint])],
                   pods: [fp("p-b1", "node-a"), fp("p-b2", "node-b"), fp("p-y1", "node-y")], want: [u, u, s, s]),
        FilterCase(name: "NodeTaintsPolicy ignored",
                   pod: tpod().label("foo", "").spread(1, "node", dns, foo),
                   nodes: [nn("node-a", ["foo": ""]), nn("node-b", ["foo": ""]), nn("node-x", ["foo": ""]),
                           nn("node-y", taints: [unschedulableTaint])],
                   pods: [fp("p-b1", "node-a"), fp("p-b2", "node-b"), fp("p-y1", "node-y")], want: [u, u, s, u]),
    ]

    // kube-scheduler TestMultipleConstraints (filtering_test.go), every case.
    static let multipleConstraintsCases: [FilterCase] = [
        FilterCase(name: "two Constraints on zone and node, spreads = [3/3, 2/1/0/3]",
                   pod: tpod().label("foo", "").spread(1, "zone", dns, foo).spread(1, "node", dns, foo),
                   nodes: abxy, pods: spreadPods(y: 3), want: [u, u, s, u]),
        FilterCase(name: "two Constraints on zone and node, spreads = [3/4, 2/1/0/4]",
                   pod: tpod().label("foo", "").spread(1, "zone", dns, foo).spread(1, "node", dns, foo),
                   nodes: abxy, pods: spreadPods(y: 4), want: [u, u, u, u]),
        FilterCase(name: "Constraints hold different labelSelectors, spreads = [1/0, 1/0/0/1]",
                   pod: tpod().label("foo", "").label("bar", "").spread(1, "zone", dns, foo).spread(1, "node", dns, bar),
                   nodes: abxy, pods: [fp("p-a1", "node-a"), bp("p-y1", "node-y")], want: [u, u, s, u]),
        FilterCase(name: "Constraints hold different labelSelectors, spreads = [1/0, 0/0/1/1]",
                   pod: tpod().label("foo", "").label("bar", "").spread(1, "zone", dns, foo).spread(1, "node", dns, bar),
                   nodes: abxy, pods: [fp("p-a1", "node-a"), bp("p-x1", "node-x"), bp("p-y1", "node-y")],
                   want: [u, u, u, u]),
        FilterCase(name: "Constraints hold different labelSelectors, spreads = [2/3, 1/0/0/1]",
                   pod: tpod().label("foo", "").label("bar", "").spread(1, "zone", dns, foo).spread(1, "node", dns, bar),
                   nodes: abxy,
                   pods: [fp("p-a1", "node-a"), fbp("p-a2", "node-a"), fp("p-y1", "node-y"), fbp("p-y2", "node-y"),
                          fp("p-y3", "node-y")],
                   want: [u, s, u, u]),
        FilterCase(name: "Constraints hold different labelSelectors but pod doesn't match itself on 'zone' constraint",
                   pod: tpod().label("bar", "").spread(1, "zone", dns, foo).spread(1, "node", dns, bar),
                   nodes: abxy, pods: [fp("p-a1", "node-a"), bp("p-x1", "node-x"), bp("p-y1", "node-y")],
                   want: [s, s, u, u]),
        FilterCase(name: "two Constraints on zone and node, absence of label 'node' on node-x, spreads = [1/1, 1/0/0/1]",
                   pod: tpod().label("foo", "").spread(1, "zone", dns, foo).spread(1, "node", dns, foo),
                   nodes: [zn("node-a", "zone1"), zn("node-b", "zone1"), tnode("node-x", ["zone": "zone2"]), zn("node-y", "zone2")],
                   pods: [fp("p-a1", "node-a"), fp("p-y3", "node-y")], want: [u, s, uu, u]),
        FilterCase(name: "two node inclusion Constraints, zone: honor/ignore, node: ignore/ignore",
                   pod: tpod().label("foo", "").nodeSelector(["foo": ""]).spread(1, "zone", dns, foo)
                       .spread(1, "node", dns, foo, affinityPolicy: .ignore),
                   nodes: [tnode("node-a", ["zone": "zone1", "node": "node-a", "foo": ""]),
                           tnode("node-b", ["zone": "zone1", "node": "node-b", "foo": ""]),
                           tnode("node-x", ["zone": "zone2", "node": "node-x", "foo": ""]), zn("node-y", "zone2")],
                   pods: [fp("p-a1", "node-a"), fp("p-b1", "node-b"), fp("p-y1", "node-y")], want: [u, u, s, u]),
        FilterCase(name: "two node inclusion Constraints, zone: honor/honor, node: honor/ignore",
                   pod: tpod().label("foo", "").spread(1, "zone", dns, foo, taintsPolicy: .honor).spread(1, "node", dns, foo),
                   nodes: [tnode("node-a", ["zone": "zone1", "node": "node-a", "foo": ""]),
                           tnode("node-b", ["zone": "zone1", "node": "node-b", "foo": ""]),
                           tnode("node-x", ["zone": "zone2", "node": "node-x", "foo": ""]),
                           tnode("node-y", ["zone": "zone2", "node": "node-y"], taints: [unschedulableTaint])],
                   pods: [fp("p-a1", "node-a"), fp("p-b1", "node-b"), fp("p-y1", "node-y")], want: [u, u, s, u]),
        FilterCase(name: "two node inclusion Constraints, zone: honor/ignore, node: honor/ignore",
                   pod: tpod().label("foo", "").nodeSelector(["foo": ""]).spread(1, "zone", dns, foo).spread(1, "node", dns, foo),
                   nodes: [tnode("node-a", ["zone": "zone1", "node": "node-a", "foo": ""]), zn("node-b", "zone1"),
                           tnode("node-x", ["zone": "zone2", "node": "node-x", "foo": ""]),
                           tnode("node-y", ["zone": "zone2", "node": "node-y", "foo": ""], taints: [unschedulableTaint])],
                   pods: [fp("p-a1", "node-a"), fp("p-b1", "node-b"), fp("p-y1", "node-y")], want: [u, s, s, u]),
        FilterCase(name: "two node inclusion Constraints, zone: honor/honor, node: ignore/ignore",
                   pod: tpod().label("foo", "").nodeSelector(["foo": ""]).spread(1, "zone", dns, foo, taintsPolicy: .honor)
                       .spread(1, "node", dns, foo, affinityPolicy: .ignore),
                   nodes: [tnode("node-a", ["zone": "zone1", "node": "node-a", "foo": ""]), zn("node-b", "zone1"),
                           tnode("node-x", ["zone": "zone2", "node": "node-x", "foo": ""]),
                           tnode("node-y", ["zone": "zone2", "node": "node-y", "foo": ""], taints: [unschedulableTaint])],
                   pods: [fp("p-a1", "node-a"), fp("p-b1", "node-b"), fp("p-y1", "node-y")], want: [u, u, s, u]),
        FilterCase(name: "two Constraints on zone, spreads = [3/3, 2/1]",
                   pod: tpod().label("foo", "").label("bar", "").spread(1, "zone", dns, bar).spread(1, "zone", dns, foo),
                   nodes: abxy,
                   pods: [fbp("p-a1", "node-a"), fp("p-a2", "node-a"), fbp("p-b1", "node-b"), fp("p-y1", "node-y"),
                          fbp("p-y2", "node-y"), fp("p-y3", "node-y")],
                   want: [u, u, s, s]),
        FilterCase(name: "two Constraints on zone, spreads = [3/4, 2/1]",
                   pod: tpod().label("foo", "").label("bar", "").spread(1, "zone", dns, bar).spread(1, "zone", dns, foo),
                   nodes: abxy,
                   pods: [fbp("p-a1", "node-a"), fp("p-a2", "node-a"), fbp("p-b1", "node-b"), fp("p-y1", "node-y"),
                          fbp("p-y2", "node-y"), fp("p-y3", "node-y"), fp("p-y4", "node-y")],
                   want: [u, u, u, u]),
    ]

    private func runFilter(_ c: FilterCase) {
        let plugin = PodTopologySpread(defaulting: .list([]))
        let state = CycleState()
        let infos = snapshot(c.nodes, c.pods)
        let (_, pre) = plugin.runPreFilter(state, c.pod, infos)
        #expect(pre.isSuccess)
        let got = infos.map { plugin.filter(state, c.pod, $0).code }
        #expect(got == c.want)
    }

    @Test(arguments: singleConstraintCases)
    func singleConstraint(_ c: FilterCase) { runFilter(c) }

    @Test(arguments: multipleConstraintsCases)
    func multipleConstraints(_ c: FilterCase) { runFilter(c) }

    @Test func filterReasons() {
        let plugin = PodTopologySpread()
        let pod = tpod().label("foo", "").spread(1, "node", dns, foo)
        let infos = snapshot([nn("node-a"), nn("node-b"), tnode("node-c")], [fp("p-a1", "node-a")])
        let state = CycleState()
        _ = plugin.runPreFilter(state, pod, infos)
        #expect(plugin.filter(state, pod, infos[0]) == Status(.unschedulable,
            ["node(s) didn't match pod topology spread constraints"], plugin: "PodTopologySpread"))
        #expect(plugin.filter(state, pod, infos[1]) == .success)
        #expect(plugin.filter(state, pod, infos[2]) == Status(.unschedulableAndUnresolvable,
            ["node(s) didn't match pod topology spread constraints (missing required label)"], plugin: "PodTopologySpread"))
    }

    /// Without PreFilter (a caller that only filters), Filter counts over `state.allNodes`.
    @Test func filterWithoutPreFilter() {
        let plugin = PodTopologySpread()
        let pod = tpod().label("foo", "").spread(1, "node", dns, foo)
        let infos = snapshot([nn("node-a"), nn("node-b")], [fp("p-a1", "node-a")])
        let state = CycleState()
        state.allNodes = infos
        #expect(infos.map { plugin.filter(state, pod, $0).code } == [.unschedulable, .success])
    }

    /// upstream's countPodsMatchSelector counts no existing pod for an empty selector `{}` while
    /// the incoming pod matches it: such a DoNotSchedule constraint never rejects a node.
    @Test func emptySelectorCountsNoExistingPod() {
        let plugin = PodTopologySpread()
        let pod = tpod().label("foo", "").spread(1, "node", dns, LabelSelector())
        let infos = snapshot([nn("node-a"), nn("node-b")], [fp("p-a1", "node-a"), fp("p-a2", "node-a")])
        let state = CycleState()
        #expect(plugin.runPreFilter(state, pod, infos).status.code == .success)
        #expect((state[PodTopologySpread.preFilterKey] as? PodTopologySpread.PreFilterState)?.counts
            == [["node-a": 0, "node-b": 0]])
        #expect(infos.map { plugin.filter(state, pod, $0).code } == [.success, .success])
    }

    @Test func invalidSelectorIsAnError() {
        let plugin = PodTopologySpread()
        let pod = tpod().spread(1, "node", dns, LabelSelector(matchLabels: ["foo": "{{.bad-value.}}"]))
        let (_, status) = plugin.runPreFilter(CycleState(), pod, snapshot([nn("node-a")], []))
        #expect(status.code == .error)
        #expect(status.message.contains("Invalid value: \"{{.bad-value.}}\""))
    }

    // MARK: - PreScore

    struct PreScoreCase: Sendable, CustomTestStringConvertible {
        let name: String
        let pod: Pod
        let nodes: [Node]
        var defaulting: PodTopologySpread.Defaulting = .list([])
        var defaultSelector: LabelSelector? = nil
        var wantIgnored: Set<String> = []
        /// Per constraint: domain → count (empty for the hostname key).
        let wantCounts: [[String: Int64]]
        /// The domain sizes whose ln(size + 2) are the weights.
        let wantSizes: [Int]
        var testDescription: String { name }
    }

    // kube-scheduler TestPreScoreStateEmptyNodes (scoring_test.go), every case. The ReplicaSet
    // lookups of the "replicaset" cases are given as `defaultSelector` (the ReplicaSet's
    // selector, `foo` Exists).
    static let preScoreCases: [PreScoreCase] = [
        PreScoreCase(name: "normal case",
                     pod: tpod().label("foo", "").spread(1, "zone", sa, foo).spread(1, hostname, sa, foo),
                     nodes: [zh("node-a", "zone1"), zh("node-b", "zone1"), zh("node-x", "zone2")],
                     wantCounts: [["zone1": 0, "zone2": 0], [:]], wantSizes: [2, 3]),
        PreScoreCase(name: "null selector", pod: tpod().label("foo", "").spread(1, "zone", sa, nil),
                     nodes: [zh("node-a", "zone1"), zh("node-b", "zone1"), zh("node-x", "zone2")],
                     wantCounts: [["zone1": 0, "zone2": 0]], wantSizes: [2]),
        PreScoreCase(name: "node-x doesn't have label zone",
                     pod: tpod().label("foo", "").spread(1, "zone", sa, foo).spread(1, hostname, sa, bar),
                     nodes: [zh("node-a", "zone1"), zh("node-b", "zone1"), hn("node-x")],
                     wantIgnored: ["node-x"], wantCounts: [["zone1": 0], [:]], wantSizes: [1, 2]),
        PreScoreCase(name: "system default constraints and a replicaset",
                     pod: tpod().label("foo", "tar").label("baz", "sup").ownedByReplicaSet("rs1"),
                     nodes: [tnode("node-a", [hostname: "node-a", zoneK: "mars"]), tnode("node-b", [hostname: "node-b", zoneK: "mars"]),
                             hn("node-c"), hn("node-d")],
                     defaulting: .system, defaultSelector: foo,
                     wantCounts: [[:], ["mars": 0, "": 0]], wantSizes: [4, 2]),
        PreScoreCase(name: "default constraints and a replicaset",
                     pod: tpod().label("foo", "tar").label("baz", "sup").ownedByReplicaSet("rs1"),
                     nodes: [tnode("node-a", ["rack": "rack1", hostname: "node-a", "planet": "mars"])],
                     defaulting: .list([
                         TopologySpreadConstraint(maxSkew: 1, topologyKey: hostname, whenUnsatisfiable: sa),
                         TopologySpreadConstraint(maxSkew: 2, topologyKey: "rack", whenUnsatisfiable: dns),
                         TopologySpreadConstraint(maxSkew: 2, topologyKey: "planet", whenUnsatisfiable: sa),
                     ]),
                     defaultSelector: foo, wantCounts: [[:], ["mars": 0]], wantSizes: [1, 1]),
        PreScoreCase(name: "default constraints and a replicaset, but pod has constraints",
                     pod: tpod().label("foo", "bar").label("baz", "sup").ownedByReplicaSet("rs1")
                         .spread(1, "zone", dns, bar).spread(2, "planet", sa, LabelSelector(matchLabels: ["baz": "sup"])),
                     nodes: [tnode("node-a", ["planet": "mars", "galaxy": "andromeda"])],
                     defaulting: .list([TopologySpreadConstraint(maxSkew: 2, topologyKey: "galaxy", whenUnsatisfiable: sa)]),
                     defaultSelector: foo, wantCounts: [["mars": 0]], wantSizes: [1]),
        PreScoreCase(name: "NodeAffinityPolicy honored with labelSelectors",
                     pod: tpod().label("foo", "").nodeSelector(["foo": ""]).spread(1, "zone", sa, bar),
                     nodes: [tnode("node-a", ["zone": "zone1", "foo": "", hostname: "node-a"]),
                             tnode("node-b", ["zone": "zone1", "foo": "", hostname: "node-b"]), zh("node-x", "zone2")],
                     wantCounts: [["zone1": 0, "zone2": 0]], wantSizes: [2]),
        PreScoreCase(name: "NodeAffinityPolicy ignored with labelSelectors",
                     pod: tpod().label("foo", "").nodeSelector(["foo": ""]).spread(1, "zone", sa, bar, affinityPolicy: .ignore),
                     nodes: [tnode("node-a", ["zone": "zone1", "foo": "", hostname: "node-a"]),
                             tnode("node-b", ["zone": "zone1", "foo": "", hostname: "node-b"]), zh("node-x", "zone2")],
                     wantCounts: [["zone1": 0, "zone2": 0]], wantSizes: [2]),
        PreScoreCase(name: "NodeAffinityPolicy honored with nodeAffinity",
                     pod: tpod().label("foo", "").nodeAffinity("foo", "In", [""]).spread(1, "zone", sa, bar),
                     nodes: [tnode("node-a", ["zone": "zone1", "foo": "", hostname: "node-a"]),
                             tnode("node-b", ["zone": "zone1", "foo": "", hostname: "node-b"]), zh("node-x", "zone2")],
                     wantCounts: [["zone1": 0, "zone2": 0]], wantSizes: [2]),
        PreScoreCase(name: "NodeAffinityPolicy ignored with nodeAffinity",
                     pod: tpod().label("foo", "").nodeAffinity("foo", "In", [""]).spread(1, "zone", sa, bar, affinityPolicy: .ignore),
                     nodes: [tnode("node-a", ["zone": "zone1", "foo": "", hostname: "node-a"]),
                             tnode("node-b", ["zone": "zone1", "foo": "", hostname: "node-b"]), zh("node-x", "zone2")],
                     wantCounts: [["zone1": 0, "zone2": 0]], wantSizes: [2]),
        PreScoreCase(name: "NodeTaintsPolicy honored",
                     pod: tpod().label("foo", "").spread(1, "zone", sa, bar, taintsPolicy: .honor),
                     nodes: [tnode("node-a", ["zone": "zone1", "foo": "", hostname: "node-a"]),
                             tnode("node-b", ["zone": "zone1", "foo": "", hostname: "node-b"]),
                             tnode("node-x", ["zone": "zone2", hostname: "node-x"], taints: [unschedulableTaint])],
                     wantCounts: [["zone1": 0, "zone2": 0]], wantSizes: [2]),
        PreScoreCase(name: "NodeTaintsPolicy ignored",
                     pod: tpod().label("foo", "").spread(1, "zone", sa, bar),
                     nodes: [tnode("node-a", ["zone": "zone1", "foo": "", hostname: "node-a"]),
                             tnode("node-b", ["zone": "zone1", "foo": "", hostname: "node-b"]),
                             tnode("node-x", ["zone": "zone2", hostname: "node-x"], taints: [unschedulableTaint])],
                     wantCounts: [["zone1": 0, "zone2": 0]], wantSizes: [2]),
    ]

    @Test(arguments: preScoreCases)
    func preScoreState(_ c: PreScoreCase) {
        let selector = c.defaultSelector
        let plugin = PodTopologySpread(defaulting: c.defaulting, defaultSelector: { _ in selector })
        let state = CycleState()
        let infos = snapshot(c.nodes, [])
        state.allNodes = infos
        #expect(plugin.preScore(state, c.pod, infos).code == .success)
        let s = state[PodTopologySpread.preScoreKey] as? PodTopologySpread.PreScoreState
        #expect(s?.ignoredNodes == c.wantIgnored)
        #expect(s?.domainCounts == c.wantCounts)
        #expect(s?.weights == c.wantSizes.map { log(Double($0 + 2)) })
    }

    // kube-scheduler TestPreScoreSkip (scoring_test.go), both cases. The second one's ReplicaSet
    // "rs2" does not exist, so no selector is built (`defaultSelector` gives nil).
    @Test func preScoreSkip() {
        let nodes = snapshot([hn("node-a"), hn("node-b")], [])
        let state = CycleState()
        state.allNodes = nodes
        #expect(PodTopologySpread(defaulting: .list([])).preScore(state, tpod(), nodes).code == .skip)
        let withDefaults = PodTopologySpread(
            defaulting: .list([TopologySpreadConstraint(maxSkew: 2, topologyKey: "planet", whenUnsatisfiable: sa)]),
            defaultSelector: { _ in nil })
        let pod = tpod().label("foo", "bar").label("baz", "sup").ownedByReplicaSet("rs2")
        let planet = snapshot([tnode("node-a", ["planet": "mars"])], [])
        state.allNodes = planet
        #expect(withDefaults.preScore(state, pod, planet).code == .skip)
    }

    // MARK: - Score

    struct ScoreCase: Sendable, CustomTestStringConvertible {
        let name: String
        let pod: Pod
        var pods: [Pod] = []
        /// The candidates (feasible nodes).
        let nodes: [Node]
        /// Nodes of the snapshot that are not candidates.
        var failedNodes: [Node] = []
        let want: [Int64]
        var testDescription: String { name }
    }

    private static func hostPods(_ counts: [(String, Int)]) -> [Pod] {
        counts.flatMap { node, n in (0..<n).map { fp("p-\(node.suffix(1))\($0 + 1)", node) } }
    }

    private static let fourHosts = [hn("node-a"), hn("node-b"), hn("node-c"), hn("node-d")]

    // kube-scheduler TestPodTopologySpreadScore (scoring_test.go), run as upstream with
    // `DefaultingType: System`. Skipped: "matchLabelKeys ignored when feature gate disabled"
    // (the gate is on in v1.35 and the expected scores assume it off). The "system defaulting"
    // case selects the pods through a Service upstream; here the pod is owned by a ReplicaSet and
    // `ownerSelector` selects its labels (`foo: ""`), the same pods.
    static let scoreCases: [ScoreCase] = [
        ScoreCase(name: "one constraint on node, no existing pods",
                  pod: tpod().label("foo", "").spread(1, hostname, sa, foo), nodes: [hn("node-a"), hn("node-b")],
                  want: [100, 100]),
        ScoreCase(name: "one constraint on node, only one node is candidate",
                  pod: tpod().label("foo", "").spread(1, hostname, sa, foo),
                  pods: [fp("p-a1", "node-a"), fp("p-a2", "node-a"), fp("p-b1", "node-b")],
                  nodes: [hn("node-a")], failedNodes: [hn("node-b")], want: [100]),
        ScoreCase(name: "one constraint on node, all nodes have the same number of matching pods",
                  pod: tpod().label("foo", "").spread(1, hostname, sa, foo),
                  pods: [fp("p-a1", "node-a"), fp("p-b1", "node-b")], nodes: [hn("node-a"), hn("node-b")], want: [100, 100]),
        ScoreCase(name: "one constraint on node, all 4 nodes are candidates",
                  pod: tpod().label("foo", "").spread(1, hostname, sa, foo),
                  pods: hostPods([("node-a", 2), ("node-b", 1), ("node-d", 3)]), nodes: fourHosts, want: [20, 60, 100, 0]),
        ScoreCase(name: "one constraint on node, null selector",
                  pod: tpod().label("foo", "").spread(1, hostname, sa, nil),
                  pods: hostPods([("node-a", 2), ("node-b", 1), ("node-d", 3)]), nodes: fourHosts, want: [100, 100, 100, 100]),
        ScoreCase(name: "one constraint on node, all 4 nodes are candidates, maxSkew=2",
                  pod: tpod().label("foo", "").spread(2, hostname, sa, foo),
                  pods: hostPods([("node-a", 2), ("node-b", 1), ("node-d", 3)]), nodes: fourHosts, want: [33, 66, 100, 16]),
        ScoreCase(name: "one constraint on node, all 4 nodes are candidates, maxSkew=3",
                  pod: tpod().label("foo", "").spread(3, hostname, sa, foo),
                  pods: hostPods([("node-a", 4), ("node-b", 3), ("node-c", 2), ("node-d", 1)]), nodes: fourHosts,
                  want: [44, 66, 77, 100]),
        ScoreCase(name: "system defaulting, nodes don't have zone, pods match service",
                  pod: tpod().label("foo", "").ownedByReplicaSet("rs"),
                  pods: hostPods([("node-a", 4), ("node-b", 3), ("node-c", 2), ("node-d", 1)]), nodes: fourHosts,
                  want: [44, 66, 77, 100]),
        ScoreCase(name: "one constraint on node, 3 out of 4 nodes are candidates",
                  pod: tpod().label("foo", "").spread(1, hostname, sa, foo),
                  pods: hostPods([("node-a", 4), ("node-b", 2), ("node-x", 1), ("node-y", 3)]),
                  nodes: [hn("node-a"), hn("node-b"), hn("node-x")], failedNodes: [hn("node-y")], want: [33, 83, 100]),
        ScoreCase(name: "one constraint on node, 3 out of 4 nodes are candidates, one node doesn't match topology key",
                  pod: tpod().label("foo", "").spread(1, hostname, sa, foo),
                  pods: hostPods([("node-a", 4), ("node-b", 2), ("node-x", 1), ("node-y", 3)]),
                  nodes: [hn("node-a"), tnode("node-b", ["n": "node-b"]), hn("node-x")], failedNodes: [hn("node-y")],
                  want: [16, 0, 100]),
        ScoreCase(name: "one constraint on zone, 3 out of 4 nodes are candidates",
                  pod: tpod().label("foo", "").spread(1, "zone", sa, foo),
                  pods: hostPods([("node-a", 4), ("node-b", 2), ("node-x", 1), ("node-y", 3)]),
                  nodes: [zh("node-a", "zone1"), zh("node-b", "zone1"), zh("node-x", "zone2")],
                  failedNodes: [zh("node-y", "zone2")], want: [75, 75, 100]),
        ScoreCase(name: "two Constraints on zone and node, 2 out of 4 nodes are candidates",
                  pod: tpod().label("foo", "").spread(1, "zone", sa, foo).spread(1, hostname, sa, foo),
                  pods: hostPods([("node-a", 2), ("node-b", 1), ("node-x", 2), ("node-y", 4)]),
                  nodes: [zh("node-a", "zone1"), zh("node-x", "zone2")],
                  failedNodes: [zh("node-b", "zone1"), zh("node-y", "zone2")], want: [100, 63]),
        ScoreCase(name: "two Constraints on zone, 2 out of 4 nodes are candidates",
                  pod: tpod().label("foo", "").label("bar", "").spread(1, "zone", sa, foo).spread(1, "zone", sa, bar),
                  pods: [fbp("p-a1", "node-a"), fp("p-a2", "node-a"), fbp("p-b1", "node-b"), fp("p-y1", "node-y"),
                         fbp("p-y2", "node-y"), fp("p-y3", "node-y")],
                  nodes: [tnode("node-a", ["zone": "zone1"]), tnode("node-x", ["zone": "zone2"])],
                  failedNodes: [tnode("node-b", ["zone": "zone1"]), tnode("node-y", ["zone": "zone2"])], want: [85, 100]),
        ScoreCase(name: "two Constraints on zone and node, with different labelSelectors",
                  pod: tpod().label("foo", "").label("bar", "").spread(1, "zone", sa, foo).spread(1, hostname, sa, bar),
                  pods: [fp("p-a1", "node-a"), fbp("p-b1", "node-b"), fp("p-y1", "node-y"), bp("p-y2", "node-y")],
                  nodes: [zh("node-a", "zone1"), zh("node-b", "zone1"), zh("node-x", "zone2"), zh("node-y", "zone2")],
                  want: [60, 20, 100, 60]),
        ScoreCase(name: "two Constraints on zone and node, with different labelSelectors, some nodes have 0 pods",
                  pod: tpod().label("foo", "").label("bar", "").spread(1, "zone", sa, foo).spread(1, hostname, sa, bar),
                  pods: [bp("p-b1", "node-b"), fp("p-x1", "node-x"), fbp("p-y1", "node-y")],
                  nodes: [zh("node-a", "zone1"), zh("node-b", "zone1"), zh("node-x", "zone2"), zh("node-y", "zone2")],
                  want: [100, 60, 40, 0]),
        ScoreCase(name: "two Constraints on zone and node, with different labelSelectors, 3 out of 4 nodes are candidates",
                  pod: tpod().label("foo", "").label("bar", "").spread(1, "zone", sa, foo).spread(1, hostname, sa, bar),
                  pods: [fp("p-a1", "node-a"), fbp("p-b1", "node-b"), fp("p-y1", "node-y"), bp("p-y2", "node-y")],
                  nodes: [zh("node-a", "zone1"), zh("node-b", "zone1"), zh("node-x", "zone2")],
                  failedNodes: [zh("node-y", "zone2")], want: [50, 25, 100]),
        ScoreCase(name: "existing pods in a different namespace do not count",
                  pod: tpod().label("foo", "").spread(1, hostname, sa, foo),
                  pods: [fp("p-a1", "node-a").inNamespace("ns1"), fp("p-a2", "node-a"), fp("p-b1", "node-b"), fp("p-b2", "node-b")],
                  nodes: [hn("node-a"), hn("node-b")], want: [100, 33]),
        ScoreCase(name: "terminating Pods should be excluded",
                  pod: tpod().label("foo", "").spread(1, hostname, sa, foo),
                  pods: [fp("p-a", "node-a").terminating(), fp("p-b", "node-b")],
                  nodes: [hn("node-a"), hn("node-b")], want: [100, 0]),
        ScoreCase(name: "minDomains has no effect when ScheduleAnyway",
                  pod: tpod().label("foo", "").spread(2, "node", sa, foo, minDomains: 10),
                  pods: hostPods([("node-a", 2), ("node-b", 2), ("node-c", 1)]),
                  nodes: [nn("node-a"), nn("node-b"), nn("node-c")], want: [75, 75, 100]),
        ScoreCase(name: "NodeAffinityPolicy honoed with labelSelectors",
                  pod: tpod().label("foo", "").nodeSelector(["foo": ""]).spread(1, "node", sa, foo),
                  pods: hostPods([("node-a", 2), ("node-b", 1), ("node-c", 1)]),
                  nodes: [nn("node-a", ["foo": ""]), nn("node-b", ["foo": ""]), nn("node-c")], want: [0, 33, 100]),
        ScoreCase(name: "NodeAffinityPolicy ignored with labelSelectors",
                  pod: tpod().label("foo", "").nodeSelector(["foo": ""]).spread(1, "node", sa, foo, affinityPolicy: .ignore),
                  pods: hostPods([("node-a", 2), ("node-b", 1), ("node-c", 1)]),
                  nodes: [nn("node-a", ["foo": ""]), nn("node-b", ["foo": ""]), nn("node-c")], want: [66, 100, 100]),
        ScoreCase(name: "NodeAffinityPolicy honoed with nodeAffinity",
                  pod: tpod().label("foo", "").nodeAffinity("foo", "In", [""]).spread(1, "node", sa, foo),
                  pods: hostPods([("node-a", 2), ("node-b", 1), ("node-c", 1)]),
                  nodes: [nn("node-a", ["foo": ""]), nn("node-b", ["foo": ""]), nn("node-c")], want: [0, 33, 100]),
        ScoreCase(name: "NodeAffinityPolicy ignored with nodeAffinity",
                  pod: tpod().label("foo", "").nodeAffinity("foo", "In", [""]).spread(1, "node", sa, foo, affinityPolicy: .ignore),
                  pods: hostPods([("node-a", 2), ("node-b", 1), ("node-c", 1)]),
                  nodes: [nn("node-a", ["foo": ""]), nn("node-b", ["foo": ""]), nn("node-c")], want: [66, 100, 100]),
        ScoreCase(name: "NodeTaintsPolicy honored",
                  pod: tpod().label("foo", "").spread(1, "node", sa, foo, taintsPolicy: .honor),
                  pods: hostPods([("node-a", 2), ("node-b", 1), ("node-c", 1)]),
                  nodes: [nn("node-a"), nn("node-b"), nn("node-c", taints: [unschedulableTaint])], want: [0, 33, 100]),
        ScoreCase(name: "NodeTaintsPolicy ignored",
                  pod: tpod().label("foo", "").spread(1, "node", sa, foo),
                  pods: hostPods([("node-a", 2), ("node-b", 1), ("node-c", 1)]),
                  nodes: [nn("node-a"), nn("node-b"), nn("node-c", taints: [unschedulableTaint])], want: [66, 100, 100]),
        ScoreCase(name: "matchLabelKeys ANDed with LabelSelector when LabelSelector is empty",
                  pod: tpod().label("foo", "").label("bar", "").spread(1, "zone", sa, LabelSelector(), matchLabelKeys: ["foo"])
                      .spread(1, hostname, sa, LabelSelector(), matchLabelKeys: ["bar"]),
                  pods: [fp("p-a1", "node-a"), fbp("p-b1", "node-b"), fp("p-y1", "node-c"), bp("p-y2", "node-c")],
                  nodes: [zh("node-a", "zone1"), zh("node-b", "zone1"), zh("node-c", "zone2"), zh("node-d", "zone2")],
                  want: [60, 20, 60, 100]),
        ScoreCase(name: "matchLabelKeys ANDed with LabelSelector when LabelSelector isn't empty",
                  pod: tpod().label("foo", "").label("bar", "").label("baz", "").spread(1, "zone", sa, foo)
                      .spread(1, hostname, sa, bar, matchLabelKeys: ["baz"]),
                  pods: [fp("p-a1", "node-a"), fbp("p-b1", "node-b").label("baz", ""), fp("p-c1", "node-c"), bp("p-c2", "node-c"),
                         bp("p-d3", "node-c").label("baz", "")],
                  nodes: [zh("node-a", "zone1"), zh("node-b", "zone1"), zh("node-c", "zone2"), zh("node-d", "zone2")],
                  want: [60, 20, 60, 100]),
    ]

    /// PreScore over the candidates with every node in `state.allNodes`, then Score and
    /// NormalizeScore, as upstream's table runner.
    private static func scores(_ plugin: PodTopologySpread, _ pod: Pod, nodes: [Node], failed: [Node],
                               pods: [Pod]) -> (Status, [Int64]) {
        let all = snapshot(nodes + failed, pods)
        let candidates = Array(all.prefix(nodes.count))
        let state = CycleState()
        state.allNodes = all
        let pre = plugin.preScore(state, pod, candidates)
        guard pre.code == .success else { return (pre, []) }
        var list: [(node: String, score: Int64)] = candidates.map { ($0.name, plugin.score(state, pod, $0).0) }
        _ = plugin.normalize(state, pod, &list)
        return (pre, list.map(\.score))
    }

    @Test(arguments: scoreCases)
    func score(_ c: ScoreCase) {
        let (status, got) = Self.scores(PodTopologySpread(), c.pod, nodes: c.nodes, failed: c.failedNodes, pods: c.pods)
        #expect(status.code == .success)
        #expect(got == c.want)
    }

    // MARK: - System defaults (kubelab)

    /// The default `ownerSelector`: the pod's labels for a pod controlled by a ReplicaSet;
    /// nothing for a pod without a controller or with another kind of owner.
    @Test func ownerSelector() {
        let owned = tpod().label("app", "web").label("pod-template-hash", "abc").ownedByReplicaSet("web-abc")
        #expect(PodTopologySpread.ownerSelector(owned) == LabelSelector(matchLabels: ["app": "web", "pod-template-hash": "abc"]))
        #expect(PodTopologySpread.ownerSelector(tpod().label("app", "web")) == nil)
        var job = tpod().label("app", "web")
        job.metadata.ownerReferences = [OwnerReference(apiVersion: "batch/v1", kind: "Job", name: "j", uid: "j")]
        #expect(PodTopologySpread.ownerSelector(job) == nil)
        #expect(PodTopologySpread.ownerSelector(tpod().ownedByReplicaSet("rs")) == nil)
    }

    /// A pod without constraints and without an owner gets no system default constraints: both
    /// PreFilter and PreScore skip.
    @Test func systemDefaultsNeedAnOwner() {
        let plugin = PodTopologySpread()
        let infos = snapshot([hn("node-a"), hn("node-b")], [])
        let state = CycleState()
        state.allNodes = infos
        #expect(plugin.runPreFilter(state, tpod().label("app", "web"), infos).status.code == .skip)
        #expect(plugin.preScore(state, tpod().label("app", "web"), infos).code == .skip)
        // With a ReplicaSet owner the defaults are soft: PreFilter still skips, PreScore runs.
        let owned = tpod().label("app", "web").ownedByReplicaSet("web-abc")
        #expect(plugin.runPreFilter(state, owned, infos).status.code == .skip)
        #expect(plugin.preScore(state, owned, infos).code == .success)
        let s = state[PodTopologySpread.preScoreKey] as? PodTopologySpread.PreScoreState
        #expect(s?.constraints.map(\.topologyKey) == [hostname, zoneK])
        #expect(s?.constraints.map(\.maxSkew) == [3, 5])
    }

    /// NormalizeScore's denominator is the maximum, not max − min: raw scores 3, 4, 5 give
    /// 100·(5+3−raw)/5 = 100, 80, 60.
    @Test func normalizeUsesMaxAsDenominator() {
        let plugin = PodTopologySpread()
        let pod = tpod().label("foo", "").spread(1, "node", sa, foo)
        let infos = snapshot([nn("node-a"), nn("node-b"), nn("node-c")], [])
        let state = CycleState()
        state.allNodes = infos
        #expect(plugin.preScore(state, pod, infos).code == .success)
        var list: [(node: String, score: Int64)] = [("node-a", 3), ("node-b", 4), ("node-c", 5)]
        #expect(plugin.normalize(state, pod, &list).isSuccess)
        #expect(list.map(\.score) == [100, 80, 60])
    }
}
