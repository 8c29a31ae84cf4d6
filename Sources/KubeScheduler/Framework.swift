public import KubeAPI

/// A scheduling profile: the filter and score plugins that run, in order, with weights.
public final class Framework {
    public var filters: [any FilterPlugin]
    public var scores: [(plugin: any ScorePlugin, weight: Int64)]
    public var postBinds: [any PostBindPlugin] = []
    /// kube-scheduler's percentageOfNodesToScore: 0 (the default) picks the adaptive
    /// percentage, 100 examines every node.
    public var percentageOfNodesToScore = 0
    /// Where the next cycle starts looking (kube-scheduler's nextStartNodeIndex: the
    /// search goes round the nodes so every node gets its turn).
    public private(set) var nextStartNodeIndex = 0
    /// Record every filter's verdict per node (for `--explain`).
    public var explain = false
    /// PreFilter plugins, when a configuration lists them; nil means every filter that
    /// implements PreFilter.
    public var preFilters: [any PreFilterPlugin]?
    /// PreScore plugins, when a configuration lists them; nil means every score plugin that
    /// implements PreScore.
    public var preScores: [any PreScorePlugin]?
    /// The profile's QueueSort; nil means PrioritySort.
    public var queueSort: (any QueueSortPlugin)?
    public var permits: [any PermitPlugin] = []
    public var reserves: [any ReservePlugin] = []
    /// The scores used when every plugin of `scores` is switched off (for a profile whose
    /// Lua scores replaced the defaults: the defaults again).
    public var fallbackScores: [(plugin: any ScorePlugin, weight: Int64)] = []

    public init(filters: [any FilterPlugin], scores: [(plugin: any ScorePlugin, weight: Int64)]) {
        self.filters = filters; self.scores = scores
    }

    /// The built-in filters every profile keeps (kube-scheduler's defaults that decide
    /// feasibility), in kube-scheduler's order.
    public static func defaultFilters() -> [any FilterPlugin] {
        [NodeUnschedulable(), NodeName(), TaintToleration(), NodeAffinityFilter(), NodePorts(), NodeResourcesFit(),
         PodTopologySpread(), InterPodAffinity()]
    }

    /// kube-scheduler's default profile, reduced to the built-ins kubelab has (no volume
    /// plugins): the default filters, and the scores with their default weights
    /// (TaintToleration 3, NodeAffinity 2, NodeResourcesFit 1, PodTopologySpread 2,
    /// InterPodAffinity 2, NodeResourcesBalancedAllocation 1, ImageLocality 1). One plugin
    /// object serves every extension point it implements.
    public static func defaultProfile() -> Framework {
        let filters = defaultFilters()
        func plugin<T>(_ type: T.Type) -> T? { filters.lazy.compactMap { $0 as? T }.first }
        let taints = plugin(TaintToleration.self) ?? TaintToleration()
        let affinity = plugin(NodeAffinityFilter.self) ?? NodeAffinityFilter()
        let fit = plugin(NodeResourcesFit.self) ?? NodeResourcesFit()
        let spread = plugin(PodTopologySpread.self) ?? PodTopologySpread()
        let interPod = plugin(InterPodAffinity.self) ?? InterPodAffinity()
        return Framework(filters: filters, scores: [
            (taints, 3), (affinity, 2), (fit, 1), (spread, 2), (interPod, 2), (NodeResourcesBalancedAllocation(), 1), (ImageLocality(), 1),
        ])
    }

    /// One node's score from one plugin.
    public struct PluginScore: Sendable, Equatable {
        public var plugin: String
        public var raw: Int64
        public var normalized: Int64
        public var weight: Int64
    }

    /// A filter plugin's verdict on one node.
    public struct FilterVerdict: Sendable, Equatable {
        public var plugin: String
        public var status: Code
        public var reasons: [String]
    }

    /// One node's verdicts and scores in a cycle.
    public struct NodeResult: Sendable, Equatable {
        public var node: String
        /// False when the search stopped before this node (percentageOfNodesToScore).
        public var examined = true
        /// The first failing filter's status, or nil when the node is feasible.
        public var failure: Status?
        /// Every filter that ran on the node, in order, when `explain` is on. Filters stop
        /// at the first rejection, as in kube-scheduler.
        public var filters: [FilterVerdict] = []
        public var scores: [PluginScore] = []
        public var total: Int64 = 0
    }

    /// Whether pod `a` is scheduled before pod `b`, which were queued in the order given by
    /// `aFirst`: the QueueSort plugin decides, PrioritySort when it has none or fails, and
    /// then the queue order.
    public func queuedBefore(_ a: Pod, _ b: Pod, aFirst: Bool) -> Bool {
        if let q = queueSort, q.isEnabled, let r = q.less(a, b) { return r }
        return PrioritySort.less(a, b) ?? aFirst
    }

    /// `pods` in the order the scheduling queue pops them.
    public func queueOrder(_ pods: [Pod]) -> [Pod] {
        let indexed = Array(pods.enumerated())
        return indexed.sorted { queuedBefore($0.element, $1.element, aFirst: $0.offset < $1.offset) }.map(\.element)
    }

    /// The outcome of one scheduling cycle.
    public struct Result: Sendable {
        public var node: String?
        public var nodes: [NodeResult]
        /// The Permit plugin that denied the chosen node, if one did.
        public var permitDenied: Status?
        /// The node that Permit denied.
        public var deniedNode: String?
        /// Permit said `wait`: the pod is reserved on this node until the permit plugins
        /// allow it (`Framework.permitAgain`) or `waitNanoseconds` pass.
        public var waitingOn: String?
        public var waitNanoseconds: Int64 = 0
        /// The permit plugin that asked for the wait.
        public var waitingPlugin = ""
        /// kube-scheduler's FitError text: "0/4 nodes are available: 4 Insufficient cpu."
        public var message: String {
            if let n = node { return "bound to \(n)" }
            if let w = waitingOn { return "waiting on permit at \(w)" }
            if let d = permitDenied {
                return "rejected by permit plugin \(d.plugin) on \(deniedNode ?? "?"): \(d.message)"
            }
            var counts: [String: Int] = [:]
            for r in nodes { for reason in r.failure?.reasons ?? [] { counts[reason, default: 0] += 1 } }
            let parts = counts.keys.sorted().map { "\(counts[$0] ?? 0) \($0)" }
            return "0/\(nodes.count) nodes are available: \(parts.joined(separator: ", "))."
        }
    }

    /// Plugins of the profile that are switched off.
    public var disabledPlugins: Int {
        filters.count { !$0.isEnabled } + scores.count { !$0.plugin.isEnabled } + permits.count { !$0.isEnabled }
            + reserves.count { !$0.isEnabled }
    }

    /// Runs filters and scores over `nodes` (in the given order) and picks the node with
    /// the highest total; ties are broken at random with `random`, as kube-scheduler's
    /// selectHost does (reservoir sampling over the tied nodes).
    ///
    /// Switched-off plugins take no part. When a plugin is switched off during the cycle
    /// (its failures reached the limit), the cycle runs again from the start without it,
    /// so the pod is placed as if the plugin were not in the profile.
    public func schedule(_ pod: Pod, nodes: [NodeInfo], random: () -> UInt64) -> Result {
        var disabled = disabledPlugins
        while true {
            let r = cycle(pod, nodes: nodes, random: random)
            let now = disabledPlugins
            if now == disabled { return r }
            disabled = now
        }
    }

    /// kube-scheduler's numFeasibleNodesToFind: how many feasible nodes a cycle looks for
    /// before it stops filtering. Under 100 nodes, all of them; otherwise the configured
    /// percentage, or the adaptive 50% - nodes/125 (at least 5%), and at least 100 nodes.
    public static func feasibleNodesToFind(percentage: Int, nodes: Int) -> Int {
        let minFeasibleNodesToFind = 100, minFeasibleNodesPercentageToFind = 5, basePercentage = 50
        if nodes < minFeasibleNodesToFind || percentage >= 100 { return nodes }
        var p = percentage
        if p <= 0 {
            p = basePercentage - nodes / 125
            if p < minFeasibleNodesPercentageToFind { p = minFeasibleNodesPercentageToFind }
        }
        let n = nodes * p / 100
        return n < minFeasibleNodesToFind ? minFeasibleNodesToFind : n
    }

    private func cycle(_ pod: Pod, nodes: [NodeInfo], random: () -> UInt64) -> Result {
        let state = CycleState()
        state.allNodes = nodes
        let filters = self.filters.filter(\.isEnabled)
        var scores = self.scores.filter(\.plugin.isEnabled)
        if scores.isEmpty && !self.scores.isEmpty { scores = fallbackScores }
        var results = nodes.map { NodeResult(node: $0.name, examined: false) }
        // PreFilter: a Skip skips that plugin's Filter; a rejection rejects every node;
        // node names narrow the search.
        var skipped: Set<ObjectIdentifier> = []
        var allowed: Set<String>?
        var narrowedBy: [String] = []
        let preFilters = (self.preFilters ?? filters.compactMap { $0 as? any PreFilterPlugin }).filter(\.isEnabled)
        for pre in preFilters {
            let (names, st) = pre.runPreFilter(state, pod, nodes)
            if st.code == .skip { skipped.insert(ObjectIdentifier(pre)); continue }
            if !st.isSuccess {
                var s2 = st
                if s2.plugin.isEmpty { s2.plugin = pre.name }
                for i in results.indices {
                    results[i].examined = true
                    results[i].failure = s2
                    if explain { results[i].filters = [FilterVerdict(plugin: s2.plugin, status: s2.code, reasons: s2.reasons)] }
                }
                return Result(node: nil, nodes: results)
            }
            if let names {
                allowed = allowed.map { $0.intersection(names) } ?? Set(names)
                narrowedBy.append(pre.name)
            }
        }
        var feasible: [Int] = []
        let want = Self.feasibleNodesToFind(percentage: percentageOfNodesToScore, nodes: nodes.count)
        let start = nodes.isEmpty ? 0 : nextStartNodeIndex % nodes.count
        var processed = 0
        while processed < nodes.count && feasible.count < want {
            let i = (start + processed) % nodes.count
            processed += 1
            let n = nodes[i]
            var r = NodeResult(node: n.name)
            if let allowed, !allowed.contains(n.name) {
                let st = Status(.unschedulableAndUnresolvable, ["node(s) didn't satisfy plugin(s) [\(narrowedBy.joined(separator: " "))]"],
                                plugin: narrowedBy.first ?? "")
                r.failure = st
                if explain { r.filters = [FilterVerdict(plugin: st.plugin, status: st.code, reasons: st.reasons)] }
                results[i] = r
                continue
            }
            for f in filters {
                if skipped.contains(ObjectIdentifier(f)) {
                    if explain { r.filters.append(FilterVerdict(plugin: f.name, status: .skip, reasons: [])) }
                    continue
                }
                let s = f.filter(state, pod, n)
                if explain { r.filters.append(FilterVerdict(plugin: s.plugin.isEmpty ? f.name : s.plugin, status: s.code, reasons: s.reasons)) }
                if !s.isSuccess {
                    var s2 = s
                    if s2.plugin.isEmpty { s2.plugin = f.name }
                    r.failure = s2
                    break
                }
            }
            if r.failure == nil { feasible.append(i) }
            results[i] = r
        }
        if !nodes.isEmpty { nextStartNodeIndex = (start + processed) % nodes.count }
        guard !feasible.isEmpty else { return Result(node: nil, nodes: results) }
        // As kube-scheduler: a single feasible node is chosen without scoring.
        if feasible.count == 1 {
            return permit(state, pod, chosen: nodes[feasible[0]].name, results)
        }
        // PreScore over the feasible nodes: a Skip leaves the plugin out of this cycle.
        let feasibleInfos = feasible.map { nodes[$0] }
        if scores.contains(where: { $0.plugin is ImageLocality }), nodes.contains(where: { !$0.node.status.containerImages.isEmpty }) {
            state[ImageLocality.stateKey] = ImageStates(nodes)
        }
        let preScores = self.preScores ?? scores.compactMap { $0.plugin as? any PreScorePlugin }
        var skippedScores: Set<ObjectIdentifier> = []
        // A PreScore that fails leaves its plugin out too: it would score 0 on every node.
        for pre in preScores where pre.isEnabled && pre.preScore(state, pod, feasibleInfos).code != .success {
            skippedScores.insert(ObjectIdentifier(pre))
        }
        scores = scores.filter { !skippedScores.contains(ObjectIdentifier($0.plugin)) }
        for (plugin, weight) in scores {
            var list: [(node: String, score: Int64)] = []
            list.reserveCapacity(feasible.count)
            for i in feasible {
                let (s, st) = plugin.score(state, pod, nodes[i])
                list.append((nodes[i].name, st.isSuccess ? s : 0))
            }
            let raws = list.map(\.score)
            if !plugin.normalize(state, pod, &list).isSuccess {
                for j in list.indices { list[j].score = 0 }
            }
            for (j, i) in feasible.enumerated() {
                results[i].scores.append(PluginScore(plugin: plugin.name, raw: raws[j], normalized: list[j].score, weight: weight))
                results[i].total += list[j].score * weight
            }
        }
        var best = -1
        var bestScore = Int64.min
        var ties: UInt64 = 0
        for i in feasible {
            let t = results[i].total
            if t > bestScore {
                best = i; bestScore = t; ties = 1
            } else if t == bestScore {
                ties += 1
                if random() % ties == 0 { best = i }
            }
        }
        return permit(state, pod, chosen: nodes[best].name, results)
    }

    /// Reserve, then Permit, on the chosen node.
    private func permit(_ state: CycleState, _ pod: Pod, chosen: String, _ results: [NodeResult]) -> Result {
        for r in reserves where r.isEnabled {
            var st = r.reserve(state, pod, nodeName: chosen)
            if !st.isSuccess {
                unreserve(pod, nodeName: chosen, state)
                if st.plugin.isEmpty { st.plugin = r.name }
                return Result(node: nil, nodes: results, permitDenied: st, deniedNode: chosen)
            }
        }
        let st = permitStatus(state, pod, nodeName: chosen)
        switch st.code {
        case .success, .skip:
            return Result(node: chosen, nodes: results)
        case .wait:
            return Result(node: nil, nodes: results, waitingOn: chosen, waitNanoseconds: st.waitNanoseconds, waitingPlugin: st.plugin)
        default:
            unreserve(pod, nodeName: chosen, state)
            return Result(node: nil, nodes: results, permitDenied: st, deniedNode: chosen)
        }
    }

    /// Every permit plugin's verdict together: the first denial, else `wait` with the
    /// shortest wait when any plugin waits, else success.
    func permitStatus(_ state: CycleState, _ pod: Pod, nodeName: String) -> Status {
        var wait: Status?
        for p in permits where p.isEnabled {
            var st = p.permit(state, pod, nodeName: nodeName)
            if st.plugin.isEmpty { st.plugin = p.name }
            if st.code == .wait {
                if wait == nil || st.waitNanoseconds < (wait?.waitNanoseconds ?? 0) { wait = st }
                continue
            }
            if !st.isSuccess { return st }
        }
        return wait ?? .success
    }

    /// Asks the permit plugins again about a waiting pod (a new cycle state).
    public func permitAgain(_ pod: Pod, nodeName: String) -> Status {
        permitStatus(CycleState(), pod, nodeName: nodeName)
    }

    /// Undoes the reservations of a pod that will not be bound, in reverse order.
    public func unreserve(_ pod: Pod, nodeName: String, _ state: CycleState = CycleState()) {
        for r in reserves.reversed() where r.isEnabled { r.unreserve(state, pod, nodeName: nodeName) }
    }

    /// Places `pods` one at a time on `nodes` (no time passes): each placement counts for
    /// the next pod. Pods that already name a node count as running there first.
    ///
    /// - Returns: per pod key ("ns/name"), the cycle's result, in input order.
    public func scheduleAll(_ pods: [Pod], nodes: [Node], random: () -> UInt64) -> [(key: String, result: Result)] {
        Self.scheduleAll(pods, nodes: nodes, profiles: [(nil, self)], random: random)
    }

    /// Places `pods` with several profiles: each pod goes to the profile named by its
    /// `spec.schedulerName` (a nil name takes every pod). Pods no profile serves are left
    /// out, as kube-scheduler leaves them pending. The queue order is the first profile's
    /// (kube-scheduler requires one QueueSort for all profiles).
    public static func scheduleAll(_ pods: [Pod], nodes: [Node], profiles: [(name: String?, framework: Framework)],
                                   random: () -> UInt64) -> [(key: String, result: Result)] {
        guard let first = profiles.first?.framework else { return [] }
        var infos = nodes.sorted { $0.metadata.name < $1.metadata.name }.map { NodeInfo(node: $0) }
        var index: [String: Int] = [:]
        for (i, n) in infos.enumerated() { index[n.name] = i }
        for p in pods where !p.spec.nodeName.isEmpty {
            if let i = index[p.spec.nodeName] { infos[i].add(p) }
        }
        var out: [(key: String, result: Result)] = []
        // Pods a permit plugin keeps waiting: reserved on their node, asked again after
        // every cycle; the pass has no time, so those still waiting at its end time out.
        var waiting: [(slot: Int, pod: Pod, node: String, framework: Framework)] = []
        func bind(_ p: Pod, _ n: String, _ f: Framework, reserved: Bool) {
            var bound = p
            bound.spec.nodeName = n
            if !reserved, let i = index[n] { infos[i].add(bound) }
            for pb in f.postBinds where pb.isEnabled { pb.postBind(CycleState(), bound, nodeName: n) }
        }
        func release(_ w: (slot: Int, pod: Pod, node: String, framework: Framework)) {
            w.framework.unreserve(w.pod, nodeName: w.node)
            if let i = index[w.node] { infos[i].remove(namespace: w.pod.metadata.namespace, name: w.pod.metadata.name) }
        }
        func recheck() {
            var still: [(slot: Int, pod: Pod, node: String, framework: Framework)] = []
            for w in waiting {
                let st = w.framework.permitAgain(w.pod, nodeName: w.node)
                switch st.code {
                case .success, .skip:
                    out[w.slot].result = Result(node: w.node, nodes: out[w.slot].result.nodes)
                    bind(w.pod, w.node, w.framework, reserved: true)
                case .wait:
                    still.append(w)
                default:
                    release(w)
                    out[w.slot].result = Result(node: nil, nodes: out[w.slot].result.nodes, permitDenied: st, deniedNode: w.node)
                }
            }
            waiting = still
        }
        for p in first.queueOrder(pods.filter { $0.spec.nodeName.isEmpty || index[$0.spec.nodeName] == nil }) {
            guard let f = profiles.first(where: { $0.name == nil || $0.name == p.spec.schedulerName })?.framework else { continue }
            let r = f.schedule(p, nodes: infos, random: random)
            out.append(("\(p.metadata.namespace)/\(p.metadata.name)", r))
            if let n = r.node {
                bind(p, n, f, reserved: false)
            } else if let n = r.waitingOn, let i = index[n] {
                var assumed = p
                assumed.spec.nodeName = n
                infos[i].add(assumed)
                waiting.append((out.count - 1, p, n, f))
            }
            if !waiting.isEmpty { recheck() }
        }
        for w in waiting {
            release(w)
            let st = Status(.unschedulable, ["timed out waiting (a scheduling pass has no time)"], plugin: out[w.slot].result.waitingPlugin)
            out[w.slot].result = Result(node: nil, nodes: out[w.slot].result.nodes, permitDenied: st, deniedNode: w.node)
        }
        return out
    }
}
