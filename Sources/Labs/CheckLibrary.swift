import Foundation
public import KubeLab
import SimCore

/// The verdict of one check on one run.
public struct CheckOutcome: Sendable {
    public var passed: Bool
    /// The concrete evidence: which pod, which node, what time.
    public var evidence: String
}

/// The checks labs can use by name.
public enum CheckLibrary {
    public static let names: Set<String> = [
        "all_pods_running", "pods_on_matching_nodes", "pods_not_on_nodes", "max_nodes_used", "no_overcommit",
        "recovery_time", "no_plugin_errors", "scenario_finished",
    ]

    static func labels(_ spec: CheckSpec, _ key: String) -> [String: String] {
        if case .labels(let l)? = spec.args[key] { return l }
        return [:]
    }

    static func matches(_ selector: [String: String], _ labels: [String: String]) -> Bool {
        selector.allSatisfy { labels[$0.key] == $0.value }
    }

    static func selected(_ r: RunResult, _ spec: CheckSpec) -> [PodSummary] {
        let sel = labels(spec, "pods")
        return r.pods.filter { !$0.terminating && matches(sel, $0.labels) }
    }

    /// The selected pods, when they exist and are all placed; otherwise the failure that
    /// keeps a placement check from passing on nothing.
    static func placed(_ r: RunResult, _ spec: CheckSpec) -> Result<[PodSummary], CheckFailure> {
        let pods = selected(r, spec)
        if pods.isEmpty { return .failure(CheckFailure(evidence: "no \(describe(labels(spec, "pods"))) exist")) }
        if let p = pods.first(where: { $0.node == nil }) {
            return .failure(CheckFailure(evidence: "pod \(p.namespace)/\(p.name) was never scheduled, so where it runs cannot be judged"))
        }
        return .success(pods)
    }

    struct CheckFailure: Error { let evidence: String }

    static func describe(_ sel: [String: String]) -> String {
        sel.isEmpty ? "all pods" : "pods with " + sel.keys.sorted().map { "\($0)=\(sel[$0] ?? "")" }.joined(separator: ",")
    }

    /// Evaluates one check on one run.
    public static func evaluate(_ spec: CheckSpec, on r: RunResult) -> CheckOutcome {
        if r.failed, spec.check != "no_plugin_errors" {
            return CheckOutcome(passed: false, evidence: "the run failed: \(r.error ?? "unknown error")")
        }
        switch spec.check {
        case "all_pods_running":
            let pods = selected(r, spec)
            if pods.isEmpty { return CheckOutcome(passed: false, evidence: "no \(describe(labels(spec, "pods"))) exist") }
            if let p = pods.first(where: { $0.phase != "Running" }) {
                let why = p.node == nil ? "never scheduled" + (r.unschedulable.contains("\(p.namespace)/\(p.name)") ? " (unschedulable)" : "") : "on \(p.node ?? "")"
                return CheckOutcome(passed: false, evidence: "pod \(p.namespace)/\(p.name) is \(p.phase), \(why)")
            }
            return CheckOutcome(passed: true, evidence: "\(pods.count) pods Running")
        case "pods_on_matching_nodes", "pods_not_on_nodes":
            let nodeSel = labels(spec, "nodes")
            let nodeLabels = Dictionary(uniqueKeysWithValues: r.nodes.map { ($0.name, $0.labels) })
            let want = spec.check == "pods_on_matching_nodes"
            let pods: [PodSummary]
            switch placed(r, spec) {
            case .success(let p): pods = p
            case .failure(let f): return CheckOutcome(passed: false, evidence: f.evidence)
            }
            for p in pods {
                let n = p.node ?? ""
                if matches(nodeSel, nodeLabels[n] ?? [:]) != want {
                    return CheckOutcome(passed: false, evidence: "pod \(p.namespace)/\(p.name) runs on \(n), which \(want ? "lacks" : "has") \(describe(nodeSel).replacingOccurrences(of: "pods with ", with: "labels "))")
                }
            }
            return CheckOutcome(passed: true, evidence: "\(pods.count) \(describe(labels(spec, "pods"))) checked")
        case "max_nodes_used":
            let limit: Int
            if case .number(let d)? = spec.args["max"] { limit = Int(d) } else { limit = 0 }
            let pods: [PodSummary]
            switch placed(r, spec) {
            case .success(let p): pods = p
            case .failure(let f): return CheckOutcome(passed: false, evidence: f.evidence)
            }
            let used = Set(pods.compactMap(\.node)).sorted()
            if used.count > limit {
                return CheckOutcome(passed: false, evidence: "\(describe(labels(spec, "pods"))) use \(used.count) nodes (\(used.joined(separator: ", "))); at most \(limit) are needed")
            }
            return CheckOutcome(passed: true, evidence: "\(describe(labels(spec, "pods"))) use \(used.count) node(s): \(used.joined(separator: ", "))")
        case "no_overcommit":
            for n in r.nodes {
                for res in n.requested.keys.sorted() where (n.requested[res] ?? 0) > (n.allocatable[res] ?? 0) {
                    return CheckOutcome(passed: false, evidence: "node \(n.name) has \(res) requested \(n.requested[res] ?? 0) > allocatable \(n.allocatable[res] ?? 0)")
                }
            }
            return CheckOutcome(passed: true, evidence: "no node is overcommitted")
        case "recovery_time":
            let limit: Double
            switch spec.args["max"] {
            case .number(let d)?: limit = d
            case .string(let s)?: limit = (try? SimDuration(parsing: s).seconds) ?? 0
            default: limit = 0
            }
            guard let rec = r.recovery_seconds else {
                return CheckOutcome(passed: false, evidence: r.faults.isEmpty ? "no node crashed in this run" : "the workload never recovered")
            }
            return CheckOutcome(passed: rec <= limit, evidence: "recovered \(String(format: "%.1f", rec))s after the crash (limit \(String(format: "%.0f", limit))s)")
        case "no_plugin_errors":
            if let f = r.error ?? r.plugin_failures.first { return CheckOutcome(passed: false, evidence: f) }
            return CheckOutcome(passed: true, evidence: "no plugin error")
        case "scenario_finished":
            return CheckOutcome(passed: r.scenario_finished, evidence: r.scenario_finished ? "the scenario finished at t=\(String(format: "%.3f", r.end_time))s" : "the scenario did not finish")
        default:
            return CheckOutcome(passed: false, evidence: "unknown check \(spec.check)")
        }
    }
}
