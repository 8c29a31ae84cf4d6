internal import CLuaShims

/// What the most recent ``LuaState/load(source:chunkName:)``, ``LuaState/call(_:_:)`` or
/// ``LuaThread/resume(_:)`` cost, failed runs included.
public struct LuaCallCost: Sendable, Equatable {
    /// Lua VM instructions executed (in every coroutine of the run) plus the C work charged
    /// as instructions (`string.rep` repetitions, `table.move` elements, pattern-matcher
    /// steps): the same number the instruction budget counts, so it is deterministic.
    ///
    /// Exact on the Lua builds the shims can calibrate against (Lua 5.4's count hook state
    /// is probed once per state; see `budget.c`); otherwise counted only when the hook fires,
    /// so each thread's last < 1000 instructions are missing.
    /// ``LuaState/countsInstructionsExactly`` tells which.
    public var instructions: Int
    /// Wall-clock nanoseconds on the monotonic clock, compile time included; machine
    /// dependent, for reports only.
    public var nanoseconds: Int

    /// Creates a cost.
    public init(instructions: Int = 0, nanoseconds: Int = 0) {
        self.instructions = instructions
        self.nanoseconds = nanoseconds
    }
}

extension LuaState {
    /// The cost of the most recent load, call or resume (also when it failed). A run started
    /// inside a Swift callback reports its own cost until the enclosing run finishes.
    public var lastCallCost: LuaCallCost { core.lastCost }

    /// Whether calls also measure their wall time (`LuaCallCost.nanoseconds`; two clock
    /// reads per call). On by default; the scheduler turns it off for its hot hooks.
    public var measuresTime: Bool {
        get { core.measuresTime }
        set { core.measuresTime = newValue }
    }

    /// Whether ``LuaCallCost/instructions`` is exact (true with Debian's Lua 5.4.4) or
    /// counted at the hook granularity of 1000 instructions.
    public var countsInstructionsExactly: Bool {
        guard let main = core.main else { return false }
        return klh_budget_exact(main) != 0
    }
}

/// Measures one run of Lua code on thread `L`: instructions from the budget counter, time
/// from the monotonic clock (the only clock LuaHost reads, through `budget.c`).
struct CostMeter {
    let instructions: Int64
    let started: Int64

    init(on L: OpaquePointer, timed: Bool) {
        instructions = klh_budget_used(L)
        started = timed ? klh_budget_clock_ns() : -1
    }

    func finish(on L: OpaquePointer) -> LuaCallCost {
        let used = klh_budget_used(L) - instructions
        let elapsed = started < 0 ? 0 : klh_budget_clock_ns() - started
        return LuaCallCost(instructions: Int(max(0, used)), nanoseconds: Int(max(0, elapsed)))
    }
}

extension LuaLimits {
    /// `wallTimePerCall` in nanoseconds for the shims (0 = off), saturating.
    var wallNanoseconds: Int64 {
        let (seconds, attoseconds) = wallTimePerCall.components
        if seconds < 0 || (seconds == 0 && attoseconds <= 0) { return 0 }
        if seconds >= Int64.max / 1_000_000_000 - 1 { return Int64.max }
        return max(1, seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }

    /// `patternSubjectBytes` for the shims (0 = no cap).
    var patternSubjectCap: Int {
        max(0, patternSubjectBytes)
    }
}

/// The monotonic clock the budget's wall-time backstop reads, for reports that time whole
/// commands (`kubelab schedule --explain`'s pods per second). Never for anything the
/// simulation decides.
public enum LuaBudgetClock {
    /// Nanoseconds on the monotonic clock.
    public static func nanoseconds() -> Int64 { klh_budget_clock_ns() }
}
