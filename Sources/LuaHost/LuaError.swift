/// An error reported by a Lua state: compile errors, runtime errors, budget and memory
/// verdicts, and value conversion failures.
public struct LuaError: Error, CustomStringConvertible, Equatable {
    /// What went wrong.
    public enum Kind: String, Sendable {
        /// The source did not compile (or was a binary chunk).
        case syntax
        /// A Lua runtime error, including errors raised by Swift callbacks.
        case runtime
        /// The state's memory limit was reached.
        case memory
        /// The instruction budget of the call was spent.
        case budget
        /// A value could not be converted between Lua and Swift.
        case conversion
        /// `coroutine.yield` was called where it cannot yield (outside a coroutine or
        /// across a C-call boundary).
        case yield
    }

    /// What went wrong.
    public var kind: Kind
    /// The Lua message with its position, e.g. `plugins/x.lua:12: attempt to ...`;
    /// truncated to about 1 KiB, control bytes escaped (`\n`, `\xHH`).
    public var message: String
    /// The chunk name without '@' (e.g. `plugins/x.lua`) of the innermost frame that belongs
    /// to a file chunk, when known.
    public var chunk: String?
    /// The line in `chunk`, when known.
    public var line: Int?
    /// A short Lua traceback (`stack traceback:\n\t...`), or "" when none. Never addresses.
    public var traceback: String

    /// Creates an error.
    public init(kind: Kind, message: String, chunk: String? = nil, line: Int? = nil, traceback: String = "") {
        self.kind = kind
        self.message = message
        self.chunk = chunk
        self.line = line
        self.traceback = traceback
    }

    /// The message.
    public var description: String { message }
}

/// Thrown by a Swift closure registered with ``LuaState/function(_:)`` to raise a Lua error
/// in the calling Lua code (the message gets the caller's position as prefix).
public struct LuaCallbackError: Error {
    /// The message raised in Lua.
    public var message: String

    /// Creates an error with `message`.
    public init(_ message: String) {
        self.message = message
    }
}

/// Per-state resource limits.
public struct LuaLimits: Sendable, Equatable {
    /// Lua VM instructions allowed per `load`, `call` or `resume` (checked every 1000
    /// instructions; C work of `string.rep` and `table.move` is charged too).
    public var instructionsPerCall: Int
    /// Bytes the state may allocate in total while Lua code runs (hard cap of the allocator;
    /// a soft limit at 7/8 of it is checked after a full collection in the count hook).
    public var memoryBytes: Int

    /// Creates limits; the defaults are 50 million instructions and 64 MiB.
    public init(instructionsPerCall: Int = 50_000_000, memoryBytes: Int = 64 << 20) {
        self.instructionsPerCall = instructionsPerCall
        self.memoryBytes = memoryBytes
    }
}

/// The outcome of ``LuaThread/resume(_:)``.
public enum LuaResumeResult: Equatable {
    /// The coroutine yielded these values and can be resumed again.
    case yielded([LuaValue])
    /// The coroutine's function returned these values; the thread is finished.
    case returned([LuaValue])
}
