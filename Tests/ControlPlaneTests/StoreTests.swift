import Testing
import SimCore
import KubeAPI
import KubeStore
@testable import KubeAPIServer
@testable import KubeControllers

func pod(_ name: String, node: String = "") -> KubeObject {
    var p = Pod(metadata: ObjectMeta(name: name, namespace: "default"), spec: PodSpec(containers: [Container(name: "c")]))
    p.spec.nodeName = node
    return .pod(p)
}

struct StoreTests {
    @Test func revisionsAndResourceVersions() throws {
        let s = Store()
        let a = try s.create(pod("a"))
        let b = try s.create(pod("b"))
        #expect(a.metadata.resourceVersion == 1 && b.metadata.resourceVersion == 2)
        let a2 = try s.update(a)
        #expect(a2.metadata.resourceVersion == 3 && s.revision == 3)
        #expect(s.list(.pod).map(\.metadata.name) == ["a", "b"])
        #expect(throws: StoreError.self) { try s.create(pod("a")) }
    }

    @Test func staleUpdatesConflict() throws {
        let s = Store()
        let a = try s.create(pod("a"))
        _ = try s.update(a)
        #expect {
            try s.update(a)
        } throws: { ($0 as? StoreError)?.code == .conflict }
        var unconditional = a
        unconditional.metadata.resourceVersion = 0
        #expect(throws: Never.self) { try s.update(unconditional) }
    }

    @Test func watchReplaysFromARevisionThenFollows() throws {
        let s = Store()
        _ = try s.create(pod("a"))
        _ = try s.create(pod("b"))
        _ = try s.create(.node(Node(metadata: ObjectMeta(name: "n"))))
        var seen: [String] = []
        _ = try s.watch(.pod, from: 1) { seen.append("\($0.type.rawValue) \($0.object.metadata.name)@\($0.revision)") }
        #expect(seen == ["ADDED b@2"])
        try s.delete(.pod, namespace: "default", name: "a")
        #expect(seen == ["ADDED b@2", "DELETED a@4"])
        s.compact(to: 3)
        #expect {
            _ = try s.watch(.pod, from: 1) { _ in }
        } throws: { ($0 as? StoreError)?.code == .compacted }
    }
}

struct APIServerTests {
    @Test func admissionDefaultsNamesTolerationsAndRequests() throws {
        let sim = Simulation(seed: 1)
        let api = APIServer(sim: sim)
        let c = api.client("test")
        var p = Pod(metadata: ObjectMeta(), spec: PodSpec(containers: [Container(name: "c")]))
        p.metadata.generateName = "web-"
        p.spec.containers[0].resources.limits = ["cpu": Quantity(milli: 250)]
        let created = try #require(try c.create(.pod(p)).pod)
        #expect(created.metadata.name.hasPrefix("web-") && created.metadata.name.count == 9)
        #expect(created.metadata.namespace == "default")
        #expect(created.metadata.uid.count == 36)
        #expect(created.spec.containers[0].resources.requests["cpu"] == Quantity(milli: 250))
        let keys = created.spec.tolerations.map(\.key)
        #expect(keys == ["node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"])
        #expect(created.spec.tolerations.allSatisfy { $0.tolerationSeconds == 300 && $0.effect == .noExecute })
    }

    @Test func invalidObjectsAreRejected() {
        let api = APIServer(sim: Simulation(seed: 1))
        let c = api.client("test")
        #expect {
            try c.create(.pod(Pod(metadata: ObjectMeta(name: "x"))))
        } throws: { ($0 as? APIError)?.reason == .invalid }
    }

    @Test func permissionsAreEnforced() {
        let api = APIServer(sim: Simulation(seed: 1))
        let c = api.client("reader", permissions: ["pods": ["get", "list"]])
        #expect(throws: Never.self) { try c.list(.pod) }
        #expect {
            try c.create(pod("x"))
        } throws: { ($0 as? APIError)?.reason == .forbidden }
    }

    @Test func boundPodsAreDeletedGracefully() throws {
        let sim = Simulation(seed: 1)
        let c = APIServer(sim: sim).client("test")
        try c.create(pod("bound", node: "n1"))
        try c.create(pod("pending"))
        try c.delete(.pod, name: "bound")
        try c.delete(.pod, name: "pending")
        #expect(try c.get(.pod, name: "pending") == nil)
        let terminating = try #require(try c.get(.pod, name: "bound")?.pod)
        #expect(terminating.isTerminating)
        try c.delete(.pod, name: "bound", gracePeriodSeconds: 0)
        #expect(try c.get(.pod, name: "bound") == nil)
    }

    @Test func watchesArriveLateButInOrder() throws {
        let sim = Simulation(seed: 1)
        let api = APIServer(sim: sim)
        let c = api.client("test")
        var got: [(String, SimTime)] = []
        try c.watch(.pod) { got.append(($0.object.metadata.name, sim.now)) }
        for i in 0..<20 { try c.create(pod("p\(i)")) }
        #expect(got.isEmpty)
        sim.run(until: SimTime.zero + .seconds(1))
        #expect(got.map(\.0) == (0..<20).map { "p\($0)" })
        #expect(got.allSatisfy { $0.1 >= SimTime.zero + .milliseconds(1) && $0.1 <= SimTime.zero + .milliseconds(100) })
    }
}

struct WorkQueueTests {
    @Test func keysAreDedupedAndFailuresBackOff() {
        let sim = Simulation(seed: 1)
        let q = WorkQueue(sim: sim)
        var runs: [(String, SimTime)] = []
        var failuresLeft = 3
        q.handler = { key in
            runs.append((key, sim.now))
            if key == "bad" && failuresLeft > 0 { failuresLeft -= 1; throw CancellationError() }
            return nil
        }
        q.add("a"); q.add("a"); q.add("bad"); q.add("a")
        sim.run(until: SimTime.zero + .seconds(1))
        #expect(runs.filter { $0.0 == "a" }.count == 1)
        let bad = runs.filter { $0.0 == "bad" }.map { $0.1.nanoseconds / 1_000_000 }
        // 5ms, then 10ms, then 20ms later (client-go's default rate limiter).
        #expect(bad == [0, 5, 15, 35])
    }

    @Test func aKeyWaitingTwiceKeepsTheEarlierTimeAndOneTimer() {
        let sim = Simulation(seed: 1)
        let q = WorkQueue(sim: sim)
        var runs: [Int64] = []
        q.handler = { _ in runs.append(sim.now.nanoseconds / 1_000_000); return nil }
        q.add("k", after: .milliseconds(50))
        q.add("k", after: .milliseconds(20))
        q.add("k", after: .milliseconds(80))
        sim.run(until: SimTime.zero + .seconds(1))
        #expect(runs == [20])
    }
}
