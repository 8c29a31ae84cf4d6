public import KubeAPI

/// A built-in filter's verdict for one cycle's pod on the nodes where it is plain, read
/// from the few fields every NodeInfo keeps together. The framework checks it inline, node
/// by node, and calls the plugin's `filter` only on the nodes it does not pass, so a
/// quick check changes the speed of a cycle, never its outcome: it may only pass nodes
/// that `filter` passes.
public enum QuickFilter: Sendable, Equatable {
    /// Every node passes: nothing about this pod concerns the plugin.
    case all
    /// A node that is not cordoned passes.
    case schedulable
    /// A node without taints passes.
    case untainted
    /// A node with room for one more pod and for these requests passes (cpu in millicores,
    /// memory in bytes; the pod requests nothing else).
    case room(cpu: Int64, memory: Int64)
}

/// A built-in score for one cycle's pod, computed inline from the fields every NodeInfo
/// keeps together; where it does not apply to a node the framework calls `score`. It must
/// give exactly the numbers `score` gives.
public enum QuickScore: Sendable, Equatable {
    /// 0 on a node without taints.
    case zeroIfUntainted
    /// 0 on a node that lists no container image.
    case zeroIfNoImages
    /// NodeResourcesFit's LeastAllocated (`least`) or MostAllocated over cpu and memory, with
    /// the pod's non-zero requests and the resources' weights.
    case allocated(least: Bool, cpu: Int64, memory: Int64, cpuWeight: Int64, memoryWeight: Int64)
    /// NodeResourcesBalancedAllocation over cpu and memory, with the pod's real requests
    /// (at least one of them above 0).
    case balanced(cpu: Int64, memory: Int64)
}

/// A filter that has a quick check.
public protocol QuickFilterPlugin: FilterPlugin {
    /// This cycle's quick check (called after PreFilter), or nil to have `filter` judge
    /// every node.
    func quickFilter(_ state: CycleState, _ pod: Pod) -> QuickFilter?
}

/// A score plugin that has a quick score.
public protocol QuickScorePlugin: ScorePlugin {
    /// This cycle's quick score (called after PreScore), or nil to have `score` score every
    /// node.
    func quickScore(_ state: CycleState, _ pod: Pod) -> QuickScore?
    /// NormalizeScore over the scores alone, in the order of the nodes, when the plugin's
    /// normalization does not look at node names; nil when it does (then `normalize` runs).
    func normalizeScores(_ state: CycleState, _ pod: Pod, _ scores: inout [Int64]) -> Status?
}

extension QuickScorePlugin {
    public func normalizeScores(_ state: CycleState, _ pod: Pod, _ scores: inout [Int64]) -> Status? { nil }
}

extension NodeInfo {
    /// Whether the quick check passes this node (false: the plugin's `filter` decides).
    @inline(__always)
    func passes(_ q: QuickFilter) -> Bool { passes(QuickFilterSet(q)) }

    /// Whether the node passes every check of the set.
    @inline(__always)
    func passes(_ set: QuickFilterSet) -> Bool {
        let st = hot
        if set.cordon && st.unschedulable { return false }
        if set.taints && st.hasTaints { return false }
        if set.room {
            return Int64(st.podCount) < st.allowedPodNumber && (set.cpu <= 0 || set.cpu <= st.freeCPU)
                && (set.memory <= 0 || set.memory <= st.freeMemory)
        }
        return true
    }
}

/// Several quick checks as one: a node passes the set when it passes each of them.
struct QuickFilterSet {
    var cordon = false, taints = false, room = false
    var cpu: Int64 = 0, memory: Int64 = 0

    init(_ checks: [QuickFilter]) {
        for c in checks { add(c) }
    }

    init(_ check: QuickFilter) { add(check) }

    private mutating func add(_ c: QuickFilter) {
        switch c {
        case .all: break
        case .schedulable: cordon = true
        case .untainted: taints = true
        case .room(let c, let m):
            // Room for the larger requests is room for each.
            cpu = room ? max(cpu, c) : c
            memory = room ? max(memory, m) : m
            room = true
        }
    }
}

extension QuickScore {
    /// Writes the quick score of `nodes[feasible[j]]` into `out[j]` for every `j` it applies
    /// to (with a `weight`: adds the weighted score to `out[j]`, a running total); returns the
    /// other `j`, in order, for the plugin's `score`.
    func fill(_ out: inout [Int64], _ nodes: [NodeInfo], _ feasible: [Int], weight: Int64? = nil) -> [Int] {
        precondition(out.count >= feasible.count)
        var rest: [Int] = []
        out.withUnsafeMutableBufferPointer { out in
            nodes.withUnsafeBufferPointer { nodes in
                feasible.withUnsafeBufferPointer { feasible in
                    // Positions come from the cycle's own search over `nodes`.
                    func storage(_ j: Int) -> NodeInfo.Storage { nodes[feasible[j]].s }
                    @inline(__always) func put(_ j: Int, _ v: Int64) {
                        if let weight { out[j] = out[j] &+ v &* weight } else { out[j] = v }
                    }
                    switch self {
                    case .zeroIfUntainted:
                        for j in 0..<feasible.count {
                            if nodes[feasible[j]].hot.hasTaints { rest.append(j) } else { put(j, 0) }
                        }
                    case .zeroIfNoImages:
                        for j in 0..<feasible.count {
                            if nodes[feasible[j]].hot.hasImages { rest.append(j) } else { put(j, 0) }
                        }
                    case .allocated(let least, let cpu, let memory, let wc, let wm):
                        for j in 0..<feasible.count {
                            let st = storage(j)
                            put(j, NodeResourcesFit.cpuMemoryScore(least: least, allocatable: (st.allocatableCPU, st.allocatableMemory),
                                                                   requested: (st.nonZeroCPU &+ cpu, st.nonZeroMemory &+ memory),
                                                                   weights: (wc, wm)))
                        }
                    case .balanced(let cpu, let memory):
                        for j in 0..<feasible.count {
                            let st = storage(j)
                            if let v = NodeResourcesBalancedAllocation.cpuMemoryScore(
                                allocatable: (st.allocatableCPU, st.allocatableMemory),
                                requested: (st.requestedCPU &+ cpu, st.requestedMemory &+ memory)) {
                                put(j, v)
                            } else {
                                rest.append(j)
                            }
                        }
                    }
                }
            }
        }
        return rest
    }
}
