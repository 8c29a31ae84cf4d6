public import SimCore

/// spec of a node.
public struct NodeSpec: Equatable, Sendable {
    public var taints: [Taint] = []
    public var unschedulable: Bool = false
    public var podCIDR: String = ""
    public init(taints: [Taint] = [], unschedulable: Bool = false) { self.taints = taints; self.unschedulable = unschedulable }
}

/// A node condition (Ready, MemoryPressure, ...).
public struct NodeCondition: Equatable, Sendable {
    public var type: String
    /// "True", "False" or "Unknown"
    public var status: String
    public var reason: String = ""
    public var message: String = ""
    public var lastHeartbeatTime: SimTime? = nil
    public var lastTransitionTime: SimTime? = nil
    public init(type: String, status: String, reason: String = "", message: String = "",
                lastHeartbeatTime: SimTime? = nil, lastTransitionTime: SimTime? = nil) {
        self.type = type; self.status = status; self.reason = reason; self.message = message
        self.lastHeartbeatTime = lastHeartbeatTime; self.lastTransitionTime = lastTransitionTime
    }
}

/// status of a node.
public struct NodeStatus: Equatable, Sendable {
    public var capacity: ResourceList = [:]
    /// What pods may request; defaults to capacity.
    public var allocatable: ResourceList = [:]
    public var conditions: [NodeCondition] = []
    /// The images present on the node, as the kubelet reports them in `status.images`
    /// (each with all its names and its size). ImageLocality scores with these.
    public var containerImages: [ContainerImage] = []
    public init() {}

    /// The first name of every image that has one, in the order reported: the short
    /// list that Lua node views expose as `images`.
    ///
    /// Setting it replaces `containerImages` with one image per name, of unknown size (0).
    public var images: [String] {
        get { containerImages.compactMap(\.names.first) }
        set { containerImages = newValue.map { ContainerImage(names: [$0]) } }
    }
}

/// An image on a node (core/v1 ContainerImage): every name it is known by
/// (`repo:tag`, `repo@sha256:...`) and its size.
public struct ContainerImage: Equatable, Sendable {
    /// The names of the image; the kubelet lists tags and digests.
    public var names: [String]
    /// The size in bytes; 0 when not reported.
    public var sizeBytes: Int64

    public init(names: [String], sizeBytes: Int64 = 0) {
        self.names = names; self.sizeBytes = sizeBytes
    }
}

/// A node (core/v1).
public struct Node: Equatable, Sendable {
    public var metadata: ObjectMeta
    public var spec: NodeSpec
    public var status: NodeStatus

    public init(metadata: ObjectMeta, spec: NodeSpec = .init(), status: NodeStatus = .init()) {
        self.metadata = metadata; self.spec = spec; self.status = status
    }

    /// The Ready condition's status: "True", "False" or "Unknown" ("Unknown" when absent).
    public var readyStatus: String { status.conditions.first { $0.type == "Ready" }?.status ?? "Unknown" }
    /// The Ready condition is True.
    public var isReady: Bool { readyStatus == "True" }

    /// Sets a condition, keeping its place in the list; the transition time moves only
    /// when the status changes, as the kubelet and the node controller do.
    ///
    /// - Parameter heartbeat: also sets lastHeartbeatTime (the kubelet reporting).
    public mutating func setCondition(_ type: String, status: String, reason: String, message: String,
                                      at now: SimTime, heartbeat: Bool = false) {
        let i = self.status.conditions.firstIndex { $0.type == type }
        var c = i.map { self.status.conditions[$0] } ?? NodeCondition(type: type, status: "")
        if c.status != status { c.lastTransitionTime = now }
        c.status = status
        c.reason = reason
        c.message = message
        if heartbeat { c.lastHeartbeatTime = now }
        if let i { self.status.conditions[i] = c } else { self.status.conditions.append(c) }
    }
}
