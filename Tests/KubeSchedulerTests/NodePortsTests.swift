import Testing
import KubeAPI
@testable import KubeScheduler

/// kube's `newPod(host, "PROTO/IP/PORT"...)`: one container with those host ports.
private func newPod(_ host: String, _ hostPortInfos: String...) -> Pod {
    newPod(host, hostPortInfos)
}

private func newPod(_ host: String, _ hostPortInfos: [String]) -> Pod {
    var c = Container(name: "c")
    c.ports = hostPortInfos.map { info in
        let parts = info.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        var p = ContainerPort(containerPort: 0, hostPort: Int(parts[2]) ?? 0, protocol: parts[0])
        p.hostIP = parts[1]
        return p
    }
    var pod = Pod(metadata: ObjectMeta(name: "p-\(host)", namespace: "default"), spec: PodSpec(containers: [c]))
    pod.spec.nodeName = host
    return pod
}

/// kube's `framework.NewNodeInfo(pods...)`.
private func nodeInfo(_ pods: Pod...) -> NodeInfo {
    NodeInfo(node: Node(metadata: ObjectMeta(name: "m1")), pods: pods)
}

/// kube's `st.MakePod().InitContainerPort(sidecar, ports)`.
private func initContainerPortPod(sidecar: Bool, _ ports: [ContainerPort]) -> Pod {
    var c = Container(name: "init")
    c.ports = ports
    if sidecar { c.restartPolicy = "Always" }
    var p = Pod(metadata: ObjectMeta(name: "p", namespace: "default"))
    p.spec.initContainers = [c]
    return p
}

struct NodePortsTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let pod: Pod
        let node: NodeInfo
        var wantPreFilter: Code = .success
        var wantUnschedulable = false
        var testDescription: String { name }
    }

    // kube-scheduler TestNodePorts (pkg/scheduler/framework/plugins/nodeports/node_ports_test.go),
    // every case.
    static let cases: [Case] = [
        Case(name: "skip filter", pod: Pod(metadata: ObjectMeta(name: "p", namespace: "default")), node: nodeInfo(),
             wantPreFilter: .skip),
        Case(name: "other port", pod: newPod("m1", "UDP/127.0.0.1/8080"), node: nodeInfo(newPod("m1", "UDP/127.0.0.1/9090"))),
        Case(name: "same udp port", pod: newPod("m1", "UDP/127.0.0.1/8080"), node: nodeInfo(newPod("m1", "UDP/127.0.0.1/8080")),
             wantUnschedulable: true),
        Case(name: "same tcp port", pod: newPod("m1", "TCP/127.0.0.1/8080"), node: nodeInfo(newPod("m1", "TCP/127.0.0.1/8080")),
             wantUnschedulable: true),
        Case(name: "different host ip", pod: newPod("m1", "TCP/127.0.0.1/8080"), node: nodeInfo(newPod("m1", "TCP/127.0.0.2/8080"))),
        Case(name: "different protocol", pod: newPod("m1", "UDP/127.0.0.1/8080"), node: nodeInfo(newPod("m1", "TCP/127.0.0.1/8080"))),
        Case(name: "second udp port conflict", pod: newPod("m1", "UDP/127.0.0.1/8000", "UDP/127.0.0.1/8080"),
             node: nodeInfo(newPod("m1", "UDP/127.0.0.1/8080")), wantUnschedulable: true),
        Case(name: "first tcp port conflict", pod: newPod("m1", "TCP/127.0.0.1/8001", "UDP/127.0.0.1/8080"),
             node: nodeInfo(newPod("m1", "TCP/127.0.0.1/8001", "UDP/127.0.0.1/8081")), wantUnschedulable: true),
        Case(name: "first tcp port conflict due to 0.0.0.0 hostIP", pod: newPod("m1", "TCP/0.0.0.0/8001"),
             node: nodeInfo(newPod("m1", "TCP/127.0.0.1/8001")), wantUnschedulable: true),
        Case(name: "TCP hostPort conflict due to 0.0.0.0 hostIP", pod: newPod("m1", "TCP/10.0.10.10/8001", "TCP/0.0.0.0/8001"),
             node: nodeInfo(newPod("m1", "TCP/127.0.0.1/8001")), wantUnschedulable: true),
        Case(name: "second tcp port conflict to 0.0.0.0 hostIP", pod: newPod("m1", "TCP/127.0.0.1/8001"),
             node: nodeInfo(newPod("m1", "TCP/0.0.0.0/8001")), wantUnschedulable: true),
        Case(name: "second different protocol", pod: newPod("m1", "UDP/127.0.0.1/8001"),
             node: nodeInfo(newPod("m1", "TCP/0.0.0.0/8001"))),
        Case(name: "UDP hostPort conflict due to 0.0.0.0 hostIP", pod: newPod("m1", "UDP/127.0.0.1/8001"),
             node: nodeInfo(newPod("m1", "TCP/0.0.0.0/8001", "UDP/0.0.0.0/8001")), wantUnschedulable: true),
        Case(name: "non-sidecar initContainer using hostPort",
             pod: initContainerPortPod(sidecar: false, [ContainerPort(containerPort: 8001, hostPort: 8001, protocol: "TCP")]),
             node: nodeInfo(newPod("m1", "TCP/0.0.0.0/8001")), wantPreFilter: .skip),
        Case(name: "TCP hostPort conflict from sidecar initContainer",
             pod: initContainerPortPod(sidecar: true, [ContainerPort(containerPort: 8001, hostPort: 8001, protocol: "TCP")]),
             node: nodeInfo(newPod("m1", "TCP/0.0.0.0/8001")), wantUnschedulable: true),
    ]

    @Test(arguments: cases)
    func filter(_ c: Case) {
        let plugin = NodePorts()
        let state = CycleState()
        let pre = plugin.preFilter(state, c.pod)
        #expect(pre.code == c.wantPreFilter)
        // Filter also runs after a skipped PreFilter here: it must then pass.
        let got = plugin.filter(state, c.pod, c.node)
        if c.wantUnschedulable {
            #expect(got == Status(.unschedulable, ["node(s) didn't have free ports for the requested pod ports"], plugin: "NodePorts"))
        } else {
            #expect(got.code == .success)
        }
        // Without PreFilter the Filter computes the same verdict.
        #expect(plugin.filter(CycleState(), c.pod, c.node).code == got.code)
    }

    struct FitsCase: Sendable, CustomTestStringConvertible {
        let desc: String
        let pod: Pod
        let existing: NodeInfo
        let expect: Bool
        var testDescription: String { desc }
    }

    // kube-scheduler TestFits (same file), every case.
    static let fitsCases: [FitsCase] = [
        FitsCase(desc: "non-conflicting ports", pod: newPod("p", "TCP/127.0.0.1/80"),
                 existing: nodeInfo(newPod("p1", "TCP/127.0.0.1/9090")), expect: true),
        FitsCase(desc: "multiple non-conflicting ports",
                 pod: newPod("p", "TCP/127.0.0.1/80", "TCP/127.0.1.1/80", "TCP/127.0.1.1/90", "TCP/127.0.1.1/100"),
                 existing: nodeInfo(newPod("p1", "TCP/127.0.0.1/9090", "TCP/127.0.0.1/9191", "TCP/127.0.1.1/8080")), expect: true),
        FitsCase(desc: "same ports on different protocols", pod: newPod("m1", "TCP/127.0.0.1/80"),
                 existing: nodeInfo(newPod("p1", "UDP/127.0.0.1/80")), expect: true),
        FitsCase(desc: "conflicting ports", pod: newPod("m1", "TCP/127.0.0.1/80"),
                 existing: nodeInfo(newPod("p1", "TCP/127.0.0.1/80")), expect: false),
        FitsCase(desc: "multiple ports, some conflicting",
                 pod: newPod("p", "TCP/127.0.0.1/80", "TCP/127.0.1.1/80", "TCP/127.0.1.1/90", "TCP/127.0.1.1/100"),
                 existing: nodeInfo(newPod("p1", "TCP/127.0.0.1/9090", "TCP/127.0.1.1/90", "TCP/127.0.1.1/8080")), expect: false),
    ]

    @Test(arguments: fitsCases)
    func fits(_ c: FitsCase) {
        #expect(NodePorts.fits(c.pod, c.existing) == c.expect)
    }

    @Test func defaultsAndIgnoredPorts() {
        // Empty hostIP is 0.0.0.0 and empty protocol TCP; hostPort 0 wants nothing.
        var p = ContainerPort(containerPort: 80, hostPort: 8080, protocol: "")
        p.hostIP = ""
        let wildcard = Pod(metadata: ObjectMeta(name: "w", namespace: "default"),
                           spec: PodSpec(containers: [{ var c = Container(name: "c"); c.ports = [p]; return c }()]))
        #expect(!NodePorts.fits(wildcard, nodeInfo(newPod("x", "TCP/10.0.0.1/8080"))))
        #expect(NodePorts.fits(wildcard, nodeInfo(newPod("x", "UDP/10.0.0.1/8080"))))
        #expect(NodePorts().preFilter(CycleState(), newPod("m1", "TCP/127.0.0.1/0")).code == .skip)
        // An ordinary init container's port on an existing pod does not block anything.
        let existing = initContainerPortPod(sidecar: false, [ContainerPort(containerPort: 1, hostPort: 8001)])
        #expect(NodePorts.fits(newPod("m1", "TCP/0.0.0.0/8001"), nodeInfo(existing)))
    }
}
