import Testing
import KubeAPI
@testable import KubeScheduler

struct NodeResourcesFitTests {
    struct ScoreCase: Sendable, CustomTestStringConvertible {
        let name: String
        let pod: Pod
        let nodes: [Node]
        let existing: [Pod]
        let expected: [Int64]
        var testDescription: String { name }
    }

    // Cases of kube-scheduler's least_allocated_test.go, with its expected numbers.
    static let leastAllocatedCases: [ScoreCase] = [
        ScoreCase(name: "differently sized machines", pod: Pod.make("p").requests(cpu: 3000, memory: 5000),
                  nodes: [.make("node1", cpu: 4000, memory: 10000), .make("node2", cpu: 6000, memory: 10000)],
                  existing: [], expected: [37, 50]),
        ScoreCase(name: "no resources requested, pods scheduled with resources",
                  pod: Pod.make("p").requests(cpu: 0, memory: 0),
                  nodes: [.make("node1", cpu: 10000, memory: 20000), .make("node2", cpu: 10000, memory: 20000)],
                  existing: [Pod.make("a").requests(cpu: 1000, memory: 2000).node("node1"),
                             Pod.make("b").requests(cpu: 2000, memory: 4000).node("node1"),
                             Pod.make("c").requests(cpu: 1000, memory: 2000).node("node2"),
                             Pod.make("d").requests(cpu: 2000, memory: 5000).node("node2")],
                  // node1: cpu (10000-3000)*100/10000 = 70, mem (20000-6000)*100/20000 = 70
                  // node2: cpu 70, mem (20000-7000)*100/20000 = 65 -> (70+65)/2 = 67
                  expected: [70, 67]),
        ScoreCase(name: "resources requested, pods scheduled with resources",
                  pod: Pod.make("p").requests(cpu: 3000, memory: 5000),
                  nodes: [.make("node1", cpu: 10000, memory: 20000), .make("node2", cpu: 10000, memory: 50000)],
                  existing: [Pod.make("a").requests(cpu: 3000, memory: 0).node("node1"),
                             Pod.make("b").requests(cpu: 3000, memory: 5000).node("node2")],
                  // node1: cpu (10000-6000)*100/10000 = 40, mem (20000-5000)*100/20000 = 75 -> 57
                  // node2: cpu 40, mem (50000-10000)*100/50000 = 80 -> 60
                  expected: [57, 60]),
        ScoreCase(name: "requested resources exceed node capacity",
                  pod: Pod.make("p").requests(cpu: 3000, memory: 5000),
                  nodes: [.make("node1", cpu: 4000, memory: 10000), .make("node2", cpu: 4000, memory: 10000)],
                  existing: [Pod.make("a").requests(cpu: 3000, memory: 0).node("node1"),
                             Pod.make("b").requests(cpu: 3000, memory: 5000).node("node2")],
                  // cpu over capacity scores 0; node1 mem 50 -> 25; node2 mem 0 -> 0
                  expected: [25, 0]),
        ScoreCase(name: "zero node resources", pod: Pod.make("p").requests(cpu: 3000, memory: 5000),
                  nodes: [.make("node1", cpu: 0, memory: 0), .make("node2", cpu: 0, memory: 0)],
                  existing: [], expected: [0, 0]),
    ]

    @Test(arguments: leastAllocatedCases)
    func leastAllocated(_ c: ScoreCase) {
        let plugin = NodeResourcesFit()
        for (i, n) in c.nodes.enumerated() {
            let info = NodeInfo(node: n, pods: c.existing.filter { $0.spec.nodeName == n.metadata.name })
            #expect(plugin.score(CycleState(), c.pod, info).0 == c.expected[i], "\(c.name): \(n.metadata.name)")
        }
    }

    @Test func mostAllocatedCapsAtOneHundred() {
        let plugin = NodeResourcesFit(strategy: .mostAllocated)
        let info = NodeInfo(node: .make("n", cpu: 4000, memory: 10000))
        // cpu 3000/4000 -> 75, memory 5000/10000 -> 50
        #expect(plugin.score(CycleState(), Pod.make("p").requests(cpu: 3000, memory: 5000), info).0 == 62)
        #expect(plugin.score(CycleState(), Pod.make("p").requests(cpu: 9000, memory: 50000), info).0 == 100)
    }

    @Test func scoringUsesNonZeroDefaultsForMissingRequests() {
        // 100m and 200Mi are assumed for a container without requests.
        let info = NodeInfo(node: .make("n", cpu: 1000, memory: 1000 * 1024 * 1024))
        let s = NodeResourcesFit().score(CycleState(), Pod.make("p"), info).0
        // cpu (1000-100)*100/1000 = 90, memory (1000-200)*100/1000 = 80
        #expect(s == 85)
    }

    @Test func filterReportsInsufficientResources() {
        let plugin = NodeResourcesFit()
        let node = NodeInfo(node: .make("n", cpu: 4000, memory: 10000),
                            pods: [Pod.make("a").requests(cpu: 3000, memory: 1000).node("n")])
        let fits = plugin.filter(CycleState(), Pod.make("p").requests(cpu: 1000, memory: 1000), node)
        #expect(fits.isSuccess)
        let tooMuch = plugin.filter(CycleState(), Pod.make("p").requests(cpu: 2000, memory: 1000), node)
        #expect(tooMuch.code == .unschedulable)
        #expect(tooMuch.reasons == ["Insufficient cpu"])
        let never = plugin.filter(CycleState(), Pod.make("p").requests(cpu: 5000, memory: 20000), node)
        #expect(never.code == .unschedulableAndUnresolvable)
        #expect(never.reasons == ["Insufficient cpu", "Insufficient memory"])
        let gpu = plugin.filter(CycleState(), Pod.make("p").requests(cpu: 1, memory: 1, ["nvidia.com/gpu": 1]), node)
        #expect(gpu.reasons == ["Insufficient nvidia.com/gpu"])
    }

    @Test func filterCountsPods() {
        let node = NodeInfo(node: .make("n", cpu: 4000, memory: 10000, pods: 1), pods: [Pod.make("a").node("n")])
        let s = NodeResourcesFit().filter(CycleState(), Pod.make("p"), node)
        #expect(s.code == .unschedulable)
        #expect(s.reasons == ["Too many pods"])
    }

    @Test func zeroRequestsAlwaysFit() {
        let node = NodeInfo(node: .make("n", cpu: 1000, memory: 1000),
                            pods: [Pod.make("a").requests(cpu: 5000, memory: 5000).node("n")])
        #expect(NodeResourcesFit().filter(CycleState(), Pod.make("p"), node).isSuccess)
    }

    @Test func effectiveRequestCountsInitContainersAndSidecars() {
        var p = Pod.make("p").requests(cpu: 100)
        var big = Container(name: "init")
        big.resources.requests = ["cpu": Quantity(milli: 500)]
        p.spec.initContainers = [big]
        // max(100 regular, 500 init) = 500
        #expect(PodRequests.of(p).milliCPU == 500)
        var sidecar = Container(name: "sidecar")
        sidecar.restartPolicy = "Always"
        sidecar.resources.requests = ["cpu": Quantity(milli: 50)]
        p.spec.initContainers = [sidecar, big]
        // regular 100 + sidecar 50 = 150; init after the sidecar: 500 + 50 = 550
        #expect(PodRequests.of(p).milliCPU == 550)
    }
}

struct FilterPluginTests {
    @Test func taintsMustBeTolerated() {
        let node = NodeInfo(node: Node.make("n", cpu: 1000, memory: 1000).taint(Taint(key: "gpu", value: "yes", effect: .noSchedule)))
        let plugin = TaintToleration()
        #expect(plugin.filter(CycleState(), Pod.make("p"), node).code == .unschedulableAndUnresolvable)
        let ok = Pod.make("p").toleration(Toleration(key: "gpu", operator: .equal, value: "yes", effect: .noSchedule))
        #expect(plugin.filter(CycleState(), ok, node).isSuccess)
        let wrongValue = Pod.make("p").toleration(Toleration(key: "gpu", operator: .equal, value: "no"))
        #expect(!plugin.filter(CycleState(), wrongValue, node).isSuccess)
        let exists = Pod.make("p").toleration(Toleration(key: "gpu", operator: .exists))
        #expect(plugin.filter(CycleState(), exists, node).isSuccess)
        let prefer = NodeInfo(node: Node.make("n", cpu: 1, memory: 1).taint(Taint(key: "x", effect: .preferNoSchedule)))
        #expect(plugin.filter(CycleState(), Pod.make("p"), prefer).isSuccess)
    }

    @Test func nodeSelectorAndUnschedulable() {
        let node = Node.make("n", cpu: 1000, memory: 1000).labels(["disktype": "ssd"])
        var pod = Pod.make("p")
        pod.spec.nodeSelector = ["disktype": "ssd"]
        #expect(NodeAffinityFilter().filter(CycleState(), pod, NodeInfo(node: node)).isSuccess)
        pod.spec.nodeSelector = ["disktype": "hdd"]
        #expect(NodeAffinityFilter().filter(CycleState(), pod, NodeInfo(node: node)).code == .unschedulableAndUnresolvable)
        var cordoned = node
        cordoned.spec.unschedulable = true
        #expect(NodeUnschedulable().filter(CycleState(), Pod.make("p"), NodeInfo(node: cordoned)).reasons == ["node(s) were unschedulable"])
    }

    @Test func frameworkPicksTheBestNodeAndExplainsFailures() {
        let f = Framework.defaultProfile()
        let nodes = [NodeInfo(node: .make("small", cpu: 1000, memory: 1 << 30)),
                     NodeInfo(node: .make("big", cpu: 8000, memory: 1 << 34))]
        let r = f.schedule(Pod.make("p").requests(cpu: 500, memory: 1 << 20), nodes: nodes) { 0 }
        #expect(r.node == "big")
        let none = f.schedule(Pod.make("p").requests(cpu: 16000), nodes: nodes) { 0 }
        #expect(none.node == nil)
        #expect(none.message == "0/2 nodes are available: 2 Insufficient cpu.")
    }

    @Test func tiesAreBrokenByTheRandomStream() {
        let f = Framework.defaultProfile()
        let nodes = (1...4).map { NodeInfo(node: .make("n\($0)", cpu: 1000, memory: 1 << 30)) }
        var picks: Set<String> = []
        var state: UInt64 = 0
        for _ in 0..<40 {
            let r = f.schedule(Pod.make("p"), nodes: nodes) { state &+= 0x9E37_79B9_7F4A_7C15; return state >> 7 }
            picks.insert(r.node ?? "")
        }
        #expect(picks.count > 1)
    }
}
