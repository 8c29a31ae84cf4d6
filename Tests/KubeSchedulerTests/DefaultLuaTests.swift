import Testing
import KubeAPI
import KubeScheduler
import LuaPlugins
import LuaHost
import KubeLab

/// plugins/schedulers/default.lua re-implements the default LeastAllocated and
/// BalancedAllocation scores: same raw scores on every node, same placements.
struct DefaultLuaTests {
    /// Nodes of different shapes, some with pods already, so the scores spread widely.
    static let nodes: String = {
        let shapes = [("2", "4Gi"), ("4", "16Gi"), ("8", "8Gi"), ("16", "64Gi"), ("3", "12Gi"), ("6", "20Gi"), ("12", "24Gi")]
        return shapes.enumerated().map { i, s in
            """
            apiVersion: v1
            kind: Node
            metadata: { name: node-\(i + 1) }
            status: { capacity: { cpu: "\(s.0)", memory: \(s.1), pods: "110" } }
            """
        }.joined(separator: "\n---\n")
    }()

    /// Pods with cpu and memory, cpu only, memory only, nothing (non-zero defaults), and two
    /// containers, in a repeating mix.
    static let pods: String = (1...60).map { i in
        let requests: String
        switch i % 6 {
        case 0: requests = "resources: { requests: { cpu: \(100 + 37 * i)m, memory: \(64 + 29 * i)Mi } }"
        case 1: requests = "resources: { requests: { cpu: \(250 * (i % 4 + 1))m } }"
        case 2: requests = "resources: { requests: { memory: \(128 * (i % 5 + 1))Mi } }"
        case 3: requests = "resources: {}"
        case 4: requests = "resources: { requests: { cpu: \"1\", memory: 3Gi } }"
        default: requests = "resources: { requests: { cpu: 333m, memory: 777Mi } }"
        }
        let second = i % 7 == 0 ? ", { name: side, image: busybox }" : ""
        return """
        apiVersion: v1
        kind: Pod
        metadata: { name: p\(i) }
        spec: { containers: [ { name: c, image: nginx, \(requests) }\(second) ] }
        """
    }.joined(separator: "\n---\n")

    static func defaultLua() throws -> [LuaSchedulerPlugin] {
        try LoadedPlugin.loadAll(path: "\(repoRoot)/plugins/schedulers/default.lua", displayPath: "plugins/schedulers/default.lua",
                                 limits: PluginLimits()).map(LuaSchedulerPlugin.init)
    }

    /// The built-in profile with only the two scores (kube's weights 1 and 1).
    static let builtIns = """
    apiVersion: kubescheduler.config.k8s.io/v1
    kind: KubeSchedulerConfiguration
    profiles:
      - schedulerName: default-scheduler
        plugins:
          score:
            disabled: [ { name: "*" } ]
            enabled: [ { name: NodeResourcesFit, weight: 1 }, { name: NodeResourcesBalancedAllocation, weight: 1 } ]
    """

    @Test func theFileIsASetOfTwoScorePlugins() throws {
        let lua = try Self.defaultLua()
        #expect(lua.map(\.name) == ["lua-least-allocated", "lua-balanced-allocation"])
        #expect(lua.map(\.weight) == [1, 1])
        // One Lua state for both: the file's locals are shared.
        #expect(lua[0].plugin.state === lua[1].plugin.state)
    }

    @Test func everyRawScoreEqualsTheBuiltInOnes() throws {
        let workload = try pass(nodes: Self.nodes, pods: Self.pods)
        let config = try SchedulerConfiguration.parse(Self.builtIns, file: "builtins.yaml")
        let native = try workload.explain(luas: [], seed: 7, config: config)
        let lua = try Self.defaultLua()
        let ported = workload.explain(luas: lua, seed: 7)
        #expect(ported.plugin_failures.isEmpty)
        #expect(native.pods.count == 60 && ported.pods.count == 60)
        var compared = 0
        for (n, l) in zip(native.pods, ported.pods) {
            #expect(n.pod == l.pod && n.node == l.node, "\(n.pod): \(n.node ?? "-") vs \(l.node ?? "-")")
            for (nn, ln) in zip(n.nodes, l.nodes) where !nn.scores.isEmpty {
                let fit = nn.scores.first { $0.plugin == "NodeResourcesFit" }?.raw
                let balanced = nn.scores.first { $0.plugin == "NodeResourcesBalancedAllocation" }?.raw
                #expect(ln.scores.first { $0.plugin == "lua-least-allocated" }?.raw == fit, "\(n.pod) on \(nn.node)")
                // BalancedAllocation skipped (a pod without requests) scores 0 either way.
                let luaBalanced = ln.scores.first { $0.plugin == "lua-balanced-allocation" }?.raw ?? 0
                #expect(luaBalanced == (balanced ?? 0), "\(n.pod) on \(nn.node)")
                #expect(nn.total == ln.total)
                compared += 1
            }
        }
        // The comparison covered many distinct scores, not a handful of equal ones.
        #expect(compared > 300)
        let distinct = Set(native.pods.flatMap { $0.nodes.flatMap { $0.scores.map(\.raw) } })
        #expect(distinct.count > 40)
    }

    @Test func placementsEqualTheDefaultProfileOnPlainPods() throws {
        let workload = try pass(nodes: Self.nodes, pods: Self.pods)
        for seed: UInt64 in [1, 2, 3] {
            let native = workload.run(lua: nil, seed: seed)
            let ported = workload.run(luas: try Self.defaultLua(), seed: seed)
            #expect(ported.placements == native.placements, "seed \(seed)")
            #expect(ported.unschedulable == native.unschedulable)
            #expect(ported.plugin_failures.isEmpty)
        }
        // And they are not what another scorer would do.
        let packed = workload.run(plugin: try plugin("plugins/schedulers/binpack.lua"), seed: 1)
        #expect(packed.placements != workload.run(lua: nil, seed: 1).placements)
    }
}
