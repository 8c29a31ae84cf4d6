import ArgumentParser
import Foundation
import LuaPlugins

struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Load a plugin in the sandbox and report its kind, hooks and problems.")

    @Argument(help: "The plugin file.") var plugin: String

    func run() throws {
        let p = try loadPlugin(plugin, seed: 1)
        print("plugin   \(p.name)")
        print("file     \(p.file)")
        print("kind     \(p.kind.rawValue)")
        print("hooks    \(p.hooks.joined(separator: ", "))")
        var warnings: [String] = []
        let known: Set<String> = LoadedPlugin.schedulerHooks.union(LoadedPlugin.controllerHooks)
            .union(LoadedPlugin.scenarioHooks).union(LoadedPlugin.dataFields)
        for f in p.fields.keys.sorted() where !known.contains(f) {
            let suggestion = known.min { editDistance($0, f) < editDistance($1, f) }
            if let s = suggestion, editDistance(s, f) <= 2 {
                warnings.append("unknown field '\(f)': did you mean '\(s)'?")
            } else {
                warnings.append("unknown field '\(f)' (ignored)")
            }
        }
        if p.data["name"] == nil { warnings.append("no 'name' field: the file name '\(p.name)' is used") }
        if p.kind == .scenario {
            do { _ = try LuaScenario(p) } catch { throw Failure(Exit.badInput, error.message) }
        }
        for w in warnings { print("warning  \(w)") }
        if !warnings.isEmpty { throw ExitCode(Exit.checksFailed) }
        print("ok")
    }
}

/// Levenshtein distance, for "did you mean" suggestions.
func editDistance(_ a: String, _ b: String) -> Int {
    let x = Array(a), y = Array(b)
    if x.isEmpty { return y.count }
    if y.isEmpty { return x.count }
    var prev = Array(0...y.count)
    for i in 1...x.count {
        var cur = [i] + Array(repeating: 0, count: y.count)
        for j in 1...y.count {
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x[i - 1] == y[j - 1] ? 0 : 1))
        }
        prev = cur
    }
    return prev[y.count]
}
