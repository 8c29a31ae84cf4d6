public import SimCore

/// A pod template.
public struct PodTemplateSpec: Equatable, Sendable {
    public var metadata: ObjectMeta
    public var spec: PodSpec
    public init(metadata: ObjectMeta = .init(), spec: PodSpec = .init()) { self.metadata = metadata; self.spec = spec }
}

/// spec of a ReplicaSet.
public struct ReplicaSetSpec: Equatable, Sendable {
    public var replicas: Int = 1
    public var selector: LabelSelector
    public var template: PodTemplateSpec
    public var minReadySeconds: Int = 0
    public init(replicas: Int = 1, selector: LabelSelector, template: PodTemplateSpec) {
        self.replicas = replicas; self.selector = selector; self.template = template
    }
}

/// status of a ReplicaSet.
public struct ReplicaSetStatus: Equatable, Sendable {
    public var replicas: Int = 0
    public var readyReplicas: Int = 0
    public var availableReplicas: Int = 0
    public var observedGeneration: Int64 = 0
    public init() {}
}

/// A ReplicaSet (apps/v1).
public struct ReplicaSet: Equatable, Sendable {
    public var metadata: ObjectMeta
    public var spec: ReplicaSetSpec
    public var status: ReplicaSetStatus
    public init(metadata: ObjectMeta, spec: ReplicaSetSpec, status: ReplicaSetStatus = .init()) {
        self.metadata = metadata; self.spec = spec; self.status = status
    }
}

/// The strategy of a Deployment.
public struct DeploymentStrategy: Equatable, Sendable {
    /// RollingUpdate or Recreate
    public var type: String = "RollingUpdate"
    public var maxSurge: IntOrString = .string("25%")
    public var maxUnavailable: IntOrString = .string("25%")
    public init() {}
}

/// spec of a Deployment.
public struct DeploymentSpec: Equatable, Sendable {
    public var replicas: Int = 1
    public var selector: LabelSelector
    public var template: PodTemplateSpec
    public var strategy = DeploymentStrategy()
    public var minReadySeconds: Int = 0
    public var revisionHistoryLimit: Int = 10
    public var paused: Bool = false
    public init(replicas: Int = 1, selector: LabelSelector, template: PodTemplateSpec) {
        self.replicas = replicas; self.selector = selector; self.template = template
    }
}

/// status of a Deployment.
public struct DeploymentStatus: Equatable, Sendable {
    public var replicas: Int = 0
    public var updatedReplicas: Int = 0
    public var readyReplicas: Int = 0
    public var availableReplicas: Int = 0
    public var unavailableReplicas: Int = 0
    public var observedGeneration: Int64 = 0
    public init() {}
}

/// A Deployment (apps/v1).
public struct Deployment: Equatable, Sendable {
    public var metadata: ObjectMeta
    public var spec: DeploymentSpec
    public var status: DeploymentStatus
    public init(metadata: ObjectMeta, spec: DeploymentSpec, status: DeploymentStatus = .init()) {
        self.metadata = metadata; self.spec = spec; self.status = status
    }
}

/// spec of a Lease (coordination.k8s.io/v1).
public struct LeaseSpec: Equatable, Sendable {
    public var holderIdentity: String = ""
    public var leaseDurationSeconds: Int = 40
    public var acquireTime: SimTime? = nil
    public var renewTime: SimTime? = nil
    public init() {}
}

/// A Lease: kubelets renew one per node as their heartbeat.
public struct Lease: Equatable, Sendable {
    public var metadata: ObjectMeta
    public var spec: LeaseSpec
    public init(metadata: ObjectMeta, spec: LeaseSpec = .init()) { self.metadata = metadata; self.spec = spec }
}

/// An Event (core/v1).
public struct Event: Equatable, Sendable {
    public var metadata: ObjectMeta
    public var involvedObject: ObjectReference
    public var reason: String
    public var message: String
    /// Normal or Warning
    public var type: String = "Normal"
    public var source: String = ""
    public var firstTimestamp: SimTime? = nil
    public var lastTimestamp: SimTime? = nil
    public var count: Int = 1
    public init(metadata: ObjectMeta, involvedObject: ObjectReference, reason: String, message: String,
                type: String = "Normal", source: String = "") {
        self.metadata = metadata; self.involvedObject = involvedObject; self.reason = reason
        self.message = message; self.type = type; self.source = source
    }
}
