public import KubeAPI

/// The cluster-wide image summary ImageLocality needs (kube-scheduler's snapshot
/// `ImageStateSummary`): how many nodes there are, and how many list each image name.
public struct ImageStates: Sendable, Equatable {
    /// The number of nodes in the snapshot.
    public var totalNodes: Int
    /// For each image name, the number of nodes that list it (lookups only).
    public var nodeCounts: [String: Int]

    public init(totalNodes: Int, nodeCounts: [String: Int]) {
        self.totalNodes = totalNodes; self.nodeCounts = nodeCounts
    }

    /// Summarizes `nodes`: every node counts toward the total, and a node counts once for
    /// each distinct name in its images' `names` lists.
    public init(nodes: [Node]) {
        totalNodes = nodes.count
        nodeCounts = [:]
        for n in nodes {
            var names: Set<String> = []
            for image in n.status.containerImages { names.formUnion(image.names) }
            for name in names { nodeCounts[name, default: 0] += 1 }
        }
    }

    /// Summarizes the scheduler's view of the nodes.
    public init(_ nodes: [NodeInfo]) { self.init(nodes: nodes.map(\.node)) }

    /// How many nodes list the container image `image`, after normalization.
    public func numNodes(_ image: String) -> Int {
        nodeCounts[ImageLocality.normalizedImageName(image)] ?? 0
    }
}
