public import KubeAPI

/// TaintToleration, as kube-scheduler v1.35 runs it (feature gate
/// TaintTolerationComparisonOperators off, its default: kubelab's tolerations have no
/// Gt/Lt operators, so they never match).
///
/// - Filter: every NoSchedule and NoExecute taint of the node must be tolerated by one of
///   the pod's tolerations; otherwise UnschedulableAndUnresolvable "node(s) had untolerated
///   taint(s)".
/// - Score: the number of the node's PreferNoSchedule taints that the pod does not
///   tolerate, counting only tolerations whose effect is empty or PreferNoSchedule.
/// - NormalizeScore (reversed): with M the largest raw score, 100 − 100·raw / M, or 100 for
///   every node when M is 0.
public final class TaintToleration: FilterPlugin, ScorePlugin {
    public let name = "TaintToleration"

    /// kube-scheduler's filter reason.
    public static let errReasonNotMatch = "node(s) had untolerated taint(s)"

    public init() {}

    // MARK: - Filter

    public func filter(_ state: CycleState, _ pod: Pod, _ node: NodeInfo) -> Status {
        for taint in node.taints where taint.effect == .noSchedule || taint.effect == .noExecute {
            if !pod.spec.tolerations.contains(where: { $0.tolerates(taint) }) {
                return Status(.unschedulableAndUnresolvable, [Self.errReasonNotMatch], plugin: name)
            }
        }
        return .success
    }

    // MARK: - Score

    /// The pod's tolerations that can tolerate a PreferNoSchedule taint (effect empty or
    /// PreferNoSchedule), kept in the cycle state as kube-scheduler's PreScore does.
    private func preferNoScheduleTolerations(_ state: CycleState, _ pod: Pod) -> [Toleration] {
        cached(state) { pod.spec.tolerations.filter { $0.effect == nil || $0.effect == .preferNoSchedule } }
    }
    private let cached = PerCycle<[Toleration]>()

    /// The raw score: how many PreferNoSchedule taints of the node the pod does not tolerate.
    public func score(_ state: CycleState, _ pod: Pod, _ node: NodeInfo) -> (Int64, Status) {
        if node.taints.isEmpty { return (0, .success) }
        let tolerations = preferNoScheduleTolerations(state, pod)
        var intolerable: Int64 = 0
        for taint in node.taints where taint.effect == .preferNoSchedule {
            if !tolerations.contains(where: { $0.tolerates(taint) }) { intolerable += 1 }
        }
        return (intolerable, .success)
    }

    public var normalizes: Bool { true }

    /// Reverse normalization: fewer intolerable taints score higher.
    public func normalize(_ state: CycleState, _ pod: Pod, _ scores: inout [(node: String, score: Int64)]) -> Status {
        PluginHelper.defaultNormalizeScore(maxNodeScore, reverse: true, &scores)
        return .success
    }
}

extension TaintToleration: QuickFilterPlugin, QuickScorePlugin {
    /// A node without taints passes.
    public func quickFilter(_ state: CycleState, _ pod: Pod) -> QuickFilter? { .untainted }

    /// A node without taints scores 0.
    public func quickScore(_ state: CycleState, _ pod: Pod) -> QuickScore? { .zeroIfUntainted }

    /// The reverse normalization looks at the scores alone.
    public func normalizeScores(_ state: CycleState, _ pod: Pod, _ scores: inout [Int64]) -> Status? {
        PluginHelper.defaultNormalizeScore(maxNodeScore, reverse: true, &scores)
        return .success
    }
}
