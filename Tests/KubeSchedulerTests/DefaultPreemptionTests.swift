import Testing
import KubeAPI
import SimCore
@testable import KubeScheduler

// Tables ported from kube-scheduler's default_preemption_test.go (TestPostFilter,
// TestDryRunPreemption, TestSelectBestCandidate) with its priorities and resource sizes:
// cpu in millicores and memory in bytes of the same number, as upstream's "100m" / "100".

private let negPriority: Int32 = -100, lowPriority: Int32 = 0, midPriority: Int32 = 100
private let highPriority: Int32 = 1000, veryHighPriority: Int32 = 10000

private typealias Res = (cpu: Int64, memory: Int64)
private let smallRes: Res = (100, 100), mediumRes: Res = (200, 200), largeRes: Res = (300, 300), veryLargeRes: Res = (500, 500)

extension Pod {
    /// `.Priority(p)`.
    func withPriority(_ p: Int32) -> Pod { var q = self; q.spec.priority = p; return q }
    /// `.StartTime(epochTimeN)`: started N nanoseconds after the epoch.
    func startedAt(_ n: Int64) -> Pod { var q = self; q.status.startTime = SimTime(nanoseconds: n); return q }
    /// `.PreemptionPolicy(Never)`.
    func neverPreempts() -> Pod { var q = self; q.spec.preemptionPolicy = .never; return q }
    /// `.NominatedNodeName(n)`.
    func nominated(_ n: String) -> Pod { var q = self; q.status.nominatedNodeName = n; return q }
}

/// `st.MakePod().Name(name).Priority(p).Req(res)`.
private func ppod(_ name: String, _ priority: Int32, _ res: Res? = nil, on node: String? = nil) -> Pod {
    var p = Pod.make(name).withPriority(priority)
    if let res { p = p.requests(cpu: res.cpu, memory: res.memory) }
    if let node { p.spec.nodeName = node }
    return p
}

/// A node of `veryLargeRes` (upstream's default for these tables), or only a pod count.
private func pnode(_ name: String, _ res: Res = veryLargeRes, pods: Int64 = 110, labels: [String: String] = [:]) -> Node {
    Node.make(name, cpu: res.cpu, memory: res.memory, pods: pods).labels(labels)
}

/// A PDB on `matchLabels` with the given disruptions allowed.
private func pdb(_ name: String, _ labels: [String: String], allowed: Int, disrupted: [String] = []) -> PodDisruptionBudget {
    var b = PodDisruptionBudget(metadata: ObjectMeta(name: name, namespace: "default"),
                                spec: PodDisruptionBudgetSpec(selector: LabelSelector(matchLabels: labels)))
    b.status.disruptionsAllowed = allowed
    for d in disrupted { b.status.disruptedPods[d] = SimTime(nanoseconds: 1) }
    return b
}

/// A profile with only NodeResourcesFit as its filter, as upstream's tables register it.
private func fitOnly() -> Framework { Framework(filters: [NodeResourcesFit()], scores: []) }

private func context(_ f: Framework, _ nodes: [Node], _ pods: [Pod], pdbs: [PodDisruptionBudget] = []) -> PostFilterContext {
    PostFilterContext(framework: f, nodes: snapshot(nodes, pods), pdbs: pdbs, random: { 0 })
}

private func names(_ pods: [Pod]) -> [String] { pods.map(\.metadata.name) }

@Suite struct DefaultPreemptionTests {
    // MARK: - PostFilter (TestPostFilter)

    /// Runs a real cycle for `pod`, then the profile's PostFilter plugins on its failures;
    /// with `unschedulable`, on every node rejected as `unschedulable` instead (upstream's
    /// filteredNodesStatuses), whatever the cycle said.
    private func postFilter(_ pod: Pod, _ nodes: [Node], _ pods: [Pod], pdbs: [PodDisruptionBudget] = [],
                            framework f: Framework = fitOnly(), unschedulable: Bool = false) -> PostFilterResult {
        let infos = snapshot(nodes, pods)
        var r = f.schedule(pod, nodes: infos) { 0 }
        #expect(r.node == nil, "the pod fits without preemption")
        if unschedulable { r.failures = nodes.map { Framework.NodeFailure(node: $0.metadata.name, status: Status(.unschedulable)) } }
        return f.runPostFilter(pod, r, PostFilterContext(framework: f, nodes: infos, pdbs: pdbs, random: { 0 }))
    }

    @Test func podWithHigherPriorityCanBeMadeSchedulable() {
        let r = postFilter(ppod("p", highPriority), [pnode("node1", pods: 1)], [ppod("p1", lowPriority, on: "node1")])
        #expect(r.status.code == .success)
        #expect(r.nominatedNodeName == "node1")
        #expect(names(r.victims) == ["p1"])
    }

    @Test func podWithTiedPriorityIsStillUnschedulable() {
        let r = postFilter(ppod("p", lowPriority), [pnode("node1", pods: 1)], [ppod("p1", lowPriority, on: "node1")])
        #expect(r.status == Status(.unschedulable, ["preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod."],
                                   plugin: "DefaultPreemption"))
        #expect(r.nominatedNodeName == "")
    }

    @Test func preemptionRespectsTheFilteredNodesStatuses() {
        let f = fitOnly()
        let ctx = context(f, [pnode("node1", pods: 1)], [ppod("p1", lowPriority, on: "node1")])
        let pod = ppod("p", highPriority)
        for failures in [[Framework.NodeFailure(node: "node1", status: Status(.unschedulableAndUnresolvable))], []] {
            let r = f.runPostFilter(pod, Framework.Result(failures: failures, nodeCount: 1), ctx)
            #expect(r.status.message == "preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.")
            #expect(r.status.code == .unschedulable && r.nominatedNodeName == "")
        }
    }

    @Test func podCanBeMadeSchedulableOnOneNode() {
        let r = postFilter(ppod("p", midPriority), [pnode("node1", pods: 1), pnode("node2", pods: 1)],
                           [ppod("p1", highPriority, on: "node1"), ppod("p2", lowPriority, on: "node2")])
        #expect(r.status.code == .success && r.nominatedNodeName == "node2")
    }

    @Test func podCanBeMadeSchedulableOnTheMinHighestPriorityNodeDespiteAViolatedBudget() {
        let key = "test.kubernetes.io/is-violating-pdb"
        let pods = [
            ppod("p1", highPriority, on: "node1").labels([key: "non-violating"]),
            ppod("p2", lowPriority, on: "node1").labels([key: "violating"]),
            ppod("p3", midPriority, on: "node2").labels([key: "violating"]),
        ]
        let pdbs = [pdb("violating-pdb", [key: "violating"], allowed: 0), pdb("non-violating-pdb", [key: "non-violating"], allowed: Int(Int32.max))]
        let r = postFilter(ppod("p", veryHighPriority), [pnode("node1", pods: 1), pnode("node2", pods: 1)], pods, pdbs: pdbs)
        #expect(r.status.code == .success && r.nominatedNodeName == "node2")
        #expect(names(r.victims) == ["p3"])
    }

    @Test func noCandidateWhenRemovingLowerPriorityPodsDoesNotFreeEnough() {
        let nodeRes: Res = (200, 400)
        let r = postFilter(ppod("p", highPriority, largeRes), [pnode("node1", nodeRes), pnode("node2", nodeRes)],
                           [ppod("p1", lowPriority, on: "node1"), ppod("p2", lowPriority, on: "node2")], unschedulable: true)
        #expect(r.status.message == "preemption: 0/2 nodes are available: 2 Insufficient cpu.")
        #expect(r.nominatedNodeName == "")
    }

    @Test func noCandidateWithMixedReasons() {
        let nodeRes: Res = (200, 400)
        let r = postFilter(ppod("p", highPriority, largeRes),
                           [pnode("node1", (1000, 1000), pods: 1), pnode("node2", nodeRes), pnode("node3", (1000, 1000), pods: 1)],
                           [ppod("p1", highPriority, on: "node1"), ppod("p2", lowPriority, on: "node2"), ppod("p3", highPriority, on: "node3")],
                           unschedulable: true)
        #expect(r.status.message == "preemption: 0/3 nodes are available: 1 Insufficient cpu, 2 No preemption victims found for incoming pod.")
    }

    @Test func nodesThePreemptionCannotHelpAreNotHelpful() {
        let nodeRes: Res = (200, 400)
        let f = fitOnly()
        let nodes = ["node1", "node2", "node3", "node4"].map { pnode($0, nodeRes) }
        let ctx = context(f, nodes, [ppod("p1", lowPriority, on: "node1"), ppod("p2", lowPriority, on: "node2")])
        let failures = [
            Framework.NodeFailure(node: "node1", status: Status(.unschedulable)),
            Framework.NodeFailure(node: "node2", status: Status(.unschedulable)),
            Framework.NodeFailure(node: "node4", status: Status(.unschedulableAndUnresolvable)),
        ]
        let r = f.runPostFilter(ppod("p", highPriority, largeRes), Framework.Result(failures: failures, nodeCount: 4), ctx)
        #expect(r.status.message == "preemption: 0/4 nodes are available: 2 Insufficient cpu, 2 Preemption is not helpful for scheduling.")
    }

    // MARK: - Eligibility (PodEligibleToPreemptOthers)

    @Test func preemptionPolicyNeverIsNotEligible() {
        let r = postFilter(ppod("p", highPriority).neverPreempts(), [pnode("node1", pods: 1)], [ppod("p1", lowPriority, on: "node1")])
        #expect(r.status == Status(.unschedulable, ["preemption: not eligible due to preemptionPolicy=Never."], plugin: "DefaultPreemption"))
        #expect(r.nominatedNodeName == nil, "the nomination is left as it is")
        #expect(r.victims.isEmpty)
    }

    @Test func aPodWaitsForVictimsTerminatingOnItsNominatedNode() {
        let plugin = DefaultPreemption()
        var victim = ppod("p1", lowPriority, on: "node1").terminating()
        let infos = { snapshot([pnode("node1")], [victim]) }
        let pod = ppod("p", highPriority).nominated("node1")
        // Terminating for another reason: eligible.
        #expect(plugin.eligibleToPreemptOthers(pod, nominatedNodeStatus: Status(.unschedulable), nodes: infos()) == (true, ""))
        victim.status.conditions = [PodCondition(type: "DisruptionTarget", status: "True", reason: "PreemptionByScheduler")]
        #expect(plugin.eligibleToPreemptOthers(pod, nominatedNodeStatus: Status(.unschedulable), nodes: infos())
            == (false, "not eligible due to a terminating pod on the nominated node."))
        // The nominated node cannot help any more: preempt elsewhere.
        #expect(plugin.eligibleToPreemptOthers(pod, nominatedNodeStatus: Status(.unschedulableAndUnresolvable), nodes: infos()) == (true, ""))
        // A higher-priority victim-to-be does not hold the pod back.
        #expect(plugin.eligibleToPreemptOthers(ppod("q", lowPriority).nominated("node1"), nominatedNodeStatus: Status(.unschedulable),
                                               nodes: infos()) == (true, ""))
    }

    // MARK: - Dry run (TestDryRunPreemption)

    /// The candidates of a dry run over every node (sorted by node, victims by name, as
    /// upstream compares them).
    private func dryRun(_ pod: Pod, _ nodes: [Node], _ pods: [Pod], pdbs: [PodDisruptionBudget] = [], offset: Int = 0,
                        plugin: DefaultPreemption = DefaultPreemption(), framework f: Framework = fitOnly()) -> [String] {
        let ctx = context(f, nodes, pods, pdbs: pdbs)
        let (candidates, _) = plugin.dryRunPreemption(pod, potential: Array(nodes.indices), context: ctx, offset: offset,
                                                      candidates: plugin.numCandidates(nodes.count))
        return candidates.sorted { $0.node < $1.node }.map { c in
            "\(c.node): \(names(c.victims).sorted().joined(separator: ","))" + (c.numPDBViolations > 0 ? " (\(c.numPDBViolations) pdb)" : "")
        }
    }

    private let twoNodes = [pnode("node1"), pnode("node2")]

    @Test func aPodThatFitsOnBothNodesWhenLowerPriorityPodsArePreempted() {
        #expect(dryRun(ppod("p", highPriority, largeRes), twoNodes,
                       [ppod("p1", midPriority, largeRes, on: "node1"), ppod("p2", midPriority, largeRes, on: "node2")])
            == ["node1: p1", "node2: p2"])
    }

    @Test func noPreemptionWhenTheRunningPodsHaveHigherPriority() {
        #expect(dryRun(ppod("p", lowPriority, largeRes), twoNodes,
                       [ppod("p1", midPriority, largeRes, on: "node1"), ppod("p2", midPriority, largeRes, on: "node2")]).isEmpty)
    }

    @Test func mediumPriorityPodIsPreemptedButTheSmallLowerPriorityOneStays() {
        #expect(dryRun(ppod("p", highPriority, largeRes), twoNodes, [
            ppod("p1.1", lowPriority, smallRes, on: "node1"), ppod("p1.2", midPriority, largeRes, on: "node1"),
            ppod("p2", midPriority, largeRes, on: "node2"),
        ]) == ["node1: p1.2", "node2: p2"])
    }

    @Test func mixedPriorityPodsArePreempted() {
        #expect(dryRun(ppod("p", highPriority, largeRes), twoNodes, [
            ppod("p1.1", midPriority, smallRes, on: "node1"), ppod("p1.2", lowPriority, smallRes, on: "node1"),
            ppod("p1.3", midPriority, mediumRes, on: "node1"), ppod("p1.4", highPriority, smallRes, on: "node1"),
            ppod("p2", highPriority, largeRes, on: "node2"),
        ]) == ["node1: p1.2,p1.3"])
    }

    @Test func ofEqualPriorityTheLaterStartedPodIsPreempted() {
        let plugin = DefaultPreemption()
        let pods = [
            ppod("p1.1", lowPriority, smallRes, on: "node1").startedAt(5), ppod("p1.2", lowPriority, smallRes, on: "node1").startedAt(4),
            ppod("p1.3", midPriority, mediumRes, on: "node1").startedAt(3), ppod("p1.4", highPriority, smallRes, on: "node1").startedAt(2),
            ppod("p2", highPriority, largeRes, on: "node2").startedAt(1),
        ]
        #expect(dryRun(ppod("p", highPriority, largeRes), twoNodes, pods) == ["node1: p1.1,p1.3"])
        // The victims come most important first.
        let v = plugin.selectVictimsOnNode(ppod("p", highPriority, largeRes), nodeAt: 0, context: context(fitOnly(), twoNodes, pods))
        #expect(names(v.victims) == ["p1.3", "p1.1"] && v.status.isSuccess)
    }

    @Test func podWithAntiAffinityIsPreempted() {
        let f = Framework(filters: [NodeResourcesFit(), InterPodAffinity()], scores: [])
        let nodes = [pnode("node1", labels: ["hostname": "node1"]), pnode("node2", labels: ["hostname": "node2"])]
        var antiAffine = ppod("p1.1", lowPriority, smallRes, on: "node1").labels(["foo": ""])
        antiAffine.spec.affinity = Affinity(podAntiAffinity: PodAffinity(required: [PodAffinityTerm(labelSelector: exists("foo"), topologyKey: "hostname")]))
        #expect(dryRun(ppod("p", highPriority, smallRes).labels(["foo": ""]), nodes, [
            antiAffine, ppod("p1.2", midPriority, smallRes, on: "node1"), ppod("p1.3", highPriority, smallRes, on: "node1"),
            ppod("p2", highPriority, smallRes, on: "node2"),
        ], framework: f) == ["node1: p1.1"])
    }

    @Test func preemptionResolvesAPodTopologySpreadFailure() {
        let f = Framework(filters: [PodTopologySpread()], scores: [])
        let nodes = [pnode("node-a", labels: ["hostname": "node-a", "zone": "zone1"]), pnode("node-b", labels: ["hostname": "node-b", "zone": "zone1"]),
                     pnode("node-x", labels: ["hostname": "node-x", "zone": "zone2"])]
        var pod = ppod("p", highPriority).labels(["foo": ""])
        pod.spec.topologySpreadConstraints = [
            TopologySpreadConstraint(maxSkew: 1, topologyKey: "zone", whenUnsatisfiable: "DoNotSchedule", labelSelector: exists("foo")),
            TopologySpreadConstraint(maxSkew: 1, topologyKey: "hostname", whenUnsatisfiable: "DoNotSchedule", labelSelector: exists("foo")),
        ]
        let pods = [("pod-a1", midPriority, "node-a"), ("pod-a2", lowPriority, "node-a"), ("pod-b1", lowPriority, "node-b"),
                    ("pod-x1", highPriority, "node-x"), ("pod-x2", highPriority, "node-x")].map { ppod($0.0, $0.1, on: $0.2).labels(["foo": ""]) }
        #expect(dryRun(pod, nodes, pods, framework: f) == ["node-a: pod-a2", "node-b: pod-b1"])
    }

    @Test func preemptionWithViolationOfTheSameBudget() {
        let pods = [ppod("p1.1", midPriority, mediumRes, on: "node1").labels(["app": "foo"]),
                    ppod("p1.2", midPriority, mediumRes, on: "node1").labels(["app": "foo"])]
        let pod = ppod("p", highPriority, veryLargeRes)
        #expect(dryRun(pod, [pnode("node1")], pods, pdbs: [pdb("foo", ["app": "foo"], allowed: 1)]) == ["node1: p1.1,p1.2 (1 pdb)"])
        // A victim whose eviction the API server already processed does not count.
        #expect(dryRun(pod, [pnode("node1")], pods, pdbs: [pdb("foo", ["app": "foo"], allowed: 1, disrupted: ["p2"])])
            == ["node1: p1.1,p1.2 (1 pdb)"])
        #expect(dryRun(pod, [pnode("node1")], pods, pdbs: [pdb("foo", ["app": "foo"], allowed: 1, disrupted: ["p1.2"])]) == ["node1: p1.1,p1.2"])
        let three = pods + [ppod("p1.3", midPriority, mediumRes, on: "node1").labels(["app": "foo"])]
        #expect(dryRun(pod, [pnode("node1")], three, pdbs: [pdb("foo", ["app": "foo"], allowed: 1, disrupted: ["p1.3"])])
            == ["node1: p1.1,p1.2,p1.3 (1 pdb)"])
    }

    @Test func budgetsOnlyCountPodsTheyMatch() {
        let pods = [ppod("a", lowPriority).labels(["app": "foo"]), ppod("b", lowPriority), ppod("c", lowPriority).labels(["app": "bar"]),
                    ppod("d", lowPriority).labels(["app": "foo"]).inNamespace("other")]
        var emptySelector = pdb("all", [:], allowed: 0)
        emptySelector.spec.selector = LabelSelector()
        let (violating, nonViolating) = DefaultPreemption.filterPodsWithPDBViolation(pods, [pdb("foo", ["app": "foo"], allowed: 0), emptySelector])
        #expect(names(violating) == ["a"])
        #expect(names(nonViolating) == ["b", "c", "d"])
    }

    @Test func defaultPreemptionArgsLimitTheCandidates() {
        let plugin = DefaultPreemption(minCandidateNodesPercentage: 40, minCandidateNodesAbsolute: 1)
        let nodes = (1...5).map { pnode("node\($0)") }
        let pods = (1...5).map { ppod("p\($0)", midPriority, largeRes, on: "node\($0)") }
        #expect(plugin.numCandidates(5) == 2)
        // Offset 4: node5, then node1.
        #expect(dryRun(ppod("p", highPriority, largeRes), nodes, pods, offset: 4, plugin: plugin) == ["node1: p1", "node5: p5"])
        // Candidates that violate a budget do not end the search until one that does not is found.
        let foo = pods.enumerated().map { i, p in [0, 1, 4].contains(i) ? p.labels(["app": "foo"]) : p }
        #expect(dryRun(ppod("p", highPriority, largeRes), nodes, foo, pdbs: [pdb("foo", ["app": "foo"], allowed: 0)], offset: 4, plugin: plugin)
            == ["node1: p1 (1 pdb)", "node3: p3", "node5: p5 (1 pdb)"])
    }

    @Test func numCandidatesFollowsKubesFormula() {
        let d = DefaultPreemption()
        #expect(d.numCandidates(50) == 50)
        #expect(d.numCandidates(1000) == 100)
        #expect(d.numCandidates(5000) == 500)
        #expect(DefaultPreemption(minCandidateNodesPercentage: 0, minCandidateNodesAbsolute: 3).numCandidates(5000) == 3)
    }

    // MARK: - Choosing the node (TestSelectBestCandidate)

    private func best(_ pod: Pod, _ nodeNames: [String], _ pods: [Pod]) -> String? {
        let plugin = DefaultPreemption()
        let nodes = nodeNames.map { pnode($0) }
        let (candidates, _) = plugin.dryRunPreemption(pod, potential: Array(nodes.indices), context: context(fitOnly(), nodes, pods),
                                                      offset: 0, candidates: plugin.numCandidates(nodes.count))
        return DefaultPreemption.selectCandidate(candidates)?.node
    }

    @Test func nodeWithTheMinHighestPriorityVictimIsPicked() {
        #expect(best(ppod("p", highPriority, veryLargeRes), ["node1", "node2", "node3"], [
            ppod("p1.1", midPriority, mediumRes, on: "node1").startedAt(0), ppod("p1.2", midPriority, largeRes, on: "node1").startedAt(0),
            ppod("p2.1", midPriority, mediumRes, on: "node2").startedAt(0), ppod("p2.2", lowPriority, mediumRes, on: "node2").startedAt(0),
            ppod("p3.1", lowPriority, mediumRes, on: "node3").startedAt(0), ppod("p3.2", lowPriority, mediumRes, on: "node3").startedAt(0),
        ]) == "node3")
    }

    @Test func sameHighestPriorityThenTheSmallestSumIsPicked() {
        #expect(best(ppod("p", highPriority, veryLargeRes), ["node1", "node2", "node3"], [
            ppod("p1.1", midPriority, mediumRes, on: "node1").startedAt(0), ppod("p1.2", midPriority, largeRes, on: "node1").startedAt(0),
            ppod("p2.1", midPriority, largeRes, on: "node2").startedAt(0), ppod("p2.2", lowPriority, mediumRes, on: "node2").startedAt(0),
            ppod("p3.1", midPriority, mediumRes, on: "node3").startedAt(0), ppod("p3.2", midPriority, mediumRes, on: "node3").startedAt(0),
        ]) == "node2")
    }

    @Test func sameHighestPriorityAndSumThenTheFewestVictims() {
        #expect(best(ppod("p", highPriority, veryLargeRes), ["node1", "node2", "node3"], [
            ppod("p1.1", midPriority, smallRes, on: "node1").startedAt(0), ppod("p1.2", negPriority, smallRes, on: "node1").startedAt(0),
            ppod("p1.3", midPriority, smallRes, on: "node1").startedAt(0), ppod("p1.4", negPriority, smallRes, on: "node1").startedAt(0),
            ppod("p2.1", midPriority, largeRes, on: "node2").startedAt(0), ppod("p2.2", negPriority, mediumRes, on: "node2").startedAt(0),
            ppod("p3.1", midPriority, mediumRes, on: "node3").startedAt(0), ppod("p3.2", negPriority, smallRes, on: "node3").startedAt(0),
            ppod("p3.3", lowPriority, smallRes, on: "node3").startedAt(0),
        ]) == "node2")
    }

    @Test func theSumOfAdjustedPrioritiesIsConsidered() {
        #expect(best(ppod("p", highPriority, veryLargeRes), ["node1", "node2", "node3"], [
            ppod("p1.1", midPriority, smallRes, on: "node1").startedAt(0), ppod("p1.2", negPriority, smallRes, on: "node1").startedAt(0),
            ppod("p1.3", negPriority, smallRes, on: "node1").startedAt(0),
            ppod("p2.1", midPriority, largeRes, on: "node2").startedAt(0), ppod("p2.2", negPriority, mediumRes, on: "node2").startedAt(0),
            ppod("p3.1", midPriority, mediumRes, on: "node3").startedAt(0), ppod("p3.2", negPriority, smallRes, on: "node3").startedAt(0),
            ppod("p3.3", lowPriority, smallRes, on: "node3").startedAt(0),
        ]) == "node2")
    }

    @Test func nonOverlappingLowestHighPrioritySumAndCount() {
        #expect(best(ppod("p", veryHighPriority, veryLargeRes), ["node1", "node2", "node3", "node4"], [
            ppod("p1.1", midPriority, smallRes, on: "node1"), ppod("p1.2", lowPriority, smallRes, on: "node1"),
            ppod("p1.3", lowPriority, smallRes, on: "node1"),
            ppod("p2.1", highPriority, largeRes, on: "node2"),
            ppod("p3.1", midPriority, mediumRes, on: "node3"), ppod("p3.2", lowPriority, smallRes, on: "node3"),
            ppod("p3.3", lowPriority, smallRes, on: "node3"), ppod("p3.4", lowPriority, mediumRes, on: "node3"),
            ppod("p4.1", midPriority, mediumRes, on: "node4"), ppod("p4.2", midPriority, smallRes, on: "node4"),
            ppod("p4.3", midPriority, smallRes, on: "node4"), ppod("p4.4", negPriority, smallRes, on: "node4"),
        ].map { $0.startedAt(0) }) == "node1")
    }

    @Test func sameVictimsThenTheLatestStartOfTheHighestPriorityVictims() {
        let p = ppod("p", highPriority, veryLargeRes)
        #expect(best(p, ["node1", "node2", "node3"], [
            ppod("p1.1", midPriority, mediumRes, on: "node1").startedAt(2), ppod("p1.2", midPriority, mediumRes, on: "node1").startedAt(2),
            ppod("p2.1", midPriority, mediumRes, on: "node2").startedAt(3), ppod("p2.2", midPriority, mediumRes, on: "node2").startedAt(3),
            ppod("p3.1", midPriority, mediumRes, on: "node3").startedAt(1), ppod("p3.2", midPriority, mediumRes, on: "node3").startedAt(1),
        ]) == "node2")
        #expect(best(p, ["node1", "node2", "node3"], [
            ppod("p1.1", midPriority, mediumRes, on: "node1").startedAt(4), ppod("p1.2", midPriority, mediumRes, on: "node1").startedAt(2),
            ppod("p2.1", midPriority, mediumRes, on: "node2").startedAt(5), ppod("p2.2", midPriority, mediumRes, on: "node2").startedAt(1),
            ppod("p3.1", midPriority, mediumRes, on: "node3").startedAt(3), ppod("p3.2", midPriority, mediumRes, on: "node3").startedAt(6),
        ]) == "node3")
        #expect(best(p, ["node1", "node2", "node3"], [
            ppod("p1.1", lowPriority, mediumRes, on: "node1").startedAt(4), ppod("p1.2", midPriority, mediumRes, on: "node1").startedAt(2),
            ppod("p2.1", midPriority, mediumRes, on: "node2").startedAt(6), ppod("p2.2", lowPriority, mediumRes, on: "node2").startedAt(1),
            ppod("p3.1", lowPriority, mediumRes, on: "node3").startedAt(3), ppod("p3.2", midPriority, mediumRes, on: "node3").startedAt(5),
        ]) == "node2")
    }

    @Test func pickOneNodeCriteriaInOrder() {
        func c(_ node: String, _ priorities: [Int32], pdb: Int = 0, started: Int64? = nil) -> DefaultPreemption.Candidate {
            let victims = priorities.enumerated().map { i, p in
                var v = ppod("\(node)-\(i)", p)
                if let started { v = v.startedAt(started) }
                return v
            }
            return DefaultPreemption.Candidate(node: node, victims: victims, numPDBViolations: pdb)
        }
        // Fewest PDB violations beats everything else.
        #expect(DefaultPreemption.pickOneNodeForPreemption([c("a", [0], pdb: 1), c("b", [900, 800, 700])]) == "b")
        // Then the lowest highest priority.
        #expect(DefaultPreemption.pickOneNodeForPreemption([c("a", [500]), c("b", [100, 100, 100])]) == "b")
        // A pod that has not started counts as the latest start.
        #expect(DefaultPreemption.pickOneNodeForPreemption([c("a", [100], started: 7), c("b", [100])]) == "b")
        // All equal: the first candidate found.
        #expect(DefaultPreemption.pickOneNodeForPreemption([c("x", [100], started: 1), c("y", [100], started: 1)]) == "x")
        #expect(DefaultPreemption.pickOneNodeForPreemption([]) == nil)
    }

    // MARK: - The no-time pass

    @Test func theSchedulingPassPreemptsAndRetriesOnce() {
        let nodes = [Node.make("node-1", cpu: 1000, memory: 1 << 30), Node.make("node-2", cpu: 1000, memory: 1 << 30)]
        let running = [ppod("low", lowPriority, (800, 0), on: "node-1").startedAt(1), ppod("mid", midPriority, (800, 0), on: "node-2").startedAt(1)]
        let pass = Framework.schedulePass(running + [ppod("high", highPriority, (500, 0))], nodes: nodes,
                                          profiles: [(nil, Framework.defaultProfile())], random: { 0 })
        #expect(pass.preempted == [Preemption(victim: "default/low", preemptor: "default/high", node: "node-1")])
        #expect(pass.results.map(\.key) == ["default/high"])
        #expect(pass.results.first?.result.node == "node-1")
    }

    @Test func theSchedulingPassRespectsBudgetsAndNever() {
        let nodes = [Node.make("node-1", cpu: 1000, memory: 1 << 30), Node.make("node-2", cpu: 1000, memory: 1 << 30)]
        let running = [ppod("db", lowPriority, (800, 0), on: "node-1").labels(["app": "db"]),
                       ppod("web", lowPriority, (800, 0), on: "node-2").labels(["app": "web"])]
        let budget = pdb("db", ["app": "db"], allowed: 0)
        let pass = Framework.schedulePass(running + [ppod("high", highPriority, (500, 0))], nodes: nodes,
                                          profiles: [(nil, Framework.defaultProfile())], pdbs: [budget], random: { 0 })
        #expect(pass.preempted.map(\.victim) == ["default/web"])
        #expect(pass.results.first?.result.node == "node-2")
        let never = Framework.schedulePass(running + [ppod("high", highPriority, (500, 0)).neverPreempts()], nodes: nodes,
                                           profiles: [(nil, Framework.defaultProfile())], pdbs: [budget], random: { 0 })
        #expect(never.preempted.isEmpty)
        #expect(never.results.first?.result.node == nil)
    }

    /// A profile without PostFilter plugins never preempts.
    @Test func aProfileWithoutDefaultPreemptionDoesNotPreempt() {
        let f = Framework.defaultProfile()
        #expect(f.postFilters.map(\.name) == ["DefaultPreemption"])
        f.postFilters = []
        let pass = Framework.schedulePass([ppod("low", lowPriority, (800, 0), on: "node-1"), ppod("high", highPriority, (500, 0))],
                                          nodes: [Node.make("node-1", cpu: 1000, memory: 1 << 30)], profiles: [(nil, f)], random: { 0 })
        #expect(pass.preempted.isEmpty)
        #expect(pass.results.first?.result.message == "0/1 nodes are available: 1 Insufficient cpu.")
    }

    @Test func aPodLargerThanEveryNodeIsNotHelped() {
        // NodeResourcesFit says UnschedulableAndUnresolvable when the request exceeds the
        // node's allocatable: no node is a candidate.
        let r = postFilter(ppod("p", highPriority, largeRes), [pnode("node1", (200, 400))], [ppod("p1", lowPriority, on: "node1")])
        #expect(r.status.message == "preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.")
    }

    // MARK: - KubeSchedulerConfiguration

    private static let header = "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n"

    private func framework(_ text: String) throws -> Framework {
        try #require(try SchedulerConfiguration.parse(Self.header + text, file: "config.yaml").frameworks().first?.framework)
    }

    @Test func theDefaultProfileHasDefaultPreemptionWithItsDefaultArgs() throws {
        let f = try framework("")
        let d = try #require(f.postFilters.first as? DefaultPreemption)
        #expect(f.postFilters.count == 1)
        #expect(d.minCandidateNodesPercentage == 10 && d.minCandidateNodesAbsolute == 100)
    }

    @Test func defaultPreemptionArgsAreRead() throws {
        let f = try framework("""
        profiles:
          - pluginConfig:
              - name: DefaultPreemption
                args:
                  minCandidateNodesPercentage: 40
                  minCandidateNodesAbsolute: 1
        """)
        let d = try #require(f.postFilters.first as? DefaultPreemption)
        #expect(d.minCandidateNodesPercentage == 40 && d.minCandidateNodesAbsolute == 1)
        let half = try #require(try framework("profiles:\n  - pluginConfig:\n      - {name: DefaultPreemption, args: {minCandidateNodesAbsolute: 5}}\n")
            .postFilters.first as? DefaultPreemption)
        #expect(half.minCandidateNodesPercentage == 10 && half.minCandidateNodesAbsolute == 5)
    }

    @Test func badDefaultPreemptionArgsNameTheField() throws {
        func error(_ args: String) -> ManifestError? {
            do { _ = try framework("profiles:\n  - pluginConfig:\n      - name: DefaultPreemption\n        args: \(args)\n"); return nil } catch {
                return error as? ManifestError
            }
        }
        let over = try #require(error("{minCandidateNodesPercentage: 101}"))
        #expect(over.field == "profiles[0].pluginConfig[0].args.minCandidateNodesPercentage")
        #expect(over.message == "not in valid range [0, 100]: \"101\"")
        #expect(over.file == "config.yaml" && over.line == 6)
        #expect(try #require(error("{minCandidateNodesAbsolute: -1}")).message == "not in valid range [0, inf): \"-1\"")
        #expect(try #require(error("{minCandidateNodesPercentage: 0, minCandidateNodesAbsolute: 0}")).message
            == "cannot be zero at the same time as minCandidateNodesAbsolute")
        #expect(try #require(error("{maxVictims: 3}")).field == "profiles[0].pluginConfig[0].args.maxVictims")
    }

    @Test func disablingDefaultPreemptionLeavesNoPostFilter() throws {
        #expect(try framework("profiles:\n  - plugins:\n      postFilter:\n        disabled: [{name: DefaultPreemption}]\n").postFilters.isEmpty)
        #expect(try framework("profiles:\n  - plugins:\n      multiPoint:\n        disabled: [{name: DefaultPreemption}]\n").postFilters.isEmpty)
        #expect(try framework("profiles:\n  - plugins:\n      postFilter:\n        disabled: [{name: \"*\"}]\n").postFilters.isEmpty)
        // Enabled again at its own point.
        let back = try framework("""
        profiles:
          - plugins:
              multiPoint:
                disabled: [{name: DefaultPreemption}]
              postFilter:
                enabled: [{name: DefaultPreemption}]
        """)
        #expect(back.postFilters.map(\.name) == ["DefaultPreemption"])
    }

    @Test func defaultPreemptionIsOnlyAPostFilter() throws {
        do {
            _ = try framework("profiles:\n  - plugins:\n      filter:\n        enabled: [{name: DefaultPreemption}]\n")
            Issue.record("accepted DefaultPreemption as a filter")
        } catch {
            #expect((error as? ManifestError)?.message == "plugin \"DefaultPreemption\" does not extend the filter extension point")
        }
    }

    // MARK: - Nominated pods

    @Test func nominatedPodsOfAtLeastThePodsPriorityKeepTheirRoom() {
        let f = Framework.defaultProfile()
        let infos = snapshot([Node.make("node-1", cpu: 1000, memory: 1 << 30)], [])
        let reserved = ppod("reserved", midPriority, (600, 0)).nominated("node-1")
        let nominated = [(node: "node-1", pod: reserved)]
        for (priority, fits) in [(lowPriority, false), (midPriority, false), (highPriority, true)] {
            let pod = ppod("new", priority, (600, 0))
            let r = f.schedule(pod, nodes: Framework.addingNominatedPods(nominated, to: infos, for: pod)) { 0 }
            #expect((r.node != nil) == fits, "priority \(priority)")
        }
        // A pod is not in its own way.
        let own = Framework.addingNominatedPods(nominated, to: infos, for: reserved)
        #expect(f.schedule(reserved, nodes: own) { 0 }.node == "node-1")
    }
}
