public import KubeAPI

/// Resource amounts as integers: cpu in millicores, memory and everything else in units.
public struct Resources: Sendable, Equatable {
    public var milliCPU: Int64 = 0
    public var memory: Int64 = 0
    /// Extended and other resources by name (e.g. "nvidia.com/gpu", "ephemeral-storage").
    public var scalar: [String: Int64] = [:]

    public init(milliCPU: Int64 = 0, memory: Int64 = 0, scalar: [String: Int64] = [:]) {
        self.milliCPU = milliCPU; self.memory = memory; self.scalar = scalar
    }

    /// Converts a resource list ("pods" is kept out: it is counted separately).
    public init(_ list: ResourceList) {
        for (name, q) in list {
            switch name {
            case "cpu": milliCPU = q.milliValue
            case "memory": memory = q.value
            case "pods": break
            default: scalar[name] = q.value
            }
        }
    }

    /// The amount of a resource by its Kubernetes name.
    public subscript(name: String) -> Int64 {
        get {
            switch name {
            case "cpu": return milliCPU
            case "memory": return memory
            default: return scalar[name] ?? 0
            }
        }
        set {
            switch name {
            case "cpu": milliCPU = newValue
            case "memory": memory = newValue
            default: scalar[name] = newValue
            }
        }
    }

    /// Resource names present, sorted (cpu and memory first).
    public var names: [String] { ["cpu", "memory"] + scalar.keys.sorted() }

    public mutating func add(_ o: Resources) {
        milliCPU += o.milliCPU; memory += o.memory
        for (k, v) in o.scalar { scalar[k, default: 0] += v }
    }

    public mutating func subtract(_ o: Resources) {
        milliCPU -= o.milliCPU; memory -= o.memory
        for (k, v) in o.scalar { scalar[k, default: 0] -= v }
    }

    mutating func setMax(_ o: Resources) {
        milliCPU = max(milliCPU, o.milliCPU); memory = max(memory, o.memory)
        for (k, v) in o.scalar { scalar[k] = max(scalar[k] ?? 0, v) }
    }
}

/// kube-scheduler's effective pod request: regular containers plus sidecars, or the
/// largest init-container phase if larger, plus overhead.
public enum PodRequests {
    public static let defaultMilliCPU: Int64 = 100
    public static let defaultMemory: Int64 = 200 * 1024 * 1024

    /// The pod's effective request.
    ///
    /// - Parameter nonZero: apply the scoring defaults (100m cpu, 200Mi memory) to each
    ///   container that has no cpu / memory request.
    public static func of(_ pod: Pod, nonZero: Bool = false) -> Resources {
        func req(_ c: Container) -> Resources {
            var r = Resources(c.resources.requests)
            if nonZero {
                if c.resources.requests["cpu"] == nil { r.milliCPU = defaultMilliCPU }
                if c.resources.requests["memory"] == nil { r.memory = defaultMemory }
            }
            return r
        }
        var total = Resources()
        for c in pod.spec.containers { total.add(req(c)) }
        var acc = Resources()
        var initMax = Resources()
        for c in pod.spec.initContainers {
            let r = req(c)
            if c.restartPolicy == "Always" {
                total.add(r)
                acc.add(r)
                initMax.setMax(acc)
            } else {
                var cand = r
                cand.add(acc)
                initMax.setMax(cand)
            }
        }
        total.setMax(initMax)
        if !pod.spec.overhead.isEmpty { total.add(Resources(pod.spec.overhead)) }
        return total
    }
}

/// A node with the pods the scheduler believes run on it, and their summed requests.
public struct NodeInfo: Sendable {
    public var node: Node
    public private(set) var pods: [Pod] = []
    /// Sum of the pods' real requests.
    public private(set) var requested = Resources()
    /// Sum with the scoring defaults applied (cpu and memory only matter).
    public private(set) var nonZeroRequested = Resources()
    /// Allocatable resources.
    public var allocatable: Resources
    /// Allocatable pod count.
    public var allowedPodNumber: Int64

    public init(node: Node, pods: [Pod] = []) {
        self.node = node
        self.allocatable = Resources(node.status.allocatable)
        self.allowedPodNumber = node.status.allocatable["pods"]?.value ?? 110
        for p in pods { add(p) }
    }

    public var name: String { node.metadata.name }

    /// Replaces the node object, keeping the pods.
    public mutating func setNode(_ n: Node) {
        node = n
        allocatable = Resources(n.status.allocatable)
        allowedPodNumber = n.status.allocatable["pods"]?.value ?? 110
    }

    /// Counts a pod on this node.
    public mutating func add(_ pod: Pod) {
        pods.append(pod)
        requested.add(PodRequests.of(pod))
        nonZeroRequested.add(PodRequests.of(pod, nonZero: true))
    }

    /// Removes a pod by namespace/name; returns whether it was there.
    @discardableResult
    public mutating func remove(namespace: String, name: String) -> Bool {
        guard let i = pods.firstIndex(where: { $0.metadata.namespace == namespace && $0.metadata.name == name }) else {
            return false
        }
        let p = pods.remove(at: i)
        requested.subtract(PodRequests.of(p))
        nonZeroRequested.subtract(PodRequests.of(p, nonZero: true))
        return true
    }

    /// allocatable - requested
    public var free: Resources {
        var f = allocatable
        f.subtract(requested)
        return f
    }
}
