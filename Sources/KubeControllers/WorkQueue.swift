public import SimCore

/// client-go's work queue on virtual time. Guarantees: a key is processed by one worker
/// at a time; a key added while it is processed is processed again afterwards; a key
/// added many times before it is processed is processed once (dirty set). Failed keys
/// are retried with per-key exponential backoff (client-go's default: 5ms doubling to
/// 1000s).
public final class WorkQueue {
    let sim: Simulation
    private var queue: [String] = []
    private var head = 0
    private var dirty: Set<String> = []
    private var processing: Set<String> = []
    private var failures: [String: Int] = [:]
    /// Keys waiting for a delayed add: when they are due, and the timer.
    private var waitingUntil: [String: (time: SimTime, id: EventID)] = [:]
    private var scheduled = false
    /// Processes one key; throwing means "retry with backoff".
    public var handler: ((String) throws -> SimDuration?)?
    public var baseDelay: SimDuration = .milliseconds(5)
    public var maxDelay: SimDuration = .seconds(1000)
    /// Called for each failure (key, error).
    public var onError: ((String, any Error) -> Void)?
    public var stopped = false

    public init(sim: Simulation) { self.sim = sim }

    /// Adds a key now.
    public func add(_ key: String) {
        guard !stopped, !dirty.contains(key) else { return }
        dirty.insert(key)
        if processing.contains(key) { return }
        queue.append(key)
        kick()
    }

    /// Adds a key after a delay. As client-go's delaying queue: a key already waiting keeps
    /// the earlier of its two ready times, so a key never has two timers.
    public func add(_ key: String, after delay: SimDuration) {
        guard !stopped else { return }
        guard delay > .zero else { add(key); return }
        let at = sim.now + delay
        if let w = waitingUntil[key] {
            if w.time <= at { return }
            sim.cancel(w.id)
        }
        let id = sim.schedule(after: delay) { [weak self] in
            self?.waitingUntil[key] = nil
            self?.add(key)
        }
        waitingUntil[key] = (at, id)
    }

    /// The number of keys waiting.
    public var length: Int { queue.count - head }

    private func kick() {
        guard !scheduled, !stopped else { return }
        scheduled = true
        sim.schedule(after: .zero, priority: 2) { [weak self] in
            guard let self else { return }
            self.scheduled = false
            self.processOne()
        }
    }

    private func processOne() {
        guard !stopped, head < queue.count else { return }
        let key = queue[head]
        head += 1
        if head > 1024 && head * 2 > queue.count { queue.removeFirst(head); head = 0 }
        dirty.remove(key)
        processing.insert(key)
        do {
            let requeue = try handler?(key)
            failures[key] = nil
            if let d = requeue { add(key, after: d) }
        } catch {
            let n = failures[key, default: 0]
            failures[key] = n + 1
            var delay = baseDelay
            for _ in 0..<min(n, 40) where delay < maxDelay { delay = delay * 2 }
            if delay > maxDelay { delay = maxDelay }
            onError?(key, error)
            add(key, after: delay)
        }
        processing.remove(key)
        if dirty.contains(key) && !queue[head...].contains(key) { queue.append(key) }
        if head < queue.count { kick() }
    }
}
