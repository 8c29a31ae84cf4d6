import Foundation
public import SimCore
public import LuaHost

/// Why a plugin could not be used. `isLoadFailure` errors exit with code 3 (the plugin
/// failed to load); the others are bad input (exit 2).
public struct PluginError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public let isLoadFailure: Bool
    public init(_ message: String, loadFailure: Bool = true) { self.message = message; self.isLoadFailure = loadFailure }
    public var description: String { message }
}

/// What the plugin sees of the run: the clock and the event log. Set by the runner once
/// the cluster exists.
public final class PluginContext {
    public var now: () -> SimTime = { .zero }
    public var log: (String) -> Void = { _ in }
    public init() {}
}

/// The kind of a plugin, from the hooks it defines.
public enum PluginKind: String, Sendable {
    case scheduler, controller, scenario
}

/// A plugin file loaded into its own sandboxed Lua state (the Redis Functions model: the
/// chunk runs once, its table is checked, hooks are kept by reference).
public final class LoadedPlugin {
    public let state: LuaState
    /// The plugin's `name`, or the file name without extension.
    public let name: String
    /// Repository-relative path, as error messages show it.
    public let file: String
    public let kind: PluginKind
    /// Top-level fields of the returned table and their Lua types.
    public let fields: [String: String]
    /// Data fields (cluster, settings, weight, description) as values.
    public let data: [String: LuaValue]
    let dispatch: LuaRef
    let start: LuaRef
    /// Scheduler hooks are called with the cycle's `state` table after their arguments.
    let dispatchWithState: LuaRef
    /// `lazy(fetch)`: an `__index` for view contents that computes a field on first use.
    let lazyField: LuaRef
    /// The plugin's hook functions by name, as the chunk returned them (called by reference).
    let hookFunctions: [String: LuaRef]
    public let context: PluginContext

    public static let schedulerHooks: Set<String> = [
        "filter", "score", "queue_sort", "prefilter", "postfilter", "prescore", "normalize", "reserve", "unreserve",
        "permit", "prebind", "bind", "postbind",
    ]
    public static let controllerHooks: Set<String> = ["reconcile"]
    public static let scenarioHooks: Set<String> = ["run"]
    public static let dataFields: Set<String> = ["name", "cluster", "settings", "weight", "description", "watch", "permissions", "replaces"]

    /// Hooks the plugin defines, sorted.
    public var hooks: [String] {
        fields.keys.filter { fields[$0] == "function" }.sorted()
    }

    public func has(_ hook: String) -> Bool { fields[hook] == "function" }

    /// Loads a plugin from a file.
    ///
    /// - Parameters:
    ///   - path: where to read it.
    ///   - displayPath: the name used in messages (repository-relative); defaults to `path`.
    /// - Throws: `PluginError` (bad input for an unreadable file, load failure otherwise).
    public static func load(path: String, displayPath: String? = nil, seed: UInt64 = 0,
                            limits: PluginLimits) throws(PluginError) -> LoadedPlugin {
        let p = try load(path: path, displayPath: displayPath, seed: seed, limits: limits.lua)
        p.runLimits = limits
        return p
    }

    /// Loads a plugin from a file with per-call limits only (run limits at their defaults).
    public static func load(path: String, displayPath: String? = nil, seed: UInt64 = 0,
                            limits: LuaLimits = LuaLimits()) throws(PluginError) -> LoadedPlugin {
        let shown = displayPath ?? path
        return try load(source: source(path: path, shown: shown), file: shown, seed: seed, limits: limits)
    }

    /// A plugin file's text.
    static func source(path: String, shown: String) throws(PluginError) -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            let exists = FileManager.default.fileExists(atPath: path)
            throw PluginError("\(shown): cannot read the plugin file (\(exists ? "permission denied or a folder" : "no such file"))",
                              loadFailure: false)
        }
        guard let source = String(data: data, encoding: .utf8) else {
            throw PluginError("\(shown): the plugin file is not UTF-8 text")
        }
        return source
    }

    /// Loads a plugin from source text; `file` names it in messages. A file that returns a
    /// set of plugins is refused here: see `loadAll`.
    public static func load(source: String, file: String, seed: UInt64 = 0,
                            limits: LuaLimits = LuaLimits()) throws(PluginError) -> LoadedPlugin {
        let all = try loadAll(source: source, file: file, seed: seed, limits: limits)
        guard all.count == 1 else {
            throw PluginError("\(file): returns a set of \(all.count) scheduler plugins; give it with --plugin or --scheduler", loadFailure: false)
        }
        return all[0]
    }

    /// Loads the plugins of a file: one, or every plugin of a set (a file that returns an
    /// array of scheduler plugin tables, which share the file's Lua state and its locals).
    public static func loadAll(path: String, displayPath: String? = nil, seed: UInt64 = 0,
                               limits: PluginLimits) throws(PluginError) -> [LoadedPlugin] {
        let shown = displayPath ?? path
        let all = try loadAll(source: try source(path: path, shown: shown), file: shown, seed: seed, limits: limits.lua)
        for p in all { p.runLimits = limits }
        return all
    }

    /// Loads the plugins of source text (one, or every plugin of a set); `file` names them
    /// in messages.
    public static func loadAll(source: String, file: String, seed: UInt64 = 0,
                               limits: LuaLimits = LuaLimits()) throws(PluginError) -> [LoadedPlugin] {
        let state: LuaState
        do { state = try LuaState(seed: seed, limits: limits) } catch {
            throw PluginError("\(file): cannot create a Lua state: \(error)")
        }
        let context = PluginContext()
        do {
            try state.setGlobal("kubelab", KubelabModule.make(state: state, context: context))
        } catch {
            throw PluginError("\(file): cannot install the kubelab module: \(error.message)")
        }
        let results: [LuaValue]
        do {
            let prelude = try state.load(source: Self.prelude, chunkName: "(kubelab)")
            guard case .function(let loader)? = prelude.first else {
                throw PluginError("\(file): internal error: the plugin prelude returned no function")
            }
            // The plugin's text becomes the body of a function, on the same lines, so that
            // compiling it runs nothing and its returned table stays a Lua table (with any
            // data a plugin keeps in it) instead of being converted.
            let compiled = try state.load(source: "return function(...) " + source + "\nend", chunkName: file)
            guard case .function(let chunk)? = compiled.first else {
                throw PluginError("\(file): internal error: the plugin did not compile to a function")
            }
            state.allowTwins(ifNoKeyedWritesIn: chunk)
            results = try state.call(loader, [.function(chunk), .string(file)])
        } catch let e as PluginError {
            throw e
        } catch let e as LuaError {
            throw PluginError(Self.clean(e.message))
        } catch {
            throw PluginError("\(file): \(error)")
        }
        guard case .map(let top)? = results.first else {
            throw PluginError("\(file): internal error: the plugin prelude returned no descriptor")
        }
        guard let set = top["set"] else {
            return [try make(top, state: state, file: file, context: context, limits: limits, inSet: false)]
        }
        var plugins: [LoadedPlugin] = []
        for d in set.arrayValue ?? [] {
            guard case .map(let desc) = d else { continue }
            let p = try make(desc, state: state, file: file, context: context, limits: limits, inSet: true)
            guard p.kind == .scheduler else {
                throw PluginError("\(file): plugin \(plugins.count + 1) of the set is a \(p.kind.rawValue) plugin; a set holds scheduler plugins only")
            }
            if plugins.contains(where: { $0.name == p.name }) {
                throw PluginError("\(file): two plugins of the set are named \"\(p.name)\"; each needs its own name")
            }
            plugins.append(p)
        }
        if plugins.isEmpty { throw PluginError("\(file): the set of plugins is empty") }
        return plugins
    }

    /// One plugin from its prelude descriptor. A plugin of a set must have a `name`.
    private static func make(_ desc: [String: LuaValue], state: LuaState, file: String, context: PluginContext,
                             limits: LuaLimits, inSet: Bool) throws(PluginError) -> LoadedPlugin {
        guard case .function(let dispatch)? = desc["dispatch"], case .function(let start)? = desc["start"],
              case .function(let dispatchWithState)? = desc["dispatch_with_state"], case .function(let lazy)? = desc["lazy"] else {
            throw PluginError("\(file): internal error: the plugin prelude returned no descriptor")
        }
        var fields: [String: String] = [:]
        for (k, v) in desc["fields"]?.mapValue ?? [:] { fields[k] = v.stringValue ?? "?" }
        let dataFields = desc["data"]?.mapValue ?? [:]
        let globals = (desc["globals"]?.arrayValue ?? []).compactMap(\.stringValue)
        let kind: PluginKind
        if fields["run"] == "function" {
            kind = .scenario
        } else if fields["reconcile"] == "function" {
            kind = .controller
        } else if fields.keys.contains(where: { schedulerHooks.contains($0) && fields[$0] == "function" }) {
            kind = .scheduler
        } else {
            throw PluginError("\(file): the plugin defines no hook (a scheduler defines filter or score, a controller reconcile, a scenario run)")
        }
        for hook in schedulerHooks.union(controllerHooks).union(scenarioHooks).sorted()
        where fields[hook] != nil && fields[hook] != "function" {
            throw PluginError("\(file): hook '\(hook)' must be a function, got a \(fields[hook] ?? "?") value")
        }
        var name = URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
        if let n = dataFields["name"] {
            guard case .string(let s) = n, !s.isEmpty else {
                throw PluginError("\(file): field 'name' must be a non-empty string, got a \(n.typeName) value")
            }
            name = s
        } else if inSet {
            throw PluginError("\(file): every plugin of a set needs a 'name'")
        }
        var hookFunctions: [String: LuaRef] = [:]
        for (k, v) in desc["hooks"]?.mapValue ?? [:] { if case .function(let f) = v { hookFunctions[k] = f } }
        let plugin = LoadedPlugin(state: state, name: name, file: file, kind: kind, fields: fields, data: dataFields,
                                  dispatch: dispatch, dispatchWithState: dispatchWithState, lazyField: lazy,
                                  hookFunctions: hookFunctions, start: start, context: context, globalsWritten: globals)
        plugin.runLimits.lua = limits
        return plugin
    }

    init(state: LuaState, name: String, file: String, kind: PluginKind, fields: [String: String],
         data: [String: LuaValue], dispatch: LuaRef, dispatchWithState: LuaRef, lazyField: LuaRef,
         hookFunctions: [String: LuaRef], start: LuaRef, context: PluginContext, globalsWritten: [String]) {
        self.state = state; self.name = name; self.file = file; self.kind = kind; self.fields = fields
        self.data = data; self.dispatch = dispatch; self.dispatchWithState = dispatchWithState
        self.lazyField = lazyField; self.hookFunctions = hookFunctions; self.start = start; self.context = context
        self.globalsWritten = globalsWritten
    }

    /// The limits of a run: failures in a row and the run's instruction budget (and the
    /// per-call limits the state was created with).
    public internal(set) var runLimits = PluginLimits()

    /// Globals the top-level chunk created or replaced, sorted (usually a missing `local`).
    public let globalsWritten: [String]

    /// Calls a hook through the dispatcher; `fresh` starts a new per-cycle `state` table.
    public func call(_ hook: String, fresh: Bool, _ args: [LuaValue]) throws(LuaError) -> [LuaValue] {
        try state.call(dispatch, [.string(hook), .boolean(fresh)] + args)
    }

    /// Calls a scheduler hook with one or two arguments followed by the table `cycleState`
    /// (`prefilter(pod, state)`, `permit(pod, node, state)`, ...).
    public func call(_ hook: String, state cycleState: LuaRef, _ args: [LuaValue]) throws(LuaError) -> [LuaValue] {
        return try state.call(dispatchWithState, [.string(hook), .function(cycleState), .integer(Int64(args.count))] + args)
    }

    /// The Lua function of a hook, to call by reference.
    public func hookFunction(_ hook: String) -> LuaRef? { hookFunctions[hook] }

    /// An `__index` function for ``LuaState/setLazyField(of:key:index:)`` that computes the
    /// field `key` once per view with `fetch(content.name)` and keeps it in the view.
    public func lazyIndex(key: String, fetch: LuaValue) throws(LuaError) -> LuaRef? {
        guard case .function(let f)? = try state.call(lazyField, [.string(key), fetch]).first else { return nil }
        return f
    }

    /// "plugins/x.lua:12: in score: attempt to ..." from a Lua error raised in `hook`.
    public func describe(_ error: LuaError, hook: String) -> String {
        var msg = Self.clean(error.message)
        // An error re-raised through coroutine.wrap carries two positions: keep the inner one,
        // where it really happened.
        while let (_, rest) = Self.splitPosition(msg), Self.splitPosition(rest) != nil { msg = rest }
        if let (pos, rest) = Self.splitPosition(msg) { return "\(pos): in \(hook): \(rest)" }
        // Errors without a position in their text (error(nil), error({}), out of memory)
        // still know the plugin frame they came from.
        if let chunk = error.chunk, chunk != "(kubelab)", let line = error.line, line > 0 {
            return "\(chunk):\(line): in \(hook): \(msg)"
        }
        return "\(file): in \(hook): \(msg)"
    }

    /// The Lua traceback of `error` with the runtime's own frames left out, indented, or ""
    /// when it shows nothing of the plugin.
    public func traceback(_ error: LuaError) -> String {
        var frames = error.traceback.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && $0 != "stack traceback:" && !$0.hasPrefix("(kubelab)") && !$0.hasPrefix("[C]") }
        // The runtime calls hooks through a tail call; that marker says nothing to the author.
        while frames.last == "(...tail calls...)" { frames.removeLast() }
        guard frames.contains(where: { $0.hasPrefix(file) }) else { return "" }
        return frames.map { "    " + $0 }.joined(separator: "\n")
    }

    /// Splits "file:12: message" into ("file:12", "message").
    static func splitPosition(_ msg: String) -> (String, String)? {
        guard let r = msg.range(of: #"^[^\s:][^:\n]*:\d+: "#, options: .regularExpression) else { return nil }
        return (String(msg[r].dropLast(2)), String(msg[r.upperBound...]))
    }

    /// Removes the prelude's own position from messages, keeps the plugin's.
    static func clean(_ msg: String) -> String {
        var m = msg
        while m.hasPrefix("(kubelab):"), let r = m.range(of: #"^\(kubelab\):\d+: "#, options: .regularExpression) {
            m.removeSubrange(r)
        }
        return m
    }

    /// Runs inside the plugin's own state. It runs the compiled plugin chunk once,
    /// describes the returned table, and returns the dispatcher
    /// (hooks share one `state` table per scheduling cycle) and the scenario starter.
    static let prelude = #"""
    return function(chunk, chunkname)
    local rawget, rawset, type, next = rawget, rawset, type, next
    local before = {}
    for k, v in next, _G do before[k] = v end
    local plugin = chunk()
    local globals = {}
    for k, v in next, _G do
      if not rawequal(before[k], v) then globals[#globals + 1] = tostring(k) end
    end
    table.sort(globals)
    if type(plugin) ~= "table" then
      error(chunkname .. ": a plugin must return a table, got " .. type(plugin), 0)
    end
    local function describe(plugin)
      local fields, data = {}, {}
      for k, v in next, plugin do
        if type(k) == "string" then fields[k] = type(v) end
      end
      for _, k in ipairs({ "name", "cluster", "settings", "weight", "description", "watch", "permissions", "replaces" }) do
        local v = rawget(plugin, k)
        if v ~= nil and type(v) ~= "function" then data[k] = v end
      end
      local hooks = {}
      for k, v in next, plugin do
        if type(k) == "string" and type(v) == "function" then hooks[k] = v end
      end
      local state = {}
      local function dispatch(hook, fresh, a, b, c)
        if fresh then state = {} end
        return plugin[hook](a, b, c or state)
      end
      local function dispatch_with_state(hook, st, n, a, b)
        if n == 1 then return plugin[hook](a, st) end
        return plugin[hook](a, b, st)
      end
      local function lazy(key, fetch)
        return function(content, k)
          if k ~= key then return nil end
          local v = fetch(rawget(content, "name"))
          rawset(content, k, v)
          return v
        end
      end
      local yield = coroutine.yield
      local function strip(msg)
        if type(msg) == "string" then return (msg:gsub("^[^:\n]*:%d+: ", "", 1)) end
        return msg
      end
      local function start(host)
        local k = {}
        for name, fn in next, host do k[name] = fn end
        local function seconds(d, what)
          local ok, v = pcall(host.seconds, d, what)
          if not ok then error(strip(v), 3) end
          return v
        end
        k.seconds = nil
        k.sleep = function(d)
          local s = seconds(d, "k.sleep")
          local ok, e = yield("sleep", s)
          if not ok then error(e, 2) end
        end
        k.wait_until = function(fn, timeout, poll)
          if type(fn) ~= "function" then error("k.wait_until: the first argument must be a function", 2) end
          local limit = seconds(timeout or "10m", "k.wait_until timeout")
          local step = seconds(poll or "100ms", "k.wait_until poll")
          local deadline = host.now() + limit
          while true do
            if fn() then return true end
            if host.now() >= deadline then return false end
            yield("sleep", step)
          end
        end
        setmetatable(k, { __index = function(_, key)
          error("unknown scenario function 'k." .. tostring(key) .. "'", 2)
        end })
        return plugin.run(k)
      end
      return { fields = fields, data = data, dispatch = dispatch, start = start, globals = globals, hooks = hooks,
               dispatch_with_state = dispatch_with_state, lazy = lazy }
    end
    -- A set of plugins: an array of plugin tables (no string keys), sharing this state.
    if rawget(plugin, 1) ~= nil then
      local set, extra = {}, {}
      for k in next, plugin do
        if math.type(k) ~= "integer" or k < 1 or k > #plugin then extra[#extra + 1] = tostring(k) end
      end
      table.sort(extra)
      if #extra > 0 then
        error(chunkname .. ": a set of plugins is an array of plugin tables; it cannot also have the key " .. extra[1], 0)
      end
      for i = 1, #plugin do
        if type(plugin[i]) ~= "table" then
          error(chunkname .. ": plugin " .. i .. " of the set must be a table, got " .. type(plugin[i]), 0)
        end
        set[i] = describe(plugin[i])
      end
      return { set = set }
    end
    return describe(plugin)
    end
    """#
}
