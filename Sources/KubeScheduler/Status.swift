public import KubeAPI

/// The result code of a plugin, with kube-scheduler's names and meaning.
public enum Code: String, Sendable, Equatable {
    /// The plugin ran and the pod may proceed.
    case success = "Success"
    /// An internal error: the pod is retried with backoff; the node is rejected.
    case error = "Error"
    /// The pod does not fit this node now; preemption may help.
    case unschedulable = "Unschedulable"
    /// The pod cannot fit this node and preemption would not help.
    case unschedulableAndUnresolvable = "UnschedulableAndUnresolvable"
    /// Permit: the pod waits.
    case wait = "Wait"
    /// The plugin does not apply to this pod.
    case skip = "Skip"
}

/// A plugin's verdict: expected outcomes are values, not thrown errors.
///
/// A status without reasons, plugin or wait (a plain success, most of what a scheduling
/// cycle produces) carries no heap storage: passing it around costs no reference counting.
public struct Status: Sendable, Equatable {
    public var code: Code
    /// The reasons, plugin and wait, when any is set; copied on write.
    private var detail: Detail?

    private final class Detail: Sendable {
        let reasons: [String]
        let plugin: String
        let waitNanoseconds: Int64
        init(_ reasons: [String], _ plugin: String, _ waitNanoseconds: Int64) {
            self.reasons = reasons; self.plugin = plugin; self.waitNanoseconds = waitNanoseconds
        }
    }

    public var reasons: [String] {
        get { detail?.reasons ?? [] }
        set { set(newValue, plugin, waitNanoseconds) }
    }
    /// The plugin that produced the status.
    public var plugin: String {
        get { detail?.plugin ?? "" }
        set { set(reasons, newValue, waitNanoseconds) }
    }
    /// Permit's `wait`: how long the pod may wait, in nanoseconds of virtual time.
    public var waitNanoseconds: Int64 {
        get { detail?.waitNanoseconds ?? 0 }
        set { set(reasons, plugin, newValue) }
    }

    private mutating func set(_ reasons: [String], _ plugin: String, _ wait: Int64) {
        detail = reasons.isEmpty && plugin.isEmpty && wait == 0 ? nil : Detail(reasons, plugin, wait)
    }

    public init(_ code: Code = .success, _ reasons: [String] = [], plugin: String = "") {
        self.code = code
        if !reasons.isEmpty || !plugin.isEmpty { detail = Detail(reasons, plugin, 0) }
    }

    public static func == (a: Status, b: Status) -> Bool {
        a.code == b.code && (a.detail === b.detail
            || (a.reasons == b.reasons && a.plugin == b.plugin && a.waitNanoseconds == b.waitNanoseconds))
    }

    public static let success = Status(.success)
    public var isSuccess: Bool { code == .success || code == .skip }
    /// The reasons joined, as kube-scheduler prints them.
    public var message: String { reasons.joined(separator: ", ") }
}

/// Per-cycle scratch space shared by the hooks of one scheduling cycle.
public final class CycleState {
    private var values: [String: Any] = [:]
    /// Different for every cycle state of the process (for per-cycle caches in plugins).
    public let id = NodeInfo.nextGeneration()
    /// Every node of the cycle's snapshot (kube-scheduler's SnapshotSharedLister), for
    /// plugins that count over the whole cluster.
    public var allNodes: [NodeInfo] = []
    public init() {}
    public subscript(key: String) -> Any? {
        get { values[key] }
        set { values[key] = newValue }
    }
}

/// A value a plugin computes once per scheduling cycle (what kube-scheduler's plugins keep
/// in CycleState under their own key), without a keyed lookup for every node.
final class PerCycle<T> {
    private var cycle: UInt64 = 0
    private var value: T?

    func callAsFunction(_ state: CycleState, _ make: () -> T) -> T {
        if cycle == state.id, let value { return value }
        let v = make()
        value = v
        cycle = state.id
        return v
    }
}

/// The maximum score a Score plugin may return (kube's MaxNodeScore).
public let maxNodeScore: Int64 = 100
