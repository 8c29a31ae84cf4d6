import Foundation
import Testing
import LuaPlugins
@testable import Labs

struct LabTests {
    let labsDir = "\(repoRoot)/labs"

    @Test func everyLabLoads() throws {
        let labs = try Lab.all(in: labsDir)
        #expect(labs.map(\.name).contains("01-first-scheduler"))
        for lab in labs {
            #expect(lab.maxScore > 0)
            #expect(FileManager.default.fileExists(atPath: "\(lab.directory)/\(lab.scenario)"))
            #expect(FileManager.default.fileExists(atPath: "\(lab.directory)/README.md"))
        }
    }

    @Test func starterLoadsAndDoesNotScoreFullMarks() throws {
        for lab in try Lab.all(in: labsDir) {
            let grade = try Grader.grade(lab, solution: "\(lab.directory)/\(lab.starter)")
            #expect(grade.score < grade.max_score, "\(lab.name): the starter scores full marks")
            #expect(!grade.passed)
            #expect(grade.checks.contains { !$0.passed && !$0.hint.isEmpty })
        }
    }

    @Test func referenceSolutionsScoreFullMarksOnEverySeed() throws {
        for lab in try Lab.all(in: labsDir) {
            let solution = "\(repoRoot)/Tests/KubeLabTests/Solutions/\(lab.name).lua"
            #expect(FileManager.default.fileExists(atPath: solution), "\(lab.name) has no reference solution")
            let grade = try Grader.grade(lab, solution: solution, seeds: [1, 2, 3, 4, 5])
            #expect(grade.score == grade.max_score, "\(lab.name): \(grade.text())")
            #expect(grade.passed)
        }
    }

    @Test func evidenceNamesThePodAndNode() throws {
        let lab = try Lab.find("01", in: labsDir)
        let dir = try tempDir(["gpu-anywhere.lua": """
        return { name = "gpu-anywhere",
          filter = function(pod, node) return node.labels.gpu ~= "true" end,
          score = function(pod, node) return 100 * (node.requested.cpu + pod.requests.cpu) // node.allocatable.cpu end }
        """])
        let g = try Grader.grade(lab, solution: "\(dir)/gpu-anywhere.lua", seeds: [1])
        let gpu = try #require(g.checks.first { $0.id == "gpu-on-gpu-nodes" })
        #expect(!gpu.passed)
        #expect(gpu.evidence.hasPrefix("seed 1: pod default/train-"))
        #expect(gpu.evidence.contains("runs on node-"))
        #expect(g.checks.first { $0.id == "gpu-nodes-kept-free" }?.passed == true)
        #expect(g.checks.first { $0.id == "web-packed" }?.passed == true)
    }

    @Test func aFailingPluginFailsChecksWithTheErrorAsEvidence() throws {
        let lab = try Lab.find("01", in: labsDir)
        let dir = try tempDir(["broken.lua": """
        return { name = "broken",
          filter = function(pod, node) return pod.labels.gpu.oops end }
        """])
        let g = try Grader.grade(lab, solution: "\(dir)/broken.lua", seeds: [1, 2])
        #expect(g.score == 0)
        let errors = try #require(g.checks.first { $0.id == "no-plugin-errors" })
        #expect(!errors.passed)
        #expect(errors.evidence.contains("broken.lua:2: in filter: attempt to index a nil value (field 'gpu')"))
        // Every check fails with the failure as evidence, none passes thanks to the
        // default scheduler that took over.
        #expect(g.checks.allSatisfy { !$0.passed && $0.evidence.contains("broken.lua") })
    }

    @Test func aSolutionThatDoesNotLoadIsAPluginError() throws {
        let lab = try Lab.find("01", in: labsDir)
        let dir = try tempDir(["syntax.lua": "return {\n  filter = function(\n}\n"])
        #expect(throws: PluginError.self) { try Grader.grade(lab, solution: "\(dir)/syntax.lua", seeds: [1]) }
    }

    @Test func badLabYamlNamesTheFieldAndLine() throws {
        let dir = try tempDir(["lab.yaml": """
        title: x
        kind: scheduler
        scenario: s.lua
        checks:
          - id: a
            check: all_pods_runnin
            points: 10
        """])
        #expect {
            try Lab.load(directory: dir)
        } throws: { e in
            let m = (e as? LabError)?.message ?? ""
            return m.contains("lab.yaml:6") && m.contains("unknown check 'all_pods_runnin'")
        }
    }
}
