import KubeAPI
import KubeScheduler

/// Fluent builders in the spirit of kube-scheduler's st.MakePod() / st.MakeNode().
extension Pod {
    static func make(_ name: String, namespace: String = "default") -> Pod {
        Pod(metadata: ObjectMeta(name: name, namespace: namespace), spec: PodSpec(containers: [Container(name: "c")]))
    }

    /// Sets the requests of the first container: cpu in millicores, memory in bytes.
    func requests(cpu: Int64? = nil, memory: Int64? = nil, _ extra: [String: Int64] = [:]) -> Pod {
        var p = self
        var r: ResourceList = [:]
        if let c = cpu { r["cpu"] = Quantity(milli: c) }
        if let m = memory { r["memory"] = Quantity(value: m) }
        for (k, v) in extra { r[k] = Quantity(value: v) }
        p.spec.containers[0].resources.requests = r
        return p
    }

    func labels(_ l: [String: String]) -> Pod { var p = self; p.metadata.labels = l; return p }
    func node(_ n: String) -> Pod { var p = self; p.spec.nodeName = n; return p }
    func toleration(_ t: Toleration) -> Pod { var p = self; p.spec.tolerations.append(t); return p }
}

extension Node {
    /// A node with cpu in millicores and memory in bytes.
    static func make(_ name: String, cpu: Int64, memory: Int64, pods: Int64 = 110) -> Node {
        var n = Node(metadata: ObjectMeta(name: name))
        n.status.allocatable = ["cpu": Quantity(milli: cpu), "memory": Quantity(value: memory), "pods": Quantity(value: pods)]
        n.status.capacity = n.status.allocatable
        return n
    }

    func taint(_ t: Taint) -> Node { var n = self; n.spec.taints.append(t); return n }
    func labels(_ l: [String: String]) -> Node { var n = self; n.metadata.labels = l; return n }
}
