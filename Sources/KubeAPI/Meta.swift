public import SimCore

/// A reference from a dependent object to its owner (e.g. a Pod to its ReplicaSet).
public struct OwnerReference: Equatable, Sendable {
    public var apiVersion: String
    public var kind: String
    public var name: String
    public var uid: String
    public var controller: Bool

    public init(apiVersion: String, kind: String, name: String, uid: String, controller: Bool = true) {
        self.apiVersion = apiVersion; self.kind = kind; self.name = name; self.uid = uid; self.controller = controller
    }
}

/// Standard object metadata (metav1.ObjectMeta), with times in virtual time.
public struct ObjectMeta: Equatable, Sendable {
    public var name: String = ""
    public var generateName: String = ""
    /// "" for cluster-scoped kinds (Node); namespaced kinds default to "default".
    public var namespace: String = ""
    public var uid: String = ""
    public var labels: [String: String] = [:]
    public var annotations: [String: String] = [:]
    public var ownerReferences: [OwnerReference] = []
    public var finalizers: [String] = []
    /// Set by the store: the revision of the last write to this object.
    public var resourceVersion: Int64 = 0
    public var generation: Int64 = 0
    public var creationTimestamp: SimTime? = nil
    /// Set when a graceful delete started: the object is terminating.
    public var deletionTimestamp: SimTime? = nil
    public var deletionGracePeriodSeconds: Int64? = nil

    public init(name: String = "", namespace: String = "", labels: [String: String] = [:]) {
        self.name = name; self.namespace = namespace; self.labels = labels
    }

    /// The owner reference with `controller: true`, if any.
    public var controllerRef: OwnerReference? { ownerReferences.first { $0.controller } }
}

/// The operator of a label selector requirement.
public enum LabelSelectorOperator: String, Sendable, Equatable {
    case `in` = "In", notIn = "NotIn", exists = "Exists", doesNotExist = "DoesNotExist"
}

/// One `matchExpressions` entry of a label selector.
public struct LabelSelectorRequirement: Equatable, Sendable {
    public var key: String
    public var `operator`: LabelSelectorOperator
    public var values: [String]

    public init(key: String, operator op: LabelSelectorOperator, values: [String] = []) {
        self.key = key; self.operator = op; self.values = values
    }

    public func matches(_ labels: [String: String]) -> Bool {
        switch self.operator {
        case .in: return labels[key].map { values.contains($0) } ?? false
        case .notIn: return labels[key].map { !values.contains($0) } ?? true
        case .exists: return labels[key] != nil
        case .doesNotExist: return labels[key] == nil
        }
    }
}

/// A label selector (metav1.LabelSelector): all terms must match; an empty selector
/// matches everything.
public struct LabelSelector: Equatable, Sendable {
    public var matchLabels: [String: String]
    public var matchExpressions: [LabelSelectorRequirement]

    public init(matchLabels: [String: String] = [:], matchExpressions: [LabelSelectorRequirement] = []) {
        self.matchLabels = matchLabels; self.matchExpressions = matchExpressions
    }

    public var isEmpty: Bool { matchLabels.isEmpty && matchExpressions.isEmpty }

    public func matches(_ labels: [String: String]) -> Bool {
        for (k, v) in matchLabels where labels[k] != v { return false }
        return matchExpressions.allSatisfy { $0.matches(labels) }
    }
}

/// A reference to an object, as Events carry it.
public struct ObjectReference: Equatable, Sendable {
    public var kind: String
    public var namespace: String
    public var name: String
    public var uid: String

    public init(kind: String, namespace: String, name: String, uid: String = "") {
        self.kind = kind; self.namespace = namespace; self.name = name; self.uid = uid
    }
}

/// An int-or-string field such as `maxSurge: 25%`.
public enum IntOrString: Equatable, Sendable {
    case int(Int)
    case string(String)

    /// Resolves a percentage against `total`, rounding up or down as Kubernetes does.
    public func scaled(total: Int, roundUp: Bool) -> Int? {
        switch self {
        case .int(let v): return v
        case .string(let s):
            guard s.hasSuffix("%"), let p = Int(s.dropLast()) else { return nil }
            let x = p * total
            return roundUp ? (x + 99) / 100 : x / 100
        }
    }
}
