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

/// Score: how good is this node for the pod, 0...100 (`maxNodeScore`). A non-success
/// status counts as 0 for this node.
public protocol ScorePlugin: Plugin {
    func score(_ state: CycleState, _ pod: Pod, _ node: NodeInfo) -> (Int64, Status)
    /// Optional NormalizeScore over every feasible node's score; the default keeps them.
    func normalize(_ state: CycleState, _ pod: Pod, _ scores: inout [(node: String, score: Int64)]) -> Status
}

extension ScorePlugin {
    public func normalize(_ state: CycleState, _ pod: Pod, _ scores: inout [(node: String, score: Int64)]) -> Status {
        .success
    }
}

/// A plugin that wants to hear that a pod was bound (Lua plugins keep `state`-free
/// bookkeeping this way). Optional.
public protocol PostBindPlugin: Plugin {
    func postBind(_ state: CycleState, _ pod: Pod, nodeName: String)
}
