public import KubeAPI

/// NodeResourcesBalancedAllocation, kube-scheduler's v1.35 formula (Score only, no
/// NormalizeScore): prefers nodes whose resources would be used in balanced fractions
/// once the pod is placed.
///
/// For each configured resource with allocatable a > 0 (a scalar resource such as
/// `nvidia.com/gpu` only when the pod requests it), the fraction f = min(r / a, 1) in
/// Double, with r = the node's requested + the pod's request, both **real** requests (no
/// 100m / 200Mi defaults). std = 0 for fewer than two fractions, |f1 − f2| / 2 for two, the
/// population standard deviation for more. score = truncate((1 − std) · 100).
///
/// A pod that requests nothing of the configured resources is skipped: `preScore` returns
/// Skip, and `score` returns 0 with a Skip status, so the plugin adds the same 0 to every
/// node and does not change the choice (kube-scheduler does not run the plugin for it).
public final class NodeResourcesBalancedAllocation: ScorePlugin {
    public let name = "NodeResourcesBalancedAllocation"

    /// The balanced resources, in order. kube-scheduler's configuration carries weights
    /// (validated to be 1) but the formula ignores them, and so does this plugin.
    public let resources: [(name: String, weight: Int64)]

    /// - Parameter resources: NodeResourcesBalancedAllocationArgs.resources; cpu and memory
    ///   by default. Weights are ignored.
    public init(resources: [(name: String, weight: Int64)] = [("cpu", 1), ("memory", 1)]) {
        self.resources = resources
        scalar = resources.map { ResourceName.isScalar($0.name) }
        isCPUMemory = resources.count == 2 && resources[0].name == "cpu" && resources[1].name == "memory"
    }

    /// Whether the resources are cpu and memory, in that order (kube's default).
    private let isCPUMemory: Bool

    /// Whether each configured resource is a scalar resource, in order.
    private let scalar: [Bool]
    private let cached = PerCycle<[Int64]>()

    /// The pod's real request for each configured resource, in order (cpu in millicores).
    private func podRequests(_ state: CycleState, _ pod: Pod) -> [Int64] {
        cached(state) {
            let total = PodRequests.of(pod)
            return resources.map { total[$0.name] }
        }
    }

    /// kube-scheduler's PreScore.
    ///
    /// - Returns: Skip when the pod's real request is 0 for every configured resource
    ///   (a best-effort pod: the plugin does not score it); otherwise Success, with the
    ///   pod's requests kept in `state` for `score`.
    public func preScore(_ state: CycleState, _ pod: Pod, _ nodes: FeasibleNodes) -> Status {
        podRequests(state, pod).allSatisfy { $0 == 0 } ? Status(.skip, plugin: name) : .success
    }

    /// The pod's cpu and memory requests of cycle `podCycle` when the resources are kube's
    /// default (cpu and memory), for the per-node fast path.
    private var podCycle: UInt64 = 0
    private var podCPUMemory: (cpu: Int64, memory: Int64) = (0, 0)

    public func score(_ state: CycleState, _ pod: Pod, _ node: NodeInfo) -> (Int64, Status) {
        // kube's default (cpu and memory): two fractions, std = |f1 - f2| / 2.
        if let q = quickScore(state, pod), case .balanced(let cpu, let memory) = q,
           let score = Self.cpuMemoryScore(allocatable: (node.allocatable.milliCPU, node.allocatable.memory),
                                           requested: (node.requested.milliCPU + cpu, node.requested.memory + memory)) {
            return (score, .success)
        }
        let requests = podRequests(state, pod)
        if requests.allSatisfy({ $0 == 0 }) { return (0, Status(.skip, plugin: name)) }
        var fractions: [Double] = []
        var total = 0.0
        for (i, res) in resources.enumerated() {
            let ar = Self.allocatableAndRequested(node, res.name, podRequest: requests[i], isScalar: scalar[i])
            guard let ar, ar.allocatable != 0 else { continue }
            let fraction = min(Double(ar.requested) / Double(ar.allocatable), 1)
            total += fraction
            fractions.append(fraction)
        }
        var std = 0.0
        if fractions.count == 2 {
            std = abs((fractions[0] - fractions[1]) / 2)
        } else if fractions.count > 2 {
            let mean = total / Double(fractions.count)
            var sum = 0.0
            for f in fractions { sum = sum + (f - mean) * (f - mean) }
            std = (sum / Double(fractions.count)).squareRoot()
        }
        return (Int64((1 - std) * Double(maxNodeScore)), .success)
    }

    /// kube's default (cpu and memory): two fractions f = min(requested / allocatable, 1),
    /// std = |f1 - f2| / 2, score = truncate((1 - std) * 100); nil when an allocatable is 0.
    @inline(__always)
    static func cpuMemoryScore(allocatable: (cpu: Int64, memory: Int64), requested: (cpu: Int64, memory: Int64)) -> Int64? {
        guard allocatable.cpu != 0 && allocatable.memory != 0 else { return nil }
        let fc = min(Double(requested.cpu) / Double(allocatable.cpu), 1)
        let fm = min(Double(requested.memory) / Double(allocatable.memory), 1)
        return Int64((1 - abs((fc - fm) / 2)) * Double(maxNodeScore))
    }

    /// kube-scheduler's `calculateResourceAllocatableRequest` with real requests: the node's
    /// allocatable and the node's requested + the pod's request, or nil when the resource
    /// does not take part (a scalar resource the pod does not request, or a name that is
    /// neither cpu, memory, ephemeral-storage nor a scalar resource).
    static func allocatableAndRequested(_ node: NodeInfo, _ resource: String, podRequest: Int64, isScalar: Bool)
        -> (allocatable: Int64, requested: Int64)? {
        if podRequest == 0 && isScalar { return nil }
        switch resource {
        case "cpu", "memory", "ephemeral-storage":
            return (node.allocatable[resource], node.requested[resource] + podRequest)
        default:
            guard isScalar, let alloc = node.allocatable.scalar[resource] else { return nil }
            return (alloc, node.requested[resource] + podRequest)
        }
    }
}

extension NodeResourcesBalancedAllocation: QuickScorePlugin {
    /// The cpu and memory formula, for the default resources and a pod that requests some.
    public func quickScore(_ state: CycleState, _ pod: Pod) -> QuickScore? {
        guard isCPUMemory else { return nil }
        if podCycle != state.id {
            let r = podRequests(state, pod)
            podCPUMemory = (r[0], r[1])
            podCycle = state.id
        }
        let (cpu, memory) = podCPUMemory
        return cpu == 0 && memory == 0 ? nil : .balanced(cpu: cpu, memory: memory)
    }
}

/// Classification of resource names (k8s.io/api/core/v1/helper).
enum ResourceName {
    /// `IsScalarResourceName`: an extended resource (a domain-prefixed name outside
    /// `kubernetes.io`, not starting with `requests.`), a `kubernetes.io/`-prefixed native
    /// resource, `hugepages-*` or `attachable-volumes-*`. kube-scheduler also requires an
    /// extended name to be a qualified name; kubelab does not check that.
    static func isScalar(_ name: String) -> Bool {
        if name.hasPrefix("hugepages-") || name.hasPrefix("attachable-volumes-") { return true }
        if name.contains("kubernetes.io/") { return true }
        return name.contains("/") && !name.hasPrefix("requests.")
    }
}
