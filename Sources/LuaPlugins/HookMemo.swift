import LuaHost
import KubeScheduler

/// The verdicts of a `filter` or `score` hook kept per node position, so that the next pod
/// of the same template costs a lookup per node instead of a call, as the built-in scores'
/// memo does (Framework's score phase).
///
/// A call that ran on twins changed nothing: its results follow from its arguments and from
/// values no code has changed since (the state's code epoch stands). So a kept verdict is
/// given again when
/// - the node is as it was (same generation: its view is the same),
/// - the pod agrees with the pod of the kept call on every field the hook can read (its
///   *class*; the fields come from the hook's bytecode, `LuaState.fieldsRead`),
/// - and the code epoch is the one the call returned in.
/// `LuaState.callEach` checks the epoch again before each call it skips, so a call that
/// runs other code (and moves the epoch) turns the rest of the batch into real calls.
///
/// The last `ways` classes are remembered, and each node keeps a verdict for each of them
/// (slot `class % ways`), so pods of a few templates scheduled in turn (several
/// Deployments at once) each find their own.
final class HookMemo<Verdict> {
    static var ways: Int { 4 }
    /// Per node position and way (`position * ways + class % ways`): the node's generation,
    /// the pod class and the epoch of the kept call (epoch -1: nothing kept), its verdict
    /// and the instructions it spent.
    private var generation: [UInt64] = []
    private var podClassAt: [UInt64] = []
    private var epochAt: [Int64] = []
    private var verdicts: [Verdict?] = []
    private var instructions: [Int] = []
    private var positions = 0
    /// The fields the hook can read of its pod, as found at `fieldsEpoch` (nil: any field).
    private var fields: [String]?
    private var fieldsEpoch: Int64 = -1
    /// The last classes: the values of `fields` their pods have, and their numbers (the
    /// most recent last). Emptied when the fields found change.
    private var recent: [(values: [LuaValue?], id: UInt64)] = []
    private var classes: UInt64 = 0
    private var classCycle: UInt64 = 0
    /// The class of the pod of cycle `classCycle`; nil when its verdicts cannot be reused.
    private(set) var podClass: UInt64?
    /// Calls whose kept verdicts were given again, and verdicts kept.
    var reused = 0
    private(set) var kept = 0
    /// The epoch of the last verdict kept: while the state's epoch is another, none holds.
    private(set) var keptEpoch: Int64 = -1
    /// Pods in a row whose class was new. Past `maxFresh` no verdict is kept (a hook that
    /// reads the pod's name gives every pod a class of its own) until a class comes back.
    private var fresh = 0
    static var maxFresh: Int { 8 }
    /// Whether verdicts are worth keeping for this cycle's pod.
    var keeping: Bool { podClass != nil && fresh <= Self.maxFresh }

    /// Sets the pod class for the cycle `cycle` (once per cycle): the class of a recent pod
    /// that agrees with this one on every field the hook reads, else a new one.
    func classify(cycle: UInt64, pod: () -> LuaValue, epoch: Int64, fieldsRead: () -> [String]?) {
        guard classCycle != cycle else { return }
        classCycle = cycle
        if fieldsEpoch != epoch {
            let found = fieldsRead()
            // Classes stand for the values of certain fields: other fields, other classes.
            if found != fields || fieldsEpoch < 0 { recent = [] }
            fields = found
            fieldsEpoch = epoch
        }
        guard let fields, case .view(_, .map(let values)) = pod() else {
            podClass = nil
            return
        }
        let key = fields.map { values[$0] }
        if let k = recent.lastIndex(where: { $0.values == key }) {
            podClass = recent[k].id
            recent.append(recent.remove(at: k))
            fresh = 0
            return
        }
        fresh += 1
        classes += 1
        recent.append((key, classes))
        if recent.count > Self.ways { recent.removeFirst() }
        podClass = classes
    }

    private func slot(_ i: Int, _ podClass: UInt64) -> Int { i * Self.ways + Int(podClass % UInt64(Self.ways)) }

    /// Room for `count` node positions (a node list of another length: nothing kept).
    func size(for count: Int) {
        guard positions != count else { return }
        positions = count
        let n = positions * Self.ways
        generation = Array(repeating: 0, count: n)
        podClassAt = generation
        epochAt = Array(repeating: -1, count: n)
        verdicts = Array(repeating: nil, count: n)
        instructions = Array(repeating: 0, count: n)
    }

    /// The reuse flags for the nodes at `indices` (nil when none can be reused), and whether
    /// every one can.
    func reusable(_ indices: [Int], _ nodes: [NodeInfo], epoch: Int64) -> (flags: [UInt8]?, all: Bool) {
        size(for: nodes.count)
        guard let podClass else { return (nil, false) }
        var found = 0
        let flags = indices.map { i -> UInt8 in
            let s = slot(i, podClass)
            guard epochAt[s] == epoch, podClassAt[s] == podClass, generation[s] == nodes[i].generation else { return 0 }
            found += 1
            return 1
        }
        return (found > 0 ? flags : nil, found == indices.count)
    }

    /// The kept verdict at node position `i` for this cycle's class (one `reusable`
    /// flagged) and the instructions its call spent.
    func replay(_ i: Int) -> (verdict: Verdict, instructions: Int) {
        reused += 1
        let s = slot(i, podClass!)
        return (verdicts[s]!, instructions[s])
    }

    /// Keeps the verdict of a call that ran on twins and returned at `epoch` (a plain
    /// verdict: a failure is reported as it happens, never kept).
    func keep(_ i: Int, generation g: UInt64, epoch: Int64, instructions spent: Int, _ verdict: Verdict) {
        guard keeping, let podClass, i < positions else { return }
        let s = slot(i, podClass)
        generation[s] = g
        podClassAt[s] = podClass
        epochAt[s] = epoch
        keptEpoch = epoch
        verdicts[s] = verdict
        instructions[s] = spent
        kept += 1
    }
}
