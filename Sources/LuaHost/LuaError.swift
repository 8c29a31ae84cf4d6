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
    ///
    /// For `.memory` errors at the allocator's hard cap (Lua unwinds the stack without a
    /// message handler) `chunk`, `line` and the message prefix come from the last position
    /// recorded in this `load`/`call`/`resume`: exact when the refusal happened in a file
    /// chunk's function, otherwise approximate — where the count hook last fired, at most
    /// 1000 instructions before the failure.
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
///
/// The instruction budget is the verdict: it counts VM instructions plus the C work of
/// `string.rep`, `table.move` and the pattern functions, so a plugin that runs out does so
/// at the same point with the same message on every machine and every run. The wall-time
/// limit is only a backstop for C work nothing charges (a loop of large `s:upper()` calls,
/// a very slow machine); its verdict depends on the machine, so keep it well above what the
/// instruction budget allows.
public struct LuaLimits: Sendable, Equatable {
    /// Lua VM instructions allowed per `load`, `call` or `resume` (checked every 1000
    /// instructions; C work of `string.rep`, `table.move` and the pattern functions is
    /// charged too).
    public var instructionsPerCall: Int
    /// Bytes the state may allocate in total while Lua code runs (hard cap of the allocator;
    /// a soft limit at 7/8 of it is checked after a full collection in the count hook).
    public var memoryBytes: Int
    /// Wall-clock time allowed per `load`, `call` or `resume` (monotonic clock, checked in
    /// the count hook, so at least every 1000 instructions, and when large C work is
    /// charged). Exceeding it is a sticky `.budget` error
    /// `"<chunk>:<line>: wall time budget exceeded (2s)"`. Zero or less turns it off.
    public var wallTimePerCall: Duration
    /// Longest subject (bytes) that `string.find`, `match`, `gmatch` and `gsub` accept with
    /// a non-plain pattern; longer ones raise `"string.find: subject too long for a pattern
    /// (N bytes, limit L)"`. Plain searches (`find` with `plain` = true, or a pattern
    /// without any of `^$*+?.([%-`) are never refused. Every pattern search is also
    /// charged to the instruction budget step by step, whatever its length. Zero or less
    /// turns the cap off.
    public var patternSubjectBytes: Int

    /// Creates limits; the defaults are 50 million instructions, 64 MiB, 2 seconds and
    /// 64 KiB.
    public init(
        instructionsPerCall: Int = 50_000_000, memoryBytes: Int = 64 << 20,
        wallTimePerCall: Duration = .seconds(2), patternSubjectBytes: Int = 64 << 10
    ) {
        self.instructionsPerCall = instructionsPerCall
        self.memoryBytes = memoryBytes
        self.wallTimePerCall = wallTimePerCall
        self.patternSubjectBytes = patternSubjectBytes
    }
}

/// The outcome of ``LuaThread/resume(_:)``.
public enum LuaResumeResult: Equatable {
    /// The coroutine yielded these values and can be resumed again.
    case yielded([LuaValue])
    /// The coroutine's function returned these values; the thread is finished.
    case returned([LuaValue])
}
