import Foundation

/// An instant of virtual time: nanoseconds since the start of a simulation.
///
/// Time is an integer so that every machine computes the same schedule; `Double` seconds
/// appear only at the Lua and YAML edges.
public struct SimTime: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Nanoseconds since the start of the simulation.
    public var nanoseconds: Int64

    /// Creates an instant `nanoseconds` after the start.
    public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }

    /// The start of every simulation.
    public static let zero = SimTime(nanoseconds: 0)

    /// The instant in seconds, for the Lua and JSON edges only.
    public var seconds: Double { Double(nanoseconds) / 1e9 }

    /// The span from `other` to `self`.
    public func since(_ other: SimTime) -> SimDuration { SimDuration(nanoseconds: nanoseconds - other.nanoseconds) }

    public static func < (a: SimTime, b: SimTime) -> Bool { a.nanoseconds < b.nanoseconds }
    public static func + (a: SimTime, d: SimDuration) -> SimTime { SimTime(nanoseconds: a.nanoseconds &+ d.nanoseconds) }
    public static func - (a: SimTime, d: SimDuration) -> SimTime { SimTime(nanoseconds: a.nanoseconds &- d.nanoseconds) }

    /// `12.500s`: always three decimals, so log lines line up and never vary by locale.
    public var description: String { SimDuration(nanoseconds: nanoseconds).description }
}

/// A span of virtual time in nanoseconds.
public struct SimDuration: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The span in nanoseconds.
    public var nanoseconds: Int64

    /// Creates a span of `nanoseconds`.
    public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }

    public static let zero = SimDuration(nanoseconds: 0)
    public static func nanoseconds(_ n: Int64) -> SimDuration { SimDuration(nanoseconds: n) }
    public static func milliseconds(_ n: Int64) -> SimDuration { SimDuration(nanoseconds: n * 1_000_000) }
    public static func seconds(_ n: Int64) -> SimDuration { SimDuration(nanoseconds: n * 1_000_000_000) }
    public static func minutes(_ n: Int64) -> SimDuration { .seconds(n * 60) }

    /// The span in seconds, for the Lua and JSON edges only.
    public var seconds: Double { Double(nanoseconds) / 1e9 }

    public static func < (a: SimDuration, b: SimDuration) -> Bool { a.nanoseconds < b.nanoseconds }
    public static func + (a: SimDuration, b: SimDuration) -> SimDuration { SimDuration(nanoseconds: a.nanoseconds &+ b.nanoseconds) }
    public static func * (a: SimDuration, n: Int64) -> SimDuration { SimDuration(nanoseconds: a.nanoseconds &* n) }

    /// `12.500s`, with millisecond precision and no locale.
    public var description: String {
        let ms = nanoseconds / 1_000_000
        let sign = ms < 0 ? "-" : ""
        let a = ms.magnitude
        let frac = String(a % 1000)
        return "\(sign)\(a / 1000).\(String(repeating: "0", count: 3 - frac.count))\(frac)s"
    }

    /// `5m40s`, `1h2m`, `750ms`: the short human form used in summaries.
    public var humanDescription: String {
        if nanoseconds < 0 { return "-" + SimDuration(nanoseconds: -nanoseconds).humanDescription }
        let ms = nanoseconds / 1_000_000
        if ms < 1000 { return "\(ms)ms" }
        var s = ms / 1000
        let rest = ms % 1000
        let h = s / 3600; s %= 3600
        let m = s / 60; s %= 60
        var out = ""
        if h > 0 { out += "\(h)h" }
        if m > 0 { out += "\(m)m" }
        if s > 0 || rest > 0 || out.isEmpty {
            out += rest == 0 ? "\(s)s" : "\(s).\(threeDigits(rest))s"
        }
        return out
    }
}

/// Three digits with leading zeros, without Foundation's locale-aware formatting.
func threeDigits(_ n: Int64) -> String {
    let t = String(n)
    return String(repeating: "0", count: max(0, 3 - t.count)) + t
}

/// Errors in the text form of a duration.
public struct DurationParseError: Error, CustomStringConvertible, Sendable {
    public let text: String
    public var description: String {
        "invalid duration '\(text)': use a number of seconds or a string like \"500ms\", \"30s\", \"5m\", \"1h\""
    }
}

extension SimDuration {
    /// Parses "500ms", "30s", "5m", "1h", "1m30s", "1.5s" or a plain number of seconds.
    ///
    /// - Throws: `DurationParseError` for anything else, including negative spans.
    public init(parsing text: String) throws(DurationParseError) {
        let t = text.trimmingCharacters(in: .whitespaces)
        if let secs = Double(t), secs.isFinite {
            guard secs >= 0, secs < 1e9 else { throw DurationParseError(text: text) }
            self.init(nanoseconds: Int64((secs * 1e9).rounded()))
            return
        }
        var total: Double = 0
        var rest = Substring(t)
        guard !rest.isEmpty else { throw DurationParseError(text: text) }
        while !rest.isEmpty {
            let num = rest.prefix { $0.isNumber || $0 == "." }
            guard !num.isEmpty, let value = Double(num) else { throw DurationParseError(text: text) }
            rest = rest.dropFirst(num.count)
            let unit = rest.prefix { $0.isLetter }
            rest = rest.dropFirst(unit.count)
            let scale: Double
            switch unit {
            case "ns": scale = 1
            case "us", "µs": scale = 1e3
            case "ms": scale = 1e6
            case "s": scale = 1e9
            case "m": scale = 60e9
            case "h": scale = 3600e9
            default: throw DurationParseError(text: text)
            }
            total += value * scale
        }
        guard total.isFinite, total < 1e18 else { throw DurationParseError(text: text) }
        self.init(nanoseconds: Int64(total.rounded()))
    }

    /// Builds a span from Lua/JSON seconds; nil for NaN, infinities and negatives.
    public init?(seconds: Double) {
        guard seconds.isFinite, seconds >= 0, seconds < 1e9 else { return nil }
        self.init(nanoseconds: Int64((seconds * 1e9).rounded()))
    }
}
