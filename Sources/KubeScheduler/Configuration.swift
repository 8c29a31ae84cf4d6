public import KubeAPI

/// The extension points of a KubeSchedulerConfiguration profile, in kube-scheduler's order.
public enum ExtensionPoint: String, CaseIterable, Sendable {
    case preEnqueue, queueSort, preFilter, filter, postFilter, preScore, score, reserve, permit, preBind, bind, postBind
}

/// A plugin's answer to "do you implement this extension point?". Built-ins answer from
/// their protocols; a Lua plugin from the hooks it defines.
public protocol ExtensionPoints {
    func extends(_ point: ExtensionPoint) -> Bool
}

extension Plugin {
    /// Whether the plugin implements `point`, from the protocols it conforms to.
    public func conforms(to point: ExtensionPoint) -> Bool {
        if let e = self as? any ExtensionPoints { return e.extends(point) }
        switch point {
        case .queueSort: return self is any QueueSortPlugin
        case .preFilter: return self is any PreFilterPlugin
        case .filter: return self is any FilterPlugin
        case .preScore: return self is any PreScorePlugin
        case .score: return self is any ScorePlugin
        case .permit: return self is any PermitPlugin
        case .postBind: return self is any PostBindPlugin
        case .reserve: return self is any ReservePlugin
        case .postFilter: return self is any PostFilterPlugin
        case .preBind: return self is any PreBindPlugin
        case .bind: return self is any BindPlugin
        case .preEnqueue: return false
        }
    }
}

/// A `kubescheduler.config.k8s.io/v1` KubeSchedulerConfiguration, as far as kubelab
/// simulates it: profiles with their plugins per extension point (multiPoint included),
/// score weights, `pluginConfig` arguments, percentageOfNodesToScore and the pod backoff.
public struct SchedulerConfiguration: Sendable {
    /// One `plugins.<point>` set.
    public struct PluginSet: Sendable {
        public var enabled: [(name: String, weight: Int64?, field: String, line: Int?)] = []
        public var disabled: [String] = []
    }

    public struct Profile: Sendable {
        public var schedulerName = "default-scheduler"
        public var percentageOfNodesToScore: Int?
        /// Keyed by "multiPoint" or an extension point's name.
        public var plugins: [String: PluginSet] = [:]
        public var pluginConfig: [(name: String, args: ManifestNode, field: String)] = []
        /// Where the profile is, for messages: "profiles[0]".
        public var field = "profiles[0]"
    }

    public var profiles: [Profile] = []
    public var percentageOfNodesToScore = 0
    public var podInitialBackoffSeconds: Int64 = 1
    public var podMaxBackoffSeconds: Int64 = 10
    public var file: String

    /// kube-scheduler's default plugins (v1 multiPoint), with their score weights.
    public static let defaultPlugins: [(name: String, weight: Int64?)] = [
        ("SchedulingGates", nil), ("PrioritySort", nil), ("NodeUnschedulable", nil), ("NodeName", nil),
        ("TaintToleration", 3), ("NodeAffinity", 2), ("NodePorts", nil), ("NodeResourcesFit", 1),
        ("VolumeRestrictions", nil), ("NodeVolumeLimits", nil), ("VolumeBinding", nil), ("VolumeZone", nil),
        ("PodTopologySpread", 2), ("InterPodAffinity", 2), ("DefaultPreemption", nil),
        ("NodeResourcesBalancedAllocation", 1), ("ImageLocality", 1), ("DefaultBinder", nil),
    ]

    /// Plugins kube-scheduler has that kubelab accepts in a configuration but does not
    /// simulate (no volumes, no scheduling gates); they take part in nothing.
    public static let acceptedWithoutEffect: Set<String> = [
        "SchedulingGates", "VolumeRestrictions", "NodeVolumeLimits", "VolumeBinding", "VolumeZone", "DynamicResources",
        "PrioritySort",
    ]

    public init(file: String) { self.file = file }

    // MARK: - Parsing

    /// Reads a configuration file's text.
    ///
    /// - Throws: `ManifestError` naming the file, line and field.
    public static func parse(_ text: String, file: String) throws(ManifestError) -> SchedulerConfiguration {
        let docs = try ManifestDecoder.parse(text, file: file)
        guard docs.count == 1, let root = docs.first, case .mapping(let top, _) = root else {
            throw ManifestError(file: file, line: docs.first?.line, field: nil,
                                message: "expected one KubeSchedulerConfiguration document")
        }
        var c = SchedulerConfiguration(file: file)
        func fail(_ node: ManifestNode?, _ field: String, _ message: String) -> ManifestError {
            ManifestError(file: file, line: node?.line ?? root.line, field: field, message: message)
        }
        let apiVersion = root["apiVersion"]?.scalarText
        guard apiVersion == "kubescheduler.config.k8s.io/v1" else {
            throw fail(root["apiVersion"], "apiVersion",
                       "expected kubescheduler.config.k8s.io/v1, got \(root["apiVersion"]?.summary ?? "nothing")")
        }
        guard root["kind"]?.scalarText == "KubeSchedulerConfiguration" else {
            throw fail(root["kind"], "kind", "expected KubeSchedulerConfiguration, got \(root["kind"]?.summary ?? "nothing")")
        }
        let known: Set<String> = [
            "apiVersion", "kind", "parallelism", "leaderElection", "clientConnection", "healthzBindAddress",
            "metricsBindAddress", "enableProfiling", "enableContentionProfiling", "percentageOfNodesToScore",
            "podInitialBackoffSeconds", "podMaxBackoffSeconds", "profiles", "extenders", "delayCacheUntilActive",
        ]
        for (k, v) in top where !known.contains(k) { throw fail(v, k, "unknown field") }
        if let p = root["percentageOfNodesToScore"] {
            c.percentageOfNodesToScore = try percentage(p, "percentageOfNodesToScore", fail)
        }
        if let v = root["podInitialBackoffSeconds"] {
            guard let n = integer(v), n > 0 else { throw fail(v, "podInitialBackoffSeconds", "must be greater than 0, got \(v.summary)") }
            c.podInitialBackoffSeconds = n
        }
        if let v = root["podMaxBackoffSeconds"] {
            guard let n = integer(v), n >= c.podInitialBackoffSeconds else {
                throw fail(v, "podMaxBackoffSeconds", "must be greater than or equal to podInitialBackoffSeconds, got \(v.summary)")
            }
            c.podMaxBackoffSeconds = n
        }
        if let ext = root["extenders"], case .sequence(let items, _) = ext, !items.isEmpty {
            throw fail(ext, "extenders", "scheduler extenders (webhooks) are not simulated; use a Lua plugin instead")
        }
        switch root["profiles"] {
        case nil, .null?:
            c.profiles = [Profile()]
        case .sequence(let items, _)?:
            var names: [String: String] = [:]
            for (i, item) in items.enumerated() {
                let p = try profile(item, "profiles[\(i)]", fail)
                if let other = names[p.schedulerName] {
                    throw fail(item["schedulerName"] ?? item, "profiles[\(i)].schedulerName", "duplicate value \"\(p.schedulerName)\" (also \(other))")
                }
                names[p.schedulerName] = "profiles[\(i)]"
                c.profiles.append(p)
            }
            if c.profiles.isEmpty { c.profiles = [Profile()] }
        case let other?:
            throw fail(other, "profiles", "expected a list of profiles, got \(other.summary)")
        }
        return c
    }

    static func integer(_ n: ManifestNode) -> Int64? { n.scalarText.flatMap { Int64($0) } }

    static func percentage(_ n: ManifestNode, _ field: String,
                           _ fail: (ManifestNode?, String, String) -> ManifestError) throws(ManifestError) -> Int {
        guard let v = integer(n), v >= 0, v <= 100 else { throw fail(n, field, "not in valid range [0-100]: \(n.summary)") }
        return Int(v)
    }

    static func profile(_ node: ManifestNode, _ path: String,
                        _ fail: (ManifestNode?, String, String) -> ManifestError) throws(ManifestError) -> Profile {
        guard case .mapping(let pairs, _) = node else { throw fail(node, path, "expected a profile mapping, got \(node.summary)") }
        var p = Profile()
        p.field = path
        for (k, v) in pairs where !["schedulerName", "percentageOfNodesToScore", "plugins", "pluginConfig"].contains(k) {
            throw fail(v, "\(path).\(k)", "unknown field")
        }
        if let n = node["schedulerName"] {
            guard let s = n.scalarText, !s.isEmpty else { throw fail(n, "\(path).schedulerName", "required") }
            p.schedulerName = s
        }
        if let n = node["percentageOfNodesToScore"] {
            p.percentageOfNodesToScore = try percentage(n, "\(path).percentageOfNodesToScore", fail)
        }
        if let plugins = node["plugins"] {
            guard case .mapping(let points, _) = plugins else { throw fail(plugins, "\(path).plugins", "expected a mapping") }
            let names = Set(ExtensionPoint.allCases.map(\.rawValue)).union(["multiPoint"])
            for (point, set) in points {
                let f = "\(path).plugins.\(point)"
                guard names.contains(point) else { throw fail(set, f, "unknown extension point") }
                p.plugins[point] = try pluginSet(set, f, fail)
            }
        }
        if let configs = node["pluginConfig"] {
            guard case .sequence(let items, _) = configs else { throw fail(configs, "\(path).pluginConfig", "expected a list") }
            var seen: Set<String> = []
            for (i, item) in items.enumerated() {
                let f = "\(path).pluginConfig[\(i)]"
                guard let name = item["name"]?.scalarText, !name.isEmpty else { throw fail(item, "\(f).name", "required") }
                guard seen.insert(name).inserted else { throw fail(item, f, "duplicate value \"\(name)\"") }
                p.pluginConfig.append((name, item["args"] ?? .null(line: item.line), "\(f).args"))
            }
        }
        return p
    }

    static func pluginSet(_ node: ManifestNode, _ path: String,
                          _ fail: (ManifestNode?, String, String) -> ManifestError) throws(ManifestError) -> PluginSet {
        guard case .mapping(let pairs, _) = node else { throw fail(node, path, "expected enabled/disabled lists") }
        var set = PluginSet()
        for (k, v) in pairs {
            guard k == "enabled" || k == "disabled" else { throw fail(v, "\(path).\(k)", "unknown field") }
            if case .null = v { continue }
            guard case .sequence(let items, _) = v else { throw fail(v, "\(path).\(k)", "expected a list of plugins") }
            for (i, item) in items.enumerated() {
                let f = "\(path).\(k)[\(i)]"
                guard let name = item["name"]?.scalarText, !name.isEmpty else { throw fail(item, "\(f).name", "required") }
                if case .mapping(let fields, _) = item {
                    for (fk, fv) in fields where fk != "name" && fk != "weight" { throw fail(fv, "\(f).\(fk)", "unknown field") }
                }
                if k == "disabled" { set.disabled.append(name); continue }
                var weight: Int64?
                if let w = item["weight"] {
                    guard let n = integer(w), n >= 0 else {
                        throw fail(w, "\(f).weight", "must be a whole number of 0 or more (0 means the default, 1), got \(w.summary)")
                    }
                    weight = n
                }
                set.enabled.append((name, weight, f, item.line))
            }
        }
        return set
    }
}

// MARK: - Building frameworks

extension SchedulerConfiguration {
    /// A plugin kubelab can instantiate by name: the built-ins, and Lua plugins by their
    /// `name`.
    public typealias Factory = @Sendable (_ args: ManifestNode?, _ field: String) throws(ManifestError) -> any Plugin

    /// The frameworks of every profile, by schedulerName, in file order.
    ///
    /// - Parameter extra: plugins beyond the built-ins (Lua plugins), by name.
    /// - Throws: `ManifestError` naming the field: an unknown plugin, a plugin enabled at an
    ///   extension point it does not implement, a bad weight or bad plugin arguments.
    public func frameworks(extra: [String: any Plugin] = [:]) throws(ManifestError) -> [(schedulerName: String, framework: Framework)] {
        var out: [(schedulerName: String, framework: Framework)] = []
        for p in profiles { out.append((p.schedulerName, try framework(for: p, extra: extra))) }
        return out
    }

    func fail(_ line: Int?, _ field: String, _ message: String) -> ManifestError {
        ManifestError(file: file, line: line, field: field, message: message)
    }

    /// kube-scheduler's mergePluginSet: defaults minus the disabled ones ("*": all), custom
    /// plugins that name a default replace it in place, the others are appended.
    static func merge(defaults: [(name: String, weight: Int64?)], custom: PluginSet?) -> [(name: String, weight: Int64?, field: String, line: Int?)] {
        guard let custom else { return defaults.map { ($0.name, $0.weight, "", nil) } }
        let disabled = Set(custom.disabled)
        var out: [(name: String, weight: Int64?, field: String, line: Int?)] = []
        var replaced: Set<Int> = []
        if !disabled.contains("*") {
            for d in defaults where !disabled.contains(d.name) {
                if let i = custom.enabled.firstIndex(where: { $0.name == d.name }) {
                    out.append(custom.enabled[i]); replaced.insert(i)
                } else {
                    out.append((d.name, d.weight, "", nil))
                }
            }
        }
        for (i, e) in custom.enabled.enumerated() where !replaced.contains(i) { out.append(e) }
        return out
    }

    func framework(for profile: Profile, extra: [String: any Plugin]) throws(ManifestError) -> Framework {
        let multi = Self.merge(defaults: Self.defaultPlugins, custom: profile.plugins["multiPoint"])
        var instances: [String: any Plugin] = [:]
        var order: [String] = []
        let args = Dictionary(profile.pluginConfig.map { ($0.name, ($0.args, $0.field)) }, uniquingKeysWith: { a, _ in a })
        func instance(_ name: String, _ field: String, _ line: Int?) throws(ManifestError) -> (any Plugin)? {
            if let p = instances[name] { return p }
            if Self.acceptedWithoutEffect.contains(name) { return nil }
            let a = args[name]
            let p: any Plugin
            if let lua = extra[name] {
                p = lua
            } else if let make = Self.builtIns[name] {
                do { p = try make(a?.0, a?.1 ?? "\(profile.field).pluginConfig") } catch {
                    var e = error
                    e.file = file
                    throw e
                }
            } else if Self.notYetSimulated.contains(name) {
                return nil
            } else {
                let known = (Self.builtIns.keys.sorted() + extra.keys.sorted()).joined(separator: ", ")
                throw fail(line, field, "unknown plugin \"\(name)\" (known: \(known))")
            }
            instances[name] = p
            order.append(name)
            return p
        }
        for e in multi { _ = try instance(e.name, e.field.isEmpty ? "\(profile.field).plugins.multiPoint" : "\(e.field).name", e.line) }
        // Arguments for a plugin that is nowhere enabled are still checked.
        for (name, a) in args.sorted(by: { $0.key < $1.key }) where instances[name] == nil {
            guard let make = Self.builtIns[name] else { continue }
            do { _ = try make(a.0, a.1) } catch {
                var e = error
                e.file = file
                throw e
            }
        }

        // Per extension point: the point's own set, then multiPoint expansion
        // (kube-scheduler's expandMultiPointPlugins).
        var lists: [ExtensionPoint: [any Plugin]] = [:]
        for point in ExtensionPoint.allCases {
            let specific = profile.plugins[point.rawValue]
            let enabled = Self.merge(defaults: [], custom: specific)
            var explicit: [String] = []
            for e in enabled {
                guard let p = try instance(e.name, "\(e.field).name", e.line) else { continue }
                guard p.conforms(to: point) else {
                    throw fail(e.line, "\(e.field).name", "plugin \"\(e.name)\" does not extend the \(point.rawValue) extension point")
                }
                if !explicit.contains(e.name) { explicit.append(e.name) }
            }
            let disabled = Set(specific?.disabled ?? [])
            var fromMulti: [String] = []
            var overridden: [String] = []
            if !disabled.contains("*") {
                for e in multi {
                    guard let p = instances[e.name], p.conforms(to: point), !disabled.contains(e.name) else { continue }
                    if explicit.contains(e.name) { overridden.append(e.name); continue }
                    if !fromMulti.contains(e.name) { fromMulti.append(e.name) }
                }
            }
            let names = explicit.filter { overridden.contains($0) } + fromMulti + explicit.filter { !overridden.contains($0) }
            lists[point] = names.compactMap { instances[$0] }
        }

        // Score weights: the score set's own, then multiPoint's; 0 or none means 1.
        var weights: [String: Int64] = [:]
        let scoreSet = Self.merge(defaults: [], custom: profile.plugins["score"])
        for e in scoreSet + multi where weights[e.name] == nil {
            if let w = e.weight, w > 0 { weights[e.name] = w; continue }
            if let lua = extra[e.name] as? any WeightedPlugin { weights[e.name] = lua.defaultWeight; continue }
            weights[e.name] = 1
        }

        let f = Framework(filters: (lists[.filter] ?? []).compactMap { $0 as? any FilterPlugin },
                          scores: (lists[.score] ?? []).compactMap { p in (p as? any ScorePlugin).map { ($0, weights[p.name] ?? 1) } })
        f.preFilters = (lists[.preFilter] ?? []).compactMap { $0 as? any PreFilterPlugin }
        f.preScores = (lists[.preScore] ?? []).compactMap { $0 as? any PreScorePlugin }
        let sorts = (lists[.queueSort] ?? []).compactMap { $0 as? any QueueSortPlugin }
        if sorts.count > 1 {
            throw fail(profile.plugins["queueSort"]?.enabled.first?.line, "\(profile.field).plugins.queueSort",
                       "only one queue sort plugin can be enabled")
        }
        f.queueSort = sorts.first
        f.permits = (lists[.permit] ?? []).compactMap { $0 as? any PermitPlugin }
        f.reserves = (lists[.reserve] ?? []).compactMap { $0 as? any ReservePlugin }
        f.preBinds = (lists[.preBind] ?? []).compactMap { $0 as? any PreBindPlugin }
        f.binds = (lists[.bind] ?? []).compactMap { $0 as? any BindPlugin }
        if f.binds.isEmpty {
            throw fail(profile.plugins["bind"]?.enabled.first?.line ?? profile.plugins["multiPoint"]?.enabled.first?.line,
                       "\(profile.field).plugins.bind", "at least one bind plugin is needed")
        }
        f.postBinds = (lists[.postBind] ?? []).compactMap { $0 as? any PostBindPlugin }
        f.postFilters = (lists[.postFilter] ?? []).compactMap { $0 as? any PostFilterPlugin }
        f.percentageOfNodesToScore = profile.percentageOfNodesToScore ?? percentageOfNodesToScore
        return f
    }

    /// Default plugins kubelab does not simulate yet; a profile that enables them gets no
    /// effect from them. (Empty since DefaultPreemption is simulated.)
    public static let notYetSimulated: Set<String> = []

    /// The built-in plugins and how their `pluginConfig` arguments are read.
    static let builtIns: [String: Factory] = [
        "NodeUnschedulable": { a, f throws(ManifestError) in try noArgs(a, f); return NodeUnschedulable() },
        "NodeName": { a, f throws(ManifestError) in try noArgs(a, f); return NodeName() },
        "TaintToleration": { a, f throws(ManifestError) in try noArgs(a, f); return TaintToleration() },
        "NodePorts": { a, f throws(ManifestError) in try noArgs(a, f); return NodePorts() },
        "ImageLocality": { a, f throws(ManifestError) in try noArgs(a, f); return ImageLocality() },
        "DefaultBinder": { a, f throws(ManifestError) in try noArgs(a, f); return DefaultBinder() },
        "NodeAffinity": { a, f throws(ManifestError) in
            try only(a, f, ["addedAffinity"])
            if let added = a?["addedAffinity"] {
                if case .null = added {} else {
                    throw ManifestError(file: "", line: added.line, field: "\(f).addedAffinity", message: "not supported by kubelab yet")
                }
            }
            return NodeAffinityFilter()
        },
        "NodeResourcesFit": { a, f throws(ManifestError) in
            try only(a, f, ["scoringStrategy", "ignoredResources", "ignoredResourceGroups"])
            let fit = NodeResourcesFit()
            guard let s = a?["scoringStrategy"] else { return fit }
            try only(s, "\(f).scoringStrategy", ["type", "resources", "requestedToCapacityRatio"])
            if let t = s["type"] {
                guard let v = t.scalarText, let strategy = NodeResourcesFit.Strategy(rawValue: v) else {
                    throw ManifestError(file: "", line: t.line, field: "\(f).scoringStrategy.type",
                                        message: "expected one of LeastAllocated, MostAllocated, RequestedToCapacityRatio, got \(t.summary)")
                }
                fit.strategy = strategy
            }
            if let r = s["resources"] { fit.resources = try resources(r, "\(f).scoringStrategy.resources") }
            if let r = s["requestedToCapacityRatio"] {
                try only(r, "\(f).scoringStrategy.requestedToCapacityRatio", ["shape"])
                guard case .sequence(let points, _)? = r["shape"], !points.isEmpty else {
                    throw ManifestError(file: "", line: r.line, field: "\(f).scoringStrategy.requestedToCapacityRatio.shape",
                                        message: "at least one point is required")
                }
                var shape: [(utilization: Int64, score: Int64)] = []
                for (i, pt) in points.enumerated() {
                    let pf = "\(f).scoringStrategy.requestedToCapacityRatio.shape[\(i)]"
                    guard let u = pt["utilization"].flatMap(integer), (0...100).contains(u) else {
                        throw ManifestError(file: "", line: pt.line, field: "\(pf).utilization", message: "must be from 0 to 100")
                    }
                    guard let sc = pt["score"].flatMap(integer), (0...10).contains(sc) else {
                        throw ManifestError(file: "", line: pt.line, field: "\(pf).score", message: "must be from 0 to 10")
                    }
                    if let last = shape.last, u <= last.utilization {
                        throw ManifestError(file: "", line: pt.line, field: "\(pf).utilization", message: "utilization values must be sorted in increasing order")
                    }
                    shape.append((u, sc))
                }
                fit.shape = shape
            }
            return fit
        },
        "InterPodAffinity": { a, f throws(ManifestError) in
            try only(a, f, ["hardPodAffinityWeight", "ignorePreferredTermsOfExistingPods"])
            var weight: Int64 = 1
            if let w = a?["hardPodAffinityWeight"] {
                guard let v = integer(w), (0...100).contains(v) else {
                    throw ManifestError(file: "", line: w.line, field: "\(f).hardPodAffinityWeight", message: "not in valid range [0-100]: \(w.summary)")
                }
                weight = v
            }
            let ignore = a?["ignorePreferredTermsOfExistingPods"]?.scalarText == "true"
            return InterPodAffinity(hardPodAffinityWeight: weight, ignorePreferredTermsOfExistingPods: ignore)
        },
        "PodTopologySpread": { a, f throws(ManifestError) in
            try only(a, f, ["defaultConstraints", "defaultingType"])
            let type = a?["defaultingType"]?.scalarText ?? "System"
            guard type == "System" || type == "List" else {
                throw ManifestError(file: "", line: a?["defaultingType"]?.line, field: "\(f).defaultingType",
                                    message: "expected System or List, got \"\(type)\"")
            }
            var constraints: [TopologySpreadConstraint] = []
            if case .sequence(let items, _)? = a?["defaultConstraints"] {
                for (i, item) in items.enumerated() {
                    let cf = "\(f).defaultConstraints[\(i)]"
                    try only(item, cf, ["maxSkew", "topologyKey", "whenUnsatisfiable"])
                    guard let skew = item["maxSkew"].flatMap(integer), skew > 0 else {
                        throw ManifestError(file: "", line: item.line, field: "\(cf).maxSkew", message: "must be greater than 0")
                    }
                    guard let key = item["topologyKey"]?.scalarText, !key.isEmpty else {
                        throw ManifestError(file: "", line: item.line, field: "\(cf).topologyKey", message: "required")
                    }
                    let when = item["whenUnsatisfiable"]?.scalarText ?? ""
                    guard when == "DoNotSchedule" || when == "ScheduleAnyway" else {
                        throw ManifestError(file: "", line: item.line, field: "\(cf).whenUnsatisfiable",
                                            message: "expected DoNotSchedule or ScheduleAnyway, got \"\(when)\"")
                    }
                    constraints.append(TopologySpreadConstraint(maxSkew: Int(skew), topologyKey: key, whenUnsatisfiable: when))
                }
            }
            if type == "System" && !constraints.isEmpty {
                throw ManifestError(file: "", line: a?["defaultConstraints"]?.line, field: "\(f).defaultConstraints",
                                    message: "should be empty when defaultingType is System")
            }
            return PodTopologySpread(defaulting: type == "System" ? .system : .list(constraints))
        },
        "DefaultPreemption": { a, f throws(ManifestError) in
            try only(a, f, ["minCandidateNodesPercentage", "minCandidateNodesAbsolute"])
            // v1 defaulting: a field left out keeps its default (10%, 100 nodes).
            var percentage: Int64 = 10, absolute: Int64 = 100
            if let p = a?["minCandidateNodesPercentage"] {
                guard let v = integer(p), (0...100).contains(v) else {
                    throw ManifestError(file: "", line: p.line, field: "\(f).minCandidateNodesPercentage",
                                        message: "not in valid range [0, 100]: \(p.summary)")
                }
                percentage = v
            }
            if let n = a?["minCandidateNodesAbsolute"] {
                guard let v = integer(n), v >= 0, v <= Int64(Int32.max) else {
                    throw ManifestError(file: "", line: n.line, field: "\(f).minCandidateNodesAbsolute",
                                        message: "not in valid range [0, inf): \(n.summary)")
                }
                absolute = v
            }
            if percentage == 0 && absolute == 0 {
                throw ManifestError(file: "", line: a?.line, field: "\(f).minCandidateNodesPercentage",
                                    message: "cannot be zero at the same time as minCandidateNodesAbsolute")
            }
            return DefaultPreemption(minCandidateNodesPercentage: Int(percentage), minCandidateNodesAbsolute: Int(absolute))
        },
        "NodeResourcesBalancedAllocation": { a, f throws(ManifestError) in
            try only(a, f, ["resources"])
            if let r = a?["resources"] { return NodeResourcesBalancedAllocation(resources: try resources(r, "\(f).resources")) }
            return NodeResourcesBalancedAllocation()
        },
    ]

    static func noArgs(_ a: ManifestNode?, _ f: String) throws(ManifestError) { try only(a, f, []) }

    static func only(_ a: ManifestNode?, _ f: String, _ keys: Set<String>) throws(ManifestError) {
        guard let a else { return }
        switch a {
        case .null: return
        case .mapping(let pairs, _):
            for (k, v) in pairs where !keys.contains(k) && k != "apiVersion" && k != "kind" {
                throw ManifestError(file: "", line: v.line, field: "\(f).\(k)", message: "unknown field")
            }
        default: throw ManifestError(file: "", line: a.line, field: f, message: "expected a mapping, got \(a.summary)")
        }
    }

    static func resources(_ n: ManifestNode, _ f: String) throws(ManifestError) -> [(name: String, weight: Int64)] {
        guard case .sequence(let items, _) = n else { throw ManifestError(file: "", line: n.line, field: f, message: "expected a list") }
        var out: [(name: String, weight: Int64)] = []
        for (i, item) in items.enumerated() {
            guard let name = item["name"]?.scalarText, !name.isEmpty else {
                throw ManifestError(file: "", line: item.line, field: "\(f)[\(i)].name", message: "required")
            }
            var w: Int64 = 1
            if let wn = item["weight"] {
                guard let v = integer(wn), (1...100).contains(v) else {
                    throw ManifestError(file: "", line: wn.line, field: "\(f)[\(i)].weight", message: "must be from 1 to 100, got \(wn.summary)")
                }
                w = v
            }
            out.append((name, w))
        }
        return out
    }
}

/// A plugin with a weight of its own (a Lua plugin's `weight` field), used when the
/// configuration gives none.
public protocol WeightedPlugin: Plugin {
    var defaultWeight: Int64 { get }
}
