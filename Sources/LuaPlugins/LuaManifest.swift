public import LuaHost
public import KubeAPI

/// Lua tables as manifest trees, so `k.create{...}` goes through the same decoder (and
/// the same validation) as YAML files.
public enum LuaManifest {
    public static func node(_ v: LuaValue) -> ManifestNode {
        switch v {
        case .nil: return .null(line: nil)
        case .boolean(let b): return .scalar(b ? "true" : "false", quoted: false, line: nil)
        case .integer(let i): return .scalar(String(i), quoted: false, line: nil)
        case .number(let d): return .scalar(String(d), quoted: false, line: nil)
        case .string(let s): return .scalar(s, quoted: true, line: nil)
        case .array(let a): return .sequence(a.map(node), line: nil)
        case .map(let m) where m.isEmpty: return .null(line: nil)
        case .map(let m): return .mapping(m.keys.sorted().map { (key: $0, value: node(m[$0] ?? .nil)) }, line: nil)
        case .view(_, let inner): return node(inner)
        case .function: return .scalar("<function>", quoted: true, line: nil)
        }
    }
}
