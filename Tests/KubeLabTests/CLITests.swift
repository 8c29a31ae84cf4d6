import Foundation
import Testing

/// The built `kubelab` binary: $KUBELAB_BIN, or .build/debug/kubelab in the repository.
func kubelabBinary() throws -> String {
    if let env = ProcessInfo.processInfo.environment["KUBELAB_BIN"] { return env }
    for candidate in ["\(repoRoot)/.build/debug/kubelab", "\(repoRoot)/.build/x86_64-unknown-linux-gnu/debug/kubelab",
                      "\(repoRoot)/.build/aarch64-unknown-linux-gnu/debug/kubelab"]
    where FileManager.default.isExecutableFile(atPath: candidate) {
        return candidate
    }
    throw CLIError(message: "no kubelab binary: build it with `swift build` first")
}

struct CLIError: Error { let message: String }

struct CLIResult {
    let code: Int32
    let stdout: String
    let stderr: String
}

/// Runs kubelab with arguments in the repository root.
func kubelab(_ args: [String], in dir: String = repoRoot) throws -> CLIResult {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: try kubelabBinary())
    p.arguments = args
    p.currentDirectoryURL = URL(fileURLWithPath: dir)
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return CLIResult(code: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
}

/// A temporary folder with files.
func tempDir(_ files: [String: String]) throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kubelab-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    for (name, text) in files { try text.write(toFile: "\(dir)/\(name)", atomically: true, encoding: .utf8) }
    return dir
}

let goodNodes = """
apiVersion: v1
kind: Node
metadata: { name: node-1 }
status: { capacity: { cpu: "4", memory: 8Gi } }
"""

let goodPods = """
apiVersion: v1
kind: Pod
metadata: { name: web }
spec: { containers: [ { name: c, image: nginx, resources: { requests: { cpu: 500m } } } ] }
"""

@Suite(.serialized) struct CLITests {
    /// One line on stderr, the right exit code, and no crash text.
    func expectCleanFailure(_ r: CLIResult, code: Int32, contains text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(r.code == code, "exit \(r.code), stderr: \(r.stderr)", sourceLocation: sourceLocation)
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.count == 1, "stderr: \(r.stderr)", sourceLocation: sourceLocation)
        #expect(r.stderr.contains(text), "stderr: \(r.stderr)", sourceLocation: sourceLocation)
        #expect(!r.stderr.contains("Fatal error") && !r.stderr.contains("Stack dump"), sourceLocation: sourceLocation)
    }

    @Test func missingFile() throws {
        expectCleanFailure(try kubelab(["run", "no/such/scenario.lua"]), code: 2, contains: "no/such/scenario.lua")
        expectCleanFailure(try kubelab(["schedule", "--nodes", "nope.yaml", "--pods", "nope2.yaml"]), code: 2, contains: "nope.yaml: no such file")
    }

    @Test func yamlSyntaxErrorNamesFileAndLine() throws {
        let dir = try tempDir(["nodes.yaml": goodNodes, "pods.yaml": "apiVersion: v1\nkind: Pod\nmetadata:\n  name: [oops\n"])
        let r = try kubelab(["schedule", "--nodes", "\(dir)/nodes.yaml", "--pods", "\(dir)/pods.yaml"])
        expectCleanFailure(r, code: 2, contains: "\(dir)/pods.yaml:")
        #expect(r.stderr.range(of: #"pods\.yaml:[45]"#, options: .regularExpression) != nil, "\(r.stderr)")
    }

    @Test func unknownKind() throws {
        let dir = try tempDir(["nodes.yaml": goodNodes, "pods.yaml": "apiVersion: v1\nkind: Poddd\nmetadata: { name: x }\n"])
        expectCleanFailure(try kubelab(["schedule", "--nodes", "\(dir)/nodes.yaml", "--pods", "\(dir)/pods.yaml"]),
                           code: 2, contains: "unknown kind 'Poddd'")
    }

    @Test func negativeQuantity() throws {
        let dir = try tempDir(["nodes.yaml": goodNodes,
                               "pods.yaml": goodPods.replacingOccurrences(of: "cpu: 500m", with: "cpu: \"-1\"")])
        let r = try kubelab(["schedule", "--nodes", "\(dir)/nodes.yaml", "--pods", "\(dir)/pods.yaml"])
        expectCleanFailure(r, code: 2, contains: "must not be negative")
        #expect(r.stderr.contains("pods.yaml:4"))
    }

    @Test func luaSyntaxErrorInAPluginExits3WithFileAndLine() throws {
        let dir = try tempDir(["nodes.yaml": goodNodes, "pods.yaml": goodPods,
                               "bad.lua": "return {\n  name = 'bad',\n  score = function(pod, node) return 1 +\nend,\n}\n"])
        let r = try kubelab(["schedule", "--nodes", "\(dir)/nodes.yaml", "--pods", "\(dir)/pods.yaml", "--plugin", "\(dir)/bad.lua"])
        expectCleanFailure(r, code: 3, contains: "\(dir)/bad.lua:4:")
        let c = try kubelab(["check", "\(dir)/bad.lua"])
        expectCleanFailure(c, code: 3, contains: "bad.lua:4:")
    }

    @Test func scenarioCallingAnUnknownFunctionExits3() throws {
        let dir = try tempDir(["s.lua": "return {\n  name = 's',\n  run = function(k)\n    k.explode('node-1')\n  end,\n}\n"])
        let r = try kubelab(["run", "\(dir)/s.lua", "--quiet"])
        expectCleanFailure(r, code: 3, contains: "s.lua:4: in run: unknown scenario function 'k.explode'")
    }

    @Test func checkReportsKindHooksCostsAndProblems() throws {
        let clean = try kubelab(["check", "plugins/schedulers/binpack.lua"])
        #expect(clean.code == 0, "\(clean.stdout)\(clean.stderr)")
        #expect(clean.stdout.contains("kind     scheduler"))
        #expect(clean.stdout.contains("smoke    8 pods on 4 nodes: 8 placed"))
        #expect(clean.stdout.range(of: #"score +\d+ calls, [1-9]\d* instructions/call"#, options: .regularExpression) != nil, "\(clean.stdout)")
        let dir = try tempDir([
            "typo.lua": "helper = 1\nreturn { name = 'typo', filter = function() return true end, scroe = function() return 1 end }\n",
            "failing.lua": "return { name = 'failing', score = function(pod, node) return node.nope.x end }\n",
        ])
        let typo = try kubelab(["check", "\(dir)/typo.lua"])
        #expect(typo.code == 1)
        #expect(typo.stdout.contains("unknown field 'scroe': did you mean 'score'?"))
        #expect(typo.stdout.contains("writes the global 'helper'"))
        let failing = try kubelab(["check", "\(dir)/failing.lua"])
        #expect(failing.code == 3)
        #expect(failing.stdout.contains("failing.lua:1: in score: attempt to index a nil value (field 'nope')"))
    }

    @Test func controllersRunWithTheScenarioAndCheckReportsThem() throws {
        let fast = try kubelab(["run", "plugins/scenarios/node-crash.lua", "--controller", "plugins/controllers/fast-evict.lua", "--quiet"])
        #expect(fast.code == 0, "\(fast.stdout)\(fast.stderr)")
        #expect(fast.stdout.range(of: #"every Deployment fully available again \+4\d\.\d+s"#, options: .regularExpression) != nil, "\(fast.stdout)")
        let clean = try kubelab(["check", "plugins/controllers/fast-evict.lua"])
        #expect(clean.code == 0, "\(clean.stdout)")
        #expect(clean.stdout.contains("kind     controller"))
        #expect(clean.stdout.contains("access   nodes: get; pods: delete list"))
        #expect(clean.stdout.range(of: #"reconcile \d+ calls, [1-9]\d* instructions/call"#, options: .regularExpression) != nil, "\(clean.stdout)")
        let dir = try tempDir([
            "boom.lua": "return { name = 'boom', watch = { 'Node' },\n  reconcile = function(ctx, key) error('boom') end }\n",
            "bad.lua": "return { name = 'bad', watch = { 'Gizmo' }, reconcile = function() end }\n",
        ])
        let boom = try kubelab(["check", "\(dir)/boom.lua"])
        #expect(boom.code == 3)
        #expect(boom.stdout.range(of: #"error    .*boom.lua:2: in reconcile: boom \(\d+ times\)"#, options: .regularExpression) != nil, "\(boom.stdout)")
        expectCleanFailure(try kubelab(["check", "\(dir)/bad.lua"]), code: 3, contains: "bad.lua: watch[1]: unknown kind the string \"Gizmo\"")
        expectCleanFailure(try kubelab(["run", "plugins/scenarios/node-crash.lua", "--controller", "\(dir)/bad.lua"]), code: 3,
                           contains: "bad.lua: watch[1]: unknown kind")
        expectCleanFailure(try kubelab(["run", "plugins/scenarios/node-crash.lua", "--controller", "plugins/schedulers/binpack.lua"]),
                           code: 2, contains: "--controller wants a controller plugin")
    }

    @Test func usageErrorsExit2() throws {
        expectCleanFailure(try kubelab(["run"]), code: 2, contains: "Missing expected argument")
        expectCleanFailure(try kubelab(["lab", "grade", "01", "--solution", "x.lua", "--seeds", "1,two"]), code: 2, contains: "--seeds: 'two' is not a whole number")
        expectCleanFailure(try kubelab(["run", "plugins/scenarios/node-crash.lua", "--set", "warp_speed=9"]), code: 2, contains: "unknown setting 'warp_speed'")
    }

    /// A file with a set of plugins: `check` reports each, `schedule` uses them all, and a
    /// command that wants one plugin says so (exit 2).
    @Test func aSetOfPluginsWorksWhereSchedulerPluginsGo() throws {
        let check = try kubelab(["check", "plugins/schedulers/default.lua"])
        #expect(check.code == 0, "\(check.stdout)\(check.stderr)")
        #expect(check.stdout.contains("plugin   lua-least-allocated") && check.stdout.contains("plugin   lua-balanced-allocation"))
        let dir = try tempDir(["nodes.yaml": """
            apiVersion: v1
            kind: Node
            metadata: { name: node-a }
            status: { capacity: { cpu: "4", memory: 16Gi } }
            """])
        let pods = "../shared/corpus/k8s-website-examples/controllers__nginx-deployment.yaml"
        let lua = try kubelab(["schedule", "--nodes", "\(dir)/nodes.yaml", "--pods", pods, "--plugin", "plugins/schedulers/default.lua"])
        #expect(lua.code == 0, "\(lua.stderr)")
        #expect(lua.stdout.hasPrefix("scheduler: lua-least-allocated+lua-balanced-allocation"))
        let wrong = try kubelab(["run", "plugins/scenarios/node-crash.lua", "--controller", "plugins/schedulers/default.lua"])
        #expect(wrong.code == 2)
        #expect(wrong.stderr.contains("plugins/schedulers/default.lua: returns a set of 2 scheduler plugins; give it with --plugin or --scheduler"), "\(wrong.stderr)")
    }

    @Test func runWritesJsonAndEventsAndTwoProcessesAgree() throws {
        let dir = try tempDir([:])
        for i in 1...2 {
            let r = try kubelab(["run", "plugins/scenarios/node-crash.lua", "--scheduler", "plugins/schedulers/binpack.lua",
                                 "--seed", "4", "--json", "\(dir)/r\(i).json", "--events", "\(dir)/e\(i).log"])
            #expect(r.code == 0, "\(r.stderr)")
            #expect(r.stdout.contains("timeline") && r.stdout.contains("recovery"))
        }
        let e1 = try String(contentsOfFile: "\(dir)/e1.log", encoding: .utf8)
        let e2 = try String(contentsOfFile: "\(dir)/e2.log", encoding: .utf8)
        #expect(e1 == e2 && !e1.isEmpty)
        let j = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(dir)/r1.json"))) as? [String: Any])
        let sha = try #require(j["event_log_sha256"] as? String)
        let j2 = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(dir)/r2.json"))) as? [String: Any])
        #expect(sha == j2["event_log_sha256"] as? String)
    }

    @Test func schedulePluginsCombine() throws {
        let dir = try tempDir(["odd.lua": "return { name = 'no-node-1', filter = function(pod, node) return node.name ~= 'node-1', 'not node-1' end }\n",
                               "nodes.yaml": goodNodes + "\n---\n" + goodNodes.replacingOccurrences(of: "node-1", with: "node-2"),
                               "pods.yaml": goodPods])
        let r = try kubelab(["schedule", "--nodes", "\(dir)/nodes.yaml", "--pods", "\(dir)/pods.yaml", "--json",
                             "--plugin", "\(dir)/odd.lua", "--plugin", "plugins/schedulers/binpack.lua"])
        #expect(r.code == 0, "\(r.stderr)")
        let j = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect(j["scheduler"] as? String == "no-node-1+binpack")
        #expect((j["placements"] as? [String: Any])?["default/web"] as? String == "node-2")
    }

    @Test func pluginLimitsAreSettings() throws {
        let busy = "return { name = 'busy', score = function(pod, node)\n  local x = 0\n  for i = 1, 5000 do x = x + i end\n  return 50\nend }\n"
        let twoNodes = goodNodes + "\n---\n" + goodNodes.replacingOccurrences(of: "node-1", with: "node-2")
        let dir = try tempDir(["busy.lua": busy, "nodes.yaml": twoNodes, "pods.yaml": goodPods])
        let args = ["schedule", "--nodes", "\(dir)/nodes.yaml", "--pods", "\(dir)/pods.yaml", "--json", "--plugin", "\(dir)/busy.lua"]
        let fine = try kubelab(args)
        let fineJSON = try #require(try JSONSerialization.jsonObject(with: Data(fine.stdout.utf8)) as? [String: Any])
        #expect((fineJSON["plugin_failures"] as? [String])?.isEmpty == true)
        let tight = try kubelab(args + ["--set", "lua_instructions_per_call=2000", "--set", "lua_failures_in_a_row=1"])
        #expect(tight.code == 0)
        let j = try #require(try JSONSerialization.jsonObject(with: Data(tight.stdout.utf8)) as? [String: Any])
        let failures = try #require(j["plugin_failures"] as? [String])
        #expect(failures.first?.hasPrefix("\(dir)/busy.lua:3: in score: instruction budget exceeded (2000 instructions)") == true, "\(failures)")
        #expect(failures.last?.hasPrefix("\(dir)/busy.lua: switched off after 1 failures in a row") == true, "\(failures)")
        let check = try kubelab(["check", "plugins/schedulers/binpack.lua", "--set", "lua_memory=128Mi"])
        #expect(check.stdout.contains("settings lua_instructions_per_call=50000000 lua_memory=128Mi lua_wall_time_per_call=2s lua_pattern_subject=64Ki lua_failures_in_a_row=10 lua_run_instructions=20000000000"), "\(check.stdout)")
        expectCleanFailure(try kubelab(args + ["--set", "lua_memory=12"]), code: 2, contains: "settings.lua_memory: expected a size of at least 1048576 bytes")
        expectCleanFailure(try kubelab(args + ["--set", "lua_speed=9"]), code: 2, contains: "unknown setting 'lua_speed'")
        expectCleanFailure(try kubelab(["run", "plugins/scenarios/node-crash.lua", "--set", "lua_run_instructions=1.5"]), code: 2,
                           contains: "settings.lua_run_instructions: expected a whole number of at least 1000, got '1.5'")
    }

    @Test func explainShowsEveryNodesVerdictsAndScores() throws {
        let nodes = """
        apiVersion: v1
        kind: Node
        metadata: { name: a }
        status: { capacity: { cpu: "2", memory: 4Gi } }
        ---
        apiVersion: v1
        kind: Node
        metadata: { name: b }
        spec: { taints: [ { key: dedicated, value: gpu, effect: NoSchedule } ] }
        status: { capacity: { cpu: "8", memory: 16Gi } }
        ---
        apiVersion: v1
        kind: Node
        metadata: { name: c }
        status: { capacity: { cpu: "4", memory: 8Gi } }
        """
        let weighted = "return { name = 'flat', weight = 3, score = function(pod, node) return 10 end }\n"
        let dir = try tempDir(["nodes.yaml": nodes, "pods.yaml": goodPods, "flat.lua": weighted])
        let r = try kubelab(["schedule", "--nodes", "\(dir)/nodes.yaml", "--pods", "\(dir)/pods.yaml", "--explain", "--json",
                             "--plugin", "plugins/schedulers/binpack.lua", "--plugin", "\(dir)/flat.lua"])
        #expect(r.code == 0, "\(r.stderr)")
        let j = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let pods = try #require(j["pods"] as? [[String: Any]])
        #expect(pods.count == 1)
        #expect(pods[0]["pod"] as? String == "default/web")
        #expect(pods[0]["node"] as? String == "a")
        let byNode = Dictionary(uniqueKeysWithValues: try #require(pods[0]["nodes"] as? [[String: Any]]).map { ($0["node"] as? String ?? "", $0) })
        let b = try #require(byNode["b"])
        let bFilters = try #require(b["filters"] as? [[String: Any]])
        #expect(bFilters.last?["plugin"] as? String == "TaintToleration")
        #expect(bFilters.last?["status"] as? String == "UnschedulableAndUnresolvable")
        #expect((bFilters.last?["reasons"] as? [String])?.first?.contains("untolerated taint") == true)
        #expect((b["scores"] as? [Any])?.isEmpty == true)
        let a = try #require(byNode["a"])
        let scores = try #require(a["scores"] as? [[String: Any]])
        #expect(scores.map { $0["plugin"] as? String } == ["binpack", "flat"])
        // binpack: cpu (0 + 500m) * 100 / 2000m = 25, memory 0, averaged: 12; flat: 10 with weight 3.
        #expect(scores[0]["raw"] as? Int == 12 && scores[0]["normalized"] as? Int == 12 && scores[0]["weight"] as? Int == 1)
        #expect(scores[1]["raw"] as? Int == 10 && scores[1]["weight"] as? Int == 3)
        #expect(a["total"] as? Int == 12 + 30)
        #expect(a["examined"] as? Bool == true)
        let stats = try #require(j["stats"] as? [String: Any])
        #expect(stats["nodes"] as? Int == 3 && stats["pods"] as? Int == 1)
        #expect((stats["scheduling_seconds"] as? Double ?? -1) >= 0 && stats["pods_per_second"] != nil)
        let text = try kubelab(["schedule", "--nodes", "\(dir)/nodes.yaml", "--pods", "\(dir)/pods.yaml", "--explain",
                                "--plugin", "plugins/schedulers/binpack.lua", "--plugin", "\(dir)/flat.lua"])
        #expect(text.stdout.contains("default/web -> a"))
        #expect(text.stdout.range(of: #"\* a +ok +12 +10 x3 +42"#, options: .regularExpression) != nil, "\(text.stdout)")
        #expect(text.stdout.contains("TaintToleration: node(s) had untolerated taint"))
    }

    @Test func explainSaysWhichNodesWereNotExamined() throws {
        let many = (1...150).map { goodNodes.replacingOccurrences(of: "node-1", with: "node-\(String(format: "%03d", $0))") }.joined(separator: "\n---\n")
        let dir = try tempDir(["nodes.yaml": many, "pods.yaml": goodPods])
        let r = try kubelab(["schedule", "--nodes", "\(dir)/nodes.yaml", "--pods", "\(dir)/pods.yaml", "--explain", "--json"])
        let j = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let nodes = try #require((j["pods"] as? [[String: Any]])?.first?["nodes"] as? [[String: Any]])
        // 150 nodes: the adaptive percentage asks for 100 feasible nodes, so 50 are not examined.
        #expect(nodes.filter { $0["examined"] as? Bool == false }.count == 50)
        let all = try kubelab(["schedule", "--nodes", "\(dir)/nodes.yaml", "--pods", "\(dir)/pods.yaml", "--explain", "--json",
                               "--percentage-of-nodes-to-score", "100"])
        let j2 = try #require(try JSONSerialization.jsonObject(with: Data(all.stdout.utf8)) as? [String: Any])
        let nodes2 = try #require((j2["pods"] as? [[String: Any]])?.first?["nodes"] as? [[String: Any]])
        #expect(nodes2.allSatisfy { $0["examined"] as? Bool == true })
        expectCleanFailure(try kubelab(["schedule", "--nodes", "\(dir)/nodes.yaml", "--pods", "\(dir)/pods.yaml",
                                        "--percentage-of-nodes-to-score", "150"]), code: 2, contains: "expected 0 to 100")
    }

    @Test func scheduleReadsAKubeSchedulerConfiguration() throws {
        let config = """
        apiVersion: kubescheduler.config.k8s.io/v1
        kind: KubeSchedulerConfiguration
        profiles:
          - schedulerName: default-scheduler
          - schedulerName: packer
            plugins:
              score:
                disabled: [ { name: "*" } ]
                enabled: [ { name: binpack, weight: 2 } ]
        """
        let pods = goodPods + """

        ---
        apiVersion: v1
        kind: Pod
        metadata: { name: packed }
        spec: { schedulerName: packer, containers: [ { name: c, image: nginx, resources: { requests: { cpu: 500m } } } ] }
        """
        let twoNodes = goodNodes + "\n---\n" + goodNodes.replacingOccurrences(of: "node-1", with: "node-2")
        let dir = try tempDir(["config.yaml": config, "nodes.yaml": twoNodes, "pods.yaml": pods,
                               "bad.yaml": config.replacingOccurrences(of: "weight: 2", with: "weight: -1")])
        let r = try kubelab(["schedule", "--nodes", "\(dir)/nodes.yaml", "--pods", "\(dir)/pods.yaml", "--config", "\(dir)/config.yaml",
                             "--plugin", "plugins/schedulers/binpack.lua", "--explain", "--json"])
        #expect(r.code == 0, "\(r.stderr)")
        let j = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let explained = try #require(j["pods"] as? [[String: Any]])
        let packed = try #require(explained.first { $0["pod"] as? String == "default/packed" })
        let scores = try #require((packed["nodes"] as? [[String: Any]])?.first?["scores"] as? [[String: Any]])
        #expect(scores.map { $0["plugin"] as? String } == ["binpack"])
        #expect(scores.first?["weight"] as? Int == 2)
        let web = try #require(explained.first { $0["pod"] as? String == "default/web" })
        let webScores = try #require((web["nodes"] as? [[String: Any]])?.first?["scores"] as? [[String: Any]])
        #expect(webScores.contains { $0["plugin"] as? String == "NodeResourcesBalancedAllocation" })
        expectCleanFailure(try kubelab(["schedule", "--nodes", "\(dir)/nodes.yaml", "--pods", "\(dir)/pods.yaml", "--config", "\(dir)/bad.yaml",
                                        "--plugin", "plugins/schedulers/binpack.lua"]), code: 2,
                           contains: "bad.yaml:9: profiles[1].plugins.score.enabled[0].weight: must be a whole number of 0 or more")
        expectCleanFailure(try kubelab(["schedule", "--nodes", "\(dir)/nodes.yaml", "--pods", "\(dir)/pods.yaml", "--config", "\(dir)/config.yaml"]),
                           code: 2, contains: "profiles[1].plugins.score.enabled[0].name: unknown plugin \"binpack\"")
    }

    @Test func scheduleJsonContract() throws {
        let dir = try tempDir(["nodes.yaml": goodNodes, "pods.yaml": goodPods + "\n---\n" + goodPods.replacingOccurrences(of: "name: web", with: "name: big").replacingOccurrences(of: "500m", with: "\"64\"")])
        let r = try kubelab(["schedule", "--nodes", "\(dir)/nodes.yaml", "--pods", "\(dir)/pods.yaml", "--json"])
        #expect(r.code == 0, "\(r.stderr)")
        let j = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let placements = try #require(j["placements"] as? [String: Any])
        #expect(placements["default/web"] as? String == "node-1")
        #expect(placements["default/big"] is NSNull)
        let unsched = try #require(j["unschedulable"] as? [String: String])
        #expect(unsched["default/big"] == "0/1 nodes are available: 1 Insufficient cpu.")
    }

    @Test func labListAndGrade() throws {
        let list = try kubelab(["lab", "list"])
        #expect(list.code == 0)
        #expect(list.stdout.contains("01-first-scheduler"))
        let starter = try kubelab(["lab", "grade", "01", "--solution", "labs/01-first-scheduler/starter.lua", "--format", "json"])
        #expect(starter.code == 1, "\(starter.stderr)")
        let sj = try #require(try JSONSerialization.jsonObject(with: Data(starter.stdout.utf8)) as? [String: Any])
        #expect((sj["score"] as? Int ?? 100) < (sj["max_score"] as? Int ?? 0))
        let checks = try #require(sj["checks"] as? [[String: Any]])
        for key in ["id", "passed", "points", "max_points", "evidence", "hint"] { #expect(checks.first?[key] != nil) }
        let solution = try kubelab(["lab", "grade", "01-first-scheduler", "--solution",
                                    "Tests/KubeLabTests/Solutions/01-first-scheduler.lua", "--seeds", "1,2,3"])
        #expect(solution.code == 0, "\(solution.stdout)\(solution.stderr)")
        #expect(solution.stdout.contains("score: 100/100"))
    }
}
