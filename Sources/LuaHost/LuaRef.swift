internal import CLuaShims

/// A Lua function held in one registry slot of the state that produced it.
///
/// The slot is released when the reference is deallocated, if the state is still open.
/// Two references are equal when they hold the same Lua function of the same state.
public final class LuaRef: Hashable {
    let core: StateCore
    let slot: Int32
    let identity: UInt
    /// Where the value's objects lie side by side, when it was made in one span
    /// (``LuaState/reference(_:inOneSpan:)``): calls over many references have a later
    /// one's span read into the cache ahead of its call.
    let span: UnsafeRawPointer?
    let spanLength: Int32
    /// The registry slot of a view's twin (see `values.c`), 0 for other values: calls on
    /// twins read it without going through the view.
    let twinSlot: Int32

    init(core: StateCore, slot: Int32, identity: UInt, span: UnsafeRawPointer? = nil, spanLength: Int32 = 0, twinSlot: Int32 = 0) {
        self.core = core
        self.slot = slot
        self.twinSlot = twinSlot
        self.identity = identity
        self.span = span
        self.spanLength = span == nil ? 0 : spanLength
        _ = klh_live_refs_add(1)
    }

    deinit {
        core.releaseSlot(slot)
        if twinSlot != 0 { core.releaseSlot(twinSlot) }
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

/// References kept by position, with their registry slots side by side: a call over many of
/// them (``LuaState/callEach(_:_:_:at:_:straightCost:_:)``) reads one list of slots instead
/// of visiting each reference object. The array holds its references.
public final class LuaRefArray {
    let core: StateCore
    private var refs: [LuaRef?]
    private var slotList: [Int32]
    private var twinSlotList: [Int32]
    private var spanList: [UnsafeRawPointer?]
    private var spanLengths: [Int32]

    /// `count` empty positions for references of `state`.
    public init(of state: LuaState, count: Int) {
        core = state.core
        refs = Array(repeating: nil, count: count)
        slotList = Array(repeating: 0, count: count)
        twinSlotList = Array(repeating: 0, count: count)
        spanList = Array(repeating: nil, count: count)
        spanLengths = Array(repeating: 0, count: count)
    }

    public var count: Int { refs.count }

    /// The reference at `i`; setting one of another state is refused (the position is
    /// left empty).
    public subscript(i: Int) -> LuaRef? {
        get { refs[i] }
        set {
            let ref = newValue?.core === core ? newValue : nil
            refs[i] = ref
            slotList[i] = ref?.slot ?? 0
            twinSlotList[i] = ref?.twinSlot ?? 0
            spanList[i] = ref?.span
            spanLengths[i] = ref?.spanLength ?? 0
        }
    }

    /// Refuses a position out of range or empty.
    func check(_ positions: [Int]) throws(LuaError) {
        for i in positions where i < 0 || i >= refs.count || slotList[i] == 0 {
            throw LuaError(kind: .conversion, message: "no reference at position \(i)")
        }
    }

    /// The slots, the spans of their values (nil where the value was not made in one span)
    /// and the spans' lengths, by position, while `body` runs; the array's references keep
    /// the slots alive meanwhile.
    func withLists<R, E: Error>(_ body: (UnsafeBufferPointer<Int32>, UnsafeBufferPointer<Int32>, UnsafeBufferPointer<UnsafeRawPointer?>,
                                         UnsafeBufferPointer<Int32>) throws(E) -> R) throws(E) -> R {
        try withExtendedLifetime(self) { () throws(E) -> R in
            try slotList.withUnsafeBufferPointer { (s) throws(E) -> R in
                try twinSlotList.withUnsafeBufferPointer { (t) throws(E) -> R in
                    try spanList.withUnsafeBufferPointer { (sp) throws(E) -> R in
                        try spanLengths.withUnsafeBufferPointer { (ln) throws(E) -> R in try body(s, t, sp, ln) }
                    }
                }
            }
        }
    }
}
