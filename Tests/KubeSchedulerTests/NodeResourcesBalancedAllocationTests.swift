import Testing
import KubeAPI
@testable import KubeScheduler

/// A pod with one container per entry of `containers` (requests by resource name: cpu in
/// millicores, everything else in units), as kube's test pods spell them.
private func pod(_ containers: [[String: Int64]], node: String = "") -> Pod {
    var p = Pod(metadata: ObjectMeta(name: "p", namespace: "default"))
    p.spec.nodeName = node
    p.spec.containers = containers.enumerated().map { i, reqs in
        var c = Container(name: "c\(i)")
        for (k, v) in reqs { c.resources.requests[k] = k == "cpu" ? Quantity(milli: v) : Quantity(value: v) }
        return c
    }
    return p
}

/// kube's `makeNode(name, milliCPU, memory, extendedResource)` of the noderesources tests:
/// cpu in millicores.
private func makeNode(_ name: String, _ milliCPU: Int64, _ memory: Int64, _ scalar: [String: Int64] = [:]) -> Node {
    var n = Node(metadata: ObjectMeta(name: name))
    n.status.allocatable = ["cpu": Quantity(milli: milliCPU), "memory": Quantity(value: memory)]
    for (k, v) in scalar { n.status.allocatable[k] = Quantity(value: v) }
    n.status.capacity = n.status.allocatable
    return n
}

struct NodeResourcesBalancedAllocationTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let pod: Pod
        let existing: [Pod]
        let nodes: [Node]
        var resources: [(name: String, weight: Int64)] = [("cpu", 1), ("memory", 1)]
        var runPreScore = true
        var wantPreScore: Code = .success
        var expected: [Int64] = []
        var testDescription: String { name }
    }

    // The pod specs of the upstream test.
    static let cpuAndMemoryAndGPU = pod([["cpu": 1000, "memory": 2000], ["cpu": 2000, "memory": 3000, "nvidia.com/gpu": 3]],
                                        node: "node1")
    static let cpuOnly = pod([["cpu": 1000, "memory": 0], ["cpu": 2000, "memory": 0]], node: "node1")
    static let cpuAndMemory = pod([["cpu": 1000, "memory": 2000], ["cpu": 2000, "memory": 3000]], node: "node2")
    static let gpuResources: [(name: String, weight: Int64)] = [("cpu", 1), ("memory", 1), ("nvidia.com/gpu", 1)]

    // kube-scheduler TestNodeResourcesBalancedAllocation
    // (pkg/scheduler/framework/plugins/noderesources/balanced_allocation_test.go), every case
    // except the two DRA extended-resource ones (kubelab has no DRA).
    static let cases: [Case] = [
        Case(name: "nothing scheduled, nothing requested, skip in PreScore",
             pod: Pod(metadata: ObjectMeta(name: "p", namespace: "default")), existing: [],
             nodes: [makeNode("node1", 4000, 10000), makeNode("node2", 4000, 10000)], wantPreScore: .skip),
        // node1: cpu 3000/4000 = .75, memory 5000/10000 = .5, std .125 -> 87; node2: .5, .5 -> 100
        Case(name: "nothing scheduled, resources requested, differently sized nodes", pod: cpuAndMemory, existing: [],
             nodes: [makeNode("node1", 4000, 10000), makeNode("node2", 6000, 10000)], expected: [87, 100]),
        // node1: .6, .25 -> std .175 -> 82; node2: .6, .5 -> std .05 -> 95
        Case(name: "resources requested, pods scheduled with resources", pod: cpuAndMemory, existing: [cpuOnly, cpuAndMemory],
             nodes: [makeNode("node1", 10000, 20000), makeNode("node2", 10000, 20000)], expected: [82, 95]),
        // node2: .6, 10000/50000 = .2 -> std .2 -> 80
        Case(name: "resources requested, pods scheduled with resources, differently sized nodes", pod: cpuAndMemory,
             existing: [cpuOnly, cpuAndMemory],
             nodes: [makeNode("node1", 10000, 20000), makeNode("node2", 10000, 50000)], expected: [82, 80]),
        // node1: cpu 6000/6000 = 1, memory 0 -> std .5 -> 50; node2: 1, .5 -> std .25 -> 75
        Case(name: "requested resources at node capacity", pod: cpuOnly, existing: [cpuOnly, cpuAndMemory],
             nodes: [makeNode("node1", 6000, 10000), makeNode("node2", 6000, 10000)], expected: [50, 75]),
        // Three fractions, population std: node1 (.857, .125, 4/8) -> 70; node2 (.857, .125, 1/8) -> 65
        Case(name: "include scalar resource on a node for balanced resource allocation",
             pod: pod([["memory": 0, "nvidia.com/gpu": 1]]), existing: [cpuAndMemory, cpuAndMemoryAndGPU],
             nodes: [makeNode("node1", 3500, 40000, ["nvidia.com/gpu": 8]), makeNode("node2", 3500, 40000, ["nvidia.com/gpu": 8])],
             resources: gpuResources, expected: [70, 65]),
        // The pod does not request the gpu, so it is left out even where the node has it.
        Case(name: "node without the scalar resource should skip the scalar resource", pod: cpuAndMemory, existing: [],
             nodes: [makeNode("node1", 3500, 40000, ["nvidia.com/gpu": 8]), makeNode("node2", 3500, 40000)],
             resources: gpuResources, expected: [63, 63]),
        Case(name: "resources requested, pods scheduled with resources if PreScore not called", pod: cpuAndMemory,
             existing: [cpuOnly, cpuAndMemory],
             nodes: [makeNode("node1", 10000, 20000), makeNode("node2", 10000, 20000)], runPreScore: false, expected: [82, 95]),
    ]

    @Test(arguments: cases)
    func score(_ c: Case) {
        let plugin = NodeResourcesBalancedAllocation(resources: c.resources)
        let infos = c.nodes.map { n in NodeInfo(node: n, pods: c.existing.filter { $0.spec.nodeName == n.metadata.name }) }
        let state = CycleState()
        if c.runPreScore {
            let status = plugin.preScore(state, c.pod, infos)
            #expect(status.code == c.wantPreScore)
            if status.code == .skip {
                // Score then adds nothing: 0 everywhere, marked Skip.
                for info in infos {
                    let (s, status) = plugin.score(state, c.pod, info)
                    #expect(s == 0 && status.code == .skip)
                }
                return
            }
        }
        let got = infos.map { info in
            let (s, status) = plugin.score(state, c.pod, info)
            #expect(status.isSuccess)
            return s
        }
        #expect(got == c.expected)
        var list = zip(infos, got).map { (node: $0.name, score: $1) }
        #expect(plugin.normalize(state, c.pod, &list).isSuccess)
        #expect(list.map(\.score) == c.expected, "no NormalizeScore: the scores stay")
    }

    @Test func bestEffortPodWithoutPreScoreScoresZero() {
        let plugin = NodeResourcesBalancedAllocation()
        let info = NodeInfo(node: makeNode("n", 4000, 10000), pods: [Self.cpuOnly.node("n")])
        let (s, status) = plugin.score(CycleState(), Pod.make("p"), info)
        #expect(s == 0 && status.code == .skip)
    }

    @Test func realRequestsOnlyNoDefaults() {
        // A container without requests adds nothing (LeastAllocated would count 100m / 200Mi).
        var p = pod([["cpu": 1000]])
        p.spec.containers.append(Container(name: "empty"))
        let info = NodeInfo(node: makeNode("n", 4000, 1 << 30), pods: [Pod.make("bare").node("n")])
        // cpu 1000/4000 = .25, memory 0 -> std .125 -> 87
        #expect(NodeResourcesBalancedAllocation().score(CycleState(), p, info).0 == 87)
    }

    @Test func scalarResourceClassification() {
        #expect(ResourceName.isScalar("nvidia.com/gpu"))
        #expect(ResourceName.isScalar("hugepages-2Mi"))
        #expect(ResourceName.isScalar("attachable-volumes-aws-ebs"))
        #expect(ResourceName.isScalar("example.kubernetes.io/foo"))
        #expect(!ResourceName.isScalar("cpu") && !ResourceName.isScalar("ephemeral-storage") && !ResourceName.isScalar("pods"))
        #expect(!ResourceName.isScalar("requests.nvidia.com/gpu"))
    }
}
