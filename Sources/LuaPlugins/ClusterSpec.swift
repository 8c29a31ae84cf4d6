public import KubeAPI
public import LuaHost

/// A group of identical nodes from a scenario's `cluster.nodes`.
public struct NodeGroup: Sendable, Equatable {
    public var count = 1
    public var prefix = "node"
    public var name: String?
    public var cpu = "4"
    public var memory = "16Gi"
    public var pods = 110
    public var labels: [String: String] = [:]
    public var taints: [Taint] = []
    /// Extra allocatable resources, e.g. ["nvidia.com/gpu": "2"].
    public var resources: [String: String] = [:]
    public init() {}
}

/// The cluster a scenario asks for.
public struct ClusterSpec: Sendable, Equatable {
    public var groups: [NodeGroup] = []
    public init(groups: [NodeGroup] = []) { self.groups = groups }

    /// Parses `cluster = { nodes = { {count = 3, cpu = "4", ...}, ... } }`.
    ///
    /// - Throws: `PluginError` (bad input) naming the field.
    public init(lua value: LuaValue?, file: String) throws(PluginError) {
        guard let value else { return }
        func bad(_ field: String, _ why: String) -> PluginError { PluginError("\(file): cluster\(field): \(why)", loadFailure: false) }
        guard let top = value.mapValue else { throw bad("", "expected a table like { nodes = { { count = 3 } } }") }
        for k in top.keys.sorted() where k != "nodes" { throw bad(".\(k)", "unknown field (known: nodes)") }
        guard let nodesValue = top["nodes"] else { return }
        guard let list = nodesValue.arrayValue else { throw bad(".nodes", "expected an array of node groups") }
        for (i, g) in list.enumerated() {
            let at = ".nodes[\(i + 1)]"
            guard let m = g.mapValue else { throw bad(at, "expected a table") }
            var group = NodeGroup()
            for key in m.keys.sorted() {
                guard let v = m[key] else { continue }
                let f = "\(at).\(key)"
                switch key {
                case "count":
                    guard let c = v.intValue, c >= 1, c <= 100_000 else { throw bad(f, "expected a whole number from 1 to 100000") }
                    group.count = Int(c)
                case "prefix":
                    guard let s = v.stringValue, !s.isEmpty else { throw bad(f, "expected a non-empty string") }
                    group.prefix = s
                case "name":
                    guard let s = v.stringValue, !s.isEmpty else { throw bad(f, "expected a non-empty string") }
                    group.name = s
                case "cpu", "memory":
                    let text: String
                    switch v {
                    case .string(let s): text = s
                    case .integer(let n): text = String(n)
                    case .number(let d): text = String(d)
                    default: throw bad(f, "expected a quantity like \"4\" or \"16Gi\"")
                    }
                    do {
                        let q = try Quantity(parsing: text)
                        if q.isNegative { throw bad(f, "quantity must not be negative ('\(text)')") }
                    } catch let e as PluginError { throw e } catch { throw bad(f, "\(error)") }
                    if key == "cpu" { group.cpu = text } else { group.memory = text }
                case "pods":
                    guard let c = v.intValue, c >= 0 else { throw bad(f, "expected a whole number") }
                    group.pods = Int(c)
                case "labels":
                    guard let lm = v.mapValue else { throw bad(f, "expected a table of strings") }
                    for (lk, lv) in lm {
                        guard let s = lv.stringValue ?? lv.intValue.map({ String($0) }) else { throw bad("\(f).\(lk)", "expected a string") }
                        group.labels[lk] = s
                    }
                case "taints":
                    guard let arr = v.arrayValue ?? (v.mapValue?.isEmpty == true ? [] : nil) else {
                        throw bad(f, "expected an array of { key, value, effect }")
                    }
                    for (j, t) in arr.enumerated() {
                        guard let tm = t.mapValue, let k = tm["key"]?.stringValue,
                              let e = tm["effect"]?.stringValue.flatMap(TaintEffect.init(rawValue:)) else {
                            throw bad("\(f)[\(j + 1)]", "expected { key = \"...\", value = \"...\", effect = \"NoSchedule\" | \"PreferNoSchedule\" | \"NoExecute\" }")
                        }
                        group.taints.append(Taint(key: k, value: tm["value"]?.stringValue ?? "", effect: e))
                    }
                case "resources":
                    guard let rm = v.mapValue else { throw bad(f, "expected a table like { [\"nvidia.com/gpu\"] = 2 }") }
                    for (rk, rv) in rm {
                        let text = rv.stringValue ?? rv.intValue.map { String($0) } ?? ""
                        guard (try? Quantity(parsing: text)).map({ !$0.isNegative }) == true else {
                            throw bad("\(f).\(rk)", "expected a non-negative quantity")
                        }
                        group.resources[rk] = text
                    }
                default:
                    throw bad(f, "unknown field (known: count, prefix, name, cpu, memory, pods, labels, taints, resources)")
                }
            }
            if group.name != nil && group.count != 1 { throw bad("\(at).name", "a named group must have count = 1") }
            groups.append(group)
        }
    }

    /// The nodes, named node-1, node-2, ... in order (per prefix), or by `name`.
    public func nodes() throws(PluginError) -> [Node] {
        var counters: [String: Int] = [:]
        var out: [Node] = []
        var seen: Set<String> = []
        for g in groups {
            for _ in 0..<g.count {
                let name: String
                if let n = g.name { name = n } else {
                    let i = counters[g.prefix, default: 0] + 1
                    counters[g.prefix] = i
                    name = "\(g.prefix)-\(i)"
                }
                guard seen.insert(name).inserted else { throw PluginError("cluster.nodes: two nodes are named '\(name)'", loadFailure: false) }
                var meta = ObjectMeta(name: name)
                meta.labels = ["kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64"]
                for (k, v) in g.labels { meta.labels[k] = v }
                var node = Node(metadata: meta, spec: NodeSpec(taints: g.taints))
                var cap: ResourceList = [:]
                cap["cpu"] = try? Quantity(parsing: g.cpu)
                cap["memory"] = try? Quantity(parsing: g.memory)
                cap["pods"] = Quantity(value: Int64(g.pods))
                for (k, v) in g.resources { cap[k] = try? Quantity(parsing: v) }
                node.status.capacity = cap
                node.status.allocatable = cap
                out.append(node)
            }
        }
        return out
    }
}
