internal import CLuaShims

/// A Lua function held in one registry slot of the state that produced it.
///
/// The slot is released when the reference is deallocated, if the state is still open.
/// Two references are equal when they hold the same Lua function of the same state.
public final class LuaRef: Hashable {
    let core: StateCore
    let slot: Int32
    let identity: UInt

    init(core: StateCore, slot: Int32, identity: UInt) {
        self.core = core
        self.slot = slot
        self.identity = identity
        _ = klh_live_refs_add(1)
    }

    deinit {
        core.releaseSlot(slot)
        _ = klh_live_refs_add(-1)
    }

    /// The number of `LuaRef` objects alive in the whole process.
    public static var liveCount: Int { Int(klh_live_refs_add(0)) }

    /// Whether both references hold the same Lua function of the same state.
    public static func == (lhs: LuaRef, rhs: LuaRef) -> Bool {
        lhs === rhs || (lhs.core === rhs.core && lhs.identity == rhs.identity)
    }

    /// Hashes the state and the function identity.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(ObjectIdentifier(core))
        hasher.combine(identity)
    }
}
