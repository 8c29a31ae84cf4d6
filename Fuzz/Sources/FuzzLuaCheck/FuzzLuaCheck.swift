// Feeds arbitrary bytes as plugin source to the loader `kubelab check` uses
// (LoadedPlugin.load(source:file:), Sources/LuaPlugins/PluginLoader.swift), then does the
// cheap part of what `check` does next: reads a scenario's cluster, and calls each scheduler
// or controller hook once with no cluster objects (nil arguments). PluginError, LuaError and
// the other thrown errors are expected; a trap, a crash or an ASan report is a finding.
//
// The limits are lower than the defaults (50M instructions, 64 MiB, 2 s) so that the many
// inputs that loop forever, allocate without end or grow a string one byte at a time (C work
// only the wall-time backstop stops) cost milliseconds, not seconds; the code paths that
// enforce them are the same.
import LuaHost
import LuaPlugins

private let limits = LuaLimits(
    instructionsPerCall: 1_000_000, memoryBytes: 16 << 20, wallTimePerCall: .milliseconds(250),
    patternSubjectBytes: 64 << 10)

private let hookOrder = LoadedPlugin.schedulerHooks.union(LoadedPlugin.controllerHooks).sorted()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let source = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let plugin: LoadedPlugin
    do { plugin = try LoadedPlugin.load(source: source, file: "fuzz.lua", seed: 1, limits: limits) } catch {
        _ = error.message
        return 0
    }
    _ = plugin.hooks
    _ = plugin.globalsWritten
    switch plugin.kind {
    case .scenario:
        do {
            let scenario = try LuaScenario(plugin)
            _ = try scenario.cluster.nodes()
        } catch {
            _ = error.message
        }
    case .scheduler, .controller:
        for hook in hookOrder where plugin.has(hook) {
            do { _ = try plugin.call(hook, fresh: true, []) } catch {
                _ = plugin.describe(error, hook: hook)
            }
        }
    }
    plugin.state.close()
    return 0
}
