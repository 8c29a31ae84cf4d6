import Foundation
public import SimCore
public import LuaHost
public import KubeAPI
public import KubeScheduler

/// An error raised by a scenario call, shown to the scenario at the calling line.
public struct ScenarioError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// What a scenario may do to the cluster. The composition root implements it; the Lua
/// side never sees the cluster itself.
public protocol ScenarioHost: AnyObject {
    var sim: Simulation { get }
    /// Applies decoded manifests; returns "kind/name" for each object created or updated.
    func apply(_ documents: [ManifestDocument], source: String) throws(ScenarioError) -> [String]
    func delete(_ kind: Kind, namespace: String, name: String) throws(ScenarioError)
    func crashNode(_ name: String) throws(ScenarioError)
    func recoverNode(_ name: String) throws(ScenarioError)
    func currentPods() -> [Pod]
    func currentNodes() -> [Node]
    func object(_ kind: Kind, namespace: String, name: String) -> KubeObject?
    func scenarioLog(_ message: String)
    /// Reads a manifest named relative to the scenario's folder; returns its text and the
    /// name to show in messages.
    func readManifest(_ path: String) throws(ScenarioError) -> (text: String, file: String)
}

extension Kind {
    /// Parses kubectl-style kind names: "deployment", "deployments", "deploy", "Deployment".
    public init?(loose s: String) {
        switch s.lowercased() {
        case "pod", "pods", "po": self = .pod
        case "node", "nodes", "no": self = .node
        case "deployment", "deployments", "deploy": self = .deployment
        case "replicaset", "replicasets", "rs": self = .replicaSet
        case "lease", "leases": self = .lease
        case "event", "events", "ev": self = .event
        default: return nil
        }
    }
}

/// A scenario plugin: its cluster, its settings and its `run(k)` coroutine, driven on
/// virtual time. `k.sleep` and `k.wait_until` yield to the engine; everything else is a
/// direct call through `ScenarioHost`.
public final class LuaScenario {
    public let plugin: LoadedPlugin
    public let cluster: ClusterSpec
    /// Settings from the scenario's `settings` table, as (name, value text), sorted.
    public let settings: [(String, String)]
    public private(set) var finished = false
    /// The error that stopped the scenario, if any ("file:line: in run: message").
    public private(set) var failure: String?
    /// Called once when `run` returns or fails.
    public var onFinish: (() -> Void)?
    private var thread: LuaThread?
    private weak var host: (any ScenarioHost)?

    /// Reads the scenario's cluster and settings.
    ///
    /// - Throws: `PluginError` (bad input) for a malformed `cluster` or `settings` field.
    public init(_ plugin: LoadedPlugin) throws(PluginError) {
        guard plugin.kind == .scenario else {
            throw PluginError("\(plugin.file): not a scenario (it defines no run function)", loadFailure: false)
        }
        self.plugin = plugin
        self.cluster = try ClusterSpec(lua: plugin.data["cluster"], file: plugin.file)
        var s: [(String, String)] = []
        if let v = plugin.data["settings"] {
            guard let m = v.mapValue else { throw PluginError("\(plugin.file): settings: expected a table", loadFailure: false) }
            for k in m.keys.sorted() {
                switch m[k] {
                case .string(let t)?: s.append((k, t))
                case .integer(let i)?: s.append((k, String(i)))
                case .number(let d)?: s.append((k, String(d)))
                default: throw PluginError("\(plugin.file): settings.\(k): expected a string or a number", loadFailure: false)
                }
            }
        }
        settings = s
    }

    /// Starts `run(k)` at the current virtual time.
    public func start(host: any ScenarioHost) {
        self.host = host
        plugin.context.now = { [unowned sim = host.sim] in sim.now }
        plugin.context.log = { [weak host] msg in host?.scenarioLog(msg) }
        thread = plugin.state.newThread(plugin.start)
        resume([makeK()])
    }

    private func resume(_ firstArgs: [LuaValue]) {
        guard let thread, let host, !finished else { return }
        var args = firstArgs
        while true {
            let result: LuaResumeResult
            do { result = try thread.resume(args) } catch {
                finish(failure: plugin.describe(error, hook: "run"))
                return
            }
            switch result {
            case .returned:
                finish(failure: nil)
                return
            case .yielded(let values):
                if values.first == .string("sleep"), let secs = values.dropFirst().first?.doubleValue,
                   let d = SimDuration(seconds: secs) {
                    // At least 1ms, so that a scenario looping on k.sleep(0) still moves
                    // virtual time towards the run's limit instead of spinning in place.
                    host.sim.schedule(after: max(d, .milliseconds(1))) { [weak self] in self?.resume([.boolean(true)]) }
                    return
                }
                args = [.boolean(false), .string("coroutine.yield is not allowed in a scenario's run; use k.sleep or k.wait_until")]
            }
        }
    }

    private func finish(failure: String?) {
        finished = true
        self.failure = failure
        thread = nil
        onFinish?()
    }

    // MARK: - The k API

    private func makeK() -> LuaValue {
        let st = plugin.state
        func fn(_ body: @escaping ([LuaValue]) throws(ScenarioError) -> [LuaValue]) -> LuaValue {
            st.function { args throws(LuaCallbackError) in
                do { return try body(args) } catch { throw LuaCallbackError((error as? ScenarioError)?.message ?? "\(error)") }
            }
        }
        return .map([
            "apply": fn { [weak self] a throws(ScenarioError) in try self?.apply(a) ?? [] },
            "create": fn { [weak self] a throws(ScenarioError) in try self?.create(a) ?? [] },
            "delete": fn { [weak self] a throws(ScenarioError) in try self?.delete(a) ?? [] },
            "now": fn { [weak self] _ throws(ScenarioError) in [.number(self?.host?.sim.now.seconds ?? 0)] },
            "crash_node": fn { [weak self] a throws(ScenarioError) in
                try self?.host?.crashNode(try Self.string(a, 0, "k.crash_node", "a node name")); return []
            },
            "recover_node": fn { [weak self] a throws(ScenarioError) in
                try self?.host?.recoverNode(try Self.string(a, 0, "k.recover_node", "a node name")); return []
            },
            "pods": fn { [weak self] a throws(ScenarioError) in try self?.pods(a) ?? [] },
            "nodes": fn { [weak self] a throws(ScenarioError) in try self?.nodes(a) ?? [] },
            "ready": fn { [weak self] a throws(ScenarioError) in try self?.ready(a) ?? [] },
            "log": fn { [weak self] a throws(ScenarioError) in
                self?.host?.scenarioLog(a.map(KubelabModule.text).joined(separator: " ")); return []
            },
            "seconds": fn { a throws(ScenarioError) in
                let what = a.count > 1 ? (a[1].stringValue ?? "duration") : "duration"
                return [.number(try Self.duration(a.first ?? .nil, what).seconds)]
            },
        ])
    }

    static func string(_ a: [LuaValue], _ i: Int, _ fn: String, _ what: String) throws(ScenarioError) -> String {
        guard i < a.count, case .string(let s) = a[i], !s.isEmpty else {
            throw ScenarioError("\(fn): argument \(i + 1) must be \(what), got \(i < a.count ? LuaHostText.describe(a[i]) : "nothing")")
        }
        return s
    }

    /// "500ms", "30s", "5m", "1h" or a number of seconds.
    static func duration(_ v: LuaValue, _ what: String) throws(ScenarioError) -> SimDuration {
        switch v {
        case .string(let s):
            do { return try SimDuration(parsing: s) } catch { throw ScenarioError("\(what): \(error.description)") }
        case .integer(let i):
            guard let d = SimDuration(seconds: Double(i)) else { throw ScenarioError("\(what): a duration must be 0 or more seconds, got \(i)") }
            return d
        case .number(let x):
            guard let d = SimDuration(seconds: x) else { throw ScenarioError("\(what): a duration must be a finite number of seconds >= 0, got \(LuaHostText.describe(v))") }
            return d
        default:
            throw ScenarioError("\(what): expected a duration like \"30s\" or a number of seconds, got \(LuaHostText.describe(v))")
        }
    }

    private func apply(_ a: [LuaValue]) throws(ScenarioError) -> [LuaValue] {
        guard let host else { return [] }
        let arg = try Self.string(a, 0, "k.apply", "a manifest path or YAML text")
        let text: String, file: String
        if arg.contains("\n") || arg.hasPrefix("apiVersion:") || arg.hasPrefix("kind:") || arg.hasPrefix("{") {
            (text, file) = (arg, "\(plugin.file) (inline YAML)")
        } else {
            (text, file) = try host.readManifest(arg)
        }
        let docs: [ManifestDocument]
        do { docs = try ManifestDecoder.decode(text, file: file) } catch { throw ScenarioError(error.description) }
        let names = try host.apply(docs, source: file)
        return [.array(names.map { .string($0) })]
    }

    private func create(_ a: [LuaValue]) throws(ScenarioError) -> [LuaValue] {
        guard let host else { return [] }
        guard let v = a.first, v.mapValue != nil else {
            throw ScenarioError("k.create: expected a manifest table like { apiVersion = \"v1\", kind = \"Pod\", ... }")
        }
        let doc: ManifestDocument
        do { doc = try ManifestDecoder.decode(LuaManifest.node(v), file: "k.create") } catch { throw ScenarioError(error.description) }
        let names = try host.apply([doc], source: "k.create")
        return names.first.map { [.string($0)] } ?? []
    }

    private func delete(_ a: [LuaValue]) throws(ScenarioError) -> [LuaValue] {
        guard let host else { return [] }
        let first = try Self.string(a, 0, "k.delete", "a kind (\"pod\") or \"kind/name\"")
        var kindText = first, name = "", namespace = "default"
        if first.contains("/") {
            let parts = first.split(separator: "/", maxSplits: 1).map(String.init)
            kindText = parts[0]; name = parts.count > 1 ? parts[1] : ""
            if a.count > 1, let ns = a[1].stringValue { namespace = ns }
        } else {
            name = try Self.string(a, 1, "k.delete", "an object name")
            if a.count > 2, let ns = a[2].stringValue { namespace = ns }
        }
        guard let kind = Kind(loose: kindText) else { throw ScenarioError("k.delete: unknown kind '\(kindText)'") }
        try host.delete(kind, namespace: kind.isNamespaced ? namespace : "", name: name)
        return []
    }

    /// Filter tables: { labels = {...}, phase = "Running", node = "node-1", namespace = "default", ready = true }.
    private struct Filter {
        var labels: [String: String] = [:]
        var phase: String?
        var node: String?
        var namespace: String?
        var ready: Bool?

        init(_ v: LuaValue?, _ fn: String) throws(ScenarioError) {
            guard let v, v != .nil else { return }
            guard let m = v.mapValue else { throw ScenarioError("\(fn): the filter must be a table like { labels = { app = \"web\" } }") }
            for k in m.keys.sorted() {
                let x = m[k] ?? .nil
                switch k {
                case "labels":
                    guard let lm = x.mapValue else { throw ScenarioError("\(fn): filter.labels must be a table of strings") }
                    for (lk, lv) in lm { labels[lk] = lv.stringValue ?? KubelabModule.text(lv) }
                case "phase": phase = x.stringValue
                case "node": node = x.stringValue
                case "namespace": namespace = x.stringValue
                case "ready": ready = x.boolValue
                default: throw ScenarioError("\(fn): unknown filter field '\(k)' (known: labels, phase, node, namespace, ready)")
                }
            }
        }

        func matches(labels l: [String: String]) -> Bool { labels.allSatisfy { l[$0.key] == $0.value } }
    }

    private func pods(_ a: [LuaValue]) throws(ScenarioError) -> [LuaValue] {
        guard let host else { return [] }
        let f = try Filter(a.first, "k.pods")
        let pods = host.currentPods().filter { p in
            f.matches(labels: p.metadata.labels) && (f.phase == nil || p.status.phase.rawValue == f.phase)
                && (f.node == nil || p.spec.nodeName == f.node) && (f.namespace == nil || p.metadata.namespace == f.namespace)
                && (f.ready == nil || p.isReady == f.ready)
        }
        return [.array(pods.map(Views.pod))]
    }

    private func nodes(_ a: [LuaValue]) throws(ScenarioError) -> [LuaValue] {
        guard let host else { return [] }
        let f = try Filter(a.first, "k.nodes")
        var byNode: [String: [Pod]] = [:]
        for p in host.currentPods() where !p.spec.nodeName.isEmpty && !p.isTerminal {
            byNode[p.spec.nodeName, default: []].append(p)
        }
        let nodes = host.currentNodes().filter { n in
            f.matches(labels: n.metadata.labels) && (f.ready == nil || n.isReady == f.ready)
        }
        return [.array(nodes.map { Views.node(NodeInfo(node: $0, pods: byNode[$0.metadata.name] ?? [])) })]
    }

    private func ready(_ a: [LuaValue]) throws(ScenarioError) -> [LuaValue] {
        guard let host else { return [] }
        let ref = try Self.string(a, 0, "k.ready", "\"kind/name\" such as \"deployment/web\"")
        let parts = ref.split(separator: "/", maxSplits: 1).map(String.init)
        guard parts.count == 2, let kind = Kind(loose: parts[0]) else {
            throw ScenarioError("k.ready: expected \"kind/name\" such as \"deployment/web\", got \"\(ref)\"")
        }
        let ns = kind.isNamespaced ? (a.count > 1 ? a[1].stringValue ?? "default" : "default") : ""
        guard let o = host.object(kind, namespace: ns, name: parts[1]) else { return [.boolean(false)] }
        let ok: Bool
        switch o {
        case .deployment(let d):
            ok = d.status.observedGeneration >= d.metadata.generation && d.status.updatedReplicas == d.spec.replicas
                && d.status.availableReplicas == d.spec.replicas && d.status.replicas == d.spec.replicas
        case .replicaSet(let r): ok = r.status.readyReplicas == r.spec.replicas && r.status.replicas == r.spec.replicas
        case .pod(let p): ok = p.isReady
        case .node(let n): ok = n.isReady
        default: ok = true
        }
        return [.boolean(ok)]
    }
}
