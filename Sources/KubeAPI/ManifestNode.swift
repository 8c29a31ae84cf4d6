/// A generic manifest tree with source lines, the common input of the decoder (YAML files and,
/// later, Lua tables are converted into it).
public indirect enum ManifestNode: Equatable, Sendable {
    /// A scalar's text as written. `quoted` is true when the YAML scalar was quoted (or a block
    /// scalar, or tagged `!!str`), so `"1"` stays a string where a string is wanted and is not
    /// taken for a number where a number is wanted.
    case scalar(String, quoted: Bool, line: Int?)
    /// `null`, `~` or an empty value.
    case null(line: Int?)
    /// A list.
    case sequence([ManifestNode], line: Int?)
    /// A map; keys are in document order.
    case mapping([(key: String, value: ManifestNode)], line: Int?)

    /// The 1-based source line the node starts on, when known.
    public var line: Int? {
        switch self {
        case .scalar(_, _, let line), .null(let line), .sequence(_, let line), .mapping(_, let line): return line
        }
    }

    /// The value for `key` when this is a mapping (the first one, if a key is repeated).
    public subscript(key: String) -> ManifestNode? {
        guard case .mapping(let pairs, _) = self else { return nil }
        return pairs.first { $0.key == key }?.value
    }

    /// The scalar text, when this is a scalar.
    public var scalarText: String? {
        if case .scalar(let text, _, _) = self { return text }
        return nil
    }

    /// A short description of the node's type and value for error messages: `"three"`,
    /// `a mapping`, `a list`, `null`.
    public var summary: String {
        switch self {
        case .scalar(let text, _, _):
            let shown = text.count > 40 ? String(text.prefix(40)) + "..." : text
            return "\"\(shown)\""
        case .null: return "null"
        case .sequence: return "a list"
        case .mapping: return "a mapping"
        }
    }

    /// Structural equality, including lines and whether scalars were quoted.
    public static func == (a: ManifestNode, b: ManifestNode) -> Bool {
        switch (a, b) {
        case let (.scalar(t1, q1, l1), .scalar(t2, q2, l2)): return t1 == t2 && q1 == q2 && l1 == l2
        case let (.null(l1), .null(l2)): return l1 == l2
        case let (.sequence(s1, l1), .sequence(s2, l2)): return l1 == l2 && s1 == s2
        case let (.mapping(m1, l1), .mapping(m2, l2)):
            guard l1 == l2, m1.count == m2.count else { return false }
            for (x, y) in zip(m1, m2) where x.key != y.key || x.value != y.value { return false }
            return true
        default: return false
        }
    }
}

/// An error in a manifest, located by file, line and field path.
public struct ManifestError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file as the caller named it (a repository-relative path or `<string>`).
    public var file: String
    /// The 1-based line, when known.
    public var line: Int?
    /// The dotted field path, e.g. `spec.containers[0].resources.requests.cpu`.
    public var field: String?
    /// What is wrong.
    public var message: String

    /// An error at `file:line` in `field`.
    public init(file: String, line: Int?, field: String?, message: String) {
        self.file = file
        self.line = line
        self.field = field
        self.message = message
    }

    /// One line: `pods.yaml:12: spec.containers[0].resources.requests.cpu: invalid quantity ...`;
    /// missing parts are left out.
    public var description: String {
        var out = file
        if let line { out += out.isEmpty ? "line \(line)" : ":\(line)" }
        if let field, !field.isEmpty { out += out.isEmpty ? field : ": \(field)" }
        return out.isEmpty ? message : "\(out): \(message)"
    }
}

/// One decoded document.
public enum ManifestDocument: Equatable, Sendable {
    /// A kind kubelab simulates, and the line its document starts on.
    case object(KubeObject, line: Int)
    /// A real Kubernetes kind kubelab does not simulate yet (Service, Job, ConfigMap, ...).
    case unsupported(kind: String, apiVersion: String, name: String, line: Int)

    /// The decoded object, for a simulated kind.
    public var object: KubeObject? {
        if case .object(let o, _) = self { return o }
        return nil
    }

    /// The document's kind, e.g. `Deployment` or `Service`.
    public var kind: String {
        switch self {
        case .object(let o, _): return o.kind.rawValue
        case .unsupported(let kind, _, _, _): return kind
        }
    }

    /// The object's name (`metadata.name`, or `generateName` when there is no name).
    public var name: String {
        switch self {
        case .object(let o, _): return o.metadata.name.isEmpty ? o.metadata.generateName : o.metadata.name
        case .unsupported(_, _, let name, _): return name
        }
    }

    /// The line the document starts on.
    public var line: Int {
        switch self {
        case .object(_, let line), .unsupported(_, _, _, let line): return line
        }
    }
}
