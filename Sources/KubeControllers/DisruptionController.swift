public import SimCore
public import KubeAPI
import KubeStore
public import KubeAPIServer

/// The disruption controller (kube-controller-manager's PodDisruptionBudget controller):
/// keeps each budget's status as kube computes it, so that preemption (and later the
/// eviction API) can read `status.disruptionsAllowed`.
///
/// For a budget it counts the pods of its namespace that its selector selects:
/// - expectedPods: for `maxUnavailable` or a percentage `minAvailable`, the sum of the
///   scales of the pods' controllers (a ReplicaSet's replicas, or its Deployment's);
///   pods without a controller are left out. For an integer `minAvailable`, the number
///   of selected pods.
/// - desiredHealthy: `minAvailable` (a percentage of expectedPods rounded up), or
///   expectedPods - `maxUnavailable` (a percentage rounded up), at least 0.
/// - currentHealthy: selected pods that are Ready and not being deleted.
/// - disruptionsAllowed: currentHealthy - desiredHealthy, at least 0, and 0 while no pods
///   are expected.
/// A pod whose controller cannot be found (a kind kubelab does not simulate, or a missing
/// one) makes the sync fail: as kube's failSafe, disruptionsAllowed drops to 0 and the
/// DisruptionAllowed condition says SyncFailed.
public final class DisruptionController {
    public static let name = "disruption-controller"
    let client: Client
    let sim: Simulation
    let queue: WorkQueue
    private var budgets: Informer?
    private var pods: Informer?
    private var replicaSets: Informer?
    private var deployments: Informer?

    public init(server: APIServer) {
        client = server.client(Self.name)
        sim = server.sim
        queue = WorkQueue(sim: sim)
    }

    /// Starts the informers and the work queue.
    public func start() throws(APIError) {
        let budgets = try Informer(client: client, kind: .podDisruptionBudget)
        let pods = try Informer(client: client, kind: .pod)
        let replicaSets = try Informer(client: client, kind: .replicaSet)
        let deployments = try Informer(client: client, kind: .deployment)
        self.budgets = budgets; self.pods = pods; self.replicaSets = replicaSets; self.deployments = deployments
        budgets.onEvent = { [weak self] _, o, _ in self?.queue.add(o.namespacedName) }
        pods.onEvent = { [weak self] _, o, old in self?.podChanged(o, old) }
        // A scale change changes expectedPods before any pod appears or goes.
        replicaSets.onEvent = { [weak self] _, o, _ in self?.enqueueAll(namespace: o.metadata.namespace) }
        deployments.onEvent = { [weak self] _, o, _ in self?.enqueueAll(namespace: o.metadata.namespace) }
        queue.handler = { [weak self] key in try self?.reconcile(key) }
        queue.onError = { [weak self] key, e in self?.sim.record(Self.name, "sync \(key) failed: \(e)") }
    }

    /// Stops the controller (a control-plane fault or the end of a run).
    public func stop() { queue.stopped = true; client.connected = false; client.stopWatches() }

    // MARK: - Events

    /// Enqueues every budget that selects the pod now or selected it before the change.
    private func podChanged(_ o: KubeObject, _ old: KubeObject?) {
        guard let p = o.pod, let budgets else { return }
        let labels = [p.metadata.labels] + (old?.pod.map { [$0.metadata.labels] } ?? [])
        for case .podDisruptionBudget(let b) in budgets.list() where b.metadata.namespace == p.metadata.namespace {
            if labels.contains(where: { Self.selects(b, $0) }) { queue.add("\(b.metadata.namespace)/\(b.metadata.name)") }
        }
    }

    private func enqueueAll(namespace: String) {
        guard let budgets else { return }
        for case .podDisruptionBudget(let b) in budgets.list() where b.metadata.namespace == namespace {
            queue.add("\(b.metadata.namespace)/\(b.metadata.name)")
        }
    }

    /// Whether a budget's selector selects `labels`: in policy/v1 an empty selector selects
    /// every pod, and no selector none.
    public static func selects(_ b: PodDisruptionBudget, _ labels: [String: String]) -> Bool {
        guard let s = b.spec.selector else { return false }
        return s.matches(labels)
    }

    // MARK: - Reconcile

    func reconcile(_ key: String) throws(APIError) -> SimDuration? {
        guard let budgets, let pods, case .podDisruptionBudget(let cached)? = budgets.get(key) else { return nil }
        // The status is computed against the stored budget: the cache may not have seen this
        // controller's last write yet (and the condition's transition time depends on it).
        guard let b = try client.get(.podDisruptionBudget, namespace: cached.metadata.namespace, name: cached.metadata.name)?
            .podDisruptionBudget else { return nil }
        let selected = pods.list().compactMap(\.pod).filter {
            $0.metadata.namespace == b.metadata.namespace && Self.selects(b, $0.metadata.labels)
        }
        let status = Self.status(of: b, pods: selected, replicaSets: replicaSets?.list().compactMap(\.replicaSet) ?? [],
                                 deployments: deployments?.list().compactMap(\.deployment) ?? [], now: sim.now)
        guard status != b.status else { return nil }
        try client.modify(.podDisruptionBudget, namespace: b.metadata.namespace, name: b.metadata.name) { o in
            guard case .podDisruptionBudget(var current) = o else { return }
            current.status = status
            o = .podDisruptionBudget(current)
        }
        sim.record(Self.name, "pdb \(key): \(status.currentHealthy) healthy of \(status.expectedPods) expected, "
            + "\(status.desiredHealthy) desired, \(status.disruptionsAllowed) disruptions allowed")
        return nil
    }

    /// A budget's status from the pods it selects and their controllers, as kube's
    /// disruption controller computes it (trySync, or failSafe when a pod's controller
    /// cannot be found).
    ///
    /// - Parameters:
    ///   - pods: the pods of the budget's namespace that its selector selects.
    ///   - now: when the DisruptionAllowed condition changes, if it does.
    public static func status(of b: PodDisruptionBudget, pods: [Pod], replicaSets: [ReplicaSet], deployments: [Deployment],
                              now: SimTime) -> PodDisruptionBudgetStatus {
        var s = b.status
        s.observedGeneration = b.metadata.generation
        s.disruptedPods = [:]
        let counts: (expected: Int, desiredHealthy: Int)
        switch expectedPodCount(b, pods: pods, replicaSets: replicaSets, deployments: deployments) {
        case .failure(let why):
            s.disruptionsAllowed = 0
            s.disruptionAllowedCondition = condition(s.disruptionAllowedCondition, "False", "SyncFailed", why.message, now)
            return s
        case .success(let c): counts = c
        }
        let healthy = pods.count { !$0.isTerminating && $0.isReady }
        var allowed = healthy - counts.desiredHealthy
        if counts.expected <= 0 || allowed <= 0 { allowed = 0 }
        s.currentHealthy = healthy
        s.desiredHealthy = counts.desiredHealthy
        s.expectedPods = counts.expected
        s.disruptionsAllowed = allowed
        s.disruptionAllowedCondition = allowed > 0
            ? condition(s.disruptionAllowedCondition, "True", "SufficientPods", "", now)
            : condition(s.disruptionAllowedCondition, "False", "InsufficientPods", "", now)
        return s
    }

    /// kube's getExpectedPodCount: (expectedPods, desiredHealthy), or why the controllers'
    /// scale could not be found.
    static func expectedPodCount(_ b: PodDisruptionBudget, pods: [Pod], replicaSets: [ReplicaSet],
                                 deployments: [Deployment]) -> Result<(expected: Int, desiredHealthy: Int), SyncError> {
        if let maxUnavailable = b.spec.maxUnavailable {
            let expected: Int
            switch expectedScale(pods, replicaSets: replicaSets, deployments: deployments) {
            case .failure(let e): return .failure(e)
            case .success(let n): expected = n
            }
            let unavailable = maxUnavailable.scaled(total: expected, roundUp: true) ?? 0
            return .success((expected, max(0, expected - unavailable)))
        }
        guard let minAvailable = b.spec.minAvailable else { return .success((0, 0)) }
        if case .int(let n) = minAvailable { return .success((pods.count, n)) }
        switch expectedScale(pods, replicaSets: replicaSets, deployments: deployments) {
        case .failure(let e): return .failure(e)
        case .success(let expected): return .success((expected, minAvailable.scaled(total: expected, roundUp: true) ?? 0))
        }
    }

    /// Why a budget's sync failed.
    struct SyncError: Error {
        let message: String
    }

    /// kube's getExpectedScale: the sum of the scales of the pods' controllers, each
    /// counted once. A pod of a ReplicaSet that a Deployment controls counts the
    /// Deployment's replicas; pods without a controller are left out.
    static func expectedScale(_ pods: [Pod], replicaSets: [ReplicaSet], deployments: [Deployment]) -> Result<Int, SyncError> {
        var seen: Set<String> = []
        var total = 0
        for p in pods.sorted(by: { $0.metadata.name < $1.metadata.name }) {
            guard let ref = p.metadata.controllerRef else { continue }
            guard let (uid, scale) = controllerScale(ref, namespace: p.metadata.namespace, replicaSets: replicaSets,
                                                     deployments: deployments) else {
                return .failure(SyncError(message: "found no controllers for pod \"\(p.metadata.name)\""))
            }
            if seen.insert(uid).inserted { total += scale }
        }
        return .success(total)
    }

    /// The controller (uid, scale) of a pod's controller reference: kube's finders for a
    /// Deployment (through its ReplicaSet) and a ReplicaSet; nil for kinds kubelab does not
    /// simulate or controllers that are gone.
    static func controllerScale(_ ref: OwnerReference, namespace: String, replicaSets: [ReplicaSet],
                                deployments: [Deployment]) -> (uid: String, scale: Int)? {
        guard ref.kind == "ReplicaSet",
              let rs = replicaSets.first(where: { $0.metadata.namespace == namespace && $0.metadata.name == ref.name }),
              rs.metadata.uid == ref.uid
        else { return nil }
        guard let owner = rs.metadata.controllerRef, owner.kind == "Deployment" else {
            return (rs.metadata.uid, rs.spec.replicas)
        }
        guard let d = deployments.first(where: { $0.metadata.namespace == namespace && $0.metadata.name == owner.name }),
              d.metadata.uid == owner.uid
        else { return nil }
        return (d.metadata.uid, d.spec.replicas)
    }

    /// The DisruptionAllowed condition, keeping its transition time while its status holds.
    static func condition(_ old: PodCondition?, _ status: String, _ reason: String, _ message: String, _ now: SimTime) -> PodCondition {
        let since = old?.status == status ? old?.lastTransitionTime : now
        return PodCondition(type: "DisruptionAllowed", status: status, reason: reason, message: message, lastTransitionTime: since)
    }
}
