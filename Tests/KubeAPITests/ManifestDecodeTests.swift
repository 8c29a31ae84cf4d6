import Testing
@testable import KubeAPI

private func decodeOne(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> KubeObject {
    let docs = try ManifestDecoder.decode(text, file: "test.yaml")
    guard docs.count == 1, let o = docs[0].object else {
        throw CorpusError("expected one simulated object, got \(docs.map(\.kind))")
    }
    return o
}

private func q(_ s: String) throws -> Quantity { try Quantity(parsing: s) }

@Suite struct ManifestDecodeTests {
    @Test func fullPod() throws {
        let o = try decodeOne("""
        apiVersion: v1
        kind: Pod
        metadata:
          name: web-1
          namespace: shop
          uid: 1234
          labels: {app: web, version: 2}
          annotations:
            note: "hello"
          finalizers: [example.com/keep]
          ownerReferences:
          - apiVersion: apps/v1
            kind: ReplicaSet
            name: web-abc
            uid: u-1
            controller: true
        spec:
          nodeName: node-1
          nodeSelector: {disktype: ssd}
          schedulerName: my-scheduler
          priority: 1000
          priorityClassName: high
          restartPolicy: OnFailure
          terminationGracePeriodSeconds: 5
          overhead: {cpu: 250m}
          schedulingGates: [{name: wait}]
          tolerations:
          - key: node.kubernetes.io/unreachable
            operator: Exists
            effect: NoExecute
            tolerationSeconds: 60
          - key: dedicated
            value: gpu
            effect: ""
          initContainers:
          - name: sidecar
            image: busybox
            restartPolicy: Always
          containers:
          - name: app
            image: nginx
            imagePullPolicy: Always
            env: [{name: A, value: b}]
            livenessProbe: {httpGet: {path: /, port: 80}}
            ports:
            - {containerPort: 80, hostPort: 8080, protocol: UDP, name: web, hostIP: 10.0.0.1}
            resources:
              requests: {cpu: 0.5, memory: 128Mi, ephemeral-storage: 1e9}
              limits: {cpu: 1, memory: "256Mi"}
          volumes: [{name: data, emptyDir: {}}]
          securityContext: {runAsUser: 1000}
        status:
          phase: Running
          hostIP: 10.0.0.1
          conditions: [{type: Ready, status: "True"}]
        """)
        let p = try #require(o.pod)
        #expect(p.metadata.name == "web-1")
        #expect(p.metadata.namespace == "shop")
        #expect(p.metadata.uid == "1234")
        #expect(p.metadata.labels == ["app": "web", "version": "2"])
        #expect(p.metadata.annotations == ["note": "hello"])
        #expect(p.metadata.finalizers == ["example.com/keep"])
        #expect(p.metadata.ownerReferences == [OwnerReference(apiVersion: "apps/v1", kind: "ReplicaSet", name: "web-abc", uid: "u-1")])
        #expect(p.metadata.controllerRef?.name == "web-abc")
        #expect(p.spec.nodeName == "node-1")
        #expect(p.spec.nodeSelector == ["disktype": "ssd"])
        #expect(p.spec.schedulerName == "my-scheduler")
        #expect(p.spec.priority == 1000)
        #expect(p.spec.priorityClassName == "high")
        #expect(p.spec.restartPolicy == "OnFailure")
        #expect(p.spec.terminationGracePeriodSeconds == 5)
        #expect(p.spec.overhead == ["cpu": Quantity(milli: 250)])
        #expect(p.spec.schedulingGates == ["wait"])
        #expect(p.spec.tolerations == [
            Toleration(key: "node.kubernetes.io/unreachable", operator: .exists, effect: .noExecute, tolerationSeconds: 60),
            Toleration(key: "dedicated", operator: .equal, value: "gpu", effect: nil),
        ])
        #expect(p.spec.initContainers.first?.restartPolicy == "Always")
        let c = try #require(p.spec.containers.first)
        #expect(c.name == "app")
        #expect(c.image == "nginx")
        var port = ContainerPort(containerPort: 80, hostPort: 8080, protocol: "UDP", name: "web")
        port.hostIP = "10.0.0.1"
        #expect(c.ports == [port])
        #expect(c.resources.requests == ["cpu": try q("500m"), "memory": try q("128Mi"), "ephemeral-storage": try q("1G")])
        #expect(c.resources.limits == ["cpu": Quantity(value: 1), "memory": try q("256Mi")])
        #expect(c.restartPolicy == nil)
        #expect(p.status.phase == .running)
        #expect(p.status.hostIP == "10.0.0.1")
        #expect(p.status.conditions == [PodCondition(type: "Ready", status: "True")])
        #expect(p.isReady)
    }

    @Test func podDefaults() throws {
        let p = try #require(try decodeOne("apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec: {containers: [{name: c}]}\n").pod)
        #expect(p.metadata.namespace == "default")
        #expect(p.spec.schedulerName == "default-scheduler")
        #expect(p.spec.restartPolicy == "Always")
        #expect(p.spec.terminationGracePeriodSeconds == 30)
        #expect(p.spec.affinity == nil)
        #expect(p.spec.priority == nil)
        #expect(p.status.phase == .pending)
        #expect(p.spec.tolerations.isEmpty)
    }

    @Test func nodeWithStatus() throws {
        let n = try #require(try decodeOne("""
        apiVersion: v1
        kind: Node
        metadata:
          name: worker-1
          namespace: ignored
          labels: {topology.kubernetes.io/zone: a, kubernetes.io/hostname: worker-1}
        spec:
          unschedulable: true
          podCIDR: 10.244.1.0/24
          taints:
          - {key: dedicated, value: gpu, effect: NoSchedule}
          - {key: node.kubernetes.io/not-ready, effect: NoExecute}
        status:
          capacity: {cpu: "4", memory: 16Gi, pods: 110, nvidia.com/gpu: 2}
          conditions:
          - type: Ready
            status: "True"
            reason: KubeletReady
            message: kubelet is posting ready status
          images:
          - names: [registry.k8s.io/pause@sha256:abc, registry.k8s.io/pause:3.9]
            sizeBytes: 1000
          - names: [nginx:1.25]
        """).node)
        #expect(n.metadata.namespace == "")
        #expect(n.metadata.labels["topology.kubernetes.io/zone"] == "a")
        #expect(n.spec.unschedulable)
        #expect(n.spec.podCIDR == "10.244.1.0/24")
        #expect(n.spec.taints == [Taint(key: "dedicated", value: "gpu", effect: .noSchedule),
                                  Taint(key: "node.kubernetes.io/not-ready", effect: .noExecute)])
        #expect(n.status.capacity == ["cpu": Quantity(value: 4), "memory": try q("16Gi"), "pods": Quantity(value: 110),
                                      "nvidia.com/gpu": Quantity(value: 2)])
        #expect(n.status.allocatable == n.status.capacity)
        #expect(n.status.conditions == [NodeCondition(type: "Ready", status: "True", reason: "KubeletReady",
                                                      message: "kubelet is posting ready status")])
        #expect(n.isReady)
        #expect(n.status.images == ["registry.k8s.io/pause@sha256:abc", "nginx:1.25"])
    }

    @Test func nodeAllocatableWhenGiven() throws {
        let n = try #require(try decodeOne("""
        apiVersion: v1
        kind: Node
        metadata: {name: n}
        status:
          capacity: {cpu: 4, memory: 8Gi}
          allocatable: {cpu: 3800m}
        """).node)
        #expect(n.status.allocatable == ["cpu": Quantity(milli: 3800)])
        let bare = try #require(try decodeOne("apiVersion: v1\nkind: Node\nmetadata: {name: n}\n").node)
        #expect(bare.status.capacity.isEmpty && bare.status.allocatable.isEmpty)
        let missingEffect = try #require(decodeError("apiVersion: v1\nkind: Node\nmetadata: {name: n}\nspec: {taints: [{key: a}]}\n"))
        #expect(missingEffect.field == "spec.taints[0].effect")
    }

    @Test func replicaSetAndDeploymentDetails() throws {
        let rs = try #require(try decodeOne("""
        apiVersion: apps/v1
        kind: ReplicaSet
        metadata: {name: web-abc, namespace: shop}
        spec:
          minReadySeconds: 7
          selector:
            matchLabels: {app: web}
            matchExpressions:
            - {key: tier, operator: In, values: [frontend, edge]}
            - {key: canary, operator: DoesNotExist}
          template:
            metadata: {labels: {app: web, tier: frontend}}
            spec: {containers: [{name: c, image: nginx}]}
        """).replicaSet)
        #expect(rs.spec.replicas == 1)
        #expect(rs.spec.minReadySeconds == 7)
        #expect(rs.spec.selector == LabelSelector(matchLabels: ["app": "web"], matchExpressions: [
            LabelSelectorRequirement(key: "tier", operator: .in, values: ["frontend", "edge"]),
            LabelSelectorRequirement(key: "canary", operator: .doesNotExist),
        ]))
        #expect(rs.spec.selector.matches(rs.spec.template.metadata.labels))
        #expect(rs.spec.template.metadata.namespace == "")

        let d = try #require(try decodeOne("""
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web}
        spec:
          replicas: 0
          revisionHistoryLimit: 2
          paused: true
          minReadySeconds: 3
          progressDeadlineSeconds: 600
          strategy:
            type: RollingUpdate
            rollingUpdate: {maxSurge: 1, maxUnavailable: "50%"}
          selector: {matchLabels: {app: web}}
          template:
            metadata: {labels: {app: web}}
            spec: {containers: [{name: c}]}
        """).deployment)
        #expect(d.spec.replicas == 0)
        #expect(d.spec.revisionHistoryLimit == 2)
        #expect(d.spec.paused)
        #expect(d.spec.minReadySeconds == 3)
        #expect(d.spec.strategy.type == "RollingUpdate")
        #expect(d.spec.strategy.maxSurge == .int(1))
        #expect(d.spec.strategy.maxUnavailable == .string("50%"))

        let recreate = try #require(try decodeOne("""
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web}
        spec: {strategy: {type: Recreate}, selector: {matchLabels: {a: b}}, template: {metadata: {labels: {a: b}}}}
        """).deployment)
        #expect(recreate.spec.strategy.type == "Recreate")
        #expect(recreate.spec.strategy.maxSurge == .string("25%"))

        let negative = try #require(decodeError("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: w}\nspec: {replicas: -1}\n"))
        #expect(negative.description == "pods.yaml:4: spec.replicas: must be greater than or equal to 0, got -1")
        let quotedInt = try #require(decodeError("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: w}\nspec: {strategy: {rollingUpdate: {maxSurge: \"1\"}}}\n"))
        #expect(quotedInt.field == "spec.strategy.rollingUpdate.maxSurge")
    }

    @Test func leaseAndEvents() throws {
        let l = try #require(try decodeOne("""
        apiVersion: coordination.k8s.io/v1
        kind: Lease
        metadata: {name: worker-1, namespace: kube-node-lease}
        spec: {holderIdentity: worker-1, leaseDurationSeconds: 40, renewTime: "2024-01-01T00:00:00.000000Z"}
        """).lease)
        #expect(l.metadata.namespace == "kube-node-lease")
        #expect(l.spec.holderIdentity == "worker-1")
        #expect(l.spec.leaseDurationSeconds == 40)

        let v1 = try #require(try decodeOne("""
        apiVersion: v1
        kind: Event
        metadata: {name: web-1.17a8f3c2}
        involvedObject: {kind: Pod, namespace: default, name: web-1, uid: u-1}
        reason: FailedScheduling
        message: 0/3 nodes are available
        type: Warning
        source: {component: default-scheduler}
        count: 4
        """).event)
        #expect(v1.involvedObject == ObjectReference(kind: "Pod", namespace: "default", name: "web-1", uid: "u-1"))
        #expect(v1.reason == "FailedScheduling")
        #expect(v1.message == "0/3 nodes are available")
        #expect(v1.type == "Warning")
        #expect(v1.source == "default-scheduler")
        #expect(v1.count == 4)

        let events = try #require(try decodeOne("""
        apiVersion: events.k8s.io/v1
        kind: Event
        metadata: {name: e1, namespace: shop}
        regarding: {kind: Node, name: worker-1}
        reason: NodeNotReady
        note: Node is not ready
        reportingController: node-controller
        """).event)
        #expect(events.involvedObject == ObjectReference(kind: "Node", namespace: "", name: "worker-1"))
        #expect(events.message == "Node is not ready")
        #expect(events.type == "Normal")
        #expect(events.source == "node-controller")
        #expect(events.metadata.namespace == "shop")
    }

    @Test func listKind() throws {
        let docs = try ManifestDecoder.decode("""
        apiVersion: v1
        kind: List
        items:
        - apiVersion: v1
          kind: Pod
          metadata: {name: a}
        - apiVersion: v1
          kind: ConfigMap
          metadata: {name: settings}
        - apiVersion: apps/v1
          kind: Deployment
          metadata: {name: d}
          spec: {selector: {matchLabels: {a: b}}}
        """, file: "list.yaml")
        #expect(docs.map(\.kind) == ["Pod", "ConfigMap", "Deployment"])
        #expect(docs.map(\.line) == [4, 7, 10])
        let tree = try ManifestDecoder.parse("{apiVersion: v1, kind: List, items: [{apiVersion: v1, kind: Pod, metadata: {name: x}}]}", file: "l")
        #expect(try ManifestDecoder.decodeAll(tree[0], file: "l").map(\.name) == ["x"])
        #expect(try ManifestDecoder.decode("apiVersion: v1\nkind: List\nitems: []\n", file: "l").isEmpty)
    }

    @Test func emptyDocumentsAreSkipped() throws {
        #expect(try ManifestDecoder.decode("", file: "e").isEmpty)
        #expect(try ManifestDecoder.decode("# only a comment\n", file: "e").isEmpty)
        #expect(try ManifestDecoder.decode("---\n---\n# c\n---\n", file: "e").isEmpty)
        let docs = try ManifestDecoder.decode("---\n# nothing\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: a}\n---\n...\n", file: "e")
        #expect(docs.map(\.name) == ["a"])
        #expect(docs.first?.line == 4)
        #expect(try ManifestDecoder.parse("---\n---\na: 1\n", file: "e").count == 1)
    }

    @Test func json() throws {
        let docs = try ManifestDecoder.decode("""
        {
        \t"apiVersion": "apps/v1",
        \t"kind": "Deployment",
        \t"metadata": {"name": "web", "labels": {"app": "web"}},
        \t"spec": {
        \t\t"replicas": 2,
        \t\t"selector": {"matchLabels": {"app": "web"}},
        \t\t"template": {
        \t\t\t"metadata": {"labels": {"app": "web"}},
        \t\t\t"spec": {"containers": [{"name": "c", "image": "nginx", "resources": {"requests": {"cpu": 0.25, "memory": "64Mi"}}}]}
        \t\t}
        \t}
        }
        """, file: "d.json")
        let d = try #require(docs.first?.object?.deployment)
        #expect(d.spec.replicas == 2)
        #expect(d.spec.template.spec.containers.first?.resources.requests["cpu"] == Quantity(milli: 250))
        let bad = try #require(decodeError("{\n  \"apiVersion\": \"apps/v1\",\n  \"kind\": \"Deployment\",\n  \"metadata\": {\"name\": \"web\"},\n  \"spec\": {\"replicas\": \"2\"}\n}", file: "d.json"))
        #expect(bad.line == 5)
        #expect(bad.field == "spec.replicas")
    }

    @Test func anchorsAndMergeKeys() throws {
        let docs = try ManifestDecoder.decode("""
        apiVersion: v1
        kind: Pod
        metadata:
          name: a
          labels: &labels {app: web, tier: front}
          annotations:
            <<: *labels
            tier: back
        spec:
          containers:
          - &c {name: c, image: nginx}
        """, file: "a.yaml")
        let p = try #require(docs.first?.object?.pod)
        #expect(p.metadata.labels == ["app": "web", "tier": "front"])
        #expect(p.metadata.annotations == ["app": "web", "tier": "back"])
    }

    @Test func scalarsKeepTheirSpelling() throws {
        let nodes = try ManifestDecoder.parse("""
        a: "1"
        b: 1
        c: ~
        d:
        e: 'x'
        f: |
          text
        g: !!str 5
        h: null
        """, file: "s.yaml")
        let m = try #require(nodes.first)
        #expect(m["a"] == .scalar("1", quoted: true, line: 1))
        #expect(m["b"] == .scalar("1", quoted: false, line: 2))
        #expect(m["c"] == .null(line: 3))
        #expect(m["d"]?.line == 4)
        #expect(m["e"] == .scalar("x", quoted: true, line: 5))
        #expect(m["f"] == .scalar("text\n", quoted: true, line: 6))
        #expect(m["g"] == .scalar("5", quoted: true, line: 8))
        #expect(m["h"] == .null(line: 9))
        guard case .mapping(let pairs, let line) = m else { Issue.record("not a mapping"); return }
        #expect(pairs.map(\.key) == ["a", "b", "c", "d", "e", "f", "g", "h"])
        #expect(line == 1)
    }

    @Test func handBuiltTreesDecodeWithoutLines() throws {
        // What a Lua table converter produces: no line numbers.
        let tree = ManifestNode.mapping([
            (key: "apiVersion", value: .scalar("v1", quoted: true, line: nil)),
            (key: "kind", value: .scalar("Pod", quoted: true, line: nil)),
            (key: "metadata", value: .mapping([(key: "name", value: .scalar("lua-pod", quoted: true, line: nil))], line: nil)),
            (key: "spec", value: .mapping([
                (key: "containers", value: .sequence([
                    .mapping([
                        (key: "name", value: .scalar("c", quoted: true, line: nil)),
                        (key: "resources", value: .mapping([
                            (key: "requests", value: .mapping([(key: "cpu", value: .scalar("0.1", quoted: false, line: nil))], line: nil)),
                        ], line: nil)),
                    ], line: nil),
                ], line: nil)),
                (key: "priority", value: .scalar("7", quoted: false, line: nil)),
            ], line: nil)),
        ], line: nil)
        let doc = try ManifestDecoder.decode(tree, file: "plugin.lua")
        #expect(doc.line == 0)
        let p = try #require(doc.object?.pod)
        #expect(p.metadata.name == "lua-pod")
        #expect(p.spec.priority == 7)
        #expect(p.spec.containers.first?.resources.requests["cpu"]?.milliValue == 100)

        let bad = ManifestNode.mapping([
            (key: "apiVersion", value: .scalar("v1", quoted: true, line: nil)),
            (key: "kind", value: .scalar("Pod", quoted: true, line: nil)),
            (key: "metadata", value: .mapping([(key: "name", value: .scalar("p", quoted: true, line: nil))], line: nil)),
            (key: "spec", value: .mapping([(key: "priority", value: .scalar("7", quoted: true, line: nil))], line: nil)),
        ], line: nil)
        #expect(throws: ManifestError(file: "plugin.lua", line: nil, field: "spec.priority",
                                      message: "expected an integer, got \"7\" (a quoted string; remove the quotes)")) {
            try ManifestDecoder.decode(bad, file: "plugin.lua")
        }
    }

    @Test func integersAcceptIntegralFloatsButNotFractions() throws {
        let d = try #require(try decodeOne("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: w}\nspec: {replicas: 3.0}\n").deployment)
        #expect(d.spec.replicas == 3)
        let e = try #require(decodeError("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: w}\nspec: {replicas: 2.5}\n"))
        #expect(e.message == "expected an integer, got \"2.5\"")
        let big = try #require(decodeError("apiVersion: v1\nkind: Pod\nmetadata: {name: w}\nspec: {priority: 3000000000}\n"))
        #expect(big.field == "spec.priority")
    }

    @Test func manifestNodeEquality() {
        let a = ManifestNode.mapping([(key: "k", value: .sequence([.null(line: 2)], line: 2))], line: 1)
        let b = ManifestNode.mapping([(key: "k", value: .sequence([.null(line: 2)], line: 2))], line: 1)
        let c = ManifestNode.mapping([(key: "j", value: .sequence([.null(line: 2)], line: 2))], line: 1)
        #expect(a == b)
        #expect(a != c)
        #expect(a != .null(line: 1))
        #expect(a.line == 1)
        #expect(a["k"]?.line == 2)
    }
}
