public import SimCore
public import KubeAPI
public import KubeStore
public import KubeAPIServer
import HeapModule

/// Settings of the scheduler component.
public struct SchedulerSettings: Sendable {
    /// The schedulerName this scheduler serves.
    public var schedulerName = "default-scheduler"
    /// First retry delay of an unschedulable pod; doubles up to `maxBackoff`.
    public var initialBackoff: SimDuration = .seconds(1)
    public var maxBackoff: SimDuration = .seconds(10)
    /// Unschedulable pods are retried at the latest after this long.
    public var unschedulableFlush: SimDuration = .minutes(5)
    public init() {}
}

/// The scheduler component: watches pods and nodes through the API server, keeps a cache
/// of what runs where, schedules one pod per cycle with its `Framework`, and binds by
/// writing a Binding.
public final class Scheduler {
    public let client: Client
    public let framework: Framework
    public var settings: SchedulerSettings
    let sim: Simulation
    private var nodes: [String: NodeInfo] = [:]
    private var nodeNames: [String] = []
    /// Where the cache believes each pod runs ("ns/name" -> node).
    private var assigned: [String: String] = [:]
    /// activeQ: a heap in the profile's QueueSort order. Entries are removed lazily: an
    /// entry counts only while `activeOrder[key]` still names it.
    private var activeHeap = Heap<QueuedPod>()
    private var activeOrder: [String: UInt64] = [:]
    /// backoffQ: pods waiting out their backoff, with the timer that moves them to activeQ.
    private var backingOff: [String: EventID] = [:]
    /// unschedulablePods: pods no node fitted, until a cluster event may help them.
    private var unschedulable: [String: Pod] = [:]
    /// When each pod's last scheduling attempt ended, for its backoff.
    private var lastAttempt: [String: SimTime] = [:]
    /// Every unbound pod this scheduler serves, latest version ("ns/name" -> pod).
    private var waiting: [String: Pod] = [:]
    private var attempts: [String: Int] = [:]
    private var order: UInt64 = 0
    private var cycleScheduled = false
    private var running = false
    /// Number of scheduling cycles run.
    public private(set) var cycles = 0
    /// Pods ("ns/name") whose every scheduling cycle is explained (filter verdicts and scores).
    public var explainPods: Set<String> = []
    /// The explained cycles, in order: when, which pod, and the cycle's result.
    public private(set) var explained: [(time: SimTime, pod: String, result: Framework.Result)] = []
    /// Every pod this scheduler ran a cycle for, in first-cycle order.
    public private(set) var cycledPods: [String] = []
    private var cycledSet: Set<String> = []
    /// PodDisruptionBudgets by "ns/name", for preemption.
    private var pdbs: [String: PodDisruptionBudget] = [:]
    /// Unbound pods with a `status.nominatedNodeName` ("ns/name" -> node and pod): kube's
    /// nominator. Pods of lower or equal priority must leave them room on that node.
    private var nominations: [String: (node: String, pod: Pod)] = [:]
    /// Every preemption this scheduler carried out, in order.
    public private(set) var preemptions: [Preemption] = []

    public init(server: APIServer, framework: Framework, settings: SchedulerSettings = .init()) {
        self.client = server.client("scheduler")
        self.sim = server.sim
        self.framework = framework
        self.settings = settings
    }

    /// Starts the watches.
    public func start() throws(APIError) {
        running = true
        try client.watch(.node) { [weak self] e in self?.onNode(e) }
        try client.watch(.pod) { [weak self] e in self?.onPod(e) }
        try client.watch(.podDisruptionBudget) { [weak self] e in self?.onPDB(e) }
        scheduleFlush()
    }

    /// The event log's name for this scheduler: "scheduler" for default-scheduler,
    /// "scheduler/NAME" for another profile.
    public var component: String {
        settings.schedulerName == "default-scheduler" ? "scheduler" : "scheduler/\(settings.schedulerName)"
    }

    private func key(_ p: Pod) -> String { "\(p.metadata.namespace)/\(p.metadata.name)" }

    private func onNode(_ e: WatchEvent) {
        guard case .node(let n) = e.object else { return }
        let name = n.metadata.name
        switch e.type {
        case .added, .modified:
            if var info = nodes[name] { info.setNode(n); nodes[name] = info } else {
                nodes[name] = NodeInfo(node: n)
                nodeNames = nodes.keys.sorted()
            }
            moveAllToActive()
        case .deleted:
            nodes[name] = nil
            nodeNames = nodes.keys.sorted()
        }
    }

    private func onPod(_ e: WatchEvent) {
        guard case .pod(let p) = e.object else { return }
        let k = key(p)
        trackNomination(k, e.type == .deleted ? nil : p)
        if e.type == .deleted || p.isTerminal {
            forget(k)
            dequeue(k)
            if e.type == .deleted { moveAllToActive() }
            return
        }
        if !p.spec.nodeName.isEmpty {
            dequeue(k)
            if assigned[k] != p.spec.nodeName {
                forget(k)
                if nodes[p.spec.nodeName] != nil {
                    nodes[p.spec.nodeName]?.add(p)
                    assigned[k] = p.spec.nodeName
                }
            } else {
                refreshCached(p)
            }
            return
        }
        guard p.spec.schedulerName == settings.schedulerName, !p.isTerminating else {
            dequeue(k)
            return
        }
        waiting[k] = p
        if unschedulable[k] != nil { unschedulable[k] = p; return }
        if activeOrder[k] == nil && backingOff[k] == nil && permitWaiting[k] == nil { enqueue(p) }
    }

    /// Takes a pod out of every queue (bound, deleted, or no longer ours).
    private func dequeue(_ k: String) {
        activeOrder[k] = nil; unschedulable[k] = nil; attempts[k] = nil; waiting[k] = nil; lastAttempt[k] = nil
        if let t = backingOff.removeValue(forKey: k) { sim.cancel(t) }
        if let w = permitWaiting.removeValue(forKey: k) {
            permitOrder.removeAll { $0 == k }
            sim.cancel(w.timer)
            framework.unreserve(w.pod, nodeName: w.node, w.state)
        }
    }

    private func forget(_ k: String) {
        guard let n = assigned.removeValue(forKey: k) else { return }
        let parts = k.split(separator: "/", maxSplits: 1).map(String.init)
        nodes[n]?.remove(namespace: parts[0], name: parts.count > 1 ? parts[1] : "")
    }

    private func enqueue(_ p: Pod) {
        order += 1
        let k = key(p)
        activeOrder[k] = order
        activeHeap.insert(QueuedPod(key: k, pod: p, order: order, framework: framework))
        scheduleCycle()
    }

    /// A pod of activeQ; the heap orders by the profile's QueueSort, then queue order.
    struct QueuedPod: Comparable {
        let key: String
        let pod: Pod
        let order: UInt64
        unowned let framework: Framework
        static func < (a: QueuedPod, b: QueuedPod) -> Bool {
            a.framework.queuedBefore(a.pod, b.pod, aFirst: a.order < b.order)
        }
        static func == (a: QueuedPod, b: QueuedPod) -> Bool { a.order == b.order }
    }

    private func scheduleCycle() {
        guard !cycleScheduled, running else { return }
        cycleScheduled = true
        sim.schedule(after: .zero, priority: 1) { [weak self] in
            self?.cycleScheduled = false
            self?.runCycle()
        }
    }

    /// The head of activeQ: the profile's QueueSort (PrioritySort by default); pods it ranks
    /// equal keep the order they entered the queue.
    private func popNext() -> Pod? {
        while let top = activeHeap.popMin() {
            guard activeOrder[top.key] == top.order else { continue }
            activeOrder[top.key] = nil
            return top.pod
        }
        return nil
    }

    private var hasActive: Bool { !activeOrder.isEmpty }

    private func runCycle() {
        guard running, let queued = popNext() else { return }
        cycles += 1
        let k = key(queued)
        // The queue keeps the version the pod had when it was queued; schedule the latest.
        let pod = waiting[k] ?? queued
        let infos = Framework.addingNominatedPods(nominatedPods(), to: nodeNames.compactMap { nodes[$0] }, for: pod)
        let disabledBefore = framework.disabledPlugins
        if cycledSet.insert(k).inserted { cycledPods.append(k) }
        let explain = explainPods.contains(k)
        framework.explain = explain
        let result = framework.schedule(pod, nodes: infos) { [sim] in sim.random.next("scheduler") }
        framework.explain = false
        if explain { explained.append((sim.now, k, result)) }
        // A plugin was switched off: pods its failures left unschedulable may fit now.
        if framework.disabledPlugins != disabledBefore { moveAllToActive() }
        if let target = result.node {
            bind(pod, k, target, detail: "score \(result.total)", assumed: false, state: framework.lastCycleState)
        } else if let target = result.waitingOn {
            // Permit said wait: the pod stays assumed on the node, and is asked again after
            // every cycle until it is allowed, denied or its time runs out.
            var assumedPod = pod
            assumedPod.spec.nodeName = target
            nodes[target]?.add(assumedPod)
            assigned[k] = target
            let plugin = result.waitingPlugin
            let wait = SimDuration(nanoseconds: result.waitNanoseconds)
            let timer = sim.schedule(after: wait) { [weak self] in
                self?.rejectWaiting(k, Status(.unschedulable, ["rejected due to timeout after waiting \(wait.humanDescription) at plugin \(plugin)"],
                                              plugin: plugin))
            }
            permitWaiting[k] = (pod, target, timer, framework.lastCycleState)
            permitOrder.append(k)
            sim.record(component, "\(k) waits at \(target) for permit plugin \(plugin) (up to \(wait.humanDescription))")
        } else if result.permitDenied == nil && !framework.activePostFilters.isEmpty {
            let (latest, message, freed) = postFilter(pod, k, result, infos)
            failed(latest, k, message.isEmpty ? result.message : "\(result.message) \(message).")
            // A victim that only waited on a permit plugin is gone already: retry (after backoff).
            if freed { moveAllToActive() }
        } else {
            failed(pod, k, result.message)
        }
        recheckPermits()
        if hasActive { scheduleCycle() }
    }

    /// Pods a permit plugin keeps waiting, assumed on their node.
    private var permitWaiting: [String: (pod: Pod, node: String, timer: EventID, state: CycleState)] = [:]
    private var permitOrder: [String] = []

    /// Pods waiting on permit, in the order they started waiting.
    public var permitWaitingPods: [String] { permitOrder }

    /// The binding cycle: PreBind and Bind (DefaultBinder writes the Binding through the
    /// API server), then the cache and PostBind. A failure undoes the reservation; a PreBind
    /// that rejected the pod leaves it unschedulable, any other failure retries it after
    /// backoff.
    private func bind(_ pod: Pod, _ k: String, _ target: String, detail: String, assumed: Bool, state: CycleState) {
        let binder: PodBinder = { [client] p, node in
            do throws(APIError) {
                try client.bind(namespace: p.metadata.namespace, name: p.metadata.name, node: node)
                return .success
            } catch {
                return Status(.error, [error.message])
            }
        }
        let (st, point) = framework.bindingCycle(state, pod, nodeName: target, binder: binder)
        guard st.code == .success else {
            if assumed { forget(k) }
            if st.code == .error {
                sim.record(component, "binding \(k) to \(target) failed: \(st.plugin): \(st.message)")
                retryLater(pod)
            } else {
                failed(pod, k, "rejected by \(point) plugin \(st.plugin) on \(target): \(st.message)")
            }
            return
        }
        var bound = pod
        bound.spec.nodeName = target
        if !assumed { nodes[target]?.add(bound) }
        assigned[k] = target
        attempts[k] = nil
        waiting[k] = nil
        lastAttempt[k] = nil
        sim.record(component, "bound \(k) to \(target) (\(detail))")
        client.recordEvent(about: .pod(pod), reason: "Scheduled",
                           message: "Successfully assigned \(k) to \(target)")
        framework.postBind(state, bound, nodeName: target)
    }

    private func failed(_ pod: Pod, _ k: String, _ msg: String) {
        if attempts[k] == nil {
            sim.record(component, "\(k) is unschedulable: \(msg)")
            client.recordEvent(about: .pod(pod), type: "Warning", reason: "FailedScheduling", message: msg)
        }
        attempts[k, default: 0] += 1
        lastAttempt[k] = sim.now
        unschedulable[k] = pod
    }

    /// Asks the permit plugins again about every waiting pod, in the order they came.
    private func recheckPermits() {
        for k in permitOrder {
            guard let w = permitWaiting[k] else { continue }
            let st = framework.permitAgain(waiting[k] ?? w.pod, nodeName: w.node)
            switch st.code {
            case .wait: continue
            case .success, .skip:
                permitWaiting[k] = nil
                permitOrder.removeAll { $0 == k }
                sim.cancel(w.timer)
                bind(waiting[k] ?? w.pod, k, w.node, detail: "allowed by permit", assumed: true, state: w.state)
            default:
                rejectWaiting(k, st)
            }
        }
    }

    /// A waiting pod is denied or timed out: its reservation is undone and it waits as
    /// unschedulable; the room it held may help others.
    private func rejectWaiting(_ k: String, _ st: Status) {
        guard running, let w = permitWaiting.removeValue(forKey: k) else { return }
        permitOrder.removeAll { $0 == k }
        sim.cancel(w.timer)
        framework.unreserve(w.pod, nodeName: w.node, w.state)
        forget(k)
        let pod = waiting[k] ?? w.pod
        let msg = "rejected by permit plugin \(st.plugin) on \(w.node): \(st.message)"
        sim.record(component, "\(k) is unschedulable: \(msg)")
        client.recordEvent(about: .pod(pod), type: "Warning", reason: "FailedScheduling", message: msg)
        attempts[k, default: 0] += 1
        lastAttempt[k] = sim.now
        unschedulable[k] = pod
        moveAllToActive()
        recheckPermits()
    }

    /// kube-scheduler's backoff for a pod that has failed `attempts` times: 1s doubling
    /// per attempt, at most 10s (the settings).
    public func backoff(attempts: Int) -> SimDuration {
        var d = settings.initialBackoff
        var i = 1
        while i < attempts {
            if d.nanoseconds > settings.maxBackoff.nanoseconds - d.nanoseconds { return settings.maxBackoff }
            d = d + d
            i += 1
        }
        return min(d, settings.maxBackoff)
    }

    /// A pod that failed with an error (a binding that failed) goes to backoffQ at once.
    private func retryLater(_ pod: Pod) {
        let k = key(pod)
        attempts[k, default: 0] += 1
        lastAttempt[k] = sim.now
        toActiveOrBackoff(k)
    }

    /// Moves a pod to activeQ when its backoff (from its last attempt) is over, otherwise to
    /// backoffQ until then.
    private func toActiveOrBackoff(_ k: String) {
        guard let pod = waiting[k], activeOrder[k] == nil, backingOff[k] == nil else { return }
        let due = (lastAttempt[k] ?? sim.now) + backoff(attempts: max(1, attempts[k] ?? 1))
        if due <= sim.now { enqueue(pod); return }
        backingOff[k] = sim.schedule(at: due) { [weak self] in
            guard let self, self.running else { return }
            self.backingOff[k] = nil
            guard let latest = self.waiting[k], self.unschedulable[k] == nil else { return }
            self.enqueue(latest)
        }
    }

    /// A cluster event that may help: every unschedulable pod moves to activeQ, or to
    /// backoffQ while its backoff lasts.
    private func moveAllToActive() {
        guard !unschedulable.isEmpty else { return }
        let keys = unschedulable.keys.sorted()
        unschedulable = [:]
        for k in keys { toActiveOrBackoff(k) }
    }

    private func scheduleFlush() {
        sim.schedule(after: settings.unschedulableFlush) { [weak self] in
            guard let self, self.running else { return }
            self.moveAllToActive()
            self.scheduleFlush()
        }
    }

    // MARK: - Preemption

    private func onPDB(_ e: WatchEvent) {
        guard case .podDisruptionBudget(let b) = e.object else { return }
        pdbs[e.object.namespacedName] = e.type == .deleted ? nil : b
    }

    /// Keeps `nominations` up to date from a pod's latest version (nil: deleted).
    private func trackNomination(_ k: String, _ p: Pod?) {
        if let p, p.spec.nodeName.isEmpty, !p.isTerminal, !p.isTerminating, !p.status.nominatedNodeName.isEmpty {
            nominations[k] = (p.status.nominatedNodeName, p)
        } else {
            nominations[k] = nil
        }
    }

    /// The nominated pods, sorted by key.
    private func nominatedPods() -> [(node: String, pod: Pod)] {
        guard !nominations.isEmpty else { return [] }
        return nominations.keys.sorted().compactMap { nominations[$0] }
    }

    /// A bound pod changed in a way preemption reads (it started, is being deleted, or got
    /// new labels): the cache's copy is replaced, as kube-scheduler's cache updates it.
    private func refreshCached(_ p: Pod) {
        let n = p.spec.nodeName
        guard let cached = nodes[n]?.pods.first(where: { $0.metadata.namespace == p.metadata.namespace && $0.metadata.name == p.metadata.name })
        else { return }
        guard cached.status.startTime != p.status.startTime || cached.isTerminating != p.isTerminating
            || cached.metadata.labels != p.metadata.labels else { return }
        nodes[n]?.remove(namespace: p.metadata.namespace, name: p.metadata.name)
        nodes[n]?.add(p)
    }

    /// Runs the PostFilter plugins for a pod that fits nowhere and carries out their
    /// result: the nomination, and the preemption of the victims.
    ///
    /// - Returns: the pod as it now is (with its nomination), the PostFilter message for the
    ///   FailedScheduling text ("" when preemption succeeded), and whether room was freed at
    ///   once (a victim waiting on a permit plugin).
    private func postFilter(_ pod: Pod, _ k: String, _ result: Framework.Result, _ infos: [NodeInfo]) -> (Pod, String, Bool) {
        let context = PostFilterContext(framework: framework, nodes: infos, pdbs: pdbs.keys.sorted().compactMap { pdbs[$0] },
                                        random: { [sim] in sim.random.next("scheduler/preemption") })
        let r = framework.runPostFilter(pod, result, context)
        if r.status.code == .error { sim.record(component, "\(k): PostFilter failed: \(r.status.message)") }
        var latest = pod
        var freed = false
        if let node = r.nominatedNodeName {
            if r.status.isSuccess && !node.isEmpty { freed = preempt(r.victims, on: node, for: pod, k) }
            latest = nominate(pod, k, node)
        }
        return (latest, r.status.isSuccess ? "" : r.status.message, freed)
    }

    /// kube's prepareCandidate: every victim gets the DisruptionTarget condition and is
    /// deleted (gracefully) through the API server; a victim waiting on a permit plugin is
    /// rejected instead; pods of lower priority nominated to the node lose their
    /// nomination, since they may no longer fit there.
    ///
    /// - Returns: whether a victim waiting on a permit plugin was rejected (its room is free).
    private func preempt(_ victims: [Pod], on node: String, for pod: Pod, _ k: String) -> Bool {
        var freed = false
        let names = victims.map(key)
        sim.record(component, "\(k) preempts \(names.joined(separator: ", ")) on \(node)")
        for v in victims {
            let vk = key(v)
            preemptions.append(Preemption(victim: vk, preemptor: k, node: node))
            if permitWaiting[vk] != nil {
                rejectWaiting(vk, Status(.unschedulable, ["preempted"], plugin: "DefaultPreemption"))
                freed = true
                continue
            }
            // Graceful deletion has already started: no need to ask again.
            if v.isTerminating { continue }
            do {
                try client.modify(.pod, namespace: v.metadata.namespace, name: v.metadata.name) { o in
                    guard case .pod(var p) = o else { return }
                    p.status.conditions.removeAll { $0.type == DefaultPreemption.disruptionTarget }
                    p.status.conditions.append(PodCondition(
                        type: DefaultPreemption.disruptionTarget, status: "True", reason: DefaultPreemption.preemptionByScheduler,
                        message: "\(pod.spec.schedulerName): preempting to accommodate a higher priority pod", lastTransitionTime: sim.now))
                    o = .pod(p)
                }
                try client.delete(.pod, namespace: v.metadata.namespace, name: v.metadata.name)
                client.recordEvent(about: .pod(v), reason: "Preempted", message: "Preempted by pod \(pod.metadata.uid) on node \(node)")
            } catch where error.reason == .notFound {
                continue
            } catch {
                sim.record(component, "preempting \(vk) failed: \(error.message)")
            }
        }
        for (nk, n) in nominatedPods().map({ (key($0.pod), $0) }) where nk != k && n.node == node && n.pod.priority < pod.priority {
            nominate(n.pod, nk, "")
        }
        return freed
    }

    /// Writes a pod's `status.nominatedNodeName` ("" clears it) and updates the nominator
    /// at once, as kube-scheduler's queue does.
    ///
    /// - Returns: the pod with its new nomination.
    @discardableResult
    private func nominate(_ pod: Pod, _ k: String, _ node: String) -> Pod {
        var latest = pod
        latest.status.nominatedNodeName = node
        if pod.status.nominatedNodeName != node {
            do {
                if let updated = try client.modify(.pod, namespace: pod.metadata.namespace, name: pod.metadata.name, { o in
                    guard case .pod(var p) = o else { return }
                    p.status.nominatedNodeName = node
                    o = .pod(p)
                })?.pod {
                    latest = updated
                }
            } catch {
                sim.record(component, "nominating \(k) to \(node) failed: \(error.message)")
            }
            if !node.isEmpty { sim.record(component, "nominated \(k) to \(node)") }
        }
        if waiting[k] != nil { waiting[k] = latest }
        if unschedulable[k] != nil { unschedulable[k] = latest }
        trackNomination(k, latest)
        return latest
    }

    /// Stops the component (a control-plane fault or the end of a run).
    public func stop() {
        running = false
        client.connected = false
        client.stopWatches()
    }

    /// Pods currently waiting as unschedulable, sorted.
    public var unschedulablePods: [String] { unschedulable.keys.sorted() }
}
