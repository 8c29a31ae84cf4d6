import Testing
import KubeAPI
import KubeScheduler
import LuaPlugins
import KubeLab

struct ConfigurationTests {
    static func parse(_ text: String) throws -> SchedulerConfiguration {
        try SchedulerConfiguration.parse(text, file: "config.yaml")
    }

    static let header = "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n"

    @Test func noProfilesMeansKubeSchedulersDefaultProfile() throws {
        let c = try Self.parse(Self.header)
        let fs = try c.frameworks()
        #expect(fs.map(\.schedulerName) == ["default-scheduler"])
        let f = fs[0].framework
        let d = Framework.defaultProfile()
        #expect(f.filters.map(\.name) == d.filters.map(\.name))
        #expect(f.scores.map { "\($0.plugin.name)=\($0.weight)" } == d.scores.map { "\($0.plugin.name)=\($0.weight)" })
        #expect(f.preFilters?.map(\.name) == ["NodeAffinity", "NodePorts", "PodTopologySpread", "InterPodAffinity"])
        #expect(f.preScores?.map(\.name) == ["NodeAffinity", "PodTopologySpread", "InterPodAffinity", "NodeResourcesBalancedAllocation"])
        #expect(f.queueSort == nil)
    }

    @Test func twoProfilesWithADisabledPluginWeightsAndArgs() throws {
        let c = try Self.parse(Self.header + """
        percentageOfNodesToScore: 70
        profiles:
          - schedulerName: default-scheduler
          - schedulerName: packer
            percentageOfNodesToScore: 100
            plugins:
              score:
                disabled:
                  - name: NodeResourcesBalancedAllocation
                enabled:
                  - name: NodeResourcesFit
                    weight: 5
              filter:
                disabled:
                  - name: NodePorts
            pluginConfig:
              - name: NodeResourcesFit
                args:
                  scoringStrategy:
                    type: MostAllocated
        """)
        let fs = try c.frameworks()
        #expect(fs.map(\.schedulerName) == ["default-scheduler", "packer"])
        let (d, p) = (fs[0].framework, fs[1].framework)
        #expect(d.percentageOfNodesToScore == 70 && p.percentageOfNodesToScore == 100)
        #expect(p.scores.map { "\($0.plugin.name)=\($0.weight)" } == [
            "NodeResourcesFit=5", "TaintToleration=3", "NodeAffinity=2", "PodTopologySpread=2", "InterPodAffinity=2", "ImageLocality=1",
        ])
        #expect(!p.filters.contains { $0.name == "NodePorts" })
        #expect(d.filters.contains { $0.name == "NodePorts" })
        #expect((p.scores.first?.plugin as? NodeResourcesFit)?.strategy == .mostAllocated)
        #expect((d.scores.first { $0.plugin.name == "NodeResourcesFit" }?.plugin as? NodeResourcesFit)?.strategy == .leastAllocated)
        // One plugin object serves the filter and the score of a profile, as in kube-scheduler.
        #expect(p.filters.first { $0.name == "NodeResourcesFit" } === (p.scores.first?.plugin as AnyObject))
    }

    @Test func disablingEverythingOfMultiPointLeavesOnlyWhatIsEnabled() throws {
        let c = try Self.parse(Self.header + """
        profiles:
          - schedulerName: minimal
            plugins:
              multiPoint:
                disabled: [ { name: "*" } ]
                enabled: [ { name: NodeResourcesFit, weight: 2 }, { name: NodeName }, { name: DefaultBinder } ]
        """)
        let f = try c.frameworks()[0].framework
        #expect(f.binds.map(\.name) == ["DefaultBinder"])
        #expect(f.filters.map(\.name) == ["NodeResourcesFit", "NodeName"])
        #expect(f.scores.map { "\($0.plugin.name)=\($0.weight)" } == ["NodeResourcesFit=2"])
    }

    @Test func aLuaPluginJoinsAProfileByName() throws {
        let lua = LuaSchedulerPlugin(try LoadedPlugin.load(path: "\(repoRoot)/plugins/schedulers/binpack.lua", displayPath: "binpack.lua"))
        let c = try Self.parse(Self.header + """
        profiles:
          - schedulerName: default-scheduler
            plugins:
              score:
                disabled: [ { name: NodeResourcesFit }, { name: NodeResourcesBalancedAllocation } ]
                enabled: [ { name: binpack, weight: 4 } ]
        """)
        let f = try c.frameworks(extra: ["binpack": lua])[0].framework
        #expect(f.scores.map { "\($0.plugin.name)=\($0.weight)" } == ["TaintToleration=3", "NodeAffinity=2", "PodTopologySpread=2", "InterPodAffinity=2", "ImageLocality=1", "binpack=4"])
        // binpack has no filter: enabling it at filter is an error naming the field.
        let bad = try Self.parse(Self.header + """
        profiles:
          - plugins:
              filter:
                enabled: [ { name: binpack } ]
        """)
        #expect { _ = try bad.frameworks(extra: ["binpack": lua]) } throws: { e in
            let m = (e as? ManifestError)?.description ?? ""
            return m.contains("profiles[0].plugins.filter.enabled[0].name") && m.contains("does not extend the filter extension point")
        }
    }

    @Test(arguments: [
        ("profiles:\n  - plugins:\n      score:\n        enabled:\n          - name: NodeResourcesFit\n          - name: Teleport\n",
         "config.yaml:8: profiles[0].plugins.score.enabled[1].name: unknown plugin \"Teleport\""),
        ("profiles:\n  - plugins:\n      score:\n        enabled:\n          - name: ImageLocality\n            weight: -2\n",
         "config.yaml:8: profiles[0].plugins.score.enabled[0].weight: must be a whole number of 0 or more"),
        ("profiles:\n  - plugins:\n      score:\n        enabled:\n          - name: ImageLocality\n            weight: heavy\n",
         "profiles[0].plugins.score.enabled[0].weight: must be a whole number"),
        ("percentageOfNodesToScore: 150\n", "percentageOfNodesToScore: not in valid range [0-100]"),
        ("profiles:\n  - schedulerName: a\n  - schedulerName: a\n", "profiles[1].schedulerName: duplicate value \"a\""),
        ("profiles:\n  - pluginConfig:\n      - name: NodeResourcesFit\n        args:\n          scoringStrategy:\n            type: Fastest\n",
         "profiles[0].pluginConfig[0].args.scoringStrategy.type: expected one of LeastAllocated, MostAllocated, RequestedToCapacityRatio"),
        ("profiles:\n  - plugins:\n      sorting: {}\n", "profiles[0].plugins.sorting: unknown extension point"),
        ("profile: []\n", "profile: unknown field"),
        ("profiles:\n  - pluginConfig:\n      - name: PodTopologySpread\n        args:\n          defaultingType: Sometimes\n",
         "profiles[0].pluginConfig[0].args.defaultingType: expected System or List"),
        ("profiles:\n  - pluginConfig:\n      - name: InterPodAffinity\n        args:\n          hardPodAffinityWeight: 101\n",
         "profiles[0].pluginConfig[0].args.hardPodAffinityWeight: not in valid range [0-100]"),
    ])
    func invalidConfigurationsNameTheField(_ body: String, _ message: String) throws {
        #expect {
            let c = try Self.parse(Self.header + body)
            _ = try c.frameworks()
        } throws: { e in
            (e as? ManifestError)?.description.contains(message) == true
        }
    }

    @Test func podsGoToTheProfileTheyName() throws {
        var pass = SchedulePass()
        try pass.load(nodesText: nodesYAML(2), nodesFile: "n.yaml", podsText: """
        apiVersion: v1
        kind: Pod
        metadata: { name: a }
        spec: { schedulerName: packer, containers: [ { name: c, image: x, resources: { requests: { cpu: "1" } } } ] }
        ---
        apiVersion: v1
        kind: Pod
        metadata: { name: b }
        spec: { schedulerName: packer, containers: [ { name: c, image: x, resources: { requests: { cpu: "1" } } } ] }
        ---
        apiVersion: v1
        kind: Pod
        metadata: { name: lost }
        spec: { schedulerName: nobody, containers: [ { name: c, image: x } ] }
        """, podsFile: "p.yaml")
        let c = try Self.parse(Self.header + """
        profiles:
          - schedulerName: packer
            pluginConfig:
              - name: NodeResourcesFit
                args: { scoringStrategy: { type: MostAllocated } }
        """)
        let out = try pass.run(luas: [], seed: 1, config: c)
        // MostAllocated packs both pods on one node.
        #expect(out.placements["default/a"] == out.placements["default/b"])
        #expect(out.unschedulable["default/lost"] == "no scheduler profile named \"nobody\": the pod stays pending")
    }
}
