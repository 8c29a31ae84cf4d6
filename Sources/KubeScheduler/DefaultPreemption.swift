public import KubeAPI

/// kube-scheduler's DefaultPreemption, the default profile's PostFilter plugin: when a pod
/// of some priority fits nowhere, find the node where evicting the fewest and least
/// important lower-priority pods makes it fit, respecting PodDisruptionBudgets where it
/// can.
///
/// The steps, as kube-scheduler v1.35 takes them (Evaluator.Preempt):
/// 1. Eligibility: a pod with `preemptionPolicy: Never` does not preempt; a pod whose
///    nominated node still has lower-priority pods terminating because of preemption
///    waits for them.
/// 2. Candidates: only nodes whose rejection was `unschedulable` (preemption may help).
///    Starting at a random offset, each is dry-run: remove every lower-priority pod; the
///    pod must then pass the filters; then the pods are reprieved (added back while the
///    pod still fits), first those whose eviction would violate a PDB, then the others,
///    most important first. The search stops once it has
///    max(nodes * minCandidateNodesPercentage / 100, minCandidateNodesAbsolute) candidates
///    and at least one of them violates no PDB.
/// 3. Choice (pickOneNodeForPreemption): fewest PDB violations, then the lowest highest
///    victim priority, the smallest sum of victim priorities, the fewest victims, the
///    latest start of the highest-priority victims, and then the first candidate found.
///
/// PDB violations are counted from `status.disruptionsAllowed`, as kube-scheduler counts
/// them: evicting more covered pods than that violates the budget. Violating a budget is
/// allowed as a last resort.
public final class DefaultPreemption: PostFilterPlugin {
    public let name = "DefaultPreemption"
    /// DefaultPreemptionArgs.minCandidateNodesPercentage (0...100, default 10).
    public var minCandidateNodesPercentage: Int
    /// DefaultPreemptionArgs.minCandidateNodesAbsolute (0 or more, default 100).
    public var minCandidateNodesAbsolute: Int

    /// The condition the scheduler puts on each victim before deleting it.
    public static let disruptionTarget = "DisruptionTarget"
    /// The DisruptionTarget reason for a victim of preemption.
    public static let preemptionByScheduler = "PreemptionByScheduler"

    public init(minCandidateNodesPercentage: Int = 10, minCandidateNodesAbsolute: Int = 100) {
        self.minCandidateNodesPercentage = minCandidateNodesPercentage
        self.minCandidateNodesAbsolute = minCandidateNodesAbsolute
    }

    /// A node where preemption would make room, with the pods to evict (most important
    /// first) and how many of them violate a PodDisruptionBudget.
    public struct Candidate: Sendable, Equatable {
        public var node: String
        public var victims: [Pod]
        public var numPDBViolations: Int

        public init(node: String, victims: [Pod], numPDBViolations: Int = 0) {
            self.node = node; self.victims = victims; self.numPDBViolations = numPDBViolations
        }
    }

    // MARK: - PostFilter

    public func postFilter(_ state: CycleState, _ pod: Pod, _ failures: [Framework.NodeFailure], _ context: PostFilterContext) -> PostFilterResult {
        var r = preempt(pod, failures, context)
        // As kube's DefaultPreemption.PostFilter: the message says where it came from.
        if !r.status.reasons.isEmpty { r.status.reasons = ["preemption: " + r.status.message] }
        r.status.plugin = name
        return r
    }

    /// kube's Evaluator.Preempt, without the API calls: the scheduler carries the result out.
    func preempt(_ pod: Pod, _ failures: [Framework.NodeFailure], _ context: PostFilterContext) -> PostFilterResult {
        var statusOf: [String: Status] = [:]
        for f in failures where statusOf[f.node] == nil { statusOf[f.node] = f.status }
        // 1) Eligibility.
        let nominated = pod.status.nominatedNodeName
        let (ok, why) = eligibleToPreemptOthers(pod, nominatedNodeStatus: nominated.isEmpty ? nil : statusOf[nominated],
                                                nodes: context.nodes)
        guard ok else { return PostFilterResult(status: Status(.unschedulable, [why])) }
        // 2) Candidates.
        let nodes = context.nodes
        guard !nodes.isEmpty else { return PostFilterResult(status: Status(.error, ["no nodes available"])) }
        let potential = nodes.indices.filter { statusOf[nodes[$0].name]?.code == .unschedulable }
        var dryRunStatus: [String: Status] = [:]
        var candidates: [Candidate] = []
        var errors: [String] = []
        if !potential.isEmpty {
            let offset = Int(context.random() % UInt64(potential.count))
            (candidates, dryRunStatus) = dryRunPreemption(pod, potential: potential, context: context, offset: offset,
                                                          candidates: numCandidates(potential.count))
            errors = potential.compactMap { dryRunStatus[nodes[$0].name] }.filter { $0.code == .error }.map(\.message)
        }
        if candidates.isEmpty {
            if !errors.isEmpty { return PostFilterResult(status: Status(.error, errors)) }
            // kube's FitError over the dry run's statuses; nodes it did not try are "not helpful".
            let notHelpful = Status(.unschedulableAndUnresolvable, ["Preemption is not helpful for scheduling"])
            let fit = Framework.Result(failures: nodes.map { Framework.NodeFailure(node: $0.name, status: dryRunStatus[$0.name] ?? notHelpful) },
                                       nodeCount: nodes.count)
            return PostFilterResult(status: Status(.unschedulable, [fit.message]), nominatedNodeName: "")
        }
        // 3) The best candidate.
        guard let best = Self.selectCandidate(candidates) else {
            return PostFilterResult(status: Status(.unschedulable, ["no candidate node for preemption"]))
        }
        return PostFilterResult(status: .success, nominatedNodeName: best.node, victims: best.victims)
    }

    /// kube's calculateNumCandidates: how many candidates the dry run looks for among
    /// `numNodes` potential nodes.
    public func numCandidates(_ numNodes: Int) -> Int {
        var n = numNodes * minCandidateNodesPercentage / 100
        if n < minCandidateNodesAbsolute { n = minCandidateNodesAbsolute }
        if n > numNodes { n = numNodes }
        return n
    }

    // MARK: - Eligibility

    /// kube's PodEligibleToPreemptOthers.
    ///
    /// - Parameter nominatedNodeStatus: why this cycle rejected the pod's nominated node
    ///   (nil when it has none or the node was not examined).
    /// - Returns: whether the pod may preempt, and why not.
    public func eligibleToPreemptOthers(_ pod: Pod, nominatedNodeStatus: Status?, nodes: [NodeInfo]) -> (Bool, String) {
        if pod.spec.preemptionPolicy == .never { return (false, "not eligible due to preemptionPolicy=Never.") }
        let nominated = pod.status.nominatedNodeName
        guard !nominated.isEmpty else { return (true, "") }
        // A nominated node that preemption cannot help any more: preempt again elsewhere.
        if nominatedNodeStatus?.code == .unschedulableAndUnresolvable { return (true, "") }
        if let info = nodes.first(where: { $0.name == nominated }),
           info.pods.contains(where: { $0.priority < pod.priority && Self.isTerminatingByPreemption($0) }) {
            return (false, "not eligible due to a terminating pod on the nominated node.")
        }
        return (true, "")
    }

    /// Whether a pod is being deleted because the scheduler preempted it (its
    /// DisruptionTarget condition says PreemptionByScheduler).
    public static func isTerminatingByPreemption(_ p: Pod) -> Bool {
        guard p.isTerminating, let c = p.status.conditions.first(where: { $0.type == disruptionTarget }) else { return false }
        return c.status == "True" && c.reason == preemptionByScheduler
    }

    // MARK: - Dry run

    /// kube's DryRunPreemption, one node after the other from `offset`: the candidates that
    /// violate no PDB first, then the others (each list at most `candidates` long), and the
    /// status of every node that is no candidate.
    public func dryRunPreemption(_ pod: Pod, potential: [Int], context: PostFilterContext, offset: Int,
                                 candidates wanted: Int) -> ([Candidate], [String: Status]) {
        var nonViolating: [Candidate] = []
        var violating: [Candidate] = []
        var statuses: [String: Status] = [:]
        for i in potential.indices {
            let index = potential[(offset + i) % potential.count]
            let name = context.nodes[index].name
            let (victims, violations, status) = selectVictimsOnNode(pod, nodeAt: index, context: context)
            if status.isSuccess && !victims.isEmpty {
                let c = Candidate(node: name, victims: victims, numPDBViolations: violations)
                if violations == 0 {
                    if nonViolating.count < wanted { nonViolating.append(c) }
                } else if violating.count < wanted {
                    violating.append(c)
                }
                if !nonViolating.isEmpty && nonViolating.count + violating.count >= wanted { break }
                continue
            }
            statuses[name] = status.isSuccess
                ? Status(.error, ["expected at least one victim pod on node \"\(name)\""], plugin: self.name) : status
        }
        return (nonViolating + violating, statuses)
    }

    /// kube's SelectVictimsOnNode: the fewest pods of lower priority to remove from
    /// `context.nodes[index]` for `pod` to pass the filters, and how many of them violate a
    /// PodDisruptionBudget.
    public func selectVictimsOnNode(_ pod: Pod, nodeAt index: Int, context: PostFilterContext) -> (victims: [Pod], numPDBViolations: Int, status: Status) {
        var nodes = context.nodes
        let framework = context.framework
        // Every pod of lower priority goes at first.
        var potential = nodes[index].pods.filter { $0.priority < pod.priority }
        guard !potential.isEmpty else {
            return ([], 0, Status(.unschedulableAndUnresolvable, ["No preemption victims found for incoming pod"], plugin: name))
        }
        for v in potential { nodes[index].remove(namespace: v.metadata.namespace, name: v.metadata.name) }
        // Not even without all of them: this node cannot help (kube does not consider
        // affinity to the victims themselves either).
        let without = framework.runFilters(pod, nodeAt: index, of: nodes)
        guard without.isSuccess else { return ([], 0, without) }
        potential = Self.byImportance(potential)
        let (violatingPods, nonViolatingPods) = Self.filterPodsWithPDBViolation(potential, context.pdbs)
        var victims: [Pod] = []
        var violations = 0
        // Reprieve: add the pod back, keep it if the preemptor still fits.
        func reprieve(_ p: Pod) -> Bool {
            nodes[index].add(p)
            if framework.runFilters(pod, nodeAt: index, of: nodes).isSuccess { return true }
            nodes[index].remove(namespace: p.metadata.namespace, name: p.metadata.name)
            victims.append(p)
            return false
        }
        for p in violatingPods where !reprieve(p) { violations += 1 }
        for p in nonViolatingPods { _ = reprieve(p) }
        if !violatingPods.isEmpty && !nonViolatingPods.isEmpty { victims = Self.byImportance(victims) }
        return (victims, violations, .success)
    }

    // MARK: - Ordering

    /// kube's MoreImportantPod: higher priority first; of equal priority, the pod that
    /// started earlier (a pod that has not started counts as starting last).
    public static func moreImportant(_ a: Pod, _ b: Pod) -> Bool {
        if a.priority != b.priority { return a.priority > b.priority }
        return startTime(a) < startTime(b)
    }

    /// `pods` sorted by `moreImportant`, keeping the given order among equals.
    static func byImportance(_ pods: [Pod]) -> [Pod] {
        pods.enumerated().sorted { x, y in
            if moreImportant(x.element, y.element) { return true }
            if moreImportant(y.element, x.element) { return false }
            return x.offset < y.offset
        }.map(\.element)
    }

    /// A pod's start in nanoseconds; a pod that has not started yet counts as "now", later
    /// than every started pod.
    static func startTime(_ p: Pod) -> Int64 { p.status.startTime?.nanoseconds ?? Int64.max }

    /// kube's filterPodsWithPDBViolation: splits `pods` (in order) into those whose
    /// eviction, one after the other, would take a matching budget below zero disruptions
    /// allowed, and the others. A budget matches pods of its namespace that its non-empty
    /// selector selects; pods without labels match none; a pod already in a budget's
    /// `disruptedPods` does not count against it.
    public static func filterPodsWithPDBViolation(_ pods: [Pod], _ pdbs: [PodDisruptionBudget]) -> (violating: [Pod], nonViolating: [Pod]) {
        var allowed = pdbs.map(\.status.disruptionsAllowed)
        var violating: [Pod] = []
        var nonViolating: [Pod] = []
        for p in pods {
            var violated = false
            if !p.metadata.labels.isEmpty {
                for (i, pdb) in pdbs.enumerated() where pdb.metadata.namespace == p.metadata.namespace {
                    guard let selector = pdb.spec.selector, !selector.isEmpty, selector.matches(p.metadata.labels) else { continue }
                    if pdb.status.disruptedPods[p.metadata.name] != nil { continue }
                    allowed[i] -= 1
                    if allowed[i] < 0 { violated = true }
                }
            }
            if violated { violating.append(p) } else { nonViolating.append(p) }
        }
        return (violating, nonViolating)
    }

    // MARK: - Choosing a candidate

    /// kube's SelectCandidate: the only candidate, or `pickOneNodeForPreemption`'s.
    public static func selectCandidate(_ candidates: [Candidate]) -> Candidate? {
        if candidates.count <= 1 { return candidates.first }
        guard let node = pickOneNodeForPreemption(candidates) else { return candidates.first }
        return candidates.first { $0.node == node } ?? candidates.first
    }

    /// kube's pickOneNodeForPreemption over candidates whose victims are sorted most
    /// important first: each criterion keeps the best-scoring nodes and the next one breaks
    /// their tie; the first remaining node wins.
    public static func pickOneNodeForPreemption(_ candidates: [Candidate]) -> String? {
        guard !candidates.isEmpty else { return nil }
        let scores: [(Candidate) -> Int64] = [
            // The fewest PDB violations.
            { -Int64($0.numPDBViolations) },
            // The lowest highest-priority victim.
            { -Int64($0.victims.first?.priority ?? 0) },
            // The smallest sum of priorities, each shifted to be positive (so that a few
            // negative-priority victims do not beat fewer of them).
            { -$0.victims.reduce(Int64(0)) { $0 + Int64($1.priority) + Int64(Int32.max) + 1 } },
            // The fewest victims.
            { -Int64($0.victims.count) },
            // The latest start among the highest-priority victims.
            { earliestStartOfHighestPriority($0.victims) },
        ]
        var remaining = candidates
        for score in scores {
            var best = Int64.min
            var kept: [Candidate] = []
            for c in remaining {
                let s = score(c)
                if s > best { best = s; kept = [] }
                if s == best { kept.append(c) }
            }
            if kept.count == 1 { return kept[0].node }
            remaining = kept
        }
        return remaining.first?.node
    }

    /// kube's GetEarliestPodStartTime: the earliest start among the victims of the highest
    /// priority.
    static func earliestStartOfHighestPriority(_ victims: [Pod]) -> Int64 {
        guard let first = victims.first else { return Int64.min }
        var earliest = startTime(first)
        var top = first.priority
        for p in victims {
            if p.priority == top {
                earliest = min(earliest, startTime(p))
            } else if p.priority > top {
                top = p.priority
                earliest = startTime(p)
            }
        }
        return earliest
    }
}
