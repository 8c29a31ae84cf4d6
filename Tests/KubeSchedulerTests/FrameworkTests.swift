import Testing
import SimCore
import KubeAPI
import KubeAPIServer
import KubeScheduler

struct FrameworkTests {
    /// Cases of kube-scheduler's TestNumFeasibleNodesToFind (schedule_one_test.go).
    @Test(arguments: [
        (0, 10, 10), (40, 10, 10), (0, 1000, 420), (40, 1000, 400), (0, 6000, 300), (40, 6000, 2400),
        (0, 99, 99), (0, 100, 100), (0, 199, 100), (0, 5000, 500), (100, 5000, 5000), (1, 1000, 100),
    ])
    func feasibleNodesToFind(_ percentage: Int, _ nodes: Int, _ expected: Int) {
        #expect(Framework.feasibleNodesToFind(percentage: percentage, nodes: nodes) == expected)
    }

    @Test func aCycleStopsAfterEnoughFeasibleNodesAndTheNextStartsWhereItStopped() {
        let f = Framework.defaultProfile()
        f.explain = true
        let nodes = (0..<200).map { NodeInfo(node: Node.make("n\($0)", cpu: 4000, memory: 8 << 30)) }
        let pod = Pod.make("p").requests(cpu: 100, memory: 1 << 20)
        let first = f.schedule(pod, nodes: nodes) { 0 }
        // 200 nodes: 50% - 200/125 = 49% of 200 = 98, raised to the minimum of 100.
        #expect(first.nodes.filter(\.examined).map(\.node) == (0..<100).map { "n\($0)" })
        #expect(f.nextStartNodeIndex == 100)
        let second = f.schedule(pod, nodes: nodes) { 0 }
        #expect(second.nodes.filter(\.examined).map(\.node) == (100..<200).map { "n\($0)" })
        #expect(f.nextStartNodeIndex == 0)
        // Unexamined nodes carry no verdicts; examined ones show every filter that ran.
        #expect(first.nodes[150].filters.isEmpty)
        #expect(first.nodes[0].filters.map(\.plugin) == ["NodeUnschedulable", "NodeName", "TaintToleration", "NodeAffinity", "NodePorts",
                                                         "NodeResourcesFit", "PodTopologySpread", "InterPodAffinity"])
        // NodeAffinity, NodePorts, PodTopologySpread and InterPodAffinity have nothing to
        // check for this pod: PreFilter skipped them.
        #expect(first.nodes[0].filters.map(\.status) == [.success, .success, .success, .skip, .skip, .success, .skip, .skip])
    }

    @Test func withAHundredPercentEveryNodeIsExamined() {
        let f = Framework.defaultProfile()
        f.explain = true
        f.percentageOfNodesToScore = 100
        let nodes = (0..<300).map { NodeInfo(node: Node.make("n\($0)", cpu: 4000, memory: 8 << 30)) }
        let r = f.schedule(Pod.make("p").requests(cpu: 100), nodes: nodes) { 0 }
        #expect(r.nodes.allSatisfy { $0.examined })
        #expect(r.nodes.allSatisfy { !$0.scores.isEmpty })
    }

    @Test func aSearchWithoutEnoughFeasibleNodesExaminesThemAll() {
        let f = Framework.defaultProfile()
        f.explain = true
        // Only the last 10 of 300 nodes have room.
        let nodes = (0..<300).map { i in NodeInfo(node: Node.make("n\(i)", cpu: i >= 290 ? 4000 : 100, memory: 8 << 30)) }
        let r = f.schedule(Pod.make("p").requests(cpu: 1000), nodes: nodes) { 0 }
        #expect(r.nodes.allSatisfy { $0.examined })
        #expect(r.node.map { $0.hasPrefix("n29") } == true)
        #expect(r.nodes.filter { $0.failure == nil }.count == 10)
        // Without explain only the rejections are kept: the 290 nodes without room.
        f.explain = false
        let quiet = f.schedule(Pod.make("p").requests(cpu: 1000), nodes: nodes) { 0 }
        #expect(quiet.nodes.isEmpty)
        #expect(quiet.failures.map(\.node) == (0..<290).map { "n\($0)" })
        // 100m nodes can never hold a 1-cpu pod: preemption would not help either.
        #expect(quiet.failures.allSatisfy { $0.status.plugin == "NodeResourcesFit" && $0.status.code == .unschedulableAndUnresolvable })
        #expect(quiet.message == r.message)
    }

    @Test func aSingleFeasibleNodeIsChosenWithoutScoring() {
        let f = Framework.defaultProfile()
        f.explain = true
        let nodes = [NodeInfo(node: Node.make("small", cpu: 100, memory: 8 << 30)), NodeInfo(node: Node.make("big", cpu: 4000, memory: 8 << 30))]
        let r = f.schedule(Pod.make("p").requests(cpu: 1000), nodes: nodes) { 0 }
        #expect(r.node == "big")
        #expect(r.nodes.allSatisfy { $0.scores.isEmpty })
    }

    /// kube-scheduler's calculateBackoffDuration with podInitialBackoffSeconds 1 and
    /// podMaxBackoffSeconds 10.
    @Test func backoffDoublesFromOneSecondToTen() {
        let server = APIServer(sim: Simulation(seed: 1), settings: .init())
        let s = Scheduler(server: server, framework: .defaultProfile())
        #expect((1...7).map { s.backoff(attempts: $0).nanoseconds / 1_000_000_000 } == [1, 2, 4, 8, 10, 10, 10])
    }

    @Test func theDefaultProfileHasKubeSchedulersScoresAndWeights() {
        let f = Framework.defaultProfile()
        #expect(f.filters.map(\.name) == ["NodeUnschedulable", "NodeName", "TaintToleration", "NodeAffinity", "NodePorts", "NodeResourcesFit",
                                          "PodTopologySpread", "InterPodAffinity"])
        #expect(f.scores.map { "\($0.plugin.name)=\($0.weight)" } == [
            "TaintToleration=3", "NodeAffinity=2", "NodeResourcesFit=1", "PodTopologySpread=2", "InterPodAffinity=2",
            "NodeResourcesBalancedAllocation=1", "ImageLocality=1",
        ])
    }

    @Test func preferNoScheduleTaintsAndPreferredAffinityWeighInTheDefaultProfile() {
        let f = Framework.defaultProfile()
        f.explain = true
        let tainted = Node.make("tainted", cpu: 4000, memory: 8 << 30).taint(Taint(key: "spot", value: "true", effect: .preferNoSchedule))
        let plain = Node.make("plain", cpu: 4000, memory: 8 << 30)
        let r = f.schedule(Pod.make("p").requests(cpu: 100), nodes: [NodeInfo(node: tainted), NodeInfo(node: plain)]) { 0 }
        #expect(r.node == "plain")
        let taintScores = r.nodes.map { n in n.scores.first { $0.plugin == "TaintToleration" } }
        // Reverse-normalized: the tainted node 0, the clean one 100, each weighed 3.
        #expect(taintScores.map { $0?.normalized } == [0, 100])
        #expect(taintScores.map { $0?.weight } == [3, 3])
    }

    @Test func aPreFilterRejectionRejectsEveryNode() {
        let f = Framework.defaultProfile()
        f.explain = true
        var pod = Pod.make("p")
        pod.spec.affinity = Affinity(nodeAffinity: NodeAffinity(required: [
            NodeSelectorTerm(matchFields: [NodeSelectorRequirement(key: "metadata.name", operator: "In", values: ["x"])]),
        ]))
        let r = f.schedule(pod, nodes: [NodeInfo(node: Node.make("a", cpu: 1000, memory: 1 << 30)), NodeInfo(node: Node.make("x", cpu: 1000, memory: 1 << 30))]) { 0 }
        #expect(r.node == "x")
        #expect(r.nodes[0].failure?.reasons == ["node(s) didn't satisfy plugin(s) [NodeAffinity]"])
    }
}
