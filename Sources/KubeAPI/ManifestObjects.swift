/// Decodes the kinds kubelab simulates from manifest trees. Fields the model does not have
/// (probes, volumes, env, ...) are accepted and ignored; a field the model has with the wrong
/// type is an error naming its path and line.
struct ObjectDecoder {
    let reader: ManifestReader

    private var r: ManifestReader { reader }

    // MARK: - Metadata

    /// metadata of a top-level object: a valid name or generateName is required.
    func objectMeta(_ object: Fields, kind: Kind) throws(ManifestError) -> ObjectMeta {
        guard let f = try object.map("metadata") else {
            throw r.fail(FieldPath.child(object.path("metadata"), "name"), object.line, "name or generateName is required")
        }
        var m = try meta(f)
        if m.name.isEmpty && m.generateName.isEmpty {
            throw r.fail(f.path("name"), f.line, "name or generateName is required")
        }
        if !m.name.isEmpty, let why = Names.subdomainProblem(m.name) {
            throw r.fail(f.path("name"), f.node("name")?.line ?? f.line, "invalid name '\(m.name)': \(why)")
        }
        if !m.generateName.isEmpty, let why = Names.subdomainProblem(Names.maskTrailingDash(m.generateName)) {
            throw r.fail(f.path("generateName"), f.node("generateName")?.line ?? f.line,
                         "invalid generateName '\(m.generateName)': \(why)")
        }
        if kind.isNamespaced {
            if m.namespace.isEmpty {
                m.namespace = "default"
            } else if let why = Names.labelProblem(m.namespace) {
                throw r.fail(f.path("namespace"), f.node("namespace")?.line ?? f.line,
                             "invalid namespace '\(m.namespace)': \(why)")
            }
        } else {
            m.namespace = ""
        }
        return m
    }

    /// The fields of ObjectMeta that manifests set.
    func meta(_ f: Fields) throws(ManifestError) -> ObjectMeta {
        var m = ObjectMeta()
        m.name = try f.string("name") ?? ""
        m.generateName = try f.string("generateName") ?? ""
        m.namespace = try f.string("namespace") ?? ""
        m.uid = try f.string("uid") ?? ""
        m.labels = try f.stringMap("labels")
        m.annotations = try f.stringMap("annotations")
        m.finalizers = try f.stringList("finalizers")
        for item in try f.items("ownerReferences") {
            let o = try r.mapping(item.node, item.path)
            m.ownerReferences.append(OwnerReference(
                apiVersion: try o.requiredString("apiVersion"), kind: try o.requiredString("kind"),
                name: try o.requiredString("name"), uid: try o.string("uid") ?? "",
                controller: try o.bool("controller") ?? false))
        }
        return m
    }

    // MARK: - Selectors

    func labelSelector(_ f: Fields) throws(ManifestError) -> LabelSelector {
        var s = LabelSelector(matchLabels: try f.stringMap("matchLabels"))
        for item in try f.items("matchExpressions") {
            let e = try r.mapping(item.node, item.path)
            let op = try e.oneOf("operator", ["In", "NotIn", "Exists", "DoesNotExist"]) ?? ""
            guard let lop = LabelSelectorOperator(rawValue: op) else { throw e.missing("operator") }
            s.matchExpressions.append(LabelSelectorRequirement(
                key: try e.requiredString("key"), operator: lop, values: try e.stringList("values")))
        }
        return s
    }

    func nodeSelectorTerm(_ f: Fields) throws(ManifestError) -> NodeSelectorTerm {
        func requirements(_ key: String) throws(ManifestError) -> [NodeSelectorRequirement] {
            var out: [NodeSelectorRequirement] = []
            for item in try f.items(key) {
                let e = try r.mapping(item.node, item.path)
                guard let op = try e.oneOf("operator", ["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"]) else {
                    throw e.missing("operator")
                }
                out.append(NodeSelectorRequirement(key: try e.requiredString("key"), operator: op,
                                                   values: try e.stringList("values")))
            }
            return out
        }
        return NodeSelectorTerm(matchExpressions: try requirements("matchExpressions"),
                                matchFields: try requirements("matchFields"))
    }

    // MARK: - Pods

    func pod(_ f: Fields) throws(ManifestError) -> Pod {
        var pod = Pod(metadata: try objectMeta(f, kind: .pod))
        if let spec = try f.map("spec") { pod.spec = try podSpec(spec) }
        if let status = try f.map("status") { pod.status = try podStatus(status) }
        return pod
    }

    func podStatus(_ f: Fields) throws(ManifestError) -> PodStatus {
        var s = PodStatus()
        if let phase = try f.oneOf("phase", PodPhase.allCases.map(\.rawValue)), let p = PodPhase(rawValue: phase) {
            s.phase = p
        }
        for item in try f.items("conditions") {
            let c = try r.mapping(item.node, item.path)
            s.conditions.append(PodCondition(
                type: try c.requiredString("type"), status: try c.oneOf("status", ["True", "False", "Unknown"]) ?? "Unknown",
                reason: try c.string("reason") ?? "", message: try c.string("message") ?? ""))
        }
        s.hostIP = try f.string("hostIP") ?? ""
        s.podIP = try f.string("podIP") ?? ""
        s.reason = try f.string("reason") ?? ""
        s.message = try f.string("message") ?? ""
        s.nominatedNodeName = try f.string("nominatedNodeName") ?? ""
        return s
    }

    func podSpec(_ f: Fields) throws(ManifestError) -> PodSpec {
        var s = PodSpec()
        for item in try f.items("containers") { s.containers.append(try container(item.node, item.path)) }
        for item in try f.items("initContainers") { s.initContainers.append(try container(item.node, item.path)) }
        s.nodeName = try f.string("nodeName") ?? ""
        s.nodeSelector = try f.stringMap("nodeSelector")
        for item in try f.items("tolerations") { s.tolerations.append(try toleration(item.node, item.path)) }
        if let a = try f.map("affinity") { s.affinity = try affinity(a) }
        for item in try f.items("topologySpreadConstraints") {
            s.topologySpreadConstraints.append(try spreadConstraint(item.node, item.path))
        }
        if let name = try f.string("schedulerName"), !name.isEmpty { s.schedulerName = name }
        if let p = try f.int64("priority", in: Int64(Int32.min)...Int64(Int32.max)) { s.priority = Int32(p) }
        s.priorityClassName = try f.string("priorityClassName") ?? ""
        s.preemptionPolicy = try f.oneOf("preemptionPolicy", PreemptionPolicy.allCases.map(\.rawValue)).flatMap(PreemptionPolicy.init)
        if let p = try f.oneOf("restartPolicy", ["Always", "OnFailure", "Never"]) { s.restartPolicy = p }
        if let t = try f.int64("terminationGracePeriodSeconds", in: 0...Int64.max) { s.terminationGracePeriodSeconds = t }
        s.overhead = try f.quantities("overhead")
        for item in try f.items("schedulingGates") {
            let g = try r.mapping(item.node, item.path)
            s.schedulingGates.append(try g.requiredString("name"))
        }
        return s
    }

    func container(_ node: ManifestNode, _ path: String) throws(ManifestError) -> Container {
        let f = try r.mapping(node, path)
        var c = Container(name: try f.requiredString("name"), image: try f.string("image") ?? "")
        if let res = try f.map("resources") {
            c.resources = ResourceRequirements(requests: try res.quantities("requests"), limits: try res.quantities("limits"))
        }
        for item in try f.items("ports") {
            let p = try r.mapping(item.node, item.path)
            guard let number = try p.int("containerPort", in: 1...65535) else { throw p.missing("containerPort") }
            var port = ContainerPort(containerPort: number, hostPort: try p.int("hostPort", in: 0...65535) ?? 0,
                                     protocol: try p.oneOf("protocol", ["TCP", "UDP", "SCTP"]) ?? "TCP",
                                     name: try p.string("name") ?? "")
            port.hostIP = try p.string("hostIP") ?? ""
            c.ports.append(port)
        }
        c.restartPolicy = try f.oneOf("restartPolicy", ["Always", "OnFailure", "Never"])
        return c
    }

    func toleration(_ node: ManifestNode, _ path: String) throws(ManifestError) -> Toleration {
        let f = try r.mapping(node, path)
        var t = Toleration(key: try f.string("key") ?? "", value: try f.string("value") ?? "")
        if let op = try f.oneOf("operator", ["Exists", "Equal"]), let o = TolerationOperator(rawValue: op) { t.operator = o }
        if let e = try f.oneOf("effect", TaintEffect.allCases.map(\.rawValue) + [""]), let effect = TaintEffect(rawValue: e) {
            t.effect = effect
        }
        t.tolerationSeconds = try f.int64("tolerationSeconds")
        return t
    }

    func affinity(_ f: Fields) throws(ManifestError) -> Affinity {
        var a = Affinity()
        if let n = try f.map("nodeAffinity") {
            var na = NodeAffinity()
            if let req = try n.map("requiredDuringSchedulingIgnoredDuringExecution") {
                var terms: [NodeSelectorTerm] = []
                for item in try req.items("nodeSelectorTerms") {
                    terms.append(try nodeSelectorTerm(try r.mapping(item.node, item.path)))
                }
                na.required = terms
            }
            for item in try n.items("preferredDuringSchedulingIgnoredDuringExecution") {
                let p = try r.mapping(item.node, item.path)
                guard let weight = try p.int("weight", in: 1...100) else { throw p.missing("weight") }
                guard let pref = try p.map("preference") else { throw p.missing("preference") }
                na.preferred.append(PreferredSchedulingTerm(weight: weight, preference: try nodeSelectorTerm(pref)))
            }
            a.nodeAffinity = na
        }
        if let p = try f.map("podAffinity") { a.podAffinity = try podAffinity(p) }
        if let p = try f.map("podAntiAffinity") { a.podAntiAffinity = try podAffinity(p) }
        return a
    }

    func podAffinity(_ f: Fields) throws(ManifestError) -> PodAffinity {
        var pa = PodAffinity()
        for item in try f.items("requiredDuringSchedulingIgnoredDuringExecution") {
            pa.required.append(try podAffinityTerm(try r.mapping(item.node, item.path)))
        }
        for item in try f.items("preferredDuringSchedulingIgnoredDuringExecution") {
            let w = try r.mapping(item.node, item.path)
            guard let weight = try w.int("weight", in: 1...100) else { throw w.missing("weight") }
            guard let term = try w.map("podAffinityTerm") else { throw w.missing("podAffinityTerm") }
            pa.preferred.append(WeightedPodAffinityTerm(weight: weight, term: try podAffinityTerm(term)))
        }
        return pa
    }

    func podAffinityTerm(_ f: Fields) throws(ManifestError) -> PodAffinityTerm {
        PodAffinityTerm(labelSelector: try f.map("labelSelector").map { s throws(ManifestError) in try labelSelector(s) },
                        namespaces: try f.stringList("namespaces"), topologyKey: try f.requiredString("topologyKey"),
                        namespaceSelector: try f.map("namespaceSelector").map { s throws(ManifestError) in try labelSelector(s) },
                        matchLabelKeys: try f.stringList("matchLabelKeys"),
                        mismatchLabelKeys: try f.stringList("mismatchLabelKeys"))
    }

    func spreadConstraint(_ node: ManifestNode, _ path: String) throws(ManifestError) -> TopologySpreadConstraint {
        let f = try r.mapping(node, path)
        guard let maxSkew = try f.int("maxSkew", in: 1...Int64(Int32.max)) else { throw f.missing("maxSkew") }
        guard let when = try f.oneOf("whenUnsatisfiable", ["DoNotSchedule", "ScheduleAnyway"]) else {
            throw f.missing("whenUnsatisfiable")
        }
        let policies = NodeInclusionPolicy.allCases.map(\.rawValue)
        return TopologySpreadConstraint(
            maxSkew: maxSkew, topologyKey: try f.requiredString("topologyKey"), whenUnsatisfiable: when,
            labelSelector: try f.map("labelSelector").map { s throws(ManifestError) in try labelSelector(s) },
            minDomains: try f.int("minDomains", in: 1...Int64(Int32.max)),
            matchLabelKeys: try f.stringList("matchLabelKeys"),
            nodeAffinityPolicy: try f.oneOf("nodeAffinityPolicy", policies).flatMap(NodeInclusionPolicy.init),
            nodeTaintsPolicy: try f.oneOf("nodeTaintsPolicy", policies).flatMap(NodeInclusionPolicy.init))
    }

    // MARK: - Nodes

    func node(_ f: Fields) throws(ManifestError) -> Node {
        var n = Node(metadata: try objectMeta(f, kind: .node))
        if let spec = try f.map("spec") {
            for item in try spec.items("taints") {
                let t = try r.mapping(item.node, item.path)
                guard let effect = try t.oneOf("effect", TaintEffect.allCases.map(\.rawValue)).flatMap(TaintEffect.init) else {
                    throw t.missing("effect")
                }
                n.spec.taints.append(Taint(key: try t.requiredString("key"), value: try t.string("value") ?? "", effect: effect))
            }
            n.spec.unschedulable = try spec.bool("unschedulable") ?? false
            n.spec.podCIDR = try spec.string("podCIDR") ?? ""
        }
        if let status = try f.map("status") {
            n.status.capacity = try status.quantities("capacity")
            n.status.allocatable = status.node("allocatable") == nil ? n.status.capacity : try status.quantities("allocatable")
            for item in try status.items("conditions") {
                let c = try r.mapping(item.node, item.path)
                n.status.conditions.append(NodeCondition(
                    type: try c.requiredString("type"),
                    status: try c.oneOf("status", ["True", "False", "Unknown"]) ?? "Unknown",
                    reason: try c.string("reason") ?? "", message: try c.string("message") ?? ""))
            }
            for item in try status.items("images") {
                let image = try r.mapping(item.node, item.path)
                let size = try image.int64("sizeBytes", in: 0...Int64.max) ?? 0
                n.status.containerImages.append(ContainerImage(names: try image.stringList("names"), sizeBytes: size))
            }
        }
        return n
    }

    // MARK: - Workloads

    func template(_ spec: Fields) throws(ManifestError) -> PodTemplateSpec {
        var t = PodTemplateSpec()
        if let tf = try spec.map("template") {
            if let m = try tf.map("metadata") { t.metadata = try meta(m) }
            if let s = try tf.map("spec") { t.spec = try podSpec(s) }
        }
        return t
    }

    func selector(_ spec: Fields) throws(ManifestError) -> LabelSelector {
        guard let s = try spec.map("selector") else { return LabelSelector() }
        return try labelSelector(s)
    }

    func replicaSet(_ f: Fields) throws(ManifestError) -> ReplicaSet {
        let meta = try objectMeta(f, kind: .replicaSet)
        guard let spec = try f.map("spec") else { throw f.missing("spec") }
        var s = ReplicaSetSpec(replicas: try spec.int("replicas", in: 0...Int64(Int32.max)) ?? 1,
                               selector: try selector(spec), template: try template(spec))
        s.minReadySeconds = try spec.int("minReadySeconds", in: 0...Int64(Int32.max)) ?? 0
        return ReplicaSet(metadata: meta, spec: s)
    }

    func deployment(_ f: Fields) throws(ManifestError) -> Deployment {
        let meta = try objectMeta(f, kind: .deployment)
        guard let spec = try f.map("spec") else { throw f.missing("spec") }
        var s = DeploymentSpec(replicas: try spec.int("replicas", in: 0...Int64(Int32.max)) ?? 1,
                               selector: try selector(spec), template: try template(spec))
        s.minReadySeconds = try spec.int("minReadySeconds", in: 0...Int64(Int32.max)) ?? 0
        s.revisionHistoryLimit = try spec.int("revisionHistoryLimit", in: 0...Int64(Int32.max)) ?? 10
        s.paused = try spec.bool("paused") ?? false
        if let st = try spec.map("strategy") {
            if let type = try st.oneOf("type", ["RollingUpdate", "Recreate"]) { s.strategy.type = type }
            if let ru = try st.map("rollingUpdate") {
                if let v = try intOrPercent(ru, "maxSurge") { s.strategy.maxSurge = v }
                if let v = try intOrPercent(ru, "maxUnavailable") { s.strategy.maxUnavailable = v }
            }
        }
        return Deployment(metadata: meta, spec: s)
    }

    /// An int-or-string field that must be a non-negative integer or a percentage ("25%").
    func intOrPercent(_ f: Fields, _ key: String) throws(ManifestError) -> IntOrString? {
        guard let n = f.node(key) else { return nil }
        let path = f.path(key)
        guard case .scalar(let text, let quoted, let line) = n else {
            throw r.fail(path, n.line, "expected an integer or a percentage such as \"25%\", got \(n.summary)")
        }
        if !quoted, Int64(text) != nil {
            return .int(Int(try r.integer(n, path, in: 0...Int64(Int32.max))))
        }
        if text.hasSuffix("%"), let p = Int(text.dropLast()), p >= 0, !text.dropLast().contains("+") {
            return .string(text)
        }
        throw r.fail(path, line, "expected an integer or a percentage such as \"25%\", got \(n.summary)")
    }

    // MARK: - Policy

    /// A PodDisruptionBudget (policy/v1). Setting both minAvailable and maxUnavailable, or
    /// a percentage over 100%, is an error at the field, as the API server's validation
    /// reports it.
    func podDisruptionBudget(_ f: Fields) throws(ManifestError) -> PodDisruptionBudget {
        var b = PodDisruptionBudget(metadata: try objectMeta(f, kind: .podDisruptionBudget))
        if let spec = try f.map("spec") {
            for key in ["minAvailable", "maxUnavailable"] {
                guard let v = try intOrPercent(spec, key) else { continue }
                if case .string(let text) = v, let p = Int(text.dropLast()), p > 100 {
                    throw r.fail(spec.path(key), spec.node(key)?.line ?? spec.line, "must not be greater than 100%, got \"\(text)\"")
                }
                if key == "minAvailable" { b.spec.minAvailable = v } else { b.spec.maxUnavailable = v }
            }
            if b.spec.minAvailable != nil && b.spec.maxUnavailable != nil {
                throw r.fail(spec.path("maxUnavailable"), spec.node("maxUnavailable")?.line ?? spec.line,
                             "minAvailable and maxUnavailable cannot be both set")
            }
            b.spec.selector = try spec.map("selector").map { s throws(ManifestError) in try labelSelector(s) }
            b.spec.unhealthyPodEvictionPolicy = try spec.oneOf("unhealthyPodEvictionPolicy", ["IfHealthyBudget", "AlwaysAllow"])
        }
        if let status = try f.map("status") {
            let counts = 0...Int64(Int32.max)
            b.status.currentHealthy = try status.int("currentHealthy", in: counts) ?? 0
            b.status.desiredHealthy = try status.int("desiredHealthy", in: counts) ?? 0
            b.status.disruptionsAllowed = try status.int("disruptionsAllowed", in: counts) ?? 0
            b.status.expectedPods = try status.int("expectedPods", in: counts) ?? 0
            b.status.observedGeneration = try status.int64("observedGeneration", in: 0...Int64.max) ?? 0
        }
        return b
    }

    /// A PriorityClass (scheduling.k8s.io/v1): `value` is required, the other fields are
    /// optional; they sit at the top level of the object.
    func priorityClass(_ f: Fields) throws(ManifestError) -> PriorityClass {
        let meta = try objectMeta(f, kind: .priorityClass)
        guard let value = try f.int64("value", in: Int64(Int32.min)...Int64(Int32.max)) else { throw f.missing("value") }
        return PriorityClass(
            metadata: meta, value: Int32(value), globalDefault: try f.bool("globalDefault") ?? false,
            preemptionPolicy: try f.oneOf("preemptionPolicy", PreemptionPolicy.allCases.map(\.rawValue)).flatMap(PreemptionPolicy.init),
            description: try f.string("description") ?? "")
    }

    // MARK: - Leases and events

    func lease(_ f: Fields) throws(ManifestError) -> Lease {
        var l = Lease(metadata: try objectMeta(f, kind: .lease))
        if let spec = try f.map("spec") {
            l.spec.holderIdentity = try spec.string("holderIdentity") ?? ""
            if let d = try spec.int("leaseDurationSeconds", in: 0...Int64(Int32.max)) { l.spec.leaseDurationSeconds = d }
        }
        return l
    }

    func event(_ f: Fields, apiVersion: String) throws(ManifestError) -> Event {
        let meta = try objectMeta(f, kind: .event)
        let v1 = apiVersion == "v1"
        var ref = ObjectReference(kind: "", namespace: "", name: "")
        if let o = try f.map(v1 ? "involvedObject" : "regarding") {
            ref = ObjectReference(kind: try o.string("kind") ?? "", namespace: try o.string("namespace") ?? "",
                                  name: try o.string("name") ?? "", uid: try o.string("uid") ?? "")
        }
        var e = Event(metadata: meta, involvedObject: ref, reason: try f.string("reason") ?? "",
                      message: try f.string(v1 ? "message" : "note") ?? "",
                      type: try f.oneOf("type", ["Normal", "Warning"]) ?? "Normal")
        if v1 {
            e.source = try f.map("source")?.string("component") ?? ""
            e.count = try f.int("count", in: 0...Int64(Int32.max)) ?? 1
        } else {
            e.source = try f.string("reportingController") ?? ""
            if let series = try f.map("series") { e.count = try series.int("count", in: 0...Int64(Int32.max)) ?? 1 }
        }
        return e
    }
}

/// Kubernetes name rules (DNS-1123).
enum Names {
    private static func isAlnum(_ c: UInt8) -> Bool { (c >= 97 && c <= 122) || (c >= 48 && c <= 57) }

    /// Why `name` is not a DNS-1123 subdomain, or nil when it is one.
    static func subdomainProblem(_ name: String) -> String? {
        let u = Array(name.utf8)
        let rule = "must consist of lower case alphanumeric characters, '-' or '.', and must start and end "
            + "with an alphanumeric character (a DNS-1123 subdomain, at most 253 characters)"
        if u.count > 253 { return rule }
        for label in u.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false) {
            guard let first = label.first, let last = label.last, isAlnum(first), isAlnum(last),
                  label.allSatisfy({ isAlnum($0) || $0 == UInt8(ascii: "-") })
            else { return rule }
        }
        return nil
    }

    /// Why `name` is not a DNS-1123 label, or nil when it is one.
    static func labelProblem(_ name: String) -> String? {
        let u = Array(name.utf8)
        guard u.count <= 63, let first = u.first, let last = u.last, isAlnum(first), isAlnum(last),
              u.allSatisfy({ isAlnum($0) || $0 == UInt8(ascii: "-") })
        else {
            return "must consist of lower case alphanumeric characters or '-', and must start and end with an "
                + "alphanumeric character (a DNS-1123 label, at most 63 characters)"
        }
        return nil
    }

    /// generateName is a prefix: a trailing '-' is allowed (Kubernetes' maskTrailingDash).
    static func maskTrailingDash(_ name: String) -> String {
        name.count > 1 && name.hasSuffix("-") ? String(name.dropLast()) + "a" : name
    }
}
