import Testing
import KubeAPI
import KubeScheduler

/// NodeResourcesFit with the RequestedToCapacityRatio strategy; cases and numbers from
/// kube-scheduler's requested_to_capacity_ratio_test.go. Upstream's `"cpu": "4000"` is
/// 4000 cores.
struct RequestedToCapacityRatioTests {
    static func node(_ name: String, cores: Int64, memory: Int64, _ extra: [String: Int64] = [:]) -> NodeInfo {
        var n = Node.make(name, cpu: cores * 1000, memory: memory)
        for (k, v) in extra { n.status.allocatable[k] = Quantity(value: v) }
        return NodeInfo(node: n)
    }

    /// A pod without containers (upstream's st.MakePod().Obj()).
    static func empty(_ name: String, on node: String? = nil) -> Pod {
        var p = Pod(metadata: ObjectMeta(name: name, namespace: "default"), spec: PodSpec(containers: []))
        if let node { p.spec.nodeName = node }
        return p
    }

    static func pod(_ name: String, _ containers: [[String: Int64]], on node: String? = nil, cores: Bool = true) -> Pod {
        var p = empty(name, on: node)
        p.spec.containers = containers.enumerated().map { i, req in
            var c = Container(name: "c\(i)")
            var r: ResourceList = [:]
            for (k, v) in req { r[k] = k == "cpu" ? Quantity(milli: v * 1000) : Quantity(value: v) }
            c.resources.requests = r
            return c
        }
        return p
    }

    static func scores(_ plugin: NodeResourcesFit, _ pod: Pod, _ nodes: [NodeInfo]) -> [Int64] {
        let state = CycleState()
        return nodes.map { plugin.score(state, pod, $0).0 }
    }

    /// TestRequestedToCapacityRatioScoringStrategy (shape 0 -> 10, 100 -> 0).
    @Test func requestedToCapacityRatioScoringStrategy() {
        let fit = NodeResourcesFit(strategy: .requestedToCapacityRatio, shape: [(0, 10), (100, 0)])
        // nothing scheduled, nothing requested
        var n1 = Self.node("node1", cores: 4000, memory: 10000), n2 = Self.node("node2", cores: 4000, memory: 10000)
        n1.add(Self.empty("e1", on: "node1")); n1.add(Self.empty("e2", on: "node1"))
        #expect(Self.scores(fit, Self.empty("p"), [n1, n2]) == [100, 100])
        // nothing scheduled, resources requested, differently sized nodes
        n2 = Self.node("node2", cores: 6000, memory: 10000)
        let requested = Self.pod("p", [["cpu": 1000, "memory": 2000], ["cpu": 2000, "memory": 3000]])
        #expect(Self.scores(fit, requested, [n1, n2]) == [38, 50])
        // no resources requested, pods scheduled with resources
        var m1 = Self.node("node1", cores: 4000, memory: 10000), m2 = Self.node("node2", cores: 6000, memory: 10000)
        m1.add(Self.pod("x", [["cpu": 3000, "memory": 5000]], on: "node1"))
        m2.add(Self.pod("y", [["cpu": 3000, "memory": 5000]], on: "node2"))
        #expect(Self.scores(fit, Self.empty("p"), [m1, m2]) == [38, 50])
    }

    /// TestBrokenLinearFunction: the shape's values at each utilization (the plugin scales
    /// the shape's 0...10 scores to 0...100 before using it).
    struct Shape: Sendable, CustomTestStringConvertible {
        let points: [[Int64]]
        let assertions: [[Int64]]
        var testDescription: String { "\(points)" }
    }

    static let shapes: [Shape] = [
        Shape(points: [[10, 1], [90, 9]],
              assertions: [[-10, 1], [0, 1], [9, 1], [10, 1], [15, 1], [19, 1], [20, 2], [89, 8], [90, 9], [99, 9], [100, 9], [110, 9]]),
        Shape(points: [[0, 2], [40, 10], [100, 0]], assertions: [[-10, 2], [0, 2], [20, 6], [30, 8], [40, 10], [70, 5], [100, 0], [110, 0]]),
        Shape(points: [[0, 2], [40, 2], [100, 2]], assertions: [[-10, 2], [0, 2], [20, 2], [30, 2], [40, 2], [70, 2], [100, 2], [110, 2]]),
    ]

    @Test(arguments: shapes)
    func brokenLinearFunction(_ shape: Shape) {
        let points = shape.points.map { (utilization: $0[0], score: $0[1]) }
        for a in shape.assertions {
            #expect(NodeResourcesFit.brokenLinear(points, a[0]) == a[1], "u=\(a[0])")
        }
    }

    /// TestResourceBinPackingSingleExtended (shape 0 -> 0, 100 -> 1; intel.com/foo only).
    @Test func resourceBinPackingSingleExtended() {
        let fit = NodeResourcesFit(strategy: .requestedToCapacityRatio, resources: [("intel.com/foo", 1)], shape: [(0, 0), (100, 1)])
        func nodes(_ existing: Pod? = nil) -> [NodeInfo] {
            var a = Self.node("node1", cores: 4, memory: 10000 << 20, ["intel.com/foo": 8])
            var b = Self.node("node2", cores: 4, memory: 10000 << 20, ["intel.com/foo": 4])
            if let e = existing { if e.spec.nodeName == "node1" { a.add(e) } else { b.add(e) } }
            return [a, b]
        }
        #expect(Self.scores(fit, Self.empty("p"), nodes()) == [0, 0])
        #expect(Self.scores(fit, Self.pod("p", [["intel.com/foo": 2]]), nodes()) == [2, 5])
        #expect(Self.scores(fit, Self.pod("p", [["intel.com/foo": 2]]), nodes(Self.pod("e", [["intel.com/foo": 2]], on: "node2"))) == [2, 10])
        #expect(Self.scores(fit, Self.pod("p", [["intel.com/foo": 4]]), nodes()) == [5, 10])
    }
}
