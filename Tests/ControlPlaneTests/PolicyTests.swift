import Testing
import SimCore
import KubeAPI
import KubeStore
@testable import KubeAPIServer
@testable import KubeControllers

private func priorityClass(_ name: String, _ value: Int32, globalDefault: Bool = false, policy: PreemptionPolicy? = nil) -> KubeObject {
    .priorityClass(PriorityClass(metadata: ObjectMeta(name: name), value: value, globalDefault: globalDefault, preemptionPolicy: policy))
}

private func classPod(_ name: String, _ className: String = "", priority: Int32? = nil) -> KubeObject {
    guard case .pod(var p) = pod(name) else { return pod(name) }
    p.spec.priorityClassName = className
    p.spec.priority = priority
    return .pod(p)
}

/// The Priority admission plugin and PriorityClass / PodDisruptionBudget validation.
@Suite struct PriorityAdmissionTests {
    let client = APIServer(sim: Simulation(seed: 1)).client("admin")

    @Test func aPodWithoutAClassGetsPriorityZeroAndPreemptLowerPriority() throws {
        let p = try #require(try client.create(classPod("plain")).pod)
        #expect(p.spec.priority == 0)
        #expect(p.spec.priorityClassName == "")
        #expect(p.spec.preemptionPolicy == .preemptLowerPriority)
    }

    @Test func theClassResolvesToItsValueAndPolicy() throws {
        let created = try #require(try client.create(priorityClass("high", 1_000_000, policy: .never)).priorityClass)
        #expect(created.metadata.namespace == "")
        let p = try #require(try client.create(classPod("web", "high")).pod)
        #expect(p.spec.priority == 1_000_000)
        #expect(p.spec.preemptionPolicy == .never)
        // A class without a policy defaults to PreemptLowerPriority.
        #expect(try client.create(priorityClass("mid", 500)).priorityClass?.preemptionPolicy == .preemptLowerPriority)
        #expect(try client.create(classPod("api", "mid")).pod?.spec.preemptionPolicy == .preemptLowerPriority)
    }

    @Test func anUnknownClassIsRejected() {
        #expect(throws: APIError(.forbidden, "pods \"web\" is forbidden: no PriorityClass with name high was found")) {
            try client.create(classPod("web", "high"))
        }
    }

    @Test func theSystemClassesAlwaysExist() throws {
        #expect(try client.create(classPod("dns", "system-cluster-critical")).pod?.spec.priority == 2_000_000_000)
        #expect(try client.create(classPod("proxy", "system-node-critical")).pod?.spec.priority == 2_000_001_000)
        #expect(throws: APIError.self) { try client.create(priorityClass("system-node-critical", 5)) }
        #expect(throws: APIError(.invalid, "PriorityClass.scheduling.k8s.io \"system-mine\" is invalid: metadata.name: Forbidden: system-mine is not a known system priority class")) {
            try client.create(priorityClass("system-mine", 5))
        }
    }

    @Test func theGlobalDefaultAppliesToPodsThatNameNoClass() throws {
        try client.create(priorityClass("normal", 100, globalDefault: true))
        let p = try #require(try client.create(classPod("plain")).pod)
        #expect(p.spec.priority == 100)
        #expect(p.spec.priorityClassName == "normal")
        #expect(throws: APIError(.forbidden, "priorityclasses.scheduling.k8s.io \"other\" is forbidden: PriorityClass normal is already marked as default. Only one default can exist")) {
            try client.create(priorityClass("other", 5, globalDefault: true))
        }
    }

    @Test func aPodMayNotContradictItsClass() throws {
        try client.create(priorityClass("high", 1000))
        #expect(throws: APIError(.forbidden, "pods \"web\" is forbidden: the integer value of priority (5) must not be provided in pod spec; "
            + "priority admission controller computed 1000 from the given PriorityClass name")) {
            try client.create(classPod("web", "high", priority: 5))
        }
        #expect(try client.create(classPod("same", "high", priority: 1000)).pod?.spec.priority == 1000)
        guard case .pod(var never) = classPod("never") else { return }
        never.spec.preemptionPolicy = .never
        #expect(throws: APIError.self) { try client.create(.pod(never)) }
    }

    @Test func userClassesStayUnderOneBillion() {
        #expect(throws: APIError(.invalid, "PriorityClass.scheduling.k8s.io \"huge\" is invalid: value: Forbidden: maximum allowed value of a user defined priority is 1000000000")) {
            try client.create(priorityClass("huge", 1_000_000_001))
        }
    }

    @Test func budgetsAreValidated() throws {
        var b = PodDisruptionBudget(metadata: ObjectMeta(name: "web"), spec: PodDisruptionBudgetSpec(minAvailable: .int(1), maxUnavailable: .int(1)))
        #expect(throws: APIError(.invalid, "PodDisruptionBudget.policy \"web\" is invalid: spec: Invalid value: minAvailable and maxUnavailable cannot be both set")) {
            try client.create(.podDisruptionBudget(b))
        }
        b.spec = PodDisruptionBudgetSpec(maxUnavailable: .string("120%"))
        #expect(throws: APIError.self) { try client.create(.podDisruptionBudget(b)) }
        b.spec = PodDisruptionBudgetSpec(maxUnavailable: .string("20%"), selector: LabelSelector(matchLabels: ["app": "web"]))
        let created = try #require(try client.create(.podDisruptionBudget(b)).podDisruptionBudget)
        #expect(created.metadata.namespace == "default")
        #expect(try client.list(.podDisruptionBudget).count == 1)
        try client.delete(.podDisruptionBudget, name: "web")
        #expect(try client.list(.podDisruptionBudget).isEmpty)
    }
}

/// The disruption controller's status computation, as kube's disruption_test.go checks it.
@Suite struct DisruptionStatusTests {
    static let now = SimTime(nanoseconds: 5_000_000_000)

    static func budget(min: IntOrString? = nil, max: IntOrString? = nil) -> PodDisruptionBudget {
        PodDisruptionBudget(metadata: ObjectMeta(name: "pdb", namespace: "default"),
                            spec: PodDisruptionBudgetSpec(minAvailable: min, maxUnavailable: max, selector: LabelSelector(matchLabels: ["app": "web"])))
    }

    /// A Ready pod with the app label, owned by `owner` when given.
    static func webPod(_ name: String, ready: Bool = true, owner: OwnerReference? = nil) -> Pod {
        var p = Pod(metadata: ObjectMeta(name: name, namespace: "default", labels: ["app": "web"]))
        if ready { p.status.conditions = [PodCondition(type: "Ready", status: "True")] }
        if let owner { p.metadata.ownerReferences = [owner] }
        return p
    }

    static func replicaSet(_ name: String, replicas: Int, deployment: Deployment? = nil) -> ReplicaSet {
        var meta = ObjectMeta(name: name, namespace: "default")
        meta.uid = "rs-\(name)"
        if let d = deployment { meta.ownerReferences = [OwnerReference(apiVersion: "apps/v1", kind: "Deployment", name: d.metadata.name, uid: d.metadata.uid)] }
        return ReplicaSet(metadata: meta, spec: ReplicaSetSpec(replicas: replicas, selector: LabelSelector(matchLabels: ["app": "web"]), template: .init()))
    }

    static func owned(by rs: ReplicaSet) -> OwnerReference {
        OwnerReference(apiVersion: "apps/v1", kind: "ReplicaSet", name: rs.metadata.name, uid: rs.metadata.uid)
    }

    func status(_ b: PodDisruptionBudget, _ pods: [Pod], _ rss: [ReplicaSet] = [], _ ds: [Deployment] = []) -> PodDisruptionBudgetStatus {
        DisruptionController.status(of: b, pods: pods, replicaSets: rss, deployments: ds, now: Self.now)
    }

    @Test func integerMinAvailableCountsTheSelectedPods() {
        let pods = [Self.webPod("a"), Self.webPod("b"), Self.webPod("c", ready: false)]
        let s = status(Self.budget(min: .int(1)), pods)
        #expect((s.expectedPods, s.currentHealthy, s.desiredHealthy, s.disruptionsAllowed) == (3, 2, 1, 1))
        #expect(s.disruptionAllowedCondition?.reason == "SufficientPods")
        let none = status(Self.budget(min: .int(2)), pods)
        #expect(none.disruptionsAllowed == 0)
        #expect(none.disruptionAllowedCondition?.status == "False" && none.disruptionAllowedCondition?.reason == "InsufficientPods")
    }

    @Test func terminatingPodsAreNotHealthy() {
        var going = Self.webPod("b")
        going.metadata.deletionTimestamp = Self.now
        let s = status(Self.budget(min: .int(1)), [Self.webPod("a"), going])
        #expect(s.currentHealthy == 1 && s.disruptionsAllowed == 0)
    }

    @Test func maxUnavailableUsesTheDeploymentsScale() {
        var d = Deployment(metadata: ObjectMeta(name: "web", namespace: "default"),
                           spec: DeploymentSpec(replicas: 4, selector: LabelSelector(matchLabels: ["app": "web"]), template: .init()))
        d.metadata.uid = "dep-web"
        let rs = Self.replicaSet("web-abc", replicas: 4, deployment: d)
        let pods = ["a", "b", "c"].map { Self.webPod($0, owner: Self.owned(by: rs)) }
        let s = status(Self.budget(max: .int(1)), pods, [rs], [d])
        #expect((s.expectedPods, s.currentHealthy, s.desiredHealthy, s.disruptionsAllowed) == (4, 3, 3, 0))
        // A percentage rounds up: 25% of 4 is 1; 30% of 4 is 2 (1.2 rounded up).
        #expect(status(Self.budget(max: .string("30%")), pods, [rs], [d]).disruptionsAllowed == 1)
        #expect(status(Self.budget(min: .string("50%")), pods, [rs], [d]).desiredHealthy == 2)
    }

    @Test func aReplicaSetWithoutADeploymentCountsItsOwnReplicas() {
        let rs = Self.replicaSet("solo", replicas: 2)
        let pods = ["a", "b"].map { Self.webPod($0, owner: Self.owned(by: rs)) }
        let s = status(Self.budget(max: .string("50%")), pods, [rs])
        #expect((s.expectedPods, s.desiredHealthy, s.disruptionsAllowed) == (2, 1, 1))
    }

    @Test func unmanagedPodsAreLeftOutOfTheScale() {
        let s = status(Self.budget(max: .int(1)), [Self.webPod("a"), Self.webPod("b")])
        #expect(s.expectedPods == 0 && s.disruptionsAllowed == 0)
    }

    @Test func aPodWhoseControllerIsMissingFailsSafe() {
        var b = Self.budget(max: .int(1))
        b.status.currentHealthy = 7
        b.status.disruptionsAllowed = 3
        let lost = Self.webPod("a", owner: OwnerReference(apiVersion: "apps/v1", kind: "StatefulSet", name: "db", uid: "x"))
        let s = status(b, [lost])
        #expect(s.disruptionsAllowed == 0)
        #expect(s.currentHealthy == 7, "failSafe changes only disruptionsAllowed and the condition")
        #expect(s.disruptionAllowedCondition == PodCondition(type: "DisruptionAllowed", status: "False", reason: "SyncFailed",
                                                             message: "found no controllers for pod \"a\"", lastTransitionTime: Self.now))
    }

    @Test func selectors() {
        var b = Self.budget(min: .int(1))
        #expect(DisruptionController.selects(b, ["app": "web"]))
        #expect(!DisruptionController.selects(b, ["app": "db"]))
        b.spec.selector = LabelSelector()
        #expect(DisruptionController.selects(b, ["app": "db"]), "in policy/v1 an empty selector selects every pod")
        b.spec.selector = nil
        #expect(!DisruptionController.selects(b, ["app": "web"]))
    }
}
