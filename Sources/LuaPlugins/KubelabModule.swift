import Foundation
public import LuaHost
import KubeAPI

/// The `kubelab` module every plugin sees: `kubelab.log(...)`, `kubelab.now()`,
/// `kubelab.cpu("500m")` (millicores), `kubelab.bytes("1Gi")`, `kubelab.quantity(s)`.
enum KubelabModule {
    static func make(state: LuaState, context: PluginContext) -> LuaValue {
        .map([
            "log": state.function { args throws(LuaCallbackError) in
                context.log(args.map(Self.text).joined(separator: " "))
                return []
            },
            "now": state.function { _ throws(LuaCallbackError) in [.number(context.now().seconds)] },
            "cpu": state.function { args throws(LuaCallbackError) in
                [.integer(try Self.quantity(args.first, "kubelab.cpu").milliValue)]
            },
            "bytes": state.function { args throws(LuaCallbackError) in
                [.integer(try Self.quantity(args.first, "kubelab.bytes").value)]
            },
            "quantity": state.function { args throws(LuaCallbackError) in
                let q = try Self.quantity(args.first, "kubelab.quantity")
                if q.milliValue % 1000 == 0 { return [.integer(q.milliValue / 1000)] }
                return [.number(Double(q.milliValue) / 1000)]
            },
        ])
    }

    static func quantity(_ v: LuaValue?, _ fn: String) throws(LuaCallbackError) -> Quantity {
        switch v {
        case .string(let s)?:
            do { return try Quantity(parsing: s) } catch { throw LuaCallbackError("\(fn): \(error.description)") }
        case .integer(let i)?: return Quantity(value: i)
        case .number(let d)? where d.isFinite:
            do { return try Quantity(parsing: String(d)) } catch { throw LuaCallbackError("\(fn): \(error.description)") }
        default:
            throw LuaCallbackError("\(fn): expected a quantity string like \"500m\" or \"1Gi\", got \(v?.typeName ?? "no value")")
        }
    }

    /// tostring-like text of a value for logs; tables print as JSON-ish text, keys sorted.
    static func text(_ v: LuaValue) -> String {
        switch v {
        case .nil: return "nil"
        case .boolean(let b): return b ? "true" : "false"
        case .integer(let i): return String(i)
        case .number(let d): return d == d.rounded() && abs(d) < 1e15 ? String(format: "%.1f", d) : String(d)
        case .string(let s): return s
        case .array(let a): return "{" + a.map(text).joined(separator: ", ") + "}"
        case .map(let m): return "{" + m.keys.sorted().map { "\($0)=\(text(m[$0] ?? .nil))" }.joined(separator: ", ") + "}"
        case .function: return "function"
        case .view(_, let inner): return text(inner)
        }
    }
}
