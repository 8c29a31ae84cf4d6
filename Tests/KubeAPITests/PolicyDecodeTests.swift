import Testing
@testable import KubeAPI

/// PodDisruptionBudget (policy/v1) and PriorityClass (scheduling.k8s.io/v1) decoding,
/// with the corpus examples and the errors a student sees.
@Suite struct PolicyDecodeTests {
    // MARK: - Corpus

    @Test func zookeeperBudgetWithMaxUnavailable() throws {
        let b = try #require(try Corpus.single("policy__zookeeper-pod-disruption-budget-maxunavailable.yaml").podDisruptionBudget)
        #expect(b.metadata.name == "zk-pdb")
        #expect(b.metadata.namespace == "default")
        #expect(b.spec.maxUnavailable == .int(1))
        #expect(b.spec.minAvailable == nil)
        #expect(b.spec.selector == LabelSelector(matchLabels: ["app.kubernetes.io/name": "zookeeper"]))
        #expect(b.status == PodDisruptionBudgetStatus())
    }

    @Test func zookeeperBudgetWithMinAvailable() throws {
        let b = try #require(try Corpus.single("policy__zookeeper-pod-disruption-budget-minavailable.yaml").podDisruptionBudget)
        #expect(b.spec.minAvailable == .int(2))
        #expect(b.spec.maxUnavailable == nil)
        #expect(b.spec.unhealthyPodEvictionPolicy == nil)
    }

    @Test func highPriorityPodNamesItsClass() throws {
        let p = try Corpus.pod("policy__high-priority-pod.yaml")
        #expect(p.spec.priorityClassName == "high")
        #expect(p.spec.preemptionPolicy == nil)
        #expect(p.status.nominatedNodeName == "")
    }

    // MARK: - PriorityClass

    /// The PriorityClass of the Kubernetes "Pod Priority and Preemption" page.
    @Test func priorityClassFromTheDocs() throws {
        let docs = try ManifestDecoder.decode("""
        apiVersion: scheduling.k8s.io/v1
        kind: PriorityClass
        metadata:
          name: high-priority-nonpreempting
          namespace: ignored
        value: 1000000
        preemptionPolicy: Never
        globalDefault: false
        description: "This priority class will not cause other pods to be preempted."
        """, file: "pc.yaml")
        let c = try #require(docs.first?.object?.priorityClass)
        #expect(c.metadata.name == "high-priority-nonpreempting")
        #expect(c.metadata.namespace == "")
        #expect(c.value == 1_000_000)
        #expect(c.preemptionPolicy == .never)
        #expect(!c.globalDefault)
        #expect(c.description == "This priority class will not cause other pods to be preempted.")
        #expect(!Kind.priorityClass.isNamespaced && Kind.podDisruptionBudget.isNamespaced)
    }

    @Test func priorityClassNeedsAValue() throws {
        let e = try #require(decodeError("apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata:\n  name: high\nglobalDefault: true\n",
                                         file: "pc.yaml"))
        #expect(e.description == "pc.yaml:1: value: missing required field")
    }

    @Test func priorityClassValueIsAnInt32() throws {
        let e = try #require(decodeError("apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata: {name: high}\nvalue: 3000000000\n"))
        #expect(e.field == "value")
        #expect(e.line == 4)
    }

    @Test func priorityClassPreemptionPolicyIsOneOfTwo() throws {
        let e = try #require(decodeError("apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata: {name: high}\nvalue: 5\npreemptionPolicy: Sometimes\n"))
        #expect(e.field == "preemptionPolicy")
        #expect(e.message.contains("PreemptLowerPriority"))
    }

    @Test func priorityClassWrongApiVersion() throws {
        let e = try #require(decodeError("apiVersion: v1\nkind: PriorityClass\nmetadata: {name: high}\nvalue: 5\n"))
        #expect(e.message == "apiVersion 'v1' does not match kind 'PriorityClass' (expected 'scheduling.k8s.io/v1')")
    }

    // MARK: - PodDisruptionBudget

    @Test func budgetWithPercentagesAndPolicy() throws {
        let docs = try ManifestDecoder.decode("""
        apiVersion: policy/v1
        kind: PodDisruptionBudget
        metadata: {name: web, namespace: shop}
        spec:
          minAvailable: "50%"
          unhealthyPodEvictionPolicy: AlwaysAllow
          selector:
            matchExpressions:
              - {key: app, operator: In, values: [web]}
        status:
          currentHealthy: 3
          desiredHealthy: 2
          disruptionsAllowed: 1
          expectedPods: 4
        """, file: "pdb.yaml")
        let b = try #require(docs.first?.object?.podDisruptionBudget)
        #expect(b.metadata.namespace == "shop")
        #expect(b.spec.minAvailable == .string("50%"))
        #expect(b.spec.unhealthyPodEvictionPolicy == "AlwaysAllow")
        #expect(b.spec.selector?.matches(["app": "web"]) == true)
        #expect(b.status.disruptionsAllowed == 1)
        #expect(b.status.expectedPods == 4)
    }

    @Test func budgetCannotSetBoth() throws {
        let e = try #require(decodeError("""
        apiVersion: policy/v1
        kind: PodDisruptionBudget
        metadata: {name: web}
        spec:
          minAvailable: 1
          maxUnavailable: 1
        """, file: "pdb.yaml"))
        #expect(e.description == "pdb.yaml:6: spec.maxUnavailable: minAvailable and maxUnavailable cannot be both set")
    }

    @Test func budgetPercentageAtMost100() throws {
        let e = try #require(decodeError("apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: web}\nspec:\n  maxUnavailable: 150%\n"))
        #expect(e.field == "spec.maxUnavailable")
        #expect(e.line == 5)
        #expect(e.message == "must not be greater than 100%, got \"150%\"")
    }

    @Test func budgetCountMustBeAnIntegerOrPercentage() throws {
        let e = try #require(decodeError("apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: web}\nspec:\n  minAvailable: most\n"))
        #expect(e.field == "spec.minAvailable")
        #expect(e.message.contains("expected an integer or a percentage"))
    }

    @Test func budgetEvictionPolicyIsChecked() throws {
        let e = try #require(decodeError("apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: web}\nspec:\n  unhealthyPodEvictionPolicy: Never\n"))
        #expect(e.field == "spec.unhealthyPodEvictionPolicy")
    }

    // MARK: - Pod fields

    @Test func podPreemptionPolicyAndNomination() throws {
        let docs = try ManifestDecoder.decode(podHeader + """
        spec:
          containers: [{name: c, image: x}]
          preemptionPolicy: Never
        status:
          nominatedNodeName: node-2
        """, file: "pod.yaml")
        let p = try #require(docs.first?.object?.pod)
        #expect(p.spec.preemptionPolicy == .never)
        #expect(p.status.nominatedNodeName == "node-2")
        let e = try #require(decodeError(podHeader + "spec:\n  containers: [{name: c}]\n  preemptionPolicy: Always\n"))
        #expect(e.field == "spec.preemptionPolicy")
    }
}
