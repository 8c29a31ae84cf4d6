public import KubeAPI

/// NodeResourcesFit: the Filter checks that the pod's requests fit the node's free
/// resources; the Score (LeastAllocated strategy, cpu and memory with weight 1 each)
/// prefers nodes with more room, with kube-scheduler's integer formula.
public final class NodeResourcesFit: FilterPlugin, ScorePlugin {
    public let name = "NodeResourcesFit"
    /// Score strategy.
    public enum Strategy: String, Sendable, CaseIterable {
        case leastAllocated = "LeastAllocated", mostAllocated = "MostAllocated"
        case requestedToCapacityRatio = "RequestedToCapacityRatio"
    }
    public var strategy: Strategy
    /// Scored resources and their weights, in order.
    public var resources: [(name: String, weight: Int64)] { didSet { cpuMemoryWeights = Self.cpuMemory(resources) } }
    /// The weights of cpu and memory when they are the only scored resources (the default).
    private var cpuMemoryWeights: (cpu: Int64, memory: Int64)?

    private static func cpuMemory(_ r: [(name: String, weight: Int64)]) -> (cpu: Int64, memory: Int64)? {
        r.count == 2 && r[0].name == "cpu" && r[1].name == "memory" ? (r[0].weight, r[1].weight) : nil
    }
    /// RequestedToCapacityRatio's shape: (utilization 0...100, score 0...10) points with
    /// increasing utilization.
    public var shape: [(utilization: Int64, score: Int64)]

    public init(strategy: Strategy = .leastAllocated, resources: [(name: String, weight: Int64)] = [("cpu", 1), ("memory", 1)],
                shape: [(utilization: Int64, score: Int64)] = [(0, 0), (100, 10)]) {
        self.strategy = strategy; self.resources = resources; self.shape = shape
        cpuMemoryWeights = Self.cpuMemory(resources)
    }

    /// The shape as a function of utilization, its scores scaled from 0...10 to 0...100
    /// first, as the plugin does.
    public func shapeValue(_ u: Int64) -> Int64 {
        Self.brokenLinear(shape.map { (utilization: $0.utilization, score: $0.score * (maxNodeScore / 10)) }, u)
    }

    /// kube-scheduler's buildBrokenLinearFunction: piecewise linear between the points,
    /// flat outside them, with Go's truncating division.
    public static func brokenLinear(_ points: [(utilization: Int64, score: Int64)], _ u: Int64) -> Int64 {
        guard let first = points.first, let last = points.last else { return 0 }
        if u <= first.utilization { return first.score }
        for k in 1..<points.count where u <= points[k].utilization {
            let (a, b) = (points[k - 1], points[k])
            return a.score + (b.score - a.score) * (u - a.utilization) / (b.utilization - a.utilization)
        }
        return last.score
    }

    /// The pod's requests, computed once per cycle (kube-scheduler does it in PreFilter
    /// and PreScore) instead of once per node.
    private func requests(_ state: CycleState, _ pod: Pod) -> (real: Resources, nonZero: Resources) {
        cached(state) { (real: PodRequests.of(pod), nonZero: PodRequests.of(pod, nonZero: true)) }
    }
    private let cached = PerCycle<(real: Resources, nonZero: Resources)>()

    /// The pod's cpu and memory requests (real and non-zero) of the cycle `podCycle`, as
    /// plain numbers for the per-node fast paths; `plain` when it requests nothing else.
    private struct CPUMemory {
        var cpu: Int64 = 0, memory: Int64 = 0, nonZeroCPU: Int64 = 0, nonZeroMemory: Int64 = 0
        var plain = false
    }
    private var podCycle: UInt64 = 0
    private var podNumbers = CPUMemory()

    private func cpuMemory(_ state: CycleState, _ p: Pod) -> CPUMemory {
        if podCycle == state.id { return podNumbers }
        let (r, nz) = requests(state, p)
        podNumbers = CPUMemory(cpu: r.milliCPU, memory: r.memory, nonZeroCPU: nz.milliCPU, nonZeroMemory: nz.memory, plain: r.scalar.isEmpty)
        podCycle = state.id
        return podNumbers
    }

    /// LeastAllocated (`least`) or MostAllocated over cpu and memory: per resource with
    /// allocatable above 0, (allocatable - requested) * 100 / allocatable (0 when the request
    /// is larger), or min(requested, allocatable) * 100 / allocatable; then the weighted mean,
    /// all in integers. `requested` is the node's non-zero requested plus the pod's.
    @inline(__always)
    static func cpuMemoryScore(least: Bool, allocatable: (cpu: Int64, memory: Int64), requested: (cpu: Int64, memory: Int64),
                               weights: (cpu: Int64, memory: Int64)) -> Int64 {
        // Go's int64 arithmetic: wrapping operators, as kube-scheduler's would wrap.
        func one(_ alloc: Int64, _ requested: Int64) -> Int64 {
            least ? (requested > alloc ? 0 : (alloc &- requested) &* maxNodeScore / alloc)
                : min(requested, alloc) &* maxNodeScore / alloc
        }
        var sum: Int64 = 0, total: Int64 = 0
        if allocatable.cpu > 0 { sum = sum &+ one(allocatable.cpu, requested.cpu) &* weights.cpu; total = total &+ weights.cpu }
        if allocatable.memory > 0 { sum = sum &+ one(allocatable.memory, requested.memory) &* weights.memory; total = total &+ weights.memory }
        return total == 0 ? 0 : sum / total
    }

    public func filter(_ state: CycleState, _ pod: Pod, _ node: NodeInfo) -> Status {
        // The common case first: room for the pod's cpu, memory and pod slot, no other resources.
        let p = cpuMemory(state, pod)
        if p.plain && Int64(node.podCount) < node.allowedPodNumber
            && (p.cpu <= 0 || p.cpu <= node.free.milliCPU) && (p.memory <= 0 || p.memory <= node.free.memory) {
            return .success
        }
        let r = requests(state, pod).real
        let free = node.free
        var reasons: [String] = []
        var unresolvable = false
        if Int64(node.pods.count) + 1 > node.allowedPodNumber { reasons.append("Too many pods") }
        for res in r.names {
            let want = r[res]
            guard want > 0 else { continue }
            if want > free[res] {
                reasons.append("Insufficient \(res)")
                if want > node.allocatable[res] { unresolvable = true }
            }
        }
        if reasons.isEmpty { return .success }
        return Status(unresolvable ? .unschedulableAndUnresolvable : .unschedulable, reasons, plugin: name)
    }

    public func score(_ state: CycleState, _ pod: Pod, _ node: NodeInfo) -> (Int64, Status) {
        // The default: cpu and memory with LeastAllocated or MostAllocated, the same
        // arithmetic as the loop below without looking resources up by name.
        if let q = quickScore(state, pod), case .allocated(let least, let cpu, let memory, let wc, let wm) = q {
            return (Self.cpuMemoryScore(least: least, allocatable: (node.allocatable.milliCPU, node.allocatable.memory),
                                        requested: (node.nonZeroRequested.milliCPU + cpu, node.nonZeroRequested.memory + memory),
                                        weights: (wc, wm)), .success)
        }
        let (podReal, podNZ) = requests(state, pod)
        var sum: Int64 = 0
        var weights: Int64 = 0
        var ratioSum = 0.0
        for (res, w) in resources {
            let alloc = node.allocatable[res]
            guard alloc > 0 else { continue }
            let requested: Int64
            switch res {
            case "cpu": requested = node.nonZeroRequested.milliCPU + podNZ.milliCPU
            case "memory": requested = node.nonZeroRequested.memory + podNZ.memory
            default:
                guard podReal[res] > 0 else { continue }
                requested = node.requested[res] + podReal[res]
            }
            let s: Int64
            switch strategy {
            case .leastAllocated: s = requested > alloc ? 0 : (alloc - requested) * maxNodeScore / alloc
            case .mostAllocated: s = min(requested, alloc) * maxNodeScore / alloc
            case .requestedToCapacityRatio:
                // Only resources whose shape value is above 0 take part.
                let f = shapeValue(requested > alloc ? maxNodeScore : requested * maxNodeScore / alloc)
                guard f > 0 else { continue }
                ratioSum += Double(f * w)
                weights += w
                continue
            }
            sum += s * w
            weights += w
        }
        if strategy == .requestedToCapacityRatio {
            return (weights == 0 ? 0 : Int64((ratioSum / Double(weights)).rounded(.toNearestOrAwayFromZero)), .success)
        }
        return (weights == 0 ? 0 : sum / weights, .success)
    }
}

extension NodeResourcesFit: QuickFilterPlugin, QuickScorePlugin {
    /// Room for the pod's cpu, memory and a pod slot, when it requests nothing else.
    public func quickFilter(_ state: CycleState, _ pod: Pod) -> QuickFilter? {
        let p = cpuMemory(state, pod)
        return p.plain ? .room(cpu: p.cpu, memory: p.memory) : nil
    }

    /// LeastAllocated or MostAllocated over cpu and memory only (the default resources).
    public func quickScore(_ state: CycleState, _ pod: Pod) -> QuickScore? {
        guard let w = cpuMemoryWeights, strategy != .requestedToCapacityRatio else { return nil }
        let p = cpuMemory(state, pod)
        return .allocated(least: strategy == .leastAllocated, cpu: p.nonZeroCPU, memory: p.nonZeroMemory,
                          cpuWeight: w.cpu, memoryWeight: w.memory)
    }
}

/// NodeUnschedulable: cordoned nodes reject pods that do not tolerate
/// `node.kubernetes.io/unschedulable:NoSchedule`.
public final class NodeUnschedulable: FilterPlugin {
    public let name = "NodeUnschedulable"
    public init() {}
    public func filter(_ state: CycleState, _ pod: Pod, _ node: NodeInfo) -> Status {
        guard node.unschedulable else { return .success }
        if Self.toleratesCordon(pod) { return .success }
        return Status(.unschedulableAndUnresolvable, ["node(s) were unschedulable"], plugin: name)
    }

    static func toleratesCordon(_ pod: Pod) -> Bool {
        let taint = Taint(key: "node.kubernetes.io/unschedulable", effect: .noSchedule)
        return pod.spec.tolerations.contains(where: { $0.tolerates(taint) })
    }
}

extension NodeUnschedulable: QuickFilterPlugin {
    /// Every node for a pod that tolerates the cordon, else the nodes not cordoned.
    public func quickFilter(_ state: CycleState, _ pod: Pod) -> QuickFilter? {
        Self.toleratesCordon(pod) ? .all : .schedulable
    }
}

/// NodeName: a pod that names a node fits only there.
public final class NodeName: FilterPlugin {
    public let name = "NodeName"
    public init() {}
    public func filter(_ state: CycleState, _ pod: Pod, _ node: NodeInfo) -> Status {
        if pod.spec.nodeName.isEmpty || pod.spec.nodeName == node.name { return .success }
        return Status(.unschedulableAndUnresolvable, ["node(s) didn't match the requested node name"], plugin: name)
    }
}

extension NodeName: QuickFilterPlugin {
    /// Every node for a pod that names none.
    public func quickFilter(_ state: CycleState, _ pod: Pod) -> QuickFilter? {
        pod.spec.nodeName.isEmpty ? .all : nil
    }
}
