import Testing
import KubeAPI
@testable import KubeScheduler
import LuaPlugins
import SimCore

/// The built-ins' quick checks (QuickFilter, QuickScore) change the speed of a cycle, never
/// its outcome: cycles with and without them place every pod alike, with the same failures
/// and the same totals, and a quick check only ever passes a node its filter passes.
struct QuickCheckTests {
    static let gi: Int64 = 1 << 30
    static let unschedulableToleration = Toleration(key: "node.kubernetes.io/unschedulable", operator: .exists, effect: .noSchedule)

    /// A cluster with a bit of everything the quick checks look at: cordons, NoSchedule and
    /// PreferNoSchedule taints, images, full nodes, nodes without cpu, extended resources.
    static func cluster(_ rng: inout SplitMix64, count: Int) -> [NodeInfo] {
        (0..<count).map { i in
            var n = Node.make(String(format: "node-%03d", i), cpu: Int64.random(in: 0...8, using: &rng) * 500,
                              memory: Int64.random(in: 1...16, using: &rng) * gi, pods: Int64.random(in: 2...12, using: &rng))
            if Int.random(in: 0..<5, using: &rng) == 0 { n.spec.unschedulable = true }
            if Int.random(in: 0..<5, using: &rng) == 0 { n = n.taint(Taint(key: "dedicated", value: "gpu", effect: .noSchedule)) }
            for k in 0..<Int.random(in: 0...2, using: &rng) where Int.random(in: 0..<3, using: &rng) == 0 {
                n = n.taint(Taint(key: "soft-\(k)", effect: .preferNoSchedule))
            }
            if Int.random(in: 0..<4, using: &rng) == 0 {
                n.status.containerImages = [ContainerImage(names: ["nginx:latest"], sizeBytes: Int64.random(in: 10...900, using: &rng) << 20)]
            }
            if Int.random(in: 0..<6, using: &rng) == 0 { n.status.allocatable["example.com/gpu"] = Quantity(value: 2) }
            return NodeInfo(node: n)
        }
    }

    static func pod(_ i: Int, _ rng: inout SplitMix64, nodes: Int) -> Pod {
        var p = Pod.make(String(format: "pod-%03d", i))
        p.spec.containers[0].image = "nginx"
        switch Int.random(in: 0..<6, using: &rng) {
        case 0: break  // best effort: no requests at all
        case 1: p = p.requests(cpu: Int64.random(in: 1...8, using: &rng) * 250)
        case 2: p = p.requests(cpu: 500, memory: 2 * gi, ["example.com/gpu": 1])
        default: p = p.requests(cpu: Int64.random(in: 1...8, using: &rng) * 250, memory: Int64.random(in: 1...6, using: &rng) * gi)
        }
        if Int.random(in: 0..<5, using: &rng) == 0 { p = p.toleration(Toleration(key: "dedicated", operator: .exists)) }
        if Int.random(in: 0..<5, using: &rng) == 0 { p = p.toleration(Toleration(key: "soft-0", operator: .exists, effect: .preferNoSchedule)) }
        if Int.random(in: 0..<8, using: &rng) == 0 { p = p.toleration(unschedulableToleration) }
        if Int.random(in: 0..<12, using: &rng) == 0 { p = p.node(String(format: "node-%03d", Int.random(in: 0..<nodes, using: &rng))) }
        return p
    }

    /// Schedules `count` pods one after the other with `f`, each bound pod added to its node.
    static func run(_ f: Framework, seed: UInt64, nodes: Int, pods count: Int) -> [Framework.Result] {
        var rng = SplitMix64(seed: seed)
        var infos = cluster(&rng, count: nodes)
        var ties = SplitMix64(seed: seed ^ 0x5eed)
        return (0..<count).map { i in
            let p = pod(i, &rng, nodes: nodes)
            let r = f.schedule(p, nodes: infos) { ties.next() }
            if let n = r.node, let k = infos.firstIndex(where: { $0.name == n }) {
                var bound = p
                bound.spec.nodeName = n
                infos[k].add(bound)
            }
            return r
        }
    }

    /// Six seeds of 240 pods on 150 nodes (a third of the pods cannot be placed by the end):
    /// with quick checks, without, and with `--explain` (which never uses them), every
    /// cycle chooses the same node with the same total and the same failures.
    @Test(arguments: 1...6)
    func quickChecksChangeNoOutcome(seed: UInt64) {
        let quick = Framework.defaultProfile()
        let plain = Framework.defaultProfile()
        plain.quickChecks = false
        let explained = Framework.defaultProfile()
        explained.explain = true
        let a = Self.run(quick, seed: seed, nodes: 150, pods: 240)
        let b = Self.run(plain, seed: seed, nodes: 150, pods: 240)
        let c = Self.run(explained, seed: seed, nodes: 150, pods: 240)
        var placed = 0, failures = 0
        for i in a.indices {
            #expect(a[i].node == b[i].node && a[i].node == c[i].node, "pod \(i)")
            #expect(a[i].total == b[i].total && a[i].total == c[i].total, "pod \(i)")
            #expect(a[i].failures == b[i].failures && a[i].failures == c[i].failures, "pod \(i)")
            #expect(a[i].message == b[i].message, "pod \(i)")
            if a[i].node != nil { placed += 1 }
            failures += a[i].failures.count
        }
        // The workload really mixes both outcomes and many kinds of failure.
        #expect(placed > 60 && placed < 240)
        #expect(failures > 1000)
    }

    /// Pods of one template in a row (a Deployment's replicas) reuse each node's summed
    /// quick scores while the node is unchanged; runs of templates, alternating templates
    /// and nodes filling up still place every pod as the plain cycles do.
    @Test(arguments: 1...3)
    func podsOfOneTemplateGetTheSameOutcome(seed: UInt64) {
        func run(_ f: Framework) -> [Framework.Result] {
            var rng = SplitMix64(seed: seed)
            var infos = Self.cluster(&rng, count: 120)
            var ties = SplitMix64(seed: seed ^ 0x5eed)
            let templates = (0..<3).map {
                Self.pod($0, &rng, nodes: 120).node("").requests(cpu: Int64($0 + 1) * 250, memory: Int64($0 + 1) * Self.gi)
            }
            // 60 of the first template, 60 of the second, then 120 alternating between all three.
            let order = Array(repeating: 0, count: 60) + Array(repeating: 1, count: 60) + (0..<120).map { $0 % 3 }
            return order.enumerated().map { n, t in
                var p = templates[t]
                p.metadata.name = "replica-\(n)"
                let r = f.schedule(p, nodes: infos) { ties.next() }
                if let node = r.node, let k = infos.firstIndex(where: { $0.name == node }) {
                    p.spec.nodeName = node
                    infos[k].add(p)
                }
                return r
            }
        }
        let plain = Framework.defaultProfile()
        plain.quickChecks = false
        let a = run(Framework.defaultProfile()), b = run(plain)
        for i in a.indices {
            #expect(a[i].node == b[i].node && a[i].total == b[i].total && a[i].failures == b[i].failures, "pod \(i)")
        }
        #expect(a.count { $0.node != nil } > 100)
    }

    /// With a Lua filter after the built-in ones (the quick checks then run as one set before
    /// it, chunk by chunk), cycles with and without quick checks also agree, and the Lua
    /// filter is asked about the same nodes.
    @Test(arguments: 1...3)
    func aLuaFilterAfterTheQuickOnesSeesTheSameNodes(seed: UInt64) throws {
        let source = """
        local asked = 0
        return { name = "roomy",
          filter = function(pod, node)
            asked = asked + 1
            if (pod.requests.memory or 0) * 2 > (node.free.memory or 0) then return false, "wants twice its memory" end
            return true
          end,
          score = function(pod, node) return asked % 7 + (node.free.cpu or 0) // 500 end }
        """
        func profile(quick: Bool) throws -> Framework {
            let f = Framework.profile(with: LuaSchedulerPlugin(try LoadedPlugin.load(source: source, file: "roomy.lua")))
            f.quickChecks = quick
            return f
        }
        let a = Self.run(try profile(quick: true), seed: seed, nodes: 150, pods: 200)
        let b = Self.run(try profile(quick: false), seed: seed, nodes: 150, pods: 200)
        var luaRejections = 0
        for i in a.indices {
            #expect(a[i].node == b[i].node && a[i].total == b[i].total && a[i].failures == b[i].failures, "pod \(i)")
            luaRejections += a[i].failures.count { $0.status.plugin == "roomy" }
        }
        #expect(luaRejections > 100)
    }

    /// Every built-in quick filter passes only nodes its plugin's filter passes, and every
    /// quick score equals the plugin's score wherever it applies.
    @Test func quickChecksAgreeWithThePlugins() throws {
        var rng = SplitMix64(seed: 7)
        let nodes = Self.cluster(&rng, count: 120)
        let fit = NodeResourcesFit(), most = NodeResourcesFit(strategy: .mostAllocated, resources: [("cpu", 3), ("memory", 1)])
        let filters: [any QuickFilterPlugin] = [NodeUnschedulable(), NodeName(), TaintToleration(), fit]
        let scores: [any QuickScorePlugin] = [TaintToleration(), fit, most, NodeResourcesBalancedAllocation(), ImageLocality()]
        var passedQuick = 0, scoredQuick = 0, rejected = 0
        for i in 0..<150 {
            let pod = Self.pod(i, &rng, nodes: nodes.count)
            let state = CycleState()
            state.allNodes = nodes
            for f in filters {
                guard let q = f.quickFilter(state, pod) else { continue }
                for n in nodes {
                    let verdict = f.filter(state, pod, n)
                    if n.passes(q) {
                        passedQuick += 1
                        #expect(verdict.isSuccess, "\(f.name) quick-passed \(n.name) for \(pod.metadata.name)")
                    } else if !verdict.isSuccess {
                        rejected += 1
                    }
                }
            }
            for s in scores {
                guard let q = s.quickScore(state, pod) else { continue }
                var raw = [Int64](repeating: -1, count: nodes.count)
                let rest = Set(q.fill(&raw, nodes, Array(nodes.indices)))
                for (j, n) in nodes.enumerated() where !rest.contains(j) {
                    scoredQuick += 1
                    let (expected, st) = s.score(state, pod, n)
                    #expect(st.isSuccess && raw[j] == expected, "\(s.name) on \(n.name) for \(pod.metadata.name): \(raw[j]) != \(expected)")
                }
            }
        }
        #expect(passedQuick > 20_000 && scoredQuick > 20_000 && rejected > 1_000)
    }

    /// A set of quick checks passes a node exactly when each check does.
    @Test func aSetPassesWhatEachCheckPasses() {
        var rng = SplitMix64(seed: 11)
        let nodes = Self.cluster(&rng, count: 200)
        let checks: [QuickFilter] = [.all, .schedulable, .untainted, .room(cpu: 1000, memory: 4 * Self.gi),
                                     .room(cpu: 0, memory: 8 * Self.gi), .room(cpu: 2500, memory: 0)]
        for mask in 0..<(1 << checks.count) {
            let chosen = checks.indices.filter { mask & (1 << $0) != 0 }.map { checks[$0] }
            let set = QuickFilterSet(chosen)
            for n in nodes {
                #expect(n.passes(set) == chosen.allSatisfy { n.passes($0) }, "\(chosen) on \(n.name)")
            }
        }
    }

    /// A filter that has a quick check is asked only about the nodes the check does not pass;
    /// a score with a quick score only about the nodes it does not apply to.
    @Test func pluginsAreAskedOnlyWhereTheQuickCheckCannotTell() {
        final class Counting: QuickFilterPlugin, QuickScorePlugin {
            let name = "Counting"
            var filtered: [String] = [], scored: [String] = []
            func quickFilter(_ state: CycleState, _ pod: Pod) -> QuickFilter? { .schedulable }
            func filter(_ state: CycleState, _ pod: Pod, _ node: NodeInfo) -> Status {
                filtered.append(node.name)
                // Like its quick check, but n3 is welcome although cordoned.
                return node.name == "n3" || !node.unschedulable ? .success : Status(.unschedulable, ["cordoned here"], plugin: name)
            }
            func quickScore(_ state: CycleState, _ pod: Pod) -> QuickScore? { .zeroIfUntainted }
            func score(_ state: CycleState, _ pod: Pod, _ node: NodeInfo) -> (Int64, Status) {
                scored.append(node.name)
                return (node.taints.isEmpty ? 0 : 7, .success)
            }
        }
        let nodes = (0..<8).map { i in
            var n = Node.make("n\(i)", cpu: 4000, memory: 8 * Self.gi)
            n.spec.unschedulable = i == 3 || i == 5
            if i == 6 { n = n.taint(Taint(key: "soft", effect: .preferNoSchedule)) }
            return NodeInfo(node: n)
        }
        let c = Counting()
        let f = Framework(filters: [c], scores: [(c, 1)])
        let r = f.schedule(Pod.make("p").requests(cpu: 100), nodes: nodes) { 0 }
        #expect(c.filtered == ["n3", "n5"])
        #expect(r.failures.map(\.node) == ["n5"] && r.failures.first?.status.plugin == "Counting")
        #expect(c.scored == ["n6"])
        #expect(r.node == "n6" && r.total == 7)
        // Without quick checks the plugin is asked about every node, with the same outcome.
        let c2 = Counting()
        let plain = Framework(filters: [c2], scores: [(c2, 1)])
        plain.quickChecks = false
        let r2 = plain.schedule(Pod.make("p").requests(cpu: 100), nodes: nodes) { 0 }
        #expect(c2.filtered.count == 8 && c2.scored.count == 7)
        #expect(r2.failures.map(\.node) == ["n5"] && r2.node == "n6" && r2.total == 7)
    }

    /// The framework keeps a cycle's plugin lists between cycles: a plugin switched off
    /// between two cycles (its `isEnabled` turned false, for the rest of the run) takes no
    /// part in the next one, its filter nor its score, and a plugin switched off during a
    /// cycle makes the cycle run again without it.
    @Test func aPluginSwitchedOffLeavesTheNextCycles() {
        final class Picky: FilterPlugin, ScorePlugin {
            let name = "Picky"
            var isEnabled = true
            var offAfter = Int.max
            var filtered = 0, scored = 0
            func filter(_ state: CycleState, _ pod: Pod, _ node: NodeInfo) -> Status {
                filtered += 1
                if filtered >= offAfter { isEnabled = false }
                return node.name == "n0" ? .success : Status(.unschedulable, ["not n0"], plugin: name)
            }
            func score(_ state: CycleState, _ pod: Pod, _ node: NodeInfo) -> (Int64, Status) {
                scored += 1
                return (node.name == "n0" ? 100 : 0, .success)
            }
        }
        let nodes = (0..<4).map { NodeInfo(node: Node.make("n\($0)", cpu: 4000, memory: 8 * Self.gi)) }
        let picky = Picky()
        let f = Framework(filters: Framework.defaultFilters() + [picky], scores: [(picky, 1)])
        f.fallbackScores = Framework.defaultProfile().scores
        #expect(f.schedule(Pod.make("p1").requests(cpu: 100), nodes: nodes) { 0 }.node == "n0")
        #expect(f.schedule(Pod.make("p2").requests(cpu: 100), nodes: nodes) { 0 }.failures.count == 3)
        let (filtered, scored) = (picky.filtered, picky.scored)
        picky.isEnabled = false
        // Without Picky every node is feasible, and the default scores (the fallback) pick.
        let r = f.schedule(Pod.make("p3").requests(cpu: 100), nodes: nodes) { 0 }
        #expect(r.failures.isEmpty && r.node != nil)
        #expect(picky.filtered == filtered && picky.scored == scored)
        // Switched off during a cycle: that cycle runs again without it.
        let picky2 = Picky()
        let g = Framework(filters: Framework.defaultFilters() + [picky2], scores: [(picky2, 1)])
        g.fallbackScores = Framework.defaultProfile().scores
        #expect(g.schedule(Pod.make("q1").requests(cpu: 100), nodes: nodes) { 0 }.node == "n0")
        picky2.offAfter = picky2.filtered + 2
        let r2 = g.schedule(Pod.make("q2").requests(cpu: 100), nodes: nodes) { 0 }
        #expect(r2.failures.isEmpty && r2.node != nil && !picky2.isEnabled)
    }

    /// InterPodAffinity looks for existing pods with affinity terms only while some node holds
    /// one; a node that does makes the scan happen, and an anti-affinity pod is honoured.
    @Test func anExistingAntiAffinityPodIsSeen() {
        var nodes = [NodeInfo(node: Node.make("a", cpu: 4000, memory: 8 * Self.gi).labels(["kubernetes.io/hostname": "a"])),
                     NodeInfo(node: Node.make("b", cpu: 4000, memory: 8 * Self.gi).labels(["kubernetes.io/hostname": "b"]))]
        var guarded = Pod.make("guard").labels(["app": "guard"])
        guarded.spec.nodeName = "a"
        guarded.spec.affinity = Affinity(podAntiAffinity: PodAffinity(required: [
            PodAffinityTerm(labelSelector: LabelSelector(matchLabels: ["app": "web"]), topologyKey: "kubernetes.io/hostname"),
        ]))
        nodes[0].add(guarded)
        #expect(NodeInfo.anyHoldsAffinityPods)
        let f = Framework.defaultProfile()
        for i in 0..<4 {
            let r = f.schedule(Pod.make("web-\(i)").labels(["app": "web"]), nodes: nodes) { 0 }
            #expect(r.node == "b")
        }
    }

    /// A NodeInfo carries a copy of what the quick checks read; every change refreshes it,
    /// and a changed copy of a NodeInfo leaves the original as it was.
    @Test func theCopiedFieldsFollowEveryChange() {
        func agrees(_ n: NodeInfo) -> Bool {
            let h = n.hot
            return h.freeCPU == n.free.milliCPU && h.freeMemory == n.free.memory
                && h.podCount == n.pods.count && h.allowedPodNumber == n.allowedPodNumber
                && h.unschedulable == n.node.spec.unschedulable && h.hasTaints == !n.taints.isEmpty
                && h.hasImages == !n.node.status.containerImages.isEmpty
        }
        var n = NodeInfo(node: Node.make("n1", cpu: 2000, memory: 4 * Self.gi, pods: 3))
        #expect(agrees(n))
        let original = n
        var generations: Set<UInt64> = [n.generation]
        n.add(Pod.make("a").requests(cpu: 500, memory: Self.gi))
        #expect(agrees(n) && n.hot.freeCPU == 1500 && n.podCount == 1)
        #expect(generations.insert(n.generation).inserted)
        #expect(agrees(original) && original.podCount == 0 && original.hot.freeCPU == 2000)
        var cordoned = Node.make("n1", cpu: 2000, memory: 4 * Self.gi, pods: 3).taint(Taint(key: "k", effect: .noSchedule))
        cordoned.spec.unschedulable = true
        cordoned.status.containerImages = [ContainerImage(names: ["nginx"], sizeBytes: 1 << 20)]
        n.setNode(cordoned)
        #expect(agrees(n) && n.unschedulable && n.hot.hasTaints && n.hot.hasImages)
        #expect(generations.insert(n.generation).inserted)
        n.allocatable = Resources(cordoned.status.allocatable)
        n.allowedPodNumber = 1
        #expect(agrees(n) && !n.passes(QuickFilterSet(.room(cpu: 1, memory: 0))))
        #expect(generations.insert(n.generation).inserted)
        let removed = n.remove(namespace: "default", name: "a")
        #expect(removed && agrees(n) && n.podCount == 0 && n.hot.freeCPU == 2000)
        #expect(generations.insert(n.generation).inserted)
    }
}
