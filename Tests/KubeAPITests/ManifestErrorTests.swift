import Testing
@testable import KubeAPI

/// Decodes `text` expecting an error, and returns it.
func decodeError(_ text: String, file: String = "pods.yaml", sourceLocation: SourceLocation = #_sourceLocation)
    -> ManifestError?
{
    do {
        let docs = try ManifestDecoder.decode(text, file: file)
        Issue.record("decoded without error: \(docs.map(\.kind))", sourceLocation: sourceLocation)
        return nil
    } catch {
        return error
    }
}

let podHeader = """
apiVersion: v1
kind: Pod
metadata:
  name: web

"""

@Suite struct ManifestErrorTests {
    @Test func yamlSyntaxErrorNamesFileAndLine() throws {
        let e = try #require(decodeError("""
        apiVersion: v1
        kind: Pod
        metadata:
          name: web
         labels: {}
        """, file: "bad.yaml"))
        #expect(e.file == "bad.yaml")
        #expect(e.line == 5)
        #expect(e.field == nil)
        #expect(e.description.hasPrefix("bad.yaml:5: invalid YAML: "))
    }

    @Test func flowStyleSyntaxError() throws {
        let e = try #require(decodeError("""
        ---
        {
          apiVersion: "v1",
          kind: "Pod",
          metadata: {
            name: "web"
          spec: {},
        }
        """))
        #expect(e.line == 7)
        #expect(e.message.contains("did not find expected ',' or '}'"))
    }

    @Test func tabIndentationIsASyntaxError() throws {
        let e = try #require(decodeError("apiVersion: v1\nkind: Pod\nmetadata:\n\tname: web\n"))
        #expect(e.line == 4)
    }

    @Test func unknownKind() throws {
        let e = try #require(decodeError("""
        # a comment
        apiVersion: example.com/v1
        kind: Foo
        metadata: {name: x}
        """))
        #expect(e.description == "pods.yaml:3: unknown kind 'Foo' (apiVersion 'example.com/v1')")
        let lower = try #require(decodeError("apiVersion: v1\nkind: pod\nmetadata: {name: x}\n"))
        #expect(lower.message == "unknown kind 'pod' (apiVersion 'v1'); did you mean 'Pod'?")
    }

    @Test func missingKindOrApiVersion() throws {
        let noKind = try #require(decodeError("apiVersion: v1\nmetadata: {name: x}\n"))
        #expect(noKind.description == "pods.yaml:1: kind: missing required field")
        let noVersion = try #require(decodeError("\n\nkind: Pod\nmetadata: {name: x}\n"))
        #expect(noVersion.description == "pods.yaml:3: apiVersion: missing required field")
        let notAMapping = try #require(decodeError("- just\n- a list\n"))
        #expect(notAMapping.line == 1)
        #expect(notAMapping.message.contains("got a list"))
    }

    @Test(arguments: [
        ("Pod", "apps/v1", "'v1'"), ("Deployment", "v1", "'apps/v1'"), ("ReplicaSet", "extensions/v1beta1", "'apps/v1'"),
        ("Lease", "v1", "'coordination.k8s.io/v1'"), ("Node", "apps/v1", "'v1'"), ("Event", "apps/v1", "'v1' or 'events.k8s.io/v1'"),
    ])
    func wrongApiVersion(kind: String, apiVersion: String, expected: String) throws {
        let e = try #require(decodeError("kind: \(kind)\napiVersion: \(apiVersion)\nmetadata: {name: x}\n"))
        #expect(e.description
            == "pods.yaml:2: apiVersion: apiVersion '\(apiVersion)' does not match kind '\(kind)' (expected \(expected))")
    }

    @Test func negativeQuantityNamesTheField() throws {
        let e = try #require(decodeError(podHeader + """
        spec:
          containers:
          - name: app
            image: nginx
            resources:
              requests:
                memory: 64Mi
                cpu: "-1"
        """))
        #expect(e.line == 12)
        #expect(e.field == "spec.containers[0].resources.requests.cpu")
        #expect(e.description == "pods.yaml:12: spec.containers[0].resources.requests.cpu: quantity must not be negative ('-1')")
    }

    @Test func negativeCapacityAndOverhead() throws {
        let node = try #require(decodeError("apiVersion: v1\nkind: Node\nmetadata: {name: n1}\nstatus:\n  capacity: {cpu: -4}\n"))
        #expect(node.description == "pods.yaml:5: status.capacity.cpu: quantity must not be negative ('-4')")
        let pod = try #require(decodeError(podHeader + "spec:\n  overhead: {memory: -1Mi}\n  containers: [{name: a}]\n"))
        #expect(pod.field == "spec.overhead.memory")
    }

    @Test func invalidQuantity() throws {
        let e = try #require(decodeError(podHeader + """
        spec:
          initContainers:
          - name: init
          - name: init2
            resources: {limits: {example.com/dongle: 1KB}}
        """))
        #expect(e.line == 9)
        #expect(e.field == "spec.initContainers[1].resources.limits[example.com/dongle]")
        #expect(e.message.hasPrefix("invalid quantity '1KB': "))
        let listValue = try #require(decodeError(podHeader + "spec:\n  containers: [{name: a, resources: {requests: {cpu: [1]}}}]\n"))
        #expect(listValue.message == "expected a quantity such as 500m, 1.5 or 1Gi, got a list")
    }

    @Test func wrongTypes() throws {
        let replicas = try #require(decodeError("""
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web}
        spec:
          replicas: "three"
        """))
        #expect(replicas.description == "pods.yaml:5: spec.replicas: expected an integer, got \"three\"")
        let quotedNumber = try #require(decodeError("apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {name: web}\nspec: {replicas: \"3\"}\n"))
        #expect(quotedNumber.message == "expected an integer, got \"3\" (a quoted string; remove the quotes)")
        let containers = try #require(decodeError(podHeader + "spec:\n  containers:\n    name: app\n"))
        #expect(containers.description == "pods.yaml:7: spec.containers: expected a list, got a mapping")
        let labels = try #require(decodeError("apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  labels: [a, b]\n"))
        #expect(labels.description == "pods.yaml:5: metadata.labels: expected a mapping, got a list")
        let labelValue = try #require(decodeError("apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  labels:\n    app: {x: 1}\n"))
        #expect(labelValue.description == "pods.yaml:6: metadata.labels.app: expected a string, got a mapping")
        let spec = try #require(decodeError(podHeader + "spec: 3\n"))
        #expect(spec.description == "pods.yaml:5: spec: expected a mapping, got \"3\"")
        let paused = try #require(decodeError("""
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web}
        spec: {paused: "true"}
        """))
        #expect(paused.field == "spec.paused")
        #expect(paused.message.hasPrefix("expected a boolean"))
        let port = try #require(decodeError(podHeader + "spec:\n  containers: [{name: a, ports: [{containerPort: http}]}]\n"))
        #expect(port.field == "spec.containers[0].ports[0].containerPort")
        let unschedulable = try #require(decodeError("apiVersion: v1\nkind: Node\nmetadata: {name: n}\nspec: {unschedulable: maybe}\n"))
        #expect(unschedulable.field == "spec.unschedulable")
    }

    @Test func unsupportedEnumValues() throws {
        let op = try #require(decodeError(podHeader + "spec:\n  containers: [{name: a}]\n  tolerations:\n  - {key: k, operator: Gt}\n"))
        #expect(op.description == "pods.yaml:8: spec.tolerations[0].operator: unsupported value \"Gt\": supported values: \"Exists\", \"Equal\"")
        let effect = try #require(decodeError(podHeader + "spec:\n  tolerations: [{key: k, effect: NoScheduling}]\n"))
        #expect(effect.field == "spec.tolerations[0].effect")
        let restart = try #require(decodeError(podHeader + "spec:\n  restartPolicy: Sometimes\n"))
        #expect(restart.field == "spec.restartPolicy")
        let phase = try #require(decodeError(podHeader + "status: {phase: Done}\n"))
        #expect(phase.field == "status.phase")
        let strategy = try #require(decodeError("""
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web}
        spec:
          strategy:
            type: RollingUpdate
            rollingUpdate: {maxSurge: lots}
        """))
        #expect(strategy.description == "pods.yaml:7: spec.strategy.rollingUpdate.maxSurge: expected an integer or a percentage such as \"25%\", got \"lots\"")
    }

    @Test func invalidAffinity() throws {
        // The stored pods/pod-with-node-affinity.yaml put a list under the required field.
        let e = try #require(decodeError(podHeader + """
        spec:
          affinity:
            nodeAffinity:
              requiredDuringSchedulingIgnoredDuringExecution:
              - weight: 1
                preference: {}
          containers: [{name: a}]
        """))
        #expect(e.field == "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution")
        #expect(e.line == 9)
        #expect(e.message == "expected a mapping, got a list")
        let noTopologyKey = try #require(decodeError(podHeader + """
        spec:
          affinity:
            podAntiAffinity:
              requiredDuringSchedulingIgnoredDuringExecution:
              - labelSelector: {matchLabels: {app: web}}
        """))
        #expect(noTopologyKey.description
            == "pods.yaml:9: spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey: missing required field")
    }

    @Test func duplicateKey() throws {
        let e = try #require(decodeError("""
        apiVersion: v1
        kind: Pod
        metadata:
          name: web
          labels:
            app: a
            app: b
        """))
        #expect(e.description == "pods.yaml:7: metadata.labels.app: duplicate key 'app' (first defined at line 6)")
        let flow = try #require(decodeError("{apiVersion: v1, kind: Pod,\n kind: Node}"))
        #expect(flow.line == 2)
        #expect(flow.field == "kind")
    }

    @Test func errorInSecondDocumentNamesTheFileLine() throws {
        let e = try #require(decodeError("""
        # first
        apiVersion: v1
        kind: Pod
        metadata: {name: one}
        spec:
          containers: [{name: a, image: nginx}]
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: two}
        spec:
          containers:
          - name: a
            resources:
              limits: {memory: 12Gb}
        """, file: "two.yaml"))
        #expect(e.line == 15)
        #expect(e.file == "two.yaml")
        #expect(e.field == "spec.containers[0].resources.limits.memory")
        let syntax = try #require(decodeError("apiVersion: v1\nkind: Pod\nmetadata: {name: one}\n---\napiVersion: v1\nkind: Pod\nmetadata: [\n"))
        #expect(syntax.line == 8)
        let kind = try #require(decodeError("apiVersion: v1\nkind: Pod\nmetadata: {name: one}\n---\n\n\napiVersion: v1\nkind: Bar\n"))
        #expect(kind.line == 8)
    }

    @Test func names() throws {
        let upper = try #require(decodeError("apiVersion: v1\nkind: Pod\nmetadata:\n  name: My_Pod\n"))
        #expect(upper.line == 4)
        #expect(upper.field == "metadata.name")
        #expect(upper.message.hasPrefix("invalid name 'My_Pod': must consist of lower case alphanumeric characters"))
        let missing = try #require(decodeError("apiVersion: v1\nkind: Pod\nmetadata:\n  labels: {a: b}\n"))
        #expect(missing.description == "pods.yaml:4: metadata.name: name or generateName is required")
        let noMetadata = try #require(decodeError("apiVersion: v1\nkind: Pod\nspec: {}\n"))
        #expect(noMetadata.field == "metadata.name")
        let long = try #require(decodeError("apiVersion: v1\nkind: Node\nmetadata:\n  name: \(String(repeating: "a", count: 254))\n"))
        #expect(long.field == "metadata.name")
        let namespace = try #require(decodeError("apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: my.ns}\n"))
        #expect(namespace.field == "metadata.namespace")
        let generate = try #require(decodeError("apiVersion: v1\nkind: Pod\nmetadata: {generateName: Web-}\n"))
        #expect(generate.field == "metadata.generateName")
        // valid: dots, dashes, digits, and a generateName ending in '-'
        let ok = try ManifestDecoder.decode("apiVersion: v1\nkind: Pod\nmetadata: {generateName: web-}\n---\n"
            + "apiVersion: v1\nkind: Node\nmetadata: {name: node-1.zone-a.example.com}\n", file: "ok.yaml")
        #expect(ok.map(\.name) == ["web-", "node-1.zone-a.example.com"])
    }

    @Test func listInSingleDecodeIsAnError() throws {
        let nodes = try ManifestDecoder.parse("apiVersion: v1\nkind: List\nitems: []\n", file: "l.yaml")
        #expect(throws: ManifestError.self) { try ManifestDecoder.decode(nodes[0], file: "l.yaml") }
        let badItems = try #require(decodeError("apiVersion: v1\nkind: List\nitems: {a: 1}\n"))
        #expect(badItems.field == "items")
        let badItem = try #require(decodeError("apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: a, labels: 3}\n"))
        #expect(badItem.description == "pods.yaml:6: items[0].metadata.labels: expected a mapping, got \"3\"")
    }

    @Test func aliasBombIsRejected() throws {
        var text = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
        for i in 1...7 { text += "\(Character(UnicodeScalar(97 + i)!)): &\(Character(UnicodeScalar(97 + i)!)) " + "[" + Array(repeating: "*\(Character(UnicodeScalar(96 + i)!))", count: 10).joined(separator: ", ") + "]\n" }
        let e = try #require(decodeError(text))
        #expect(e.message.contains("expands to more than"))
    }

    @Test func errorDescriptionOmitsMissingParts() {
        #expect(ManifestError(file: "a.yaml", line: 3, field: "spec", message: "bad").description == "a.yaml:3: spec: bad")
        #expect(ManifestError(file: "a.yaml", line: nil, field: "spec", message: "bad").description == "a.yaml: spec: bad")
        #expect(ManifestError(file: "a.yaml", line: 3, field: nil, message: "bad").description == "a.yaml:3: bad")
        #expect(ManifestError(file: "a.yaml", line: nil, field: nil, message: "bad").description == "a.yaml: bad")
        #expect(ManifestError(file: "", line: nil, field: nil, message: "bad").description == "bad")
    }
}
