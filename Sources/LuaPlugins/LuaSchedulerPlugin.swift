public import LuaHost
public import KubeAPI
public import KubeScheduler

/// A Lua scheduler plugin as a Filter and Score plugin of the framework.
///
/// Failures never stop scheduling: a filter that errors rejects the node with the error
/// as the reason; a score that errors or returns something other than a number in
/// 0...100 counts as 0. Each failure is reported once per distinct message through
/// `onFailure`. After `maxConsecutiveFailures` failures in a row the plugin is switched
/// off for the rest of the run (`isEnabled` turns false): the framework then schedules as
/// if the plugin were not in the profile, so a broken plugin cannot make a run take hours
/// nor keep the other plugins from placing pods. The same happens when it has spent
/// `maxTotalInstructions` over the run.
public final class LuaSchedulerPlugin: FilterPlugin, ScorePlugin, QueueSortPlugin, PermitPlugin {
    public let plugin: LoadedPlugin
    public var name: String { plugin.name }
    /// Called with "file:line: in hook: message" for each distinct failure.
    public var onFailure: ((String) -> Void)?
    /// Every failure message, in order (capped at 100).
    public private(set) var failures: [String] = []
    private var reported: Set<String> = []
    /// The Lua traceback of each distinct failure that raised an error (see
    /// `LoadedPlugin.traceback`), by message.
    public private(set) var tracebacks: [String: String] = [:]
    public private(set) var failureCount = 0
    private var consecutiveFailures = 0
    /// Failures in a row that switch the plugin off.
    public var maxConsecutiveFailures = 10
    /// Why the plugin was switched off, once it is.
    public private(set) var switchedOff: String?
    /// Instructions the plugin may spend over a whole run (all hooks); past it the plugin is
    /// switched off like one that keeps failing.
    public var maxTotalInstructions = 20_000_000_000
    /// Instructions spent so far in this run.
    public private(set) var totalInstructions = 0

    public init(_ plugin: LoadedPlugin) {
        self.plugin = plugin
        plugin.state.measuresTime = false
        maxConsecutiveFailures = plugin.runLimits.failuresInARow
        maxTotalInstructions = plugin.runLimits.runInstructions
    }

    /// What a hook has cost so far.
    public struct HookCost: Sendable, Equatable {
        public var calls = 0
        public var instructions = 0
        public var nanoseconds = 0
    }

    /// Costs by hook name ("filter", "score", ...).
    public var costs: [String: HookCost] {
        var all = otherCosts
        if filterCost.calls > 0 { all["filter"] = filterCost }
        if scoreCost.calls > 0 { all["score"] = scoreCost }
        return all
    }
    private var otherCosts: [String: HookCost] = [:]
    private var filterCost = HookCost()
    private var scoreCost = HookCost()

    /// Whether hook calls also measure their wall time (`kubelab check` shows it); off by
    /// default, as two clock reads per call are a large part of a short hook's cost.
    public var measuresTime: Bool {
        get { plugin.state.measuresTime }
        set { plugin.state.measuresTime = newValue }
    }

    private func account(_ hook: String) {
        let c = plugin.state.lastCallCost
        account(hook, instructions: c.instructions, nanoseconds: c.nanoseconds)
    }

    /// Adds calls of `hook` to its costs (the run's total is the caller's).
    func add(_ cost: HookCost, to hook: String) {
        func add(_ h: inout HookCost) {
            h.calls += cost.calls
            h.instructions += cost.instructions
            h.nanoseconds += cost.nanoseconds
        }
        switch hook {
        case "filter": add(&filterCost)
        case "score": add(&scoreCost)
        default: add(&otherCosts[hook, default: HookCost()])
        }
    }

    /// Adds one call of `hook` to the costs and the run's total.
    func account(_ hook: String, instructions: Int, nanoseconds: Int = 0) {
        add(HookCost(calls: 1, instructions: instructions, nanoseconds: nanoseconds), to: hook)
        charge(instructions)
    }

    /// Adds to the run's total; past the run budget the plugin is switched off.
    func charge(_ instructions: Int) {
        totalInstructions += instructions
        if totalInstructions > maxTotalInstructions && switchedOff == nil {
            switchOff("\(plugin.file): switched off after spending its run budget of \(maxTotalInstructions) instructions")
        }
    }

    func call(_ hook: String, _ state: CycleState, _ args: [LuaValue]) throws(LuaError) -> [LuaValue] {
        defer { account(hook) }
        return try plugin.call(hook, state: cycleTable(state), args)
    }

    // MARK: - Views kept in the plugin's Lua state

    /// The cycle the Lua `state` table and the pod view below belong to.
    private var cycleID: UInt64 = 0
    private var cycleState: LuaRef?
    private var cyclePod: LuaRef?
    /// Node views by node name, rebuilt when the node's generation changes; the NodeInfo
    /// they were built from answers the lazy `pods` field.
    private var nodeViews: [UInt64: (view: LuaRef, info: NodeInfo)] = [:]
    /// The generation each node's view in `nodeViews` was built from.
    private var viewGeneration: [String: UInt64] = [:]
    /// The view last used for the node at each position of the cycle's node list, with the
    /// node's generation then: a batch finds most views here without hashing.
    private var viewAtGeneration: [UInt64] = []
    private var viewAt: LuaRefArray?
    private var podsIndex: LuaRef?
    /// The filter and score hooks, called for every node: their functions, and their size
    /// when they can run without the count hook (see `LuaState.straightCost`).
    private struct NodeHook {
        let name: String
        let function: LuaRef?
        let straightCost: Int64?
    }
    private lazy var filterHook = nodeHook("filter")
    private lazy var scoreHook = nodeHook("score")
    /// The filter's and the score's kept results (see `HookMemo`).
    private let filterMemo = HookMemo<Status>()
    private let scoreMemo = HookMemo<(Int64, Status)>()

    /// Calls of `filter` and `score` whose results were those of an earlier call, reused for
    /// a pod that agrees with that call's pod on every field the hook reads (see `HookMemo`).
    /// They count among the hooks' calls, with the instructions the earlier call spent.
    public var reusedResults: Int { filterMemo.reused + scoreMemo.reused }
    /// Verdicts of `filter` and `score` kept to be given again.
    public var keptResults: Int { filterMemo.kept + scoreMemo.kept }
    /// Whether `filter` and `score` reuse kept verdicts (on by default; off, every call is made).
    public var reusesVerdicts = true

    private func nodeHook(_ name: String) -> NodeHook {
        let f = plugin.hookFunction(name)
        return NodeHook(name: name, function: f, straightCost: f.flatMap { plugin.state.straightCost(of: $0) })
    }

    /// The plugin's `state` table of this cycle (a new one for every cycle).
    func cycleTable(_ state: CycleState) throws(LuaError) -> LuaRef {
        if let t = cycleState, cycleID == state.id { return t }
        let t = try plugin.state.newTable()
        cycleState = t
        cyclePod = nil
        cycleID = state.id
        pruneNodeViews(keeping: state.allNodes)
        return t
    }

    /// Drops the views of nodes that left the cluster, once they are as many as the nodes
    /// of the snapshot (so a cluster whose nodes come and go does not keep every view).
    func pruneNodeViews(keeping nodes: [NodeInfo]) {
        guard !nodes.isEmpty, viewGeneration.count > 2 * max(nodes.count, 32) else { return }
        var kept: [String: UInt64] = [:]
        for n in nodes { if let g = viewGeneration[n.name] { kept[n.name] = g } }
        nodeViews = nodeViews.filter { entry in kept[entry.value.info.name] == entry.key }
        viewGeneration = kept
        viewAt = nil
        viewAtGeneration = []
    }

    /// How many node views the plugin keeps.
    public var cachedNodeViews: Int { nodeViews.count }

    /// The cycle's `state` table and pod view, the view converted once per cycle.
    func cycleRefs(_ state: CycleState, _ pod: Pod) throws(LuaError) -> (state: LuaRef, pod: LuaRef) {
        let t = try cycleTable(state)
        if let p = cyclePod { return (t, p) }
        let p = try plugin.state.reference(podView(state, pod))
        cyclePod = p
        return (t, p)
    }

    /// The node's view, converted when the node changed since the last one. Its `pods`
    /// field is built on first use.
    func nodeRef(_ node: NodeInfo) throws(LuaError) -> LuaRef {
        if let c = nodeViews[node.generation] { return c.view }
        let view = try plugin.state.reference(Views.node(node, pods: false), inOneSpan: true)
        if podsIndex == nil {
            let fetch = plugin.state.function { [weak self] args throws(LuaCallbackError) in
                guard let self, let name = args.first?.stringValue, let g = self.viewGeneration[name],
                      let info = self.nodeViews[g]?.info else { return [.nil] }
                return [Views.pods(info)]
            }
            podsIndex = try plugin.lazyIndex(key: "pods", fetch: fetch)
        }
        if let podsIndex { try plugin.state.setLazyField(of: view, key: "pods", index: podsIndex) }
        if let old = viewGeneration.updateValue(node.generation, forKey: node.name) { nodeViews[old] = nil }
        nodeViews[node.generation] = (view, node)
        return view
    }

    /// Calls `filter` or `score` by reference with the cycle's views.
    private func runOnNode(_ hook: NodeHook, _ function: LuaRef, _ state: CycleState, _ pod: Pod,
                           _ node: NodeInfo) -> Result<(LuaValue, LuaValue), HookFailure> {
        do {
            let (st, p) = try cycleRefs(state, pod)
            let n = try nodeRef(node)
            defer { account(hook.name) }
            return .success(try plugin.state.call(function, p, n, st, straightCost: hook.straightCost))
        } catch {
            let msg = plugin.describe(error, hook: hook.name)
            keepTraceback(msg, error)
            fail(msg)
            return .failure(HookFailure(message: msg))
        }
    }

    public var isEnabled: Bool { switchedOff == nil }

    public var hasFilter: Bool { plugin.has("filter") }
    public var hasScore: Bool { plugin.has("score") }

    /// Weight of the score in the profile (`weight` in the plugin table, default 1).
    public var weight: Int64 {
        if let w = plugin.data["weight"]?.intValue, w >= 1, w <= 100 { return w }
        return 1
    }

    /// The pod's view, built once per cycle and shared by every plugin and node.
    func podView(_ state: CycleState, _ pod: Pod) -> LuaValue {
        if let v = state["lua/pod-view"] as? LuaValue { return v }
        let v = Views.pod(pod)
        state["lua/pod-view"] = v
        return v
    }

    func fail(_ message: String) {
        failureCount += 1
        consecutiveFailures += 1
        if failures.count < 100 { failures.append(message) }
        if reported.insert(message).inserted { onFailure?(message) }
        if consecutiveFailures >= maxConsecutiveFailures && switchedOff == nil {
            switchOff("\(plugin.file): switched off after \(consecutiveFailures) failures in a row (last: \(message))")
        }
    }

    /// Runs `hook`. A Lua error is a failure: reported once with file, line and hook, its
    /// traceback kept, and returned as the message.
    func run(_ hook: String, _ state: CycleState, _ args: [LuaValue]) -> Result<[LuaValue], HookFailure> {
        do {
            return .success(try call(hook, state, args))
        } catch {
            let msg = plugin.describe(error, hook: hook)
            keepTraceback(msg, error)
            fail(msg)
            return .failure(HookFailure(message: msg))
        }
    }

    /// A hook returned something it must not: reported as "file: in hook: what", returned.
    func wrongResult(_ hook: String, _ what: String) -> String {
        let msg = "\(plugin.file): in \(hook): \(what)"
        fail(msg)
        return msg
    }

    func keepTraceback(_ message: String, _ error: LuaError) {
        guard tracebacks[message] == nil, tracebacks.count < 20 else { return }
        let tb = plugin.traceback(error)
        if !tb.isEmpty { tracebacks[message] = tb }
    }

    private func switchOff(_ why: String) {
        switchedOff = why
        if failures.count < 100 { failures.append(why) }
        onFailure?(why)
    }

    func succeeded() { consecutiveFailures = 0 }

    public func filter(_ state: CycleState, _ pod: Pod, _ node: NodeInfo) -> Status {
        if let off = switchedOff { return Status(.error, [off], plugin: name) }
        guard let f = filterHook.function else { return .success }
        let outcome = runOnNode(filterHook, f, state, pod, node)
        guard case .success(let results) = outcome else { return Status(.error, [outcome.failure], plugin: name) }
        return filterVerdict(results.0, results.1)
    }

    /// What a filter's results say: true keeps the node, false or nil rejects it with the
    /// second result as the reason; anything else is a wrong result.
    private func filterVerdict(_ first: LuaValue, _ second: LuaValue) -> Status {
        switch first {
        case .boolean(true):
            succeeded()
            return .success
        case .boolean(false), .nil:
            succeeded()
            let reason = second == .nil ? "rejected by \(name)" : (second.stringValue ?? LuaHostText.describe(second))
            return Status(.unschedulable, [reason], plugin: name)
        case let other:
            let msg = wrongResult("filter", "expected true or false, got \(LuaHostText.describe(other))")
            return Status(.error, [msg], plugin: name)
        }
    }

    public func score(_ state: CycleState, _ pod: Pod, _ node: NodeInfo) -> (Int64, Status) {
        if let off = switchedOff { return (0, Status(.error, [off], plugin: name)) }
        guard let f = scoreHook.function else { return (0, Status(.skip, plugin: name)) }
        let outcome = runOnNode(scoreHook, f, state, pod, node)
        guard case .success(let results) = outcome else { return (0, Status(.error, [outcome.failure], plugin: name)) }
        return scoreValue(results.0)
    }

    /// A score's first result as the node's score: a finite number from 0 to 100
    /// (truncated), else a wrong result.
    private func scoreValue(_ v: LuaValue) -> (Int64, Status) {
        let d: Double?
        switch v {
        case .integer(let i): d = Double(i)
        case .number(let x): d = x
        default: d = nil
        }
        guard let score = d, score.isFinite, score >= 0, score <= Double(maxNodeScore) else {
            let msg = wrongResult("score", "expected a number from 0 to 100, got \(LuaHostText.describe(v))")
            return (0, Status(.error, [msg], plugin: name))
        }
        succeeded()
        return (Int64(score), .success)
    }
}

extension LuaSchedulerPlugin: BatchFilterPlugin, BatchScorePlugin {
    /// `filter` over many nodes in one crossing into Lua: each call is still a call of its
    /// own (budgets, failures, the count of failures in a row), in node order.
    public func filter(_ state: CycleState, _ pod: Pod, _ nodes: [NodeInfo], at indices: [Int]) -> [Status] {
        if let off = switchedOff { return Array(repeating: Status(.error, [off], plugin: name), count: indices.count) }
        guard let f = filterHook.function else { return Array(repeating: .success, count: indices.count) }
        return runOnNodes(filterHook, f, filterMemo, state, pod, nodes, indices,
                          failed: { Status(.error, [$0], plugin: name) }, verdict: { self.filterVerdict($0.first, $0.second) })
    }

    /// `score` over many nodes in one crossing into Lua (see the batch `filter`).
    public func score(_ state: CycleState, _ pod: Pod, _ nodes: [NodeInfo], at indices: [Int]) -> [(Int64, Status)] {
        if let off = switchedOff { return Array(repeating: (0, Status(.error, [off], plugin: name)), count: indices.count) }
        guard let f = scoreHook.function else { return Array(repeating: (0, Status(.skip, plugin: name)), count: indices.count) }
        return runOnNodes(scoreHook, f, scoreMemo, state, pod, nodes, indices,
                          failed: { (0, Status(.error, [$0], plugin: name)) }, verdict: { self.scoreValue($0.first) })
    }

    /// Calls a node hook for `nodes[i]`, `i` in `indices`, with `callEach`, and turns each
    /// call's results (or failure) into a verdict, accounting every call as `runOnNode`
    /// does. Once the plugin is switched off, the rest fail with the reason. Results kept in
    /// `memo` are given again where they hold, as if the call had been made.
    private func runOnNodes<V>(_ hook: NodeHook, _ function: LuaRef, _ memo: HookMemo<V>, _ state: CycleState, _ pod: Pod,
                               _ nodes: [NodeInfo], _ indices: [Int], failed: (String) -> V,
                               verdict: (LuaState.EachCall) -> V) -> [V] {
        var out: [V] = []
        out.reserveCapacity(indices.count)
        var spent = HookCost()
        defer { add(spent, to: hook.name) }
        // A kept verdict, given as its call gave it: counted, charged, a success in a row.
        func replayKept(_ i: Int) {
            let (v, instructions) = memo.replay(i)
            spent.calls += 1
            spent.instructions += instructions
            charge(instructions)
            succeeded()
            out.append(v)
        }
        do {
            // Measuring time (`kubelab check`) makes every call: a kept verdict has no time.
            let reusing = reusesVerdicts && !measuresTime
            func classify(_ epoch: Int64) {
                memo.classify(cycle: state.id, pod: { podView(state, pod) }, epoch: epoch) {
                    plugin.state.fieldsRead(by: function, argument: 0)
                }
            }
            // Only verdicts kept at the epoch as it is can be given (a plugin whose calls run
            // on the views keeps none, and its pods are never classified).
            let epoch = plugin.state.codeEpoch
            var (reuse, all): ([UInt8]?, Bool) = (nil, false)
            if reusing && memo.keptEpoch == epoch {
                classify(epoch)
                (reuse, all) = memo.reusable(indices, nodes, epoch: epoch)
            }
            if all {
                // Nothing to call: no views to build or cross to.
                for i in indices {
                    if let off = switchedOff { out.append(failed(off)) } else { replayKept(i) }
                }
                return out
            }
            let (st, p) = try cycleRefs(state, pod)
            if viewAt?.count != nodes.count {
                viewAt = LuaRefArray(of: plugin.state, count: nodes.count)
                viewAtGeneration = Array(repeating: 0, count: nodes.count)
            }
            guard let viewAt else { return out }
            for i in indices {
                // By position first (generations start at 1 and never repeat, so a hit is
                // this node as it is now), then by generation.
                let g = nodes[i].generation
                if viewAtGeneration[i] != g {
                    viewAt[i] = try nodeRef(nodes[i])
                    viewAtGeneration[i] = g
                }
            }
            // The calls `callEach` skipped, before the one it hands over: their kept verdicts.
            var next = 0
            // Calls to keep the verdicts of, once the crossing is over.
            var keep: [(position: Int, epoch: Int64, instructions: Int, verdict: V)] = []
            func replay(upTo end: Int) {
                while next < end {
                    if let off = switchedOff { out.append(failed(off)) } else { replayKept(indices[next]) }
                    next += 1
                }
            }
            try plugin.state.callEach(function, p, viewAt, at: indices, st, straightCost: hook.straightCost,
                                      reuse: reuse, reuseEpoch: epoch) { k, c in
                replay(upTo: k)
                next = k + 1
                if let off = switchedOff { out.append(failed(off)); return }
                let i = indices[k]
                spent.calls += 1
                spent.instructions += c.instructions
                spent.nanoseconds += c.nanoseconds
                charge(c.instructions)
                if let e = c.error {
                    let msg = plugin.describe(e, hook: hook.name)
                    keepTraceback(msg, e)
                    fail(msg)
                    out.append(failed(msg))
                } else {
                    let failures = failureCount
                    let v = verdict(c)
                    if reusing && failureCount == failures && c.onTwins { keep.append((i, c.epoch, c.instructions, v)) }
                    out.append(v)
                }
            }
            replay(upTo: indices.count)
            // Verdicts of calls made since the epoch last moved: the pod is classified (at
            // most once a cycle) now that the state is free again.
            let now = plugin.state.codeEpoch
            if keep.contains(where: { $0.epoch == now }) {
                classify(now)
                memo.size(for: nodes.count)
                if memo.keeping {
                    for k in keep where k.epoch == now {
                        memo.keep(k.position, generation: nodes[k.position].generation, epoch: now, instructions: k.instructions, k.verdict)
                    }
                }
            }
        } catch {
            // Nothing ran for the nodes without a verdict yet (views, or the crossing, failed).
            let msg = plugin.describe(error, hook: hook.name)
            keepTraceback(msg, error)
            while out.count < indices.count {
                fail(msg)
                out.append(failed(msg))
            }
        }
        return out
    }
}

extension LuaSchedulerPlugin: ExtensionPoints, WeightedPlugin {
    /// The extension points the plugin's hooks serve.
    public func extends(_ point: ExtensionPoint) -> Bool {
        switch point {
        case .filter: return hasFilter
        case .score: return hasScore
        case .queueSort: return hasQueueSort
        case .permit: return hasPermit
        case .preFilter: return plugin.has("prefilter")
        case .preScore: return plugin.has("prescore")
        case .postBind: return plugin.has("postbind")
        case .postFilter: return plugin.has("postfilter")
        case .reserve: return plugin.has("reserve") || plugin.has("unreserve")
        case .preBind: return plugin.has("prebind")
        case .bind: return plugin.has("bind")
        case .preEnqueue: return false
        }
    }

    public var defaultWeight: Int64 { weight }
}

extension LuaSchedulerPlugin {
    public var hasQueueSort: Bool { plugin.has("queue_sort") }
    public var hasPermit: Bool { plugin.has("permit") }

    /// `queue_sort(a, b)`: true when pod `a` goes first. A failure, or a result that is not
    /// a boolean, leaves that comparison to the default order (PrioritySort).
    public func less(_ a: Pod, _ b: Pod) -> Bool? {
        guard switchedOff == nil else { return nil }
        let outcome = run("queue_sort", CycleState(), [Views.pod(a), Views.pod(b)])
        guard case .success(let results) = outcome else { return nil }
        guard case .boolean(let r) = results.first ?? .nil else {
            _ = wrongResult("queue_sort", "expected true or false, got \(LuaHostText.describe(results.first ?? .nil))")
            return nil
        }
        succeeded()
        return r
    }

    /// `permit(pod, node, state)`: "allow", or "deny" with a reason. A failure, or any other
    /// result, denies: the pod is not bound this cycle and waits as unschedulable.
    public func permit(_ state: CycleState, _ pod: Pod, nodeName: String) -> Status {
        guard switchedOff == nil else { return .success }
        let outcome = run("permit", state, [podView(state, pod), .string(nodeName)])
        guard case .success(let results) = outcome else { return Status(.error, [outcome.failure], plugin: name) }
        switch results.first ?? .nil {
        case .string("allow"):
            succeeded()
            return .success
        case .string("deny"):
            succeeded()
            let reason = results.count > 1 ? (results[1].stringValue ?? LuaHostText.describe(results[1])) : "denied by \(name)"
            return Status(.unschedulable, [reason], plugin: name)
        case .string("wait"):
            let v = results.count > 1 ? results[1] : .nil
            let seconds: Double? = switch v {
            case .integer(let i): Double(i)
            case .number(let d): d
            default: nil
            }
            guard let s = seconds, s.isFinite, s > 0, s <= 900 else {
                let msg = wrongResult("permit", "\"wait\" needs a number of seconds from 0 to 900 (kube-scheduler's limit), got \(LuaHostText.describe(v))")
                return Status(.error, [msg], plugin: name)
            }
            succeeded()
            var st = Status(.wait, ["waiting"], plugin: name)
            st.waitNanoseconds = Int64(s * 1e9)
            return st
        case let other:
            let msg = wrongResult("permit", "expected \"allow\" or \"deny\", got \(LuaHostText.describe(other))")
            return Status(.error, [msg], plugin: name)
        }
    }
}

extension LuaSchedulerPlugin: ReservePlugin {
    /// `reserve(pod, node_name, state)`: the pod is assumed on the node. nil or true goes
    /// on; `false, "reason"` or a failure rejects the pod (and `unreserve` is called).
    public func reserve(_ state: CycleState, _ pod: Pod, nodeName: String) -> Status {
        guard switchedOff == nil, plugin.has("reserve") else { return .success }
        let outcome = run("reserve", state, [podView(state, pod), .string(nodeName)])
        guard case .success(let results) = outcome else { return Status(.error, [outcome.failure], plugin: name) }
        switch results.first ?? .nil {
        case .nil, .boolean(true):
            succeeded()
            return .success
        case .boolean(false):
            succeeded()
            let reason = results.count > 1 ? (results[1].stringValue ?? LuaHostText.describe(results[1])) : "rejected by \(name)"
            return Status(.unschedulable, [reason], plugin: name)
        case let other:
            let msg = wrongResult("reserve", "expected nil, true or false with a reason, got \(LuaHostText.describe(other))")
            return Status(.error, [msg], plugin: name)
        }
    }

    /// `unreserve(pod, node_name, state)`: a reservation is undone; the result is ignored.
    public func unreserve(_ state: CycleState, _ pod: Pod, nodeName: String) {
        guard switchedOff == nil, plugin.has("unreserve") else { return }
        if case .success = run("unreserve", state, [Views.pod(pod), .string(nodeName)]) { succeeded() }
    }
}

extension LuaSchedulerPlugin: PreFilterPlugin, PreScorePlugin, PostBindPlugin {
    /// `prefilter(pod, state)`: nil or true goes on; `"skip"` skips this plugin's filter for
    /// the cycle; `false, "reason"` makes the pod unschedulable on every node;
    /// `{ nodes = { "n1", ... } }` narrows the nodes worth filtering. A failure rejects
    /// every node with the error as the reason.
    public func runPreFilter(_ state: CycleState, _ pod: Pod, _ nodes: [NodeInfo]) -> (nodeNames: [String]?, status: Status) {
        guard switchedOff == nil, plugin.has("prefilter") else { return (nil, Status(.skip, plugin: name)) }
        let outcome = run("prefilter", state, [podView(state, pod)])
        guard case .success(let results) = outcome else { return (nil, Status(.error, [outcome.failure], plugin: name)) }
        switch results.first ?? .nil {
        case .nil, .boolean(true):
            succeeded()
            return (nil, .success)
        case .string("skip"):
            succeeded()
            return (nil, Status(.skip, plugin: name))
        case .boolean(false):
            succeeded()
            let reason = results.count > 1 ? (results[1].stringValue ?? LuaHostText.describe(results[1])) : "rejected by \(name)"
            return (nil, Status(.unschedulableAndUnresolvable, [reason], plugin: name))
        case .map(let m) where m.keys.allSatisfy({ $0 == "nodes" }):
            if let list = m["nodes"]?.arrayValue, list.allSatisfy({ $0.stringValue != nil }) {
                succeeded()
                return (list.compactMap(\.stringValue), .success)
            }
            fallthrough
        default:
            let msg = wrongResult("prefilter", "expected nil, true, \"skip\", false with a reason, or { nodes = { ... } }, got \(LuaHostText.describe(results.first ?? .nil))")
            return (nil, Status(.error, [msg], plugin: name))
        }
    }

    /// `prescore(pod, nodes, state)` with the feasible nodes' views: nil or true goes on;
    /// `"skip"` leaves this plugin out of the cycle's scoring. A failure scores 0 on every
    /// node.
    public func preScore(_ state: CycleState, _ pod: Pod, _ nodes: FeasibleNodes) -> Status {
        guard switchedOff == nil, plugin.has("prescore") else { return .success }
        // The node views are the ones filter and score get, kept by reference.
        let views: LuaValue
        do {
            views = .view("nodes", .array(try nodes.map { n throws(LuaError) in .function(try nodeRef(n)) }))
        } catch {
            let msg = plugin.describe(error, hook: "prescore")
            fail(msg)
            return Status(.error, [msg], plugin: name)
        }
        let outcome = run("prescore", state, [podView(state, pod), views])
        guard case .success(let results) = outcome else { return Status(.error, [outcome.failure], plugin: name) }
        switch results.first ?? .nil {
        case .nil, .boolean(true):
            succeeded()
            return .success
        case .string("skip"):
            succeeded()
            return Status(.skip, plugin: name)
        case let other:
            let msg = wrongResult("prescore", "expected nil, true or \"skip\", got \(LuaHostText.describe(other))")
            return Status(.error, [msg], plugin: name)
        }
    }

    public var normalizes: Bool { plugin.has("normalize") }

    /// `normalize(pod, scores, state)`: `scores` maps node names to this plugin's raw
    /// scores; return the same map with every score from 0 to 100. A failure, or anything
    /// else, scores 0 on every node.
    public func normalize(_ state: CycleState, _ pod: Pod, _ scores: inout [(node: String, score: Int64)]) -> Status {
        guard switchedOff == nil, plugin.has("normalize") else { return .success }
        var raw: [String: LuaValue] = [:]
        for s in scores { raw[s.node] = .integer(s.score) }
        let outcome = run("normalize", state, [podView(state, pod), .map(raw)])
        guard case .success(let results) = outcome else { return Status(.error, [outcome.failure], plugin: name) }
        guard case .map(let m)? = results.first else {
            let msg = wrongResult("normalize", "expected a table of node name -> score, got \(LuaHostText.describe(results.first ?? .nil))")
            return Status(.error, [msg], plugin: name)
        }
        var out = scores
        for i in out.indices {
            let v = m[out[i].node] ?? .nil
            let d: Double? = switch v {
            case .integer(let x): Double(x)
            case .number(let x): x
            default: nil
            }
            guard let score = d, score.isFinite, score >= 0, score <= Double(maxNodeScore) else {
                let msg = wrongResult("normalize", "the score of \(out[i].node) must be a number from 0 to 100, got \(LuaHostText.describe(v))")
                return Status(.error, [msg], plugin: name)
            }
            out[i].score = Int64(score)
        }
        succeeded()
        scores = out
        return .success
    }

    /// `postbind(pod, node_name)`: told that the pod was bound; its result is ignored and a
    /// failure is only reported.
    public func postBind(_ state: CycleState, _ pod: Pod, nodeName: String) {
        guard switchedOff == nil, plugin.has("postbind") else { return }
        if case .success = run("postbind", state, [Views.pod(pod), .string(nodeName)]) { succeeded() }
    }
}

extension LuaSchedulerPlugin: PreBindPlugin, BindPlugin {
    /// The reason a hook gave with `false` (its second result), or `fallback`.
    private func reason(_ results: [LuaValue], _ fallback: String) -> String {
        results.count > 1 ? (results[1].stringValue ?? LuaHostText.describe(results[1])) : fallback
    }

    /// `prebind(pod, node_name, state)`, in the binding cycle: nil, true or `"skip"` goes
    /// on; `false, "reason"` rejects the pod (it waits as unschedulable); a failure or any
    /// other result fails the binding as an error (the pod is retried after backoff).
    public func preBind(_ state: CycleState, _ pod: Pod, nodeName: String) -> Status {
        guard switchedOff == nil, plugin.has("prebind") else { return .success }
        let outcome = run("prebind", state, [podView(state, pod), .string(nodeName)])
        guard case .success(let results) = outcome else { return Status(.error, [outcome.failure], plugin: name) }
        switch results.first ?? .nil {
        case .nil, .boolean(true), .string("skip"):
            succeeded()
            return .success
        case .boolean(false):
            succeeded()
            return Status(.unschedulable, [reason(results, "rejected by \(name)")], plugin: name)
        case let other:
            let msg = wrongResult("prebind", "expected nil, true, \"skip\" or false with a reason, got \(LuaHostText.describe(other))")
            return Status(.error, [msg], plugin: name)
        }
    }

    /// `bind(pod, node_name, state)`: nil or `"skip"` leaves the pod to the next bind plugin
    /// (DefaultBinder); `true` binds it (the runtime writes the Binding for the plugin);
    /// `false, "reason"`, a failure or any other result fails the binding (the pod is
    /// retried after backoff).
    public func bind(_ state: CycleState, _ pod: Pod, nodeName: String, binder: PodBinder) -> Status {
        guard switchedOff == nil, plugin.has("bind") else { return Status(.skip, plugin: name) }
        let outcome = run("bind", state, [podView(state, pod), .string(nodeName)])
        guard case .success(let results) = outcome else { return Status(.error, [outcome.failure], plugin: name) }
        switch results.first ?? .nil {
        case .nil, .string("skip"):
            succeeded()
            return Status(.skip, plugin: name)
        case .boolean(true):
            succeeded()
            var st = binder(pod, nodeName)
            st.plugin = name
            return st
        case .boolean(false):
            succeeded()
            return Status(.error, [reason(results, "refused by \(name)")], plugin: name)
        case let other:
            let msg = wrongResult("bind", "expected nil, \"skip\", true or false with a reason, got \(LuaHostText.describe(other))")
            return Status(.error, [msg], plugin: name)
        }
    }
}

/// A hook that raised: its report ("file:line: in hook: message").
struct HookFailure: Error {
    let message: String
}

extension Result where Failure == HookFailure {
    /// The failure's message, or "" on success.
    var failure: String {
        if case .failure(let f) = self { return f.message }
        return ""
    }
}

/// Short, safe descriptions of Lua values for error messages.
enum LuaHostText {
    static func describe(_ v: LuaValue) -> String {
        switch v {
        case .nil: return "nil"
        case .boolean(let b): return b ? "true" : "false"
        case .integer(let i): return String(i)
        case .number(let d): return d.isNaN ? "nan" : d.isInfinite ? (d > 0 ? "inf" : "-inf") : String(d)
        case .string(let s): return "the string \"\(s.count > 40 ? String(s.prefix(40)) + "..." : s)\""
        case .array, .map, .view: return "a table"
        case .function: return "a function"
        }
    }
}

extension Framework {
    /// The profile for a Lua scheduler plugin: the built-in filters plus the plugin's
    /// filter; the plugin's score replaces the default scores when it has one (as a
    /// KubeSchedulerConfiguration profile that disables the default Score plugins and
    /// enables the custom one), otherwise the default scores stay.
    public static func profile(with lua: LuaSchedulerPlugin) -> Framework { profile(with: [lua]) }

    /// The profile for several Lua plugins, in order: every plugin's filter runs after the
    /// built-in filters; the plugins' scores, each with its weight, replace the default
    /// scores when at least one plugin has a score.
    public static func profile(with plugins: [LuaSchedulerPlugin]) -> Framework {
        let f = Framework.defaultProfile()
        f.queueSort = plugins.first(where: \.hasQueueSort)
        f.permits = plugins.filter(\.hasPermit)
        for lua in plugins where lua.hasFilter { f.filters.append(lua) }
        let scorers = plugins.filter(\.hasScore)
        if !scorers.isEmpty {
            f.fallbackScores = f.scores
            f.scores = scorers.map { ($0, $0.weight) }
        }
        // The built-ins' PreFilter/PreScore, then the Lua plugins' own hooks.
        f.preFilters = f.filters.compactMap { $0 as? any PreFilterPlugin }.filter { !($0 is LuaSchedulerPlugin) }
            + plugins.filter { $0.plugin.has("prefilter") }
        f.preScores = (f.scores + f.fallbackScores).compactMap { $0.plugin as? any PreScorePlugin }.filter { !($0 is LuaSchedulerPlugin) }
            + plugins.filter { $0.plugin.has("prescore") }
        f.preBinds = plugins.filter { $0.plugin.has("prebind") }
        // Lua binders first; DefaultBinder binds what they skip.
        f.binds = plugins.filter { $0.plugin.has("bind") } as [any BindPlugin] + f.binds
        f.postBinds += plugins.filter { $0.plugin.has("postbind") } as [any PostBindPlugin]
        f.reserves = plugins.filter { $0.plugin.has("reserve") || $0.plugin.has("unreserve") }
        // Lua postfilters are asked first; DefaultPreemption when none of them helps.
        f.postFilters = plugins.filter { $0.plugin.has("postfilter") } as [any PostFilterPlugin] + f.postFilters
        return f
    }
}

extension LuaSchedulerPlugin: PostFilterPlugin {
    /// `postfilter(pod, failures, state)`, after a cycle found no feasible node. `failures`
    /// lists every rejected node in the order examined: `{ node = "n1", code =
    /// "Unschedulable", reasons = { ... } }`. Return nil when the plugin cannot help (the
    /// next PostFilter, DefaultPreemption by default, is asked), `{ node = "n1", victims =
    /// { "ns/name", ... } }` to nominate the pod to n1 and preempt those pods of n1, or
    /// `false, "reason"` to stop: the pod stays unschedulable with the reason. A failure or
    /// a victim that does not run on the node counts as "cannot help".
    public func postFilter(_ state: CycleState, _ pod: Pod, _ failures: [Framework.NodeFailure],
                           _ context: PostFilterContext) -> PostFilterResult {
        let cannotHelp = PostFilterResult(status: Status(.unschedulable, [], plugin: name))
        guard switchedOff == nil, plugin.has("postfilter") else { return cannotHelp }
        let list: LuaValue = .array(failures.map { f in
            .map(["node": .string(f.node), "code": .string(f.status.code.rawValue),
                  "reasons": .array(f.status.reasons.map { .string($0) })])
        })
        let outcome = run("postfilter", state, [podView(state, pod), .view("failures", list)])
        guard case .success(let results) = outcome else { return cannotHelp }
        switch results.first ?? .nil {
        case .nil:
            succeeded()
            return cannotHelp
        case .boolean(false):
            succeeded()
            let reason = results.count > 1 ? (results[1].stringValue ?? LuaHostText.describe(results[1])) : "rejected by \(name)"
            return PostFilterResult(status: Status(.unschedulableAndUnresolvable, [reason], plugin: name))
        case let answer:
            guard let m = answer.mapValue, let node = m["node"]?.stringValue else {
                _ = wrongResult("postfilter", "expected nil, false with a reason, or { node = \"name\", victims = { \"ns/pod\", ... } }, got \(LuaHostText.describe(answer))")
                return cannotHelp
            }
            guard let info = context.nodes.first(where: { $0.name == node }) else {
                _ = wrongResult("postfilter", "no node named \(node) in the cluster")
                return cannotHelp
            }
            let listed = m["victims"] ?? .array([])
            guard let victimList = listed.arrayValue else {
                _ = wrongResult("postfilter", "victims must be an array of \"ns/pod\" names, got \(LuaHostText.describe(listed))")
                return cannotHelp
            }
            var victims: [Pod] = []
            for v in victimList {
                guard let key = v.stringValue,
                      let p = info.pods.first(where: { "\($0.metadata.namespace)/\($0.metadata.name)" == key }) else {
                    _ = wrongResult("postfilter", "victim \(v.stringValue ?? LuaHostText.describe(v)) does not run on node \(node)")
                    return cannotHelp
                }
                victims.append(p)
            }
            succeeded()
            return PostFilterResult(status: Status(.success, [], plugin: name), nominatedNodeName: node, victims: victims)
        }
    }
}
