/// Decodes Kubernetes manifests (YAML or JSON, block or flow style, several documents per file)
/// into kubelab objects, with errors that name the file, line and field.
public enum ManifestDecoder {
    /// Parses YAML text (one or more documents) into trees; YAML syntax errors and duplicate
    /// keys become a `ManifestError` with file and line. Empty documents (only comments, or a
    /// bare `---`) are left out.
    public static func parse(_ text: String, file: String) throws(ManifestError) -> [ManifestNode] {
        try ManifestYAML.parse(text, file: file)
    }

    /// Decodes every document of a YAML/JSON text; a `kind: List` gives one document per item.
    public static func decode(_ text: String, file: String) throws(ManifestError) -> [ManifestDocument] {
        var out: [ManifestDocument] = []
        for node in try parse(text, file: file) {
            out.append(contentsOf: try decodeAll(node, file: file))
        }
        return out
    }

    /// Decodes one tree (used for Lua tables too). A `kind: List` is an error here, since it
    /// holds several objects: use `decodeAll(_:file:)` for trees that may be lists.
    public static func decode(_ node: ManifestNode, file: String) throws(ManifestError) -> ManifestDocument {
        let r = ManifestReader(file: file)
        if let list = try listItems(node, base: "", reader: r) {
            throw r.fail("kind", node.line, "kind 'List' holds \(list.count) objects: decode it with ManifestDecoder.decodeAll")
        }
        return try decodeObject(node, base: "", reader: r)
    }

    /// Decodes one tree that may be a `kind: List`: one document per item (none for a null tree).
    public static func decodeAll(_ node: ManifestNode, file: String) throws(ManifestError) -> [ManifestDocument] {
        try decodeAll(node, base: "", reader: ManifestReader(file: file))
    }

    /// The real Kubernetes kinds that kubelab recognises but does not simulate.
    public static let knownUnsupportedKinds: Set<String> = [
        "Service", "Namespace", "Job", "CronJob", "DaemonSet", "StatefulSet", "ReplicationController",
        "ConfigMap", "Secret", "PersistentVolumeClaim", "PersistentVolume", "StorageClass", "VolumeAttachment",
        "CSIDriver", "CSINode", "CSIStorageCapacity", "VolumeAttributesClass",
        "LimitRange", "ResourceQuota", "RuntimeClass", "PodTemplate",
        "ControllerRevision", "Ingress", "IngressClass", "NetworkPolicy", "Endpoints", "EndpointSlice",
        "ServiceAccount", "Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding",
        "HorizontalPodAutoscaler", "VerticalPodAutoscaler", "CustomResourceDefinition", "APIService",
        "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration", "ValidatingAdmissionPolicy",
        "ValidatingAdmissionPolicyBinding", "MutatingAdmissionPolicy", "MutatingAdmissionPolicyBinding",
        "CertificateSigningRequest", "ClusterTrustBundle", "FlowSchema", "PriorityLevelConfiguration",
        "PodSecurityPolicy", "ResourceClaim", "ResourceClaimTemplate", "DeviceClass", "ResourceSlice",
        "IPAddress", "ServiceCIDR", "LeaseCandidate", "Binding", "ComponentStatus",
        "Gateway", "GatewayClass", "HTTPRoute", "GRPCRoute", "ReferenceGrant",
    ]

    // MARK: - Documents

    private static func decodeAll(_ node: ManifestNode, base: String, reader r: ManifestReader)
        throws(ManifestError) -> [ManifestDocument]
    {
        if case .null = node { return [] }
        guard let items = try listItems(node, base: base, reader: r) else {
            return [try decodeObject(node, base: base, reader: r)]
        }
        var out: [ManifestDocument] = []
        for item in items {
            out.append(contentsOf: try decodeAll(item.node, base: item.path, reader: r))
        }
        return out
    }

    /// The items of a `kind: List`, or nil when the tree is not a List.
    private static func listItems(_ node: ManifestNode, base: String, reader r: ManifestReader)
        throws(ManifestError) -> [(node: ManifestNode, path: String)]?
    {
        guard case .mapping = node, case .scalar(let kind, _, _)? = node["kind"], kind == "List" else { return nil }
        let f = try r.mapping(node, base)
        return try f.items("items")
    }

    private static func decodeObject(_ node: ManifestNode, base: String, reader r: ManifestReader)
        throws(ManifestError) -> ManifestDocument
    {
        guard case .mapping = node else {
            throw r.fail(base, node.line, "expected a Kubernetes object (a mapping with apiVersion and kind), got \(node.summary)")
        }
        let f = try r.mapping(node, base)
        let kind = try f.requiredString("kind")
        let apiVersion = try f.requiredString("apiVersion")
        let line = node.line ?? 0
        guard let k = Kind(rawValue: kind) else {
            if knownUnsupportedKinds.contains(kind) {
                let meta = f.node("metadata")
                let name = meta?["name"]?.scalarText ?? meta?["generateName"]?.scalarText ?? ""
                return .unsupported(kind: kind, apiVersion: apiVersion, name: name, line: line)
            }
            var message = "unknown kind '\(kind)' (apiVersion '\(apiVersion)')"
            let all = Kind.allCases.map(\.rawValue) + knownUnsupportedKinds.sorted()
            if let near = all.first(where: { $0.lowercased() == kind.lowercased() }) {
                message += "; did you mean '\(near)'?"
            }
            throw r.fail(base, f.node("kind")?.line ?? node.line, message)
        }
        let allowed = k == .event ? ["v1", "events.k8s.io/v1"] : [k.apiVersion]
        guard allowed.contains(apiVersion) else {
            let expected = allowed.map { "'\($0)'" }.joined(separator: " or ")
            throw r.fail(f.path("apiVersion"), f.node("apiVersion")?.line ?? node.line,
                         "apiVersion '\(apiVersion)' does not match kind '\(kind)' (expected \(expected))")
        }
        let d = ObjectDecoder(reader: r)
        let object: KubeObject
        switch k {
        case .pod: object = .pod(try d.pod(f))
        case .node: object = .node(try d.node(f))
        case .replicaSet: object = .replicaSet(try d.replicaSet(f))
        case .deployment: object = .deployment(try d.deployment(f))
        case .lease: object = .lease(try d.lease(f))
        case .event: object = .event(try d.event(f, apiVersion: apiVersion))
        case .podDisruptionBudget: object = .podDisruptionBudget(try d.podDisruptionBudget(f))
        case .priorityClass: object = .priorityClass(try d.priorityClass(f))
        }
        return .object(object, line: line)
    }
}
