public import KubeAPI

/// ImageLocality (Score only, no NormalizeScore), kube-scheduler v1.35: prefers nodes that
/// already hold the pod's container images, weighing each image by how widely it is
/// spread over the cluster so that pods do not all pile onto the few nodes that have it.
///
/// For each init or regular container whose normalized image name (`:latest` appended
/// when the name has no tag) the node lists, add trunc(size · numNodes / N), where N is
/// the number of nodes in the cluster and numNodes the number listing that name. The sum
/// is clamped to [23 MiB, 1000 MiB × #containers], and score = 100·(sum − 23 MiB) /
/// (max − 23 MiB), truncated.
///
/// **Cluster-wide input.** N and numNodes come from an `ImageStates` summary of every node
/// of the snapshot (not only the feasible ones). The plugin reads it from the cycle state
/// under `ImageLocality.stateKey` when a caller put one there, else from the `imageStates`
/// property given at init (or set later), else it summarizes `CycleState.allNodes` once per
/// cycle, the first time a node with images is scored. With no summary and no nodes in the
/// state, `score` returns 0 and an Error status.
public final class ImageLocality: ScorePlugin {
    public let name = "ImageLocality"

    /// The CycleState key under which the framework stores the cycle's `ImageStates`.
    public static let stateKey = "ImageLocality/imageStates"

    /// The summary used when the cycle state has none.
    public var imageStates: ImageStates?

    /// - Parameter imageStates: a fixed cluster summary, used when the cycle state carries
    ///   none under `stateKey`.
    public init(imageStates: ImageStates? = nil) {
        self.imageStates = imageStates
    }

    private let summary = PerCycle<ImageStates>()

    static let mb: Int64 = 1024 * 1024
    /// Below this sum a node scores 0.
    static let minThreshold: Int64 = 23 * mb
    /// Per container: from this sum up a node scores 100.
    static let maxContainerThreshold: Int64 = 1000 * mb

    public func score(_ state: CycleState, _ pod: Pod, _ node: NodeInfo) -> (Int64, Status) {
        // A node without images scores calculatePriority(0) = 0.
        if node.node.status.containerImages.isEmpty { return (0, .success) }
        let fromNodes = state.allNodes.isEmpty ? nil : summary(state) { ImageStates(state.allNodes) }
        guard let states = (state[Self.stateKey] as? ImageStates) ?? imageStates ?? fromNodes else {
            return (0, Status(.error, ["no cluster image summary: set CycleState[\(Self.stateKey)] or imageStates"],
                              plugin: name))
        }
        // The node's own names and sizes; a name listed twice keeps the last size, as the
        // scheduler's per-node map does.
        var sizes: [String: Int64] = [:]
        for image in node.node.status.containerImages {
            for n in image.names { sizes[n] = image.sizeBytes }
        }
        var sum: Int64 = 0
        for c in pod.spec.initContainers + pod.spec.containers {
            if let size = sizes[Self.normalizedImageName(c.image)] {
                let numNodes = states.numNodes(c.image)
                sum += Self.scaledImageScore(size: size, numNodes: numNodes, totalNodes: states.totalNodes)
            }
        }
        let containers = pod.spec.initContainers.count + pod.spec.containers.count
        return (Self.calculatePriority(sum, containers: containers), .success)
    }

    /// `trunc(size · numNodes / totalNodes)`, in Double with Go's order of operations.
    static func scaledImageScore(size: Int64, numNodes: Int, totalNodes: Int) -> Int64 {
        guard totalNodes > 0 else { return 0 }
        let spread = Double(numNodes) / Double(totalNodes)
        return Int64(Double(size) * spread)
    }

    /// Clamps the sum and maps it onto 0...100.
    static func calculatePriority(_ sumScores: Int64, containers: Int) -> Int64 {
        let maxThreshold = maxContainerThreshold * Int64(containers)
        var sum = sumScores
        if sum < minThreshold {
            sum = minThreshold
        } else if sum > maxThreshold {
            sum = maxThreshold
        }
        return maxNodeScore * (sum - minThreshold) / (maxThreshold - minThreshold)
    }

    /// Appends ":latest" when the last ':' does not come after the last '/' (so
    /// `gcr.io:5000/root` becomes `gcr.io:5000/root:latest`, and `root@sha256:…` is kept).
    public static func normalizedImageName(_ name: String) -> String {
        let lastColon = name.lastIndex(of: ":")
        let lastSlash = name.lastIndex(of: "/")
        switch (lastColon, lastSlash) {
        case (nil, _): return name + ":latest"
        case (.some, nil): return name
        case (.some(let c), .some(let s)): return c <= s ? name + ":latest" : name
        }
    }
}

extension ImageLocality: QuickScorePlugin {
    /// A node that lists no image scores 0.
    public func quickScore(_ state: CycleState, _ pod: Pod) -> QuickScore? { .zeroIfNoImages }
}
