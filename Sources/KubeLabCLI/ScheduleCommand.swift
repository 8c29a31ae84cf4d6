import ArgumentParser
import Foundation
import KubeAPI
import KubeLab
import KubeScheduler
import LuaHost
import LuaPlugins

struct Schedule: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "One scheduling pass with no time: where each pod goes, and why not.")

    @Option(help: "Node manifests (YAML or JSON, several documents allowed).")
    var nodes: String

    @Option(help: "Pod manifests; Deployments and ReplicaSets count as their replicas.")
    var pods: String

    @Option(help: "A Lua scheduler plugin combined with the built-in filters (repeat it to combine plugins).")
    var plugin: [String] = []

    @Option(name: .customLong("set"), help: "Override a plugin limit, e.g. --set lua_instructions_per_call=1e8 (repeatable).")
    var settings: [String] = []

    @Option(help: "Seed for breaking ties between equally scored nodes.")
    var seed: UInt64 = 1

    @Flag(help: "Write JSON to stdout instead of a table.")
    var json = false

    @Flag(help: "Explain each placement: every node's filter verdicts, raw and normalized scores, weights and totals.")
    var explain = false

    @Option(help: "kube-scheduler's percentageOfNodesToScore: 0 adapts to the cluster size, 100 examines every node (overrides the configuration's).")
    var percentageOfNodesToScore: Int?

    @Option(help: "A KubeSchedulerConfiguration (kubescheduler.config.k8s.io/v1): profiles by schedulerName, plugins, weights, pluginConfig. Lua plugins given with --plugin join a profile when it enables them by name.")
    var config: String?

    func run() throws {
        var pass = SchedulePass()
        let nodesText = try readText(nodes), podsText = try readText(pods)
        do { try pass.load(nodesText: nodesText, nodesFile: nodes, podsText: podsText, podsFile: pods) } catch {
            throw Failure(Exit.badInput, error.description)
        }
        if pass.nodes.isEmpty { throw Failure(Exit.badInput, "\(nodes): no Node objects found") }
        let limits = try parseSettings(settings, allowOthers: false).limits
        let lua = try plugin.flatMap { try loadPlugins($0, seed: seed, limits: limits) }
        for p in lua where p.kind != .scheduler {
            throw Failure(Exit.badInput, "\(p.file): --plugin wants a scheduler plugin, but this one is a \(p.kind.rawValue) plugin")
        }
        if let p = percentageOfNodesToScore, !(0...100).contains(p) {
            throw Failure(Exit.badInput, "--percentage-of-nodes-to-score: expected 0 to 100, got \(p)")
        }
        var configuration: SchedulerConfiguration?
        if let path = config {
            do { configuration = try SchedulerConfiguration.parse(try readText(path), file: path) } catch let e as ManifestError {
                throw Failure(Exit.badInput, e.description)
            }
        }
        let adapters = lua.map(LuaSchedulerPlugin.init)
        if explain {
            let started = LuaBudgetClock.nanoseconds()
            var e: Explanation
            if let configuration {
                do { e = try pass.explain(luas: adapters, seed: seed, config: configuration, percentageOfNodesToScore: percentageOfNodesToScore) } catch {
                    throw Failure(Exit.badInput, error.description)
                }
            } else {
                e = pass.explain(luas: adapters, seed: seed, percentageOfNodesToScore: percentageOfNodesToScore)
            }
            let seconds = Double(LuaBudgetClock.nanoseconds() - started) / 1e9
            e.stats.scheduling_seconds = seconds
            e.stats.pods_per_second = seconds > 0 ? Double(e.stats.pods) / seconds : 0
            if json { print(e.json(), terminator: "") } else { print(ExplainText.render(e), terminator: "") }
            for f in e.plugin_failures.prefix(5) { FileHandle.standardError.write(Data("kubelab: plugin error: \(f)\n".utf8)) }
            return
        }
        let out: SchedulePass.Output
        if let configuration {
            do { out = try pass.run(luas: adapters, seed: seed, config: configuration) } catch { throw Failure(Exit.badInput, error.description) }
        } else {
            out = pass.run(luas: adapters, seed: seed)
        }
        if json { print(out.json(), terminator: ""); return }
        let pending = out.unschedulable.keys.filter { !out.order.contains($0) }.sorted()
        let width = max(10, (out.order + pending).map(\.count).max() ?? 10)
        print("scheduler: \(out.scheduler)\n")
        for key in out.order + pending {
            let pad = String(repeating: " ", count: width - key.count)
            if case .some(.some(let n)) = out.placements[key] {
                print("\(key)\(pad)  -> \(n)")
            } else {
                print("\(key)\(pad)  unschedulable: \(out.unschedulable[key] ?? "")")
            }
        }
        print("")
        for n in out.nodes.keys.sorted() {
            guard let u = out.nodes[n] else { continue }
            print("\(n): \(u.pods) pods, cpu \(u.cpu_requested)m/\(u.cpu_allocatable)m, memory \(u.memory_requested / 1_048_576)Mi/\(u.memory_allocatable / 1_048_576)Mi")
        }
        if !out.skipped.isEmpty { print("\nskipped (not scheduled): \(out.skipped.joined(separator: ", "))") }
        for f in out.plugin_failures.prefix(5) { FileHandle.standardError.write(Data("kubelab: plugin error: \(f)\n".utf8)) }
    }
}

/// The text form of `kubelab schedule --explain`.
enum ExplainText {
    static func render(_ e: Explanation) -> String {
        var out = "scheduler: \(e.scheduler)\n"
        for p in e.pods { out += "\n" + render(p) }
        out += String(format: "\n%d pods on %d nodes in %.3fs (%.0f pods/s)\n", e.stats.pods, e.stats.nodes,
                      e.stats.scheduling_seconds, e.stats.pods_per_second)
        return out
    }

    /// One pod's cycle: the outcome, then a row per node.
    static func render(_ p: Explanation.PodEntry, at time: Double? = nil) -> String {
        var out = ""
        do {
            out += (time.map { String(format: "[t=%.3fs] ", $0) } ?? "") + "\(p.pod) " + (p.node.map { "-> \($0)" } ?? "unschedulable: \(p.message)") + "\n"
            let plugins = uniqueScorePlugins(p.nodes)
            var rows: [[String]] = [["", "NODE", "FILTERS"] + plugins + ["TOTAL"]]
            let ordered = p.nodes.enumerated().sorted { a, b in
                func rank(_ n: Explanation.NodeEntry) -> Int {
                    n.node == p.node ? 0 : !n.examined ? 3 : n.filters.allSatisfy { $0.status == "Success" || $0.status == "Skip" } ? 1 : 2
                }
                let ra = rank(a.element), rb = rank(b.element)
                if ra != rb { return ra < rb }
                if a.element.total != b.element.total { return a.element.total > b.element.total }
                return a.offset < b.offset
            }.map(\.element)
            for n in ordered {
                let mark = n.node == p.node ? "*" : ""
                guard n.examined else {
                    rows.append([mark, n.node, "(not examined: percentageOfNodesToScore)"] + plugins.map { _ in "" } + [""])
                    continue
                }
                let failed = n.filters.first { $0.status != "Success" && $0.status != "Skip" }
                let verdict = failed.map { "\($0.plugin): \($0.reasons.joined(separator: ", "))" } ?? "ok"
                let cells = plugins.map { name -> String in
                    guard let s = n.scores.first(where: { $0.plugin == name }) else { return "" }
                    var c = s.raw == s.normalized ? "\(s.raw)" : "\(s.raw)->\(s.normalized)"
                    if s.weight != 1 { c += " x\(s.weight)" }
                    return c
                }
                rows.append([mark, n.node, verdict] + cells + [failed == nil && !n.scores.isEmpty ? "\(n.total)" : ""])
            }
            out += table(rows)
        }
        return out
    }

    static func uniqueScorePlugins(_ nodes: [Explanation.NodeEntry]) -> [String] {
        var seen: [String] = []
        for n in nodes { for s in n.scores where !seen.contains(s.plugin) { seen.append(s.plugin) } }
        return seen
    }

    static func table(_ rows: [[String]]) -> String {
        let widths = (0..<(rows.first?.count ?? 0)).map { c in rows.map { $0[c].count }.max() ?? 0 }
        return rows.map { r in
            "  " + r.enumerated().map { c, v in c == r.count - 1 ? v : v.padding(toLength: widths[c], withPad: " ", startingAt: 0) }
                .joined(separator: " ").replacingOccurrences(of: #"\s+$"#, with: "", options: .regularExpression)
        }.joined(separator: "\n") + "\n"
    }
}
