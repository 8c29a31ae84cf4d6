public import KubeAPI

/// NodePorts (Filter), kube-scheduler v1.35: a pod that asks for host ports fits only on a
/// node where none of them is already taken.
///
/// The ports that count, for the incoming pod and for the pods on the node alike, are
/// those with hostPort > 0 of the regular containers and of the **sidecar** init
/// containers (restartPolicy Always); ordinary init containers are ignored. An empty
/// hostIP means 0.0.0.0 and an empty protocol TCP. A wanted (ip, protocol, port) conflicts
/// with a used one when protocol and port are equal and either ip is 0.0.0.0 or the ips
/// are equal. A conflict gives **Unschedulable** (preemption may free the port) "node(s)
/// didn't have free ports for the requested pod ports".
public final class NodePorts: FilterPlugin {
    public let name = "NodePorts"

    /// kube-scheduler's Filter reason.
    public static let errReason = "node(s) didn't have free ports for the requested pod ports"

    public init() {}

    /// A host port in its sanitized form.
    struct HostPort: Hashable, Sendable {
        var ip: String
        var `protocol`: String
        var port: Int

        init(_ p: ContainerPort) {
            ip = p.hostIP.isEmpty ? "0.0.0.0" : p.hostIP
            self.protocol = p.protocol.isEmpty ? "TCP" : p.protocol
            port = p.hostPort
        }
    }

    /// kube-scheduler's `GetHostPorts`: the pod's ports with hostPort > 0, from sidecar
    /// init containers and regular containers.
    static func hostPorts(_ pod: Pod) -> [HostPort] {
        var out: [HostPort] = []
        for c in pod.spec.initContainers where c.restartPolicy == "Always" {
            for p in c.ports where p.hostPort > 0 { out.append(HostPort(p)) }
        }
        for c in pod.spec.containers {
            for p in c.ports where p.hostPort > 0 { out.append(HostPort(p)) }
        }
        return out
    }

    private func wantedPorts(_ state: CycleState, _ pod: Pod) -> [HostPort] {
        let key = "PreFilter" + name
        if let w = state[key] as? [HostPort] { return w }
        let w = Self.hostPorts(pod)
        state[key] = w
        return w
    }

    /// kube-scheduler's PreFilter.
    ///
    /// - Returns: Skip when the pod wants no host port (Filter has nothing to check);
    ///   otherwise Success, with the wanted ports kept in `state`.
    public func preFilter(_ state: CycleState, _ pod: Pod) -> Status {
        wantedPorts(state, pod).isEmpty ? Status(.skip, plugin: name) : .success
    }

    public func filter(_ state: CycleState, _ pod: Pod, _ node: NodeInfo) -> Status {
        let wanted = wantedPorts(state, pod)
        if wanted.isEmpty { return .success }
        return Self.fits(wanted, node) ? .success : Status(.unschedulable, [Self.errReason], plugin: name)
    }

    /// Whether the pod's host ports are all free on the node.
    public static func fits(_ pod: Pod, _ node: NodeInfo) -> Bool { fits(hostPorts(pod), node) }

    static func fits(_ wanted: [HostPort], _ node: NodeInfo) -> Bool {
        let used = Set(node.pods.flatMap(hostPorts))
        return !wanted.contains { w in
            used.contains { u in
                u.protocol == w.protocol && u.port == w.port && (w.ip == "0.0.0.0" || u.ip == "0.0.0.0" || u.ip == w.ip)
            }
        }
    }
}
