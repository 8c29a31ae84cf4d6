/// Typed access to manifest trees, with errors that carry the file, line and field path.
struct ManifestReader {
    let file: String

    func fail(_ path: String, _ line: Int?, _ message: String) -> ManifestError {
        ManifestError(file: file, line: line, field: path.isEmpty ? nil : path, message: message)
    }

    func mapping(_ node: ManifestNode, _ path: String) throws(ManifestError) -> Fields {
        guard case .mapping(let pairs, let line) = node else {
            throw fail(path, node.line, "expected a mapping, got \(node.summary)")
        }
        return Fields(reader: self, path: path, line: line, pairs: pairs)
    }

    func list(_ node: ManifestNode, _ path: String) throws(ManifestError) -> [(node: ManifestNode, path: String)] {
        guard case .sequence(let items, _) = node else {
            throw fail(path, node.line, "expected a list, got \(node.summary)")
        }
        return items.enumerated().map { (node: $0.element, path: FieldPath.index(path, $0.offset)) }
    }

    /// Any scalar, as written (a plain `1` gives "1"); null gives "".
    func string(_ node: ManifestNode, _ path: String) throws(ManifestError) -> String {
        switch node {
        case .scalar(let text, _, _): return text
        case .null: return ""
        default: throw fail(path, node.line, "expected a string, got \(node.summary)")
        }
    }

    /// An unquoted integer (an integral float such as `3.0` is accepted, as Kubernetes does).
    func integer(_ node: ManifestNode, _ path: String, in range: ClosedRange<Int64> = Int64.min...Int64.max)
        throws(ManifestError) -> Int64
    {
        guard case .scalar(let text, let quoted, let line) = node else {
            throw fail(path, node.line, "expected an integer, got \(node.summary)")
        }
        if quoted {
            let hint = Int64(text) != nil ? " (a quoted string; remove the quotes)" : ""
            throw fail(path, line, "expected an integer, got \(node.summary)\(hint)")
        }
        var value: Int64? = Int64(text)
        if value == nil, !text.isEmpty,
           text.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || $0 == 46 || $0 == 43 || $0 == 45 || $0 == 101 || $0 == 69 }),
           let d = Double(text), d.isFinite, d == d.rounded(), abs(d) < 9.2e18
        {
            value = Int64(d)
        }
        guard let v = value else {
            let digitsOnly = text.utf8.dropFirst(text.hasPrefix("-") || text.hasPrefix("+") ? 1 : 0)
                .allSatisfy { $0 >= 48 && $0 <= 57 }
            if digitsOnly && !text.isEmpty {
                throw fail(path, line, "integer \(text) is out of range")
            }
            throw fail(path, line, "expected an integer, got \(node.summary)")
        }
        guard range.contains(v) else {
            let openAbove = range.upperBound >= Int64(Int32.max), openBelow = range.lowerBound <= Int64(Int32.min)
            if v < range.lowerBound && openAbove {
                throw fail(path, line, "must be greater than or equal to \(range.lowerBound), got \(v)")
            }
            if v > range.upperBound && openBelow {
                throw fail(path, line, "must be less than or equal to \(range.upperBound), got \(v)")
            }
            throw fail(path, line, "must be between \(range.lowerBound) and \(range.upperBound), got \(v)")
        }
        return v
    }

    private static let trueForms: Set<String> = ["true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON", "y", "Y"]
    private static let falseForms: Set<String> = ["false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF", "n", "N"]

    /// An unquoted YAML boolean (`true`, `false`, and the YAML 1.1 forms `yes`, `no`, `on`, `off`).
    func boolean(_ node: ManifestNode, _ path: String) throws(ManifestError) -> Bool {
        var hint = ""
        if case .scalar(let text, let quoted, _) = node {
            if !quoted && Self.trueForms.contains(text) { return true }
            if !quoted && Self.falseForms.contains(text) { return false }
            if quoted && (Self.trueForms.contains(text) || Self.falseForms.contains(text)) {
                hint = " (a quoted string; remove the quotes)"
            }
        }
        throw fail(path, node.line, "expected a boolean (true or false), got \(node.summary)\(hint)")
    }

    /// A resource quantity: a YAML int or float, or a string such as "500m" or "1Gi".
    func quantity(_ node: ManifestNode, _ path: String, nonNegative: Bool) throws(ManifestError) -> Quantity {
        guard case .scalar(let raw, _, let line) = node else {
            throw fail(path, node.line, "expected a quantity such as 500m, 1.5 or 1Gi, got \(node.summary)")
        }
        let text = raw.trimmingASCIISpaces
        let q: Quantity
        do {
            q = try Quantity(parsing: text)
        } catch {
            throw fail(path, line, error.description)
        }
        if nonNegative && q.isNegative {
            throw fail(path, line, "quantity must not be negative ('\(text)')")
        }
        return q
    }

    /// One of `allowed`.
    func oneOf(_ node: ManifestNode, _ path: String, _ allowed: [String]) throws(ManifestError) -> String {
        let s = try string(node, path)
        guard allowed.contains(s) else {
            let list = allowed.map { "\"\($0)\"" }.joined(separator: ", ")
            throw fail(path, node.line, "unsupported value \"\(s)\": supported values: \(list)")
        }
        return s
    }
}

/// A mapping being decoded. A key whose value is null counts as absent.
struct Fields {
    let reader: ManifestReader
    let path: String
    let line: Int?
    let pairs: [(key: String, value: ManifestNode)]

    /// The value of `key`, nil when absent or null.
    func node(_ key: String) -> ManifestNode? {
        guard let v = pairs.first(where: { $0.key == key })?.value else { return nil }
        if case .null = v { return nil }
        return v
    }

    func path(_ key: String) -> String { FieldPath.child(path, key) }

    func missing(_ key: String) -> ManifestError {
        reader.fail(path(key), line, "missing required field")
    }

    func string(_ key: String) throws(ManifestError) -> String? {
        guard let n = node(key) else { return nil }
        return try reader.string(n, path(key))
    }

    func requiredString(_ key: String) throws(ManifestError) -> String {
        guard let s = try string(key), !s.isEmpty else { throw missing(key) }
        return s
    }

    func int64(_ key: String, in range: ClosedRange<Int64> = Int64.min...Int64.max) throws(ManifestError) -> Int64? {
        guard let n = node(key) else { return nil }
        return try reader.integer(n, path(key), in: range)
    }

    func int(_ key: String, in range: ClosedRange<Int64> = Int64(Int32.min)...Int64(Int32.max)) throws(ManifestError) -> Int? {
        try int64(key, in: range).map { Int($0) }
    }

    func bool(_ key: String) throws(ManifestError) -> Bool? {
        guard let n = node(key) else { return nil }
        return try reader.boolean(n, path(key))
    }

    func map(_ key: String) throws(ManifestError) -> Fields? {
        guard let n = node(key) else { return nil }
        return try reader.mapping(n, path(key))
    }

    /// The items of a list field; [] when absent.
    func items(_ key: String) throws(ManifestError) -> [(node: ManifestNode, path: String)] {
        guard let n = node(key) else { return [] }
        return try reader.list(n, path(key))
    }

    /// A map of strings (labels, annotations, nodeSelector); values must be scalars.
    func stringMap(_ key: String) throws(ManifestError) -> [String: String] {
        guard let m = try map(key) else { return [:] }
        var out: [String: String] = [:]
        for (k, v) in m.pairs { out[k] = try reader.string(v, m.path(k)) }
        return out
    }

    /// A list of strings; [] when absent.
    func stringList(_ key: String) throws(ManifestError) -> [String] {
        var out: [String] = []
        for item in try items(key) { out.append(try reader.string(item.node, item.path)) }
        return out
    }

    /// A resource list (requests, limits, capacity, ...); [:] when absent.
    func quantities(_ key: String, nonNegative: Bool = true) throws(ManifestError) -> ResourceList {
        guard let m = try map(key) else { return [:] }
        var out: ResourceList = [:]
        for (k, v) in m.pairs {
            if case .null = v { continue }
            out[k] = try reader.quantity(v, m.path(k), nonNegative: nonNegative)
        }
        return out
    }

    func oneOf(_ key: String, _ allowed: [String]) throws(ManifestError) -> String? {
        guard let n = node(key) else { return nil }
        return try reader.oneOf(n, path(key), allowed)
    }
}

extension String {
    var trimmingASCIISpaces: String {
        let u = Array(utf8)
        func space(_ c: UInt8) -> Bool { c == 32 || c == 9 || c == 10 || c == 13 }
        guard let a = u.firstIndex(where: { !space($0) }), let b = u.lastIndex(where: { !space($0) }) else { return "" }
        return String(decoding: u[a...b], as: UTF8.self)
    }
}
