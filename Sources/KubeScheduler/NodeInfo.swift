public import KubeAPI
import Synchronization

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
///
/// A value type that is cheap to copy: the contents sit in one shared box, copied only
/// when a shared copy is changed (a cycle's snapshot of 5,000 nodes is 5,000 retains),
/// beside a copy of the few fields a search reads for every node (`hot`).
/// `generation` changes with every change, as kube-scheduler's NodeInfo.Generation does,
/// so caches built from a node (the Lua views) know when to rebuild.
public struct NodeInfo: Sendable {
    final class Storage: @unchecked Sendable {
        // What the quick scores read comes first, together (a class keeps its fields in
        // this order), so that a node's scores touch one or two cache lines of it, not the
        // whole Node; what every node of a search is checked on sits in the NodeInfo value
        // itself (`hot`).
        var allowedPodNumber: Int64
        /// cpu (millicores) and memory of `allocatable`, `requested` and `nonZeroRequested`
        /// as plain numbers, for the quick scores (set by `changed`).
        var allocatableCPU: Int64 = 0, allocatableMemory: Int64 = 0
        var requestedCPU: Int64 = 0, requestedMemory: Int64 = 0
        var nonZeroCPU: Int64 = 0, nonZeroMemory: Int64 = 0
        var taints: [Taint] = []
        var free = Resources()
        var allocatable: Resources
        var requested = Resources()
        var nonZeroRequested = Resources()
        var node: Node
        var pods: [Pod]
        /// Pods with pod affinity or anti-affinity, and those with required anti-affinity
        /// (kube-scheduler's PodsWithAffinity and PodsWithRequiredAntiAffinity). Change the
        /// first only through `addAffinityPod` / `removeAffinityPods`, which keep the count of
        /// nodes holding such pods.
        private(set) var podsWithAffinity: [Pod] = []
        var podsWithRequiredAntiAffinity: [Pod] = []

        init(node: Node) {
            self.node = node
            taints = node.spec.taints
            allocatable = Resources(node.status.allocatable)
            allowedPodNumber = node.status.allocatable["pods"]?.value ?? 110
            pods = []
        }

        init(copying o: Storage) {
            node = o.node; taints = o.taints
            pods = o.pods; podsWithAffinity = o.podsWithAffinity
            podsWithRequiredAntiAffinity = o.podsWithRequiredAntiAffinity; requested = o.requested; nonZeroRequested = o.nonZeroRequested
            allocatable = o.allocatable; allowedPodNumber = o.allowedPodNumber; free = o.free
            allocatableCPU = o.allocatableCPU; allocatableMemory = o.allocatableMemory
            requestedCPU = o.requestedCPU; requestedMemory = o.requestedMemory; nonZeroCPU = o.nonZeroCPU; nonZeroMemory = o.nonZeroMemory
            if !podsWithAffinity.isEmpty { NodeInfo.affinityHolders.add(1) }
        }

        deinit {
            if !podsWithAffinity.isEmpty { NodeInfo.affinityHolders.add(-1) }
        }

        func addAffinityPod(_ pod: Pod) {
            if podsWithAffinity.isEmpty { NodeInfo.affinityHolders.add(1) }
            podsWithAffinity.append(pod)
        }

        func removeAffinityPods(where match: (Pod) -> Bool) {
            guard !podsWithAffinity.isEmpty else { return }
            podsWithAffinity.removeAll(where: match)
            if podsWithAffinity.isEmpty { NodeInfo.affinityHolders.add(-1) }
        }

        func changed() {
            free = allocatable
            free.subtract(requested)
            allocatableCPU = allocatable.milliCPU; allocatableMemory = allocatable.memory
            requestedCPU = requested.milliCPU; requestedMemory = requested.memory
            nonZeroCPU = nonZeroRequested.milliCPU; nonZeroMemory = nonZeroRequested.memory
        }
    }

    /// How many node records of the process hold pods with pod affinity or anti-affinity.
    /// When none does, no snapshot has such pods, and InterPodAffinity need not look for
    /// them node by node (kube-scheduler keeps that list in its snapshot).
    static let affinityHolders = HolderCount()
    /// Whether some node of the process may hold a pod with pod (anti-)affinity: false means
    /// no node does.
    static var anyHoldsAffinityPods: Bool { affinityHolders.value > 0 }

    var s: Storage
    /// The generation, and the fields a cycle reads for every node it examines, taken from
    /// the storage into the value itself: a search over thousands of nodes then reads its
    /// array of NodeInfo in order, instead of visiting each node's storage somewhere in
    /// memory. Every change goes through a method of this file, which makes them again
    /// (`changed`).
    @usableFromInline private(set) var hot: Hot

    @usableFromInline struct Hot: Sendable {
        @usableFromInline var generation: UInt64
        var freeCPU: Int64, freeMemory: Int64
        var allowedPodNumber: Int64
        var podCount: Int
        var unschedulable: Bool, hasTaints: Bool, hasImages: Bool

        init(_ st: Storage, generation: UInt64) {
            self.generation = generation
            freeCPU = st.free.milliCPU; freeMemory = st.free.memory
            allowedPodNumber = st.allowedPodNumber
            podCount = st.pods.count
            unschedulable = st.node.spec.unschedulable
            hasTaints = !st.taints.isEmpty
            // ImageLocality scores 0 on a node without images.
            hasImages = !st.node.status.containerImages.isEmpty
        }
    }

    /// After a change of the storage: its derived fields, a new generation and the copy.
    private mutating func changed(_ st: Storage) {
        st.changed()
        hot = Hot(st, generation: NodeInfo.nextGeneration())
    }

    private static let generations = GenerationCounter()
    static func nextGeneration() -> UInt64 { generations.next() }

    public init(node: Node, pods: [Pod] = []) {
        s = Storage(node: node)
        hot = Hot(s, generation: 0) // made again below
        s.pods.reserveCapacity(pods.count)
        for p in pods { add(p) }
        changed(s)
    }

    private mutating func unique() -> Storage {
        if !isKnownUniquelyReferenced(&s) { s = Storage(copying: s) }
        return s
    }

    public var node: Node {
        _read { yield s.node }
        set { setNode(newValue) }
    }
    public var pods: [Pod] { _read { yield s.pods } }
    /// `pods.count`, kept beside the other fields the filters read.
    public var podCount: Int { hot.podCount }
    /// `node.spec.unschedulable` (cordoned).
    public var unschedulable: Bool { hot.unschedulable }
    /// `node.spec.taints`.
    public var taints: [Taint] { _read { yield s.taints } }
    /// The pods with pod affinity or anti-affinity terms.
    public var podsWithAffinity: [Pod] { _read { yield s.podsWithAffinity } }
    /// The pods with required anti-affinity terms.
    public var podsWithRequiredAntiAffinity: [Pod] { _read { yield s.podsWithRequiredAntiAffinity } }
    /// Sum of the pods' real requests.
    public var requested: Resources { _read { yield s.requested } }
    /// Sum with the scoring defaults applied (cpu and memory only matter).
    public var nonZeroRequested: Resources { _read { yield s.nonZeroRequested } }
    /// Allocatable resources.
    public var allocatable: Resources {
        _read { yield s.allocatable }
        set { let st = unique(); st.allocatable = newValue; changed(st) }
    }
    /// Allocatable pod count.
    public var allowedPodNumber: Int64 {
        _read { yield s.allowedPodNumber }
        set { let st = unique(); st.allowedPodNumber = newValue; changed(st) }
    }
    /// allocatable - requested
    public var free: Resources { _read { yield s.free } }
    /// Changes with every change of the node or its pods; never repeats in a process.
    @inlinable public var generation: UInt64 { hot.generation }

    public var name: String { s.node.metadata.name }

    /// Replaces the node object, keeping the pods.
    public mutating func setNode(_ n: Node) {
        let st = unique()
        st.node = n
        st.taints = n.spec.taints
        st.allocatable = Resources(n.status.allocatable)
        st.allowedPodNumber = n.status.allocatable["pods"]?.value ?? 110
        changed(st)
    }

    /// Counts a pod on this node.
    public mutating func add(_ pod: Pod) {
        let st = unique()
        st.pods.append(pod)
        if PodAffinityTerms.hasPodAffinity(pod) { st.addAffinityPod(pod) }
        if pod.spec.affinity?.podAntiAffinity?.required.isEmpty == false { st.podsWithRequiredAntiAffinity.append(pod) }
        st.requested.add(PodRequests.of(pod))
        st.nonZeroRequested.add(PodRequests.of(pod, nonZero: true))
        changed(st)
    }

    /// Removes a pod by namespace/name; returns whether it was there.
    @discardableResult
    public mutating func remove(namespace: String, name: String) -> Bool {
        guard let i = s.pods.firstIndex(where: { $0.metadata.namespace == namespace && $0.metadata.name == name }) else {
            return false
        }
        let st = unique()
        let p = st.pods.remove(at: i)
        func same(_ q: Pod) -> Bool { q.metadata.namespace == namespace && q.metadata.name == name }
        st.removeAffinityPods(where: same)
        st.podsWithRequiredAntiAffinity.removeAll(where: same)
        st.requested.subtract(PodRequests.of(p))
        st.nonZeroRequested.subtract(PodRequests.of(p, nonZero: true))
        changed(st)
        return true
    }
}

/// A count shared by every thread.
final class HolderCount: Sendable {
    private let count = Atomic<Int>(0)
    func add(_ delta: Int) { count.add(delta, ordering: .relaxed) }
    var value: Int { count.load(ordering: .relaxed) }
}

/// Hands out increasing numbers to every thread (kube-scheduler's nextGeneration).
final class GenerationCounter: Sendable {
    private let value = Mutex<UInt64>(0)
    func next() -> UInt64 { value.withLock { $0 += 1; return $0 } }
}
