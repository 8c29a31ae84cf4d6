public import KubeAPI

// MARK: - The PostFilter extension point

/// PostFilter: runs only when a scheduling cycle found no feasible node, to make the pod
/// schedulable in a later cycle (kube-scheduler's preemption point). It sees why each node
/// was rejected and the cycle's snapshot, and answers with a `PostFilterResult`; it does
/// not write to the cluster itself: the scheduler carries the result out.
///
/// What the result's status does:
/// - `success`: the plugin made room. The scheduler nominates the pod to
///   `nominatedNodeName` (writes `status.nominatedNodeName`), preempts `victims` (marks
///   each with the DisruptionTarget condition and deletes it through the API server),
///   and clears the nomination of lower-priority pods nominated to that node. The pod
///   still waits as unschedulable; the victims' deletion brings it back to activeQ. The
///   next plugins are not asked.
/// - `unschedulable`: this plugin could not help; the next plugin is asked. A non-nil
///   `nominatedNodeName` ("" clears it) is kept as the nomination when no later plugin
///   succeeds.
/// - `unschedulableAndUnresolvable`: stop here; the pod stays unschedulable.
/// - `error`: stop here; the failure is reported and the pod stays unschedulable.
///
/// The status's reasons become the "preemption: ..." part of the pod's FailedScheduling
/// message, as kube-scheduler's FitError prints a PostFilter message.
public protocol PostFilterPlugin: Plugin {
    /// - Parameters:
    ///   - state: a fresh cycle state for this call.
    ///   - pod: the pod that fits nowhere (its latest version).
    ///   - failures: every rejected node with the status that rejected it, in examined
    ///     order (kube's NodeToStatus). A node that is not listed counts as
    ///     `unschedulableAndUnresolvable`.
    ///   - context: the cycle's nodes, the PodDisruptionBudgets, a random stream, and the
    ///     profile (to run its filters on a changed node).
    /// - Returns: what to do; see the protocol's documentation.
    func postFilter(_ state: CycleState, _ pod: Pod, _ failures: [Framework.NodeFailure], _ context: PostFilterContext) -> PostFilterResult
}

/// A PostFilter plugin's answer (kube's PostFilterResult with its NominatingInfo, plus the
/// victims the scheduler must preempt).
public struct PostFilterResult: Sendable {
    /// `success` when the plugin made room; see `PostFilterPlugin` for the other codes.
    public var status: Status
    /// nil leaves the pod's nomination as it is (kube's ModeNoop); "" clears it, a node
    /// name sets it (ModeOverride).
    public var nominatedNodeName: String?
    /// The pods to preempt on `nominatedNodeName`, most important first. Only read when
    /// `status` is `success`.
    public var victims: [Pod]

    public init(status: Status, nominatedNodeName: String? = nil, victims: [Pod] = []) {
        self.status = status; self.nominatedNodeName = nominatedNodeName; self.victims = victims
    }
}

/// What a PostFilter plugin may read and run: kube-scheduler's framework Handle, reduced to
/// what preemption needs.
public struct PostFilterContext {
    /// The profile whose cycle failed: `Framework.runFilters` runs its PreFilter and Filter
    /// plugins on a changed snapshot.
    public let framework: Framework
    /// The cycle's snapshot, in the scheduler's node order. Pods nominated to a node with
    /// at least the pod's priority are counted on it (the scheduler adds them), as
    /// kube-scheduler's filtering with nominated pods does.
    public var nodes: [NodeInfo]
    /// Every PodDisruptionBudget of the cluster, sorted by namespace/name.
    public var pdbs: [PodDisruptionBudget]
    /// A random stream of its own (preemption's candidate offset), so that preemption
    /// does not shift the scheduler's other draws.
    public var random: () -> UInt64

    public init(framework: Framework, nodes: [NodeInfo], pdbs: [PodDisruptionBudget] = [], random: @escaping () -> UInt64) {
        self.framework = framework; self.nodes = nodes; self.pdbs = pdbs; self.random = random
    }
}

extension Framework {
    /// The profile's PostFilter plugins that are switched on.
    public var activePostFilters: [any PostFilterPlugin] { postFilters.filter(\.isEnabled) }

    /// kube-scheduler's RunPostFilterPlugins, after a cycle whose `result` has no feasible
    /// node: the plugins run in order until one succeeds or stops the search.
    ///
    /// - Returns: the first success; otherwise an `unschedulable` status with every plugin's
    ///   reasons and the last nomination a plugin gave (nil: leave it).
    public func runPostFilter(_ pod: Pod, _ result: Result, _ context: PostFilterContext) -> PostFilterResult {
        var nomination: String?
        var reasons: [String] = []
        var rejector = ""
        for p in activePostFilters {
            var r = p.postFilter(CycleState(), pod, result.failures, context)
            if r.status.plugin.isEmpty { r.status.plugin = p.name }
            switch r.status.code {
            case .success:
                return r
            case .unschedulableAndUnresolvable:
                return r
            case .unschedulable:
                if let n = r.nominatedNodeName { nomination = n }
                reasons += r.status.reasons
                if rejector.isEmpty { rejector = p.name }
            default:
                return PostFilterResult(status: Status(.error, r.status.reasons, plugin: p.name))
            }
        }
        return PostFilterResult(status: Status(.unschedulable, reasons, plugin: rejector), nominatedNodeName: nomination)
    }

    /// Runs the profile's PreFilter plugins over `nodes`, then its Filter plugins on
    /// `nodes[index]`, as a scheduling cycle would: for preemption's "would the pod fit if
    /// these pods were gone?" on a changed snapshot.
    ///
    /// - Returns: the first rejection (a PreFilter's, or that of a filter), or `success`.
    public func runFilters(_ pod: Pod, nodeAt index: Int, of nodes: [NodeInfo]) -> Status {
        let state = CycleState()
        state.allNodes = nodes
        let filters = self.filters.filter(\.isEnabled)
        var skipped: Set<ObjectIdentifier> = []
        let preFilters = (self.preFilters ?? filters.compactMap { $0 as? any PreFilterPlugin }).filter(\.isEnabled)
        for pre in preFilters {
            let (names, st) = pre.runPreFilter(state, pod, nodes)
            if st.code == .skip { skipped.insert(ObjectIdentifier(pre)); continue }
            if !st.isSuccess { return Self.named(st, pre.name) }
            if let names, !names.contains(nodes[index].name) {
                return Status(.unschedulableAndUnresolvable, ["node(s) didn't satisfy plugin(s) [\(pre.name)]"], plugin: pre.name)
            }
        }
        for f in filters where !skipped.contains(ObjectIdentifier(f)) {
            let st = f.filter(state, pod, nodes[index])
            if !st.isSuccess { return Self.named(st, f.name) }
        }
        return .success
    }

    private static func named(_ st: Status, _ plugin: String) -> Status {
        var s = st
        if s.plugin.isEmpty { s.plugin = plugin }
        return s
    }

    /// `nodes` with the pods nominated to each node that the pod must leave room for:
    /// those of at least `pod`'s priority, other than `pod` itself (kube-scheduler adds
    /// them before filtering; kubelab keeps them for the whole cycle, so scores see them
    /// too).
    ///
    /// - Parameter nominated: (node, pod) of every nominated pod, in a stable order.
    public static func addingNominatedPods(_ nominated: [(node: String, pod: Pod)], to nodes: [NodeInfo], for pod: Pod) -> [NodeInfo] {
        let relevant = nominated.filter {
            $0.pod.priority >= pod.priority
                && !($0.pod.metadata.namespace == pod.metadata.namespace && $0.pod.metadata.name == pod.metadata.name)
        }
        guard !relevant.isEmpty else { return nodes }
        var out = nodes
        var index: [String: Int] = [:]
        for (i, n) in out.enumerated() { index[n.name] = i }
        for n in relevant {
            guard let i = index[n.node] else { continue }
            var assumed = n.pod
            assumed.spec.nodeName = n.node
            out[i].add(assumed)
        }
        return out
    }
}

/// One pod preempted to make room for another.
public struct Preemption: Sendable, Equatable, Codable {
    /// The evicted pod, "ns/name".
    public var victim: String
    /// The pod it made room for, "ns/name".
    public var preemptor: String
    /// The node it ran on (the preemptor's nominated node).
    public var node: String

    public init(victim: String, preemptor: String, node: String) {
        self.victim = victim; self.preemptor = preemptor; self.node = node
    }
}
