public import KubeAPI

/// A scheduling profile: the filter and score plugins that run, in order, with weights.
public final class Framework {
    public var filters: [any FilterPlugin] {
        didSet { cachedPreFilters = nil; cachedFilterCapabilities = nil; cachedCyclePlugins = nil }
    }
    public var scores: [(plugin: any ScorePlugin, weight: Int64)] {
        didSet { cachedPreScores = nil; cachedScoreCapabilities = nil; cachedCyclePlugins = nil }
    }
    private var cachedPreFilters: [any PreFilterPlugin]?
    private var cachedPreScores: [any PreScorePlugin]?
    /// The filters that implement PreFilter (found once, not by a cast every cycle).
    private var filterPreFilters: [any PreFilterPlugin] {
        if let c = cachedPreFilters { return c }
        let c = filters.compactMap { $0 as? any PreFilterPlugin }
        cachedPreFilters = c
        return c
    }
    /// The score plugins that implement PreScore.
    private var scorePreScores: [any PreScorePlugin] {
        if let c = cachedPreScores { return c }
        let c = scores.compactMap { $0.plugin as? any PreScorePlugin }
        cachedPreScores = c
        return c
    }
    /// What each plugin object can do beyond its protocol, found once per object (a cast
    /// per plugin per cycle costs more than the cycle's quick checks).
    private struct Capabilities {
        var batchFilter: (any BatchFilterPlugin)?
        var quickFilter: (any QuickFilterPlugin)?
        var batchScore: (any BatchScorePlugin)?
        var quickScore: (any QuickScorePlugin)?
    }
    private static func capabilities(of plugin: any Plugin) -> Capabilities {
        Capabilities(batchFilter: plugin as? any BatchFilterPlugin, quickFilter: plugin as? any QuickFilterPlugin,
                     batchScore: plugin as? any BatchScorePlugin, quickScore: plugin as? any QuickScorePlugin)
    }
    /// The plugins a cycle runs (the switched-off ones left out) with their capabilities,
    /// made again only when the profile's lists change or a plugin is switched off: a
    /// plugin that is switched off stays off for the rest of the run (`Plugin.isEnabled`),
    /// so the number of switched-off plugins (`disabledPlugins`) tells when. Building them
    /// every cycle copied every plugin reference several times over: 7% of the machine
    /// instructions of a cycle of the default profile.
    private struct CyclePlugins {
        var filters: [any FilterPlugin]
        var caps: [Capabilities]
        var scores: [(plugin: any ScorePlugin, weight: Int64, cap: Capabilities)]
        var usingFallback: Bool
        var preFilters: [any PreFilterPlugin]
    }
    private var cachedCyclePlugins: (disabled: Int, plugins: CyclePlugins)?
    private func cyclePlugins(disabled: Int) -> CyclePlugins {
        if let c = cachedCyclePlugins, c.disabled == disabled { return c.plugins }
        let enabled = self.filters.indices.filter { self.filters[$0].isEnabled }
        let filterCaps = filterCapabilities
        var scores = zip(self.scores, scoreCapabilities(fallback: false)).filter { $0.0.plugin.isEnabled }
            .map { (plugin: $0.0.plugin, weight: $0.0.weight, cap: $0.1) }
        let usingFallback = scores.isEmpty && !self.scores.isEmpty
        if usingFallback {
            scores = zip(fallbackScores, scoreCapabilities(fallback: true)).map { (plugin: $0.0.plugin, weight: $0.0.weight, cap: $0.1) }
        }
        let plugins = CyclePlugins(filters: enabled.map { self.filters[$0] }, caps: enabled.map { filterCaps[$0] }, scores: scores,
                                   usingFallback: usingFallback, preFilters: (self.preFilters ?? filterPreFilters).filter(\.isEnabled))
        cachedCyclePlugins = (disabled, plugins)
        return plugins
    }
    private var cachedFilterCapabilities: [Capabilities]?
    private var cachedScoreCapabilities: [Capabilities]?
    private var cachedFallbackCapabilities: [Capabilities]?
    /// The capabilities of `filters`, in order.
    private var filterCapabilities: [Capabilities] {
        if let c = cachedFilterCapabilities { return c }
        let c = filters.map { Self.capabilities(of: $0) }
        cachedFilterCapabilities = c
        return c
    }
    /// The capabilities of `scores`, or of `fallbackScores`, in order.
    private func scoreCapabilities(fallback: Bool) -> [Capabilities] {
        if let c = fallback ? cachedFallbackCapabilities : cachedScoreCapabilities { return c }
        let c = (fallback ? fallbackScores : scores).map { Self.capabilities(of: $0.plugin) }
        if fallback { cachedFallbackCapabilities = c } else { cachedScoreCapabilities = c }
        return c
    }
    public var preBinds: [any PreBindPlugin] = []
    /// The Bind plugins, in order; DefaultBinder by default.
    public var binds: [any BindPlugin] = [DefaultBinder()]
    public var postBinds: [any PostBindPlugin] = []
    /// The state of the last cycle `schedule` ran: the binding cycle that follows it shares
    /// it, as in kube-scheduler.
    public private(set) var lastCycleState = CycleState()
    public var postFilters: [any PostFilterPlugin] = [DefaultPreemption()]
    /// The memo of quick-score sums per node position (see the score phase of `cycle`): the
    /// quick scores and weights it was made for, and per node the generation and the sum.
    private struct MemoKey: Equatable {
        var scores: [QuickScore]
        var weights: [Int64]
    }
    private var memoKey: MemoKey?
    private var memoGeneration: [UInt64] = []
    private var memoSum: [Int64] = []
    /// kube-scheduler's percentageOfNodesToScore: 0 (the default) picks the adaptive
    /// percentage, 100 examines every node.
    public var percentageOfNodesToScore = 0
    /// Where the next cycle starts looking (kube-scheduler's nextStartNodeIndex: the
    /// search goes round the nodes so every node gets its turn).
    public private(set) var nextStartNodeIndex = 0
    /// Record every filter's verdict per node (for `--explain`).
    public var explain = false
    /// Use the built-ins' quick checks (`QuickFilter`, `QuickScore`) outside `--explain`.
    /// They change only the speed of a cycle; tests switch them off to compare.
    public var quickChecks = true
    /// PreFilter plugins, when a configuration lists them; nil means every filter that
    /// implements PreFilter.
    public var preFilters: [any PreFilterPlugin]? { didSet { cachedCyclePlugins = nil } }
    /// PreScore plugins, when a configuration lists them; nil means every score plugin that
    /// implements PreScore.
    public var preScores: [any PreScorePlugin]?
    /// The profile's QueueSort; nil means PrioritySort.
    public var queueSort: (any QueueSortPlugin)?
    public var permits: [any PermitPlugin] = []
    public var reserves: [any ReservePlugin] = []
    /// The scores used when every plugin of `scores` is switched off (for a profile whose
    /// Lua scores replaced the defaults: the defaults again).
    public var fallbackScores: [(plugin: any ScorePlugin, weight: Int64)] = [] {
        didSet { cachedFallbackCapabilities = nil; cachedCyclePlugins = nil }
    }

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

    /// A node a filter (or a PreFilter) rejected, with the status that rejected it.
    public struct NodeFailure: Sendable, Equatable {
        public var node: String
        public var status: Status
    }

    /// The outcome of one scheduling cycle.
    public struct Result: Sendable {
        public var node: String?
        /// Every node's verdicts and scores, in snapshot order, when `explain` is on; empty
        /// otherwise (a cycle at 5,000 nodes does not keep 5,000 records per pod).
        public var nodes: [NodeResult] = []
        /// The nodes rejected in this cycle, in the order they were examined, with why
        /// (kube-scheduler's NodeToStatus map, which PostFilter reads).
        public var failures: [NodeFailure] = []
        /// How many nodes the cycle's snapshot had.
        public var nodeCount = 0
        /// The chosen node's total score (0 when it was chosen without scoring).
        public var total: Int64 = 0
        /// The plugin that rejected the pod on its chosen node, if one did (Reserve, Permit,
        /// or in the binding cycle PreBind or Bind); `rejectedAt` names the point.
        public var permitDenied: Status?
        public var rejectedAt = "permit"
        /// The node the pod was rejected on.
        public var deniedNode: String?
        /// Permit said `wait`: the pod is reserved on this node until the permit plugins
        /// allow it (`Framework.permitAgain`) or `waitNanoseconds` pass.
        public var waitingOn: String?
        public var waitNanoseconds: Int64 = 0
        /// The permit plugin that asked for the wait.
        public var waitingPlugin = ""

        public init(node: String? = nil, nodes: [NodeResult] = [], failures: [NodeFailure] = [], nodeCount: Int = 0) {
            self.node = node; self.nodes = nodes; self.failures = failures; self.nodeCount = nodeCount
        }

        /// kube-scheduler's FitError text: "0/4 nodes are available: 4 Insufficient cpu."
        public var message: String {
            if let n = node { return "bound to \(n)" }
            if let w = waitingOn { return "waiting on permit at \(w)" }
            if let d = permitDenied {
                return "rejected by \(rejectedAt) plugin \(d.plugin) on \(deniedNode ?? "?"): \(d.message)"
            }
            var counts: [String: Int] = [:]
            for f in failures { for reason in f.status.reasons { counts[reason, default: 0] += 1 } }
            let parts = counts.keys.sorted().map { "\(counts[$0] ?? 0) \($0)" }
            return "0/\(nodeCount) nodes are available: \(parts.joined(separator: ", "))."
        }

        /// The same cycle, now bound to `node` (a waiting pod that Permit allowed).
        public func bound(to node: String) -> Result {
            var r = self
            r.node = node; r.waitingOn = nil; r.permitDenied = nil; r.deniedNode = nil
            return r
        }

        /// The same cycle, now rejected on `node` with `status` by a plugin of `point`
        /// (Permit denied or timed out, or the binding cycle failed).
        public func rejected(on node: String, _ status: Status, at point: String = "permit") -> Result {
            var r = self
            r.node = nil; r.waitingOn = nil; r.permitDenied = status; r.deniedNode = node; r.rejectedAt = point
            return r
        }
    }

    /// Plugins of the profile that are switched off.
    public var disabledPlugins: Int {
        filters.count { !$0.isEnabled } + scores.count { !$0.plugin.isEnabled } + permits.count { !$0.isEnabled }
            + reserves.count { !$0.isEnabled } + preBinds.count { !$0.isEnabled } + binds.count { !$0.isEnabled }
            + postFilters.count { !$0.isEnabled }
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
            let r = cycle(pod, nodes: nodes, random: random, plugins: cyclePlugins(disabled: disabled))
            let now = disabledPlugins
            if now == disabled { return r }
            disabled = now
        }
    }

    /// The most nodes a cycle filters in one chunk.
    static let maxChunk = 256

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

    private func cycle(_ pod: Pod, nodes: [NodeInfo], random: () -> UInt64, plugins: CyclePlugins) -> Result {
        let state = CycleState()
        lastCycleState = state
        state.allNodes = nodes
        // The binding cycle keeps the state, not the snapshot (whose nodes change next).
        defer { state.allNodes = [] }
        let filters = plugins.filters
        let caps = plugins.caps
        var scores = plugins.scores
        let usingFallback = plugins.usingFallback
        var result = Result(nodeCount: nodes.count)
        if explain { result.nodes = nodes.map { NodeResult(node: $0.name, examined: false) } }
        // PreFilter: a Skip skips that plugin's Filter; a rejection rejects every node;
        // node names narrow the search.
        var skipped: Set<ObjectIdentifier> = []
        var allowed: Set<String>?
        var narrowedBy: [String] = []
        for pre in plugins.preFilters {
            let (names, st) = pre.runPreFilter(state, pod, nodes)
            if st.code == .skip { skipped.insert(ObjectIdentifier(pre)); continue }
            if !st.isSuccess {
                var s2 = st
                if s2.plugin.isEmpty { s2.plugin = pre.name }
                result.failures = nodes.map { NodeFailure(node: $0.name, status: s2) }
                if explain {
                    for i in result.nodes.indices {
                        result.nodes[i].examined = true
                        result.nodes[i].failure = s2
                        result.nodes[i].filters = [FilterVerdict(plugin: s2.plugin, status: s2.code, reasons: s2.reasons)]
                    }
                }
                return result
            }
            if let names {
                allowed = allowed.map { $0.intersection(names) } ?? Set(names)
                narrowedBy.append(pre.name)
            }
        }
        let filterSkipped = filters.map { skipped.contains(ObjectIdentifier($0)) }
        // The verdict on nodes a PreFilter left out (built only when one did).
        let narrowed = allowed == nil ? Status.success
            : Status(.unschedulableAndUnresolvable, ["node(s) didn't satisfy plugin(s) [\(narrowedBy.joined(separator: " "))]"],
                     plugin: narrowedBy.first ?? "")
        let want = Self.feasibleNodesToFind(percentage: percentageOfNodesToScore, nodes: nodes.count)
        var feasible: [Int] = []
        feasible.reserveCapacity(min(want, nodes.count))
        let start = nodes.isEmpty ? 0 : nextStartNodeIndex % nodes.count
        var processed = 0
        // Nodes are filtered in chunks of as many nodes as feasible ones are still wanted (at
        // most `maxChunk`, so a chunk's lists stay small enough for the cache), so the search
        // examines exactly the nodes a node-by-node search would: a chunk cannot hold more
        // feasible nodes than are wanted. Within a chunk each filter runs over the nodes the
        // filters before it kept, a batch filter in one call.
        let quick: [QuickFilter?] = filters.indices.map { j in
            explain || !quickChecks || filterSkipped[j] ? nil : caps[j].quickFilter?.quickFilter(state, pod)
        }
        if allowed == nil && !explain && quickChecks && filters.indices.allSatisfy({ filterSkipped[$0] || quick[$0] != nil }) {
            // Every filter has a quick check: node by node, each node that passes them all is
            // feasible at once; the filters judge the others in order, as they would.
            let all = QuickFilterSet(quick.compactMap { $0 })
            nodes.withUnsafeBufferPointer { nodes in
                var i = start
                while processed < nodes.count && feasible.count < want {
                    if nodes[i].passes(all) {
                        feasible.append(i)
                    } else if let f = firstFailure(state, pod, nodes[i], filters, quick, filterSkipped) {
                        result.failures.append(NodeFailure(node: nodes[i].name, status: f))
                    } else {
                        feasible.append(i)
                    }
                    processed += 1
                    i += 1
                    if i == nodes.count { i = 0 }
                }
            }
        }
        var chunk: [Int] = []
        var failure: [Status?] = []
        var alive: [Int] = []
        // The leading filters that all have quick checks (or are skipped) run as one set, as
        // in the search above; the filters from the first one without a quick check run one
        // after the other over the nodes kept.
        var prefix = 0
        if !explain && quickChecks {
            while prefix < filters.count && (filterSkipped[prefix] || quick[prefix] != nil) { prefix += 1 }
        }
        let prefixSet = QuickFilterSet(quick[0..<prefix].compactMap { $0 })
        while processed < nodes.count && feasible.count < want {
            let size = min(want - feasible.count, nodes.count - processed, Self.maxChunk)
            chunk.removeAll(keepingCapacity: true)
            for k in 0..<size {
                var i = start + processed + k
                if i >= nodes.count { i -= nodes.count }
                chunk.append(i)
            }
            failure.removeAll(keepingCapacity: true)
            failure.append(contentsOf: repeatElement(nil, count: size))
            alive.removeAll(keepingCapacity: true)
            for (k, i) in chunk.enumerated() {
                if let allowed, !allowed.contains(nodes[i].name) {
                    failure[k] = narrowed
                    if explain { result.nodes[i].filters = [FilterVerdict(plugin: narrowed.plugin, status: narrowed.code, reasons: narrowed.reasons)] }
                } else {
                    alive.append(k)
                }
            }
            if prefix > 0 {
                var kept = 0
                for k in alive {
                    // The node is read in place: a copy would retain its storage.
                    let i = chunk[k]
                    if !nodes[i].passes(prefixSet), let f = firstFailure(state, pod, nodes[i], filters, quick, filterSkipped, upTo: prefix) {
                        failure[k] = f
                    } else {
                        alive[kept] = k
                        kept += 1
                    }
                }
                alive.removeLast(alive.count - kept)
            }
            for (j, f) in filters.enumerated() where j >= prefix && !alive.isEmpty {
                if filterSkipped[j] {
                    if explain { for k in alive { result.nodes[chunk[k]].filters.append(FilterVerdict(plugin: f.name, status: .skip, reasons: [])) } }
                    continue
                }
                var kept = 0
                if let q = quick[j] {
                    // Nodes the quick check passes are kept without a call; `filter` judges the others.
                    if q == .all {
                        kept = alive.count
                    } else {
                        let check = QuickFilterSet(q)
                        for k in alive where nodes[chunk[k]].passes(check)
                            || verdict(f.filter(state, pod, nodes[chunk[k]]), of: f, for: chunk[k], &result, &failure[k]) {
                            alive[kept] = k
                            kept += 1
                        }
                    }
                } else if let b = caps[j].batchFilter {
                    // Even for one node: a batch plugin may give kept results (a Lua plugin's
                    // memo), which a single call would not.
                    let verdicts = b.filter(state, pod, nodes, at: alive.map { chunk[$0] })
                    let missing = Status(.error, ["the plugin gave no verdict on this node"], plugin: f.name)
                    for (n, k) in alive.enumerated()
                    where verdict(n < verdicts.count ? verdicts[n] : missing, of: f, for: chunk[k], &result, &failure[k]) {
                        alive[kept] = k
                        kept += 1
                    }
                } else {
                    for k in alive where verdict(f.filter(state, pod, nodes[chunk[k]]), of: f, for: chunk[k], &result, &failure[k]) {
                        alive[kept] = k
                        kept += 1
                    }
                }
                alive.removeLast(alive.count - kept)
            }
            for (k, i) in chunk.enumerated() {
                if explain { result.nodes[i].examined = true }
                if let f = failure[k] {
                    result.failures.append(NodeFailure(node: nodes[i].name, status: f))
                    if explain { result.nodes[i].failure = f }
                } else {
                    feasible.append(i)
                }
            }
            processed += size
        }
        if !nodes.isEmpty { nextStartNodeIndex = (start + processed) % nodes.count }
        guard !feasible.isEmpty else { return result }
        // As kube-scheduler: a single feasible node is chosen without scoring.
        if feasible.count == 1 {
            return permit(state, pod, chosen: nodes[feasible[0]].name, result)
        }
        // PreScore over the feasible nodes: a Skip leaves the plugin out of this cycle.
        let feasibleInfos = FeasibleNodes(nodes, positions: feasible)
        let preScores = self.preScores ?? (usingFallback ? scores.compactMap { $0.plugin as? any PreScorePlugin } : scorePreScores)
        var skippedScores: Set<ObjectIdentifier> = []
        // A PreScore that fails leaves its plugin out too: it would score 0 on every node.
        for pre in preScores where pre.isEnabled && pre.preScore(state, pod, feasibleInfos).code != .success {
            skippedScores.insert(ObjectIdentifier(pre))
        }
        if !skippedScores.isEmpty { scores = scores.filter { !skippedScores.contains(ObjectIdentifier($0.plugin)) } }
        var totals = [Int64](repeating: 0, count: feasible.count)
        var raw = [Int64](repeating: 0, count: feasible.count)
        // The (node, score) list NormalizeScore takes, built only for plugins that have one.
        var list: [(node: String, score: Int64)] = []
        var normalized: [Int64] = []
        // The quick scores without NormalizeScore are summed per node once, and the sum is
        // kept for the node as it is (its generation) while the cycles' quick scores and
        // weights stay the same: pods of one template (a Deployment's) then cost a lookup
        // per node, not a formula per plugin.
        let memoized: [QuickScore?] = scores.map {
            explain || !quickChecks || $0.plugin.normalizes ? nil : $0.cap.quickScore?.quickScore(state, pod)
        }
        let group = memoized.indices.filter { memoized[$0] != nil }
        if !group.isEmpty {
            let key = MemoKey(scores: group.map { memoized[$0]! }, weights: group.map { scores[$0].weight })
            if key != memoKey || memoGeneration.count != nodes.count {
                memoKey = key
                memoGeneration = Array(repeating: 0, count: nodes.count)
                memoSum = Array(repeating: 0, count: nodes.count)
            }
            var todo: [Int] = []
            for (j, i) in feasible.enumerated() {
                if memoGeneration[i] == nodes[i].generation { totals[j] = totals[j] &+ memoSum[i] } else { todo.append(j) }
            }
            if !todo.isEmpty {
                let todoNodes = todo.map { feasible[$0] }
                var sums = [Int64](repeating: 0, count: todo.count)
                var plain = [Bool](repeating: true, count: todo.count)
                for g in group {
                    let (plugin, weight, _) = scores[g]
                    for t in memoized[g]!.fill(&sums, nodes, todoNodes, weight: weight) {
                        plain[t] = false
                        let (v, st) = plugin.score(state, pod, nodes[todoNodes[t]])
                        sums[t] = sums[t] &+ (st.isSuccess ? v : 0) &* weight
                    }
                }
                for (t, j) in todo.enumerated() {
                    totals[j] = totals[j] &+ sums[t]
                    if plain[t] {
                        memoGeneration[todoNodes[t]] = nodes[todoNodes[t]].generation
                        memoSum[todoNodes[t]] = sums[t]
                    }
                }
            }
        }
        for (g, (plugin, weight, cap)) in scores.enumerated() where memoized[g] == nil {
            let quickPlugin = explain || !quickChecks ? nil : cap.quickScore
            if let q = quickPlugin?.quickScore(state, pod) {
                // Nodes the quick score applies to are scored inline; `score` scores the others.
                // Without NormalizeScore the weighted scores go straight into the totals.
                let normalizes = plugin.normalizes
                let rest = normalizes ? q.fill(&raw, nodes, feasible) : q.fill(&totals, nodes, feasible, weight: weight)
                for j in rest {
                    let (s, st) = plugin.score(state, pod, nodes[feasible[j]])
                    let v = st.isSuccess ? s : 0
                    if normalizes { raw[j] = v } else { totals[j] = totals[j] &+ v &* weight }
                }
                if !normalizes { continue }
            } else if let b = cap.batchScore {
                // In slices of `maxChunk` nodes, as the filters run.
                var j0 = 0
                while j0 < feasible.count {
                    let j1 = min(j0 + Self.maxChunk, feasible.count)
                    let out = b.score(state, pod, nodes, at: Array(feasible[j0..<j1]))
                    for j in j0..<j1 { raw[j] = j - j0 < out.count && out[j - j0].1.isSuccess ? out[j - j0].0 : 0 }
                    j0 = j1
                }
            } else {
                for j in feasible.indices {
                    let (s, st) = plugin.score(state, pod, nodes[feasible[j]])
                    raw[j] = st.isSuccess ? s : 0
                }
            }
            if plugin.normalizes, let quickPlugin {
                normalized.removeAll(keepingCapacity: true)
                normalized.append(contentsOf: raw)
                let ok = quickPlugin.normalizeScores(state, pod, &normalized)?.isSuccess
                    ?? normalizeList(plugin, state, pod, feasible.map { nodes[$0].name }, &normalized)
                if ok { Self.accumulate(&totals, normalized, weight) }
            } else if plugin.normalizes {
                list.removeAll(keepingCapacity: true)
                for j in feasible.indices { list.append((nodes[feasible[j]].name, raw[j])) }
                let ok = plugin.normalize(state, pod, &list).isSuccess
                for j in totals.indices { totals[j] += (ok ? list[j].score : 0) * weight }
                if explain {
                    for (j, i) in feasible.enumerated() {
                        result.nodes[i].scores.append(PluginScore(plugin: plugin.name, raw: raw[j], normalized: ok ? list[j].score : 0, weight: weight))
                        result.nodes[i].total = totals[j]
                    }
                }
            } else {
                Self.accumulate(&totals, raw, weight)
                if explain {
                    for (j, i) in feasible.enumerated() {
                        result.nodes[i].scores.append(PluginScore(plugin: plugin.name, raw: raw[j], normalized: raw[j], weight: weight))
                        result.nodes[i].total = totals[j]
                    }
                }
            }
        }
        var best = -1
        var bestScore = Int64.min
        var ties: UInt64 = 0
        for (j, t) in totals.enumerated() {
            if t > bestScore {
                best = j; bestScore = t; ties = 1
            } else if t == bestScore {
                ties += 1
                if random() % ties == 0 { best = j }
            }
        }
        result.total = bestScore
        return permit(state, pod, chosen: nodes[feasible[best]].name, result)
    }

    /// totals[j] += scores[j] * weight for every node.
    private static func accumulate(_ totals: inout [Int64], _ scores: [Int64], _ weight: Int64) {
        precondition(totals.count == scores.count)
        totals.withUnsafeMutableBufferPointer { t in
            scores.withUnsafeBufferPointer { s in
                for j in 0..<t.count { t[j] = t[j] &+ s[j] &* weight }
            }
        }
    }

    /// The first failure of the filters (the first `end` of them) on a node, in order, named
    /// after its plugin, or nil when it passes them all: a node passes a filter's quick
    /// check, or else the filter.
    private func firstFailure(_ state: CycleState, _ pod: Pod, _ node: NodeInfo, _ filters: [any FilterPlugin],
                              _ quick: [QuickFilter?], _ skipped: [Bool], upTo end: Int? = nil) -> Status? {
        for (j, f) in filters.enumerated() where j < (end ?? filters.count) && !skipped[j] {
            if let q = quick[j], node.passes(q) { continue }
            var st = f.filter(state, pod, node)
            if st.isSuccess { continue }
            if st.plugin.isEmpty { st.plugin = f.name }
            return st
        }
        return nil
    }

    /// `plugin`'s NormalizeScore over `scores` of the nodes `names`, in place; whether it
    /// succeeded.
    private func normalizeList(_ plugin: any ScorePlugin, _ state: CycleState, _ pod: Pod, _ names: [String],
                               _ scores: inout [Int64]) -> Bool {
        var list = zip(names, scores).map { (node: $0, score: $1) }
        let ok = plugin.normalize(state, pod, &list).isSuccess
        for j in scores.indices { scores[j] = list[j].score }
        return ok
    }

    /// Records filter `f`'s verdict `s` on node `i` (for `--explain`, and in `failure` when
    /// it rejects the node, named after the plugin). Returns whether the node passed.
    @inline(__always)
    private func verdict(_ s: Status, of f: any FilterPlugin, for i: Int, _ result: inout Result, _ failure: inout Status?) -> Bool {
        if explain {
            result.nodes[i].filters.append(FilterVerdict(plugin: s.plugin.isEmpty ? f.name : s.plugin, status: s.code, reasons: s.reasons))
        }
        if s.isSuccess { return true }
        var s2 = s
        if s2.plugin.isEmpty { s2.plugin = f.name }
        failure = s2
        return false
    }

    /// Reserve, then Permit, on the chosen node.
    private func permit(_ state: CycleState, _ pod: Pod, chosen: String, _ result: Result) -> Result {
        for r in reserves where r.isEnabled {
            var st = r.reserve(state, pod, nodeName: chosen)
            if !st.isSuccess {
                unreserve(pod, nodeName: chosen, state)
                if st.plugin.isEmpty { st.plugin = r.name }
                return result.rejected(on: chosen, st, at: "reserve")
            }
        }
        let st = permitStatus(state, pod, nodeName: chosen)
        switch st.code {
        case .success, .skip:
            return result.bound(to: chosen)
        case .wait:
            var r = result
            r.waitingOn = chosen; r.waitNanoseconds = st.waitNanoseconds; r.waitingPlugin = st.plugin
            return r
        default:
            unreserve(pod, nodeName: chosen, state)
            return result.rejected(on: chosen, st)
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

    /// kube-scheduler's binding cycle for a pod that Permit allowed on `nodeName`: PreBind,
    /// then the Bind plugins until one does not skip (`binder` writes the Binding for
    /// DefaultBinder). When every Bind plugin is switched off, DefaultBinder binds.
    ///
    /// - Returns: success once the pod is bound; otherwise the failing status, named after
    ///   its plugin (`unschedulable` from a PreBind that rejected the pod, `error` for the
    ///   rest), after the reservation was undone, and the point that failed ("prebind" or
    ///   "bind"). PostBind is the caller's (`postBind`), once it has recorded the binding.
    public func bindingCycle(_ state: CycleState, _ pod: Pod, nodeName: String,
                             binder: PodBinder) -> (status: Status, point: String) {
        for p in preBinds where p.isEnabled {
            var st = p.preBind(state, pod, nodeName: nodeName)
            if st.isSuccess { continue }
            if st.plugin.isEmpty { st.plugin = p.name }
            if st.code != .unschedulable && st.code != .unschedulableAndUnresolvable { st.code = .error }
            unreserve(pod, nodeName: nodeName, state)
            return (st, "prebind")
        }
        var binders = binds.filter(\.isEnabled)
        if binders.isEmpty { binders = [DefaultBinder()] }
        var outcome = Status(.error, ["every bind plugin skipped the pod"], plugin: binders.last?.name ?? "")
        for b in binders {
            var st = b.bind(state, pod, nodeName: nodeName, binder: binder)
            if st.code == .skip { continue }
            if st.plugin.isEmpty { st.plugin = b.name }
            if st.code != .success { st.code = .error }
            outcome = st
            break
        }
        if outcome.code != .success { unreserve(pod, nodeName: nodeName, state) }
        return (outcome, "bind")
    }

    /// Tells the PostBind plugins that `pod` (already carrying its node) was bound.
    public func postBind(_ state: CycleState, _ pod: Pod, nodeName: String) {
        for p in postBinds where p.isEnabled { p.postBind(state, pod, nodeName: nodeName) }
    }

    /// Undoes the reservations of a pod that will not be bound, in reverse order.
    public func unreserve(_ pod: Pod, nodeName: String, _ state: CycleState = CycleState()) {
        for r in reserves.reversed() where r.isEnabled { r.unreserve(state, pod, nodeName: nodeName) }
    }
}
