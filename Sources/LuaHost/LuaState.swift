internal import CLua
internal import CLuaShims

/// The Swift closure type behind ``LuaState/function(_:)``.
typealias LuaCallback = ([LuaValue]) throws(LuaCallbackError) -> [LuaValue]

/// Everything a `LuaState`, its `LuaRef`s and `LuaThread`s share. Holds the raw state.
final class StateCore {
    /// The main thread; nil once closed.
    var main: OpaquePointer?
    /// Threads currently running a Swift callback (innermost last).
    var active: [OpaquePointer] = []
    /// Lua activations (load/call/resume) currently on the Swift stack.
    var depth = 0
    var closeRequested = false
    var callbacks: [LuaCallback] = []
    var limits: LuaLimits
    var printed: [String] = []
    /// Registry slots released while no thread could safely take them.
    var pendingUnrefs: [Int32] = []
    /// What the most recent load/call/resume cost.
    var lastCost = LuaCallCost()
    var measuresTime = true
    /// Key lists shared by views of the same shape (registry slots, by the sorted keys);
    /// they live as long as the state. Capped: views of rare shapes get their own.
    var sharedKeyLists: [[String]: Int32] = [:]
    static let maxSharedKeyLists = 1024
    /// The table callEach leaves results that are not plain values in (a registry slot,
    /// made on first use, 0 before), kept for the next call instead of a new table per
    /// crossing, whose garbage would have the collector walk every view again and again;
    /// and whether a callEach is using it.
    var eachResults: Int32 = 0
    var eachResultsInUse = false
    /// callEach's buffer of raw results, with the results table: one allocation for the
    /// state instead of a zeroed block per crossing.
    var eachRaw: [klh_each_result] = []

    static let maxPrintedLines = 1000
    static let maxPrintedLineBytes = 1024

    init(limits: LuaLimits) {
        self.limits = limits
    }

    var isOpen: Bool { main != nil }

    /// The thread Swift code runs on right now: the one running the innermost callback, or
    /// the idle main thread.
    var current: OpaquePointer? {
        guard let main else { return nil }
        return active.last ?? main
    }

    func releaseSlot(_ slot: Int32) {
        guard let main else { return }
        if let L = active.last {
            if lua_checkstack(L, 2) != 0 { klh_unref(L, slot) } else { pendingUnrefs.append(slot) }
        } else if depth == 0 {
            klh_unref(main, slot)
        } else {
            pendingUnrefs.append(slot)
        }
    }

    func drainPending(_ L: OpaquePointer) {
        while let slot = pendingUnrefs.popLast() {
            klh_unref(L, slot)
        }
    }

    func close() {
        guard let L = main else { return }
        if depth > 0 {
            closeRequested = true
            return
        }
        main = nil
        active = []
        pendingUnrefs = []
        klh_state_close(L)
        callbacks = []
    }

    func appendPrinted(_ bytes: UnsafeRawBufferPointer) {
        if printed.count > Self.maxPrintedLines { return }
        if printed.count == Self.maxPrintedLines {
            printed.append("(print output truncated after \(Self.maxPrintedLines) lines)")
            return
        }
        printed.append(escapedLine(bytes))
    }

    private func escapedLine(_ bytes: UnsafeRawBufferPointer) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(min(bytes.count, Self.maxPrintedLineBytes) + 16)
        for byte in bytes {
            if out.count >= Self.maxPrintedLineBytes {
                out.append(contentsOf: Array(" ...(truncated)".utf8))
                break
            }
            switch byte {
            case 9: out.append(9)
            case 10: out.append(contentsOf: [92, 110])  // \n
            case 13: out.append(contentsOf: [92, 114])  // \r
            case 0..<32, 127:
                out.append(contentsOf: Array("\\x".utf8))
                out.append(contentsOf: Array(hex2(byte).utf8))
            default: out.append(byte)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private func hex2(_ byte: UInt8) -> String {
        let digits = Array("0123456789ABCDEF")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 15)]])
    }
}

/// A sandboxed Lua 5.4 state.
///
/// The environment is built from an allow-list: base (without `dofile` and `loadfile`;
/// `load` forces text mode, the chunk name `=(load)` and the sandbox environment by default),
/// string (`string.dump` removed from the real string table, the string metatable hidden
/// with `__metatable = false`, `string.rep` capped), table, math (`math.random` seeded from
/// `seed`; `math.randomseed()` without arguments reseeds from `seed`), utf8 and coroutine
/// (`create`/`wrap` arm the budget hook on every new coroutine). There is no io, os,
/// package, require or debug. `collectgarbage` accepts only `"count"`; `print` appends to
/// ``printed``; `setmetatable` refuses metatables with `__gc` or `__close`; `rawset`
/// refuses read-only views.
///
/// Nothing prints an address: `tostring` (and `print`, and `string.format`'s `%s`) give
/// `"table"`, `"function"`, `"thread"` or `"userdata"` for reference values, or the string
/// `__name` of their metatable, unless a `__tostring` metamethod says otherwise;
/// `string.format("%p", ...)` raises `"string.format: '%p' is not allowed"`.
/// `string.find`, `match`, `gmatch` and `gsub` run a step-counted matcher with Lua 5.4's
/// semantics whose steps are charged to the instruction budget (see ``LuaLimits``).
///
/// Every run of Lua code (``load(source:chunkName:)``, ``call(_:_:)``,
/// ``LuaThread/resume(_:)``) gets a fresh instruction budget and wall-time backstop
/// (``LuaLimits``), unless it is started from inside a Swift callback, where it continues
/// the budgets of the enclosing run. ``lastCallCost`` reports what the last one cost.
/// A state is not thread-safe: use it from one thread at a time. Closures registered with
/// ``function(_:)`` live until the state is closed, so call ``close()`` (or drop the state)
/// to free them, also when they capture the state itself.
public final class LuaState {
    let core: StateCore

    /// A new sandboxed state whose `math.random` sequence is derived from `seed`.
    public init(seed: UInt64 = 0, limits: LuaLimits = LuaLimits()) throws {
        let core = StateCore(limits: limits)
        self.core = core
        let owner = Unmanaged.passUnretained(core).toOpaque()
        let opened = klh_state_open(
            Self.byteCount(limits.memoryBytes), Int64(max(1, limits.instructionsPerCall)),
            Int64(bitPattern: seed), owner,
            { L, owner, id in
                guard let L, let owner else { return -2 }
                return Unmanaged<StateCore>.fromOpaque(owner).takeUnretainedValue().dispatch(L, id)
            },
            { owner, text, len in
                guard let owner, let text else { return }
                Unmanaged<StateCore>.fromOpaque(owner).takeUnretainedValue()
                    .appendPrinted(UnsafeRawBufferPointer(start: text, count: len))
            })
        guard let opened else {
            throw LuaError(kind: .memory, message: "cannot create a Lua state")
        }
        core.main = opened
        klh_set_pattern_subject_limit(opened, limits.patternSubjectCap)
    }

    deinit {
        core.close()
    }

    static func byteCount(_ bytes: Int) -> Int {
        max(0, bytes)
    }

    /// The limits applied to the next run of Lua code (memory changes apply at once).
    public var limits: LuaLimits {
        get { core.limits }
        set {
            core.limits = newValue
            if let main = core.main {
                klh_set_memory_limit(main, Self.byteCount(newValue.memoryBytes))
                klh_set_pattern_subject_limit(main, newValue.patternSubjectCap)
            }
        }
    }

    /// Lines written by `print` (tab-separated arguments, control bytes escaped, at most
    /// 1000 lines of about 1 KiB, then one truncation notice). Never written to stdout.
    public var printed: [String] {
        get { core.printed }
        set { core.printed = newValue }
    }

    /// Sets a global of the sandbox environment (a raw write).
    public func setGlobal(_ name: String, _ value: LuaValue) throws(LuaError) {
        guard let L = core.current else { throw StateCore.closedError }
        let top = lua_gettop(L)
        defer { lua_settop(L, top) }
        guard lua_checkstack(L, 4) != 0 else {
            throw LuaError(kind: .runtime, message: "Lua stack overflow")
        }
        klh_push_globals(L)
        try core.push(value, on: L, root: "global '\(name)'")
        withBytes(name) { ptr, count in klh_rawset_string(L, -2, ptr, count) }
    }

    /// Runs a full garbage collection and returns the bytes the state has allocated
    /// (0 once closed).
    public var memoryInUse: Int {
        guard let main = core.main else { return 0 }
        klh_full_gc(main)
        return klh_memory_used(main)
    }

    /// Test support: sets the global `name` to a table holding the stock `string.find`,
    /// `match`, `gmatch`, `gsub`, `format` and `tostring` that the sandbox replaced, so
    /// tests can compare the two.
    func exposeStockStringFunctions(as name: String) {
        guard let L = core.current, lua_checkstack(L, 4) != 0 else { return }
        withBytes(name) { ptr, count in klh_expose_stock_strings(L, ptr, count) }
    }

    /// Closes the state (idempotent; also done on deinit). When called from inside a Swift
    /// callback the state closes as soon as the outermost run of Lua code returns.
    /// Afterwards every operation throws, `LuaRef`s release nothing, and registered Swift
    /// closures are dropped.
    public func close() {
        core.close()
    }
}

/// Calls `body` with the UTF-8 bytes of `string` as a C pointer and length.
func withBytes<R>(_ string: String, _ body: (UnsafePointer<CChar>?, Int) -> R) -> R {
    var s = string
    return s.withUTF8 { buf in
        buf.withMemoryRebound(to: CChar.self) { body($0.baseAddress, $0.count) }
    }
}
