public import SimCore
public import KubeAPI
public import KubeStore
public import KubeAPIServer
public import KubeScheduler
public import KubeControllers
public import KubeNode

/// Every timing and knob of a simulated cluster, with Kubernetes' defaults.
public struct ClusterSettings: Sendable {
    public var apiServer = APIServerSettings()
    public var scheduler = SchedulerSettings()
    public var kubelet = KubeletSettings()
    public var nodeLifecycle = NodeLifecycleSettings()
    public init() {}

    /// The settings a scenario or the command line may set, by name, with their values
    /// in the form they are written.
    public static let names = [
        "lease_renew_interval", "node_monitor_grace_period", "node_monitor_period", "default_toleration_seconds",
        "pod_start_delay_min", "pod_start_delay_max", "watch_latency_min", "watch_latency_max",
    ]

    /// Sets one setting by its snake_case name. Durations take "10s"-style strings or seconds.
    ///
    /// - Throws: `ClusterError` for an unknown name or a bad value.
    public mutating func set(_ name: String, _ value: String) throws(ClusterError) {
        func duration() throws(ClusterError) -> SimDuration {
            do { return try SimDuration(parsing: value) } catch {
                throw ClusterError("settings.\(name): \(error.description)")
            }
        }
        switch name {
        case "lease_renew_interval": kubelet.leaseRenewInterval = try duration()
        case "node_monitor_grace_period": nodeLifecycle.gracePeriod = try duration()
        case "node_monitor_period": nodeLifecycle.monitorPeriod = try duration()
        case "default_toleration_seconds":
            guard let v = Int64(value), v >= 0 else {
                throw ClusterError("settings.default_toleration_seconds: expected a whole number of seconds, got '\(value)'")
            }
            apiServer.defaultTolerationSeconds = v
        case "pod_start_delay_min": kubelet.startDelayMin = try duration()
        case "pod_start_delay_max": kubelet.startDelayMax = try duration()
        case "watch_latency_min": apiServer.watchLatencyMin = try duration()
        case "watch_latency_max": apiServer.watchLatencyMax = try duration()
        default:
            throw ClusterError("unknown setting '\(name)' (known: \(ClusterSettings.names.joined(separator: ", ")))")
        }
        if nodeLifecycle.monitorPeriod.nanoseconds <= 0 || kubelet.leaseRenewInterval.nanoseconds <= 0 {
            throw ClusterError("settings.\(name): must be greater than zero")
        }
    }
}

/// An error in building or driving a cluster, as one clear sentence.
public struct ClusterError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// A fault injected into the cluster, for the run's report.
public struct Fault: Sendable, Equatable {
    public var time: SimTime
    public var kind: String
    public var target: String
}

/// The composition root: one simulation, the API server and store, the scheduler, the
/// controllers and one kubelet per node, all wired through the API server only.
public final class Cluster {
    public let sim: Simulation
    public let server: APIServer
    /// The scheduler of the first profile (default-scheduler unless configured).
    public var scheduler: Scheduler { schedulers[0] }
    /// One scheduler per profile, each serving the pods that name its schedulerName.
    public let schedulers: [Scheduler]
    public let settings: ClusterSettings
    public let replicaSets: ReplicaSetController
    public let deployments: DeploymentController
    public let nodeLifecycle: NodeLifecycleController
    /// Keeps PodDisruptionBudget status (disruptionsAllowed) for preemption.
    public let disruption: DisruptionController
    /// Kubelets by node name.
    public private(set) var kubelets: [String: Kubelet] = [:]
    /// The admin client used by scenarios and `apply`.
    public let admin: Client
    public private(set) var faults: [Fault] = []

    /// Builds a cluster; nothing runs until `start()`.
    public convenience init(seed: UInt64, settings: ClusterSettings = .init(), framework: Framework = .defaultProfile()) {
        self.init(seed: seed, settings: settings, profiles: [(settings.scheduler.schedulerName, framework)])
    }

    /// A cluster whose scheduler runs several profiles (a KubeSchedulerConfiguration).
    public init(seed: UInt64, settings: ClusterSettings = .init(), profiles: [(schedulerName: String, framework: Framework)]) {
        sim = Simulation(seed: seed)
        self.settings = settings
        server = APIServer(sim: sim, settings: settings.apiServer)
        let server = server
        var list = profiles.map { p -> Scheduler in
            var s = settings.scheduler
            s.schedulerName = p.schedulerName
            return Scheduler(server: server, framework: p.framework, settings: s)
        }
        if list.isEmpty { list = [Scheduler(server: server, framework: .defaultProfile(), settings: settings.scheduler)] }
        schedulers = list
        replicaSets = ReplicaSetController(server: server)
        deployments = DeploymentController(server: server)
        nodeLifecycle = NodeLifecycleController(server: server, settings: settings.nodeLifecycle)
        disruption = DisruptionController(server: server)
        admin = server.client("admin")
    }

    /// Starts the control plane, without the built-in controllers named in `replaced`
    /// (a Lua controller runs instead of them).
    public func start(skipping replaced: Set<String> = []) throws(ClusterError) {
        do {
            for s in schedulers { try s.start() }
            if !replaced.contains(ReplicaSetController.name) { try replicaSets.start() }
            if !replaced.contains(DeploymentController.name) { try deployments.start() }
            if !replaced.contains(NodeLifecycleController.name) { try nodeLifecycle.start() }
            if !replaced.contains(DisruptionController.name) { try disruption.start() }
        } catch {
            throw ClusterError("starting the control plane failed: \(error.message)")
        }
    }

    /// Registers a node and starts its kubelet.
    public func addNode(_ node: Node) throws(ClusterError) {
        let name = node.metadata.name
        guard kubelets[name] == nil else { throw ClusterError("node \(name) already exists") }
        do { try admin.create(.node(node)) } catch { throw ClusterError("cannot add node \(name): \(error.message)") }
        let k = Kubelet(server: server, nodeName: name, settings: settings.kubelet)
        kubelets[name] = k
        k.start()
        sim.record("cluster", "node \(name) joined")
    }

    /// Crashes a node: its kubelet stops at once (no more heartbeats or pod updates).
    public func crashNode(_ name: String) throws(ClusterError) {
        guard let k = kubelets[name] else { throw ClusterError("no node named '\(name)'") }
        k.crash()
        faults.append(Fault(time: sim.now, kind: "crash_node", target: name))
        sim.record("fault", "node \(name) crashed")
    }

    /// Brings a crashed node back: its kubelet starts again and reports Ready.
    public func recoverNode(_ name: String) throws(ClusterError) {
        guard let k = kubelets[name] else { throw ClusterError("no node named '\(name)'") }
        guard !k.isRunning else { return }
        faults.append(Fault(time: sim.now, kind: "recover_node", target: name))
        sim.record("fault", "node \(name) recovered")
        k.start()
    }

    /// Creates an object through the API server as the admin.
    @discardableResult
    public func create(_ object: KubeObject) throws(ClusterError) -> KubeObject {
        do { return try admin.create(object) } catch { throw ClusterError("cannot create \(object.kind.rawValue) \(object.metadata.name): \(error.message)") }
    }

    /// Objects of a kind, sorted by namespace/name, read through the API server as the
    /// admin (an unavailable API server reads as empty).
    public func list(_ kind: Kind) -> [KubeObject] { (try? admin.list(kind)) ?? [] }

    public var pods: [Pod] { list(.pod).compactMap(\.pod) }
    public var nodes: [Node] { list(.node).compactMap(\.node) }
}
