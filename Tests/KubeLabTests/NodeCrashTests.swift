import Testing
import SimCore
import KubeAPI
@testable import KubeLab

/// The node-failure path in Swift alone: lease expiry, taints, eviction, replacement.
struct NodeCrashTests {
    static func node(_ name: String, cpu: String = "4", memory: String = "16Gi") throws -> Node {
        var n = Node(metadata: ObjectMeta(name: name))
        n.status.capacity = ["cpu": try Quantity(parsing: cpu), "memory": try Quantity(parsing: memory)]
        return n
    }

    static func deployment(_ name: String, replicas: Int, cpu: String = "500m") throws -> Deployment {
        var c = Container(name: "app", image: "nginx")
        c.resources.requests = ["cpu": try Quantity(parsing: cpu), "memory": try Quantity(parsing: "256Mi")]
        let labels = ["app": name]
        return Deployment(metadata: ObjectMeta(name: name), spec: DeploymentSpec(
            replicas: replicas, selector: LabelSelector(matchLabels: labels),
            template: PodTemplateSpec(metadata: ObjectMeta(labels: labels), spec: PodSpec(containers: [c]))))
    }

    /// Runs: 4 nodes, a 3-replica deployment, crash the node of the first pod at t=60s.
    static func crashRun(settings: ClusterSettings = .init(), seed: UInt64 = 1)
        throws -> (cluster: Cluster, victim: String, crashAt: SimTime) {
        let c = Cluster(seed: seed, settings: settings)
        try c.start()
        for i in 1...4 { try c.addNode(node("node-\(i)")) }
        try c.create(.deployment(deployment("web", replicas: 3)))
        c.sim.run(until: SimTime(nanoseconds: 60_000_000_000))
        let running = c.pods.filter { $0.status.phase == .running }
        #expect(running.count == 3)
        let victim = try #require(running.first?.spec.nodeName)
        try c.crashNode(victim)
        let crashAt = c.sim.now
        c.sim.run(until: crashAt + .minutes(10))
        return (c, victim, crashAt)
    }

    func firstTime(_ c: Cluster, _ component: String, containing text: String) -> SimTime? {
        c.sim.log.entries.first { $0.component == component && $0.message.contains(text) }?.time
    }

    @Test func crashedNodeTurnsNotReadyAfterGracePeriodAndPodsAreReplaced() throws {
        let (c, victim, crashAt) = try Self.crashRun()
        // The last renewal was at most 10s before the crash; NotReady comes 40s after it,
        // at the next 5s monitor tick.
        let notReady = try #require(firstTime(c, "node-lifecycle-controller", containing: "node \(victim) is NotReady"))
        let sinceCrash = notReady.since(crashAt)
        #expect(sinceCrash > .seconds(30) && sinceCrash <= .seconds(55))
        let evicted = try #require(firstTime(c, "taint-eviction-controller", containing: "from \(victim)"))
        let evictDelay = evicted.since(notReady)
        #expect(evictDelay >= .seconds(299) && evictDelay <= .seconds(301))
        // Back to 3 running pods, none on the dead node (its own pod is stuck Terminating).
        let active = c.pods.filter { $0.status.phase == .running && !$0.isTerminating }
        #expect(active.count == 3)
        #expect(!active.contains { $0.spec.nodeName == victim })
        #expect(c.nodes.first { $0.metadata.name == victim }?.readyStatus == "Unknown")
    }

    @Test func settingsChangeTheTimings() throws {
        var s = ClusterSettings()
        try s.set("node_monitor_grace_period", "20s")
        try s.set("default_toleration_seconds", "60")
        try s.set("lease_renew_interval", "5s")
        let (c, victim, crashAt) = try Self.crashRun(settings: s)
        let notReady = try #require(firstTime(c, "node-lifecycle-controller", containing: "node \(victim) is NotReady"))
        let sinceCrash = notReady.since(crashAt)
        #expect(sinceCrash > .seconds(15) && sinceCrash <= .seconds(30))
        let evicted = try #require(firstTime(c, "taint-eviction-controller", containing: "from \(victim)"))
        let evictDelay = evicted.since(notReady)
        #expect(evictDelay >= .seconds(59) && evictDelay <= .seconds(61))
    }

    @Test func recoveredNodeIsReadyAgainAndFinishesItsTerminatingPods() throws {
        let (c, victim, _) = try Self.crashRun()
        try c.recoverNode(victim)
        c.sim.run(until: c.sim.now + .minutes(1))
        #expect(c.nodes.first { $0.metadata.name == victim }?.isReady == true)
        #expect(c.nodes.first { $0.metadata.name == victim }?.spec.taints.isEmpty == true)
        #expect(!c.pods.contains { $0.isTerminating })
        #expect(c.pods.filter { $0.status.phase == .running }.count == 3)
    }

    @Test func sameSeedSameLogDifferentSeedDifferentLog() throws {
        let a = try Self.crashRun(seed: 5).cluster.sim.log
        let b = try Self.crashRun(seed: 5).cluster.sim.log
        let d = try Self.crashRun(seed: 6).cluster.sim.log
        #expect(a.text == b.text)
        #expect(a.sha256 == b.sha256)
        #expect(a.text != d.text)
        #expect(!a.text.isEmpty)
    }
}
