import Testing
import KubeAPI
@testable import KubeScheduler

private let mb: Int64 = 1024 * 1024

/// A pod whose containers (and init containers) run the given images.
private func imagePod(_ images: [String], initImages: [String] = []) -> Pod {
    var p = Pod(metadata: ObjectMeta(name: "p", namespace: "default"))
    p.spec.containers = images.enumerated().map { Container(name: "c\($0)", image: $1) }
    p.spec.initContainers = initImages.enumerated().map { Container(name: "i\($0)", image: $1) }
    return p
}

/// kube's `makeImageNode`.
private func makeImageNode(_ name: String, _ images: [ContainerImage]) -> Node {
    var n = Node(metadata: ObjectMeta(name: name))
    n.status.containerImages = images
    return n
}

struct ImageLocalityTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let pod: Pod
        let nodes: [Node]
        let expected: [Int64]
        var testDescription: String { name }
    }

    // The node image lists of the upstream test.
    static let node403002000 = [
        ContainerImage(names: ["gcr.io/40:latest", "gcr.io/40:v1", "gcr.io/40:v1"], sizeBytes: 40 * mb),
        ContainerImage(names: ["gcr.io/300:latest", "gcr.io/300:v1"], sizeBytes: 300 * mb),
        ContainerImage(names: ["gcr.io/2000:latest"], sizeBytes: 2000 * mb),
    ]
    static let node25010 = [
        ContainerImage(names: ["gcr.io/250:latest"], sizeBytes: 250 * mb),
        ContainerImage(names: ["gcr.io/10:latest", "gcr.io/10:v1"], sizeBytes: 10 * mb),
    ]
    static let node60040900 = [
        ContainerImage(names: ["gcr.io/600:latest"], sizeBytes: 600 * mb),
        ContainerImage(names: ["gcr.io/40:latest"], sizeBytes: 40 * mb),
        ContainerImage(names: ["gcr.io/900:latest"], sizeBytes: 900 * mb),
    ]
    static let node300600900 = [
        ContainerImage(names: ["gcr.io/300:latest"], sizeBytes: 300 * mb),
        ContainerImage(names: ["gcr.io/600:latest"], sizeBytes: 600 * mb),
        ContainerImage(names: ["gcr.io/900:latest"], sizeBytes: 900 * mb),
    ]
    static let node400030 = [
        ContainerImage(names: ["gcr.io/4000:latest"], sizeBytes: 4000 * mb),
        ContainerImage(names: ["gcr.io/30:latest"], sizeBytes: 30 * mb),
    ]
    static let node203040 = [
        ContainerImage(names: ["gcr.io/20:latest"], sizeBytes: 20 * mb),
        ContainerImage(names: ["gcr.io/30:latest"], sizeBytes: 30 * mb),
        ContainerImage(names: ["gcr.io/40:latest"], sizeBytes: 40 * mb),
    ]

    // kube-scheduler TestImageLocalityPriority
    // (pkg/scheduler/framework/plugins/imagelocality/image_locality_test.go), every case.
    static let cases: [Case] = [
        // node2: 100·(250M/2 − 23M) / (1000M·2 − 23M) = 5
        Case(name: "two images spread on two nodes, prefer the larger image one", pod: imagePod(["gcr.io/40", "gcr.io/250"]),
             nodes: [makeImageNode("node1", node403002000), makeImageNode("node2", node25010)], expected: [0, 5]),
        // node1: 100·((40M + 300M)/2 − 23M) / (1000M·2 − 23M) = 7
        Case(name: "two images on one node, prefer this node", pod: imagePod(["gcr.io/40", "gcr.io/300"]),
             nodes: [makeImageNode("node1", node403002000), makeImageNode("node2", node25010)], expected: [7, 0]),
        // node1: 4000M/2 >= 1000M·2, the maximum
        Case(name: "if exceed limit, use limit", pod: imagePod(["gcr.io/10", "gcr.io/4000"]),
             nodes: [makeImageNode("node1", node400030), makeImageNode("node2", node25010)], expected: [100, 0]),
        // node1: 100·(4000M/3 − 23M) / (1000M·2 − 23M) = 66
        Case(name: "if exceed limit, use limit (with node which has no images present)", pod: imagePod(["gcr.io/10", "gcr.io/4000"]),
             nodes: [makeImageNode("node1", node400030), makeImageNode("node2", node25010), makeImageNode("node3", [])],
             expected: [66, 0, 0]),
        // node1: 100·(600M·2/3 + 900M·2/3 − 23M) / (1000M·3 − 23M) = 32; node2 adds 300M·1/3: 36
        Case(name: "pod with multiple large images, node2 is preferred", pod: imagePod(["gcr.io/300", "gcr.io/600", "gcr.io/900"]),
             nodes: [makeImageNode("node1", node60040900), makeImageNode("node2", node300600900), makeImageNode("node3", [])],
             expected: [32, 36, 0]),
        // node1: 100·(30M·2/2 + 40M·1/2 − 23M) / (1000M·2 − 23M) = 1
        Case(name: "pod with multiple small images", pod: imagePod(["gcr.io/30", "gcr.io/40"]),
             nodes: [makeImageNode("node1", node203040), makeImageNode("node2", node400030)], expected: [1, 0]),
        // node1: 100·(300M·1/2 − 23M) / (1000M·2 − 23M) = 6: init containers count
        Case(name: "include InitContainers: two images spread on two nodes, prefer the larger image one",
             pod: imagePod(["gcr.io/30"], initImages: ["gcr.io/300"]),
             nodes: [makeImageNode("node1", node403002000), makeImageNode("node2", node203040)], expected: [6, 0]),
    ]

    @Test(arguments: cases)
    func score(_ c: Case) {
        let plugin = ImageLocality()
        let infos = c.nodes.map { NodeInfo(node: $0) }
        let state = CycleState()
        state[ImageLocality.stateKey] = ImageStates(infos)
        var list: [(node: String, score: Int64)] = infos.map { info in
            let (s, status) = plugin.score(state, c.pod, info)
            #expect(status.isSuccess)
            return (info.name, s)
        }
        #expect(list.map(\.score) == c.expected)
        #expect(plugin.normalize(state, c.pod, &list).isSuccess)
        #expect(list.map(\.score) == c.expected, "no NormalizeScore: the scores stay")
    }

    // kube-scheduler TestNormalizedImageName (same file). The digest case uses a fixed
    // digest string instead of a computed sha256.
    @Test(arguments: [
        ("root", "root:latest"),
        ("gcr.io:5000/root", "gcr.io:5000/root:latest"),
        ("root:tag", "root:tag"),
        ("root@sha256:4813494d137e1631bba301d5acab6e7bb7aa74ce1185d456565ef51d737677b2",
         "root@sha256:4813494d137e1631bba301d5acab6e7bb7aa74ce1185d456565ef51d737677b2"),
    ])
    func normalizedImageName(_ input: String, _ output: String) {
        #expect(ImageLocality.normalizedImageName(input) == output)
    }

    @Test func summaryFromInitOrCycleState() {
        let nodes = [makeImageNode("node1", Self.node403002000), makeImageNode("node2", Self.node25010)]
        let pod = imagePod(["gcr.io/40", "gcr.io/300"])
        let info = NodeInfo(node: nodes[0])
        // Without a summary the plugin cannot score.
        #expect(ImageLocality().score(CycleState(), pod, info).1.code == .error)
        // A fixed summary given at init.
        let fixed = ImageLocality(imageStates: ImageStates(nodes: nodes))
        #expect(fixed.score(CycleState(), pod, info).0 == 7)
        // The cycle state wins over the init summary: with 4 nodes of which 1 has the
        // images, (40M + 300M)/4 = 85M -> 100·(85M − 23M)/(2000M − 23M) = 3.
        let state = CycleState()
        state[ImageLocality.stateKey] = ImageStates(nodes: nodes + [makeImageNode("n3", []), makeImageNode("n4", [])])
        #expect(fixed.score(state, pod, info).0 == 3)
        // A name listed twice on one node counts that node once.
        #expect(ImageStates(nodes: nodes).nodeCounts["gcr.io/40:v1"] == 1)
    }
}
