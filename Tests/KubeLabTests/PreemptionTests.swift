import Foundation
import Testing
import SimCore
import KubeAPI
import KubeScheduler
@testable import KubeLab

/// Preemption end to end: PriorityClasses and PodDisruptionBudgets through the API server,
/// the disruption controller, DefaultPreemption in the scheduler, the kubelets finishing
/// the victims' deletion.
struct PreemptionTests {
    static func node(_ name: String, cpu: String = "2") throws -> Node {
        var n = Node(metadata: ObjectMeta(name: name))
        n.status.capacity = ["cpu": try Quantity(parsing: cpu), "memory": try Quantity(parsing: "8Gi")]
        return n
    }

    static func priorityClass(_ name: String, _ value: Int32, policy: PreemptionPolicy? = nil) -> KubeObject {
        .priorityClass(PriorityClass(metadata: ObjectMeta(name: name), value: value, preemptionPolicy: policy))
    }

    /// A pod of `className` requesting `cpu`, optionally already on `node`.
    static func pod(_ name: String, _ className: String, cpu: String = "1", labels: [String: String] = [:], node: String = "") throws -> KubeObject {
        var c = Container(name: "app", image: "nginx")
        c.resources.requests = ["cpu": try Quantity(parsing: cpu)]
        var p = Pod(metadata: ObjectMeta(name: name, namespace: "default", labels: labels), spec: PodSpec(containers: [c]))
        p.spec.priorityClassName = className
        p.spec.nodeName = node
        return .pod(p)
    }

    static func budget(_ name: String, minAvailable: Int, app: String) -> KubeObject {
        .podDisruptionBudget(PodDisruptionBudget(metadata: ObjectMeta(name: name, namespace: "default"), spec: PodDisruptionBudgetSpec(
            minAvailable: .int(minAvailable), selector: LabelSelector(matchLabels: ["app": app]))))
    }

    /// A started cluster with `nodes` and the classes low (100), mid (500) and high (1000).
    static func cluster(nodes: [String], seed: UInt64 = 1, profiles: [(schedulerName: String, framework: Framework)]? = nil,
                        classes: Bool = true) throws -> Cluster {
        let c = profiles.map { Cluster(seed: seed, profiles: $0) } ?? Cluster(seed: seed)
        try c.start()
        for n in nodes { try c.addNode(node(n)) }
        guard classes else { return c }
        for (name, value) in [("low", Int32(100)), ("mid", 500), ("high", 1000)] { try c.create(priorityClass(name, value)) }
        return c
    }

    static func run(_ c: Cluster, for d: SimDuration) { c.sim.run(until: c.sim.now + d) }

    static func first(_ c: Cluster, _ component: String, _ text: String) -> SimTime? {
        c.sim.log.entries.first { $0.component == component && $0.message.contains(text) }?.time
    }

    static func livePod(_ c: Cluster, _ name: String) -> Pod? { c.pods.first { $0.metadata.name == name } }

    /// Acceptance: a high-priority pod that fits nowhere evicts the lowest-priority victims
    /// and is bound after they are gone.
    @Test func aHighPriorityPodThatFitsNowhereEvictsTheLowestPriorityVictimsAndIsBoundAfterTheyAreGone() throws {
        let c = try Self.cluster(nodes: ["node-1", "node-2"])
        try c.create(Self.pod("low-1", "low", node: "node-1"))
        try c.create(Self.pod("mid-1", "mid", node: "node-1"))
        try c.create(Self.pod("mid-2", "mid", node: "node-2"))
        try c.create(Self.pod("mid-3", "mid", node: "node-2"))
        Self.run(c, for: .seconds(10))
        #expect(c.pods.filter { $0.status.phase == .running }.count == 4)
        try c.create(Self.pod("high", "high"))
        Self.run(c, for: .seconds(30))

        let preempts = try #require(Self.first(c, "scheduler", "default/high preempts default/low-1 on node-1"))
        let removed = try #require(Self.first(c, "kubelet/node-1", "stopped default/low-1 and removed it"))
        let bound = try #require(Self.first(c, "scheduler", "bound default/high to node-1"))
        #expect(preempts < removed && removed < bound)
        #expect(Self.livePod(c, "low-1") == nil)
        for mid in ["mid-1", "mid-2", "mid-3"] { #expect(Self.livePod(c, mid)?.status.phase == .running, "\(mid)") }
        let high = try #require(Self.livePod(c, "high"))
        #expect(high.spec.nodeName == "node-1" && high.spec.priority == 1000)
        #expect(high.status.nominatedNodeName == "node-1")
        #expect(c.scheduler.preemptions == [Preemption(victim: "default/low-1", preemptor: "default/high", node: "node-1")])
        // The victim was told why, and an Event names the preemptor and the node.
        let events = c.list(.event).compactMap(\.event).filter { $0.reason == "Preempted" }
        #expect(events.map(\.involvedObject.name) == ["low-1"])
        #expect(events.first?.message == "Preempted by pod \(high.metadata.uid) on node node-1")
        // The first attempt was reported as unschedulable, without a preemption failure.
        let failed = c.sim.log.entries.first { $0.message.hasPrefix("default/high is unschedulable") }?.message
        #expect(failed == "default/high is unschedulable: 0/2 nodes are available: 2 Insufficient cpu.")
    }

    @Test func theVictimIsMarkedAsADisruptionTargetBeforeItGoes() throws {
        let c = try Self.cluster(nodes: ["node-1"])
        try c.create(Self.pod("low-1", "low", cpu: "2", node: "node-1"))
        Self.run(c, for: .seconds(10))
        try c.create(Self.pod("high", "high"))
        // Just after the scheduler's cycle, before the kubelet finished the deletion.
        Self.run(c, for: .milliseconds(200))
        let victim = try #require(Self.livePod(c, "low-1"))
        #expect(victim.isTerminating)
        #expect(victim.status.conditions.contains {
            $0.type == "DisruptionTarget" && $0.status == "True" && $0.reason == "PreemptionByScheduler"
                && $0.message == "default-scheduler: preempting to accommodate a higher priority pod"
        })
        #expect(Self.livePod(c, "high")?.status.nominatedNodeName == "node-1")
        Self.run(c, for: .seconds(10))
        #expect(Self.livePod(c, "high")?.spec.nodeName == "node-1")
    }

    /// A PodDisruptionBudget that forbids the eviction is respected: the victims come from
    /// the node where no budget is violated, although the pods there rank the same.
    @Test func aBudgetThatForbidsTheEvictionIsRespected() throws {
        let c = try Self.cluster(nodes: ["node-1", "node-2"])
        try c.create(Self.budget("db", minAvailable: 2, app: "db"))
        try c.create(Self.pod("db-1", "low", labels: ["app": "db"], node: "node-1"))
        try c.create(Self.pod("db-2", "low", labels: ["app": "db"], node: "node-1"))
        try c.create(Self.pod("web-1", "low", labels: ["app": "web"], node: "node-2"))
        try c.create(Self.pod("web-2", "low", labels: ["app": "web"], node: "node-2"))
        Self.run(c, for: .seconds(10))
        let budget = try #require(c.list(.podDisruptionBudget).first?.podDisruptionBudget)
        #expect((budget.status.expectedPods, budget.status.currentHealthy, budget.status.desiredHealthy, budget.status.disruptionsAllowed)
            == (2, 2, 2, 0))
        try c.create(Self.pod("high", "high"))
        Self.run(c, for: .seconds(30))
        #expect(Self.livePod(c, "high")?.spec.nodeName == "node-2")
        #expect(c.scheduler.preemptions.map(\.victim) == ["default/web-1"] || c.scheduler.preemptions.map(\.victim) == ["default/web-2"])
        #expect(Self.livePod(c, "db-1") != nil && Self.livePod(c, "db-2") != nil)
    }

    /// As kube-scheduler does, a budget is only a preference: when every candidate violates
    /// one, the fewest violations win and the budget is violated.
    @Test func aBudgetIsViolatedAsALastResort() throws {
        let c = try Self.cluster(nodes: ["node-1"])
        try c.create(Self.budget("db", minAvailable: 2, app: "db"))
        try c.create(Self.pod("db-1", "low", labels: ["app": "db"], node: "node-1"))
        try c.create(Self.pod("db-2", "low", labels: ["app": "db"], node: "node-1"))
        Self.run(c, for: .seconds(10))
        try c.create(Self.pod("high", "high"))
        Self.run(c, for: .seconds(30))
        #expect(Self.livePod(c, "high")?.spec.nodeName == "node-1")
        #expect(c.scheduler.preemptions.count == 1)
        let budget = try #require(c.list(.podDisruptionBudget).first?.podDisruptionBudget)
        #expect(budget.status.currentHealthy == 1 && budget.status.disruptionsAllowed == 0)
    }

    @Test func aPodWithPreemptionPolicyNeverDoesNotPreempt() throws {
        let c = try Self.cluster(nodes: ["node-1"])
        try c.create(Self.priorityClass("polite", 1000, policy: .never))
        try c.create(Self.pod("low-1", "low", cpu: "2", node: "node-1"))
        Self.run(c, for: .seconds(10))
        try c.create(Self.pod("waiter", "polite"))
        Self.run(c, for: .minutes(1))
        #expect(c.scheduler.preemptions.isEmpty)
        #expect(Self.livePod(c, "low-1")?.status.phase == .running)
        #expect(Self.livePod(c, "waiter")?.spec.nodeName == "")
        #expect(Self.livePod(c, "waiter")?.spec.preemptionPolicy == .never)
        let failed = c.sim.log.entries.first { $0.message.hasPrefix("default/waiter is unschedulable") }?.message
        #expect(failed == "default/waiter is unschedulable: 0/1 nodes are available: 1 Insufficient cpu. "
            + "preemption: not eligible due to preemptionPolicy=Never..")
    }

    @Test func aPodOfEqualPriorityFindsNoVictims() throws {
        let c = try Self.cluster(nodes: ["node-1"])
        try c.create(Self.pod("mid-1", "mid", cpu: "2", node: "node-1"))
        Self.run(c, for: .seconds(10))
        try c.create(Self.pod("mid-2", "mid"))
        Self.run(c, for: .seconds(30))
        #expect(c.scheduler.preemptions.isEmpty)
        let failed = c.sim.log.entries.first { $0.message.hasPrefix("default/mid-2 is unschedulable") }?.message
        #expect(failed == "default/mid-2 is unschedulable: 0/1 nodes are available: 1 Insufficient cpu. "
            + "preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod..")
    }

    @Test func disablingDefaultPreemptionInTheConfigurationStopsPreemption() throws {
        let config = try SchedulerConfiguration.parse("""
        apiVersion: kubescheduler.config.k8s.io/v1
        kind: KubeSchedulerConfiguration
        profiles:
          - schedulerName: default-scheduler
            plugins:
              postFilter:
                disabled:
                  - name: DefaultPreemption
        """, file: "config.yaml")
        let c = try Self.cluster(nodes: ["node-1"], profiles: try config.frameworks())
        try c.create(Self.pod("low-1", "low", cpu: "2", node: "node-1"))
        Self.run(c, for: .seconds(10))
        try c.create(Self.pod("high", "high"))
        Self.run(c, for: .minutes(1))
        #expect(c.scheduler.preemptions.isEmpty)
        #expect(Self.livePod(c, "low-1")?.status.phase == .running)
        #expect(Self.livePod(c, "high")?.spec.nodeName == "")
        let failed = c.sim.log.entries.first { $0.message.hasPrefix("default/high is unschedulable") }?.message
        #expect(failed == "default/high is unschedulable: 0/1 nodes are available: 1 Insufficient cpu.")
    }

    /// While a pod is nominated to a node, pods of lower or equal priority leave it room;
    /// a pod of higher priority does not.
    @Test func aNominatedPodKeepsItsRoom() throws {
        let c = try Self.cluster(nodes: ["node-1"])
        guard case .pod(var reserved) = try Self.pod("reserved", "mid", cpu: "1500m") else { return }
        reserved.spec.schedulerName = "elsewhere"  // no scheduler binds it: it stays nominated
        reserved.status.nominatedNodeName = "node-1"
        try c.create(.pod(reserved))
        try c.create(Self.pod("low-1", "low"))
        try c.create(Self.pod("mid-1", "mid"))
        Self.run(c, for: .seconds(10))
        #expect(Self.livePod(c, "low-1")?.spec.nodeName == "")
        #expect(Self.livePod(c, "mid-1")?.spec.nodeName == "")
        try c.create(Self.pod("high", "high"))
        Self.run(c, for: .seconds(10))
        #expect(Self.livePod(c, "high")?.spec.nodeName == "node-1")
        // The nomination goes with the pod: the others fit again (one of them).
        try c.admin.delete(.pod, name: "high", gracePeriodSeconds: 0)
        try c.admin.delete(.pod, name: "reserved")
        Self.run(c, for: .seconds(30))
        #expect(c.pods.filter { !$0.spec.nodeName.isEmpty }.count == 2)
    }

    /// A victim that is only waiting on a permit plugin is rejected instead of deleted; its
    /// room is free at once.
    @Test func aPodWaitingOnPermitIsPreemptedByRejection() throws {
        final class Waiter: PermitPlugin {
            let name = "Waiter"
            func permit(_ state: CycleState, _ pod: Pod, nodeName: String) -> Status {
                guard pod.metadata.labels["wait"] != nil else { return .success }
                var s = Status(.wait, [], plugin: name)
                s.waitNanoseconds = SimDuration.minutes(5).nanoseconds
                return s
            }
        }
        let f = Framework.defaultProfile()
        f.permits = [Waiter()]
        let c = try Self.cluster(nodes: ["node-1"], profiles: [("default-scheduler", f)])
        try c.create(Self.pod("slow", "low", cpu: "2", labels: ["wait": "yes"]))
        Self.run(c, for: .seconds(5))
        #expect(c.scheduler.permitWaitingPods == ["default/slow"])
        try c.create(Self.pod("high", "high"))
        Self.run(c, for: .seconds(5))
        #expect(c.scheduler.preemptions.map(\.victim) == ["default/slow"])
        #expect(c.scheduler.permitWaitingPods.isEmpty)
        #expect(Self.livePod(c, "high")?.spec.nodeName == "node-1")
        #expect(Self.livePod(c, "slow")?.spec.nodeName == "")
        #expect(Self.first(c, "scheduler", "default/slow is unschedulable: rejected by permit plugin DefaultPreemption on node-1: preempted") != nil)
    }

    @Test func aDeploymentsBudgetFollowsItsScale() throws {
        let c = try Self.cluster(nodes: ["node-1", "node-2"])
        var tmpl = Container(name: "app", image: "nginx")
        tmpl.resources.requests = ["cpu": try Quantity(parsing: "100m")]
        var spec = PodSpec(containers: [tmpl])
        spec.priorityClassName = "mid"
        let d = Deployment(metadata: ObjectMeta(name: "web", namespace: "default"), spec: DeploymentSpec(
            replicas: 4, selector: LabelSelector(matchLabels: ["app": "web"]),
            template: PodTemplateSpec(metadata: ObjectMeta(labels: ["app": "web"]), spec: spec)))
        try c.create(.deployment(d))
        try c.create(.podDisruptionBudget(PodDisruptionBudget(metadata: ObjectMeta(name: "web", namespace: "default"), spec: PodDisruptionBudgetSpec(
            maxUnavailable: .string("25%"), selector: LabelSelector(matchLabels: ["app": "web"])))))
        Self.run(c, for: .seconds(30))
        let b = try #require(c.list(.podDisruptionBudget).first?.podDisruptionBudget)
        #expect((b.status.expectedPods, b.status.currentHealthy, b.status.desiredHealthy, b.status.disruptionsAllowed) == (4, 4, 3, 1))
        #expect(c.pods.allSatisfy { $0.spec.priority == 500 })
    }

    @Test func theSameSeedGivesTheSameLog() throws {
        func run() throws -> String {
            let c = try Self.cluster(nodes: ["node-1", "node-2"], seed: 3)
            for i in 1...4 { try c.create(Self.pod("low-\(i)", "low")) }
            Self.run(c, for: .seconds(10))
            try c.create(Self.pod("high-1", "high", cpu: "1500m"))
            try c.create(Self.pod("high-2", "high", cpu: "1500m"))
            Self.run(c, for: .minutes(1))
            #expect(c.scheduler.preemptions.count == 4)
            return c.sim.log.text
        }
        #expect(try run() == run())
    }

    /// `kubelab schedule`: pods that already run count; a pod of higher priority that fits
    /// nowhere preempts them at once and is retried; the output lists the preempted pods.
    @Test func theSchedulePassReportsPreemptedPods() throws {
        var pass = SchedulePass()
        try pass.load(nodesText: """
        apiVersion: v1
        kind: Node
        metadata: {name: node-1}
        status: {capacity: {cpu: "1", memory: 4Gi}}
        """, nodesFile: "nodes.yaml", podsText: """
        apiVersion: v1
        kind: Pod
        metadata: {name: batch}
        spec: {nodeName: node-1, priority: 10, containers: [{name: c, resources: {requests: {cpu: 800m}}}]}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: urgent}
        spec: {priority: 1000, containers: [{name: c, resources: {requests: {cpu: 500m}}}]}
        """, podsFile: "pods.yaml")
        let out = pass.run(plugin: nil, seed: 1)
        #expect(out.preempted == ["default/batch"])
        #expect(out.placements["default/urgent"] == .some("node-1"))
        #expect(out.placements["default/batch"] == .some(nil))
        #expect(out.unschedulable["default/batch"] == "preempted by default/urgent on node-1")
        #expect(out.nodes["node-1"]?.cpu_requested == 500)
        let json = try #require(String(data: try JSONEncoder().encode(out), encoding: .utf8))
        #expect(json.contains("\"preempted\":[\"default\\/batch\"]"))
    }

    /// The corpus pod names PriorityClass "high": it is admitted once that class exists.
    @Test func theCorpusHighPriorityPodIsAdmittedWithItsClass() throws {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Corpus/k8s-website-examples")
        let text = try String(contentsOf: dir.appendingPathComponent("policy__high-priority-pod.yaml"), encoding: .utf8)
        let pod = try #require(try ManifestDecoder.decode(text, file: "policy__high-priority-pod.yaml").first?.object)
        let c = try Self.cluster(nodes: [], classes: false)
        #expect(throws: ClusterError.self) { try c.create(pod) }
        try c.create(Self.priorityClass("high", 1_000_000))
        #expect(try c.create(pod).pod?.spec.priority == 1_000_000)
    }
}
