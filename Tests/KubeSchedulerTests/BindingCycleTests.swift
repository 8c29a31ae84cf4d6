import Testing
import SimCore
import KubeAPI
import KubeScheduler
import LuaPlugins
import LuaHost
import KubeLab

/// Native plugins that record what the binding cycle asked them.
final class RecordingBindingPlugin: PreBindPlugin, BindPlugin, ReservePlugin {
    let name: String
    var preBindAnswer: Status
    var bindAnswer: Status
    var calls: [String] = []
    init(_ name: String, preBind: Status = .success, bind: Status = Status(.skip)) {
        self.name = name; preBindAnswer = preBind; bindAnswer = bind
    }
    func preBind(_ state: CycleState, _ pod: Pod, nodeName: String) -> Status {
        calls.append("prebind \(pod.metadata.name) \(nodeName)"); return preBindAnswer
    }
    func bind(_ state: CycleState, _ pod: Pod, nodeName: String, binder: PodBinder) -> Status {
        calls.append("bind \(pod.metadata.name) \(nodeName)")
        return bindAnswer.code == .success ? binder(pod, nodeName) : bindAnswer
    }
    func reserve(_ state: CycleState, _ pod: Pod, nodeName: String) -> Status {
        calls.append("reserve \(pod.metadata.name) \(nodeName)"); return .success
    }
    func unreserve(_ state: CycleState, _ pod: Pod, nodeName: String) {
        calls.append("unreserve \(pod.metadata.name) \(nodeName)")
    }
}

/// kube-scheduler's binding cycle: PreBind, then Bind plugins until one does not skip.
struct BindingCycleTests {
    static let pod = Pod(metadata: ObjectMeta(name: "p", namespace: "default"))

    static func framework(_ plugins: [RecordingBindingPlugin], binds: [any BindPlugin]) -> Framework {
        let f = Framework(filters: [], scores: [])
        f.preBinds = plugins
        f.reserves = plugins
        f.binds = binds
        return f
    }

    @Test func preBindRejectionUndoesTheReservationAndNeverBinds() {
        let a = RecordingBindingPlugin("volumes", preBind: Status(.unschedulable, ["no volume in zone"]))
        var written: [String] = []
        let f = Self.framework([a], binds: [DefaultBinder()])
        let (st, point) = f.bindingCycle(CycleState(), Self.pod, nodeName: "n1") { p, n in written.append(n); return .success }
        #expect(st.code == .unschedulable && st.plugin == "volumes" && st.message == "no volume in zone")
        #expect(point == "prebind")
        #expect(written.isEmpty)
        #expect(a.calls == ["prebind p n1", "unreserve p n1"])
    }

    @Test func aPreBindErrorIsAnError() {
        let a = RecordingBindingPlugin("flaky", preBind: Status(.unschedulableAndUnresolvable, ["gone"]))
        let b = RecordingBindingPlugin("other", preBind: Status(.wait, ["?"]))
        #expect(Self.framework([a], binds: [DefaultBinder()]).bindingCycle(CycleState(), Self.pod, nodeName: "n") { _, _ in .success }
            .status.code == .unschedulableAndUnresolvable)
        let (st, _) = Self.framework([b], binds: [DefaultBinder()]).bindingCycle(CycleState(), Self.pod, nodeName: "n") { _, _ in .success }
        #expect(st.code == .error && st.plugin == "other")
    }

    @Test func bindPluginsRunUntilOneDoesNotSkip() {
        let skipper = RecordingBindingPlugin("skipper")
        let binder = RecordingBindingPlugin("mine", bind: .success)
        var written: [String] = []
        let f = Self.framework([], binds: [skipper, binder, DefaultBinder()])
        let (st, point) = f.bindingCycle(CycleState(), Self.pod, nodeName: "n2") { p, n in written.append("\(p.metadata.name)@\(n)"); return .success }
        #expect(st.code == .success && st.plugin == "mine" && point == "bind")
        #expect(skipper.calls == ["bind p n2"] && binder.calls == ["bind p n2"])
        #expect(written == ["p@n2"])
    }

    @Test func aFailingBinderOrEveryBinderSkippingFailsTheBinding() {
        let refuser = RecordingBindingPlugin("refuser", bind: Status(.unschedulable, ["not now"]))
        let f = Self.framework([refuser], binds: [refuser, DefaultBinder()])
        var written = 0
        let (st, _) = f.bindingCycle(CycleState(), Self.pod, nodeName: "n") { _, _ in written += 1; return .success }
        #expect(st.code == .error && st.plugin == "refuser" && st.message == "not now")
        #expect(written == 0)
        #expect(refuser.calls.last == "unreserve p n")
        let skipper = RecordingBindingPlugin("skipper")
        let (all, _) = Self.framework([], binds: [skipper]).bindingCycle(CycleState(), Self.pod, nodeName: "n") { _, _ in .success }
        #expect(all.code == .error && all.message == "every bind plugin skipped the pod")
        // The API server refusing the Binding fails it too, named after DefaultBinder.
        let (refused, _) = Self.framework([], binds: [DefaultBinder()]).bindingCycle(CycleState(), Self.pod, nodeName: "n") { _, _ in
            Status(.error, ["pods \"p\" not found"])
        }
        #expect(refused.code == .error && refused.plugin == "DefaultBinder")
    }

    // MARK: - Lua prebind and bind

    func run(_ source: String, pods: Int = 2) throws -> (SchedulePass.Output, LuaSchedulerPlugin) {
        let lua = LuaSchedulerPlugin(try LoadedPlugin.load(source: source, file: "bind.lua"))
        return (try pass(nodes: nodesYAML(2), pods: podsYAML(pods)).run(lua: lua, seed: 1), lua)
    }

    @Test func luaPrebindSeesTheCycleStateAndMayRejectThePod() throws {
        let (out, lua) = try run("""
        return { name = "gate",
          filter = function(pod, node, state) state.seen = (state.seen or 0) + 1 return true end,
          prebind = function(pod, node, state)
            if pod.name == "web-2" then return false, "volume not ready after " .. state.seen .. " filters" end
          end }
        """)
        #expect(out.placements["default/web-1"] != .some(nil))
        #expect(out.placements["default/web-2"] == .some(nil))
        let msg = try #require(out.unschedulable["default/web-2"])
        #expect(msg.hasPrefix("rejected by prebind plugin gate on node-"))
        #expect(msg.hasSuffix(": volume not ready after 2 filters"))
        #expect(lua.failures.isEmpty)
    }

    @Test func luaBindBindsSkipsOrRefuses() throws {
        let (out, lua) = try run("""
        return { name = "picky",
          bind = function(pod, node, state)
            if pod.name == "web-1" then return true end
            if pod.name == "web-2" then return nil end
            return false, "binding is closed"
          end,
          postbind = function(pod, node) if pod.name == "web-3" then error("never bound") end end }
        """, pods: 3)
        #expect(out.placements["default/web-1"] != .some(nil))
        #expect(out.placements["default/web-2"] != .some(nil))
        #expect(out.placements["default/web-3"] == .some(nil))
        #expect(out.unschedulable["default/web-3"]?.hasSuffix(": binding is closed") == true)
        #expect(out.unschedulable["default/web-3"]?.hasPrefix("rejected by bind plugin picky on node-") == true)
        #expect(lua.failures.isEmpty)
        // A pod refused at Bind leaves no trace on its node.
        #expect(out.nodes.values.map(\.pods).reduce(0, +) == 2)
    }

    @Test func aLuaBindThatFailsIsReportedAndTheBindingFails() throws {
        let (out, lua) = try run("""
        return { name = "broken", bind = function(pod, node) return 42 end }
        """, pods: 1)
        #expect(lua.failures == ["bind.lua: in bind: expected nil, \"skip\", true or false with a reason, got 42"])
        #expect(out.placements["default/web-1"] == .some(nil))
    }

    /// As for every hook: once switched off, the pass runs again without the plugin, so
    /// DefaultBinder binds every pod.
    @Test func aSwitchedOffLuaBinderLeavesTheBindingToDefaultBinder() throws {
        let lua = LuaSchedulerPlugin(try LoadedPlugin.load(source: """
        return { name = "broken", bind = function(pod, node) error("no") end }
        """, file: "bind.lua"))
        lua.maxConsecutiveFailures = 2
        let out = try pass(nodes: nodesYAML(2), pods: podsYAML(4)).run(lua: lua, seed: 1)
        #expect(lua.switchedOff != nil)
        #expect(out.plugin_failures.first == "bind.lua:1: in bind: no")
        #expect(out.unschedulable.isEmpty)
        #expect(out.placements.values.allSatisfy { $0 != nil })
    }

    @Test func aConfigurationNeedsABindPlugin() throws {
        let text = """
        apiVersion: kubescheduler.config.k8s.io/v1
        kind: KubeSchedulerConfiguration
        profiles:
        - schedulerName: default-scheduler
          plugins:
            bind:
              disabled:
              - name: DefaultBinder
        """
        let config = try SchedulerConfiguration.parse(text, file: "sched.yaml")
        let error = #expect(throws: ManifestError.self) { try config.frameworks() }
        #expect(error?.description == "sched.yaml: profiles[0].plugins.bind: at least one bind plugin is needed")
    }
}

/// The binding cycle in the scheduler component, with the API server in the loop.
struct BindingCycleClusterTests {
    static func cluster(_ source: String) throws -> (Cluster, LuaSchedulerPlugin) {
        let lua = LuaSchedulerPlugin(try LoadedPlugin.load(source: source, file: "bind.lua"))
        let c = Cluster(seed: 1, profiles: [("default-scheduler", Framework.profile(with: lua))])
        try c.start()
        var n = Node(metadata: ObjectMeta(name: "node-1"))
        n.status.capacity = ["cpu": try Quantity(parsing: "4"), "memory": try Quantity(parsing: "8Gi")]
        try c.addNode(n)
        return (c, lua)
    }

    static func pod(_ name: String) throws -> KubeObject {
        var ctr = Container(name: "app", image: "nginx")
        ctr.resources.requests = ["cpu": try Quantity(parsing: "1")]
        return .pod(Pod(metadata: ObjectMeta(name: name, namespace: "default"), spec: PodSpec(containers: [ctr])))
    }

    static func messages(_ c: Cluster) -> [String] {
        c.sim.log.entries.filter { $0.component == "scheduler" }.map { "\($0.time) \($0.message)" }
    }

    /// A Bind that refuses fails the binding: the pod is retried after its backoff (1 s,
    /// then 2 s) until the binder lets it through, and DefaultBinder binds what it skips.
    @Test func aRefusingBinderIsRetriedAfterBackoff() throws {
        let (c, lua) = try Self.cluster("""
        local tries = 0
        return { name = "slow-binder",
          bind = function(pod, node)
            if pod.name ~= "web" then return nil end
            tries = tries + 1
            if tries < 3 then return false, "attempt " .. tries .. " refused" end
            return true
          end }
        """)
        _ = try c.create(Self.pod("web"))
        _ = try c.create(Self.pod("other"))
        c.sim.run(until: c.sim.now + SimDuration.seconds(30))
        let log = Self.messages(c)
        #expect(log.contains("0.001s binding default/web to node-1 failed: slow-binder: attempt 1 refused"), "\(log)")
        #expect(log.contains("1.001s binding default/web to node-1 failed: slow-binder: attempt 2 refused"), "\(log)")
        #expect(log.contains { $0.hasPrefix("3.001s bound default/web to node-1") }, "\(log)")
        #expect(log.contains { $0.hasPrefix("0.002s bound default/other to node-1") }, "\(log)")
        #expect(c.pods.allSatisfy { $0.spec.nodeName == "node-1" })
        #expect(lua.failures.isEmpty)
    }

    /// A PreBind that rejects leaves the pod unschedulable with a FailedScheduling event; a
    /// cluster event (a node added) gives it another try.
    @Test func aPrebindRejectionLeavesThePodUnschedulable() throws {
        let (c, _) = try Self.cluster("""
        return { name = "zone-gate",
          prebind = function(pod, node)
            if node ~= "node-2" then return false, "no volume on " .. node end
          end }
        """)
        _ = try c.create(Self.pod("db"))
        c.sim.run(until: c.sim.now + SimDuration.seconds(5))
        #expect(Self.messages(c).contains("0.001s default/db is unschedulable: rejected by prebind plugin zone-gate on node-1: no volume on node-1"))
        let events = c.list(.event).compactMap(\.event).filter { $0.reason == "FailedScheduling" }
        #expect(events.map(\.message) == ["rejected by prebind plugin zone-gate on node-1: no volume on node-1"])
        #expect(c.scheduler.unschedulablePods == ["default/db"])
        var n2 = Node(metadata: ObjectMeta(name: "node-2"))
        n2.status.capacity = ["cpu": try Quantity(parsing: "8"), "memory": try Quantity(parsing: "8Gi")]
        try c.addNode(n2)
        c.sim.run(until: c.sim.now + SimDuration.seconds(5))
        #expect(c.pods.first?.spec.nodeName == "node-2")
    }
}

/// The node views a Lua plugin keeps follow the cluster: views of nodes that are gone are
/// dropped.
struct NodeViewCacheTests {
    @Test func viewsOfDeletedNodesAreDropped() throws {
        let lua = LuaSchedulerPlugin(try LoadedPlugin.load(source: """
        return { name = "seen", filter = function(pod, node) return true end }
        """, file: "seen.lua"))
        let f = Framework.profile(with: lua)
        let pod = Pod(metadata: ObjectMeta(name: "p", namespace: "default"), spec: PodSpec(containers: [Container(name: "c", image: "x")]))
        var most = 0
        // Ten generations of 40 nodes each, every generation replacing the last.
        for generation in 0..<10 {
            let nodes = (1...40).map { i -> NodeInfo in
                var n = Node(metadata: ObjectMeta(name: "g\(generation)-n\(i)"))
                n.status.capacity = ["cpu": Quantity(milli: 4000), "memory": Quantity(value: 8_000_000_000)]
                return NodeInfo(node: n)
            }
            for _ in 0..<2 { _ = f.schedule(pod, nodes: nodes) { 1 } }
            most = max(most, lua.cachedNodeViews)
        }
        #expect(lua.failures.isEmpty)
        #expect(most <= 2 * 40 + 40)
        #expect(lua.cachedNodeViews <= 2 * 40 + 40)
    }
}
