/// A value exchanged between Swift and a sandboxed Lua state.
///
/// Conversions from Lua: an empty table becomes `.map([:])`, a table whose keys are
/// exactly `1...n` becomes `.array`, a table with only string keys becomes `.map`; any other
/// table (mixed keys, float or boolean keys, holes), a cycle, nesting deeper than 64 levels,
/// userdata and threads are conversion errors (``LuaError/Kind/conversion``). Integers keep
/// their subtype (`.integer`) and floats stay `.number`. Lua strings are decoded as UTF-8
/// (invalid bytes become U+FFFD). A read-only view proxy converts back to its content.
/// Only `.view` is boxed: numbers, booleans and strings are held inline, with no allocation.
public enum LuaValue: Equatable {
    /// Lua `nil`.
    case `nil`
    /// A Lua boolean.
    case boolean(Bool)
    /// A Lua number of the integer subtype.
    case integer(Int64)
    /// A Lua number of the float subtype.
    case number(Double)
    /// A Lua string.
    case string(String)
    /// A Lua sequence `1...n`.
    case array([LuaValue])
    /// A string-keyed table, pushed to Lua in sorted (byte-wise) key order. Keys whose value
    /// is `.nil` are absent in Lua.
    case map([String: LuaValue])
    /// A Lua function held in the registry of the state that produced it.
    case function(LuaRef)
    /// Pushed as a read-only proxy of the inner array or map (nested tables are read-only
    /// proxies with the same name); the name appears in the error raised by a write, e.g.
    /// `pod view is read-only (field 'node')`. Inner values that are not arrays or maps are
    /// pushed as they are.
    indirect case view(String, LuaValue)
}

extension LuaValue {
    /// The value stored under `key` when this is a map (or a view of a map); otherwise nil.
    public subscript(key: String) -> LuaValue? {
        mapValue?[key]
    }

    /// The string when this is `.string`.
    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The integer when this is `.integer`, or a `.number` holding an exactly representable
    /// integral value.
    public var intValue: Int64? {
        switch self {
        case .integer(let i): return i
        case .number(let d): return Int64(exactly: d)
        default: return nil
        }
    }

    /// The number as a `Double` when this is `.number` or `.integer`.
    public var doubleValue: Double? {
        switch self {
        case .number(let d): return d
        case .integer(let i): return Double(i)
        default: return nil
        }
    }

    /// The boolean when this is `.boolean`.
    public var boolValue: Bool? {
        if case .boolean(let b) = self { return b }
        return nil
    }

    /// The elements when this is `.array`, an empty `.map` (Lua's `{}`), or a view of either.
    public var arrayValue: [LuaValue]? {
        switch self {
        case .array(let a): return a
        case .map(let m): return m.isEmpty ? [] : nil
        case .view(_, let inner): return inner.arrayValue
        default: return nil
        }
    }

    /// The entries when this is `.map` or a view of a map.
    public var mapValue: [String: LuaValue]? {
        switch self {
        case .map(let m): return m
        case .view(_, let inner): return inner.mapValue
        default: return nil
        }
    }

    /// Lua's type name for this value: "nil", "boolean", "number", "string", "table" or
    /// "function".
    public var typeName: String {
        switch self {
        case .nil: return "nil"
        case .boolean: return "boolean"
        case .integer, .number: return "number"
        case .string: return "string"
        case .array, .map, .view: return "table"
        case .function: return "function"
        }
    }
}

extension LuaValue: ExpressibleByStringLiteral {
    /// A `.string` literal.
    public init(stringLiteral value: String) { self = .string(value) }
}

extension LuaValue: ExpressibleByIntegerLiteral {
    /// An `.integer` literal.
    public init(integerLiteral value: Int64) { self = .integer(value) }
}

extension LuaValue: ExpressibleByFloatLiteral {
    /// A `.number` literal.
    public init(floatLiteral value: Double) { self = .number(value) }
}

extension LuaValue: ExpressibleByBooleanLiteral {
    /// A `.boolean` literal.
    public init(booleanLiteral value: Bool) { self = .boolean(value) }
}

extension LuaValue: ExpressibleByArrayLiteral {
    /// An `.array` literal.
    public init(arrayLiteral elements: LuaValue...) { self = .array(elements) }
}

extension LuaValue: ExpressibleByDictionaryLiteral {
    /// A `.map` literal (a later duplicate key wins).
    public init(dictionaryLiteral elements: (String, LuaValue)...) {
        self = .map(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
}
