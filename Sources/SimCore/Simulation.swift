import HeapModule

/// A handle to a scheduled event, used to cancel it.
public struct EventID: Hashable, Sendable {
    public let raw: UInt64
}

/// A deterministic discrete-event loop on virtual time.
///
/// Events run in the order (time, priority, sequence): two events at the same instant
/// and priority run in the order they were scheduled (NIO's `insertOrder`, SimPy's event
/// id). Swift-collections' `Heap` is not stable, so the sequence number is part of the key.
///
/// The simulation is confined to one thread and is deliberately not `Sendable`.
public final class Simulation {
    private struct Entry: Comparable {
        let time: SimTime
        let priority: Int
        let seq: UInt64
        static func < (a: Entry, b: Entry) -> Bool {
            if a.time != b.time { return a.time < b.time }
            if a.priority != b.priority { return a.priority < b.priority }
            return a.seq < b.seq
        }
        static func == (a: Entry, b: Entry) -> Bool { a.seq == b.seq }
    }

    private var heap = Heap<Entry>()
    private var actions: [UInt64: () -> Void] = [:]
    private var nextSeq: UInt64 = 0
    /// The current virtual time; it only moves forward.
    public private(set) var now: SimTime = .zero
    /// Named, seeded random streams, one per component.
    public let random: RandomStreams
    /// The run's event log.
    public let log: EventLog
    /// Number of events executed so far.
    public private(set) var eventsRun: Int = 0
    /// Set by `stop()`: `run(until:)` returns after the current event.
    private var stopped = false

    /// Creates a simulation at time zero.
    ///
    /// - Parameter seed: the run's seed; every random stream derives from it.
    public init(seed: UInt64) {
        self.random = RandomStreams(seed: seed)
        self.log = EventLog()
    }

    /// Schedules `action` to run `delay` after now.
    ///
    /// - Returns: an id that `cancel(_:)` accepts.
    @discardableResult
    public func schedule(after delay: SimDuration, priority: Int = 0, _ action: @escaping () -> Void) -> EventID {
        schedule(at: now + SimDuration(nanoseconds: max(0, delay.nanoseconds)), priority: priority, action)
    }

    /// Schedules `action` at an instant; instants in the past run now.
    @discardableResult
    public func schedule(at time: SimTime, priority: Int = 0, _ action: @escaping () -> Void) -> EventID {
        let seq = nextSeq
        nextSeq += 1
        heap.insert(Entry(time: max(time, now), priority: priority, seq: seq))
        actions[seq] = action
        return EventID(raw: seq)
    }

    /// Cancels a scheduled event; cancelling one that ran already does nothing.
    public func cancel(_ id: EventID) { actions[id.raw] = nil }

    /// Whether any event is still pending.
    public var hasPendingEvents: Bool { !actions.isEmpty }

    /// The time of the next pending event, if any.
    public var nextEventTime: SimTime? {
        while let top = heap.min {
            if actions[top.seq] != nil { return top.time }
            _ = heap.removeMin()
        }
        return nil
    }

    /// Runs the next event. Returns false when none is left.
    @discardableResult
    public func step() -> Bool {
        while let entry = heap.popMin() {
            guard let action = actions.removeValue(forKey: entry.seq) else { continue }
            now = entry.time
            eventsRun += 1
            action()
            return true
        }
        return false
    }

    /// Runs events up to and including `limit`, then sets the clock to `limit`.
    ///
    /// Stops early when no event is left (the clock then stays at the last event) or when
    /// `stop()` is called.
    public func run(until limit: SimTime) {
        stopped = false
        while !stopped, let t = nextEventTime, t <= limit {
            step()
        }
        if !stopped, limit > now { now = limit }
    }

    /// Makes `run(until:)` return after the event that is running.
    public func stop() { stopped = true }
}
