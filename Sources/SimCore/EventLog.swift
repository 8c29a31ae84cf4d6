import Crypto

/// One line of the event log.
public struct LogEntry: Sendable, Equatable {
    public let time: SimTime
    public let component: String
    public let message: String

    /// `[t=12.500s] component: message`
    public var line: String { "[t=\(time)] \(component): \(message)" }
}

/// The run's event log: one line per event, stamped with virtual time only, so two runs
/// with the same inputs and seed give the same text byte for byte.
public final class EventLog {
    public private(set) var entries: [LogEntry] = []
    /// Called for each new entry (the CLI streams the timeline through it).
    public var onAppend: ((LogEntry) -> Void)?

    public init() {}

    /// Appends a line.
    public func append(_ time: SimTime, _ component: String, _ message: String) {
        let e = LogEntry(time: time, component: component, message: message)
        entries.append(e)
        onAppend?(e)
    }

    /// The whole log, one line per entry, each ending in a newline.
    public var text: String {
        var out = ""
        for e in entries { out += e.line; out += "\n" }
        return out
    }

    /// SHA-256 of `text`, lower-case hex.
    public var sha256: String {
        SHA256.hash(data: Array(text.utf8)).map { byte in
            let h = String(byte, radix: 16)
            return h.count == 1 ? "0" + h : h
        }.joined()
    }
}

extension Simulation {
    /// Appends a line for `component` at the current time.
    public func record(_ component: String, _ message: String) {
        log.append(now, component, message)
    }
}
