import Testing
@testable import KubeAPI

/// Decoding of the topology spread and pod affinity fields PodTopologySpread and
/// InterPodAffinity use: matchLabelKeys, minDomains, nodeAffinityPolicy, nodeTaintsPolicy,
/// namespaceSelector, mismatchLabelKeys.
@Suite struct SpreadAffinityDecodeTests {
    private func pod(_ spec: String) throws -> Pod {
        let docs = try ManifestDecoder.decode("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n" + spec,
                                              file: "test.yaml")
        return try #require(docs.first?.object?.pod)
    }

    @Test func spreadConstraintFields() throws {
        let p = try pod("""
          containers: [{name: c}]
          topologySpreadConstraints:
          - maxSkew: 2
            topologyKey: topology.kubernetes.io/zone
            whenUnsatisfiable: DoNotSchedule
            labelSelector: {matchLabels: {app: web}}
            minDomains: 3
            matchLabelKeys: [pod-template-hash]
            nodeAffinityPolicy: Ignore
            nodeTaintsPolicy: Honor
          - {maxSkew: 1, topologyKey: kubernetes.io/hostname, whenUnsatisfiable: ScheduleAnyway}
        """)
        #expect(p.spec.topologySpreadConstraints == [
            TopologySpreadConstraint(maxSkew: 2, topologyKey: "topology.kubernetes.io/zone", whenUnsatisfiable: "DoNotSchedule",
                                     labelSelector: LabelSelector(matchLabels: ["app": "web"]), minDomains: 3,
                                     matchLabelKeys: ["pod-template-hash"], nodeAffinityPolicy: .ignore, nodeTaintsPolicy: .honor),
            TopologySpreadConstraint(maxSkew: 1, topologyKey: "kubernetes.io/hostname", whenUnsatisfiable: "ScheduleAnyway"),
        ])
        // Absent fields stay nil / empty: the plugin applies kube's defaults.
        let plain = p.spec.topologySpreadConstraints[1]
        #expect(plain.labelSelector == nil && plain.minDomains == nil && plain.matchLabelKeys.isEmpty)
        #expect(plain.nodeAffinityPolicy == nil && plain.nodeTaintsPolicy == nil)
    }

    @Test func invalidInclusionPolicy() throws {
        #expect(throws: ManifestError.self) {
            _ = try pod("""
              containers: [{name: c}]
              topologySpreadConstraints:
              - {maxSkew: 1, topologyKey: zone, whenUnsatisfiable: DoNotSchedule, nodeTaintsPolicy: Always}
            """)
        }
    }

    @Test func podAffinityTermFields() throws {
        let p = try pod("""
          containers: [{name: c}]
          affinity:
            podAntiAffinity:
              requiredDuringSchedulingIgnoredDuringExecution:
              - labelSelector: {matchExpressions: [{key: app, operator: In, values: [web]}]}
                namespaces: [shop]
                namespaceSelector: {matchLabels: {team: a}}
                topologyKey: kubernetes.io/hostname
                matchLabelKeys: [pod-template-hash]
                mismatchLabelKeys: [tenant]
            podAffinity:
              preferredDuringSchedulingIgnoredDuringExecution:
              - weight: 10
                podAffinityTerm: {topologyKey: zone, namespaceSelector: {}}
        """)
        #expect(p.spec.affinity?.podAntiAffinity?.required == [
            PodAffinityTerm(labelSelector: LabelSelector(matchExpressions: [
                LabelSelectorRequirement(key: "app", operator: .in, values: ["web"]),
            ]), namespaces: ["shop"], topologyKey: "kubernetes.io/hostname",
            namespaceSelector: LabelSelector(matchLabels: ["team": "a"]), matchLabelKeys: ["pod-template-hash"],
            mismatchLabelKeys: ["tenant"]),
        ])
        // An empty namespaceSelector (every namespace) is kept apart from an absent one (none).
        let preferred = try #require(p.spec.affinity?.podAffinity?.preferred.first)
        #expect(preferred.weight == 10)
        #expect(preferred.term.namespaceSelector == LabelSelector())
        #expect(preferred.term.labelSelector == nil)
    }
}
