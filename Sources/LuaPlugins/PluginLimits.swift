import Foundation
public import LuaHost
import KubeAPI
import SimCore

/// Every limit a plugin runs under, each a setting (`--set lua_instructions_per_call=...`).
/// The defaults fit real plugins with a wide margin: the shipped schedulers spend under a
/// hundred instructions per call against a budget of 50 million.
public struct PluginLimits: Sendable, Equatable {
    /// Per call: instructions, memory of the plugin's state, wall time backstop, pattern subjects.
    public var lua = LuaLimits()
    /// Failures in a row that switch a scheduler plugin off for the rest of the run.
    public var failuresInARow = 10
    /// Instructions a plugin may spend over a whole run before it is switched off.
    public var runInstructions = 20_000_000_000

    public init() {}

    /// The setting names, with their defaults, in the order `kubelab check` shows them.
    public static let names = [
        "lua_instructions_per_call", "lua_memory", "lua_wall_time_per_call", "lua_pattern_subject",
        "lua_failures_in_a_row", "lua_run_instructions",
    ]

    public static func isLimit(_ name: String) -> Bool { name.hasPrefix("lua_") }

    /// The current values as `name=value` pairs.
    public var settings: [(name: String, value: String)] {
        [
            ("lua_instructions_per_call", String(lua.instructionsPerCall)),
            ("lua_memory", Self.bytes(lua.memoryBytes)),
            ("lua_wall_time_per_call", Self.duration(lua.wallTimePerCall)),
            ("lua_pattern_subject", Self.bytes(lua.patternSubjectBytes)),
            ("lua_failures_in_a_row", String(failuresInARow)),
            ("lua_run_instructions", String(runInstructions)),
        ]
    }

    static func bytes(_ n: Int) -> String {
        if n > 0 && n % (1 << 30) == 0 { return "\(n >> 30)Gi" }
        if n > 0 && n % (1 << 20) == 0 { return "\(n >> 20)Mi" }
        if n > 0 && n % (1 << 10) == 0 { return "\(n >> 10)Ki" }
        return String(n)
    }

    static func duration(_ d: Duration) -> String {
        let ms = d.components.seconds * 1000 + d.components.attoseconds / 1_000_000_000_000_000
        return ms % 1000 == 0 ? "\(ms / 1000)s" : "\(ms)ms"
    }

    /// Sets one limit from its text.
    ///
    /// - Throws: `PluginError` (bad input, exit 2) naming the setting.
    public mutating func set(_ name: String, _ value: String) throws(PluginError) {
        func count(min: Int) throws(PluginError) -> Int {
            guard let q = try? Quantity(parsing: value), q.milliValue % 1000 == 0, q.value >= Int64(min), let v = Int(exactly: q.value) else {
                throw PluginError("settings.\(name): expected a whole number of at least \(min), got '\(value)'", loadFailure: false)
            }
            return v
        }
        func bytes(min: Int) throws(PluginError) -> Int {
            guard let q = try? Quantity(parsing: value), q.value >= Int64(min) else {
                throw PluginError("settings.\(name): expected a size of at least \(min) bytes like 64Mi, got '\(value)'", loadFailure: false)
            }
            return Int(q.value)
        }
        switch name {
        case "lua_instructions_per_call": lua.instructionsPerCall = try count(min: 1000)
        case "lua_memory": lua.memoryBytes = try bytes(min: 1 << 20)
        case "lua_wall_time_per_call":
            guard let d = try? SimDuration(parsing: value), d.nanoseconds > 0 else {
                throw PluginError("settings.\(name): expected a duration like 2s or 500ms, got '\(value)'", loadFailure: false)
            }
            lua.wallTimePerCall = .nanoseconds(d.nanoseconds)
        case "lua_pattern_subject": lua.patternSubjectBytes = try bytes(min: 1)
        case "lua_failures_in_a_row": failuresInARow = try count(min: 1)
        case "lua_run_instructions": runInstructions = try count(min: 1000)
        default:
            throw PluginError("unknown setting '\(name)' (known plugin limits: \(Self.names.joined(separator: ", ")))", loadFailure: false)
        }
    }
}
