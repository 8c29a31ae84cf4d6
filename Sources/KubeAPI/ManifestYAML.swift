internal import Yams

/// Converts YAML text into `ManifestNode` trees with line numbers.
enum ManifestYAML {
    private static let strTag = "tag:yaml.org,2002:str"
    private static let nullTag = "tag:yaml.org,2002:null"
    private static let mergeTag = "tag:yaml.org,2002:merge"
    private static let nullForms: Set<String> = ["", "~", "null", "Null", "NULL"]
    /// A document may expand (through aliases) to at most this many nodes.
    static let maxNodes = 1_000_000

    /// Every non-empty document of `text`.
    static func parse(_ text: String, file: String) throws(ManifestError) -> [ManifestNode] {
        var out: [ManifestNode] = []
        do {
            let parser = try Yams.Parser(yaml: text)
            while let root = try parser.nextRoot() {
                var budget = maxNodes
                let node = try convert(root, path: "", file: file, budget: &budget)
                if case .null = node { continue }
                out.append(node)
            }
        } catch let error as ManifestError {
            throw error
        } catch let error as YamlError {
            throw syntaxError(error, text: text, file: file)
        } catch {
            throw ManifestError(file: file, line: nil, field: nil, message: "invalid YAML: \(error)")
        }
        return out
    }

    private static func syntaxError(_ error: YamlError, text: String, file: String) -> ManifestError {
        func message(_ context: YamlError.Context?, _ problem: String) -> String {
            guard let context else { return "invalid YAML: \(problem)" }
            return "invalid YAML: \(problem) (\(context.text) at line \(context.mark.line))"
        }
        switch error {
        case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _),
             let .composer(context, problem, mark, _):
            return ManifestError(file: file, line: mark.line, field: nil, message: message(context, problem))
        case let .reader(problem, offset, _, _):
            let line = offset.map { o in 1 + text.prefix(o).reduce(0) { $1 == "\n" ? $0 + 1 : $0 } }
            return ManifestError(file: file, line: line, field: nil, message: "invalid YAML: \(problem)")
        default:
            // Errors this Yams version does not name (e.g. duplicate keys in later releases):
            // find a position by reflection and keep the first line of the text.
            let text = "\(error)".split(separator: "\n", omittingEmptySubsequences: true).first.map(String.init) ?? "\(error)"
            return ManifestError(file: file, line: firstMark(in: error, depth: 4)?.line, field: nil,
                                 message: "invalid YAML: \(text)")
        }
    }

    private static func firstMark(in value: Any, depth: Int) -> Mark? {
        if let mark = value as? Mark { return mark }
        if let context = value as? YamlError.Context { return context.mark }
        guard depth > 0 else { return nil }
        for child in Mirror(reflecting: value).children {
            if let mark = firstMark(in: child.value, depth: depth - 1) { return mark }
        }
        return nil
    }

    private static func convert(_ node: Yams.Node, path: String, file: String, budget: inout Int)
        throws(ManifestError) -> ManifestNode
    {
        budget -= 1
        if budget < 0 {
            throw ManifestError(file: file, line: node.mark?.line, field: path.isEmpty ? nil : path,
                                message: "the document expands to more than \(maxNodes) nodes (through aliases)")
        }
        switch node {
        case .scalar(let s):
            let line = s.mark?.line
            let tag = s.tag.description
            if tag == nullTag || (s.style == .plain && tag.isEmpty && nullForms.contains(s.string)) {
                return .null(line: line)
            }
            let quoted = s.style != .plain && s.style != .any || tag == strTag
            return .scalar(s.string, quoted: quoted, line: line)
        case .sequence(let seq):
            var items: [ManifestNode] = []
            for (i, child) in seq.enumerated() {
                items.append(try convert(child, path: FieldPath.index(path, i), file: file, budget: &budget))
            }
            return .sequence(items, line: seq.mark?.line)
        case .mapping(let map):
            var pairs: [(key: String, value: ManifestNode)] = []
            var seen: [String: Int?] = [:]
            var merged: [(key: String, value: ManifestNode)] = []
            for (k, v) in map {
                guard case .scalar(let ks) = k else {
                    throw ManifestError(file: file, line: k.mark?.line, field: path.isEmpty ? nil : path,
                                        message: "mapping keys must be strings, got a \(k.mapping != nil ? "mapping" : "list")")
                }
                if ks.style == .plain && ks.string == "<<" && (ks.tag.description.isEmpty || ks.tag.description == mergeTag) {
                    merged.append(contentsOf: try mergeSources(v, path: path, file: file, budget: &budget))
                    continue
                }
                let key = ks.string
                let childPath = FieldPath.child(path, key)
                if let first = seen[key] {
                    let at = first.map { " (first defined at line \($0))" } ?? ""
                    throw ManifestError(file: file, line: ks.mark?.line, field: childPath,
                                        message: "duplicate key '\(key)'\(at)")
                }
                seen[key] = ks.mark?.line
                pairs.append((key: key, value: try convert(v, path: childPath, file: file, budget: &budget)))
            }
            // YAML merge keys: explicit keys win, then earlier merged mappings win.
            for m in merged where seen[m.key] == nil {
                seen[m.key] = m.value.line
                pairs.append(m)
            }
            return .mapping(pairs, line: map.mark?.line)
        }
    }

    /// The pairs a `<<` merge key brings in.
    private static func mergeSources(_ node: Yams.Node, path: String, file: String, budget: inout Int) throws(ManifestError)
        -> [(key: String, value: ManifestNode)]
    {
        var sources: [Yams.Node] = []
        switch node {
        case .mapping: sources = [node]
        case .sequence(let seq): sources = Array(seq)
        case .scalar(let s):
            throw ManifestError(file: file, line: s.mark?.line, field: FieldPath.child(path, "<<"),
                                message: "a merge key '<<' needs a mapping or a list of mappings")
        }
        var out: [(key: String, value: ManifestNode)] = []
        for source in sources {
            guard case .mapping = source else {
                throw ManifestError(file: file, line: source.mark?.line, field: FieldPath.child(path, "<<"),
                                    message: "a merge key '<<' needs a mapping or a list of mappings")
            }
            guard case .mapping(let pairs, _) = try convert(source, path: path, file: file, budget: &budget) else { continue }
            for p in pairs where !out.contains(where: { $0.key == p.key }) { out.append(p) }
        }
        return out
    }
}

/// Field paths as Kubernetes prints them: `spec.containers[0].resources.requests.cpu`,
/// with keys that are not plain identifiers in brackets: `metadata.labels[app.kubernetes.io/name]`.
enum FieldPath {
    static func child(_ base: String, _ key: String) -> String {
        let plain = !key.isEmpty && key.utf8.allSatisfy { c in
            (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c == 95 || c == 45
        }
        if !plain { return "\(base)[\(key)]" }
        return base.isEmpty ? key : "\(base).\(key)"
    }

    static func index(_ base: String, _ i: Int) -> String { "\(base)[\(i)]" }
}
