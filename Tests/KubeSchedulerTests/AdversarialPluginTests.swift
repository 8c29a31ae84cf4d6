import Foundation
import Testing
import LuaHost
import LuaPlugins
import KubeLab

/// One hostile or broken scheduler plugin from Adversarial/, with the outcome its first
/// line promises: `-- expect: HOOK LINE TEXT` (HOOK `load` for the top-level chunk,
/// LINE 0 when the failure is a wrong return value and has no line).
struct AdversarialCase: Sendable, CustomTestStringConvertible {
    let file: String
    let hook: String
    let line: Int
    let text: String
    var testDescription: String { file }

    static let directory = "\(repoRoot)/Tests/KubeSchedulerTests/Adversarial"

    static var all: [AdversarialCase] {
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".lua") }.sorted()
        return files.compactMap { f in
            guard let src = try? String(contentsOfFile: "\(directory)/\(f)", encoding: .utf8),
                  let first = src.split(separator: "\n").first, first.hasPrefix("-- expect: ") else { return nil }
            let parts = first.dropFirst(11).split(separator: " ", maxSplits: 2).map(String.init)
            guard parts.count == 3, let line = Int(parts[1]) else { return nil }
            return AdversarialCase(file: f, hook: parts[0], line: line, text: parts[2])
        }
    }
}

struct AdversarialPluginTests {
    /// Small budgets keep the suite quick; the verdicts are the same as with the defaults.
    static let limits = LuaLimits(instructionsPerCall: 2_000_000, memoryBytes: 32 << 20)

    @Test func thereAreAtLeastThirtyFixtures() {
        #expect(AdversarialCase.all.count >= 30)
        let files = (try? FileManager.default.contentsOfDirectory(atPath: AdversarialCase.directory)) ?? []
        #expect(AdversarialCase.all.count == files.filter { $0.hasSuffix(".lua") }.count, "a fixture has no valid expect line")
    }

    @Test(arguments: AdversarialCase.all)
    func failsCleanlyWithPluginHookAndLine(_ c: AdversarialCase) throws {
        let shown = "Adversarial/\(c.file)"
        let path = "\(AdversarialCase.directory)/\(c.file)"
        if c.hook == "load" {
            #expect {
                _ = try LoadedPlugin.load(path: path, displayPath: shown, limits: Self.limits)
            } throws: { e in
                let m = (e as? PluginError)?.message ?? ""
                return m.hasPrefix("\(shown):\(c.line): ") && m.contains(c.text)
            }
            return
        }
        let plugin = try LoadedPlugin.load(path: path, displayPath: shown, limits: Self.limits)
        let p = try pass(nodes: nodesYAML(3), pods: podsYAML(2))
        let out = p.run(plugin: plugin, seed: 1)
        let prefix = c.line > 0 ? "\(shown):\(c.line): in \(c.hook): " : "\(shown): in \(c.hook): "
        let match = out.plugin_failures.first { $0.hasPrefix(prefix) && $0.contains(c.text) }
        #expect(match != nil, "failures: \(out.plugin_failures)")
        // Every report is one bounded line.
        #expect(out.plugin_failures.allSatisfy { $0.count < 2_000 && !$0.contains("\0") })
        // The cluster is untouched: every pod is either placed by the rest of the profile or
        // reported unschedulable with the plugin's failure as the reason.
        #expect(out.placements.count == 2)
        if c.hook == "score" {
            // A failing score counts 0: the built-in filters still place every pod.
            #expect(out.unschedulable.isEmpty)
        }
    }

    /// A failing score counts 0 on every node, so next to a working plugin it changes no
    /// placement; a filter that fails on every call is switched off after 10 failures and
    /// the pass runs again without it. Either way the run is exactly the working plugin's run.
    @Test(arguments: AdversarialCase.all.filter { $0.hook == "score" || $0.hook == "filter" })
    func aFailingPluginLeavesTheOtherPluginsPlacementsUnchanged(_ c: AdversarialCase) throws {
        let workload = try pass(nodes: nodesYAML(4), pods: podsYAML(10))
        let alone = workload.run(plugin: try plugin("plugins/schedulers/binpack.lua"), seed: 7)
        let bad = try LoadedPlugin.load(path: "\(AdversarialCase.directory)/\(c.file)", displayPath: c.file, limits: Self.limits)
        let both = workload.run(plugins: [bad, try plugin("plugins/schedulers/binpack.lua")], seed: 7)
        #expect(both.placements == alone.placements)
        #expect(!both.plugin_failures.isEmpty)
        #expect(alone.plugin_failures.isEmpty)
    }

    /// Plugins the fuzzer found that once stalled the host (Fuzz/regressions/lua): each
    /// now fails cleanly, at load or in its hook, with the cause named.
    @Test func fuzzRegressionsFailCleanly() throws {
        let dir = "\(repoRoot)/Fuzz/regressions/lua"
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasSuffix(".lua") }.sorted()
        #expect(files.count >= 2)
        for f in files {
            let plugin: LoadedPlugin
            do {
                plugin = try LoadedPlugin.load(path: "\(dir)/\(f)", displayPath: f, limits: Self.limits)
            } catch {
                #expect(error.message.contains("more than 200000 values"), "\(f): \(error.message)")
                continue
            }
            let out = try pass(nodes: nodesYAML(2), pods: podsYAML(1)).run(plugin: plugin, seed: 1)
            #expect(out.plugin_failures.first?.contains("more than 200000 values") == true, "\(f): \(out.plugin_failures)")
        }
    }

    @Test func theSameStateKeepsWorkingAfterAFailure() throws {
        let plugin = try LoadedPlugin.load(source: """
        local calls = 0
        return { name = "sometimes", score = function(pod, node, state)
          calls = calls + 1
          if calls == 1 then while true do end end
          if calls == 2 then local s = "x" while true do s = s .. s end end
          return 50
        end }
        """, file: "sometimes.lua")
        let out = try pass(nodes: nodesYAML(3), pods: podsYAML(2)).run(plugin: plugin, seed: 1)
        #expect(out.plugin_failures.count == 2)
        #expect(out.unschedulable.isEmpty)
    }
}
