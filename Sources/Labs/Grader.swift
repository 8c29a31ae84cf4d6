import Foundation
public import KubeLab
import LuaPlugins
import SimCore

/// One check's grade over every seed.
public struct CheckGrade: Codable, Sendable {
    public var id: String
    public var passed: Bool
    public var points: Int
    public var max_points: Int
    public var evidence: String
    public var hint: String
}

/// A lab's grade; `--format json` writes it.
public struct Grade: Codable, Sendable, StableJSON {
    public var lab: String
    public var title: String
    public var solution: String
    public var seeds: [UInt64]
    public var score: Int
    public var max_score: Int
    public var checks: [CheckGrade]

    public var passed: Bool { checks.allSatisfy(\.passed) }


    public func text() -> String {
        var out = "\(lab) — \(title)\nsolution: \(solution)   seeds: \(seeds.map(String.init).joined(separator: ","))\n\n"
        for c in checks {
            out += "\(c.passed ? "PASS" : "FAIL")  \(c.id)  \(c.points)/\(c.max_points)\n      \(c.evidence)\n"
            if !c.passed && !c.hint.isEmpty { out += "      hint: \(c.hint)\n" }
        }
        out += "\nscore: \(score)/\(max_score)\n"
        return out
    }
}

/// Grades a solution: runs the lab's scenario with the solution plugin on every seed and
/// evaluates every check on every run. A check passes when it passes on every seed.
public enum Grader {
    /// - Throws: `LabError` for a broken lab, `PluginError` when the solution or the
    ///   scenario cannot be loaded.
    public static func grade(_ lab: Lab, solution: String, solutionDisplay: String? = nil,
                             seeds: [UInt64]? = nil) throws -> Grade {
        let seedList = seeds ?? lab.seeds
        guard !seedList.isEmpty else { throw LabError("no seeds to grade") }
        let until: SimDuration
        do { until = try SimDuration(parsing: lab.until) } catch { throw LabError("\(lab.directory)/lab.yaml: until: \(error.description)") }
        var outcomes: [[CheckOutcome]] = Array(repeating: [], count: lab.checks.count)
        for seed in seedList {
            // Fresh states per seed: nothing leaks between the runs of a grading.
            let sol = try LoadedPlugin.load(path: solution, displayPath: solutionDisplay ?? solution, seed: seed)
            guard sol.kind == .scheduler else {
                throw PluginError("\(sol.file): lab \(lab.name) wants a \(lab.kind) plugin, but this one is a \(sol.kind.rawValue) plugin")
            }
            let scenarioPath = "\(lab.directory)/\(lab.scenario)"
            let sc = try LuaScenario(LoadedPlugin.load(path: scenarioPath, seed: seed))
            let runner = try ScenarioRunner(scenario: sc, scheduler: sol, options: RunOptions(seed: seed, until: until),
                                            scenarioDirectory: lab.directory)
            let result = runner.run()
            // A solution that kept failing was switched off and the default scheduler
            // placed the pods: that run is the plugin's failure, not its success.
            if let off = runner.schedulerPlugins.compactMap(\.switchedOff).first {
                for i in lab.checks.indices { outcomes[i].append(CheckOutcome(passed: false, evidence: off)) }
                continue
            }
            for (i, c) in lab.checks.enumerated() { outcomes[i].append(CheckLibrary.evaluate(c, on: result)) }
        }
        var grades: [CheckGrade] = []
        for (i, c) in lab.checks.enumerated() {
            let failing = zip(seedList, outcomes[i]).first { !$0.1.passed }
            let passed = failing == nil
            let evidence = failing.map { "seed \($0.0): \($0.1.evidence)" } ?? (outcomes[i].first?.evidence ?? "")
            grades.append(CheckGrade(id: c.id, passed: passed, points: passed ? c.points : 0, max_points: c.points,
                                     evidence: evidence, hint: c.hint))
        }
        return Grade(lab: lab.name, title: lab.title, solution: solutionDisplay ?? solution, seeds: seedList,
                     score: grades.reduce(0) { $0 + $1.points }, max_score: lab.maxScore, checks: grades)
    }
}
