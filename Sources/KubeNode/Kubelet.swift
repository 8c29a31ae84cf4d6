public import SimCore
public import KubeAPI
public import KubeStore
public import KubeAPIServer

/// Settings of every kubelet.
public struct KubeletSettings: Sendable {
    /// How often the node Lease is renewed (kubelet: renewInterval = 10s).
    public var leaseRenewInterval: SimDuration = .seconds(10)
    /// Lease duration written into the Lease (kubelet default 40s).
    public var leaseDurationSeconds: Int = 40
    /// A container starts after a seeded delay in this range.
    public var startDelayMin: SimDuration = .milliseconds(500)
    public var startDelayMax: SimDuration = .milliseconds(2500)
    /// A terminating pod's containers stop after this long (capped by its grace period).
    public var stopDelay: SimDuration = .seconds(1)
    public init() {}
}

/// The kubelet of one node: learns its pods from a watch, takes each Pending pod to
/// Running after a simulated start delay, finishes the deletion of terminating pods, and
/// renews the node Lease as its heartbeat. A crashed kubelet does none of that.
public final class Kubelet {
    public let nodeName: String
    public var settings: KubeletSettings
    let server: APIServer
    var sim: Simulation { server.sim }
    private var client: Client?
    private var timers: [EventID] = []
    /// Pods this kubelet has started or is starting ("ns/name").
    private var started: Set<String> = []
    private var stopping: Set<String> = []
    /// Whether the kubelet runs (false while its node is crashed).
    public private(set) var isRunning = false
    private var generation = 0

    public init(server: APIServer, nodeName: String, settings: KubeletSettings = .init()) {
        self.server = server; self.nodeName = nodeName; self.settings = settings
    }

    private var component: String { "kubelet/\(nodeName)" }

    /// Starts (or restarts) the kubelet: reports the node Ready, renews the Lease, and
    /// syncs the pods bound to this node.
    public func start() {
        guard !isRunning else { return }
        isRunning = true
        generation += 1
        let c = server.client(component)
        client = c
        started = []
        stopping = []
        setReady()
        renewLease()
        do {
            try c.watch(.pod) { [weak self] e in self?.onPod(e) }
        } catch {
            sim.record(component, "cannot watch pods: \(error.message)")
        }
    }

    /// Stops everything at once, as a machine that loses power.
    public func crash() {
        guard isRunning else { return }
        isRunning = false
        client?.connected = false
        client?.stopWatches()
        client = nil
        for t in timers { sim.cancel(t) }
        timers = []
    }

    private func after(_ d: SimDuration, _ body: @escaping () -> Void) {
        let gen = generation
        timers.append(sim.schedule(after: d) { [weak self] in
            guard let self, self.isRunning, self.generation == gen else { return }
            body()
        })
        if timers.count > 256 { timers.removeFirst(timers.count - 128) }
    }

    // MARK: - Heartbeats

    private func renewLease() {
        guard let c = client else { return }
        let now = sim.now
        do {
            if try c.modify(.lease, namespace: "kube-node-lease", name: nodeName, { o in
                if case .lease(var l) = o { l.spec.renewTime = now; l.spec.holderIdentity = nodeName; o = .lease(l) }
            }) == nil {
                var lease = Lease(metadata: ObjectMeta(name: nodeName, namespace: "kube-node-lease"))
                lease.spec.holderIdentity = nodeName
                lease.spec.leaseDurationSeconds = settings.leaseDurationSeconds
                lease.spec.acquireTime = now
                lease.spec.renewTime = now
                try c.create(.lease(lease))
            }
        } catch {
            sim.record(component, "lease renewal failed: \(error.message)")
        }
        after(settings.leaseRenewInterval) { [weak self] in self?.renewLease() }
    }

    /// Posts Ready=True in the node status (on start and restart).
    private func setReady() {
        guard let c = client else { return }
        let now = sim.now
        do {
            try c.modify(.node, name: nodeName) { o in
                guard case .node(var n) = o else { return }
                n.setCondition("Ready", status: "True", reason: "KubeletReady",
                               message: "kubelet is posting ready status", at: now, heartbeat: true)
                o = .node(n)
            }
        } catch {
            sim.record(component, "node status update failed: \(error.message)")
        }
    }

    // MARK: - Pods

    private func onPod(_ e: WatchEvent) {
        guard case .pod(let p) = e.object, p.spec.nodeName == nodeName, e.type != .deleted else { return }
        let k = "\(p.metadata.namespace)/\(p.metadata.name)"
        if p.isTerminating {
            guard !stopping.contains(k) else { return }
            stopping.insert(k)
            let grace = SimDuration.seconds(p.metadata.deletionGracePeriodSeconds ?? 30)
            after(min(settings.stopDelay, grace)) { [weak self] in self?.finishDeletion(p) }
            return
        }
        guard !started.contains(k), p.status.phase == .pending else { return }
        started.insert(k)
        let lo = settings.startDelayMin.nanoseconds, hi = max(lo, settings.startDelayMax.nanoseconds)
        let delay = SimDuration.nanoseconds(sim.random.int("kubelet/\(nodeName)", in: lo...hi))
        after(delay) { [weak self] in self?.startPod(p) }
    }

    private func startPod(_ pod: Pod) {
        guard let c = client else { return }
        let now = sim.now
        let k = "\(pod.metadata.namespace)/\(pod.metadata.name)"
        do {
            let updated = try c.modify(.pod, namespace: pod.metadata.namespace, name: pod.metadata.name) { o in
                guard case .pod(var p) = o, p.metadata.uid == pod.metadata.uid, !p.isTerminating else { return }
                p.status.phase = .running
                p.status.startTime = now
                p.status.hostIP = nodeName
                p.status.conditions.removeAll { $0.type == "Ready" || $0.type == "ContainersReady" || $0.type == "Initialized" }
                p.status.conditions.append(PodCondition(type: "Initialized", status: "True", lastTransitionTime: now))
                p.status.conditions.append(PodCondition(type: "ContainersReady", status: "True", lastTransitionTime: now))
                p.status.conditions.append(PodCondition(type: "Ready", status: "True", lastTransitionTime: now))
                o = .pod(p)
            }
            if let u = updated?.pod, u.status.phase == .running, u.metadata.uid == pod.metadata.uid, !u.isTerminating {
                sim.record(component, "started \(k) (Running)")
            }
        } catch {
            sim.record(component, "starting \(k) failed: \(error.message)")
        }
    }

    private func finishDeletion(_ pod: Pod) {
        guard let c = client else { return }
        let k = "\(pod.metadata.namespace)/\(pod.metadata.name)"
        do {
            if let cur = try c.get(.pod, namespace: pod.metadata.namespace, name: pod.metadata.name)?.pod,
               cur.metadata.uid == pod.metadata.uid {
                try c.delete(.pod, namespace: pod.metadata.namespace, name: pod.metadata.name, gracePeriodSeconds: 0)
                sim.record(component, "stopped \(k) and removed it")
            }
        } catch {
            sim.record(component, "removing \(k) failed: \(error.message)")
        }
        stopping.remove(k)
        started.remove(k)
    }
}
