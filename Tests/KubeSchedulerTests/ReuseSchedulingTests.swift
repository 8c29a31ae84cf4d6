import Foundation
import Testing
import KubeAPI
import LuaPlugins
import LuaHost
import KubeLab

/// A Lua plugin's kept verdicts (`LuaSchedulerPlugin.reusesVerdicts`) change nothing: every
/// pass places, refuses and explains exactly as the same plugin making every call.
struct ReuseSchedulingTests {
    /// Ten nodes in two zones, some with GPUs and one tainted; pods of three templates
    /// interleaved (web, db, train with a GPU), so that kept verdicts are reused by the next
    /// pod of a template, and must not be by a pod of another.
    static func workload() throws -> SchedulePass {
        let nodes = (1...10).map { i in
            """
            apiVersion: v1
            kind: Node
            metadata: { name: node-\(i), labels: { zone: \(i % 2 == 0 ? "a" : "b")\(i > 7 ? ", gpu: \"true\"" : "") } }
            spec: { taints: [\(i == 5 ? "{ key: maintenance, effect: NoSchedule }" : "")] }
            status: { capacity: { cpu: "\(i % 3 + 2)", memory: \(4 * (i % 2 + 1))Gi, pods: "110", nvidia.com/gpu: "\(i > 7 ? 2 : 0)" } }
            """
        }.joined(separator: "\n---\n")
        let pods = (1...36).map { i in
            let kind = ["web", "db", "web", "train"][i % 4]
            let requests = kind == "web" ? "{ cpu: 500m, memory: 512Mi }"
                : kind == "db" ? "{ cpu: \"1\", memory: 2Gi }" : "{ cpu: \"1\", memory: 1Gi, nvidia.com/gpu: \"1\" }"
            return """
            apiVersion: v1
            kind: Pod
            metadata: { name: \(kind)-\(i), labels: { app: \(kind) } }
            spec:
              containers:
              - name: c
                image: nginx
                resources: { requests: \(requests) }
            """
        }.joined(separator: "\n---\n")
        return try pass(nodes: nodes, pods: pods)
    }

    /// The pass with the plugin, verdicts reused or not, and how many were.
    static func run(_ source: String, _ file: String, reuse: Bool, explain: Bool = false) throws -> (SchedulePass.Output, Int) {
        let lua = LuaSchedulerPlugin(try LoadedPlugin.load(source: source, file: file))
        lua.reusesVerdicts = reuse
        let out = try workload().run(lua: lua, seed: 3)
        return (out, lua.reusedResults)
    }

    static func expectSame(_ source: String, _ file: String, reused: (Int) -> Bool,
                           sourceLocation: SourceLocation = #_sourceLocation) throws {
        let (a, n) = try run(source, file, reuse: true)
        let (b, m) = try run(source, file, reuse: false)
        #expect(a.order == b.order, sourceLocation: sourceLocation)
        #expect(a.placements == b.placements, sourceLocation: sourceLocation)
        #expect(a.unschedulable == b.unschedulable, sourceLocation: sourceLocation)
        #expect(a.plugin_failures == b.plugin_failures, sourceLocation: sourceLocation)
        #expect(a.placements.values.contains { $0 != nil }, sourceLocation: sourceLocation)
        #expect(m == 0, sourceLocation: sourceLocation)
        #expect(reused(n), "\(file): \(n) verdicts reused", sourceLocation: sourceLocation)
    }

    @Test func shippedPluginsPlaceAsWithEveryCallMade() throws {
        for name in ["binpack", "spread", "gpu-aware"] {
            let source = try String(contentsOfFile: "\(repoRoot)/plugins/schedulers/\(name).lua", encoding: .utf8)
            // spread's helper loops over the node's pods: its calls run on the views, and
            // each moves the epoch, so none is kept.
            try Self.expectSame(source, "\(name).lua", reused: { name == "spread" ? $0 == 0 : $0 > 0 })
        }
        // The plugin of the twin tests: a filter with reasons, a score with a helper.
        try Self.expectSame(TwinSchedulingTests.source, "zone-binpack.lua", reused: { $0 > 0 })
    }

    /// A score that reads the pod's name gives each pod a class of its own; after eight
    /// such pods in a row nothing more is kept.
    @Test func aHookThatReadsTheNameReusesNothingAcrossPods() throws {
        let source = """
        return {
          name = 'by-name',
          filter = function(pod, node) return #pod.name + node.free.cpu // 1000 > 5, 'short name' end,
          score = function(pod, node) return (#pod.name * 7 + #node.name) % 101 end,
        }
        """
        try Self.expectSame(source, "by-name.lua", reused: { $0 == 0 })
        let lua = LuaSchedulerPlugin(try LoadedPlugin.load(source: source, file: "by-name.lua"))
        _ = try Self.workload().run(lua: lua, seed: 3)
        let calls = lua.costs.values.map(\.calls).reduce(0, +)
        // 36 pods, 10 nodes, two hooks: the first eight pods' calls at most are kept.
        #expect(lua.keptResults > 0 && lua.keptResults <= 8 * 10 * 2, "\(lua.keptResults) kept of \(calls)")
    }

    /// Code that runs outside a call on twins (here a PreScore that counts cycles in an
    /// upvalue the score reads) moves the state's epoch: nothing kept before it is reused.
    @Test func otherHooksThatRunEndReuse() throws {
        let source = """
        local cycles = 0
        return {
          name = 'counting',
          prescore = function(pod, nodes, state) cycles = cycles + 1 end,
          score = function(pod, node) return (cycles * 13 + node.free.cpu // 100) % 101 end,
        }
        """
        try Self.expectSame(source, "counting.lua", reused: { $0 == 0 })
    }

    /// A score that sometimes calls what twins may not (table.insert: it runs again on the
    /// views and writes) and otherwise reads what that wrote: a write moves the epoch, so no
    /// verdict kept before it is reused (the order within a batch: LuaHostTests' Reuse).
    @Test func aCallOnTheViewsEndsReuse() throws {
        let source = """
        local log = {}
        return {
          name = 'logging',
          score = function(pod, node)
            if node.labels.zone == 'a' and pod.requests.cpu > 600 then table.insert(log, 1) end
            return (#log + node.free.cpu // 100) % 101
          end,
        }
        """
        try Self.expectSame(source, "logging.lua", reused: { $0 > 0 })
    }

    /// `--explain` shows the same verdicts and scores.
    @Test func explanationsAreTheSame() throws {
        let source = try String(contentsOfFile: "\(repoRoot)/plugins/schedulers/binpack.lua", encoding: .utf8)
        func explained(_ reuse: Bool) throws -> (String, Int) {
            let lua = LuaSchedulerPlugin(try LoadedPlugin.load(source: source, file: "binpack.lua"))
            lua.reusesVerdicts = reuse
            let out = try Self.workload().explain(luas: [lua], seed: 3)
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            return (try String(decoding: encoder.encode(out.pods), as: UTF8.self), lua.reusedResults)
        }
        let (a, n) = try explained(true)
        let (b, _) = try explained(false)
        #expect(a == b && n > 0)
    }
}

extension ReuseSchedulingTests {
    /// Two templates scheduled in turn (web, db, web, db, ...) on nodes with room for all:
    /// each pod finds the verdicts kept for the last pod of its own template.
    @Test func templatesInTurnEachFindTheirOwnVerdicts() throws {
        let pods = (1...40).map { i in
            let web = i % 2 == 0
            return """
            apiVersion: v1
            kind: Pod
            metadata: { name: \(web ? "web" : "db")-\(i), labels: { app: \(web ? "web" : "db") } }
            spec:
              containers:
              - name: c
                image: nginx
                resources: { requests: { cpu: \(web ? "100m" : "200m"), memory: \(web ? "128Mi" : "256Mi") } }
            """
        }.joined(separator: "\n---\n")
        let workload = try pass(nodes: nodesYAML(20, cpu: "8", memory: "32Gi"), pods: pods)
        let source = try String(contentsOfFile: "\(repoRoot)/plugins/schedulers/binpack.lua", encoding: .utf8)
        var outputs: [SchedulePass.Output] = []
        var reused: [Int] = []
        var calls = 0
        for reuse in [true, false] {
            let lua = LuaSchedulerPlugin(try LoadedPlugin.load(source: source, file: "binpack.lua"))
            lua.reusesVerdicts = reuse
            outputs.append(workload.run(lua: lua, seed: 5))
            reused.append(lua.reusedResults)
            calls = lua.costs.values.map(\.calls).reduce(0, +)
        }
        #expect(outputs[0].placements == outputs[1].placements && outputs[0].order == outputs[1].order)
        // 40 pods x 20 nodes x 2 hooks: all but the first pod of each template reuse the
        // verdicts on every node but those pods since landed on (722 of 800; with one
        // class kept per node, none).
        #expect(reused[0] * 10 > calls * 8, "\(reused[0]) of \(calls)")
        #expect(reused[1] == 0)
    }
}
