import Foundation
import Testing
@testable import KubeAPI

/// The Kubernetes documentation examples (CC BY 4.0, see its NOTICE.md), kept byte for
/// byte in Tests/Corpus/k8s-website-examples.
enum Corpus {
    static let directory: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // Tests/KubeAPITests
        .deletingLastPathComponent()  // Tests
        .appendingPathComponent("Corpus/k8s-website-examples")

    /// Every .yaml file of the corpus (empty when the folder is missing: `folderExists` fails then).
    static var files: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [])
            .filter { $0.hasSuffix(".yaml") }.sorted()
    }

    static func text(_ file: String) throws -> String {
        try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
    }

    static func documents(_ file: String) throws -> [ManifestDocument] {
        try ManifestDecoder.decode(try text(file), file: file)
    }

    /// The objects of a file, as (kind, name, line), in document order.
    static let expected: [String: [String]] = [
        "admin__namespace-dev.yaml": ["Namespace/development@2"],
        "admin__resource__cpu-constraints.yaml": ["LimitRange/cpu-min-max-demo-lr@2"],
        "admin__resource__memory-defaults.yaml": ["LimitRange/mem-limit-range@2"],
        "admin__resource__quota-mem-cpu.yaml": ["ResourceQuota/mem-cpu-demo@2"],
        "admin__resource__quota-pod.yaml": ["ResourceQuota/pod-demo@2"],
        "application__deployment-sidecar.yaml": ["Deployment/myapp@1"],
        "application__guestbook__frontend-deployment.yaml": ["Deployment/frontend@2"],
        "application__job__indexed-job.yaml": ["Job/indexed-job@2"],
        "application__job__job-sidecar.yaml": ["Job/myjob@1"],
        "application__mysql__mysql-services.yaml": ["Service/mysql@2", "Service/mysql-read@19"],
        "application__nginx-app.yaml": ["Service/my-nginx-svc@2", "Deployment/my-nginx@22"],
        "application__php-apache.yaml": ["Deployment/php-apache@1", "Service/php-apache@25"],
        "controllers__daemonset.yaml": ["DaemonSet/fluentd-elasticsearch@1"],
        "controllers__fluentd-daemonset.yaml": ["DaemonSet/fluentd-elasticsearch@1"],
        "controllers__frontend.yaml": ["ReplicaSet/frontend@1"],
        "controllers__job.yaml": ["Job/pi@1"],
        "controllers__nginx-deployment.yaml": ["Deployment/nginx-deployment@1"],
        "pods__init-containers.yaml": ["Pod/init-demo@2"],
        "pods__pod-nginx-preferred-affinity.yaml": ["Pod/nginx@2"],
        "pods__pod-nginx-required-affinity.yaml": ["Pod/nginx@2"],
        "pods__pod-nginx-specific-node.yaml": ["Pod/nginx@2"],
        "pods__pod-nginx.yaml": ["Pod/nginx@2"],
        "pods__pod-with-affinity-anti-affinity.yaml": ["Pod/with-affinity-anti-affinity@1"],
        "pods__pod-with-affinity-preferred-weight.yaml": ["Pod/with-affinity-preferred-weight@2"],
        "pods__pod-with-pod-affinity.yaml": ["Pod/with-pod-affinity@2"],
        "pods__pod-with-scheduling-gates.yaml": ["Pod/test-pod@2"],
        "pods__pod-with-toleration.yaml": ["Pod/nginx@2"],
        "pods__probe__tcp-liveness-readiness.yaml": ["Pod/goproxy@1"],
        "pods__qos__qos-pod-4.yaml": ["Pod/qos-demo-4@2"],
        "pods__qos__qos-pod.yaml": ["Pod/qos-demo@2"],
        "pods__resource__cpu-request-limit.yaml": ["Pod/cpu-demo@2"],
        "pods__resource__extended-resource-pod.yaml": ["Pod/extended-resource-demo@2"],
        "pods__resource__memory-request-limit.yaml": ["Pod/memory-demo@2"],
        "pods__topology-spread-constraints__one-constraint-with-nodeaffinity.yaml": ["Pod/mypod@2"],
        "pods__topology-spread-constraints__one-constraint.yaml": ["Pod/mypod@2"],
        "pods__topology-spread-constraints__two-constraints.yaml": ["Pod/mypod@2"],
        "policy__high-priority-pod.yaml": ["Pod/high-priority@2"],
        "policy__priority-class-resourcequota.yaml": ["ResourceQuota/pods-cluster-services@2"],
        "policy__zookeeper-pod-disruption-budget-maxunavailable.yaml": ["PodDisruptionBudget/zk-pdb@1"],
        "policy__zookeeper-pod-disruption-budget-minavailable.yaml": ["PodDisruptionBudget/zk-pdb@1"],
        "service__access__backend-deployment.yaml": ["Deployment/backend@2"],
    ]

    static func single(_ file: String) throws -> KubeObject {
        let docs = try documents(file)
        guard docs.count == 1, let o = docs[0].object else {
            throw CorpusError("\(file): expected one simulated object, got \(docs.map(\.kind))")
        }
        return o
    }

    static func pod(_ file: String) throws -> Pod {
        guard let p = try single(file).pod else { throw CorpusError("\(file): not a Pod") }
        return p
    }
}

struct CorpusError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

private func q(_ s: String) -> Quantity {
    (try? Quantity(parsing: s)) ?? Quantity(value: -999_999)
}

@Suite struct ManifestCorpusTests {
    @Test func folderExists() {
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: Corpus.directory.path, isDirectory: &isDirectory)
        #expect(exists && isDirectory.boolValue, "corpus folder missing: \(Corpus.directory.path)")
        #expect(Corpus.files.count >= 41, "expected the 41 example files, found \(Corpus.files.count)")
    }

    @Test func everyFileHasAnExpectation() {
        #expect(Set(Corpus.files) == Set(Corpus.expected.keys))
    }

    @Test(arguments: Corpus.files)
    func decodes(_ file: String) throws {
        let docs = try Corpus.documents(file)
        #expect(docs.map { "\($0.kind)/\($0.name)@\($0.line)" } == Corpus.expected[file])
        for doc in docs {
            let simulated = Kind(rawValue: doc.kind) != nil
            #expect((doc.object != nil) == simulated, "\(file): \(doc.kind)")
            if let o = doc.object {
                #expect(o.metadata.namespace.isEmpty == !o.kind.isNamespaced)
                if case .pod(let p) = o { #expect(!p.spec.containers.isEmpty) }
            }
        }
    }

    // MARK: - Spot checks

    @Test func nginxDeployment() throws {
        guard let d = try Corpus.single("controllers__nginx-deployment.yaml").deployment else {
            Issue.record("not a Deployment"); return
        }
        #expect(d.metadata.name == "nginx-deployment")
        #expect(d.metadata.namespace == "default")
        #expect(d.metadata.labels == ["app.kubernetes.io/name": "nginx"])
        #expect(d.spec.replicas == 3)
        #expect(d.spec.selector == LabelSelector(matchLabels: ["app.kubernetes.io/name": "nginx"]))
        #expect(d.spec.template.metadata.labels == ["app.kubernetes.io/name": "nginx"])
        #expect(d.spec.template.spec.containers.map(\.name) == ["nginx"])
        #expect(d.spec.template.spec.containers.first?.image == "nginx:1.14.2")
        #expect(d.spec.template.spec.containers.first?.ports == [ContainerPort(containerPort: 80)])
        #expect(d.spec.strategy == DeploymentStrategy())
        #expect(d.spec.revisionHistoryLimit == 10)
    }

    @Test func tolerationFlowStyle() throws {
        let p = try Corpus.pod("pods__pod-with-toleration.yaml")
        #expect(p.metadata.labels == ["env": "test"])
        #expect(p.spec.tolerations == [Toleration(key: "example-key", operator: .exists, effect: .noSchedule)])
        #expect(p.spec.containers.map(\.image) == ["nginx"])
    }

    @Test func extendedResource() throws {
        let p = try Corpus.pod("pods__resource__extended-resource-pod.yaml")
        let c = try #require(p.spec.containers.first)
        #expect(c.resources.requests == ["example.com/dongle": Quantity(value: 3)])
        #expect(c.resources.limits == ["example.com/dongle": Quantity(value: 3)])
    }

    @Test func requiredNodeAffinity() throws {
        let p = try Corpus.pod("pods__pod-nginx-required-affinity.yaml")
        let na = try #require(p.spec.affinity?.nodeAffinity)
        #expect(na.required == [NodeSelectorTerm(matchExpressions: [
            NodeSelectorRequirement(key: "disktype", operator: "In", values: ["ssd"]),
        ])])
        #expect(na.preferred.isEmpty)
        #expect(p.spec.affinity?.podAffinity == nil)
    }

    @Test func preferredNodeAffinity() throws {
        let p = try Corpus.pod("pods__pod-nginx-preferred-affinity.yaml")
        let na = try #require(p.spec.affinity?.nodeAffinity)
        #expect(na.required == nil)
        #expect(na.preferred == [PreferredSchedulingTerm(weight: 1, preference: NodeSelectorTerm(matchExpressions: [
            NodeSelectorRequirement(key: "disktype", operator: "In", values: ["ssd"]),
        ]))])
    }

    @Test func nodeAffinityBlockAndFlowAgree() throws {
        let block = try Corpus.pod("pods__pod-with-affinity-anti-affinity.yaml")
        let flow = try Corpus.pod("pods__pod-with-affinity-preferred-weight.yaml")
        let b = try #require(block.spec.affinity?.nodeAffinity)
        let f = try #require(flow.spec.affinity?.nodeAffinity)
        #expect(b.required?.first?.matchExpressions.first?.values == ["linux", "macOs"])
        #expect(f.required?.first?.matchExpressions.first?.values == ["linux"])
        #expect(b.preferred.map(\.weight) == [1, 50])
        #expect(b.preferred == f.preferred)
        #expect(b.preferred.last?.preference.matchExpressions == [
            NodeSelectorRequirement(key: "label-2", operator: "In", values: ["key-2"]),
        ])
    }

    @Test func podAffinityAndAntiAffinity() throws {
        let p = try Corpus.pod("pods__pod-with-pod-affinity.yaml")
        let zone = "topology.kubernetes.io/zone"
        #expect(p.spec.affinity?.podAffinity == PodAffinity(required: [
            PodAffinityTerm(labelSelector: LabelSelector(matchExpressions: [
                LabelSelectorRequirement(key: "security", operator: .in, values: ["S1"]),
            ]), topologyKey: zone),
        ]))
        #expect(p.spec.affinity?.podAntiAffinity == PodAffinity(preferred: [
            WeightedPodAffinityTerm(weight: 100, term: PodAffinityTerm(labelSelector: LabelSelector(matchExpressions: [
                LabelSelectorRequirement(key: "security", operator: .in, values: ["S2"]),
            ]), topologyKey: zone)),
        ]))
    }

    @Test func topologySpreadConstraints() throws {
        let p = try Corpus.pod("pods__topology-spread-constraints__two-constraints.yaml")
        let selector = LabelSelector(matchLabels: ["foo": "bar"])
        #expect(p.spec.topologySpreadConstraints == [
            TopologySpreadConstraint(maxSkew: 1, topologyKey: "zone", whenUnsatisfiable: "DoNotSchedule", labelSelector: selector),
            TopologySpreadConstraint(maxSkew: 1, topologyKey: "node", whenUnsatisfiable: "DoNotSchedule", labelSelector: selector),
        ])
        let withAffinity = try Corpus.pod("pods__topology-spread-constraints__one-constraint-with-nodeaffinity.yaml")
        #expect(withAffinity.spec.topologySpreadConstraints.count == 1)
        #expect(withAffinity.spec.affinity?.nodeAffinity?.required?.first?.matchExpressions
            == [NodeSelectorRequirement(key: "zone", operator: "NotIn", values: ["zoneC"])])
    }

    @Test func schedulingGates() throws {
        let p = try Corpus.pod("pods__pod-with-scheduling-gates.yaml")
        #expect(p.spec.schedulingGates == ["example.com/foo", "example.com/bar"])
        #expect(p.spec.containers.first?.image == "registry.k8s.io/pause:3.6")
    }

    @Test func cpuAndMemoryRequests() throws {
        let cpu = try Corpus.pod("pods__resource__cpu-request-limit.yaml")
        #expect(cpu.metadata.namespace == "cpu-example")
        #expect(cpu.spec.containers.first?.resources.requests["cpu"]?.milliValue == 500)
        #expect(cpu.spec.containers.first?.resources.limits["cpu"]?.milliValue == 1000)
        let mem = try Corpus.pod("pods__resource__memory-request-limit.yaml")
        #expect(mem.spec.containers.first?.resources.requests["memory"]?.value == Int64(104_857_600))
        #expect(mem.spec.containers.first?.resources.limits["memory"] == q("200Mi"))
        let qos = try Corpus.pod("pods__qos__qos-pod.yaml")
        #expect(qos.spec.containers.first?.resources.requests == qos.spec.containers.first?.resources.limits)
        #expect(qos.spec.containers.first?.resources.requests == ["cpu": q("700m"), "memory": q("200Mi")])
        let burstable = try Corpus.pod("pods__qos__qos-pod-4.yaml")
        #expect(burstable.spec.containers.map(\.name) == ["qos-demo-4-ctr-1", "qos-demo-4-ctr-2"])
        #expect(burstable.spec.containers.last?.resources == ResourceRequirements())
    }

    @Test func highPriorityPod() throws {
        let p = try Corpus.pod("policy__high-priority-pod.yaml")
        #expect(p.spec.priorityClassName == "high")
        #expect(p.spec.priority == nil)
        #expect(p.spec.containers.first?.resources.requests == ["memory": q("10Gi"), "cpu": q("500m")])
    }

    @Test func initContainersAndSidecars() throws {
        let p = try Corpus.pod("pods__init-containers.yaml")
        #expect(p.spec.initContainers.map(\.name) == ["install"])
        #expect(p.spec.initContainers.first?.image == "busybox:1.28")
        #expect(p.spec.initContainers.first?.restartPolicy == nil)
        #expect(p.spec.containers.first?.ports.first?.containerPort == 80)
        guard let d = try Corpus.single("application__deployment-sidecar.yaml").deployment else {
            Issue.record("not a Deployment"); return
        }
        #expect(d.spec.replicas == 1)
        #expect(d.spec.template.spec.initContainers.first?.name == "logshipper")
        #expect(d.spec.template.spec.initContainers.first?.restartPolicy == "Always")
    }

    @Test func nodeNameAndNodeSelector() throws {
        #expect(try Corpus.pod("pods__pod-nginx-specific-node.yaml").spec.nodeName == "foo-node")
        #expect(try Corpus.pod("pods__pod-nginx.yaml").spec.nodeSelector == ["disktype": "ssd"])
    }

    @Test func nginxAppServiceAndDeployment() throws {
        let docs = try Corpus.documents("application__nginx-app.yaml")
        #expect(docs.count == 2)
        #expect(docs.first == .unsupported(kind: "Service", apiVersion: "v1", name: "my-nginx-svc", line: 2))
        let d = try #require(docs.last?.object?.deployment)
        #expect(d.metadata.name == "my-nginx")
        #expect(d.spec.replicas == 3)
        #expect(d.spec.template.spec.containers.first?.image == "nginx:1.14.2")
        #expect(d.spec.template.spec.containers.first?.ports.first?.containerPort == 80)
    }

    @Test func phpApacheDefaultsToOneReplica() throws {
        let docs = try Corpus.documents("application__php-apache.yaml")
        let d = try #require(docs.first?.object?.deployment)
        #expect(d.spec.replicas == 1)
        #expect(d.spec.template.spec.containers.first?.resources == ResourceRequirements(
            requests: ["cpu": Quantity(milli: 200)], limits: ["cpu": Quantity(milli: 500)]))
        #expect(docs.last == .unsupported(kind: "Service", apiVersion: "v1", name: "php-apache", line: 25))
    }

    @Test func backendDeploymentWithDocumentMarkers() throws {
        guard let d = try Corpus.single("service__access__backend-deployment.yaml").deployment else {
            Issue.record("not a Deployment"); return
        }
        let labels = ["app.kubernetes.io/name": "hello", "tier": "backend", "track": "stable"]
        #expect(d.spec.selector.matchLabels == labels)
        #expect(d.spec.template.metadata.labels == labels)
        #expect(d.spec.replicas == 3)
        #expect(d.spec.template.spec.containers.first?.ports == [ContainerPort(containerPort: 80, name: "http")])
    }

    @Test func replicaSetFrontend() throws {
        guard let rs = try Corpus.single("controllers__frontend.yaml").replicaSet else {
            Issue.record("not a ReplicaSet"); return
        }
        #expect(rs.spec.replicas == 3)
        #expect(rs.spec.selector == LabelSelector(matchLabels: ["tier": "frontend"]))
        #expect(rs.metadata.labels == ["app": "nginx", "tier": "frontend"])
        #expect(rs.spec.template.spec.containers.first?.image == "nginx")
    }

    @Test func guestbookFrontendIgnoresEnv() throws {
        guard let d = try Corpus.single("application__guestbook__frontend-deployment.yaml").deployment else {
            Issue.record("not a Deployment"); return
        }
        #expect(d.spec.template.spec.containers.first?.resources.requests == ["cpu": q("100m"), "memory": q("100Mi")])
        #expect(d.spec.selector.matchLabels == ["app": "guestbook", "tier": "frontend"])
    }

    @Test func unsupportedKindsKeepTheirApiVersion() throws {
        #expect(try Corpus.documents("controllers__daemonset.yaml")
            == [.unsupported(kind: "DaemonSet", apiVersion: "apps/v1", name: "fluentd-elasticsearch", line: 1)])
        #expect(try Corpus.documents("application__job__indexed-job.yaml")
            == [.unsupported(kind: "Job", apiVersion: "batch/v1", name: "indexed-job", line: 2)])
        #expect(try Corpus.documents("admin__resource__quota-pod.yaml")
            == [.unsupported(kind: "ResourceQuota", apiVersion: "v1", name: "pod-demo", line: 2)])
    }

    @Test func probesAreIgnored() throws {
        let p = try Corpus.pod("pods__probe__tcp-liveness-readiness.yaml")
        #expect(p.spec.containers.first?.ports.first?.containerPort == 8080)
        #expect(p.metadata.labels == ["app.kubernetes.io/name": "goproxy"])
    }
}
