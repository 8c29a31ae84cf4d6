import SimCore
public import KubeAPI
public import KubeAPIServer
public import KubeControllers
import LuaHost

/// A Lua controller plugin run as a controller of the controller manager: a watch on each
/// kind in `watch` feeds a work queue, and each key is reconciled by the plugin's
/// `reconcile(ctx, key, kind)`, level-triggered, like controller-runtime.
///
/// A reconcile that raises, or returns anything but nil or `{ requeue_after = seconds }`,
/// is reported (once per distinct message) and the key is requeued with client-go's
/// default backoff, 5 ms doubling to 1000 s. A plugin that has spent its run budget of
/// instructions is switched off. `ctx` reaches the API only as far as the plugin's
/// `permissions` allow (RBAC-style: resource -> verbs); a forbidden call raises at the
/// calling line.
public final class LuaController {
    public let plugin: LoadedPlugin
    public var name: String { plugin.name }
    /// Kinds whose changes enqueue a reconcile, in the plugin's order.
    public let watch: [Kind]
    /// resource ("pods") -> verbs ("get", "list", "create", "delete").
    public let permissions: [String: Set<String>]
    /// The built-in controller this plugin runs instead of, if any.
    public let replaces: String?
    /// Called with "file:line: in reconcile: message" for each distinct failure.
    public var onFailure: ((String) -> Void)?
    /// Every failure message, in order (capped at 100).
    public private(set) var failures: [String] = []
    private var reported: Set<String> = []
    /// The Lua traceback of each distinct failure that raised an error, by message.
    public private(set) var tracebacks: [String: String] = [:]
    /// Instructions the plugin may spend over a whole run; past it the plugin stops.
    public var maxTotalInstructions = 20_000_000_000
    public private(set) var totalInstructions = 0
    public private(set) var switchedOff: String?
    /// Reconciles run, failed ones included.
    public private(set) var reconciles = 0
    public private(set) var queue: WorkQueue?
    private var client: Client?
    private var sim: Simulation?
    private var ctx: LuaValue = .nil

    public static let builtInControllers = [
        DeploymentController.name, NodeLifecycleController.name, ReplicaSetController.name,
    ]
    public static let verbs: Set<String> = ["get", "list", "watch", "create", "update", "patch", "delete"]
    static let kinds: [Kind] = [.pod, .node, .deployment, .replicaSet, .lease, .event]

    /// Reads `watch`, `permissions` and `replaces` from the plugin table.
    ///
    /// - Throws: `PluginError` (a load failure) naming the field that is wrong.
    public init(_ plugin: LoadedPlugin) throws(PluginError) {
        self.plugin = plugin
        maxTotalInstructions = plugin.runLimits.runInstructions
        let file = plugin.file
        guard plugin.has("reconcile") else {
            throw PluginError("\(file): not a controller (it defines no reconcile function)", loadFailure: false)
        }
        let known = Self.kinds.map(\.rawValue).joined(separator: ", ")
        guard let list = plugin.data["watch"]?.arrayValue, !list.isEmpty else {
            throw PluginError("\(file): field 'watch' must list the kinds to watch, like { \"Node\" } (known: \(known))")
        }
        var kinds: [Kind] = []
        for (i, v) in list.enumerated() {
            guard let s = v.stringValue, let k = Kind(loose: s), Self.kinds.contains(k) else {
                throw PluginError("\(file): watch[\(i + 1)]: unknown kind \(LuaHostText.describe(v)) (known: \(known))")
            }
            if !kinds.contains(k) { kinds.append(k) }
        }
        watch = kinds
        var perms: [String: Set<String>] = [:]
        if let p = plugin.data["permissions"] {
            guard let m = p.mapValue else {
                throw PluginError("\(file): field 'permissions' must be a table like { pods = { \"list\", \"delete\" } }")
            }
            let resources = Self.kinds.map(\.resource)
            for r in m.keys.sorted() {
                guard resources.contains(r) else {
                    throw PluginError("\(file): permissions.\(r): unknown resource (known: \(resources.joined(separator: ", ")))")
                }
                guard let verbs = m[r]?.arrayValue else {
                    throw PluginError("\(file): permissions.\(r): expected a list of verbs like { \"get\", \"list\" }")
                }
                var set: Set<String> = []
                for v in verbs {
                    guard let s = v.stringValue, Self.verbs.contains(s) else {
                        throw PluginError("\(file): permissions.\(r): unknown verb \(LuaHostText.describe(v)) (known: \(Self.verbs.sorted().joined(separator: ", ")))")
                    }
                    set.insert(s)
                }
                perms[r] = set
            }
        }
        permissions = perms
        if let r = plugin.data["replaces"] {
            guard let s = r.stringValue, Self.builtInControllers.contains(s) else {
                throw PluginError("\(file): field 'replaces' must name a built-in controller (\(Self.builtInControllers.joined(separator: ", "))), got \(LuaHostText.describe(r))")
            }
            replaces = s
        } else {
            replaces = nil
        }
    }

    /// Starts the watches and the work queue on `server`.
    public func start(server: APIServer) throws(APIError) {
        var perms = permissions
        // The runtime watches on the plugin's behalf.
        for k in watch { perms[k.resource, default: []].insert("watch") }
        let client = server.client("controller/\(name)", permissions: perms)
        let sim = server.sim
        let queue = WorkQueue(sim: sim)
        self.client = client; self.sim = sim; self.queue = queue
        ctx = makeContext()
        queue.handler = { [weak self] key in try self?.reconcile(key) }
        for kind in watch {
            try client.watch(kind) { [weak queue] e in queue?.add("\(kind.rawValue)|\(e.object.namespacedName)") }
        }
    }

    public func stop() {
        queue?.stopped = true
        client?.connected = false
        client?.stopWatches()
    }

    struct ReconcileFailure: Error { let message: String }

    func reconcile(_ queued: String) throws -> SimDuration? {
        guard switchedOff == nil else { return nil }
        let parts = queued.split(separator: "|", maxSplits: 1).map(String.init)
        let kind = parts[0], key = parts.count > 1 ? parts[1] : ""
        reconciles += 1
        let results: [LuaValue]
        do {
            defer { account() }
            results = try plugin.call("reconcile", fresh: true, [ctx, .string(key), .string(kind)])
        } catch {
            let msg = plugin.describe(error, hook: "reconcile")
            if tracebacks[msg] == nil, tracebacks.count < 20 {
                let tb = plugin.traceback(error)
                if !tb.isEmpty { tracebacks[msg] = tb }
            }
            throw fail(msg)
        }
        let r = results.first ?? .nil
        switch r {
        case .nil:
            return nil
        case .map(let m) where m.keys.allSatisfy({ $0 == "requeue_after" }):
            guard let v = m["requeue_after"] else { return nil }
            let seconds: Double? = switch v {
            case .integer(let i): Double(i)
            case .number(let d): d
            default: nil
            }
            if let s = seconds, s.isFinite, s >= 0, s <= 365 * 86_400, let d = SimDuration(seconds: s) { return d }
            throw fail("\(plugin.file): in reconcile: requeue_after must be a number of seconds from 0 to 31536000, got \(LuaHostText.describe(v))")
        default:
            throw fail("\(plugin.file): in reconcile: expected nil or { requeue_after = seconds }, got \(LuaHostText.describe(r))")
        }
    }

    /// What `reconcile` has cost so far.
    public private(set) var cost = LuaSchedulerPlugin.HookCost()

    private func account() {
        let c = plugin.state.lastCallCost
        cost.calls += 1
        cost.instructions += c.instructions
        cost.nanoseconds += c.nanoseconds
        totalInstructions += c.instructions
        if totalInstructions > maxTotalInstructions && switchedOff == nil {
            let why = "\(plugin.file): switched off after spending its run budget of \(maxTotalInstructions) instructions"
            switchedOff = why
            if failures.count < 100 { failures.append(why) }
            onFailure?(why)
            queue?.stopped = true
        }
    }

    private func fail(_ message: String) -> ReconcileFailure {
        if failures.count < 100 { failures.append(message) }
        if reported.insert(message).inserted { onFailure?(message) }
        return ReconcileFailure(message: message)
    }

    // MARK: - ctx

    private func makeContext() -> LuaValue {
        let st = plugin.state
        func fn(_ name: String, _ body: @escaping ([LuaValue]) throws(APICallError) -> [LuaValue]) -> LuaValue {
            st.function { args throws(LuaCallbackError) in
                do throws(APICallError) { return try body(args) } catch { throw LuaCallbackError("ctx.\(name): \(error.message)") }
            }
        }
        return .map([
            "get": fn("get") { [weak self] a throws(APICallError) in try self?.get(a) ?? [] },
            "list": fn("list") { [weak self] a throws(APICallError) in try self?.list(a) ?? [] },
            "delete": fn("delete") { [weak self] a throws(APICallError) in try self?.delete(a) ?? [] },
            "create": fn("create") { [weak self] a throws(APICallError) in try self?.create(a) ?? [] },
            "log": fn("log") { [weak self] a throws(APICallError) in
                if let self, let sim = self.sim { sim.record("controller/\(self.name)", a.map(KubelabModule.text).joined(separator: " ")) }
                return []
            },
            "now": fn("now") { [weak self] _ throws(APICallError) in [.number(self?.sim?.now.seconds ?? 0)] },
        ])
    }

    struct APICallError: Error {
        let message: String
        init(_ message: String) { self.message = message }
    }

    private func kindArg(_ a: [LuaValue]) throws(APICallError) -> Kind {
        guard let s = a.first?.stringValue else {
            throw APICallError("argument 1 must be a kind such as \"Pod\", got \(a.first.map(LuaHostText.describe) ?? "nothing")")
        }
        guard let k = Kind(loose: s), Self.kinds.contains(k) else { throw APICallError("unknown kind '\(s)'") }
        return k
    }

    private func keyArg(_ a: [LuaValue], _ kind: Kind) throws(APICallError) -> (namespace: String, name: String) {
        guard a.count > 1, let s = a[1].stringValue, !s.isEmpty else {
            throw APICallError("argument 2 must be a key such as \(kind.isNamespaced ? "\"default/web-1\"" : "\"node-1\""), got \(a.count > 1 ? LuaHostText.describe(a[1]) : "nothing")")
        }
        guard kind.isNamespaced else { return ("", s) }
        let parts = s.split(separator: "/", maxSplits: 1).map(String.init)
        return parts.count == 2 ? (parts[0], parts[1]) : ("default", s)
    }

    private func view(_ o: KubeObject) -> LuaValue {
        guard case .node(let n) = o else { return Views.object(o) }
        // A node's pods are shown to controllers that may list pods.
        let pods = ((try? client?.list(.pod)) ?? []).compactMap(\.pod).filter {
            $0.spec.nodeName == n.metadata.name && !$0.isTerminal
        }
        return Views.object(o, podsOnNode: pods)
    }

    private func get(_ a: [LuaValue]) throws(APICallError) -> [LuaValue] {
        guard let client else { return [] }
        let kind = try kindArg(a)
        let (ns, name) = try keyArg(a, kind)
        do {
            guard let o = try client.get(kind, namespace: ns, name: name) else { return [.nil] }
            return [view(o)]
        } catch { throw APICallError(error.message) }
    }

    private func list(_ a: [LuaValue]) throws(APICallError) -> [LuaValue] {
        guard let client else { return [] }
        let kind = try kindArg(a)
        var namespace: String?, labels: [String: String] = [:], node: String?
        if a.count > 1, a[1] != .nil {
            guard let m = a[1].mapValue else { throw APICallError("argument 2 must be a filter table like { labels = { app = \"web\" } }") }
            for k in m.keys.sorted() {
                let v = m[k] ?? .nil
                switch k {
                case "namespace": namespace = v.stringValue
                case "node": node = v.stringValue
                case "labels":
                    guard let lm = v.mapValue else { throw APICallError("filter.labels must be a table of strings") }
                    for (lk, lv) in lm { labels[lk] = lv.stringValue ?? KubelabModule.text(lv) }
                default: throw APICallError("unknown filter field '\(k)' (known: labels, namespace, node)")
                }
            }
        }
        let objects: [KubeObject]
        do { objects = try client.list(kind, namespace: namespace) } catch { throw APICallError(error.message) }
        let chosen = objects.filter { o in
            labels.allSatisfy { o.metadata.labels[$0.key] == $0.value }
                && (node == nil || o.pod?.spec.nodeName == node)
        }
        return [.array(chosen.map(view))]
    }

    private func delete(_ a: [LuaValue]) throws(APICallError) -> [LuaValue] {
        guard let client, let sim else { return [] }
        let kind = try kindArg(a)
        let (ns, name) = try keyArg(a, kind)
        do {
            try client.delete(kind, namespace: ns, name: name)
            sim.record("controller/\(self.name)", "deleted \(kind.rawValue.lowercased()) \(ns.isEmpty ? name : "\(ns)/\(name)")")
            return [.boolean(true)]
        } catch {
            if error.reason == .notFound { return [.boolean(false)] }
            throw APICallError(error.message)
        }
    }

    private func create(_ a: [LuaValue]) throws(APICallError) -> [LuaValue] {
        guard let client, let sim else { return [] }
        guard let v = a.first, v.mapValue != nil else {
            throw APICallError("expected a manifest table like { apiVersion = \"v1\", kind = \"Pod\", ... }")
        }
        let doc: ManifestDocument
        do { doc = try ManifestDecoder.decode(LuaManifest.node(v), file: "ctx.create") } catch { throw APICallError(error.description) }
        guard case .object(let o, _) = doc else { throw APICallError("kubelab does not simulate this kind yet") }
        do {
            let created = try client.create(o)
            sim.record("controller/\(self.name)", "created \(created.kind.rawValue.lowercased()) \(created.namespacedName)")
            return [.string(created.namespacedName)]
        } catch { throw APICallError(error.message) }
    }
}
