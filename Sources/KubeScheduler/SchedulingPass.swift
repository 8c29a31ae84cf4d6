public import KubeAPI

extension Framework {
    /// The outcome of a no-time pass.
    public struct Pass {
        /// Per pod key ("ns/name"), the cycle's result, in scheduling order. A pod that
        /// preempted others has the result of its retry.
        public var results: [(key: String, result: Result)] = []
        /// The pods preempted during the pass, in order. They are gone from their node; a
        /// victim that the pass itself had placed keeps its (earlier) result in `results`.
        public var preempted: [Preemption] = []
    }

    /// Places `pods` one at a time on `nodes` (no time passes): each placement counts for
    /// the next pod. Pods that already name a node count as running there first.
    ///
    /// - Returns: per pod key ("ns/name"), the cycle's result, in input order.
    public func scheduleAll(_ pods: [Pod], nodes: [Node], random: () -> UInt64) -> [(key: String, result: Result)] {
        Self.schedulePass(pods, nodes: nodes, profiles: [(nil, self)], random: random).results
    }

    /// Places `pods` with several profiles: each pod goes to the profile named by its
    /// `spec.schedulerName` (a nil name takes every pod). Pods no profile serves are left
    /// out, as kube-scheduler leaves them pending. The queue order is the first profile's
    /// (kube-scheduler requires one QueueSort for all profiles).
    public static func scheduleAll(_ pods: [Pod], nodes: [Node], profiles: [(name: String?, framework: Framework)],
                                   random: () -> UInt64) -> [(key: String, result: Result)] {
        schedulePass(pods, nodes: nodes, profiles: profiles, random: random).results
    }

    /// `scheduleAll` with preemption: a pod that fits nowhere runs the profile's PostFilter
    /// plugins (DefaultPreemption); when they name victims, the victims are removed at once
    /// (the pass has no time to wait for them) and the pod is retried once.
    ///
    /// - Parameters:
    ///   - pdbs: the PodDisruptionBudgets preemption respects, with their status.
    ///   - preemptionRandom: preemption's own random stream (nil: `random`).
    public static func schedulePass(_ pods: [Pod], nodes: [Node], profiles: [(name: String?, framework: Framework)],
                                    pdbs: [PodDisruptionBudget] = [], random: () -> UInt64,
                                    preemptionRandom: (() -> UInt64)? = nil) -> Pass {
        guard let first = profiles.first?.framework else { return Pass() }
        var infos = nodes.sorted { $0.metadata.name < $1.metadata.name }.map { NodeInfo(node: $0) }
        var index: [String: Int] = [:]
        for (i, n) in infos.enumerated() { index[n.name] = i }
        for p in pods where !p.spec.nodeName.isEmpty {
            if let i = index[p.spec.nodeName] { infos[i].add(p) }
        }
        var out: [(key: String, result: Result)] = []
        var preempted: [Preemption] = []
        // Pods a permit plugin keeps waiting: reserved on their node, asked again after
        // every cycle; the pass has no time, so those still waiting at its end time out.
        typealias Held = (slot: Int, pod: Pod, node: String, framework: Framework, state: CycleState)
        var waiting: [Held] = []
        /// The binding cycle with a binder that always succeeds (no API server); a PreBind
        /// or Bind plugin may still fail it, and the pod's result says so.
        func bind(_ p: Pod, _ n: String, _ f: Framework, _ state: CycleState, reserved: Bool, slot: Int) {
            let (st, point) = f.bindingCycle(state, p, nodeName: n) { _, _ in .success }
            guard st.code == .success else {
                if reserved, let i = index[n] { infos[i].remove(namespace: p.metadata.namespace, name: p.metadata.name) }
                out[slot].result = out[slot].result.rejected(on: n, st, at: point)
                return
            }
            var bound = p
            bound.spec.nodeName = n
            if !reserved, let i = index[n] { infos[i].add(bound) }
            f.postBind(state, bound, nodeName: n)
        }
        func release(_ w: Held) {
            w.framework.unreserve(w.pod, nodeName: w.node, w.state)
            if let i = index[w.node] { infos[i].remove(namespace: w.pod.metadata.namespace, name: w.pod.metadata.name) }
        }
        func recheck() {
            var still: [Held] = []
            for w in waiting {
                let st = w.framework.permitAgain(w.pod, nodeName: w.node)
                switch st.code {
                case .success, .skip:
                    out[w.slot].result = out[w.slot].result.bound(to: w.node)
                    bind(w.pod, w.node, w.framework, w.state, reserved: true, slot: w.slot)
                case .wait:
                    still.append(w)
                default:
                    release(w)
                    out[w.slot].result = out[w.slot].result.rejected(on: w.node, st)
                }
            }
            waiting = still
        }
        for p in first.queueOrder(pods.filter { $0.spec.nodeName.isEmpty || index[$0.spec.nodeName] == nil }) {
            guard let f = profiles.first(where: { $0.name == nil || $0.name == p.spec.schedulerName })?.framework else { continue }
            let key = "\(p.metadata.namespace)/\(p.metadata.name)"
            var r = f.schedule(p, nodes: infos, random: random)
            if r.node == nil && r.waitingOn == nil && r.permitDenied == nil && !f.activePostFilters.isEmpty {
                let pf: PostFilterResult
                if let draw = preemptionRandom {
                    pf = f.runPostFilter(p, r, PostFilterContext(framework: f, nodes: infos, pdbs: pdbs, random: draw))
                } else {
                    // The context holds the closure only for this call.
                    pf = withoutActuallyEscaping(random) { draw in
                        f.runPostFilter(p, r, PostFilterContext(framework: f, nodes: infos, pdbs: pdbs, random: draw))
                    }
                }
                if pf.status.isSuccess, let n = pf.nominatedNodeName, let i = index[n] {
                    for v in pf.victims {
                        let vk = "\(v.metadata.namespace)/\(v.metadata.name)"
                        if let w = waiting.firstIndex(where: { "\($0.pod.metadata.namespace)/\($0.pod.metadata.name)" == vk }) {
                            let held = waiting.remove(at: w)
                            release(held)
                            out[held.slot].result = out[held.slot].result.rejected(
                                on: held.node, Status(.unschedulable, ["preempted by \(key)"], plugin: "DefaultPreemption"))
                        } else {
                            infos[i].remove(namespace: v.metadata.namespace, name: v.metadata.name)
                        }
                        preempted.append(Preemption(victim: vk, preemptor: key, node: n))
                    }
                    r = f.schedule(p, nodes: infos, random: random)
                }
            }
            out.append((key, r))
            if let n = r.node {
                bind(p, n, f, f.lastCycleState, reserved: false, slot: out.count - 1)
            } else if let n = r.waitingOn, let i = index[n] {
                var assumed = p
                assumed.spec.nodeName = n
                infos[i].add(assumed)
                waiting.append((out.count - 1, p, n, f, f.lastCycleState))
            }
            if !waiting.isEmpty { recheck() }
        }
        for w in waiting {
            release(w)
            let st = Status(.unschedulable, ["timed out waiting (a scheduling pass has no time)"], plugin: out[w.slot].result.waitingPlugin)
            out[w.slot].result = out[w.slot].result.rejected(on: w.node, st)
        }
        return Pass(results: out, preempted: preempted)
    }
}
