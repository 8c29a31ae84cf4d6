public import KubeAPI

/// A plugin of the scheduling framework, named as kube-scheduler names it.
public protocol Plugin: AnyObject {
    var name: String { get }
    /// False once the plugin has been switched off for the rest of the run (a Lua plugin
    /// that keeps failing): the framework then runs the profile as if it were not in it.
    var isEnabled: Bool { get }
}

extension Plugin {
    public var isEnabled: Bool { true }
}

/// Filter: may this pod run on this node? `success` keeps the node; `unschedulable` and
/// `unschedulableAndUnresolvable` reject it with the reasons; `error` rejects it and is
/// reported as a plugin failure.
public protocol FilterPlugin: Plugin {
    func filter(_ state: CycleState, _ pod: Pod, _ node: NodeInfo) -> Status
}

/// A Filter that can judge many nodes in one call (a Lua plugin: one crossing into Lua for
/// a batch). The verdicts must be those `filter` would give node by node, in order.
public protocol BatchFilterPlugin: FilterPlugin {
    /// The verdict on `nodes[i]` for each `i` of `indices`, in that order.
    func filter(_ state: CycleState, _ pod: Pod, _ nodes: [NodeInfo], at indices: [Int]) -> [Status]
}

/// A Score plugin that scores many nodes in one call. A non-success status counts as 0,
/// as for `score`.
public protocol BatchScorePlugin: ScorePlugin {
    /// The scores of `nodes[i]` for each `i` of `indices`, in that order.
    func score(_ state: CycleState, _ pod: Pod, _ nodes: [NodeInfo], at indices: [Int]) -> [(Int64, Status)]
}

/// Score: how good is this node for the pod, 0...100 (`maxNodeScore`). A non-success
/// status counts as 0 for this node.
public protocol ScorePlugin: Plugin {
    func score(_ state: CycleState, _ pod: Pod, _ node: NodeInfo) -> (Int64, Status)
    /// Optional NormalizeScore over every feasible node's score; the default keeps them.
    func normalize(_ state: CycleState, _ pod: Pod, _ scores: inout [(node: String, score: Int64)]) -> Status
    /// Whether the plugin has a NormalizeScore (`normalize` is called only then).
    var normalizes: Bool { get }
}

extension ScorePlugin {
    public var normalizes: Bool { false }

    public func normalize(_ state: CycleState, _ pod: Pod, _ scores: inout [(node: String, score: Int64)]) -> Status {
        .success
    }
}

/// PreFilter: runs once per cycle before any Filter, with every node of the snapshot.
/// `skip` skips the plugin's Filter for this cycle; a rejection rejects every node;
/// `nodeNames` narrows the nodes worth filtering (nil: all).
public protocol PreFilterPlugin: Plugin {
    func runPreFilter(_ state: CycleState, _ pod: Pod, _ nodes: [NodeInfo]) -> (nodeNames: [String]?, status: Status)
}

/// PreScore: runs once per cycle before Score, over the feasible nodes (every node of the
/// snapshot is in `CycleState.allNodes`). `skip` leaves the plugin out of this cycle's
/// scoring.
public protocol PreScorePlugin: Plugin {
    func preScore(_ state: CycleState, _ pod: Pod, _ nodes: FeasibleNodes) -> Status
}

extension PreScorePlugin {
    /// PreScore over a list of nodes.
    public func preScore(_ state: CycleState, _ pod: Pod, _ nodes: [NodeInfo]) -> Status {
        preScore(state, pod, FeasibleNodes(nodes))
    }
}

/// The feasible nodes of a cycle as PreScore sees them: positions into the cycle's
/// snapshot, not a copy of each node.
public struct FeasibleNodes: RandomAccessCollection, Sendable {
    /// The snapshot.
    public let all: [NodeInfo]
    /// The feasible nodes' positions in `all`, in order.
    public let positions: [Int]

    public init(_ all: [NodeInfo], positions: [Int]) {
        self.all = all; self.positions = positions
    }

    /// Every node of `nodes`.
    public init(_ nodes: [NodeInfo]) {
        self.init(nodes, positions: Array(nodes.indices))
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { positions.count }
    public subscript(i: Int) -> NodeInfo { all[positions[i]] }
}

extension NodeAffinityFilter: PreFilterPlugin, PreScorePlugin {
    public func runPreFilter(_ state: CycleState, _ pod: Pod, _ nodes: [NodeInfo]) -> (nodeNames: [String]?, status: Status) {
        preFilter(state, pod)
    }
}

extension NodePorts: PreFilterPlugin {
    public func runPreFilter(_ state: CycleState, _ pod: Pod, _ nodes: [NodeInfo]) -> (nodeNames: [String]?, status: Status) {
        (nil, preFilter(state, pod))
    }
}

extension NodeResourcesBalancedAllocation: PreScorePlugin {}

/// QueueSort: the order in which pending pods are scheduled. A profile has at most one.
public protocol QueueSortPlugin: Plugin {
    /// Whether `a` goes before `b`, or nil when the plugin failed: the default order
    /// (PrioritySort) decides that comparison.
    func less(_ a: Pod, _ b: Pod) -> Bool?
}

/// Permit: the last say before a pod is bound to the chosen node. `success` allows,
/// `unschedulable` denies (the pod is unschedulable with the reasons), `wait` keeps the pod
/// reserved on the node for up to `waitNanoseconds` while the permit plugins are asked again
/// after every scheduling cycle; it is rejected when the time runs out.
public protocol PermitPlugin: Plugin {
    func permit(_ state: CycleState, _ pod: Pod, nodeName: String) -> Status
}

/// Reserve: told that the pod is assumed on the chosen node (before Permit); `unreserve`
/// undoes it when a later step rejects the pod. A failing reserve rejects the pod.
public protocol ReservePlugin: Plugin {
    func reserve(_ state: CycleState, _ pod: Pod, nodeName: String) -> Status
    func unreserve(_ state: CycleState, _ pod: Pod, nodeName: String)
}

/// PrioritySort, kube-scheduler's default QueueSort: higher `spec.priority` first; pods of
/// equal priority keep the order they were queued in (the caller breaks that tie).
public enum PrioritySort {
    /// nil when `a` and `b` have the same priority.
    public static func less(_ a: Pod, _ b: Pod) -> Bool? {
        let pa = a.spec.priority ?? 0, pb = b.spec.priority ?? 0
        return pa == pb ? nil : pa > pb
    }
}

/// A plugin that wants to hear that a pod was bound (Lua plugins keep `state`-free
/// bookkeeping this way). Optional.
public protocol PostBindPlugin: Plugin {
    func postBind(_ state: CycleState, _ pod: Pod, nodeName: String)
}

/// PreBind: runs in the binding cycle, after Permit allowed the pod and before it is bound
/// (kube-scheduler provisions volumes here). `success` and `skip` go on; `unschedulable`
/// fails the binding and the pod waits as unschedulable; any other status fails it as an
/// error and the pod is retried after backoff. Either way its reservation is undone.
public protocol PreBindPlugin: Plugin {
    func preBind(_ state: CycleState, _ pod: Pod, nodeName: String) -> Status
}

/// Writes a pod's Binding to a node (the API server's binding subresource); a non-success
/// status says why it could not.
public typealias PodBinder = (_ pod: Pod, _ nodeName: String) -> Status

/// Bind: binds the pod to the node. The bind plugins run in order until one does not
/// `skip`: `success` means the pod is bound, anything else fails the binding (the
/// reservation is undone and the pod is retried after backoff). When every bind plugin
/// skips, the binding fails.
public protocol BindPlugin: Plugin {
    func bind(_ state: CycleState, _ pod: Pod, nodeName: String, binder: PodBinder) -> Status
}

/// kube-scheduler's DefaultBinder: writes the Binding through the API server.
public final class DefaultBinder: BindPlugin {
    public let name = "DefaultBinder"
    public init() {}
    public func bind(_ state: CycleState, _ pod: Pod, nodeName: String, binder: PodBinder) -> Status {
        binder(pod, nodeName)
    }
}
