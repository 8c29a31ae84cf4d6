public import SimCore
public import KubeAPI
public import KubeStore
public import KubeAPIServer

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
    /// Pods waiting to be scheduled: key -> (pod, queued order).
    private var active: [String: (pod: Pod, order: UInt64)] = [:]
    private var unschedulable: [String: Pod] = [:]
    /// Every unbound pod this scheduler serves, latest version ("ns/name" -> pod).
    private var waiting: [String: Pod] = [:]
    private var attempts: [String: Int] = [:]
    private var order: UInt64 = 0
    private var cycleScheduled = false
    private var running = false
    /// Number of scheduling cycles run.
    public private(set) var cycles = 0

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
        scheduleFlush()
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
        if e.type == .deleted || p.isTerminal {
            forget(k)
            active[k] = nil; unschedulable[k] = nil; attempts[k] = nil; waiting[k] = nil
            if e.type == .deleted { moveAllToActive() }
            return
        }
        if !p.spec.nodeName.isEmpty {
            active[k] = nil; unschedulable[k] = nil; attempts[k] = nil; waiting[k] = nil
            if assigned[k] != p.spec.nodeName {
                forget(k)
                if nodes[p.spec.nodeName] != nil {
                    nodes[p.spec.nodeName]?.add(p)
                    assigned[k] = p.spec.nodeName
                }
            }
            return
        }
        guard p.spec.schedulerName == settings.schedulerName, !p.isTerminating else {
            active[k] = nil; unschedulable[k] = nil; waiting[k] = nil
            return
        }
        waiting[k] = p
        if unschedulable[k] != nil { unschedulable[k] = p; return }
        if active[k] == nil { enqueue(p) }
    }

    private func forget(_ k: String) {
        guard let n = assigned.removeValue(forKey: k) else { return }
        let parts = k.split(separator: "/", maxSplits: 1).map(String.init)
        nodes[n]?.remove(namespace: parts[0], name: parts.count > 1 ? parts[1] : "")
    }

    private func enqueue(_ p: Pod) {
        order += 1
        active[key(p)] = (p, order)
        scheduleCycle()
    }

    private func scheduleCycle() {
        guard !cycleScheduled, running else { return }
        cycleScheduled = true
        sim.schedule(after: .zero, priority: 1) { [weak self] in
            self?.cycleScheduled = false
            self?.runCycle()
        }
    }

    /// The profile's QueueSort (PrioritySort by default) over the active queue; pods it
    /// ranks equal keep the order they entered the queue.
    private func popNext() -> Pod? {
        let entries = active.sorted { $0.value.order < $1.value.order }
        guard var best = entries.first else { return nil }
        for e in entries.dropFirst() where framework.queuedBefore(e.value.pod, best.value.pod, aFirst: false) {
            best = e
        }
        active[best.key] = nil
        return best.value.pod
    }

    private func runCycle() {
        guard running, let queued = popNext() else { return }
        cycles += 1
        let k = key(queued)
        // The queue keeps the version the pod had when it was queued; schedule the latest.
        let pod = waiting[k] ?? queued
        let infos = nodeNames.compactMap { nodes[$0] }
        let disabledBefore = framework.disabledPlugins
        let result = framework.schedule(pod, nodes: infos) { [sim] in sim.random.next("scheduler") }
        // A plugin was switched off: pods its failures left unschedulable may fit now.
        if framework.disabledPlugins != disabledBefore { moveAllToActive() }
        if let target = result.node {
            do {
                try client.bind(namespace: pod.metadata.namespace, name: pod.metadata.name, node: target)
                var bound = pod
                bound.spec.nodeName = target
                nodes[target]?.add(bound)
                assigned[k] = target
                attempts[k] = nil
                waiting[k] = nil
                let score = result.nodes.first { $0.node == target }?.total ?? 0
                sim.record("scheduler", "bound \(k) to \(target) (score \(score))")
                client.recordEvent(about: .pod(pod), reason: "Scheduled",
                                   message: "Successfully assigned \(k) to \(target)")
                for p in framework.postBinds { p.postBind(CycleState(), bound, nodeName: target) }
            } catch {
                sim.record("scheduler", "binding \(k) to \(target) failed: \(error.message)")
                retryLater(pod)
            }
        } else {
            let msg = result.message
            if attempts[k] == nil {
                sim.record("scheduler", "\(k) is unschedulable: \(msg)")
                client.recordEvent(about: .pod(pod), type: "Warning", reason: "FailedScheduling", message: msg)
            }
            attempts[k, default: 0] += 1
            unschedulable[k] = pod
        }
        if !active.isEmpty { scheduleCycle() }
    }

    private func retryLater(_ pod: Pod) {
        let k = key(pod)
        let n = attempts[k, default: 0]
        attempts[k] = n + 1
        var delay = settings.initialBackoff
        for _ in 0..<min(n, 10) where delay < settings.maxBackoff { delay = delay * 2 }
        if delay > settings.maxBackoff { delay = settings.maxBackoff }
        sim.schedule(after: delay) { [weak self] in
            guard let self, self.running, self.active[k] == nil, self.unschedulable[k] == nil,
                  let latest = self.waiting[k] else { return }
            self.enqueue(latest)
        }
    }

    /// A cluster event that may help: every unschedulable pod goes back to the active
    /// queue after its backoff.
    private func moveAllToActive() {
        guard !unschedulable.isEmpty else { return }
        let pods = unschedulable.keys.sorted().compactMap { unschedulable[$0] }
        unschedulable = [:]
        for p in pods { retryLater(p) }
    }

    private func scheduleFlush() {
        sim.schedule(after: settings.unschedulableFlush) { [weak self] in
            guard let self, self.running else { return }
            self.moveAllToActive()
            self.scheduleFlush()
        }
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
