public import LuaHost
public import KubeAPI
public import KubeScheduler

/// Read-only Lua views of cluster objects, with snake_case fields, cpu in millicores and
/// memory in bytes. Lists are arrays in a stable order, never hash-ordered.
public enum Views {
    static func resources(_ r: Resources) -> LuaValue {
        var m: [String: LuaValue] = ["cpu": .integer(r.milliCPU), "memory": .integer(r.memory)]
        for (k, v) in r.scalar { m[k] = .integer(v) }
        return .map(m)
    }

    /// cpu and memory only: the non-zero requests kube-scheduler's resource scores use
    /// (100m cpu and 200Mi memory for a container that requests none).
    static func nonZero(_ r: Resources) -> LuaValue {
        .map(["cpu": .integer(r.milliCPU), "memory": .integer(r.memory)])
    }

    static func strings(_ d: [String: String]) -> LuaValue { .map(d.mapValues { .string($0) }) }

    static func selector(_ s: LabelSelector) -> LuaValue {
        .map([
            "match_labels": strings(s.matchLabels),
            "match_expressions": .array(s.matchExpressions.map {
                .map(["key": .string($0.key), "operator": .string($0.operator.rawValue), "values": .array($0.values.map { .string($0) })])
            }),
        ])
    }

    static func term(_ t: NodeSelectorTerm) -> LuaValue {
        .map(["match_expressions": .array(t.matchExpressions.map {
            .map(["key": .string($0.key), "operator": .string($0.operator), "values": .array($0.values.map { .string($0) })])
        })])
    }

    static func podAffinity(_ a: PodAffinity) -> LuaValue {
        func t(_ x: PodAffinityTerm) -> LuaValue {
            var m: [String: LuaValue] = ["topology_key": .string(x.topologyKey), "namespaces": .array(x.namespaces.map { .string($0) })]
            if let s = x.labelSelector { m["label_selector"] = selector(s) }
            if let s = x.namespaceSelector { m["namespace_selector"] = selector(s) }
            m["match_label_keys"] = .array(x.matchLabelKeys.map { .string($0) })
            m["mismatch_label_keys"] = .array(x.mismatchLabelKeys.map { .string($0) })
            return .map(m)
        }
        return .map([
            "required": .array(a.required.map(t)),
            "preferred": .array(a.preferred.map { .map(["weight": .integer(Int64($0.weight)), "term": t($0.term)]) }),
        ])
    }

    static func affinity(_ a: Affinity) -> LuaValue {
        var m: [String: LuaValue] = [:]
        if let na = a.nodeAffinity {
            var n: [String: LuaValue] = [
                "preferred": .array(na.preferred.map { .map(["weight": .integer(Int64($0.weight)), "preference": term($0.preference)]) }),
            ]
            if let req = na.required { n["required"] = .array(req.map(term)) }
            m["node_affinity"] = .map(n)
        }
        if let pa = a.podAffinity { m["pod_affinity"] = podAffinity(pa) }
        if let pa = a.podAntiAffinity { m["pod_anti_affinity"] = podAffinity(pa) }
        return .map(m)
    }

    /// The fields of a pod view, without the read-only wrapper.
    static func podFields(_ p: Pod) -> [String: LuaValue] {
        var limits = Resources()
        for c in p.spec.containers { limits.add(Resources(c.resources.limits)) }
        var m: [String: LuaValue] = [
            "name": .string(p.metadata.name),
            "namespace": .string(p.metadata.namespace),
            "uid": .string(p.metadata.uid),
            "labels": strings(p.metadata.labels),
            "annotations": strings(p.metadata.annotations),
            "phase": .string(p.status.phase.rawValue),
            "ready": .boolean(p.isReady),
            "requests": resources(PodRequests.of(p)),
            "nonzero_requests": nonZero(PodRequests.of(p, nonZero: true)),
            "limits": resources(limits),
            "priority": .integer(Int64(p.spec.priority ?? 0)),
            "scheduler_name": .string(p.spec.schedulerName),
            "node_selector": strings(p.spec.nodeSelector),
            "tolerations": .array(p.spec.tolerations.map { t in
                var tm: [String: LuaValue] = [
                    "key": .string(t.key), "operator": .string(t.operator.rawValue), "value": .string(t.value),
                ]
                if let e = t.effect { tm["effect"] = .string(e.rawValue) }
                if let s = t.tolerationSeconds { tm["seconds"] = .integer(s) }
                return .map(tm)
            }),
            "topology_spread": .array(p.spec.topologySpreadConstraints.map { c in
                var cm: [String: LuaValue] = [
                    "max_skew": .integer(Int64(c.maxSkew)), "topology_key": .string(c.topologyKey),
                    "when_unsatisfiable": .string(c.whenUnsatisfiable),
                ]
                if let s = c.labelSelector { cm["label_selector"] = selector(s) }
                if let d = c.minDomains { cm["min_domains"] = .integer(Int64(d)) }
                cm["match_label_keys"] = .array(c.matchLabelKeys.map { .string($0) })
                cm["node_affinity_policy"] = .string(c.nodeAffinityPolicy == .ignore ? "Ignore" : "Honor")
                cm["node_taints_policy"] = .string(c.nodeTaintsPolicy == .honor ? "Honor" : "Ignore")
                return .map(cm)
            }),
            "ports": .array(p.spec.containers.flatMap(\.ports).map {
                .map(["container_port": .integer(Int64($0.containerPort)), "host_port": .integer(Int64($0.hostPort)),
                      "protocol": .string($0.protocol)])
            }),
            "created": .number(p.metadata.creationTimestamp?.seconds ?? 0),
            "deleting": .boolean(p.isTerminating),
        ]
        if !p.spec.nodeName.isEmpty { m["node"] = .string(p.spec.nodeName) }
        if let o = p.metadata.controllerRef { m["owner"] = .map(["kind": .string(o.kind), "name": .string(o.name)]) }
        if let a = p.spec.affinity { m["affinity"] = affinity(a) }
        return m
    }

    /// A read-only pod view.
    public static func pod(_ p: Pod) -> LuaValue { .view("pod", .map(podFields(p))) }

    /// The pods of a node view: pod views sorted by namespace and name.
    public static func pods(_ info: NodeInfo) -> LuaValue {
        let pods = info.pods.sorted { ($0.metadata.namespace, $0.metadata.name) < ($1.metadata.namespace, $1.metadata.name) }
        return .view("node", .array(pods.map { .map(podFields($0)) }))
    }

    /// A read-only node view with the scheduler's idea of what runs there. Without
    /// `pods` the view lacks its `pods` field (the scheduler adds it as a lazy field).
    public static func node(_ info: NodeInfo, pods withPods: Bool = true) -> LuaValue {
        let n = info.node
        var allocatable = resources(info.allocatable)
        if case .map(var a) = allocatable { a["pods"] = .integer(info.allowedPodNumber); allocatable = .map(a) }
        var fields: [String: LuaValue] = [
            "name": .string(n.metadata.name),
            "labels": strings(n.metadata.labels),
            "taints": .array(n.spec.taints.map { .map(["key": .string($0.key), "value": .string($0.value), "effect": .string($0.effect.rawValue)]) }),
            "unschedulable": .boolean(n.spec.unschedulable),
            "ready": .boolean(n.isReady),
            "allocatable": allocatable,
            "requested": resources(info.requested),
            "nonzero_requested": nonZero(info.nonZeroRequested),
            "free": resources(info.free),
            "pod_count": .integer(Int64(info.pods.count)),
            "images": .array(n.status.images.map { .string($0) }),
        ]
        if withPods {
            let pods = info.pods.sorted { ($0.metadata.namespace, $0.metadata.name) < ($1.metadata.namespace, $1.metadata.name) }
            fields["pods"] = .array(pods.map { .map(podFields($0)) })
        }
        return .view("node", .map(fields))
    }
}

extension Views {
    static func meta(_ m: ObjectMeta) -> [String: LuaValue] {
        [
            "name": .string(m.name),
            "namespace": .string(m.namespace),
            "labels": strings(m.labels),
            "annotations": strings(m.annotations),
            "uid": .string(m.uid),
        ]
    }

    /// A read-only view of any object a controller can read: pods and nodes as the
    /// scheduler's views (a node's `pods` are the ones given), Deployments and
    /// ReplicaSets with their replica counts, Leases with holder and renew time (seconds).
    public static func object(_ o: KubeObject, podsOnNode: [Pod] = []) -> LuaValue {
        switch o {
        case .pod(let p): return pod(p)
        case .node(let n): return node(NodeInfo(node: n, pods: podsOnNode))
        case .deployment(let d):
            var m = meta(d.metadata)
            m["replicas"] = .integer(Int64(d.spec.replicas))
            m["ready_replicas"] = .integer(Int64(d.status.readyReplicas))
            m["available_replicas"] = .integer(Int64(d.status.availableReplicas))
            m["updated_replicas"] = .integer(Int64(d.status.updatedReplicas))
            m["paused"] = .boolean(d.spec.paused)
            return .view("deployment", .map(m))
        case .replicaSet(let r):
            var m = meta(r.metadata)
            m["replicas"] = .integer(Int64(r.spec.replicas))
            m["ready_replicas"] = .integer(Int64(r.status.readyReplicas))
            m["available_replicas"] = .integer(Int64(r.status.availableReplicas))
            m["owner"] = r.metadata.controllerRef.map { .string("\($0.kind)/\($0.name)") } ?? .nil
            return .view("replicaset", .map(m))
        case .lease(let l):
            var m = meta(l.metadata)
            m["holder"] = .string(l.spec.holderIdentity)
            m["duration_seconds"] = .integer(Int64(l.spec.leaseDurationSeconds))
            m["renew_time"] = l.spec.renewTime.map { .number($0.seconds) } ?? .nil
            return .view("lease", .map(m))
        case .event(let e):
            var m = meta(e.metadata)
            m["reason"] = .string(e.reason)
            m["message"] = .string(e.message)
            m["type"] = .string(e.type)
            return .view("event", .map(m))
        case .podDisruptionBudget, .priorityClass:
            return .view(o.kind.rawValue.lowercased(), .map(meta(o.metadata)))
        }
    }
}
