import ArgumentParser
import Foundation
import KubeAPI
import KubeLab
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

    func run() throws {
        var pass = SchedulePass()
        let nodesText = try readText(nodes), podsText = try readText(pods)
        do { try pass.load(nodesText: nodesText, nodesFile: nodes, podsText: podsText, podsFile: pods) } catch {
            throw Failure(Exit.badInput, error.description)
        }
        if pass.nodes.isEmpty { throw Failure(Exit.badInput, "\(nodes): no Node objects found") }
        let limits = try parseSettings(settings, allowOthers: false).limits
        let lua = try plugin.map { try loadPlugin($0, seed: seed, limits: limits) }
        for p in lua where p.kind != .scheduler {
            throw Failure(Exit.badInput, "\(p.file): --plugin wants a scheduler plugin, but this one is a \(p.kind.rawValue) plugin")
        }
        let out = pass.run(plugins: lua, seed: seed)
        if json { print(out.json(), terminator: ""); return }
        let width = max(10, out.order.map(\.count).max() ?? 10)
        print("scheduler: \(out.scheduler)\n")
        for key in out.order {
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
