import KubeAPI

/// A `metav1.LabelSelector` parsed and matched the way kube-scheduler does it (apimachinery
/// `LabelSelectorAsSelector` and `labels.Selector`), for PodTopologySpread and InterPodAffinity.
///
/// The rules that differ from a naive reading of `LabelSelector.matches`:
/// - a nil selector is `labels.Nothing()`: it matches no label set at all;
/// - an empty selector `{}` is `labels.Everything()`: it matches every label set, and it is
///   the only selector for which `isEmpty` (Go's `Selector.Empty()`) is true;
/// - parsing validates every requirement as `labels.NewRequirement` does (qualified key,
///   valid label values, In/NotIn need values, Exists/DoesNotExist take none) and fails
///   with the first problem, matchLabels (sorted by key) before matchExpressions.
struct LabelSelectorMatcher {
    /// One parsed requirement. matchLabels entries become `in` with one value.
    struct Requirement {
        enum Operator { case `in`, notIn, exists, doesNotExist }
        var key: String
        var op: Operator
        var values: [String]

        /// `labels.Requirement.Matches`.
        func matches(_ labels: [String: String]) -> Bool {
            let value = labels[key]
            switch op {
            case .in: return value.map { values.contains($0) } ?? false
            case .notIn: return value.map { !values.contains($0) } ?? true
            case .exists: return value != nil
            case .doesNotExist: return value == nil
            }
        }
    }

    /// Why a selector did not parse, in apimachinery's wording (`field.Invalid`).
    struct ParseError: Error, Sendable, Equatable {
        var message: String
    }

    /// nil: the selector matches nothing (`labels.Nothing()`).
    private(set) var requirements: [Requirement]?

    /// `labels.Nothing()`.
    static let nothing = LabelSelectorMatcher(requirements: nil)
    /// `labels.Everything()`.
    static let everything = LabelSelectorMatcher(requirements: [])

    private init(requirements: [Requirement]?) { self.requirements = requirements }

    /// `metav1.LabelSelectorAsSelector`: nil gives `nothing`, `{}` gives `everything`.
    ///
    /// - Throws: `ParseError` for the first invalid requirement.
    init(parsing selector: LabelSelector?) throws(ParseError) {
        guard let selector else { self.requirements = nil; return }
        var reqs: [Requirement] = []
        for key in selector.matchLabels.keys.sorted() {
            let value = selector.matchLabels[key] ?? ""
            try Self.validate(key: key, values: [value], valuesRequired: true, valuesForbidden: false)
            reqs.append(Requirement(key: key, op: .in, values: [value]))
        }
        for e in selector.matchExpressions {
            let op: Requirement.Operator
            switch e.operator {
            case .in: op = .in
            case .notIn: op = .notIn
            case .exists: op = .exists
            case .doesNotExist: op = .doesNotExist
            }
            let needsValues = op == .in || op == .notIn
            try Self.validate(key: e.key, values: e.values, valuesRequired: needsValues, valuesForbidden: !needsValues)
            reqs.append(Requirement(key: e.key, op: op, values: e.values))
        }
        self.requirements = reqs
    }

    /// Go's `Selector.Empty()`: true only for a selector with no requirements (`{}`); false for
    /// `nothing`.
    var isEmpty: Bool { requirements?.isEmpty ?? false }

    /// Whether the label set satisfies every requirement; `nothing` matches no set.
    func matches(_ labels: [String: String]) -> Bool {
        guard let requirements else { return false }
        return requirements.allSatisfy { $0.matches(labels) }
    }

    /// The selector with `extra` ANDed in (`Selector.Add`); `nothing` stays `nothing`, as in
    /// kube-scheduler's `mergeLabelSetWithSelector`.
    func adding(_ extra: [Requirement]) -> LabelSelectorMatcher {
        guard let requirements else { return self }
        return LabelSelectorMatcher(requirements: extra + requirements)
    }

    // MARK: - Validation

    private static let valueRule = "a valid label must be an empty string or consist of alphanumeric characters, '-', "
        + "'_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or "
        + "'12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
    private static let keyRule = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start "
        + "and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
        + "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' "
        + "(e.g. 'example.com/MyName')"

    private static func validate(key: String, values: [String], valuesRequired: Bool,
                                 valuesForbidden: Bool) throws(ParseError) {
        if !LabelSyntax.isQualifiedName(key) {
            throw ParseError(message: "key: Invalid value: \"\(key)\": \(keyRule)")
        }
        if valuesRequired && values.isEmpty {
            throw ParseError(message: "values: Invalid value: []string{}: for 'in', 'notin' operators, values set can't be empty")
        }
        if valuesForbidden && !values.isEmpty {
            throw ParseError(message: "values: Invalid value: \(values): values set must be empty for exists and does not exist")
        }
        for (i, v) in values.enumerated() where !LabelSyntax.isValidLabelValue(v) {
            throw ParseError(message: "values[\(i)][\(key)]: Invalid value: \"\(v)\": \(valueRule)")
        }
    }
}
