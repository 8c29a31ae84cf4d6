import KubeAPI

/// Node selector terms parsed and matched the way kube-scheduler does it
/// (component-helpers `nodeaffinity`, apimachinery `labels.NewRequirement` and
/// `fields` selectors), for NodeAffinity and any other plugin that honours node affinity.
///
/// A term is the AND of its match expressions (node labels) and its match fields
/// (only `metadata.name` exists on a node). The rules that differ from a naive reading:
/// - a term with neither expressions nor fields matches nothing;
/// - a term that fails to parse matches nothing, silently, whatever its operators (an
///   invalid label key or value, In/NotIn without values, Exists/DoesNotExist with
///   values, Gt/Lt without exactly one integer value, a field operator other than In or
///   NotIn, a field requirement without exactly one value);
/// - Gt and Lt compare the label and the value as base-10 Int64 ("0206" > "0204");
/// - a field requirement compares with the node's name for `metadata.name` and with ""
///   for any other key, and fields are ignored on a node without a name.
struct NodeSelectorMatcher {
    /// One parsed term.
    struct Term {
        /// The expressions; nil when the term has none.
        var labels: [NodeSelectorRequirement]?
        /// The field requirements (operator In or NotIn, one value each); nil when none.
        var fields: [NodeSelectorRequirement]?
        /// Why the term did not parse, if it did not.
        var parseError: String?

        init(_ term: NodeSelectorTerm) {
            if !term.matchExpressions.isEmpty {
                labels = term.matchExpressions
                for r in term.matchExpressions {
                    if let why = NodeSelectorMatcher.labelRequirementProblem(r) { parseError = why; break }
                }
            }
            if !term.matchFields.isEmpty {
                fields = term.matchFields
                if parseError == nil {
                    for r in term.matchFields {
                        if r.operator != "In" && r.operator != "NotIn" {
                            parseError = "matchFields: unsupported operator \"\(r.operator)\""
                            break
                        }
                        if r.values.count != 1 { parseError = "matchFields: values must have one element"; break }
                    }
                }
            }
        }

        var isEmpty: Bool { labels == nil && fields == nil }

        /// Whether the node matches; an empty or unparsable term matches nothing.
        func matches(_ node: Node) -> Bool {
            if isEmpty || parseError != nil { return false }
            let nodeLabels = node.metadata.labels
            if let labels, !labels.allSatisfy({ NodeSelectorMatcher.labelMatches($0, nodeLabels) }) { return false }
            let name = node.metadata.name
            if let fields, !name.isEmpty {
                for r in fields {
                    let value = r.key == "metadata.name" ? name : ""
                    let equal = value == r.values[0]
                    if (r.operator == "In") != equal { return false }
                }
            }
            return true
        }
    }

    /// The terms, in order.
    var terms: [Term]

    init(_ terms: [NodeSelectorTerm]) { self.terms = terms.map(Term.init) }

    /// The OR of the terms (false for no terms).
    func matches(_ node: Node) -> Bool { terms.contains { $0.matches(node) } }

    // MARK: - Label requirements

    /// Why `labels.NewRequirement` would reject the requirement, or nil when it is valid.
    static func labelRequirementProblem(_ r: NodeSelectorRequirement) -> String? {
        if !LabelSyntax.isQualifiedName(r.key) { return "invalid label key \"\(r.key)\"" }
        switch r.operator {
        case "In", "NotIn":
            if r.values.isEmpty { return "for 'in', 'notin' operators, values set can't be empty" }
        case "Exists", "DoesNotExist":
            if !r.values.isEmpty { return "values set must be empty for exists and does not exist" }
        case "Gt", "Lt":
            if r.values.count != 1 { return "for 'Gt', 'Lt' operators, exactly one value is required" }
            if r.values.contains(where: { Int64($0) == nil }) {
                return "for 'Gt', 'Lt' operators, the value must be an integer"
            }
        default:
            return "unsupported operator \"\(r.operator)\""
        }
        if let bad = r.values.first(where: { !LabelSyntax.isValidLabelValue($0) }) {
            return "invalid label value \"\(bad)\""
        }
        return nil
    }

    /// `labels.Requirement.Matches` for a requirement that parsed.
    static func labelMatches(_ r: NodeSelectorRequirement, _ labels: [String: String]) -> Bool {
        let value = labels[r.key]
        switch r.operator {
        case "In": return value.map { r.values.contains($0) } ?? false
        case "NotIn": return value.map { !r.values.contains($0) } ?? true
        case "Exists": return value != nil
        case "DoesNotExist": return value == nil
        case "Gt", "Lt":
            guard let v = value.flatMap({ Int64($0) }), r.values.count == 1, let bound = Int64(r.values[0]) else {
                return false
            }
            return r.operator == "Gt" ? v > bound : v < bound
        default: return false
        }
    }
}

/// Kubernetes label syntax (apimachinery `validation.IsQualifiedName` and
/// `IsValidLabelValue`).
enum LabelSyntax {
    private static func isAlnum(_ c: UInt8) -> Bool {
        (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57)
    }

    /// `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`, at most 63 characters, non-empty.
    private static func isName(_ s: Substring.UTF8View) -> Bool {
        guard let first = s.first, let last = s.last, s.count <= 63 else { return false }
        guard isAlnum(first) && isAlnum(last) else { return false }
        return s.allSatisfy { isAlnum($0) || $0 == 45 || $0 == 95 || $0 == 46 }
    }

    /// A DNS-1123 subdomain: lowercase alphanumerics, '-' and '.', each dot-separated part
    /// starting and ending with an alphanumeric, at most 253 characters.
    private static func isSubdomain(_ s: Substring) -> Bool {
        guard !s.isEmpty, s.utf8.count <= 253 else { return false }
        for part in s.split(separator: ".", omittingEmptySubsequences: false) {
            let u = part.utf8
            guard let first = u.first, let last = u.last else { return false }
            func lowerAlnum(_ c: UInt8) -> Bool { (c >= 97 && c <= 122) || (c >= 48 && c <= 57) }
            guard lowerAlnum(first) && lowerAlnum(last) && u.allSatisfy({ lowerAlnum($0) || $0 == 45 }) else {
                return false
            }
        }
        return true
    }

    /// A label key: `name` or `prefix/name`.
    static func isQualifiedName(_ key: String) -> Bool {
        let parts = key.split(separator: "/", omittingEmptySubsequences: false)
        switch parts.count {
        case 1: return isName(parts[0].utf8)
        case 2: return isSubdomain(parts[0]) && isName(parts[1].utf8)
        default: return false
        }
    }

    /// A label value: empty, or a name of at most 63 characters.
    static func isValidLabelValue(_ value: String) -> Bool {
        value.isEmpty || isName(Substring(value).utf8)
    }
}
